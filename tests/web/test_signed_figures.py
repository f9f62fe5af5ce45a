"""The dashboard's pilot and indicators pages against one lead typing usage into the store
(a red team's finding): the adoption the pages lead with is the gateway's signed measurement,
what play 4 counts, and the usage play 6 counts is the gateway's signed daily usage; live
figures from the summary tables, which anyone with the database can write, are shown only
labelled unsigned, and where they disagree the page says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from inhouse.gateway.rollup import SERVICE, rollup_usage
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.location import DATA_DIR
from inhouse.pilot.adoption import record_adoption
from inhouse.program import Program
from inhouse.web.app import create_app
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, start_pilot
from tests.web.world import signed_in

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "dora": ("hr", "support")}
UNSIGNED = "unsigned: from the summary tables, which anyone with database access can write"


def _typed(people: tuple[str, ...]) -> list[UsageRecord]:
    """Three days of answered requests for each of ``people``, typed, nobody's request."""
    return [
        UsageRecord(request_id=new_request_id(), at=f"2026-11-0{d}T11:00:00+00:00", person=p,
                    key_id=f"k_{p}", endpoint="chat/completions", model="tiny", status=200,
                    tokens_in=40, tokens_out=60)
        for p in people for d in (3, 4, 5)
    ]  # fmt: skip


def _pages(pilot: Pilot, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The pilot and indicators pages (2026-11), JSON and HTML, as the lead sees them."""
    served = Program.open(pilot.folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        return {
            "pilot": client.get("/pilot.json").json(),
            "pilot_html": client.get("/pilot").text,
            "indicators": client.get("/indicators.json?period=2026-11").json(),
            "indicators_html": client.get("/indicators?period=2026-11").text,
        }


def _independent(adoption: dict[str, Any]) -> dict[str, bool]:
    return {row["person"]: row["independent"] for row in adoption["members"]}


def test_typed_usage_is_no_adoption_and_no_counted_use_on_the_dashboard(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    # the honest path: bob really uses it through the gateway on three days
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    # the forgery: the lead types three days of use for pia and dora, and for two people
    # beyond the pilot, into the store; none of them sends a request
    insert_usage(pilot.lead.store, _typed(("pia", "dora", "zed", "yan")))
    pilot.on("2026-11-06")
    report, fact = record_adoption(pilot.lead)
    assert fact is not None and report.independent == ["bob"]
    rollup_usage(pilot.lead)  # the gateway signs the days its own rows bear out

    # on the gateway's host (its key here): the live figures are its sealed rows, and agree
    seen = _pages(pilot, request)
    data, html = seen["pilot"], seen["pilot_html"]
    adoption = data["adoption"]
    assert adoption["fact"] == fact.id and adoption["as_of"] == "2026-11-06"
    assert _independent(adoption) == {"bob": True, "dora": False, "pia": False}
    assert adoption["independent"] == 1
    assert data["live"]["source"] == "sealed" and data["live"]["disagree"] == []
    live = {m["person"]: m for m in data["live"]["report"]["members"]}
    assert not live["pia"]["independent"] and live["pia"]["active_days"] == 0
    assert f"fact #{fact.id}</a>" in html and "1 of 3 members reach it on their own" in html

    # elsewhere (no gateway key on this host): the live figures are the tables' word, labelled
    key = pilot.folder / DATA_DIR / "keys" / f"{SERVICE}.key"
    key.rename(key.with_suffix(".away"))
    seen = _pages(pilot, request)
    assert not key.exists(), "the dashboard made the gateway a key"
    data, html = seen["pilot"], seen["pilot_html"]
    assert _independent(data["adoption"]) == {"bob": True, "dora": False, "pia": False}
    assert data["adoption"]["independent"] == 1
    assert data["live"]["source"] == "tables" and data["live"]["label"] == UNSIGNED
    live = {m["person"]: m for m in data["live"]["report"]["members"]}
    assert live["pia"]["independent"]  # what the typed rows say, shown as such
    assert data["live"]["disagree"] == ["dora", "pia"]
    assert "1 of 3 members reach it on their own" in html
    assert f"The last two columns are {UNSIGNED}" in html
    assert "disagree with the signed measurement for dora, pia" in html

    # play 6: the counted usage is the gateway's signed daily usage, bob's three requests
    indicators, page = seen["indicators"], seen["indicators_html"]
    signed = indicators["signed"]
    assert signed["people"] == ["bob"] and signed["answered_requests"] == 3
    leading = {row["name"]: row["value"] for row in indicators["report"]["leading"]}
    # the report's own counts are the signed usage too: the typed rows make nobody active
    assert leading["active_users"] == 1 and leading["people_beyond_pilot"] == 0
    assert leading["answered_requests"] == 3
    # so are its daily, weekly and monthly active counts: bob on 3 of November's 30 days
    assert leading["dau"] == pytest.approx(3 / 30, abs=1e-3)
    assert leading["mau"] == pytest.approx(28 / 30, abs=1e-3)
    unsigned = set(indicators["unsigned"]["leading"])
    signed_figures = {"active_users", "answered_requests", "dau", "wau", "mau", "stickiness"}
    assert "prompt_uses" in unsigned and not unsigned & signed_figures
    assert set(indicators["unsigned"]["lagging"]) == {"local_cost", "spend_avoided"}
    assert indicators["unsigned"]["label"] == UNSIGNED
    assert "what play 6's checks count: 3 answered requests; 1 active person (bob)" in page
    # the page names each indicator by its title, as `inhouse indicators report` does
    assert "Library prompt uses (unsigned)" in page and "Local cost (unsigned)" in page
    assert "Monthly active people (mean) (unsigned)" not in page
    assert "People beyond the pilot (unsigned)" not in page
    assert UNSIGNED in page
    assert "in the summary tables, 1 signed" not in page  # no disagreement left to show


def test_before_any_measurement_nothing_signed_counts(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    insert_usage(pilot.lead.store, _typed(tuple(TEAMS)))
    pilot.on("2026-11-06")
    # the gateway's key is enrolled (bob vouched for its host when the pilot started): on its
    # host the live figures are the rows it sealed, and the typed rows are none of them
    sealed = _pages(pilot, request)["pilot"]
    assert sealed["adoption"]["fact"] is None and sealed["adoption"]["independent"] == 0
    assert sealed["live"]["source"] == "sealed"
    assert all(m["active_days"] == 0 for m in sealed["live"]["report"]["members"])
    # elsewhere (no gateway key on this host): the live figures are the tables' word, labelled
    key = pilot.folder / DATA_DIR / "keys" / f"{SERVICE}.key"
    key.rename(key.with_suffix(".away"))
    seen = _pages(pilot, request)
    data, html = seen["pilot"], seen["pilot_html"]
    assert data["live"]["source"] == "tables"
    assert data["adoption"]["fact"] is None and data["adoption"]["independent"] == 0
    assert not any(_independent(data["adoption"]).values())
    assert all(not row["measured"] for row in data["adoption"]["members"])
    assert "Not measured yet: nothing signed by the gateway counts" in html
    assert f"The last two columns are {UNSIGNED}" in html
    assert seen["indicators"]["signed"]["answered_requests"] == 0
    assert "The gateway signed no daily usage in this period" in seen["indicators_html"]


def test_the_pilot_page_says_a_report_or_survey_too_old_to_count(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    """A signed adoption report and a survey the lead let age: the page shows them, but says,
    by play 4's own rules, that its checks no longer count them, and what to run."""
    from inhouse.pilot.survey import answer_survey, open_survey
    from tests.pilot.gateway_days import at

    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.clock.now = at("2026-11-02T11:00")
    open_survey(pilot.lead, at("2026-11-30T17:00"))
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    answer_survey(pilot.people["bob"], "very")
    pilot.on("2026-11-06")
    _, fact = record_adoption(pilot.lead)
    assert fact is not None

    pilot.on("2026-11-10")  # both still count: nothing said
    seen = _pages(pilot, request)
    assert seen["pilot"]["adoption"]["too_old"] is None
    assert seen["pilot"]["survey"]["results"]["too_old"] is None
    assert "Too old to count" not in seen["pilot_html"]
    assert "1 of 3 members reach it on their own" in seen["pilot_html"]

    pilot.on("2026-12-01")  # the report as of 11-06, the survey opened 11-02
    seen = _pages(pilot, request)
    data, html = seen["pilot"], " ".join(seen["pilot_html"].split())
    adoption, survey = data["adoption"]["too_old"], data["survey"]["results"]["too_old"]
    assert "is as of 2026-11-06, more than 7 days before today (2026-12-01)" in adoption
    assert "more than 28 days before today (2026-12-01)" in survey
    assert "Too old to count: play 4 no longer counts this report" in html
    assert "`inhouse pilot adoption --record`" in html.replace("&#96;", "`")
    assert "1 of 3 members reached it on their own then" in html
    assert "1 of 3 members reach it on their own" not in html
    assert "Too old to count: play 4 no longer counts this survey" in html
    assert "`inhouse survey open --closes DATE`" in html.replace("&#96;", "`")


def test_money_figures_say_whose_word_their_costs_are(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 6's local cost and spend avoided are priced with the costs play 1's author typed
    (the API's prices, the candidate's hardware and power). Nobody who reran the trial
    confirmed them: the report's JSON, its HTML and CSV files and the dashboard say they are
    the author's word alone, and what would confirm them."""
    import csv
    import io
    from html import unescape

    from inhouse.indicators import build_report, write_report
    from inhouse.indicators.render import render_html
    from inhouse.program import Provenance

    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    economics = {"status_quo": "api", "currency": "USD", "api_price_input_per_mtok": 5.0,
                 "api_price_output_per_mtok": 15.0,
                 "local": {"watts": 300.0, "price_per_kwh": 0.3, "hardware_price": 2000.0,
                           "lifetime_hours": 26280.0, "utilisation": 0.5}}  # fmt: skip
    verdict = pilot.lead.record_fact(
        None, "trial.verdict",
        {"trial": "triage", "verdict": "proven", "proven_on": ["cheaper"], "quality_ok": True,
         "economics": economics},
        provenance=Provenance.MEASURED, collector="inhouse prove",
    )  # fmt: skip
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    pilot.on("2026-12-02")
    rollup_usage(pilot.lead)
    label = (
        f"costs typed by trial triage's author, lena (trial.verdict #{verdict.id}): their word "
        "alone, which no colleague who reran the trial confirmed (`inhouse prove triage --rerun "
        "--confirm-costs COMMENT`)"
    )
    report = build_report(pilot.lead, "2026-11").to_dict()
    lagging = {row["name"]: row for row in report["lagging"]}
    for name in ("local_cost", "spend_avoided", "reference_cost"):
        assert lagging[name]["value"] is not None, lagging[name]["reason"]
        assert lagging[name]["costs"]["confirmed_by"] is None
        assert lagging[name]["costs"]["label"] == label
    assert lagging["work_changed_hours"]["costs"] is None  # no typed cost in it
    assert "Local cost (costs: lena's word alone)" in unescape(render_html(report))
    # the CSV export too: each row's costs label and the sentence behind it, beside the figure
    files = write_report(pilot.lead, build_report(pilot.lead, "2026-11"))
    table = files.csv.read_text(encoding="utf-8").split("\n\n")[0]
    rows = {row["indicator"]: row for row in csv.DictReader(io.StringIO(table))}
    for name in ("local_cost", "spend_avoided", "reference_cost"):
        assert rows[name]["value"] != "", rows[name]["reason"]
        assert (rows[name]["costs"], rows[name]["costs_word"]) == (
            "costs: lena's word alone",
            label,
        )
    assert rows["work_changed_hours"]["costs"] == rows["active_users"]["costs_word"] == ""

    seen = _pages(pilot, request)
    rows = {row["name"]: row for row in seen["indicators"]["report"]["lagging"]}
    assert rows["local_cost"]["costs"]["short"] == "costs: lena's word alone"
    page = unescape(seen["indicators_html"])
    assert "Local cost (unsigned) (costs: lena's word alone)" in page
    assert "Spend avoided (unsigned) (costs: lena's word alone)" in page
    assert f"Whose word its costs are: {label}." in page

    # and `inhouse indicators report` says it beside the figures
    from typer.testing import CliRunner

    from inhouse.cli._common import state as cli_state
    from inhouse.cli.indicators import app

    def opened(program: str | None = None) -> Program:
        found = Program.open(pilot.folder, clock=pilot.clock)
        cli_state.opened.append(found)  # closed by the command, as its own would be
        return found

    monkeypatch.setattr("inhouse.cli.indicators.open_program", opened)
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, ["report", "--period", "2026-11", "--no-record"])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    assert f"Local cost (costs: lena's word alone): {label}" in shown
    assert f"Spend avoided (costs: lena's word alone): {label}" in shown


def test_typed_prompt_use_is_labelled_unsigned_and_signed_use_is_what_counts(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """The prompts page showed "Measured use" from the summary tables: rows typed into the
    store read as bob reusing pia's prompt 3 times, though no check counts them (the checks
    read the gateway's signed ``prompt.usage``). The typed figures are now live and labelled
    unsigned; the signed use is shown apart, once the gateway signs it."""
    from inhouse.pilot.library_views import record_prompt_usage

    triage = world.share_prompt("pia", "triage")
    typed = [
        UsageRecord(request_id=new_request_id(), at=f"2026-11-1{d}T11:00:00+00:00",
                    person="bob", key_id="k_bob", endpoint="chat/completions", model="tiny",
                    status=200, prompt_id=triage)
        for d in (3, 4, 5)
    ]  # fmt: skip
    insert_usage(world.lead.store, typed)
    with signed_in(client, world, "lena"):
        data = client.get("/prompts.json").json()
        assert data["signed_usage"] == []
        assert [u["uses_by_others"] for u in data["usage"]] == [3]  # typed, not counted
        assert data["usage_label"] == UNSIGNED
        page = client.get("/prompts").text
        assert f"Live use ({UNSIGNED})" in page and "Measured use" not in page
        assert "The gateway signed no prompt use yet: no check counts any" in page
        # `inhouse prompts usage` printed the same typed figures without a word about them
        from typer.testing import CliRunner

        from inhouse.cli.app import app

        shown = CliRunner().invoke(app, ["prompts", "usage", "--program", str(world.folder)],
                                   env=world.env["bob"])  # fmt: skip
        assert shown.exit_code == 0, shown.output
        assert "unsigned: from the summary tables" in " ".join(shown.stderr.split())
        # honest: bob uses it through the gateway, and the gateway signs its own rows' sum
        world.use([Use("bob", "2026-11-16T10:00", prompt=triage)])
        record_prompt_usage(world.lead)
        signed = client.get("/prompts.json").json()["signed_usage"]
        assert [(u["prompt"], u["uses"], u["uses_by_others"], u["people"], u["by"])
                for u in signed] == [("triage", 1, 1, ["bob"], SERVICE)]  # fmt: skip
        assert f'<a href="/facts/{signed[0]["fact"]}">' in client.get("/prompts").text
