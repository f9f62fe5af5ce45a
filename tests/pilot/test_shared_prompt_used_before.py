"""The ``used-shared-prompt`` enablement step rests on the gateway's signed use of a library
version dated no earlier than the day the version was recorded.

The forgery: carol publishes triage@2 on 10 November. Rows for bob naming triage@2 are typed
into the (unsigned) usage log, dated 4 November, and the gateway's host (the lead's) signs a
``prompt.usage`` of triage@2 naming bob, "last used" on the 4th, when bob held a gateway key:
counting takes bob's name on that day, so the step was met by a use of a version that did not
exist yet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.enablement import progress
from inhouse.pilot.library import new_version
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Provenance
from tests.conftest import Clock
from tests.people import confirm_days, vouch_for_gateway_host
from tests.pilot.world import PROMPT, make_world


def _shared(lead: Program) -> tuple[bool, str]:
    """Whether bob's shared-prompt step is met, and what it says."""
    (item,) = progress(lead, "bob")
    found = next(s for s in item.steps if s.id == "shared-prompt")
    return found.met, found.detail


def test_a_shared_prompt_used_before_its_version_existed_is_no_step_met(
    _isolated: Path, clock: Clock
) -> None:
    world = make_world(_isolated, clock)
    world.waive()
    world.enrol("bob", "support")
    carol = world.enrol("carol", "legal")
    world.lead.as_service("gateway")
    vouch_for_gateway_host(carol)
    add_member(world.lead, "bob", track="support")
    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC))  # bob fetches his key: the 3rd
    world.share_prompt("carol", "triage")

    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    v2 = new_version(world.people["carol"], "triage", PROMPT.replace("Ticket:", "Case:"),
                     where="triage.yaml")  # fmt: skip
    # FORGERY: bob "used" triage@2 on the 4th, in the usage log and in the gateway's word
    insert_usage(world.lead.store, [UsageRecord(
        request_id=new_request_id(), at="2026-11-04T10:00:00+00:00", person="bob",
        key_id=world.key("bob"), endpoint="/v1/chat/completions", model="tiny", status=200,
        prompt_id=v2.id,
    )])  # fmt: skip
    forged = world.lead.as_service("gateway").record_fact(
        None, "prompt.usage",
        {"prompt": "triage", "version": 2, "uses": 1, "users": 1, "uses_by_others": 1,
         "last_used": "2026-11-04", "people": ["bob"]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    # even with bob's own word on it (he was served triage@2, he says): the date decides
    confirm_days(world.people["bob"], prompts=[("triage", 2)])

    met, detail = _shared(world.lead)
    assert not met, detail
    assert detail == (
        f"the gateway's signed use of triage@2 (prompt.usage #{forged.id}) dates its last use "
        "2026-11-04, before the version was recorded (2026-11-10): a use of a version that did "
        "not exist yet is nobody's"
    )

    # control: bob really sends with triage@2 once it exists, and the gateway signs it
    world.send("bob", datetime(2026, 11, 11, 10, tzinfo=UTC), prompt=v2.id)
    world.sign()
    met, detail = _shared(world.lead)
    assert met, detail
    assert detail.startswith("used library prompt triage@2 (by carol; signed by the gateway")
