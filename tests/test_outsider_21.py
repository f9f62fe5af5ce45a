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

Play 5's ``ticket-resolved-without-builder`` spared every resolution made by its exit mark the
opener's confirmation, whichever rule the exit was judged by; a play 5 that exited on a
confirmed fix, under today's rule, stood on a fix nobody confirmed once the confirmed one broke
(closed: an exit event names the facts it was judged on, and the rule before spares only those;
an exit recorded before exits named them keeps every fact by its mark).

Play 4's ``pilot-would-resist-losing`` spared, once play 4 had exited, every answer given by its
exit mark from the rule that an answer counts only from someone the gateway signed as using the
tool, though the spare is for exits judged before that rule. A play 4 that exited under it
(the answer of a colleague whose "use" lena typed into the laptop's tables left out) counted
that answer from the moment it exited: the pilot it reported was keener than the exit found, and
its evidence no longer the acceptance's, so play 5 could not start until the handoff was offered
and accepted again, on the answer today's rule refuses (closed: today's rule first; the spare is
asked only where today's rule falls short, and its evidence is the acceptance's ``earlier``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import build_report, record_report, set_prices, write_report
from inhouse.pilot.survey import answer_survey, open_survey
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import (
    CheckedRef,
    context_for,
    evidence_hash,
    run_checks,
    saw_the_same,
)
from inhouse.support.queue import confirm_fix, open_ticket, reopen_ticket, resolve_ticket
from tests.conftest import Clock
from tests.people import confirm_own_use
from tests.pilot.gateway_days import SIX, Pilot, Use, at, signed_in_pilot
from tests.test_outsider_18 import _type_use
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
    confirm_own_use(lena)  # her bot's days through her keys, in her own word
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
    their tokens), and nobody was active. The check passed on it; a month only the lead's bot
    used is her word alone (she runs the gateway's host and confirms her own days), so it now
    fails, saying whose use it was (tests/test_redteam56p.py)."""
    payload = _december(pilot, lena)
    assert payload["leading"]["active_users"] == 0
    assert payload["leading"]["answered_requests"] == 3
    result = _judge(lena, REPORTED)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "shows only lena's use" in result.reason
    assert "lena is or was a rollout lead" in result.reason


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
    assert (
        "lena only through a key not their own (an agent's, or one fetched in their name by a "
        "key that never signed in as them), which makes nobody active"
    ) in result.reason


# -- play 4: the survey's exit mark --------------------------------------------------------------

#: play 4's survey check
SURVEY = "pilot-would-resist-losing"


@pytest.fixture
def six(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """tests/test_outsider_18.py's pilot of six: bob, pia, dora and eve use the tool through the
    gateway on two days each, signed; carl and fay never send a request."""
    with signed_in_pilot(_isolated, clock, SIX) as made:
        made.use(Use(p, f"2026-11-{d}T10:00") for p in ("bob", "pia", "dora", "eve")
                 for d in (10, 12))  # fmt: skip
        rollup_usage(made.lead)
        yield made


def _surveyed(six: Pilot) -> None:
    """The survey: the four users answer "very disappointed"; lena types two days of use for
    carl into the tables `inhouse survey answer` reads, and carl, asked to, answers "very"
    too. Four of six count (carl's answer rests on no signed use): play 4's exit holds."""
    _type_use(six, "carl", ("2026-11-10", "2026-11-12"))
    six.clock.now = at("2026-11-16T09:00")
    open_survey(six.lead, at("2026-11-20T17:00"))
    for person in ("bob", "pia", "dora", "eve", "carl"):
        answer_survey(six.people[person], "very")
    six.clock.now = at("2026-11-21T09:00")


def _checked(
    six: Pilot, exited_at: int | None, judged: frozenset[int] | None = None
) -> list[CheckedRef]:
    """Play 4's survey check as its exit judges it; ``exited_at``: play 4 exited at that event
    (None: not exited), judged on the facts ``judged`` (None: an exit recorded before exits
    named them)."""
    lead = six.lead
    ctx = context_for(lead.state(), lead.clock())
    if exited_at is not None:
        ctx = replace(ctx, exited={**ctx.exited, "pilot": (lead.clock(), exited_at)})
    if judged is not None:
        ctx = replace(ctx, judged={**ctx.judged, "pilot": judged})
    refs = [r for r in lead.playbook.play("pilot").exit if r.check == SURVEY]
    return run_checks(refs, ctx)


def test_an_answer_today_s_rule_left_out_of_the_exit_stays_out_after_it(six: Pilot) -> None:
    """Play 4 exits under today's rule: its acceptance hashed the four answers that count.
    Once it has exited, the check still counts four (carl's answer is no more the pilot's for
    the exit having happened), and the handoff it was accepted on is the same one."""
    _surveyed(six)
    (before,) = _checked(six, None)
    assert before.result.outcome is Outcome.PASS, before.result.reason
    assert before.result.reason.startswith("4 of 6"), before.result.reason
    accepted = evidence_hash([before])
    mark = six.lead.state().head_seq + 1  # play 4 exits on these answers
    after = _checked(six, mark)
    (now,) = after
    assert now.result.outcome is Outcome.PASS, now.result.reason
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    assert "carl" in now.result.reason  # named as not counted, with why
    assert saw_the_same(after, accepted), "the accepted handoff would look stale"


def test_a_play_four_that_exited_before_the_rule_still_sees_its_answers(six: Pilot) -> None:
    """The upgrade: a play 4 that exited before the rule counted carl's answer (five of six).
    Today's rule passes on four; its acceptance, which hashed five, still sees the same."""
    _surveyed(six)
    (now,) = after = _checked(six, six.lead.state().head_seq + 1)
    earlier = [f for f in six.lead.state().facts if f.kind == "survey.response"]
    assert now.result.earlier is not None
    assert sorted(f.id for f in now.result.earlier) == sorted(f.id for f in earlier)
    before_rule = replace(now, result=replace(now.result, evidence=now.result.earlier))
    assert saw_the_same(after, evidence_hash([before_rule]))


def _keen_exit(six: Pilot) -> tuple[int, frozenset[int]]:
    """:func:`_surveyed`'s answers, play 4 exiting on them while the survey is still open (four
    of six count, carl's left out): its mark, and the facts its exit event names. A day later
    bob, asked again, answers "somewhat": by today's rule three of six are keen."""
    _type_use(six, "carl", ("2026-11-10", "2026-11-12"))
    six.clock.now = at("2026-11-16T09:00")
    open_survey(six.lead, at("2026-11-20T17:00"))
    for person in ("bob", "pia", "dora", "eve", "carl"):
        answer_survey(six.people[person], "very")
    (at_exit,) = _checked(six, None)
    assert at_exit.result.outcome is Outcome.PASS, at_exit.result.reason
    assert at_exit.result.reason.startswith("4 of 6"), at_exit.result.reason
    mark = six.lead.state().head_seq
    six.clock.now = at("2026-11-17T09:00")
    answer_survey(six.people["bob"], "somewhat")
    return mark, frozenset(f.id for f in at_exit.result.evidence)


def test_an_answer_the_exit_left_out_does_not_stand_in_once_today_s_rule_falls_short(
    six: Pilot,
) -> None:
    """Play 4 exits by today's rule on four answers, carl's (no signed use) left out. bob
    answers again, cooler: three of six. The rule before (every answer by the exit's mark)
    would count carl's answer now and keep the pilot keen; the exit was not judged on it, so
    it stays out and the check no longer passes."""
    mark, judged = _keen_exit(six)
    (now,) = _checked(six, mark, judged)
    assert now.result.outcome is not Outcome.PASS, now.result.reason
    assert now.result.reason.startswith("3 of 6"), now.result.reason
    assert "the answers of carl" in now.result.reason, now.result.reason


# -- play 5: the ticket its exit was not judged on ---------------------------------------------

#: play 5's ticket check
TICKET = "ticket-resolved-without-builder"


def test_a_fix_nobody_confirmed_by_the_exit_does_not_stand_in_once_the_confirmed_one_breaks(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """pia hits two problems with bob's triage prompt and files both; lena resolves both and
    pia confirms one fix. Play 5 exits on it, by today's rule (the opener's confirmation
    asked), its exit event naming the facts it was judged on. Days later the confirmed one
    breaks again and pia reopens it: play 5's ticket check no longer holds. The other ticket,
    whose fix pia never confirmed, does not stand in: the exit was not judged on it, so the
    rule before (no confirmation asked) does not spare it."""
    pia = pilot.people["pia"]
    clock = pilot.clock
    first = open_ticket(pia, "triage returns nothing", category="it-broke",
                        component="prompt:triage")  # fmt: skip
    second = open_ticket(pia, "triage drops the ticket's title", category="it-broke",
                         component="prompt:triage")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(lena, first.id, note="the template lost its variable")
    resolve_ticket(lena, second.id, note="the title is passed again")
    clock.advance(hours=1)
    confirm_fix(pia, first.id, text="works again")
    exit_at = lena.state().head_seq  # play 5 exits here, as the check sees it
    result = _judge(lena, TICKET)  # what the exit is judged on
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{first.id} resolved by lena" in result.reason, result.reason
    judged = frozenset(f.id for f in result.evidence)  # what the exit event names
    clock.advance(days=3)
    reopen_ticket(pia, first.id, reason="empty again")
    result = _judge(lena, TICKET, exited=("support",), exited_at=exit_at, judged=judged)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"{second.id} resolved by lena; pia, who opened it, has not confirmed" in result.reason


def test_an_exit_recorded_before_exits_named_their_facts_keeps_every_fix_by_its_mark(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """The same log, its play 5 exit recorded before exit events named the facts they were
    judged on (a program already running): the rule before still spares every resolution made
    by the exit, as it did, so the exit's ticket check holds on the unconfirmed fix."""
    pia = pilot.people["pia"]
    first = open_ticket(pia, "triage returns nothing", category="it-broke",
                        component="prompt:triage")  # fmt: skip
    second = open_ticket(pia, "triage drops the ticket's title", category="it-broke",
                         component="prompt:triage")  # fmt: skip
    pilot.clock.advance(hours=1)
    resolve_ticket(lena, first.id, note="the template lost its variable")
    resolve_ticket(lena, second.id, note="the title is passed again")
    pilot.clock.advance(hours=1)
    confirm_fix(pia, first.id, text="works again")
    exit_at = lena.state().head_seq
    pilot.clock.advance(days=3)
    reopen_ticket(pia, first.id, reason="empty again")
    result = _judge(lena, TICKET, exited=("support",), exited_at=exit_at)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{second.id} resolved by lena" in result.reason, result.reason
    assert "exited before the opener's confirmation was asked for" in result.reason
