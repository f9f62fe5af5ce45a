"""A play's page says how it started: under which waiver, or around its guards (a start
written past the API, which every fold shows as held back). ``inhouse status`` said both; the
dashboard's play page and board said neither, so a play started around its guards read as an
ordinary running play."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from inhouse.program.events import EventKind
from tests.pilot.gateway_days import Pilot
from tests.web.world import signed_in


def test_a_play_started_around_its_guards_says_so(client: TestClient, world: Pilot) -> None:
    lena = world.lead
    # play 1's handoff is offered, never accepted; its trigger (an access request) fails
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "baseline", "owner": "lena",
                                                  "waivers": []})  # fmt: skip
    held = lena.status()["plays"][1]["held_back"]
    assert held, "the fold shows the start held back"
    with signed_in(client, world, "bob"):
        page = client.get("/plays/baseline").text
        for guard in held:
            assert f"Started around its guards ({guard['guard']}, no waiver)" in page
        board = client.get("/").text
        assert "started around its guards (" in board


def test_a_play_started_under_a_waiver_names_it(client: TestClient, world: Pilot) -> None:
    lena = world.lead
    lena.accept_handoff(None, 1, comment="proven")
    waivers = [
        lena.grant_waiver(None, "calendar-driven-advance", reason="time-boxed-experiment",
                          note="start the baseline now", play="baseline",
                          expires=world.clock() + timedelta(days=30))
    ]  # fmt: skip
    lena.start_play(None, 2, owner="lena")
    started = lena.status()["plays"][1]["started_under_waivers"]
    assert started == [waivers[0].seq], started
    with signed_in(client, world, "bob"):
        page = client.get("/plays/2").text
        assert f"Started under waiver #{waivers[0].seq} (calendar-driven-advance, " in page
        assert "start the baseline now; active, until" in page
        assert f"started under waiver #{waivers[0].seq}" in client.get("/").text


def test_a_persons_word_is_labelled_as_one_beside_the_check(
    client: TestClient, world: Pilot
) -> None:
    """The hypothesis is lena's word: `inhouse status` flags it "a person's word, not
    measured"; the page's badge said only "attested"."""
    with signed_in(client, world, "bob"):
        page = client.get("/plays/1").text
        hypothesis = page.split("<code>hypothesis-recorded</code>")[1].split("</tr>")[0]
        assert "a person's word, not measured</span>" in hypothesis, hypothesis
        verdict = page.split("<code>value-proven</code>")[1].split("</tr>")[0]
        assert ">measured</span>" in verdict and "a person" not in verdict
