"""The outsider at plays 4 to 6, round 456c: what a new rollout lead reads, at 80 columns and on
the dashboard, once a pilot of three used the tool through the gateway in November and December.

What the walk found (nothing here changes a check): `inhouse indicators report` gave a share's
change as a bare fraction beside figures in percent ("3.3%", "17.9%", "-0.1453") and a money
change in scientific notation ("-4.6e-05"); the dashboard's indicators page listed play 6's
findings as raw JSON and charted the indicators by their field names ("stickiness 0.03", the
cost "0.00000800 U", cut); `inhouse pilot adoption` squeezed each member's reason into a column
nine letters wide at 80 columns ("enablemen" over "t"); `inhouse survey results` folded its
headers ("somewha" over "t") and dropped each benefit's "[track, answer]", which Rich read as
markup; `inhouse prompts usage` said "None" for a prompt nobody used; `inhouse agents list`
with no agent printed a row of headers and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import open_finding, set_prices
from inhouse.pilot.survey import answer_survey, open_survey
from inhouse.program import Program
from inhouse.web.app import create_app
from tests.clitools import cli
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, at, signed_in_pilot
from tests.web.world import signed_in

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "oli": ("ops", "support")}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pilot]:
    """Three members who used the tool on 3, 4 and 5 November (bob and pia) and on 1 December
    (bob alone), the days signed by the gateway; it is 2 January, and every command the tests
    run opens the program on the tests' clock."""
    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        made.signs = True
        made.use(Use(name, f"2026-11-0{day}T10:00") for day in (3, 4, 5) for name in ("bob", "pia"))
        made.use([Use("bob", "2026-12-01T10:00")])
        made.on("2027-01-02")
        rollup_usage(made.lead)
        # a terminal 80 columns wide (each command reads COLUMNS as it starts)
        monkeypatch.setenv("COLUMNS", "80")
        for module in ("indicators", "pilot_adoption", "survey", "prompts", "agents"):
            monkeypatch.setattr(
                f"inhouse.cli.{module}.open_program",
                lambda program=None: Program.open(made.folder, clock=made.clock),
            )
        yield made


def _lines(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines()]


# -- play 6: the report and the dashboard ---------------------------------------------------------


def test_a_share_changes_by_points_and_money_in_its_currency_s_digits(pilot: Pilot) -> None:
    """Stickiness was 3.3% in December and 17.9%-odd in November: its change read "-0.1453",
    a fraction beside two percentages; the reference API cost fell by "-4.6e-05". Now the share
    changes by percentage points, and money by its currency's digits."""
    set_prices(pilot.lead, reference="hosted-mini", input_per_mtok=0.15, output_per_mtok=0.6,
               source="the vendor's price page")  # fmt: skip
    said = cli("indicators", "report", "--period", "2026-12")
    (row,) = [line for line in _lines(said) if "Stickiness" in line]
    assert " pts (" in row, said
    assert "e-0" not in said, said
    (cost,) = [line for line in _lines(said) if "Reference API cost  " in line]
    assert "-0.0000" in cost and "USD" in cost, said


def test_the_dashboard_lists_findings_as_a_table_and_charts_indicators_by_their_titles(
    pilot: Pilot, request: pytest.FixtureRequest
) -> None:
    """The indicators page showed play 6's findings as JSON (``{ "awaiting": null, …}``) and
    charted the indicators by field name, a share as "0.03". Now a finding is a row with what
    closed it, as `inhouse finding list` says, and the chart writes each figure as the table
    beside it does."""
    open_finding(pilot.lead, "Summaries too long", target="workflow:ticket-summary", source="pilot")
    served = Program.open(pilot.folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        page = client.get("/indicators?period=2026-12").text
    assert "&#34;awaiting&#34;" not in page and '"awaiting"' not in page, page
    assert "<td>Summaries too long" in page, page
    assert re.search(r"Stickiness \(DAU/MAU\): \d+\.\d % \(previous \d+\.\d %\)", page), page
    assert ">stickiness<" not in page and "stickiness: 0.0" not in page, page


# -- play 4: adoption and the survey at 80 columns ------------------------------------------------


def test_each_member_s_reason_is_a_line_of_its_own_at_80_columns(pilot: Pilot) -> None:
    """`inhouse pilot adoption` gave the reason a column nine letters wide at 80 columns: it
    read "enablemen" over "t", "(support)" over "not". Each reason is now a line of its own."""
    pilot.on("2026-11-06")
    said = cli("pilot", "adoption")
    lines = _lines(said)
    assert "Why, per member:" in lines, said
    reasons = [line for line in lines if line.startswith(("  bob: ", "  pia: ", "  oli: "))]
    assert len(reasons) == 3, said
    assert "  bob: enablement (support) not finished" in lines, said
    assert not any(line.endswith(("enablemen", "stickines")) for line in lines), said


def test_survey_results_keep_headers_whole_and_say_whose_benefit_each_is(pilot: Pilot) -> None:
    """At 80 columns the survey's headers folded ("somewha" over "t", "disappo" over "inted"),
    and each benefit's "[support, very]" vanished: Rich read it as markup."""
    pilot.clock.now = at("2026-11-05T12:00")
    open_survey(pilot.lead, pilot.clock() + timedelta(days=7))
    answer_survey(pilot.people["bob"], "very", "faster triage")
    said = cli("survey", "results")
    lines = _lines(said)
    assert "  - [support, very] faster triage" in lines, said
    assert not any(line.endswith(("somewha", "disappo", "answere")) for line in lines), said
    assert "somewhat" in said, said


# -- small listings -------------------------------------------------------------------------------


def test_a_prompt_nobody_used_was_last_used_never_not_none(pilot: Pilot) -> None:
    """pia's client names bob's triage in its header with messages of its own: the gateway
    never sent the version, so nobody used it, and `inhouse prompts usage --record` signed it
    as "last used None". With no row at all, the listing was a row of headers."""
    pilot.share_prompt("bob", "triage")
    said = cli("prompts", "usage")
    assert "No library prompt used through the gateway yet." in said, said
    pilot.use([Use("pia", "2027-01-02T10:00", prompt="triage")])
    pilot.on("2027-01-02")
    said = cli("prompts", "usage", "--record")
    (row,) = [line for line in _lines(said) if line.lstrip().startswith("triage@1")]
    assert row.split()[-1] == "never", said
    assert "None" not in said, said


def test_no_agents_says_how_one_is_bound_not_a_row_of_headers(pilot: Pilot) -> None:
    said = cli("agents", "list")
    assert "No agent keys yet" in said and "--agent NAME" in said, said
    assert "enforced" not in said, said


# -- play 5: the queue ----------------------------------------------------------------------------


def test_a_queue_named_but_not_taken_on_is_not_called_owned(
    pilot: Pilot, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena names bob the queue's owner; bob's `--accept` got no answer (no terminal), so he
    never took it on, and play 5 does not count it owned. `support list` and the dashboard's
    support page said "Queue support, owned by bob" all the same. Now they say he has not
    taken it on, and what he runs; once he has, it reads as owned."""
    from inhouse.support.queue import accept_owner, name_owner

    monkeypatch.setattr(
        "inhouse.cli.support.open_program",
        lambda program=None: Program.open(pilot.folder, clock=pilot.clock),
    )
    name_owner(pilot.lead, "bob")
    said = " ".join(cli("support", "list").split())
    assert "who has not taken it on yet: bob runs `inhouse support owner --accept`" in said, said
    served = Program.open(pilot.folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        page = client.get("/support.json").json()
        assert page["queue"]["accepted"] is False
        assert "has not taken it on yet" in client.get("/support").text
        accept_owner(pilot.people["bob"])
        page = client.get("/support.json").json()
        assert page["queue"]["accepted"] is True
        assert page["queue"]["standing"] == "owned by bob (named by lena)"
    said = " ".join(cli("support", "list").split())
    assert "Queue support, owned by bob (named by lena)." in said, said


# -- the dashboard's pilot page -------------------------------------------------------------------


def test_the_pilot_page_says_how_champions_are_named_and_where_play_6_findings_are(
    pilot: Pilot, request: pytest.FixtureRequest
) -> None:
    """The pilot page's champions were a table of dashes, and its findings said "No findings
    recorded." beside a play 6 finding lena had opened: nothing told her how a champion is
    named, nor that `finding add` findings live on the Indicators page."""
    open_finding(pilot.lead, "Summaries too long", target="workflow:ticket-summary", source="pilot")
    served = Program.open(pilot.folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        page = client.get("/pilot").text
    assert "No champion named yet" in page and "pilot champions --name PERSON" in page, page
    assert "No pilot findings recorded" in page and 'href="/indicators"' in page, page


def test_a_caution_on_the_dashboard_is_not_drawn_in_a_pass_s_colours() -> None:
    """ "Too old to count", "the summary tables disagree", "started under waiver": each is a
    ``notice``, and a notice was drawn green, a pass's colours."""
    from inhouse.web import app as web_app

    css = (Path(web_app.__file__).parent / "static" / "style.css").read_text(encoding="utf-8")
    rules = {
        selector.strip(): body
        for block in css.split("}")
        if "{" in block
        for selectors, body in [block.rsplit("{", 1)]
        for selector in selectors.split("*/")[-1].split(",")
    }
    assert "var(--pass)" not in rules[".notice"] and "#f0fdf4" not in rules[".notice"], rules
    assert "var(--pass)" in rules[".ok"], rules


def test_the_queue_and_its_figures_keep_names_and_dates_whole_at_80_columns(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 80 columns `support list` cut the day a ticket was opened to "2026-11-…", and
    `support stats` cut its ten headers and the component itself ("compo…", "gatew…"). The
    list keeps the date whole; the figures, too wide for a table there, are a block per
    component."""
    from inhouse.support.queue import name_owner, open_ticket, resolve_ticket

    monkeypatch.setattr(
        "inhouse.cli.support.open_program",
        lambda program=None: Program.open(pilot.folder, clock=pilot.clock),
    )
    name_owner(pilot.lead, "bob")
    open_ticket(pilot.people["pia"], "Summaries are empty", category="it-broke",
                component="gateway")  # fmt: skip
    resolve_ticket(pilot.people["bob"], "T-1", note="raised max_tokens")
    listed = cli("support", "list", "--state", "all")
    assert "…" not in listed and "2027-01-02" in listed, listed
    figures = cli("support", "stats")
    assert "…" not in figures, figures
    lines = _lines(figures)
    assert "gateway" in lines and "  without builders, fix confirmed: 0.0 % (0 of 1)" in lines, (
        figures
    )
    monkeypatch.setenv("COLUMNS", "200")
    wide = cli("support", "stats")
    assert "fix awaits opener" in wide and "  tickets: " not in wide, wide
