"""Gateway access as the log records it: who a rollout lead granted a gateway key, which key
each grant was fetched as, and which were revoked or withdrawn. Read by the gateway (which keys
to serve, :mod:`inhouse.gateway.keys`) and by the engine's reach guards (whose access is still
open when someone leaves the pilot), so it lives here, below both, with nothing heavy to import.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inhouse.program.state import PackageEvent, ProgramState

__all__ = ["KEY_GRANTED", "KEY_ISSUED", "KEY_REVOKED", "Vouched", "key_ledger", "live_grants"]

KEY_GRANTED = "gateway.key.granted"
KEY_ISSUED = "gateway.key.issued"
KEY_REVOKED = "gateway.key.revoked"


@dataclass(frozen=True)
class Vouched:
    """What the log says of one key: its issued event and the grant it answered, or why the
    events naming it do not vouch for it; whether (and at which event) it was revoked."""

    issued: PackageEvent | None = None
    grant: PackageEvent | None = None
    problem: str | None = None
    revoked: int | None = None


def key_ledger(state: ProgramState) -> tuple[dict[str, Vouched], dict[str, PackageEvent]]:
    """Each key id the log's verified key events name, oldest event first: a lead's grant, then
    its person's own fetch (one per grant), then a revocation by them or a lead; and the grants
    a lead signed that nobody has fetched yet, by grant id. Guards are not asked here."""
    events = state.package_events
    ordered = sorted(
        [*events.get(KEY_GRANTED, ()), *events.get(KEY_ISSUED, ()), *events.get(KEY_REVOKED, ())],
        key=lambda e: e.seq,
    )
    grants: dict[str, PackageEvent] = {}
    keys: dict[str, Vouched] = {}
    for event in ordered:
        data = event.payload
        if event.kind == KEY_GRANTED:
            if event.signed and "rollout-lead" in event.roles:
                grants.setdefault(str(data.get("grant")), event)
        elif event.kind == KEY_ISSUED:
            key = str(data.get("key"))
            if key not in keys:
                grant_id = str(data.get("grant"))
                keys[key] = _issued(event, grants.get(grant_id))
                # only its person's own fetch uses a grant up: an event someone else appended
                # naming it (a colleague, through the Python API) leaves it theirs to fetch
                if keys[key].issued is not None:
                    del grants[grant_id]
        elif "key" not in data:  # a grant withdrawn before it was fetched (by a lead)
            grant = grants.get(str(data.get("grant")))
            if grant is not None and event.signed and "rollout-lead" in event.roles:
                del grants[str(data.get("grant"))]
        else:
            found = keys.get(str(data.get("key")))
            if found is None or found.issued is None or found.revoked is not None:
                continue
            if event.signed and (event.by == found.issued.by or "rollout-lead" in event.roles):
                keys[str(data["key"])] = replace(found, revoked=event.seq)
    return keys, grants


def live_grants(state: ProgramState) -> dict[str, list[int]]:
    """Whose gateway access the log still holds open: for each person, the event of each grant
    a rollout lead signed them whose key is not revoked (a grant not fetched yet included).
    The engine asks it when someone leaves the pilot (:mod:`inhouse.program.guards`)."""
    keys, pending = key_ledger(state)
    live: dict[str, list[int]] = {}
    for vouched in keys.values():
        if vouched.grant is not None and vouched.revoked is None:
            live.setdefault(str(vouched.grant.payload.get("person")), []).append(vouched.grant.seq)
    for grant in pending.values():
        live.setdefault(str(grant.payload.get("person")), []).append(grant.seq)
    return live


def _issued(event: PackageEvent, grant: PackageEvent | None) -> Vouched:
    data = event.payload
    where = f"its gateway.key.issued (event {event.seq})"
    if not event.signed or event.by != data.get("person"):
        return Vouched(problem=f"{where} is not signed by {data.get('person')}'s own key")
    if grant is None:
        return Vouched(
            problem=f"{where} answers no open grant a rollout lead signed ({data.get('grant')})"
        )
    if grant.payload.get("person") != event.by or grant.payload.get("agent") != data.get("agent"):
        return Vouched(problem=f"{where} does not match its grant (event {grant.seq})")
    return Vouched(issued=event, grant=grant)
