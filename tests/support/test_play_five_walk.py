"""Play 5 walked to its exit after play 4's walk, with the real commands' functions and enrolled
people on the real llama.cpp engine: the support owner accepts play 4's handoff, a team
outside the pilot asks in, champions are named, the drift review asks the engine what it
serves, an agent key gets its boundary, the periodic review is held, and the typical "it broke"
ticket is resolved without its builder, and its opener confirms the fix. On the way: the builder
resolving their own ticket does not count, a champion resolving it does once the person who hit
it confirms the fix, a ticket reopened within the window stops counting, and
an easy how-to ticket does not stand in for the typical it-broke one."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.baseline.verify import run_verify
from inhouse.gateway.keys import grant_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.pilot.champions import accept_champion, name_champion
from inhouse.program import Program
from inhouse.support.drift import record_drift_review
from inhouse.support.queue import (
    accept_owner,
    assign_ticket,
    confirm_fix,
    name_owner,
    open_ticket,
    reopen_ticket,
    resolve_ticket,
)
from inhouse.support.review import attend_review, hold_review, schedule_review
from tests.conftest import OTHER_COMPUTER, Clock
from tests.engine import Engine, needs_engine
from tests.people import enrol
from tests.pilot.test_play_four_walk import NAME, walk_play_four

pytestmark = needs_engine

WORKFLOW = "workflow:ticket-summary"  # published by sam (his run came first): sam built it


def _typical(lena: Program) -> dict[str, str]:
    status = lena.status()
    play = next(p for p in status["plays"] if p["id"] == "support")
    row = next(r for r in play["exit"] or [] if r["check"] == "ticket-resolved-without-builder")
    return {"outcome": row["outcome"], "reason": row["reason"]}


@pytest.mark.usefixtures("real_model")
def test_play_five_exits_on_measured_support(
    engine: Engine, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, people = walk_play_four(engine, _isolated, clock)
    sam, pia, dan, eve, fay = (people[n] for n in ("sam", "pia", "dan", "eve", "fay"))
    with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[policy.agents.release-bot]\ntools = ["read_file"]\n'
            '\n[review]\nevery_days = 30\nroles = ["rollout-lead", "support-owner"]\n'
        )
    rollup_usage(lena)  # real use, signed by the gateway, before any governance is set up

    # play 4 hands on to the support owner; someone outside the pilot asks in
    name_owner(lena, "sam")
    accept_owner(sam)
    lena.offer_handoff(None, "pilot", to="sam", comment="findings, champions, the library")
    sam.accept_handoff(None, "pilot", comment="I take the queue")
    zed = enrol(lena, "zed", team="sales")
    zed.request_access(reason="sales wants the summaries too")
    sam.start_play(None, "support")

    # governance: champions per team, the drift review on the engine, an agent's boundary,
    # the periodic review
    for person, team in (("gus", "support"), ("pia", "legal"), ("eve", "finance")):
        name_champion(lena, person, team=team)
        accept_champion(people[person])  # each takes it on with their own key
    # the lock the gateway pins is verified by someone other than its signer (play 2's second
    # person, which play 4's walk left to play 2's own): dan stands it up at his own laptop
    with monkeypatch.context() as patch:
        patch.setenv(OTHER_COMPUTER, "dan-laptop")
        verified = run_verify(dan, None)
    assert verified.report.passed, verified.report.failures
    review = record_drift_review(sam)
    assert review.fact is not None and review.fact.payload["passed"], review.report.to_dict()
    grant_key(lena, None, "lena", agent="release-bot")
    schedule_review(lena)
    held = hold_review(
        lena, ["lena", "sam"], [f"{NAME}=keep:the pilot runs on it"], notes="monthly"
    )
    attend_review(sam, held.id)  # sam confirms with his own key: lena's list alone is her word

    # the typical it-broke ticket: sam, who built the workflow, fixing it himself does not count
    first = open_ticket(dan, "Summaries are empty", category="it-broke", component=WORKFLOW)
    resolve_ticket(sam, first.id, note="I fixed my prompt")
    assert _typical(lena)["outcome"] == "fail"
    assert "a builder" in _typical(lena)["reason"]
    # an easy how-to, resolved by a champion, does not stand in for it
    easy = open_ticket(fay, "How do I get a key?", category="how-to", component="gateway")
    resolve_ticket(pia, easy.id, note="keys fetch")
    assert _typical(lena)["outcome"] == "fail"
    # a champion resolving an it-broke ticket does count, once eve, who hit it, says it is fixed
    broke = open_ticket(eve, "Summary cut short", category="it-broke", component=WORKFLOW)
    assign_ticket(sam, broke.id, "pia")
    resolve_ticket(pia, broke.id, note="raised max_tokens in the spec")
    assert _typical(lena)["outcome"] == "fail"
    assert f"eve runs `inhouse support confirm-fix {broke.id}`" in _typical(lena)["reason"]
    confirm_fix(eve, broke.id)
    assert _typical(lena)["outcome"] == "pass", _typical(lena)
    # ...until it is reopened within the window: then it stops counting, even resolved again
    clock.advance(days=3)
    reopen_ticket(eve, broke.id, reason="cut short again")
    assert _typical(lena)["outcome"] == "fail"
    resolve_ticket(pia, broke.id, note="the real fix this time")
    assert _typical(lena)["outcome"] == "fail"
    # another it-broke ticket, resolved by a champion and not reopened: the typical one holds
    again = open_ticket(fay, "Workflow refuses my ticket", category="it-broke", component=WORKFLOW)
    resolve_ticket(eve, again.id, note="the ticket had a card number; explained the rules")
    confirm_fix(fay, again.id)

    status = lena.status()
    play = next(p for p in status["plays"] if p["id"] == "support")
    rows = {row["check"]: row for row in [*play["trigger"], *(play["exit"] or [])]}
    assert {name: row["outcome"] for name, row in rows.items()} == dict.fromkeys(rows, "pass")
    assert {row["basis"] for row in rows.values()} == {"measured"}, rows
    assert play["state"] == "exit-met"
    assert not any("governance theater" in w for w in status["warnings"])
