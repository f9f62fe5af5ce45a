"""A prompt version is confirmed by use of it, dated no earlier than the day it was recorded.

The forgery: olga, a former pilot member (her gateway key fetched 1 September and revoked on
the 10th), opened a finding on the triage prompt. On 1 October the lead answers it with a
version olga could never have used, and the gateway's host (the lead's) signs a
``prompt.usage`` of that version naming olga, "last used" on 5 September. The fact's id is
after the version's, and counting takes olga's name on its ``last_used`` day, when she held a
key: so the finding closed "confirmed by olga's use through the gateway", and anyone who ever
held a key confirmed any later version the lead made.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from inhouse.gateway.keys import revoke_key
from inhouse.gateway.rollup import service_program
from inhouse.indicators.findings import open_finding
from inhouse.pilot.library import add_prompt, new_version
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from tests.conftest import Clock
from tests.people import confirm_own_use, enrol, hold_gateway_key, vouch_for_gateway_host
from tests.pilot.gateway_days import PROMPT


def _usage(lead: Program, last_used: str, person: str) -> None:
    """The gateway's signed use of triage@2 (its host is the lead's: its word, the known
    limit, counted for those who held a gateway key of their own on ``last_used``)."""
    service_program(lead).record_fact(
        None, "prompt.usage",
        {"prompt": "triage", "version": 2, "uses": 1, "users": 1, "uses_by_others": 1,
         "last_used": last_used, "people": [person]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip


def test_a_prompt_version_is_not_confirmed_by_use_dated_before_it_existed(
    _isolated: Path, clock: Clock
) -> None:
    clock.now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.grant_waiver(None, "scaling-before-proving", reason="executive-decision",
                      note="plays 1-3", expires=clock.now + timedelta(days=366))  # fmt: skip
    olga = enrol(lena, "olga", team="sales", roles=["pilot-user"])
    hold_gateway_key(lena, olga)  # 1 September: olga's own key, fetched by her
    pia = enrol(lena, "pia", team="ops", roles=["pilot-user"])
    service_program(lena)
    vouch_for_gateway_host(pia)
    add_prompt(lena, "triage", PROMPT, where="triage.yaml")

    clock.now = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)  # olga's key is revoked: she is gone
    (key,) = [e.payload["key"] for e in lena.events() if e.kind == "gateway.key.issued"]
    revoke_key(lena, None, key)
    clock.now = datetime(2026, 9, 12, 9, 0, tzinfo=UTC)
    finding = open_finding(olga, "triage ignores the floor", target="prompt:triage")

    clock.now = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    new_version(lena, "triage", PROMPT.replace("Ticket:", "Ticket (mind the floor):"),
                where="triage.yaml", closes=[finding.id])  # fmt: skip
    clock.now = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    _usage(lena, "2026-09-05", "olga")  # FORGERY: "used" before version 2 existed
    confirm_own_use(olga)  # even in her own word: the date decides

    result = evaluate("findings-fed-back", build_context(lena.state(), lena.clock()))
    assert result.outcome is not Outcome.PASS, result.reason
    assert "its last use, 2026-09-05, is before version 2 was recorded (2026-10-01)" in (
        result.reason
    )
    # and dated after it, olga held no key then: her name counts for nothing either
    _usage(lena, "2026-10-02", "olga")
    result = evaluate("findings-fed-back", build_context(lena.state(), lena.clock()))
    assert result.outcome is not Outcome.PASS, result.reason

    # control: pia, who holds a key of her own, uses version 2 the day after it was recorded
    hold_gateway_key(lena, pia)
    clock.now = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)
    _usage(lena, "2026-10-02", "pia")
    confirm_own_use(pia)
    result = evaluate("findings-fed-back", build_context(lena.state(), lena.clock()))
    assert result.outcome is Outcome.PASS, result.reason
    lena.close()
