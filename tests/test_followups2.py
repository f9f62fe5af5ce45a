"""Follow-ups to reading each day as the gateway last signed it: play 4's step evidence, the
first-answered-request step's recorder and the governance-theater warning read a day's
standing reading, not an earlier, fuller one the gateway signed again since."""

from __future__ import annotations

from pathlib import Path

from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.facts import Fact
from tests.people import confirm_days, hold_gateway_key, vouch_for_gateway_host
from tests.pilot.test_enablement_signed import world  # noqa: F401  (the fixture)
from tests.pilot.world import World
from tests.test_engine import cast, omar, program  # noqa: F401  (the fixtures)
from tests.test_exit_scope import NOW, STEPS, context, lead_and_owner
from tests.test_exit_scope import fact as scoped
from tests.test_exit_scope import person as member

DAY = NOW.date().isoformat()


def _enabled(people: dict[str, object], *, p0: int, exited_after: bool = False) -> object:
    """pilot-enabled, for p0 whose first step rests on the day's first reading (p0's 3 own
    requests), the gateway having signed the day again since with ``p0`` own requests of
    theirs (0: a reading of the whole day without them)."""
    added = scoped("pilot.member", person="p0", track="support", team="team0", steps=STEPS)
    first = scoped("usage.daily", by="gateway", day=DAY,
                   people={"p0": {"requests": 3, "own": 3}})  # fmt: skip
    again = {"p0": {"requests": p0, "own": p0}} if p0 else {"p1": {"requests": 2, "own": 2}}
    later = scoped("usage.daily", by="gateway", day=DAY, people=again)
    step = scoped("enablement.step", by="p0", person="p0", track="support", step="first",
                  how="answered", evidence=[first.id])  # fmt: skip
    done = scoped("enablement.completed", by="p0", person="p0", track="support", steps=["first"])
    exited = {"pilot": (NOW, 10**9)} if exited_after else {}
    facts: list[Fact] = [added, first, later, step, done]
    return evaluate("pilot-enabled", context(facts, people, exited))  # type: ignore[arg-type]


def test_a_step_resting_on_a_day_signed_again_without_them_is_not_borne_out() -> None:
    people = {**lead_and_owner(), "p0": member("p0", "team0", "pilot-user"),
              "p1": member("p1", "team0", "pilot-user")}  # fmt: skip
    result = _enabled(people, p0=0)
    assert result.outcome is Outcome.FAIL, result.reason  # type: ignore[attr-defined]
    assert "but the gateway signed " + DAY + " again since" in result.reason  # type: ignore[attr-defined]
    # the honest day: signed again with more of p0's own requests, the step stands
    result = _enabled(people, p0=5)
    assert result.outcome is Outcome.PASS, result.reason  # type: ignore[attr-defined]
    # a program whose play 4 exited on that step keeps it, read as it was
    result = _enabled(people, p0=0, exited_after=True)
    assert result.outcome is Outcome.PASS, result.reason  # type: ignore[attr-defined]


#: the day the gateway signs in the theater test: the test clock's (omar's key is fetched on it)
USED = "2026-11-02"


def _signed_day(gateway: Program, people: dict[str, dict[str, int]]) -> Fact:
    return gateway.record_fact(
        None, "usage.daily", {"day": USED, "people": people},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip


def test_governance_theater_reads_a_day_as_last_signed(program: Program, omar: Program) -> None:  # noqa: F811
    """A day of omar's use the gateway signed again without him (his rows no longer bear it
    out) was no real use: governance set up after the first reading is still theater."""
    gateway = service_program(program)
    vouch_for_gateway_host(omar)
    hold_gateway_key(program, omar)
    _signed_day(gateway, {"omar": {"requests": 12}})
    confirm_days(omar, USED)  # his own word that the day's use was his, as the checks ask
    program.attest(None, "support.queue", {"queue": "#help", "owner": "sam"}, comment="set up")
    assert not any("governance theater" in w for w in program.status()["warnings"])
    _signed_day(gateway, {"omar": {"requests": 0}})
    warnings = program.status()["warnings"]
    assert any("governance theater" in w and "no real usage yet" in w for w in warnings)
    # signed again with his use borne out: the first reading was real use, and came first
    _signed_day(gateway, {"omar": {"requests": 14}})
    # more than he answered for (12): it counts once he confirms the day again (exit rule 19)
    assert any("no real usage yet" in w for w in program.status()["warnings"])
    confirm_days(omar, USED)
    assert not any("governance theater" in w for w in program.status()["warnings"])


def test_the_rollup_signs_again_a_day_whose_latest_reading_left_someone_out(
    _isolated: Path,
) -> None:
    """The rollup reads what it signed as the checks do, each day as last signed: omar's row
    edited in the database (its MAC no longer verifies) leaves him out of the day's next
    reading; once his row bears the figures out again, the day is signed again with him
    (it compared the row with his first reading, and never signed him back)."""
    from sqlalchemy import update

    from inhouse.db.schema import gateway_usage
    from inhouse.program.facts import standing_usage
    from tests.gateway.test_rollup import _use, ok

    ok("init", "Acme", "--lead", "lena")
    lena = Program.open(_isolated)
    _use(lena, "lena", "2026-11-01T10:00:00+00:00")
    _use(lena, "omar", "2026-11-01T11:00:00+00:00")
    ok("gateway", "rollup", "--json")

    def edit(tokens: int) -> None:
        with lena.store.engine.begin() as db:
            db.execute(
                update(gateway_usage)
                .where(gateway_usage.c.person == "omar")
                .values(tokens_in=tokens)
            )

    def standing() -> dict[str, int]:
        facts = [f for f in Program.open(_isolated).state().facts if f.kind == "usage.daily"]
        day = standing_usage(facts)["2026-11-01"]
        return {person: int(totals["requests"]) for person, (_, totals) in day.items()}

    assert standing() == {"lena": 1, "omar": 1}
    edit(99)
    _use(lena, "lena", "2026-11-01T12:00:00+00:00")
    ok("gateway", "rollup", "--json")
    assert standing() == {"lena": 2}
    edit(10)  # as the gateway wrote it: it verifies again
    ok("gateway", "rollup", "--json")
    assert standing() == {"lena": 2, "omar": 1}
    lena.close()


def test_the_first_request_step_names_no_reading_a_later_one_unsaid(
    world: World,  # noqa: F811
) -> None:
    """bob's request on the 4th is signed; his row is then edited in the database (it no
    longer verifies) and the day signed again, with pia's request and without his. His first
    step is not met on the earlier reading (it named it, and the check then refused it), and
    is once he sends another request that the gateway signs."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from inhouse.db.schema import gateway_usage
    from inhouse.pilot.enablement import record_enablement

    world.send("bob", datetime(2026, 11, 4, 10, tzinfo=UTC))
    world.sign()
    with world.lead.store.engine.begin() as db:
        edited = update(gateway_usage).where(gateway_usage.c.person == "bob")
        db.execute(edited.values(tokens_in=99))
    world.send("pia", datetime(2026, 11, 4, 11, tzinfo=UTC))
    world.sign()
    after, _ = record_enablement(world.people["bob"])
    (mine,) = after
    first = next(step for step in mine.steps if step.id == "first-request")
    assert not first.met, first.detail
    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC))
    world.sign()
    after, _ = record_enablement(world.people["bob"])
    first = next(step for step in after[0].steps if step.id == "first-request")
    assert first.met and "on 2026-11-05" in first.detail, first.detail
