"""Play 6, measure and iterate: use beyond the pilot, indicators, findings fed back."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse import figures
from inhouse.program.checks import (
    LEAD_RUNS_THEN,
    OWN_USE,
    CheckContext,
    Outcome,
    Result,
    failed,
    passed,
    register_check,
)
from inhouse.program.facts import (
    Fact,
    FactSet,
    daily_usage,
    latest_usage,
    standing_usage,
)
from inhouse.program.feedback import describe_change, fold_findings, prompt_confirmers
from inhouse.program.lagging_words import (
    READS,
    latest_economics,
    local_rate,
    minutes_estimates,
    prices_in_force,
    signed_runs,
    trial_minutes,
    whose_words,
)
from inhouse.program.playchecks._shared import (
    RunsApart,
    enrolled_elsewhere,
    hosts_of,
    inside_before,
    insiders,
    names,
    not_apart_from_leads,
    not_counted,
    one_per_machine,
    services_enrolled_by,
    split_aside,
)

if TYPE_CHECKING:
    from inhouse.program.playbook import Playbook

# the checks are reached through the registry; the signed totals are what the dashboard shows
__all__ = [
    "SignedTotals",
    "calendar_period",
    "period_refused",
    "reported_period_days",
    "signed_totals",
]


# -- play 6: measure -------------------------------------------------------------------------------


@register_check("use-beyond-pilot", reads=("usage.daily", "pilot.member"))
def use_beyond_pilot(ctx: CheckContext) -> Result:
    """People outside the program (who never held a role in it, were never added to the pilot
    nor let into it by a gateway key, and own no play, enrolled from machines of their own,
    never the gateway's host once an insider enrolled its key there) use
    it through the gateway, with a key of their own (an agent's requests are nobody's use; a day
    signed before the gateway counted own-key requests counts as before; a day the gateway
    signed again is read as it last signed it), on days
    after support and governance were in place (play 5 exited). Use before, or on the day it
    exited, is the pilot's; a role taken away since does not make a former insider a new user."""
    today = _use_beyond(ctx, _nothing_spared)
    if "measure" not in ctx.exited:
        return today

    # a play 6 that exited before a person's use had to be through a key of their own keeps
    # that rule for the days it was judged on (an exit that says it was judged by today's
    # rule spares none: OWN_USE), asked only where today's falls short. Today's first: an
    # exit judged by it hashed the days it counts, and an agent's use on a day it cited (the
    # indicators' usage) is no more anyone's for the exit having happened
    def judged(fact: Fact) -> bool:
        return ctx.spared("measure", fact, rule=OWN_USE)

    before = _use_beyond(ctx, judged)
    if today.outcome is Outcome.PASS:
        if before.outcome is Outcome.PASS and before.evidence != today.evidence:
            return replace(today, earlier=before.evidence)  # what such an exit hashed
        return today
    return before if before.outcome is Outcome.PASS else today


def _nothing_spared(fact: Fact) -> bool:
    return False


def _use_beyond(ctx: CheckContext, spare: Callable[[Fact], bool]) -> Result:
    """:func:`use_beyond_pilot` judged with every asking person of the days ``spare`` names
    counted as before (whoever asked, an agent's key or not)."""
    inside = insiders(ctx)
    since = ctx.exited.get("support")
    after = since[0].date().isoformat() if since is not None else None
    usage: dict[int, Fact] = {}
    people, early, users, agents = set(), set(), set(), set()
    for day, readings in _readings(ctx, spare).items():
        for person, (fact, spared, totals) in readings.items():
            if int(totals.get("requests", 0)) <= 0:
                continue
            users.add(person)
            # a person's use is through a key of their own: their agent's (a key granted with
            # `--agent`) runs whatever its tool is pointed at, so one person could make it
            # "use" the tool under any name. A day signed before the rollup counted ``own``
            # counts as before, and so does one ``spare`` names (an earlier rule a play 6 exit
            # kept)
            own = totals.get("own")
            if person in inside:
                continue
            if not (spared or own is None or int(own) > 0):
                agents.add(person)
            elif after is None or day <= after:
                early.add(person)
            else:
                usage[fact.id] = fact
                people.add(person)
    # beyond the pilot means elsewhere too: a "user" whose keys were enrolled from an insider's
    # machine, or from another such user's, is not one more person; nor one whose key was made
    # on the gateway's host once an insider enrolled its key there (whoever runs it holds the
    # key files made there, and sends what it likes through their gateway keys), as plays 4
    # and 5 judge such a key
    hosts = services_enrolled_by(ctx, inside)
    counted, aside = one_per_machine(ctx, people, inside, services=hosts)
    notes = [
        f"{why}: inside the program once, not a new user"
        for why in inside_before(ctx, users).values()
    ]
    if early - people:
        when = (
            f"only on or before {after}, the day play 5 (support) exited: use beyond the pilot "
            "counts from the day after"
            if after
            else "before play 5 (support) exited"
        )
        notes.append(f"{names(sorted(early - people))}, who used it {when}")
    if agents - people - early:
        notes.append(
            f"{names(sorted(agents - people - early))}, whose requests came only through "
            f"{ctx.not_own_key()}: a person's use counts through a key of "
            "their own"
        )
    aside, unsigned = split_aside(ctx, aside, inside)
    if unsigned:
        notes.append(unsigned)
    on_hosts = f", or {hosts_of(hosts)}, where one inside enrolled its key" if hosts else ""
    if aside:
        notes.append(
            f"{names(aside)}, enrolled from a machine someone inside or another of them "
            f"enrolled from first{on_hosts}"
        )
    note = not_counted(notes)
    if since is None:
        note = f"; play 5 (support) has not exited: use counts from the day after it does{note}"
    wanted = int(ctx.param("min_people", 1))
    shown = [usage[i] for i in sorted(usage)]
    # "1 person ... uses it", "0 people ... use it"
    who = f"{figures.count(len(counted), 'people')} beyond the pilot {_use(len(counted))} it"
    if len(counted) >= wanted:
        return passed(f"{who}{note}", *shown)
    return failed(f"{who}; need {wanted}{note}", *shown)


def _use(count: int) -> str:
    """The verb for ``count`` people: one person uses, any other number use."""
    return "uses" if count == 1 else "use"


def _readings(
    ctx: CheckContext, spare: Callable[[Fact], bool]
) -> dict[str, dict[str, tuple[Fact, bool, dict[str, Any]]]]:
    """Per day, each person's reading in the gateway's signed daily usage, and whether an
    earlier rule kept for play 6 decides it: the latest reading stands (a day re-signed
    replaces what an earlier fact said of it, :func:`inhouse.program.facts.latest_usage`),
    except that a fact ``spare`` names (one play 6's exit was judged on, under the earlier
    rules) is read as it was then, every reading in it, superseded or not."""
    found: dict[str, dict[str, tuple[Fact, bool, dict[str, Any]]]] = {}
    facts = ctx.facts.of("usage.daily")
    for day, readings in standing_usage(facts).items():
        found[day] = {p: (fact, spare(fact), totals) for p, (fact, totals) in readings.items()}
    for fact in facts:
        if not spare(fact):
            continue
        kept = found.setdefault(str(fact.payload["day"]), {})
        for person, totals in daily_usage(fact).items():
            standing = kept.get(person)
            if totals["requests"] > 0 and (
                standing is None or not standing[1] or int(standing[2].get("requests", 0)) <= 0
            ):
                kept[person] = (fact, True, dict(totals))
    return found


@dataclass(frozen=True)
class SignedTotals:
    """The gateway's signed daily usage over a span, as play 6's checks (and the dashboard)
    count it: the latest totals per (day, person), summed, and the facts they rest on."""

    facts: list[Fact]  # those whose totals stand for someone, in log order
    requests: int
    tokens_in: int
    tokens_out: int
    people: frozenset[str]  # those with answered requests (every key's, agents' included)
    #: those of ``people`` active: answered through a key of their own on some day, or on a
    #: day whose fact does not say whose key (signed before the rollup counted ``own``); an
    #: agent's use makes nobody active
    active: frozenset[str] = frozenset()
    #: each workflow's runs (by name: ``triage@2`` is ``triage``'s) the gateway's key signed,
    #: the requests that named it; none in days signed before the rollup counted them
    runs: dict[str, int] = field(default_factory=dict)
    #: those runs per person whose requests they were (person -> workflow -> runs)
    runs_by: dict[str, dict[str, int]] = field(default_factory=dict)
    #: those runs per person and day (person -> ISO day -> workflow -> runs)
    runs_on: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def runs_apart(self, apart: RunsApart) -> dict[str, int]:
        """Each workflow's runs (by name) the gateway's key signed that count as someone's
        other than the rollout leads' (``apart``: exit rules 23 and 34)."""
        found: dict[str, int] = {}
        for person, days in self.runs_on.items():
            for day, ran in days.items():
                for name, count in apart.runs(person, day, ran).items():
                    found[name] = found.get(name, 0) + count
        return found

    def runs_of(self, counted: Callable[[str], bool]) -> dict[str, int]:
        """Each workflow's runs (by name) the gateway's key signed through the requests of the
        people ``counted`` says count."""
        found: dict[str, int] = {}
        for person, ran in self.runs_by.items():
            if counted(person):
                for name, count in ran.items():
                    found[name] = found.get(name, 0) + count
        return found


def signed_totals(facts: FactSet, first: str, last: str) -> SignedTotals:
    """The gateway's signed totals from ``first`` to ``last`` (ISO days), from the counted
    ``usage.daily`` facts of ``facts``: a rollup records a new fact when a day's totals change,
    so the latest per (day, person) stands (:func:`inhouse.program.facts.latest_usage`)."""
    standing: list[Fact] = []
    requests = tokens_in = tokens_out = 0
    people: list[str] = []
    active: list[str] = []
    runs: dict[str, int] = {}
    runs_by: dict[str, dict[str, int]] = {}
    runs_on: dict[str, dict[str, dict[str, int]]] = {}
    for day, (day_people, day_facts) in latest_usage(facts.of("usage.daily"), first, last).items():
        standing.extend(day_facts)
        # one pass over the facts' own totals: a department's month is ~60,000 person-days,
        # and a record of each (what was read before) took most of the time
        for person, totals in day_people.items():
            asked = int(totals.get("requests", 0))
            requests += asked
            tokens_in += int(totals.get("tokens_in", 0))
            tokens_out += int(totals.get("tokens_out", 0))
            for name, count in signed_runs(totals).items():
                runs[name] = runs.get(name, 0) + count
                ran = runs_by.setdefault(str(person), {})
                ran[name] = ran.get(name, 0) + count
                runs_on.setdefault(str(person), {}).setdefault(day, {})[name] = count
            if asked > 0:
                people.append(str(person))
                own = totals.get("own")
                if own is None or int(own) > 0:
                    active.append(str(person))
    standing.sort(key=lambda fact: fact.id)
    return SignedTotals(
        standing,
        requests,
        tokens_in,
        tokens_out,
        frozenset(people),
        frozenset(active),
        runs,
        runs_by,
        runs_on,
    )


@register_check("indicators-reported", reads=("indicators.report", "usage.daily"))
def indicators_reported(ctx: CheckContext) -> Result:
    """Leading and lagging indicators were reported for a whole period that ended recently (one
    period the calendar fixes: a month, or a calendar quarter where the period is one; never a
    span of months that sums earlier use into it, nor a span of days its reporter placed; the
    latest period reported, whenever its report was recorded), in which the gateway signed
    daily usage of someone other than the rollout leads (a lead runs its host and confirms her
    own days); the report's active people, answered requests and input and output tokens are
    all there and match that usage, and it counts no more people beyond the pilot than that
    usage shows answered through keys of their own outside the program. Its lagging figures
    follow, by the report's formula, from the words the log held when it was recorded (the
    reference prices in force, play 1's trial's economics, a workflow author's minutes saved)
    and that usage's tokens and workflow runs (the requests that named each workflow, as the
    gateway's key signed them: never the runs the report lists): a figure with no such word
    behind it is its reporter's alone. The report's other figures are its reporter's, and its
    lagging ones rest on people's word (prices, named with whose they are; minutes saved) and
    on the usage log's unsigned busy time."""
    period = timedelta(days=int(ctx.param("period_days", _REPORTED_DAYS)))
    whole = [f for f in ctx.facts.of("indicators.report") if not f.payload.get("partial")]
    if not whole:
        partial = ctx.facts.latest("indicators.report")
        if partial is not None:
            return failed(
                f"only a partial period was reported ({partial.payload.get('period') or ''} had "
                "not ended): report a period that has ended",
                partial,
            )
        return failed("no indicators reported yet (`inhouse indicators report`)")
    # the report of the latest period that had ended when it was made, whenever it was recorded:
    # a window ending earlier, recorded after the last month's failing report, hid that month
    ended = [f for f in whole if _ended_when_made(f)]
    report = max(ended, key=lambda f: (_end(f), f.id)) if ended else whole[-1]
    start = date.fromisoformat(str(report.payload["period_start"]))
    end = date.fromisoformat(str(report.payload["period_end"]))
    if end >= report.at.date():
        return failed(
            f"the report of {start}..{end} was made on {report.at.date()}, before the period "
            "ended, though it does not say partial",
            report,
        )
    if ctx.now.date() - end > period:
        return failed(f"the last report ended {end}; it is overdue", report)
    # a program whose play 6 exited before these rules keeps its exit on the report it exited
    # on: one recorded since, or one recorded before that the exit was not judged on, is judged
    # by today's rule, else its reporter picks the day, or the span, of every report after the
    # exit (an exit recorded before exits named their facts spares every report by its mark)
    if (
        not ctx.spared("measure", report)
        and (why := period_refused(start, end, period.days)) is not None
    ):
        return failed(why, report)
    lagging = report.payload["lagging"] or {}
    if not report.payload["leading"] or not set(lagging) & set(_LAGGING):
        return failed(
            "the last report lacks leading or lagging indicators (a lagging one needs prices "
            "or minutes saved: see its inputs)",
            report,
        )
    # every figure the signed usage measures must be stated: one left out would go unjudged
    stated = _measurable(report.payload)
    missing = [f"{label} ({where})" for label, (where, values) in stated.items() if not values]
    if missing:
        return failed(
            f"the report of {start}..{end} lacks {', '.join(missing)}, which the gateway's "
            "signed usage measures: report with `inhouse indicators report`, which states them",
            report,
        )
    # the gateway's latest signed totals per (day, person): a rollup records a new fact when a
    # day's totals change, so the last one stands
    found = signed_totals(ctx.facts, start.isoformat(), end.isoformat())
    usage, signed = found.facts, found.active
    measured = {
        "answered requests": found.requests,
        "input tokens": found.tokens_in,
        "output tokens": found.tokens_out,
    }
    if not measured["answered requests"]:
        # the days may be rolled up but not count (a gateway key nobody could vouch for, use
        # nobody confirmed): asking for a rollup then sends the lead to run what they ran
        rolled = [
            item
            for item in ctx.uncounted_of(["usage.daily"])
            if start.isoformat() <= str(item.fact.payload.get("day", "")) <= end.isoformat()
        ]
        if rolled:
            more = f"; and {len(rolled) - 1} more" if len(rolled) > 1 else ""
            return failed(
                f"the log holds daily usage of {start}..{end}, but none of it counts (fact "
                f"#{rolled[0].fact.id}: {rolled[0].why}{more}): the report has nothing measured "
                "to stand on until it does",
                report,
                *usage,
            )
        return failed(
            f"the gateway signed no answered request in {start}..{end}: the report has nothing "
            "measured to stand on. Roll up the usage with the gateway's own key on the "
            "gateway's host (`inhouse gateway rollup` there), then report again",
            report,
            *usage,
        )
    # an agent's use shows in the daily usage but makes nobody active: the signed usage says
    # whose requests came through a key of their own (``own``), and a report counting a person
    # whose every request was an agent's counts someone nobody saw use it. Never more, maybe
    # fewer (a day signed before ``own`` was counted may have been an agent's alone)
    active = max(stated["active people"][1])
    if active > len(signed):
        agents = sorted(found.people - signed)
        through = (
            f"; {names(agents)} only through {ctx.not_own_key()}, which makes nobody active"
            if agents
            else ""
        )
        return failed(
            f"the report counts {active} active people in {start}..{end}, but the "
            f"gateway's signed daily usage shows {len(signed)} ({names(sorted(signed))}) "
            f"answered through a key of their own{through}: roll up the usage (`inhouse "
            "gateway rollup`) and report again (`inhouse indicators report` counts them so)",
            report,
            *usage,
        )
    # the people beyond the pilot are among those active: a person outside the program whose
    # requests the gateway signed through a key of their own. A report is its reporter's to
    # type, so one counting more (a lead's 40 colleagues "beyond the pilot", the tool used by
    # herself and her pilot) states what no usage shows. A report a play 6 exit was judged on
    # keeps its figure (the rule before). A figure that is no whole count (inf, nan: the
    # schema's float takes them) states more than any usage shows, not nothing
    typed = (report.payload.get("leading") or {}).get("people_beyond_pilot")
    beyond = _whole(typed)
    outside = sorted(signed - _inside_by(ctx, report.id))
    if (
        typed is not None
        and (beyond is None or beyond > len(outside))
        and not ctx.spared("measure", report)
    ):
        return failed(
            f"the report counts {typed if beyond is None else beyond} people beyond the pilot "
            f"in {start}..{end}, but the "
            f"gateway's signed daily usage shows {len(outside)} "
            f"({names(outside)}) outside the program answered through a "
            "key of their own (someone who holds or held a role, was added to the pilot or owns "
            "a play is inside it): roll up the usage (`inhouse gateway rollup`) and report again "
            "(`inhouse indicators report` counts them so)",
            report,
            *usage,
        )
    # the use is someone's other than the leads': a lead runs the gateway's host (its key signs
    # the rows she seals) and confirms her own days, so a period only she used (one request a
    # month, a row sealed in her own name, her bot's) reads as measured use of a tool nobody
    # else touched. Anyone else's use counts only on their own word (`inhouse usage confirm`),
    # their agent's included. A report a play 6 exit was judged on keeps the rule before
    not_apart = not_apart_from_leads(ctx)
    # a colleague made a lead since used it before she led (exit rule LEAD_RUNS_THEN)
    apart = RunsApart(ctx, old=ctx.spared("measure", report, rule=LEAD_RUNS_THEN))
    reasons = [
        None if apart.used_before(person, start.isoformat(), end.isoformat()) else not_apart(person)
        for person in sorted(found.people)
    ]
    if all(reasons) and not ctx.spared("measure", report):
        return failed(
            f"the gateway's signed daily usage of {start}..{end} shows only "
            f"{names(sorted(found.people))}'s use, none of it told apart from the rollout "
            f"leads' ({'; '.join(r for r in reasons if r)}): the gateway's host's operator "
            "seals its rows and a lead confirms her own days, so a period nobody else used "
            "has nothing measured to stand on. Report a period in which someone other than "
            "the leads used the tool",
            report,
            *usage,
        )
    for label, value in measured.items():
        wrong = next((v for v in stated[label][1] if v != value), None)
        if wrong is not None:
            return failed(
                f"the report counts {wrong} {label} in {start}..{end}, but the gateway's signed "
                f"daily usage shows {value}: roll up the usage (`inhouse gateway rollup`) and "
                "report again",
                report,
                *usage,
            )
    # its lagging figures follow from what the log recorded when it was (the prices in force,
    # the trial's economics, each workflow's minutes saved) and the signed tokens: a figure
    # typed from none of them rests on nobody's word but its reporter's. A report a play 6
    # exit was judged on keeps the rule before
    # (its workflow runs too: exit rule SIGNED_RUNS counts the gateway's signed ones)
    if not ctx.spared("measure", report) and (why := _lagging_refused(ctx, report, found, apart)):
        return failed(
            f"the report of {start}..{end} states {why}. A lagging figure counts where it "
            "follows from what the log records (reference prices, play 1's trial, a workflow "
            "author's minutes saved) and the gateway's signed tokens: report again (`inhouse "
            "indicators report` computes them so)",
            report,
            *usage,
        )
    return passed(
        f"period {start}..{end} reported; the gateway's signed usage shows "
        f"{measured['answered requests']} answered requests, {measured['input tokens']} input "
        f"and {measured['output tokens']} output tokens, through {len(found.people)} people's "
        f"keys, {len(signed)} of them their own (the report counts {active} active: an "
        "agent's use makes nobody active). "
        f"Not measured here: the report's other figures are as {report.by} recorded them, and "
        f"its lagging ones rest on people's word ({_whose_words(ctx, report)}) and on the "
        "usage log's unsigned busy time; its workflow runs are the gateway's signed ones",
        report,
        *usage,
    )


def _whose_words(ctx: CheckContext, report: Fact) -> str:
    """The words a passing report's lagging figures rest on, the prices named with whose they
    are (the price list's attester, or the trial's author): a price is a person's word."""
    before = ctx.facts_at(report, *READS)
    end = date.fromisoformat(str(report.payload["period_end"]))
    return f"{whose_words(before, end)}; minutes saved; a trial's cost inputs"


#: the lagging indicators ``inhouse indicators report`` computes, each from its inputs
_LAGGING = ("work_changed_hours", "spend_avoided", "reference_cost", "local_cost")


def _lagging_refused(
    ctx: CheckContext,
    report: Fact,
    found: SignedTotals,
    apart: RunsApart,
) -> str | None:
    """Why a lagging figure ``report`` states does not follow, by the report's formula, from
    the words the log held when it was recorded (:mod:`inhouse.program.lagging_words`) and the
    gateway's signed tokens (``found``), or None when each does. What only the usage log's
    summary tables hold (a workflow's runs, the busy time) is the report's own input, read as
    it states it: unsigned, and said so where the check passes. A workflow's runs are the
    gateway's signed ones (:data:`~inhouse.program.checks.SIGNED_RUNS`), never those it lists,
    and only those of people told apart from the rollout leads by the time they ran them
    (``apart``: :data:`~inhouse.program.checks.LEAD_RUNS`,
    :data:`~inhouse.program.checks.LEAD_RUNS_THEN`)."""
    before = ctx.facts_at(report, *READS)  # a quote lapsed since still priced it
    lagging = report.payload.get("lagging") or {}
    inputs = [i for i in report.payload.get("inputs") or [] if isinstance(i, dict)]
    prices = prices_in_force(before, date.fromisoformat(str(report.payload["period_end"])))
    trial = latest_economics(before)
    local = trial.payload["economics"].get("local") if trial is not None else None
    rate = sum(local_rate(local)) if local else None

    def given(indicator: str, name: str) -> float | None:
        """The report's input ``name`` under ``indicator`` (under any, where it lists it under
        none of that name)."""
        named = [i for i in inputs if i.get("name") == name]
        mine = [i for i in named if i.get("indicator") == indicator] or named
        return _number(mine[0].get("value")) if mine else None

    reference = None if prices is None else prices.cost(found.tokens_in, found.tokens_out)
    no_prices = (
        "no reference prices were recorded (a price snapshot, `inhouse indicators prices set`, "
        "or play 1's trial against an API)"
    )
    no_model = "no local cost model was recorded (play 1's trial records its cost inputs)"
    problems: list[str] = []
    for name in _LAGGING:
        if name not in lagging:
            continue
        value = _number(lagging[name])
        if value is None:
            problems.append(f"{name} {lagging[name]!r}, which is no number")
            continue
        said = f"{name} {value:g}"
        if name == "work_changed_hours":
            problems.extend(_work_refused(before, trial, inputs, value, found, apart))
            continue
        if name in ("reference_cost", "spend_avoided") and (prices is None or reference is None):
            problems.append(f"{said}, but {no_prices}")
            continue
        if name == "reference_cost":
            assert prices is not None and reference is not None
            if not _close(value, reference, 1e-6):
                problems.append(
                    f"{said}, but the signed tokens ({found.tokens_in} in, {found.tokens_out} "
                    f"out) at the prices of {prices.source} ({prices.input_per_mtok:g} and "
                    f"{prices.output_per_mtok:g} per 1M) come to {reference:g}"
                )
            continue
        if rate is None or local is None:
            problems.append(f"{said}, but {no_model}")
            continue
        busy = given(name, "busy time")
        if busy is None or busy < 0:
            problems.append(f"{said}, without the busy time it is priced from (an input)")
            continue
        cost = busy * rate
        slack = 1e-6 + 5e-7 * rate  # the busy time is listed to the millionth of an hour
        if name == "local_cost":
            if not _close(value, cost, slack):
                problems.append(
                    f"{said}, but {busy:g} busy hours at the trial's {rate:g} an hour come to "
                    f"{round(cost, 6):g}"
                )
            continue
        assert prices is not None and reference is not None
        currency = str(local.get("currency", "USD")).upper()
        if currency != prices.currency.upper():
            problems.append(
                f"{said}, but the prices are in {prices.currency} and the local cost in "
                f"{currency}: no spend avoided follows from them"
            )
        elif not _close(value, reference - cost, slack + 1e-6):
            problems.append(
                f"{said}, but the reference cost of the signed tokens ({reference:g}) less "
                f"{busy:g} busy hours at the trial's {rate:g} an hour comes to "
                f"{round(reference - cost, 6):g}"
            )
    return "; ".join(problems) or None


def _work_refused(
    before: FactSet,
    trial: Fact | None,
    inputs: list[dict[str, Any]],
    value: float,
    found: SignedTotals,
    apart: RunsApart,
) -> list[str]:
    """Why a report's work changed (``value`` hours) does not follow from each workflow's
    runs the gateway's key signed in the period (``found``; a run count the report lists
    that they do not back is refused) through the requests of people told apart from the
    rollout leads by the time they ran them (``apart``), at the minutes its author estimated
    (else play 1's trial's), as the log held them (``before``): one reason, or none."""
    # a lead's own runs are her word alone (exit rule LEAD_RUNS): the gateway's host is its
    # operator's, who seals its rows, and a lead confirms her own days. A lead's runs are
    # those signed once she had been one (exit rule LEAD_RUNS_THEN): a colleague made lead
    # since ran hers before, and a role given after a run does not reach back over it
    signed = found.runs_apart(apart)
    leads = sorted(p for p in found.runs_by if apart.why(p) is not None)
    listed: dict[str, float] = {}
    for item in inputs:
        name = str(item.get("name") or "")
        if item.get("indicator") == "work_changed_hours" and name.endswith(": runs"):
            count = _number(item.get("value"))
            listed[name.removesuffix(": runs")] = count if count is not None and count > 0 else 0
    said = f"work_changed_hours {value:g}"
    # a run count is the gateway's to sign (exit rule SIGNED_RUNS): one the reporter typed
    # that it did not count (the usage log's summary tables are anyone's with the database's
    # password) is hers alone
    unbacked = sorted(w for w, count in listed.items() if count != signed.get(w, 0))
    if unbacked:
        shown = ", ".join(f"{w} {listed[w]:g} (signed: {signed.get(w, 0)})" for w in unbacked)
        theirs = (
            f"; {names(leads)}'s own runs change no work ("
            + "; ".join(_lead_runs_said(apart, found, p) for p in leads)
            + "): the gateway's host is its operator's, who seals its rows, and a lead "
            "confirms her own days"
            if leads
            else ""
        )
        return [
            f"{said}, listing workflow runs no signed fact backs ({shown}{theirs}): a workflow's "
            "runs count only as the gateway's key signs them for each day. Send the workflow's "
            "requests through the gateway with its name (the header `X-Inhouse-Workflow: "
            "NAME` on each, as `inhouse workflow run NAME --gateway` sends it), roll up the "
            "usage (`inhouse gateway rollup`) and report again "
            "(`inhouse indicators report` lists the signed runs)"
        ]
    runs = signed
    estimates = minutes_estimates(before)
    per_task = None if trial is None else trial_minutes(trial)
    hours = 0.0
    unknown = []
    for workflow, count in sorted(runs.items()):
        estimate = estimates.get(workflow)
        minutes = float(estimate.payload["minutes"]) if estimate is not None else per_task
        if minutes is None:
            unknown.append(workflow)
        else:
            hours += count * minutes / 60.0
    if unknown:
        return [
            f"{said}, but no minutes saved recorded for {', '.join(unknown)} (its author's "
            "estimate, `inhouse indicators minutes-saved`, or play 1's trial's time per task)"
        ]
    if _close(value, hours, 1e-4 + 1e-9 * sum(runs.values())):
        return []
    shown = ", ".join(f"{w} {c:g}" for w, c in sorted(runs.items())) or "none"
    return [
        f"{said}, but the runs the gateway signed ({shown}) at the minutes recorded for each "
        f"come to {round(hours, 4):g}"
    ]


def _lead_runs_said(apart: RunsApart, found: SignedTotals, person: str) -> str:
    """Why ``person``'s runs (those signed once they had been a lead, where some were signed
    before) change no work."""
    why = str(apart.why(person))
    days = found.runs_on.get(person, {})
    if any(apart.runs(person, day, ran) for day, ran in days.items()):
        return f"{why}, and the runs signed once {person} had been one are a lead's"
    return why


def _number(value: Any) -> float | None:
    """``value`` as a finite number, or None (a string, a bool, nan, inf)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _close(value: float, expected: float, slack: float) -> bool:
    return abs(value - expected) <= slack


def _inside_by(ctx: CheckContext, seq: int) -> set[str]:
    """:func:`insiders` as they stood at event ``seq`` (a report's): who had held a role, been
    added to the pilot or owned a play by then, and whoever a gateway key let into the pilot.
    Someone given a role since was beyond the pilot when the report counted them."""
    found = set(ctx.let_in)
    for name in {*ctx.people, *ctx.roles_held}:
        person = ctx.people.get(name)
        roles = {*ctx.roles_held.get(name, frozenset()), *(person.roles if person else ())}
        since = ctx.role_since.get(name, {})
        if any(since.get(str(role), 0) <= seq for role in roles):
            found.add(name)
    found |= {str(f.payload["person"]) for f in ctx.facts.of("pilot.member") if f.id <= seq}
    found |= {o for play, o in ctx.owners.items() if ctx.owner_since.get(play, 0) <= seq}
    return found


def period_refused(start: date, end: date, period_days: int) -> str | None:
    """Why a report of ``start``..``end`` cannot stand for one period of a playbook whose
    ``indicators-reported`` reports every ``period_days`` days, or None: the rule the check
    judges a report's period by, and ``inhouse indicators report`` flags one by."""
    # a report every `period_days` stands for those days: one day's figures (`--period D..D`)
    # would let the reporter pick the day. A month has at least 28 days
    covered, least = (end - start).days + 1, min(28, period_days)
    if covered < least:
        return (
            f"the report of {start}..{end} covers {figures.count(covered, 'days')}; a report every "
            f"{period_days} days must cover at least {least}: report a whole month "
            "(`inhouse indicators report --period YYYY-MM`)"
        )
    # and no more than one period: a span reaching back over months of use sums them, so a
    # month nobody used the tool (which, reported alone, fails: nothing signed) passes
    # inside it, and every later month can be reported as a longer span from the same start
    # a calendar month is one period wherever a period is a month or more, a quarter wherever
    # it is a quarter or more (a 30-day period's October has 31 days, and no span of days is
    # left to report it with)
    unit = _calendar_unit(start, end)
    one = (unit == "month" and period_days >= 28) or (unit == "quarter" and period_days >= 90)
    if covered > period_days and not one:
        return (
            f"the report of {start}..{end} covers {figures.count(covered, 'days')}; a report every "
            f"{period_days} days stands for one period of at most {period_days}: its figures "
            "would sum earlier use into the last period's. Report the last month that ended "
            "(`inhouse indicators report --period YYYY-MM`)"
        )
    # and a period the calendar fixes, not one its reporter places: a span of days of their
    # choosing can be slid to end up to 27 days after the tool's last use (28 days, the last
    # use on the first), and the check, overdue only 31 days after a report's end, kept
    # passing for a tool nobody had used for nearly two months
    if not calendar_period(start, end):
        return (
            f"the report of {start}..{end} is a span of days its reporter chose, which can be "
            "moved to end weeks after the last use it counts: report a calendar month "
            "(`inhouse indicators report --period YYYY-MM`; a week, Monday to Sunday, where "
            "the period is a week)"
        )
    return None


def reported_period_days(playbook: Playbook) -> int:
    """The ``period_days`` the playbook's ``indicators-reported`` reports every (31 where it
    names none, as the check reads it)."""
    for play in playbook.plays:
        for ref in [*play.trigger, *play.exit]:
            if ref.check == "indicators-reported":
                return int(ref.params.get("period_days", _REPORTED_DAYS))
    return _REPORTED_DAYS


#: ``indicators-reported``'s period where the playbook names none
_REPORTED_DAYS = 31


def calendar_period(start: date, end: date) -> bool:
    """Whether ``start``..``end`` is a period the calendar fixes: a whole month, a calendar
    quarter (an organisation's playbook may report each quarter), or an ISO week (Monday to
    Sunday)."""
    return _calendar_unit(start, end) is not None


def _calendar_unit(start: date, end: date) -> str | None:
    """Which period the calendar fixes ``start``..``end`` is (``month``, ``quarter``, ``week``),
    or None."""
    whole = start.day == 1 and (end + timedelta(days=1)).day == 1
    if whole and (start.year, start.month) == (end.year, end.month):
        return "month"
    if whole and start.month % 3 == 1 and (end.year, end.month) == (start.year, start.month + 2):
        return "quarter"
    if start.isoweekday() == 1 and end - start == timedelta(days=6):
        return "week"
    return None


def _end(report: Fact) -> date:
    """The last day of the period ``report`` covers."""
    return date.fromisoformat(str(report.payload["period_end"]))


def _ended_when_made(report: Fact) -> bool:
    """Whether ``report``'s period had ended by the day it was recorded (one that had not is
    judged only when no other is, and fails saying so)."""
    try:
        return _end(report) < report.at.date()
    except ValueError:
        return False


#: the report's figures the gateway's signed usage measures: where each is, and its label
_MEASURABLE = {
    "active people": ("leading", "active_users"),
    "answered requests": ("leading", "answered_requests"),
    "input tokens": ("inputs", "input tokens"),
    "output tokens": ("inputs", "output tokens"),
}


def _measurable(payload: dict[str, Any]) -> dict[str, tuple[str, list[int]]]:
    """Each measurable figure a report states, by label: where it is (``leading.active_users``,
    ``inputs "input tokens"``) and every value it is given there (an input recurs under each
    lagging indicator priced from it, and each must match). A value that is no number is
    not stated."""
    leading = payload.get("leading") or {}
    inputs = payload.get("inputs") or []
    found: dict[str, tuple[str, list[int]]] = {}
    for label, (part, key) in _MEASURABLE.items():
        if part == "leading":
            where, values = f"leading.{key}", [leading.get(key)]
        else:
            where = f'inputs "{key}"'
            values = [
                i.get("value") for i in inputs if isinstance(i, dict) and i.get("name") == key
            ]
        found[label] = (where, [n for n in map(_whole, values) if n is not None])
    return found


def _whole(value: Any) -> int | None:
    """``value`` as a whole count, or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # "lots", nan, inf
        return None


@register_check(
    "findings-fed-back",
    reads=(
        "finding.opened",
        "finding.closed",
        "baseline.lock",
        "workflow.spec",
        "prompt.version",
        "baseline.verify",
        "workflow.run",
        "prompt.usage",
    ),
)
def findings_fed_back(ctx: CheckContext) -> Result:
    """A finding was closed within the period by evidence: a re-lock, workflow version or
    prompt version that names it and changes its target, made by someone other than the
    finding's opener, and confirmed by someone other than its maker, from their own key on
    their own machine: a passing `baseline verify` of the re-lock, a passing run of the
    workflow version (each saying its runtime answered on that machine; one from an inhouse
    before they said so counts only for a play 6 that exited; outside a demo, a run the
    project's test model answered confirms nothing), or the gateway's record of
    their use of the prompt version. A change only its maker has seen, and a finding ticked
    off by hand, close nothing. A key made on the gateway's host after the maker enrolled its
    key there is the maker's (whoever runs it holds the key files made there), as an opener's
    made there after the closer enrolled it is the closer's; a play 6 that exited keeps what it
    was judged on."""
    period = timedelta(days=int(ctx.param("period_days", 92)))
    findings = fold_findings(ctx)

    # closed when its confirmation was made: one carried in late was sealed when its signer
    # sealed it (whoever imports it chooses when); a play 6 that exited keeps the log's time
    # for the confirmations it was judged on (one recorded since, or one it was not judged
    # on, is dated as sealed)
    def made(fact: Fact) -> datetime:
        return fact.at if ctx.spared("measure", fact) else fact.made

    recent = [
        f
        for f in findings
        if f.confirmed_by is not None and ctx.now - made(f.confirmed_by) <= period
    ]

    def person(name: str) -> bool:  # a service's key (the gateway's) speaks for nobody
        found = ctx.people.get(name)
        return found is not None and not found.service

    fed = [
        f
        for f in recent
        if f.fed_back_by_other
        and person(f.fact.by)
        and f.closed_by is not None
        and person(f.closed_by.by)
        and _opened_by_closer(ctx, f.fact, f.closed_by) is None
    ]
    if fed:
        last = fed[-1]
        assert last.closed_by is not None and last.confirmed_by is not None
        return passed(
            f"finding #{last.id} ({last.target}) opened by {last.fact.by} was answered by "
            f"{last.closed_by.by}'s {describe_change(last.closed_by)}, confirmed by "
            f"{_confirmer(ctx, last.confirmed_by, last.closed_by)}",
            *(x for f in fed for x in (f.fact, f.closed_by, f.confirmed_by) if x is not None),
        )
    if recent:
        f = recent[-1]
        closer = f.closed_by.by if f.closed_by is not None else ""
        service = next((n for n in (f.fact.by, closer) if not person(n)), None)
        if service is not None:
            return failed(
                f"finding #{f.id} was signed by {service}, a service's key, which speaks for no "
                "person: a finding is fed back when one person's finding changes what another "
                "builds",
                f.fact,
            )
        if f.fed_back_by_other and f.closed_by is not None:
            why = _opened_by_closer(ctx, f.fact, f.closed_by)
            return failed(
                f"finding #{f.id} was opened by {f.fact.by}, {why}: one person with two keys, "
                "not a finding fed back by someone else",
                f.fact,
            )
        return failed(
            f"finding #{f.id} was opened and answered by {f.fact.by} alone: a finding is fed "
            "back when someone other than its opener changes its target",
            f.fact,
        )
    awaiting = [f for f in findings if f.awaiting is not None]
    if awaiting:
        f = awaiting[-1]
        assert f.awaiting is not None
        change, why = f.awaiting
        return failed(f"finding #{f.id} ({f.target}) opened by {f.fact.by}: {why}", f.fact, change)
    ticked = [f for f in findings if f.ticked and f.closed_by is None]
    if ticked:
        return failed(
            f"finding #{ticked[-1].id} was closed by hand, which is not evidence: close it with "
            "a re-lock, workflow version or prompt version that names it (--closes)",
            ticked[-1].fact,
            *ticked[-1].ticked,
        )
    if findings:
        refused = [(f, change, why) for f in findings for change, why in f.refused]
        note = "".join(
            f"; finding #{f.id} not closed by fact #{change.id}: {why}"
            for f, change, why in refused[-3:]
        )
        return failed(
            f"{figures.count(len(findings), 'findings')}, none closed by a change in the last "
            f"{period.days} "
            f"days{note}",
            *(f.fact for f in findings),
        )
    return failed(
        "no finding recorded yet (`inhouse finding add TEXT --target TARGET`: what was "
        "learned, and what it should change, baseline, workflow:NAME or prompt:NAME)"
    )


def _opened_by_closer(ctx: CheckContext, opened: Fact, change: Fact) -> str | None:
    """Why the finding ``opened`` is its closer's own, ``change``'s maker with another key
    (said after "opened by X, "), or None when its opener is told apart from them. One laptop
    with two keys is one person; so is a key made on the host of a service the closer enrolled
    there first (the gateway's: whoever runs it holds the key files made there), as plays 4
    and 5 judge such a key (a play 6 that exited keeps the finding it was judged on)."""
    closer = change.by
    if not enrolled_elsewhere(ctx, opened.by, {closer}):
        return f"whose keys were all enrolled from a machine {closer} enrolled from"
    hosts = services_enrolled_by(ctx, {closer})
    if (
        hosts
        and not ctx.spared("measure", opened)
        and not enrolled_elsewhere(ctx, opened.by, {closer}, services=hosts)
    ):
        return (
            f"whose keys were all enrolled from {hosts_of(hosts)} after {closer} enrolled its "
            "key there (whoever runs it holds the key files made there)"
        )
    return None


def _confirmer(ctx: CheckContext, evidence: Fact, change: Fact) -> str:
    """Who confirmed a change, and how: the signer of a verify or run; for a prompt's use, the
    people whose use the gateway saw confirm it (its maker aside): through a key of their own,
    since the change was recorded (an agent's use, or one before, confirms nothing)."""
    if evidence.kind == "prompt.usage":
        users = sorted(set(prompt_confirmers(ctx, change, evidence)) - {change.by})
        return f"{', '.join(users)}'s use through the gateway (prompt.usage #{evidence.id})"
    what = "passing verify" if evidence.kind == "baseline.verify" else "passing run"
    return f"{evidence.by}'s {what} of it (#{evidence.id})"
