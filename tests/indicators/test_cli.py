"""The play 6 commands as a person types them: clear errors that name the problem and record
nothing, the report's files and its fact, findings listed with what closed them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from inhouse.program import Program
from tests.clitools import cli
from tests.people import enrol_cli


def _facts(folder: Path, kind: str) -> list[dict[str, object]]:
    program = Program.open(folder)
    try:
        return [f.payload for f in program.state().facts if f.kind == kind]
    finally:
        program.close()


def test_bad_input_is_named_and_records_nothing(_isolated: Path) -> None:
    cli("init", "Acme", "--lead", "lena")
    out = cli("indicators", "report", "--period", "2026-13", code=2)
    assert "month 13 is not 01 to 12" in out
    for far in ("0001-01", "9999-W52", "9999-12-01..9999-12-31"):  # no period before or day after
        out = cli("indicators", "report", "--period", far, code=2)
        assert f"period '{far}': the year " in out and "is not 1900 to 9998" in out, out
    out = cli("indicators", "report", "--period", "last month", code=2)
    assert "is not a month (2026-11), an ISO week (2026-W47) or a span of days" in out
    out = cli("indicators", "prices", "set", "--input", "1", code=2)
    assert "give --reference, --output, --source (or --from-trial)" in out
    # a price no cost can be figured from, or one whose costs overflow to inf (1e308)
    for bad, said in (("inf", "inf"), ("1e999", "inf"), ("1e308", "1e+308"), ("1.5e9", "1.5e+09")):
        out = " ".join(
            cli("indicators", "prices", "set", "--reference", "gpt-4o-mini", "--input", bad,
                "--output", "0.6", "--source", "the price list", code=2).split()
        )  # fmt: skip
        assert (
            f"--input {said}: a price per 1M tokens is a number from 0 to 1,000,000,000"
        ) in out, out
    out = cli("indicators", "prices", "set", "--from-trial", code=3)
    assert "no trial verdict records its economics" in out
    # it named --input and --output only, and the command then asked for --reference and
    # --source one refusal at a time: it names every option the prices need
    said = " ".join(out.split())
    assert "--reference NAME --input PRICE --output PRICE --source URL" in said, said
    out = cli("finding", "add", "too slow", "--target", "gateway", code=2)
    assert "baseline, workflow:NAME or prompt:NAME, not 'gateway'" in out
    out = cli("finding", "close", "F-9", code=2)
    assert "there is no finding #9" in out
    assert _facts(_isolated, "finding.opened") == _facts(_isolated, "indicators.prices") == []


def test_a_period_before_the_program_began_is_said_to_be(_isolated: Path) -> None:
    cli("init", "Acme", "--lead", "lena")
    out = " ".join(cli("indicators", "report", "--period", "2020-01").split())
    assert "2020-01 ended before the program began" in out, out
    assert "nothing in it to count" in out
    today = datetime.now(UTC).date()  # the program began today: this period holds its start
    out = cli("indicators", "report", "--period", f"{today:%Y-%m}")
    assert "before the program began" not in out, out


def test_the_dearest_price_accepted_still_gives_a_finite_cost(_isolated: Path) -> None:
    """The bound on a price keeps every cost finite: at the dearest price accepted, the most
    tokens a period can count (a 64-bit counter's worth, in and out) cost a finite number."""
    from inhouse.indicators.prices import MAX_PER_MTOK, Prices

    cli("init", "Acme", "--lead", "lena")
    cli("indicators", "prices", "set", "--reference", "gpt-4o-mini", "--input", "1e9",
        "--output", "1e9", "--source", "the price list")  # fmt: skip
    (recorded,) = _facts(_isolated, "indicators.prices")
    assert recorded["price_input_per_mtok"] == recorded["price_output_per_mtok"] == MAX_PER_MTOK
    dearest = Prices("gpt-4o-mini", MAX_PER_MTOK, MAX_PER_MTOK, "USD", "the price list")
    most = 2**63 - 1
    assert math.isfinite(dearest.cost(most, most))


def test_a_reports_folder_that_is_a_file_is_refused_by_name(_isolated: Path) -> None:
    """``.inhouse/reports`` is a file (someone's, or a stray): the report says so and what to
    do, instead of a FileExistsError traceback; the file is kept and nothing is recorded."""
    cli("init", "Acme", "--lead", "lena")
    stray = _isolated / ".inhouse" / "reports"
    stray.write_text("someone's notes\n")
    out = " ".join(cli("indicators", "report", "--period", "2026-10", code=2).split())
    assert ".inhouse/reports is a file, not a folder: the report's HTML, JSON and CSV" in out, out
    assert "Move that file away" in out
    assert stray.read_text() == "someone's notes\n"
    assert _facts(_isolated, "indicators.report") == []
    stray.unlink()
    assert "Recorded indicators.report" in cli("indicators", "report", "--period", "2026-10")


def test_a_report_on_an_empty_program_says_why_each_lagging_figure_is_missing(
    _isolated: Path,
) -> None:
    cli("init", "Acme", "--lead", "lena")
    out = cli("indicators", "report", "--period", "2026-10", "--no-rollup")
    assert "Indicators 2026-10 (2026-10-01 to 2026-10-31)" in out
    assert "no reference prices" in out and "no local cost model" in out
    data = json.loads(cli("indicators", "report", "--period", "2026-W44", "--no-rollup",
                          "--json"))  # fmt: skip
    assert data["period"] == {"label": "2026-W44", "kind": "week", "start": "2026-10-26",
                              "end": "2026-11-01"}  # fmt: skip
    assert data["previous"]["label"] == "2026-W43"
    for kind in ("html", "json", "csv"):
        assert (_isolated / data["files"][kind]).is_file()
    (report,) = [p for p in _facts(_isolated, "indicators.report") if p["period"] == "2026-W44"]
    assert report["leading"]["active_users"] == 0 and report["lagging"] == {
        "work_changed_hours": 0.0
    }


def test_findings_are_listed_with_what_closed_them(_isolated: Path) -> None:
    cli("init", "Acme", "--lead", "lena")
    zoe = enrol_cli(Program.open(_isolated), "zoe", _isolated.parent / "keys", team="sales")
    out = cli("finding", "add", "summaries are too long", "--target", "workflow:summary",
              "--source", "the survey", env=zoe)  # fmt: skip
    assert "Opened finding #" in out
    number = out.split("#")[1].split()[0]
    # the next step names the workflow the finding is about, not a placeholder
    assert f"`inhouse workflow test summary --closes {number}`" in " ".join(out.split()), out
    # no workflow by that name yet: kept (one may be written for it), and said, for a typo
    assert "note: there is no workflow 'summary' in this program yet" in " ".join(out.split())
    (_isolated / "workflows").mkdir(exist_ok=True)
    (_isolated / "workflows" / "summary.yaml").write_text("name: summary\n")
    again = cli("finding", "add", "still too long", "--target", "workflow:summary", env=zoe)
    assert "note:" not in again
    out = cli("finding", "add", "triage misses refunds", "--target", "prompt:triage", env=zoe)
    opened = out.split("#")[1].split()[0]
    assert (f"`inhouse prompts new-version triage --file FILE --closes {opened}`") in " ".join(
        out.split()
    ), out
    out = cli("finding", "close", number, "--note", "told them to be brief")
    assert "This is your word" in out
    (row,) = [r for r in json.loads(cli("finding", "list", "--json")) if r["id"] == int(number)]
    assert row["state"] == "ticked off by hand" and row["closed_by"] is None
    assert row["opened_by"] == "zoe" and row["target"] == "workflow:summary"
    assert row["ticked_off_by_hand"][0]["by"] == "lena"
    assert "ticked off by hand (not evidence)" in cli("finding", "list")


def test_a_span_of_days_is_reported_but_says_play_six_does_not_count_it(_isolated: Path) -> None:
    """A span of days is still a report a person may want (a sprint, a trial month that began
    mid-month), but indicators-reported takes only a period the calendar fixes: the report
    says so where it is shown, instead of leaving the lead to find out from `status`."""
    cli("init", "Acme", "--lead", "lena")
    out = " ".join(cli("indicators", "report", "--period", "2026-10-03..2026-10-30").split())
    assert (
        "NOT PLAY 6's PERIOD: the report of 2026-10-03..2026-10-30 is a span of days its "
        "reporter chose"
    ) in out, out
    out = " ".join(cli("indicators", "report", "--period", "2026-10").split())
    assert "NOT PLAY 6's PERIOD" not in out, out
    # a span that is a whole month is what the check takes (a quarter only where the
    # playbook's period is one: tests/test_followups53.py)
    out = " ".join(cli("indicators", "report", "--period", "2026-10-01..2026-10-31").split())
    assert "NOT PLAY 6's PERIOD" not in out, out
