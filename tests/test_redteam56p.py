"""Red team of plays 5 and 6 (rt56p): lena, the rollout lead, alone. She holds the lead's keys,
runs the gateway's host (its key files, the usage log's MAC key) and the dashboard, and has
machines of her own; her colleagues do what plays 1-4 asked of them and nothing more. Each test
is a way she passed alone, refused with a reason a user can act on, beside the honest way that
still passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance
from tests.conftest import Clock
from tests.people import confirm_days, enrol, hold_gateway_key, vouch_for_gateway_host

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """lena (the lead, who runs the gateway's host) and omar, a colleague who uses the gateway
    and vouched for its host once, as a user does."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    omar = enrol(lena, "omar", team="support")
    hold_gateway_key(lena, omar)
    service_program(lena)  # the gateway's key, enrolled by lena on its host
    vouch_for_gateway_host(omar)
    yield {"lena": lena, "omar": omar}
    lena.close()


def _day(gateway: Program, day: str, person: str) -> None:
    """The gateway's host signs ``person``'s use on ``day`` (its rollup, with its own key)."""
    gateway.record_fact(
        None,
        "usage.daily",
        {"day": day, "person": person, "requests": 3},
        provenance=Provenance.MEASURED,
        collector=ROLLUP,
    )


def _theater(lead: Program) -> list[str]:
    return [w for w in lead.status()["warnings"] if "governance theater" in w]


# -- governance theater: the lead's own use is no real usage -------------------------------------


def test_the_leads_own_day_on_her_gateway_hides_no_governance_theater(
    cast: dict[str, Program],
) -> None:
    """lena runs the gateway's host: its key signs whatever rows she seals, and her own day
    she confirms with her own key. Counted as "real usage", her one request (or a row she
    sealed in her own name) quieted the governance-theater warning for the support queue,
    review cadence and drift review she set up before anyone used the tool. Real usage is
    someone else's: a lead's own use, on a host she runs, is her word alone."""
    lena, omar = cast["lena"], cast["omar"]
    hold_gateway_key(lena, lena)
    gateway = service_program(lena)
    _day(gateway, "2026-11-02", "lena")
    confirm_days(lena, "2026-11-02")
    lena.attest(None, "support.queue", {"queue": "#help", "owner": "lena"}, comment="set up")
    warned = _theater(lena)
    assert warned and "support.queue" in warned[0], lena.status()["warnings"]
    # a colleague's own use, on his own word, is real usage: governance after it is not theater
    _day(gateway, "2026-11-02", "omar")
    confirm_days(omar, "2026-11-02")
    lena.attest(None, "review.scheduled", {"every_days": 30}, comment="set up")
    warned = _theater(lena)
    assert warned and "review.scheduled" not in warned[0], warned


@pytest.mark.parametrize("where", ["lena", "gateway"])
def test_a_second_name_on_her_machine_or_the_gateways_host_is_no_real_usage(
    cast: dict[str, Program], where: str
) -> None:
    """The next cheapest: zed, a name lena invites and joins herself, on her own laptop or on
    the gateway's host (where she enrolled its key: she holds the key files made there), holds
    a gateway key and confirms his day. One person with two keys: still no real usage."""
    from inhouse.program.evaluation import context_for

    lena = cast["lena"]
    gateway = service_program(lena)
    machine = sorted(context_for(lena.state(), lena.clock()).machines[where])[0]
    zed = enrol(lena, "zed", team="support", machine=machine)
    hold_gateway_key(lena, zed)
    _day(gateway, "2026-11-02", "zed")
    confirm_days(zed, "2026-11-02")
    lena.attest(None, "support.queue", {"queue": "#help", "owner": "lena"}, comment="set up")
    assert _theater(lena), lena.status()["warnings"]


# -- indicators-reported: a month only the lead used ---------------------------------------------


def _month(lead: Program, gateway: Program, person: str) -> None:
    """The gateway signs ``person``'s use on 10 October (3 requests, 100 in, 10 out tokens)."""
    totals = {person: {"requests": 3, "tokens_in": 100, "tokens_out": 10, "own": 3}}
    gateway.record_fact(None, "usage.daily", {"day": "2026-10-10", "people": totals},
                        provenance=Provenance.MEASURED, collector=ROLLUP)  # fmt: skip


def _report_october(lead: Program, active: int, requests: int, tokens: tuple[int, int]) -> None:
    """October's report through the Python API, as `inhouse indicators report` states it."""
    inputs = [
        {"indicator": "reference_cost", "name": name, "value": value, "unit": "tokens",
         "source": "gateway usage log (measured)"}
        for name, value in zip(("input tokens", "output tokens"), tokens, strict=True)
    ]  # fmt: skip
    payload = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": {"active_users": active, "answered_requests": requests},
        "lagging": {"work_changed_hours": 0.0}, "inputs": inputs,
    }  # fmt: skip
    lead.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                     collector="inhouse indicators")  # fmt: skip


@pytest.fixture
def september(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """It is 20 September: lena leads and runs the gateway; omar, a colleague, holds a gateway
    key and vouched for its host; lena holds one too. Nobody has used it in October yet."""
    from datetime import UTC, datetime

    clock.now = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    omar = enrol(lena, "omar", team="support")
    hold_gateway_key(lena, omar)
    hold_gateway_key(lena, lena)
    service_program(lena)
    vouch_for_gateway_host(omar)
    yield {"lena": lena, "omar": omar, "gateway": service_program(lena)}
    lena.close()


def _reported(lead: Program) -> tuple[object, str]:
    from inhouse.program.checks import evaluate
    from inhouse.program.evaluation import context_for

    result = evaluate("indicators-reported", context_for(lead.state(), lead.clock()))
    return result.outcome, result.reason


def test_a_month_only_the_lead_used_is_no_measured_period(
    september: dict[str, Program], clock: Clock
) -> None:
    """The forgery: nobody used the tool in October. lena seals one request of her own on the
    host she runs (or sends it), confirms her day with her own key, and reports October with
    every measured figure right: 1 active, 3 requests. indicators-reported passed, as it would
    each month she did so, on use nobody but her made or saw. A period "in which the gateway
    signed daily usage" is one someone other than the leads used."""
    from datetime import UTC, datetime

    from inhouse.program.checks import Outcome

    lena, omar, gateway = september["lena"], september["omar"], september["gateway"]
    clock.now = datetime(2026, 10, 10, 18, 0, tzinfo=UTC)
    _month(lena, gateway, "lena")
    confirm_days(lena, "2026-10-10")
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    _report_october(lena, 1, 3, (100, 10))
    outcome, reason = _reported(lena)
    assert outcome is Outcome.FAIL, reason
    assert "shows only lena's use" in reason and "lena is or was a rollout lead" in reason, reason
    assert "someone other than the leads used the tool" in reason
    # a play 6 exit judged on that report (before this rule) keeps it
    import dataclasses

    from inhouse.program.checks import evaluate
    from inhouse.program.evaluation import context_for

    ctx = context_for(lena.state(), lena.clock())
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("indicators-reported", dataclasses.replace(ctx, exited={"measure": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason

    # honest: omar used it in October too, on his own word, and the report counts both
    clock.now = datetime(2026, 10, 12, 18, 0, tzinfo=UTC)
    totals = {p: {"requests": 3, "tokens_in": 100, "tokens_out": 10, "own": 3}
              for p in ("omar",)}  # fmt: skip
    gateway.record_fact(None, "usage.daily", {"day": "2026-10-12", "people": totals},
                        provenance=Provenance.MEASURED, collector=ROLLUP)  # fmt: skip
    confirm_days(omar, "2026-10-12")
    clock.now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    _report_october(lena, 2, 6, (200, 20))
    outcome, reason = _reported(lena)
    assert outcome is Outcome.PASS, reason


def test_a_month_only_her_second_name_used_is_no_measured_period(
    september: dict[str, Program], clock: Clock
) -> None:
    """The next cheapest: zed, a name lena joins herself on her own laptop, holds a key and
    confirms his day. One person with two keys: October is still hers alone."""
    from datetime import UTC, datetime

    from inhouse.program.checks import Outcome
    from inhouse.program.evaluation import context_for

    lena, gateway = september["lena"], september["gateway"]
    machine = sorted(context_for(lena.state(), lena.clock()).machines["lena"])[0]
    zed = enrol(lena, "zed", team="support", machine=machine)
    hold_gateway_key(lena, zed)
    clock.now = datetime(2026, 10, 10, 18, 0, tzinfo=UTC)
    _month(lena, gateway, "zed")
    confirm_days(zed, "2026-10-10")
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    _report_october(lena, 1, 3, (100, 10))
    outcome, reason = _reported(lena)
    assert outcome is Outcome.FAIL and "shows only zed's use" in reason, reason


def test_the_theater_warning_says_why_the_leads_own_use_is_not_real_usage(
    cast: dict[str, Program],
) -> None:
    """lena used her gateway herself, and the rollup counted her day: "with no real usage yet"
    alone sent her to look for a broken rollup. The warning names whose use it saw and why it
    does not count."""
    lena = cast["lena"]
    hold_gateway_key(lena, lena)
    gateway = service_program(lena)
    _day(gateway, "2026-11-02", "lena")
    confirm_days(lena, "2026-11-02")
    lena.attest(None, "support.queue", {"queue": "#help", "owner": "lena"}, comment="set up")
    warned = _theater(lena)
    assert warned and "lena's use is not counted" in warned[0], warned
    assert "rollout lead" in warned[0]


def test_a_month_a_colleague_used_beside_a_co_lead_who_never_signed_in_says_why(
    september: dict[str, Program], clock: Clock
) -> None:
    """omar, signed in on his own laptop, used the tool in October on his own word; max, a
    co-lead, never signed in with the organisation's sign-in, so nobody is told apart from the
    leads until he does. The refusal said omar's use was "a rollout lead's", sending lena to
    look for a lead's key behind omar where max has only to sign in: it says why."""
    from datetime import UTC, datetime

    from inhouse.program.checks import Outcome

    lena, omar, gateway = september["lena"], september["omar"], september["gateway"]
    enrol(lena, "max", team="exec", roles=["rollout-lead"], signed_in=False)
    clock.now = datetime(2026, 10, 10, 18, 0, tzinfo=UTC)
    _month(lena, gateway, "omar")
    confirm_days(omar, "2026-10-10")
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    _report_october(lena, 1, 3, (100, 10))
    outcome, reason = _reported(lena)
    assert outcome is Outcome.FAIL, reason
    assert "max, whose work this judges, has not signed in" in reason, reason
    assert "rollout lead's" not in reason, reason
