"""The dashboard as a rollout lead reads it, in real Chromium (Debian's, through Playwright).
An outsider found it spoke the engine's ids where `inhouse status` speaks words ("current
play: prove-value", "not-started · owner: a play-owner"), showed a play's exit criteria only
once it had started (a lead could not see what play 4 will need), and wrote figures three ways
("1 people" beside "0.194 people"; "3.3%" in the indicators, "17.9 %" in adoption)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from inhouse.program import Program
from inhouse.web.login import sign_in
from tests.pilot.gateway_days import Pilot
from tests.web.browser import chromium_or_skip, serving
from tests.web.world import key_of


@pytest.fixture
def lena_page(served: Program, world: Pilot) -> Iterator[tuple[Page, str]]:
    """lena's own browser, signed in with her key, on the tests' world (play 1 running, its
    handoff offered; plays 2 to 6 not started)."""
    executable = chromium_or_skip()
    with serving(served) as url, sync_playwright() as driver:
        browser: Browser = driver.chromium.launch(
            executable_path=str(executable), args=["--no-sandbox"]
        )
        page = browser.new_context().new_page()
        page.goto(sign_in(url, key_of(world, "lena"), now=world.clock()))
        yield page, url
        browser.close()


#: how `inhouse status` words the states this world's plays are in
_CLI_WORDS = {"handoff-offered": "handoff offered", "not-started": "not started",
              "ready": "ready to start"}  # fmt: skip


def test_the_board_says_plays_states_and_owners_in_words(
    lena_page: tuple[Page, str], world: Pilot
) -> None:
    page, url = lena_page
    page.goto(f"{url}/")
    lede = page.locator("main p.lede").inner_text()
    assert "current play: 1. Prove value on one machine" in lede, lede
    assert "prove-value" not in lede, lede
    status = world.lead.status()
    cards = page.locator("ol.board > li")
    for index, play in enumerate(status["plays"]):
        line = cards.nth(index).locator("p").first.inner_text()
        # the CLI's words for the state, and whoever owns it or should
        assert line.startswith(_CLI_WORDS[play["state"]] + " · owner: "), line
        assert "play-owner" not in line and "rollout-lead" not in line, line
    second = cards.nth(1).locator("p").first.inner_text()
    assert second == "ready to start · owner: the same technical person, now owning standards" or (
        second == "not started · owner: the same technical person, now owning standards"
    ), second
    assert cards.nth(0).locator("p").first.inner_text() == "handoff offered · owner: lena"
    page.goto(f"{url}/plays/2")
    assert "owner: the same technical person, now owning standards" in page.inner_text("main")
    assert "a play-owner" not in page.inner_text("main")


def test_a_play_not_started_shows_what_its_exit_will_need(
    lena_page: tuple[Page, str], world: Pilot
) -> None:
    page, url = lena_page
    page.goto(f"{url}/plays/4")
    exit_table = page.get_by_role("table", name=re.compile("^Exit checks"))
    assert exit_table.count() == 1
    caption = exit_table.locator("caption").inner_text()
    assert caption == "Exit checks: not yet judged: the play has not started", caption
    play = world.lead.playbook.play("4")
    rows = exit_table.locator("tbody tr")
    assert rows.count() == len(play.exit)
    for index, ref in enumerate(play.exit):
        text = rows.nth(index).inner_text()
        assert ref.title in text and ref.check in text and "not yet judged" in text, text
    # the board says as much, never a count of checks nobody judged
    page.goto(f"{url}/")
    counts = page.locator("ol.board > li").nth(3).locator("p.counts").inner_text()
    assert "exit: not yet judged" in counts, counts
    # and the JSON twin carries the criteria the page shows
    twin = page.request.get(f"{url}/plays/4.json").json()
    assert twin["play"]["exit"] is None
    assert twin["exit_criteria"] == [{"check": r.check, "title": r.title} for r in play.exit]


def test_figures_are_written_one_way() -> None:
    from inhouse.figures import count, share

    assert share(0.179) == "17.9 %" and share(0.033) == "3.3 %" and share(None) == "-"
    assert count(1, "people") == "1 person" and count(2, "people") == "2 people"
    assert count(0.194, "people") == "0.194 people" and count(0, "people") == "0 people"
    assert count(1, "teams") == "1 team" and count(1, "members") == "1 member"
    assert count(1, "requests") == "1 request" and count(1_234, "requests") == "1,234 requests"


def test_the_dashboard_writes_shares_and_people_one_way(
    lena_page: tuple[Page, str], world: Pilot
) -> None:
    """The indicators page wrote a share "3.3%" and the pilot page "17 %"; one active person
    read "1 people". Every share on the pages is now "N.N %", and a count of one is singular."""
    page, url = lena_page
    texts = {}
    for path in ("/indicators?period=2026-11", "/pilot", "/support"):
        page.goto(f"{url}{path}")
        texts[path] = page.inner_text("main")
    for path, text in texts.items():
        assert not re.search(r"\d%", text), (path, re.findall(r".{0,60}\d%", text))
        assert not re.search(r"(?<![\d.])\d+ %", text), (path, re.findall(r".{0,60}\b\d+ %", text))
        assert not re.search(r"(?<![\d.,])1 people", text), path
    pilot = texts["/pilot"]
    assert "2 members across 2 teams as the roster names them" in pilot, pilot
    assert "(s)" not in pilot, pilot
    assert "40.0 % very disappointed" in pilot, pilot
    twin = page.request.get(f"{url}/indicators.json?period=2026-11").json()
    leading = {i["name"]: i for i in twin["report"]["leading"]}
    stickiness = leading["stickiness"]["value"]
    assert stickiness is not None
    assert f"Stickiness (DAU/MAU)\t{stickiness * 100:.1f} %" in texts["/indicators?period=2026-11"]
