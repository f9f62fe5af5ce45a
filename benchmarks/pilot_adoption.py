"""`inhouse pilot adoption` over a big usage log: who in the pilot reaches the tool on their own,
computed from a million usage rows, on SQLite and, when one is named, PostgreSQL (target: under
200 ms).

Builds a program with a realistic pilot — 10 members on three role tracks among the 200 people
whose requests fill the usage log over a year (the rows of ``benchmarks/usage_totals.py``: a few
keys each, some library prompts, 3 % refused or failed), each member onboarded and enabled with
facts signed as the roster and enablement sign them — bulk-loads N usage rows (default
1,000,000) and analyses them, then times :func:`inhouse.pilot.adoption.adoption_report` (the
computation behind the command: the facts that count, three SQL queries, the rule) and each of
its queries alone, and prints the main query's plan. ``--without-person-index`` times the
schema as it was before migration 0005 (no (person, day) index).

    python benchmarks/pilot_adoption.py [--rows 1000000] [--runs 7] [--postgres URL]
                                        [--without-person-index]

PostgreSQL is used when ``--postgres`` or ``INHOUSE_TEST_POSTGRES_URL`` names a server; the
program goes to a private schema that is dropped afterwards. Timings are wall-clock on this
machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from usage_totals import DAYS, FIRST_DAY, _fill, _postgres_schema, _time

from inhouse.identity import SigningKey
from inhouse.pilot.adoption import adoption_report
from inhouse.program import Program, Provenance
from inhouse.usage import active_days, last_active, prompts_used

#: the pilot, on three role tracks: eight of the usage log's 200 people (every 25th) and two
#: who have not used it yet (their last active day is the costly question: nothing stops a
#: search for it early)
MEMBERS = {
    f"person{n:03d}": ("support", "legal", "analyst")[n % 3] for n in (*range(0, 200, 25), 200, 201)
}
AS_OF = FIRST_DAY + timedelta(days=DAYS - 1)
ONBOARDED = datetime.combine(AS_OF - timedelta(days=60), datetime.min.time(), UTC)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def _database(url: str | None) -> Iterator[None]:
    """Programs made inside store their events and usage in ``url`` (None: the SQLite file)."""
    before = os.environ.get("INHOUSE_DATABASE_URL")
    if url:
        os.environ["INHOUSE_DATABASE_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("INHOUSE_DATABASE_URL", None)
        else:
            os.environ["INHOUSE_DATABASE_URL"] = before


def _pilot(folder: Path) -> Program:
    """The program: lena leads; the members are enrolled with keys of their own, onboarded on
    their tracks and enabled a day later. A demo program: outside one, nobody is told apart
    without the organisation's sign-in (an identity provider this benchmark does not run), and
    play 4 would count none of the ten, so the queries would time a pilot of nobody."""
    clock = _Clock(ONBOARDED - timedelta(days=1))
    lead = Program.init(folder, "Bench", "lena", key=SigningKey.generate(), clock=clock,
                        demo=True)  # fmt: skip
    lead.grant_waiver(None, "scaling-before-proving", reason="time-boxed-experiment",
                      note="benchmark pilot", expires=ONBOARDED + timedelta(days=365))  # fmt: skip
    people = {}
    for n, name in enumerate(MEMBERS):
        key = SigningKey.generate()
        invitation = lead.invite(name, team=f"team{n % 4}", roles=["pilot-user"])
        lead.join(str(invitation), key, at_machine=f"{name}-laptop")
        people[name] = lead.using(key)
    clock.now = ONBOARDED
    for name, track in MEMBERS.items():
        lead.record_fact(None, "pilot.member", {"person": name, "track": track,
                         "action": "added"}, provenance=Provenance.MEASURED,
                         collector="inhouse pilot")  # fmt: skip
    clock.now = ONBOARDED + timedelta(days=1)
    for name, track in MEMBERS.items():
        people[name].record_fact(None, "enablement.completed", {"person": name, "track": track},
                                 provenance=Provenance.MEASURED,
                                 collector="inhouse pilot enablement")  # fmt: skip
    clock.now = datetime.combine(AS_OF, datetime.min.time(), UTC) + timedelta(hours=18)
    return lead


def _plan(program: Program) -> str:
    since = (AS_OF - timedelta(days=27)).isoformat()
    names = ", ".join(f"'{name}'" for name in sorted(MEMBERS))
    sql = (
        "SELECT person, day, count(*), max(at) FROM gateway_usage WHERE person IN "
        f"({names}) AND status < 400 AND agent IS NULL AND day >= '{since}' AND day <= "
        f"'{AS_OF.isoformat()}' GROUP BY person, day ORDER BY person, day"
    )
    store = program.store
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.execute(text(explain + sql)).all()
    return "\n".join("    " + str(row[-1]) for row in rows)


def bench(url: str | None, folder: Path, count: int, runs: int, *, person_index: bool) -> None:
    with _database(url):
        program = _pilot(folder)
    store = program.store
    if not person_index:  # the schema as it was before migration 0005
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_gateway_usage_person_day"))
    print(f"{store.dialect}: a pilot of {len(MEMBERS)} among 200 people; inserting {count:,} "
          "usage rows ...", flush=True)  # fmt: skip
    seconds = _fill(store, count)
    print(f"  inserted in {seconds:.1f} s ({count / seconds:,.0f} rows/s)")
    report = adoption_report(program, AS_OF)
    pilot = report.pilot
    print(
        f"  as of {AS_OF} ({report.window_days} days): {pilot.independent} of {pilot.members} "
        f"on their own, {pilot.active_days} member-days, stickiness {pilot.stickiness:.2f}, "
        f"{pilot.prompts_used} prompts"
    )
    print("  plan of the active-days query:\n" + _plan(program))
    people = sorted(MEMBERS)
    since = AS_OF - timedelta(days=report.window_days - 1)
    timed = {
        "adoption_report": lambda: adoption_report(program, AS_OF),
        "  active_days": lambda: active_days(store, people, since=since, until=AS_OF),
        "  last_active": lambda: last_active(store, people, until=AS_OF),
        "  prompts_used": lambda: prompts_used(store, people, since=since, until=AS_OF),
    }
    for name, query in timed.items():
        median, best = _time(query, runs)
        print(f"  {name:<18} median {median:7.1f} ms, best {best:7.1f} ms ({runs} runs)")
    program.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("INHOUSE_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--without-person-index",
        action="store_true",
        help="drop the (person, day) index of migration 0005, to time the schema before it",
    )
    args = parser.parse_args()
    index = not args.without_person_index
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp  # keys and config stay in the temporary folder
        folder = Path(tmp) / "sqlite"
        folder.mkdir()
        began = time.perf_counter()
        bench(None, folder, args.rows, args.runs, person_index=index)
        print(f"  (whole run {time.perf_counter() - began:.0f} s)")
        if args.postgres:
            with _postgres_schema(args.postgres) as url:
                folder = Path(tmp) / "postgres"
                folder.mkdir()
                bench(url, folder, args.rows, args.runs, person_index=index)


if __name__ == "__main__":
    main()
