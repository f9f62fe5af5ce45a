"""The outsider, round 21: plays 4 to 6, the rollout lead alone after plays 1-3 exited honestly.

tests/test_outsider_later.py's world: a pilot of three colleagues (bob, pia, oli), each signed
in with an account of their own, keyed and onboarded, who sent real requests through the
gateway on 3 and 4 November; lena leads, owns the support queue and play 6. She has her one
account, her laptop, the program folder, the Python API and the CLI, and may grant herself a
gateway key bound to a local agent of hers (a release bot), as a lead honestly does.

What the walk found: play 6's ``indicators-reported`` held a report's active people to the
people the gateway signed answered requests for, agents' included, though "active" is use
through a key of one's own (an agent's use makes nobody active: the rollup signs ``own`` for
that). In a month when nobody but her bot used the tool, her report counted herself active
and passed (closed: the report's active people are held to those the signed usage shows
answered through a key of their own).
"""

from __future__ import annotations

from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import build_report, record_report, set_prices, write_report
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from tests.pilot.gateway_days import Pilot, Use
from tests.test_outsider_later import _judge, lena, pilot  # noqa: F401 (fixtures)

#: play 6's indicators check
REPORTED = "indicators-reported"


def _bot(pilot: Pilot, lena: Program) -> None:  # noqa: F811
    """``inhouse keys issue lena --agent release-bot``: her bot's boundary declared, its key
    granted to her and fetched by her (the honest way to run an agent), beside a gateway key of
    her own, which she did not use in December (the gateway's figures count for key holders)."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    with (pilot.folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[policy.agents.release-bot]\ntools = ["read_file"]\n')
    _, pilot.keys["release-bot"] = issue_key(lena, None, "lena", agent="release-bot", holder=lena)


def _december(pilot: Pilot, lena: Program) -> dict[str, object]:  # noqa: F811
    """Nobody used the tool in December; her release bot ran on three days. The honest report
    of December (`inhouse indicators report --period 2026-12 --record`), its payload."""
    _bot(pilot, lena)
    pilot.use([Use("release-bot", f"2026-12-0{day}T10:00") for day in (5, 6, 7)])
    pilot.on("2027-01-02")
    rollup_usage(lena)
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.0, output_per_mtok=6.0,
               source="the vendor's price page")  # fmt: skip
    report = build_report(lena, "2026-12")
    fact = record_report(lena, report, write_report(lena, report))
    return dict(fact.payload)


def test_the_honest_report_of_a_month_only_her_bot_used_counts_nobody_active(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """What `inhouse indicators report` measures: the bot's requests are use (answered, with
    their tokens), and nobody was active. The check passes on it, saying whose keys they were."""
    payload = _december(pilot, lena)
    assert payload["leading"]["active_users"] == 0
    assert payload["leading"]["answered_requests"] == 3
    result = _judge(lena, REPORTED)
    assert result.outcome is Outcome.PASS, result.reason
    assert "through 1 people's keys, 0 of them their own" in result.reason


def test_her_bot_s_month_reported_with_her_as_an_active_person_does_not_count(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """She types the report again through the Python API, counting one active person (herself,
    whose bot the gateway signed): its requests and tokens match the signed usage, and the
    check held "active" only to the people the gateway signed any request for, so a month
    nobody used the tool themselves showed an active user."""
    payload = _december(pilot, lena)
    payload["leading"] = {**payload["leading"], "active_users": 1}
    lena.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                     collector="inhouse indicators")  # fmt: skip
    result = _judge(lena, REPORTED)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "counts 1 active people in 2026-12-01..2026-12-31" in result.reason
    assert "shows 0 (nobody) answered through a key of their own" in result.reason
    assert "lena only through an agent's key, which makes nobody active" in result.reason
