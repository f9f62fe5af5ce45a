"""The trial report: self-contained HTML (inline SVG, no CDN, no script) and its JSON twin; every
cost input shown; a zero cost only when every input is zero, and then it says so.

Both sides here are stand-in upstreams on loopback (named so): the report's content, not a model,
is under test."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from inhouse.program import Program
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, standin_in_thread
from inhouse.trials.prove import prove_trial

COST = {
    "watts": 65,
    "price_per_kwh": 0.31,
    "hardware_price": 1799,
    "lifetime_hours": 26280,
    "utilisation": 0.35,
}


@pytest.fixture
def standins() -> Iterator[tuple[StandinUpstream, StandinUpstream]]:
    with (
        standin_in_thread(StandinTiming(5, 1, 4), model="standin-candidate") as candidate,
        standin_in_thread(StandinTiming(40, 4, 8), model="standin-status-quo") as status_quo,
    ):
        yield candidate, status_quo


@pytest.fixture
def program(_isolated: Path) -> Iterator[Program]:
    opened = Program.init(_isolated, "Acme", "lena")
    (_isolated / "data").mkdir()
    rows = [{"id": f"q{i}", "text": f"ticket {i}"} for i in range(6)]
    (_isolated / "data" / "in.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    yield opened
    opened.close()


def write_trial(folder: Path, candidate_url: str, quo_url: str, **changes: Any) -> None:
    spec: dict[str, Any] = {
        "description": "Ticket summaries <script>alert('x')</script>",
        "task": {"prompt": "Summarise: {{ text }}", "inputs": "data/in.jsonl"},
        "candidate": {"url": candidate_url, "cost": dict(COST)},
        "status_quo": {
            "kind": "api",
            "url": quo_url,
            "price_input_per_mtok": 3.0,
            "price_output_per_mtok": 15.0,
        },
        "checks": [{"type": "length", "min": 1}],
        "meaningful": {"faster": 30, "cheaper": 30},
        "resamples": 2000,
    }
    spec.update(changes)
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / "summaries.yaml").write_text(yaml.safe_dump(spec))


def run(program: Program) -> tuple[str, dict[str, Any]]:
    result = prove_trial(program, "summaries")
    assert result.report is not None
    html = result.report.html.read_text()
    twin = json.loads(result.report.json.read_text())
    return html, twin


def test_the_report_is_self_contained_html_with_inline_charts(
    program: Program, standins: tuple[StandinUpstream, StandinUpstream]
) -> None:
    candidate, status_quo = standins
    write_trial(program.folder, candidate.url, status_quo.url)
    html, twin = run(program)
    assert twin["report"]["html"].startswith(".inhouse/reports/summaries-")
    assert (program.folder / twin["report"]["html"]).is_file()
    # nothing loads from anywhere: no script, stylesheet, image or font links
    for forbidden in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert forbidden not in html.replace("&lt;script", "")
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(charts) == 5  # intervals, time per task, cost, privacy, quality
    for chart in charts:  # each is well-formed SVG a browser draws offline
        assert ElementTree.fromstring(chart).tag == "{http://www.w3.org/2000/svg}svg"
    assert re.search(r"<circle[^>]+fill=\"#2563eb\"", html)  # a candidate's task as a dot
    # autoescaped: the description's markup is text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # the JSON twin is the data the page shows
    assert twin["trial"] == "summaries" and twin["inputs_count"] == 6
    assert twin["fact_id"] is not None
    assert f"fact #{twin['fact_id']}" in html
    assert len(twin["inputs"]) == 6 and all(r["candidate"]["ok"] for r in twin["inputs"])
    assert twin["verdict"]["verdict"] in html


def test_every_cost_input_is_shown(
    program: Program, standins: tuple[StandinUpstream, StandinUpstream]
) -> None:
    candidate, status_quo = standins
    write_trial(program.folder, candidate.url, status_quo.url)
    html, twin = run(program)
    local = {i["name"]: i for i in twin["cost"]["candidate"]["inputs"]}
    assert {
        name: local[name]["value"]
        for name in (
            "watts",
            "price per kWh",
            "hardware price",
            "lifetime",
            "utilisation assumption",
        )
    } == {
        "watts": 65,
        "price per kWh": 0.31,
        "hardware price": 1799,
        "lifetime": 26280,
        "utilisation assumption": 0.35,
    }
    assert local["busy time (all tasks)"]["source"] == "measured"
    assert local["busy time (all tasks)"]["value"] > 0
    api = {i["name"]: i["value"] for i in twin["cost"]["status_quo"]["inputs"]}
    assert api["price per 1M input tokens"] == 3.0 and api["price per 1M output tokens"] == 15.0
    assert api["output tokens (all tasks)"] == 6 * 8  # the stand-in sends 8 tokens each
    for side in ("candidate", "status_quo"):
        for item in twin["cost"][side]["inputs"]:
            assert f"<td>{item['name']}</td>" in html
    for shown in ("65", "0.31", "1,799", "26,280", "0.35"):
        assert f'<td class="n">{shown}</td>' in html
    assert twin["cost"]["candidate"]["total"] > 0
    assert twin["cost"]["candidate"]["zero_note"] is None
    # the per-task costs add up to the total, and the energy and hardware parts too
    parts = twin["cost"]["candidate"]["parts"]
    assert sum(r["candidate"]["cost"] for r in twin["inputs"]) == pytest.approx(
        parts["energy"] + parts["hardware"]
    )


def test_a_zero_local_cost_only_by_choice_and_the_report_says_so(
    program: Program, standins: tuple[StandinUpstream, StandinUpstream]
) -> None:
    candidate, status_quo = standins
    zero = {**COST, "watts": 0, "price_per_kwh": 0, "hardware_price": 0}
    write_trial(
        program.folder,
        candidate.url,
        status_quo.url,
        candidate={"url": candidate.url, "cost": zero},
    )
    html, twin = run(program)
    assert twin["cost"]["candidate"]["total"] == 0
    note = twin["cost"]["candidate"]["zero_note"]
    assert note and "set to zero" in note and "not measured" in note
    assert note in html.replace("&#39;", "'")


def test_a_partial_zero_is_refused_before_anything_runs(
    program: Program, standins: tuple[StandinUpstream, StandinUpstream]
) -> None:
    from inhouse.errors import InvalidInput

    candidate, status_quo = standins
    write_trial(
        program.folder,
        candidate.url,
        status_quo.url,
        candidate={"url": candidate.url, "cost": {**COST, "price_per_kwh": 0, "hardware_price": 0}},
    )
    with pytest.raises(InvalidInput, match="would make the local cost exactly zero"):
        prove_trial(program, "summaries")
    assert candidate.requests_served == 0
    assert not list((program.folder / ".inhouse").glob("reports/*"))
