"""The Python side of reading the gateway's signed daily usage with a department: 91
``usage.daily`` facts of 2,000 people each (the department of ``indicators_report.py``, whose
generated usage log has no signed facts), most of them holding a gateway key of their own and
having confirmed their use of each day with their own key (``inhouse usage confirm``). Three
reads are timed, each as it was before (a copy of the earlier code, kept here) and as it is
now, and their results compared:

- the counting: which people each fact counts for (those who held a gateway key of their own
  that day and confirmed that day's figures: :func:`inhouse.program.counting._for_key_holders`
  with the confirmations as every status reads them, ``_confirmations(..., bound=True)``; the
  copy of the earlier code asked keys only, so the people who confirmed nothing are taken off
  its answer before the two are compared);
- play 6's ``indicators-reported`` on a month's report (and the dashboard's indicators page,
  which reads the same totals): the latest signed totals per (day, person), summed;
- the indicators report's read (``Signed.read`` over the span of both periods and the six-month
  trend, its active days and every period's slice).

    PYTHONPATH=src python benchmarks/indicators_signed_usage.py [--people 2000] [--runs 7]

(``--people 50 --runs 1`` is the small run the test suite makes: tests/test_benchmarks_run.py.)

Every figure still rests on the counted facts only: the facts are real ``Fact`` objects, made
by the gateway's service as the rollup signs them, and the check is evaluated on a context
holding exactly those the counting left, with the organisation's sign-in set up and everyone
signed in (without it the check tells nobody's use apart from the leads'). Figures are
wall-clock on this machine, each with its CPU time (on a shared machine the wall clock also
counts the others' work); tests never assert them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any

from inhouse.indicators.leading import Signed
from inhouse.indicators.periods import parse_period
from inhouse.indicators.report import TREND_PERIODS
from inhouse.program.checks import CheckContext, Outcome, evaluate
from inhouse.program.counting import _confirmations, _for_key_holders, _KeyDays
from inhouse.program.facts import Fact, FactSet, Provenance, daily_usage
from inhouse.program.playchecks.measure import signed_totals

DAYS = 91
RECORDED = datetime(2026, 12, 1, 6, tzinfo=UTC)


def _facts(count: int) -> list[Fact]:
    rng = random.Random(1)
    people = [f"person{n:04d}" for n in range(count)]
    made = []
    for n in range(DAYS):
        day = (date(2026, 9, 1) + timedelta(days=n)).isoformat()
        figures = {p: {"requests": rng.randrange(1, 80), "tokens_in": 1000, "tokens_out": 500,
                       "own": 1} for p in people}  # fmt: skip
        made.append(Fact(id=n + 1, kind="usage.daily", version=1,
                         payload={"day": day, "people": figures},
                         provenance=Provenance.MEASURED, by="gateway", collector="gateway",
                         comment=None, expires=None, at=RECORDED))  # fmt: skip
    return made


def _holders(count: int) -> dict[str, list[tuple[date, date | None]]]:
    """Each person's gateway keys: most fetched one in August or September and still hold it;
    one in twenty revoked theirs in October (half fetched another a week later); one in fifty
    never fetched one (the gateway's figures do not count for them)."""
    rng = random.Random(2)
    spans: dict[str, list[tuple[date, date | None]]] = {}
    for n in range(count):
        person, roll = f"person{n:04d}", rng.random()
        fetched = date(2026, 8, 1) + timedelta(days=rng.randrange(45))
        if roll < 0.02:
            continue
        if roll < 0.07:
            revoked = date(2026, 10, 1) + timedelta(days=rng.randrange(30))
            spans[person] = [(fetched, revoked)]
            if roll < 0.045:
                spans[person].append((revoked + timedelta(days=7), None))
        else:
            spans[person] = [(fetched, None)]
    return spans


# -- the code as it was before, kept to time it ---------------------------------------------------


def _counted_before(
    fact: Fact, holders: dict[str, list[tuple[date, date | None]]]
) -> tuple[list[str], dict[str, Any]]:
    """Who a day's fact did not count for, each person's spans asked one by one, and the
    people it counts for (each kept person looked up in the list of those dropped)."""
    recorded = fact.at.astimezone(UTC).date()

    def held(person: str, day: date) -> bool:
        return day <= recorded and any(start <= day and (end is None or day <= end)
                                       for start, end in holders.get(person, ()))  # fmt: skip

    day = date.fromisoformat(str(fact.payload["day"]))
    people = fact.payload["people"]
    dropped = sorted(p for p in people if not held(str(p), day))
    return dropped, {p: t for p, t in people.items() if p not in dropped}


def _latest_before(facts: FactSet, first: str, last: str) -> dict[Any, Any]:
    """``latest_daily_usage`` as it was: each person-day copied into a record of its own."""
    latest: dict[tuple[str, str], tuple[Fact, dict[str, int]]] = {}
    for fact in facts.of("usage.daily"):
        day = str(fact.payload["day"])
        if first <= day <= last:
            for person, totals in daily_usage(fact).items():
                latest[day, person] = (fact, totals)
    return latest


def _totals_before(facts: FactSet, first: str, last: str) -> tuple[Any, ...]:
    """What ``indicators-reported`` took from it."""
    latest = _latest_before(facts, first, last)
    usage = list({id(fact): fact for fact, _ in latest.values()}.values())
    signed = {person for (_, person), (_, t) in latest.items() if t["requests"] > 0}
    return (
        sorted(f.id for f in usage),
        sum(t["requests"] for _, t in latest.values()),
        sum(t["tokens_in"] for _, t in latest.values()),
        sum(t["tokens_out"] for _, t in latest.values()),
        frozenset(signed),
    )


def _summed_before(people: dict[str, Any]) -> tuple[Any, ...]:
    """A day's sums in ``Signed.read`` as they were: a loop per person."""
    requests = tokens_in = tokens_out = 0
    used, own, unsure = [], [], []
    for person, figures in people.items():
        count = int(figures.get("requests", 0))
        if count > 0:
            name = str(person)
            used.append(name)
            requests += count
            mine = figures.get("own")
            if mine is None:
                unsure.append(name)
            elif int(mine) > 0:
                own.append(name)
        tokens_in += int(figures.get("tokens_in", 0))
        tokens_out += int(figures.get("tokens_out", 0))
    return (requests, tokens_in, tokens_out, frozenset(used), frozenset(own), frozenset(unsure))


def _signed_read_before(facts: list[Fact], since: date, until: date) -> dict[str, Any]:
    """``Signed.read`` as it was: the latest per day merged in log order, then summed."""
    first, last = since.isoformat(), until.isoformat()
    latest: dict[str, dict[str, Any]] = {}
    for fact in facts:
        day = str(fact.payload["day"])
        if not first <= day <= last:
            continue
        people = fact.payload.get("people")
        found = people if isinstance(people, dict) else daily_usage(fact)
        latest[day] = {**latest[day], **found} if day in latest else found
    return {day: _summed_before(people) for day, people in latest.items()}


# -- timing ---------------------------------------------------------------------------------------


def _confirmed(facts: list[Fact], silent: set[str]) -> list[Fact]:
    """Each person's ``usage.confirmed``, as ``inhouse usage confirm`` records it: every day
    the gateway's figures name them on, each day's requests and tokens bound (what status
    reads with ``bound=True``); the ``silent`` confirmed nothing."""
    days: dict[str, dict[str, Any]] = {}
    for fact in facts:
        for person, totals in fact.payload["people"].items():
            if person not in silent:
                days.setdefault(person, {})[fact.payload["day"]] = totals
    return [
        Fact(id=10_000 + n, kind="usage.confirmed", version=1,
             payload={"person": person, "days": sorted(said), "prompts": [], "left_out": [],
                      "requests": {d: t["requests"] for d, t in said.items()},
                      "tokens": {d: t["tokens_in"] + t["tokens_out"] for d, t in said.items()}},
             provenance=Provenance.MEASURED, by=person, collector="inhouse usage confirm",
             comment=None, expires=None, at=RECORDED)
        for n, (person, said) in enumerate(sorted(days.items()))
    ]  # fmt: skip


def _silent(count: int) -> set[str]:
    """One person in a hundred never ran ``inhouse usage confirm``."""
    return {f"person{n:04d}" for n in range(0, count, 100)}


def _time(label: str, call: Callable[[], object], runs: int) -> float:
    """The median wall-clock time of ``call`` (ms), said with its median CPU time: on a shared
    machine the wall clock also counts the others' work, the CPU time only this process's."""
    call()
    times, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    median = statistics.median(times)
    print(f"  {label}: median {median:.1f} ms (min {min(times):.1f}, max {max(times):.1f}, "
          f"{runs} runs; CPU median {statistics.median(cpu):.1f} ms)")  # fmt: skip
    return median


def _report(facts: list[Fact], month: Any) -> Fact:
    """A month's report stating the figures the signed usage measures, as the command does."""
    found = signed_totals(FactSet(facts, ordered=True), month.start.isoformat(),
                          month.end.isoformat())  # fmt: skip
    payload = {
        "period": "2026-11", "period_start": month.start.isoformat(),
        "period_end": month.end.isoformat(),
        "leading": {"active_users": len(found.people), "answered_requests": found.requests},
        "lagging": {"work_changed_hours": 0.0},  # no workflow ran: 0 hours follows
        "inputs": [{"name": "input tokens", "value": found.tokens_in},
                   {"name": "output tokens", "value": found.tokens_out}],
    }  # fmt: skip
    return Fact(id=len(facts) + 1, kind="indicators.report", version=1, payload=payload,
                provenance=Provenance.MEASURED, by="lena", collector="inhouse indicators",
                comment=None, expires=None, at=RECORDED)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000, help="people in the department")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each read")
    args = parser.parse_args()
    timed = partial(_time, runs=args.runs)
    facts, spans = _facts(args.people), _holders(args.people)
    silent = _silent(args.people)
    said = _confirmed(facts, silent)
    print(f"{DAYS} signed usage.daily facts of {args.people:,} people (1 in 50 held no gateway "
          "key, 1 in 20 revoked theirs in October, 1 in 100 confirmed no day)")  # fmt: skip

    def count_now() -> list[tuple[Fact | None, str | None, tuple[str, ...]]]:
        days, confirmed = _KeyDays(spans), _confirmations(said, bound=True)
        return [_for_key_holders(f, days, confirmed) for f in facts]

    print("counting (which people each fact counts for), run by every status:")
    before = timed("before: each person's spans asked one by one",
                   lambda: [_counted_before(f, spans) for f in facts])  # fmt: skip
    after = timed(
        "now: who held a key that day, gathered once per day and compared as sets, "
        "and who confirmed it",
        count_now,
    )
    counted_facts = []
    for fact, (trimmed, _, unsaid) in zip(facts, count_now(), strict=True):
        assert trimmed is not None
        left = sorted(fact.payload["people"].keys() - trimmed.payload["people"].keys())
        dropped, kept = _counted_before(fact, spans)
        waits = sorted(silent & kept.keys())
        assert list(unsaid) == waits, (unsaid, waits)
        assert left == sorted({*dropped, *waits})
        assert trimmed.payload["people"] == {p: t for p, t in kept.items() if p not in silent}
        counted_facts.append(trimmed)
    print(f"  {before / after:.1f}x")
    facts = counted_facts  # what the checks see: each fact as it counts

    chosen = parse_period("2026-11")
    previous = chosen.previous()
    counted = FactSet(facts, ordered=True)
    first, last = chosen.start.isoformat(), chosen.end.isoformat()
    print("indicators-reported's read of a month (and the dashboard's indicators page):")
    before = timed("before: latest_daily_usage, a record per person-day",
                   lambda: _totals_before(counted, first, last))  # fmt: skip
    after = timed("now: signed_totals, the facts' own totals summed per day",
                  lambda: signed_totals(counted, first, last))  # fmt: skip
    now = signed_totals(counted, first, last)
    was = _totals_before(counted, first, last)
    assert was == ([f.id for f in now.facts], now.requests, now.tokens_in, now.tokens_out,
                   now.people)  # fmt: skip
    print(f"  {before / after:.1f}x")
    report = _report(facts, chosen)
    # the organisation's sign-in set up and everyone signed in with an account of their own:
    # without it the check tells nobody's use apart from the leads' and fails the report
    accounts = {str(p): f"sub-{p}" for fact in facts for p in fact.payload["people"]}
    ctx = CheckContext(facts=FactSet([*facts, report], ordered=True), people={}, owners={},
                       now=RECORDED, exited={"measure": (RECORDED, 1)}, signed_in=accounts,
                       sign_in_issuer="https://sso.example.com")  # fmt: skip
    result = evaluate("indicators-reported", ctx)
    assert result.outcome is Outcome.PASS, result.reason[:500]
    timed("the check itself, on the counted facts and the report", lambda: evaluate(
        "indicators-reported", ctx))  # fmt: skip

    trend = chosen.back(TREND_PERIODS)
    since = min(previous.start - timedelta(days=29), trend[0].start)
    shim: Any = SimpleNamespace(facts=counted)

    def read_now() -> None:
        signed = Signed.read(shim, since, chosen.end)
        signed.masks(since, (chosen.end - since).days + 1)
        for period in (chosen, previous, *trend):
            days = signed.within(period.start, period.end)
            sum(d.requests for d in days)
            frozenset().union(*(d.people for d in days))

    print("the indicators report's read (the span, its active days, every period's slice):")
    before = timed("before: Signed.read's own merge, then the same sums",
                   lambda: _signed_read_before(facts, since, chosen.end))  # fmt: skip
    after = timed("now: Signed.read over latest_usage (shared with the check)",
                  lambda: Signed.read(shim, since, chosen.end))  # fmt: skip
    print(f"  {before / after:.1f}x")
    was_read = _signed_read_before(facts, since, chosen.end)
    now_read = Signed.read(shim, since, chosen.end).days
    assert {day: (d.requests, d.tokens_in, d.tokens_out, d.people, d.own, d.unsure)
            for day, d in now_read.items()} == was_read  # fmt: skip
    timed("now: Signed.read, masks and every period's slice, as the report reads them", read_now)


if __name__ == "__main__":
    main()
