"""The gateway's signed daily usage as play 6's ``indicators-reported`` and the dashboard sum
it, and the counting that leaves each ``usage.daily`` fact only the people who held a gateway
key of their own that day, both read per day rather than per person-day (for speed: see
benchmarks/indicators_signed_usage.py). What they count must not change: each is compared
with the rule as it reads, one (day, person) at a time, on random days of random facts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inhouse.program.counting import _Confirmed, _for_key_holders, _KeyDays
from inhouse.program.facts import Fact, FactSet, Provenance
from inhouse.program.playchecks.measure import signed_totals

RECORDED = datetime(2026, 12, 1, 6, tzinfo=UTC)


def _confirmation(seq: int, person: str, day: date) -> Fact:
    """``person``'s own ``usage.confirmed`` of ``day``, recorded when the facts are."""
    return Fact(id=seq, kind="usage.confirmed", version=1,
                payload={"person": person, "days": [day.isoformat()]},
                provenance=Provenance.MEASURED, by=person, collector="inhouse usage confirm",
                comment=None, expires=None, at=RECORDED)  # fmt: skip


def _fact(seq: int, payload: dict[str, Any], kind: str = "usage.daily") -> Fact:
    return Fact(id=seq, kind=kind, version=1, payload=payload, provenance=Provenance.MEASURED,
                by="gateway", collector="inhouse gateway", comment=None, expires=None,
                at=RECORDED)  # fmt: skip


def _by_person(facts: list[Fact], first: str, last: str) -> tuple[Any, ...]:
    """The rule, one (day, person) at a time: the last fact naming them that day stands, and
    a fact of the whole day (``people``) replaces every earlier reading of it."""
    latest: dict[tuple[str, str], tuple[Fact, dict[str, Any]]] = {}
    for fact in facts:
        day = str(fact.payload["day"])
        if fact.kind != "usage.daily" or not first <= day <= last:
            continue
        people = fact.payload.get("people")
        if isinstance(people, dict):
            latest = {(d, p): seen for (d, p), seen in latest.items() if d != day}
        else:
            people = {fact.payload["person"]: fact.payload}
        for person, totals in people.items():
            latest[day, person] = (fact, totals)
    return (
        sorted({fact.id for fact, _ in latest.values()}),
        sum(int(t.get("requests", 0)) for _, t in latest.values()),
        sum(int(t.get("tokens_in", 0)) for _, t in latest.values()),
        sum(int(t.get("tokens_out", 0)) for _, t in latest.values()),
        frozenset(p for (_, p), (_, t) in latest.items() if int(t.get("requests", 0)) > 0),
    )


def test_the_latest_fact_per_day_and_person_stands_and_an_earlier_one_for_the_others() -> None:
    """bob's and pia's 3 November is rolled up, then bob's changes: the day's second fact (a
    day's fact holds everyone's totals) stands, pia's figures in it unchanged; a fact of one
    person (from before a day's fact held everyone) counts; a day outside the span, and a fact
    of another kind, do not."""
    first = _fact(1, {"day": "2026-11-03", "people": {
        "bob": {"requests": 3, "tokens_in": 30, "tokens_out": 3},
        "pia": {"requests": 2, "tokens_in": 20, "tokens_out": 2}}})  # fmt: skip
    again = _fact(2, {"day": "2026-11-03", "people": {
        "bob": {"requests": 5, "tokens_in": 50, "tokens_out": 5},
        "pia": {"requests": 2, "tokens_in": 20, "tokens_out": 2}}})  # fmt: skip
    idle = _fact(3, {"day": "2026-11-04", "people": {
        "dora": {"requests": 0, "tokens_in": 0, "tokens_out": 0}}})  # fmt: skip
    carl = _fact(4, {"day": "2026-11-05", "person": "carl", "requests": 1, "tokens_in": 10})
    outside = _fact(5, {"day": "2026-12-01", "people": {"bob": {"requests": 9}}})
    other = _fact(6, {"day": "2026-11-03", "people": {"eve": {"requests": 9}}}, "prompt.usage")
    found = signed_totals(FactSet([first, again, idle, carl, outside, other]), "2026-11-01",
                          "2026-11-30")  # fmt: skip
    assert [f.id for f in found.facts] == [2, 3, 4]  # dora's idle day is evidence too
    assert (found.requests, found.tokens_in, found.tokens_out) == (8, 80, 7)
    assert found.people == {"bob", "pia", "carl"}  # dora had no answered request
    # the day signed again without bob (his rows no longer bear his figures out): the fuller
    # earlier reading does not stand for him
    later = _fact(7, {"day": "2026-11-03", "people": {"pia": {"requests": 4}}})
    found = signed_totals(FactSet([first, again, later]), "2026-11-01", "2026-11-30")
    assert [f.id for f in found.facts] == [7] and found.requests == 4
    assert found.people == {"pia"}
    # facts of one person each (from before a day's fact held everyone): each stands for its
    # own, until a fact of the whole day replaces them
    bob = _fact(8, {"day": "2026-11-06", "person": "bob", "requests": 1})
    pia = _fact(9, {"day": "2026-11-06", "person": "pia", "requests": 2})
    found = signed_totals(FactSet([bob, pia]), "2026-11-01", "2026-11-30")
    assert [f.id for f in found.facts] == [8, 9] and found.requests == 3
    whole = _fact(10, {"day": "2026-11-06", "people": {"pia": {"requests": 2}}})
    found = signed_totals(FactSet([bob, pia, whole]), "2026-11-01", "2026-11-30")
    assert [f.id for f in found.facts] == [10] and found.requests == 2


def test_summed_per_day_as_the_rule_reads_one_person_day_at_a_time() -> None:
    rng = random.Random(7)
    people = [f"p{n}" for n in range(30)]
    for _ in range(40):
        facts = []
        for seq in range(1, rng.randrange(2, 25)):
            day = f"2026-11-{rng.randrange(1, 6):02d}"
            named = rng.sample(people, rng.randrange(0, 12))
            facts.append(_fact(seq, {"day": day, "people": {
                p: {"requests": rng.randrange(0, 4), "tokens_in": rng.randrange(9),
                    "tokens_out": rng.randrange(9)} for p in named}}))  # fmt: skip
        first, last = sorted(f"2026-11-{rng.randrange(1, 6):02d}" for _ in range(2))
        found = signed_totals(FactSet(facts), first, last)
        assert (
            [f.id for f in found.facts], found.requests, found.tokens_in, found.tokens_out,
            found.people,
        ) == _by_person(facts, first, last)  # fmt: skip


def test_a_days_fact_counts_for_exactly_those_who_held_a_key_that_day() -> None:
    """Keys fetched on various days, some revoked, some fetched again after: each day's fact
    keeps exactly the people whose spans hold that day, asked one by one, and says who not."""
    rng = random.Random(11)
    start = date(2026, 11, 1)
    for _ in range(20):
        spans: dict[str, list[tuple[date, date | None]]] = {}
        for n in range(40):
            if rng.random() < 0.1:
                continue  # never fetched one
            fetched = start + timedelta(days=rng.randrange(20))
            if rng.random() < 0.3:
                revoked = fetched + timedelta(days=rng.randrange(5))
                spans[f"p{n}"] = [(fetched, revoked)]
                if rng.random() < 0.5:
                    spans[f"p{n}"].append((revoked + timedelta(days=2), None))
            else:
                spans[f"p{n}"] = [(fetched, None)]
        holders = _KeyDays(spans)
        for seq in range(1, 15):
            day = start + timedelta(days=rng.randrange(30))
            people = {f"p{n}": {"requests": 1} for n in rng.sample(range(45), 20)}
            fact = _fact(seq, {"day": day.isoformat(), "people": people})
            trimmed, why, _ = _for_key_holders(fact, holders, None)  # the key-holder rule alone
            held = {p for p in people if any(s <= day and (e is None or day <= e)
                                             for s, e in spans.get(p, ()))}  # fmt: skip
            assert trimmed is not None
            assert set(trimmed.payload["people"]) == held
            assert trimmed.payload["people"] == {p: people[p] for p in held}
            if held == set(people):
                assert (trimmed, why) == (fact, None)
            else:
                assert why is not None
                assert why.startswith(f"not counted for {', '.join(sorted(set(people) - held))},")
            assert fact.payload["people"] is people  # the fact read is left as it was
            # and with each person's own confirmation asked: those who held a key and
            # confirmed the day, no one else
            said = {p for p in people if rng.random() < 0.5}
            confirmed = _Confirmed()
            for n, person in enumerate(sorted(said)):
                confirmed.add(_confirmation(100 + n, person, day))
            trimmed, why, _ = _for_key_holders(fact, holders, confirmed)
            assert trimmed is not None
            assert set(trimmed.payload["people"]) == held & said
            if held & said != set(people):
                assert why is not None
            if (held - said) and why is not None:
                assert f"not confirmed by {', '.join(sorted(held - said))} for {day}" in why


def _department(rng: random.Random, bound: bool) -> tuple[Any, ...]:
    """A department's days of usage, its key spans and each person's confirmations: several a
    person, some of a day twice (the wider stands), some binding lower figures than the day
    now gives them, some (from an older inhouse) binding no figure, a few people none."""
    start = date(2026, 11, 1)
    names = [f"p{n}" for n in range(60)]
    spans: dict[str, list[tuple[date, date | None]]] = {}
    for person in names:
        if rng.random() < 0.1:
            continue  # never fetched one
        fetched = start + timedelta(days=rng.randrange(10))
        revoked = fetched + timedelta(days=rng.randrange(10)) if rng.random() < 0.2 else None
        spans[person] = [(fetched, revoked)]
    facts = []
    for seq in range(1, 16):
        day = start + timedelta(days=rng.randrange(20))
        people = {p: {"requests": rng.randrange(0, 6), "tokens_in": rng.randrange(50),
                      "tokens_out": rng.randrange(50)}
                  for p in rng.sample(names, rng.randrange(1, 50))}  # fmt: skip
        facts.append(_fact(seq, {"day": day.isoformat(), "people": people}))
    confirmations = []
    for n, person in enumerate(names):
        for m in range(rng.choice([0, 1, 1, 2, 3])):
            days = sorted({start + timedelta(days=rng.randrange(20)) for _ in range(8)})
            payload: dict[str, Any] = {"person": person, "days": [d.isoformat() for d in days]}
            if rng.random() < 0.8:  # figures bound to each day (one or two left out)
                payload["requests"] = {d.isoformat(): rng.randrange(0, 6) for d in days[1:]}
                payload["tokens"] = {d.isoformat(): rng.randrange(100) for d in days[:-1]}
            confirmations.append(Fact(id=1000 + 10 * n + m, kind="usage.confirmed", version=1,
                                      payload=payload, provenance=Provenance.MEASURED, by=person,
                                      collector="inhouse usage confirm", comment=None,
                                      expires=None, at=RECORDED))  # fmt: skip
    confirmed = _Confirmed(bound=bound)
    for fact in confirmations:
        confirmed.add(fact)
    return spans, facts, confirmations, confirmed


def _counts_for(
    person: str, day: date, figures: dict[str, int], spans: Any, said_by: list[Fact], bound: bool
) -> str:
    """The rule one person-day at a time, from the facts themselves: "key" (no key of their
    own that day), "unsaid" (no confirmation of it), "beyond" (figures above every one that
    covers it) or "counts"."""
    if not any(s <= day and (e is None or day <= e) for s, e in spans.get(person, ())):
        return "key"
    said = [f.payload for f in said_by
            if f.by == person and day.isoformat() in f.payload["days"]]  # fmt: skip
    if not said:
        return "unsaid"
    asked, spent = figures["requests"], figures["tokens_in"] + figures["tokens_out"]
    for payload in said:
        most = {name: (payload.get(name) or {}).get(day.isoformat(), 0 if bound else None)
                for name in ("requests", "tokens")}  # fmt: skip
        if (most["requests"] is None or asked <= most["requests"]) and (
            most["tokens"] is None or spent <= most["tokens"]
        ):
            return "counts"
    # two confirmations of a day: the wider of each figure covers, not only one's pair
    widest = [max(((p.get(name) or {}).get(day.isoformat(), 0 if bound else None)
                   for p in said), key=lambda v: float("inf") if v is None else v)
              for name in ("requests", "tokens")]  # fmt: skip
    if (widest[0] is None or asked <= widest[0]) and (widest[1] is None or spent <= widest[1]):
        return "counts"
    return "beyond"


def test_a_departments_day_counts_for_those_who_held_a_key_and_confirmed_its_figures() -> None:
    """Each person-day of a department's facts, as the counting reads it a day at a time, is
    what the rule says of it one person-day at a time: kept where they held a key and a
    confirmation of theirs covers its figures, else said beside with why, and the people it
    waits for (the unconfirmed, those confirmed lower figures with them) named."""
    rng = random.Random(23)
    seen: set[str] = set()
    for round_ in range(12):
        bound = round_ % 2 == 0
        spans, facts, confirmations, confirmed = _department(rng, bound)
        holders = _KeyDays(spans)
        for fact in facts:
            day = date.fromisoformat(fact.payload["day"])
            people = fact.payload["people"]
            verdict = {p: _counts_for(p, day, t, spans, confirmations, bound)
                       for p, t in people.items()}  # fmt: skip
            seen.update(verdict.values())
            trimmed, why, waits = _for_key_holders(fact, holders, confirmed)
            assert trimmed is not None
            assert trimmed.payload["people"] == {p: t for p, t in people.items()
                                                 if verdict[p] == "counts"}  # fmt: skip
            assert list(trimmed.payload["people"]) == [p for p in people
                                                       if verdict[p] == "counts"]  # fmt: skip
            assert waits == tuple(sorted(p for p, v in verdict.items()
                                         if v in ("unsaid", "beyond")))  # fmt: skip
            if all(v == "counts" for v in verdict.values()):
                assert (trimmed, why) == (fact, None)
                continue
            assert why is not None
            for kind, opening in (("key", "not counted for "), ("unsaid", "not confirmed by "),
                                  ("beyond", "not counted for ")):  # fmt: skip
                named = sorted(p for p, v in verdict.items() if v == kind)
                tail = {"key": ", who held no gateway key", "unsaid": f" for {day}",
                        "beyond": f" for {day}: the gateway's signed figures"}[kind]  # fmt: skip
                assert (f"{opening}{', '.join(named)}{tail}" in why) == bool(named), (kind, why)
    assert seen == {"key", "unsaid", "beyond", "counts"}  # every way a person-day goes, met


def test_counting_a_departments_day_looks_once_at_each_person_day(monkeypatch: Any) -> None:
    """The counting asks each person-day once whether its person confirmed it with these
    figures, and only those who held a key that day: a department names thousands a day (each
    look asked twice was most of what a status spent counting them: see
    benchmarks/indicators_signed_usage.py)."""
    from inhouse.program import counting

    looks = {"day": 0, "figures": 0}
    day_check, figures_check = counting._Confirmed.day, counting._beyond

    def day_spy(self: Any, *args: Any, **kwargs: Any) -> bool:
        looks["day"] += 1
        return day_check(self, *args, **kwargs)

    def figures_spy(*args: Any) -> bool:
        looks["figures"] += 1
        return figures_check(*args)

    monkeypatch.setattr(counting._Confirmed, "day", day_spy)
    monkeypatch.setattr(counting, "_beyond", figures_spy)
    spans, facts, _, confirmed = _department(random.Random(5), True)
    holders = _KeyDays(spans)
    held = 0
    for fact in facts:
        day = date.fromisoformat(fact.payload["day"])
        held += len(fact.payload["people"].keys() & holders.on(day))
        _for_key_holders(fact, holders, confirmed)
    assert held > 100  # enough person-days to tell one look from two
    assert looks["day"] + looks["figures"] <= held, (looks, held)
