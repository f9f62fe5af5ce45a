"""The "would you miss it" survey: Sean Ellis's question, asked of the pilot.

"How would you feel if you could no longer use it?" — *very disappointed*, *somewhat
disappointed*, *not disappointed*, or *I no longer use it* — and "what is the main benefit?" in
the person's own words. A rollout lead opens one survey at a time, until a closing time. Each
answer is its person's own signed word (recorded with the ``inhouse survey`` collector, signed
by the key of the person it names; nobody answers for someone else), and only members who used
the tool on at least two distinct days in the last fourteen may answer: Ellis asks people who
know the product, not people who tried it once. Their use is read from the gateway's usage log
(:mod:`inhouse.usage`). A second answer replaces the first.

The results, by role track, show the share *very disappointed* beside Ellis's 40 % benchmark
and beside the playbook's share for ``pilot-would-resist-losing`` ("most": more than half of
the pilot), which is what play 4's exit reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput, NotAllowed
from inhouse.pilot.adoption import check_params
from inhouse.plaintext import check_plain
from inhouse.program.checks import evaluate
from inhouse.program.facts import Fact, Provenance
from inhouse.program.playbook import Role
from inhouse.program.playchecks.pilot import ELIGIBLE_DAYS, ELIGIBLE_WINDOW_DAYS, unused_answer
from inhouse.usage import active_days

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.checks import CheckContext

__all__ = [
    "ANSWERS",
    "BENCHMARK",
    "BENEFIT_QUESTION",
    "CHECK",
    "COLLECTOR",
    "ELIGIBLE_DAYS",
    "ELIGIBLE_WINDOW_DAYS",
    "QUESTION",
    "Answer",
    "Benefit",
    "Eligibility",
    "GroupResult",
    "Survey",
    "SurveyResults",
    "answer_survey",
    "awaiting_answers",
    "current_survey",
    "eligibility",
    "open_survey",
    "own_answer",
    "survey_results",
    "surveys",
]

COLLECTOR = "inhouse survey"
CHECK = "pilot-would-resist-losing"
QUESTION = "How would you feel if you could no longer use it?"
BENEFIT_QUESTION = "What is the main benefit you get from it?"
#: Ellis's benchmark: a product people would be very disappointed to lose, at 40 % or more
BENCHMARK = 0.40
#: who may answer: used it on ELIGIBLE_DAYS distinct days in the last ELIGIBLE_WINDOW_DAYS (play
#: 4's check asks the same of the gateway's signed daily usage: one rule, kept there)


class Answer(StrEnum):
    VERY = "very"
    SOMEWHAT = "somewhat"
    NOT = "not"
    NO_LONGER_USE = "no-longer-use"


ANSWERS: dict[Answer, str] = {
    Answer.VERY: "very disappointed",
    Answer.SOMEWHAT: "somewhat disappointed",
    Answer.NOT: "not disappointed",
    Answer.NO_LONGER_USE: "I no longer use it",
}


@dataclass(frozen=True)
class Survey:
    """One survey, as its ``survey.opened`` fact records it."""

    name: str
    closes: datetime
    opened_at: datetime
    opened_by: str
    fact: int

    def is_open(self, now: datetime) -> bool:
        return now < self.closes

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey": self.name,
            "closes": self.closes.isoformat(),
            "opened_at": self.opened_at.isoformat(),
            "opened_by": self.opened_by,
            "fact": self.fact,
        }


@dataclass(frozen=True)
class Eligibility:
    """Whether ``person`` may answer now, and why."""

    person: str
    member: bool
    track: str | None
    active_days: int  # distinct days with answered requests through their own key
    since: date
    until: date

    @property
    def eligible(self) -> bool:
        return self.member and self.active_days >= ELIGIBLE_DAYS

    @property
    def reason(self) -> str:
        if not self.member:
            return (
                f"only pilot members answer the survey; {self.person} is not in the pilot "
                "(a rollout lead adds members with `inhouse pilot add`)"
            )
        days = f"{self.active_days} day" + ("" if self.active_days == 1 else "s")
        used = f"{self.person} used it on {days} from {self.since} to {self.until}"
        if self.eligible:
            return used
        return (
            f"only members who used the tool on at least {ELIGIBLE_DAYS} distinct days in the "
            f"last {ELIGIBLE_WINDOW_DAYS} answer (Sean Ellis's rule: ask people who know it): "
            f"{used}, through their own gateway key"
        )


@dataclass(frozen=True)
class GroupResult:
    """The answers of one role track's members (or of the whole pilot, track ``*``)."""

    track: str
    members: int
    counts: dict[str, int]  # per answer, every answer listed

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def very(self) -> int:
        return self.counts[Answer.VERY.value]

    @property
    def very_share(self) -> float | None:
        """Very disappointed, of those who answered (how Ellis counts)."""
        return self.very / self.answered if self.answered else None

    @property
    def pilot_share(self) -> float:
        """Very disappointed, of all the members (what the playbook's "most" counts)."""
        return self.very / self.members if self.members else 0.0

    def to_dict(self) -> dict[str, Any]:
        share = self.very_share
        return {
            "track": self.track,
            "members": self.members,
            "answered": self.answered,
            "counts": dict(self.counts),
            "very_share": None if share is None else round(share, 4),
            "pilot_share": round(self.pilot_share, 4),
        }


@dataclass(frozen=True)
class Benefit:
    track: str
    answer: str
    text: str


@dataclass(frozen=True)
class SurveyResults:
    """A survey's results by role track, beside Ellis's benchmark and the playbook's share."""

    survey: Survey
    open: bool
    share: float  # the playbook's: more than this share of the pilot must be very disappointed
    groups: tuple[GroupResult, ...]
    pilot: GroupResult
    benefits: tuple[Benefit, ...]
    uncounted: tuple[tuple[int, str], ...]  # answers that do not count: (fact id, why)
    #: why play 4's check no longer counts this survey (opened too long ago), and what to
    #: run; None while it counts it (or play 4 exited on it)
    too_old: str | None = None
    #: the survey play 4's check reads: the latest a rollout lead opened
    judged: str | None = None
    #: where this is an older survey, that play 4's check does not read it (None: it is the
    #: one it reads): an older survey's kinder answers are no evidence for play 4
    not_judged: str | None = None

    @property
    def meets_benchmark(self) -> bool:
        share = self.pilot.very_share
        return share is not None and share >= BENCHMARK

    @property
    def most(self) -> bool:
        return self.pilot.pilot_share > self.share

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.survey.to_dict(),
            "open": self.open,
            "question": QUESTION,
            "benchmark": BENCHMARK,
            "share": self.share,
            "meets_benchmark": self.meets_benchmark,
            "most": self.most,
            "tracks": [g.to_dict() for g in self.groups],
            "pilot": self.pilot.to_dict(),
            "benefits": [
                {"track": b.track, "answer": b.answer, "benefit": b.text} for b in self.benefits
            ],
            "uncounted": [{"fact": fact, "why": why} for fact, why in self.uncounted],
            "too_old": self.too_old,
            "judged": self.judged,
            "not_judged": self.not_judged,
        }


# -- opening ---------------------------------------------------------------------------------------


def surveys(program: Program, now: datetime | None = None) -> list[Survey]:
    """Every survey a rollout lead opened, oldest first (only ``survey.opened`` facts that count,
    signed by someone who held the role when they signed it): the surveys play 4's
    ``pilot-would-resist-losing`` judges. One appended by anyone else around `survey open` is
    no survey to answer: an answer to it would count for nothing."""
    return [_survey(fact) for fact in _opened(_context(program, now))]


def current_survey(program: Program, now: datetime | None = None) -> Survey | None:
    """The latest survey opened, open or closed (judged at ``now``: default, the clock's)."""
    found = surveys(program, now)
    return found[-1] if found else None


def open_survey(program: Program, closes: datetime) -> Survey:
    """Open a survey until ``closes`` (a rollout lead; one open survey at a time)."""
    who = program.whoami()
    if Role.ROLLOUT_LEAD not in who.roles:
        raise NotAllowed(f"only a rollout lead opens a survey; {who.name} is not one")
    now = program.clock()
    if closes.tzinfo is None:
        closes = closes.replace(tzinfo=UTC)
    if closes <= now:
        raise InvalidInput(f"a survey must close after now; {closes:%Y-%m-%d %H:%M} is past")
    found = surveys(program)
    if found and found[-1].is_open(now) and not _too_old(program, found[-1], now):
        latest = found[-1]
        raise NotAllowed(
            f"survey {latest.name} is still open (it closes {latest.closes:%Y-%m-%d %H:%M} "
            "UTC): one survey at a time"
        )
    # never a name opened before, by anyone: an answer names its survey by name
    every = [str(f.payload["survey"]) for f in _context(program).facts.of("survey.opened")]
    numbers = [n.removeprefix("ellis-") for n in every if n.startswith("ellis-")]
    taken = [int(n) for n in numbers if n.isdigit()]
    name = f"ellis-{max([len(found), *taken]) + 1}"
    fact = program.record_fact(
        None,
        "survey.opened",
        {"survey": name, "closes": closes.astimezone(UTC).isoformat()},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
    return _survey(fact)


def _too_old(program: Program, survey: Survey, now: datetime) -> bool:
    """Whether ``survey``, still open, was opened too long ago to speak for the pilot (play
    4's check no longer counts it): a lead may open the next one, else a survey whose lead set
    its closing years ahead would keep every later one out."""
    from inhouse.program.playchecks.pilot import SURVEY_FRESH_DAYS, survey_stale

    fresh = int(
        check_params(program.playbook, CHECK, {"fresh_days": SURVEY_FRESH_DAYS})["fresh_days"]
    )
    return survey_stale(survey.opened_at, now, fresh)


# -- answering -------------------------------------------------------------------------------------


def eligibility(
    program: Program, person: str | None = None, now: datetime | None = None
) -> Eligibility:
    """Whether ``person`` (default: this shell's key holder) may answer at ``now`` (default:
    the clock's): a pilot member with use through their own key on at least two distinct days
    in the last fourteen."""
    from inhouse.program.counting import build_context, not_their_fetch

    name = person or program.whoami().name
    state = program.state()
    when = program.clock() if now is None else now
    context = build_context(state, when)
    added = _members(context).get(name)
    until = when.astimezone(UTC).date()
    since = until - timedelta(days=ELIGIBLE_WINDOW_DAYS - 1)
    # their own key's use as the gateway's rollup counts it, which play 4's check reads: not
    # an agent's, nor a key fetched in their name by a key that never signed in as them
    mine = not_their_fetch(state) if added else frozenset()
    days = (
        len(active_days(program.store, [name], since=since, until=until, not_own=mine))
        if added
        else 0
    )
    return Eligibility(
        person=name,
        member=added is not None,
        track=str(added.payload["track"]) if added else None,
        active_days=days,
        since=since,
        until=until,
    )


def answer_survey(
    program: Program, answer: Answer | str, benefit: str = "", *, person: str | None = None
) -> Fact:
    """Record this shell's key holder's answer to the open survey, signed by them. ``person``,
    when given, must be that key holder: nobody answers for someone else."""
    check_plain(benefit, what="the benefit")
    who = program.whoami()
    if person is not None and person != who.name:
        raise NotAllowed(
            f"{who.name} cannot answer for {person}: a survey answer counts only as its "
            f"person's own word, signed with their key; {person} runs `inhouse survey answer`"
        )
    try:
        chosen = Answer(answer)
    except ValueError:
        raise InvalidInput(
            f"no answer {answer!r}: use {', '.join(a.value for a in Answer)}"
        ) from None
    survey = current_survey(program)
    if survey is None:
        raise NotAllowed(
            "no survey is open: a rollout lead opens one with `inhouse survey open --closes DATE`"
        )
    if not survey.is_open(program.clock()):
        raise NotAllowed(
            f"survey {survey.name} closed on {survey.closes:%Y-%m-%d %H:%M} UTC; answers are "
            "taken only while a survey is open"
        )
    allowed = eligibility(program, who.name)
    if not allowed.eligible:
        raise NotAllowed(allowed.reason)
    return program.record_fact(
        None,
        "survey.response",
        {
            "person": who.name,
            "would_resist_losing": chosen is Answer.VERY,
            "survey": survey.name,
            "answer": chosen.value,
            "benefit": benefit.strip(),
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def own_answer(program: Program, now: datetime | None = None) -> Fact | None:
    """This shell's key holder's latest answer to the latest survey that counts at ``now``
    (default: the clock's; None: none)."""
    when = program.clock() if now is None else now
    survey = current_survey(program, when)
    if survey is None:
        return None
    me = program.whoami().name
    return _context(program, when).facts.latest(
        "survey.response",
        lambda f: f.payload.get("survey") == survey.name and f.payload["person"] == me,
    )


def awaiting_answers(program: Program, now: datetime | None = None) -> list[str]:
    """The pilot members who may answer the open survey at ``now`` (default: the clock's;
    ``eligibility``) and have no answer to it that counts yet (an answer a dashboard session
    signed without its person's approval does not); empty when no survey is open."""
    when = program.clock() if now is None else now
    survey = current_survey(program, when)
    if survey is None or not survey.is_open(when):
        return []
    context = _context(program, when)
    answered = {
        str(fact.payload["person"])
        for fact in context.facts.of("survey.response")
        if fact.payload.get("survey") == survey.name
    }
    return [
        person
        for person in sorted(_members(context))
        if person not in answered and eligibility(program, person, when).eligible
    ]


# -- results ---------------------------------------------------------------------------------------


def survey_results(
    program: Program, survey: str | None = None, now: datetime | None = None
) -> SurveyResults:
    """``survey``'s results (default: the latest), by role track, at ``now`` (default: the
    clock's): each member's latest own answer counts; answers signed by someone else are
    listed as not counted."""
    when = program.clock() if now is None else now
    context = _context(program, when)
    facts = _opened(context)
    opened = [_survey(fact) for fact in facts]
    if not opened:
        raise InvalidInput("no survey yet: a rollout lead opens one with `inhouse survey open`")
    chosen = opened[-1] if survey is None else next((s for s in opened if s.name == survey), None)
    if chosen is None:
        names = ", ".join(s.name for s in opened)
        raise InvalidInput(f"no survey {survey!r}; surveys: {names}")
    added = _members(context)
    tracks = {person: str(fact.payload["track"]) for person, fact in added.items()}
    latest: dict[str, Fact] = {}
    for fact in context.facts.of("survey.response"):
        person = str(fact.payload["person"])
        if fact.payload.get("survey") == chosen.name and person in tracks:
            latest[person] = fact
    params = check_params(program.playbook, CHECK, {"share": 0.5})
    judged = context.with_params(params)
    uncounted = tuple(
        (item.fact.id, item.why)
        for item in context.uncounted
        if item.fact.kind == "survey.response" and item.fact.payload.get("survey") == chosen.name
    ) + _unused(context, latest, _kept(judged, latest=chosen is opened[-1]))
    groups = tuple(
        _group(track, [p for p, t in tracks.items() if t == track], latest)
        for track in sorted(set(tracks.values()))
    )
    benefits = tuple(
        Benefit(tracks[person], _answer(fact), str(fact.payload.get("benefit", "")))
        for person, fact in sorted(latest.items(), key=lambda item: (tracks[item[0]], item[1].id))
        if str(fact.payload.get("benefit", "")).strip()
    )
    share = float(params["share"])
    return SurveyResults(
        survey=chosen,
        open=chosen.is_open(when),
        share=share,
        groups=groups,
        pilot=_group("*", list(tracks), latest),
        benefits=benefits,
        uncounted=uncounted,
        too_old=_too_old_to_count(judged, facts[opened.index(chosen)])
        if chosen is opened[-1]
        else None,
        judged=opened[-1].name,
        not_judged=None if chosen is opened[-1] else _not_judged(chosen, opened[-1]),
    )


def _kept(context: CheckContext, *, latest: bool) -> Callable[[Fact], bool]:
    """Which answers an exited play 4's check counts though they rest on no signed use: where
    today's rule falls short, those the exit was judged on (its earlier rule), and only then;
    the check decides (a pass by today's rule counts none). For a survey the check does not
    read (an older one), those the exit was judged on (:meth:`CheckContext.spared`)."""
    if "pilot" not in context.exited:
        return _none
    if not latest:
        return lambda fact: context.spared("pilot", fact)
    counted = frozenset(fact.id for fact in evaluate(CHECK, context).evidence)
    return lambda fact: fact.id in counted


def _none(fact: Fact) -> bool:
    return False


def _unused(
    context: CheckContext, latest: dict[str, Fact], kept: Callable[[Fact], bool]
) -> tuple[tuple[int, str], ...]:
    """The answers in ``latest`` play 4's check does not count, for no use of their person's
    the gateway signed (:func:`~inhouse.program.playchecks.pilot.unused_answer`), taken out of
    it, each with why: the results show the pilot as the check hears it. Not asked of the
    answers ``kept`` (:func:`_kept`: those an exited play 4's check still counts by the rule
    it exited on), as the check does not ask it of them."""
    found = []
    for person, fact in sorted(latest.items()):
        if not kept(fact) and unused_answer(context, fact) is not None:
            del latest[person]
            found.append((
                fact.id,
                f"{person}'s own use through the gateway is signed (`inhouse gateway rollup`) on "
                f"fewer than {ELIGIBLE_DAYS} of the {ELIGIBLE_WINDOW_DAYS} days before they "
                "answered: an answer counts from someone who used the tool",
            ))  # fmt: skip
    return tuple(found)


def _not_judged(shown: Survey, latest: Survey) -> str:
    """What to say of an older survey's results: play 4's check reads only the latest."""
    opened = latest.opened_at.astimezone(UTC)
    return (
        f"play 4's check ({CHECK}) reads only the latest survey a rollout lead opened, "
        f"{latest.name} (fact #{latest.fact}, opened {opened:%Y-%m-%d}); these are "
        f"{shown.name}'s answers, which it does not count (`inhouse survey results` shows the "
        "latest)"
    )


def _too_old_to_count(context: CheckContext, opened: Fact) -> str | None:
    """Why play 4's survey check no longer counts the latest survey, by its own rule."""
    from inhouse.program.playchecks.pilot import survey_too_old

    return survey_too_old(context, opened)


def _group(track: str, people: list[str], latest: dict[str, Fact]) -> GroupResult:
    counts = {answer.value: 0 for answer in Answer}
    for person in people:
        fact = latest.get(person)
        if fact is not None and _answer(fact) in counts:
            counts[_answer(fact)] += 1
    return GroupResult(track=track, members=len(people), counts=counts)


def _answer(fact: Fact) -> str:
    return str(fact.payload.get("answer") or "")


# -- reading ---------------------------------------------------------------------------------------


def _context(program: Program, now: datetime | None = None) -> CheckContext:
    from inhouse.program.counting import build_context

    return build_context(program.state(), program.clock() if now is None else now)


def _opened(context: CheckContext) -> list[Fact]:
    """The ``survey.opened`` facts a rollout lead signed while holding the role, oldest first
    (as play 4's survey check reads them)."""
    from inhouse.program.playchecks.pilot import lead_then

    return [fact for fact in context.facts.of("survey.opened") if lead_then(context, fact)]


def _members(context: CheckContext) -> dict[str, Fact]:
    from inhouse.program.playchecks.pilot import members

    return members(context)


def _survey(fact: Fact) -> Survey:
    closes = datetime.fromisoformat(str(fact.payload["closes"]))
    return Survey(
        name=str(fact.payload["survey"]),
        closes=closes if closes.tzinfo else closes.replace(tzinfo=UTC),
        opened_at=fact.at,
        opened_by=fact.by,
        fact=fact.id,
    )
