"""Walk 456: an honest team walks plays 4 to 6 from a program whose plays 1 to 3 exited (the
demo's, `python -m inhouse.demo`, then play 3's handoff), with the CLI alone: six pilot members
on three teams and an outsider, each with a HOME and a machine of their own, the project's test
model behind the gateway, and the days passing. What it met that misled it or hid the next step,
each pinned here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import AntiPattern
from inhouse.indicators.lagging import record_minutes_saved
from inhouse.next_steps import next_steps
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Provenance
from inhouse.program.evaluation import exit_results
from inhouse.support.inventory import pinning_enforced
from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol

TRACK = (
    "title: Everyone\nrole: all\nsteps:\n  - {id: first-request, type: first-answered-request}\n"
)


def test_members_set_aside_for_one_reason_are_named_once_not_each_in_no_one_s_name(
    _isolated: Path, clock: Clock
) -> None:
    """A program without the organisation's sign-in sets every pilot member aside for the same
    reason. Play 4's checks said "the organisation's sign-in is not set up: a member counts once
    the organisation's sign-in vouched for them" once per member, six times over, naming none:
    the lead could not tell whom it meant. Now the reason is said once, after the members."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    (_isolated / "enablement").mkdir()
    (_isolated / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    later = clock() + timedelta(days=30)
    lena.grant_waiver(None, "scaling-before-proving", reason="time-boxed-experiment",
                      note="the pilot before the sign-in", expires=later)  # fmt: skip
    teams = {"sam": "support", "gus": "support", "pia": "legal"}
    for name, team in teams.items():
        enrol(lena, name, team=team, signed_in=False)
        add_member(lena, name, track="everyone")
    play = next(p for p in lena.playbook.plays if p.id == "pilot")
    results = {c.ref.check: c.result for c in exit_results(play, lena.state(), lena.clock())}
    reason = results["pilot-size"].reason
    assert "not counted: gus, pia, sam: the organisation's sign-in is not set up" in reason, reason
    assert reason.count("the organisation's sign-in is not set up") == 1, reason
    lena.close()


def test_support_show_keeps_the_ticket_s_state_and_calls_a_fix_made_here_no_import_s(
    _isolated: Path,
) -> None:
    """`inhouse support show T-1` printed "T-1: Summaries are empty " with its state gone (the
    console read "[resolved]" as markup), and the opener's confirmed fix as "fixed the import's
    resolved #N", for a ticket nobody imported."""
    cli("init", "Acme", "--lead", "lena")
    lena = Program.open(_isolated)
    pia = enrol(lena, "pia", team="legal")
    fay = enrol(lena, "fay", team="finance")
    ticket = open_ticket(pia, "Summaries are empty", category="it-broke", component="baseline")
    shown = cli("support", "show", ticket.id)
    assert f"{ticket.id}: Summaries are empty [open]" in shown, shown
    resolved = resolve_ticket(fay, ticket.id, note="raised max_tokens")
    confirm_fix(pia, ticket.id)
    shown = cli("support", "show", ticket.id)
    assert f"{ticket.id}: Summaries are empty [resolved]" in shown, shown
    assert "the import's" not in shown, shown
    fixed = next(line for line in shown.splitlines() if " by pia (fact #" in line and "fix" in line)
    assert f"(resolved #{resolved.resolution.fact.id})" in fixed, shown  # type: ignore[union-attr]
    lena.close()


def test_pinning_off_says_how_to_turn_it_on() -> None:
    """The gateway served every request of the pilot as the README starts it (`gateway serve
    --port 8088`, no [gateway] table), and play 5's drift review then recorded pinning off: it
    said "it passed", and the check asked for "a [gateway] table" without saying where or
    what. The review's reason names the fix (the CLI adds that play 5 does not count it)."""
    enforced, why = pinning_enforced({}, object())  # type: ignore[arg-type]
    assert not enforced
    assert "add one (at least the host and port it serves on: docs/gateway.md)" in why, why
    enforced, _ = pinning_enforced({"gateway": {"port": 8088}}, object())  # type: ignore[arg-type]
    assert enforced


def test_an_ongoing_play_s_owner_is_told_what_its_period_still_needs(
    _isolated: Path, clock: Clock
) -> None:
    """Play 6 never exits: once started it is "ongoing". Its owner's next steps listed nothing
    while its healthy-period checks failed (no report of a whole period, no finding fed back):
    only a running play's failing exits were listed."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    status: dict[str, Any] = lena.status()
    row = {"check": "indicators-reported", "title": "indicators reported", "outcome": "fail",
           "reason": "no report yet"}  # fmt: skip
    measure = next(v for v in status["plays"] if v["id"] == "measure")
    measure.update(state="ongoing", owner="lena", exit=[row])
    for view in status["plays"]:
        if view["id"] != "measure":
            view.update(state="exited", handoff=None)
    found = next_steps(lena, status, clock())  # type: ignore[arg-type]
    texts = [s["text"] for p in found if p["person"] == "lena" for s in p["steps"]]
    assert any("play 6 (Measure and iterate) needs indicators reported" in t for t in texts), found
    lena.close()


def test_prompts_usage_record_says_what_it_recorded(_isolated: Path) -> None:
    """`inhouse prompts usage --record` printed the table and nothing more: the team could not
    tell it from the plain, unsigned sums, nor whether anything was signed."""
    cli("init", "Acme", "--lead", "lena")
    out = cli("prompts", "usage", "--record")
    assert "Nothing new to record" in out, out


def test_minutes_saved_from_someone_the_report_never_reads_is_refused(
    _isolated: Path, clock: Clock
) -> None:
    """lena, play 4's owner, ran `inhouse indicators minutes-saved ticket-summary 5` for play 6:
    "Recorded", though the report reads only the workflow's author's estimate, so hers was
    never used. Now it is refused, naming whose counts; nothing is
    recorded. The author's own estimate is recorded as before."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    spec = {"workflow": "ticket-summary", "content_hash": "c" * 12, "model": "m",
            "model_digest": "sha256:" + "b" * 64, "author": "omar"}  # fmt: skip
    omar.record_fact(None, "workflow.spec", spec, provenance=Provenance.MEASURED,
                     collector="inhouse workflow test")  # fmt: skip
    said = " ".join(cli("indicators", "minutes-saved", "ticket-summary", "5", code=3).split())
    assert "counts only from its author, omar (who first published it" in said, said
    assert "not lena" in said, said
    assert not [f for f in lena.state().facts if f.kind == "indicators.minutes_saved"]
    fact = record_minutes_saved(omar, "ticket-summary", 5)
    assert (fact.by, fact.payload["minutes"]) == ("omar", 5)
    lena.close()


def test_play_five_s_owner_is_made_with_the_support_queue_not_a_bare_role(
    _isolated: Path, clock: Clock
) -> None:
    """lena offered play 4's handoff to sam before naming him the queue's owner: the refusal
    said to add the role with `inhouse person role sam --add support-owner`, which owns no
    queue (play 5's first exit check asks for one, taken on with his own key). It names the
    command docs/support.md gives, which grants the role with the queue."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    # play 5 cannot start yet either: that is said first, the role after it
    with pytest.raises(AntiPattern) as refused:
        lena.start_play(None, "support")
    said = str(refused.value)
    assert "`inhouse support owner lena`, which gives the role" in said, said
    assert "--add support-owner" not in said, said
    lena.close()
