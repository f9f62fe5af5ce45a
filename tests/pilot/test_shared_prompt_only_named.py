"""The ``used-shared-prompt`` step, and the gateway's signed ``prompt.usage``, count a library
version as someone's use only where the gateway sent it to them: it rendered the version from the
request body's ``prompt``, or the client pinned it by number (``X-Inhouse-Prompt: NAME@VERSION``).
A client that only names the prompt (``NAME`` or ``NAME@LABEL``) with messages of its own is
recorded under whatever version the name points to then: such a person is named apart
(``named_only``) and has used nothing of it. Rows the gateway sealed before it told the two apart
are read as before (sent). Requests go through the real gateway, in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from inhouse.db.schema import gateway_usage
from inhouse.gateway.rollup import gateway_mac_key
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.enablement import progress
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.pilot.roster import add_member
from inhouse.program import Program
from tests.conftest import Clock
from tests.people import confirm_own_use, vouch_for_gateway_host
from tests.pilot.world import World, make_world


def _shared(lead: Program) -> tuple[bool, str]:
    """Whether bob's shared-prompt step is met, and what it says."""
    (item,) = progress(lead, "bob")
    found = next(s for s in item.steps if s.id == "shared-prompt")
    return found.met, found.detail


def _world(folder: Path, clock: Clock) -> World:
    """bob, a support pilot member with a gateway key since the 3rd; carol's triage@1 in the
    library."""
    world = make_world(folder, clock)
    world.waive()
    world.enrol("bob", "support")
    carol = world.enrol("carol", "legal")
    world.lead.as_service("gateway")
    vouch_for_gateway_host(carol)
    add_member(world.lead, "bob", track="support")
    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC))  # bob fetches his key: the 3rd
    world.share_prompt("carol", "triage")
    return world


def _usage(lead: Program) -> dict[str, object]:
    """The latest prompt.usage of triage@1 the gateway signed."""
    found = [
        f.payload for f in lead.state().facts
        if f.kind == "prompt.usage" and f.by == "gateway" and f.payload["version"] == 1
    ]  # fmt: skip
    return found[-1]


def _sent(lead: Program) -> list[tuple[str | None, int | None]]:
    with lead.store.engine.connect() as conn:
        rows = conn.execute(
            select(gateway_usage.c.prompt_id, gateway_usage.c.prompt_sent)
            .where(gateway_usage.c.person == "bob")
            .order_by(gateway_usage.c.at)
        ).all()
    return [(prompt, sent) for prompt, sent in rows]


def test_a_prompt_only_named_in_the_header_is_nobodys_use_of_it(
    _isolated: Path, clock: Clock
) -> None:
    world = _world(_isolated, clock)
    world.send("bob", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt="triage")  # his own words
    world.sign()
    assert _sent(world.lead) == [(None, None), ("triage@1", 0)]
    usage = _usage(world.lead)
    assert (usage["uses"], usage["users"], usage["people"], usage["named_only"]) == (
        0, 0, [], ["bob"],
    )  # fmt: skip
    met, detail = _shared(world.lead)
    assert not met, detail
    assert detail.startswith(
        "you only named triage in X-Inhouse-Prompt, with messages of your own: the gateway "
        "never sent you triage@1"
    )

    # FORGERY: the lead's host edits bob's row to say the gateway sent it; its MAC no longer
    # verifies, and the row is left out, named
    with world.lead.store.engine.begin() as conn:
        conn.execute(
            update(gateway_usage).where(gateway_usage.c.prompt_sent == 0).values(prompt_sent=1)
        )
    notes: list[str] = []
    assert record_prompt_usage(world.lead, notes) == []
    assert any("wrong MAC" in note for note in notes), notes
    assert not _shared(world.lead)[0]
    # so is it read as a row from before the gateway told them apart (no value)
    with world.lead.store.engine.begin() as conn:
        conn.execute(
            update(gateway_usage).where(gateway_usage.c.prompt_sent == 1).values(prompt_sent=None)
        )
    notes = []
    record_prompt_usage(world.lead, notes)
    assert any("wrong MAC" in note for note in notes), notes
    assert not _shared(world.lead)[0]

    # the honest way: bob's client pins the version by number
    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@1")
    world.sign()
    assert _sent(world.lead)[-1] == ("triage@1", 1)
    usage = _usage(world.lead)
    assert (usage["uses"], usage["people"], usage["named_only"]) == (1, ["bob"], [])
    met, detail = _shared(world.lead)
    assert met, detail
    # nothing new to sign: the use signed last is not signed again
    assert record_prompt_usage(world.lead) == []


def test_a_row_the_gateway_sealed_before_it_told_them_apart_counts_as_before(
    _isolated: Path, clock: Clock
) -> None:
    """A gateway before the change sealed a row naming triage@1 with no word on whether it was
    sent: it is read as it was then, bob's use of triage@1."""
    world = _world(_isolated, clock)
    with world.lead.store.engine.connect() as conn:
        key_id = conn.execute(
            select(gateway_usage.c.key_id).where(gateway_usage.c.person == "bob")
        ).scalar_one()
    record = UsageRecord(
        request_id=new_request_id(), at="2026-11-04T10:00:00+00:00", person="bob",
        key_id=key_id, endpoint="chat/completions", model="tiny", status=200,
        prompt_id="triage@1", tokens_in=3, tokens_out=2,
    )  # fmt: skip
    record.seal(gateway_mac_key(world.lead.folder))
    insert_usage(world.lead.store, [record])
    clock.now = datetime(2026, 11, 5, 9, tzinfo=UTC)
    notes: list[str] = []
    record_prompt_usage(world.lead, notes)
    confirm_own_use(world.people["bob"])  # bob's own word on it
    assert notes == []
    assert _sent(world.lead)[-1] == ("triage@1", None)
    assert _usage(world.lead)["people"] == ["bob"]
    met, detail = _shared(world.lead)
    assert met, detail
