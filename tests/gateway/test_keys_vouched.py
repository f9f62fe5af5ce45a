"""The gateway serves a key only when the log vouches for it: a verified ``gateway.key.issued``
signed by the key's own person, naming its id, person, agent, prefix and hash, answering a
``gateway.key.granted`` a rollout lead signed, and no ``gateway.key.revoked``. A row typed into
the shared database (or un-revoked, or given another hash there) is refused at the door (401),
named with why in the gateway's log and ``inhouse keys list`` (counted on ``/healthz``), and no
usage is written or signed for its person. The requests go through the real gateway
(in-process) to a **stand-in upstream**; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from inhouse.db.schema import gateway_keys, gateway_usage
from inhouse.errors import InvalidInput
from inhouse.gateway.keys import (
    KEY_GRANTED,
    KEY_ISSUED,
    KEY_REVOKED,
    KeyLimits,
    fetch_key,
    grant_key,
    hash_key,
    issue_key,
    list_keys,
    load_key_table,
    revoke_key,
)
from inhouse.gateway.rollup import rollup_usage
from inhouse.pilot.adoption import record_adoption
from inhouse.program.facts import daily_usage
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.conftest import Clock
from tests.gateway.harness import auth, chat, in_process, weights_root
from tests.pilot.gateway_days import Pilot, Use, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "dora": ("hr", "support")}
DAYS = ("2026-11-03", "2026-11-04", "2026-11-05")


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    for person in TEAMS:
        made.enable(person, "2026-11-02T10:00")
    yield made
    made.lead.close()


def _made_key(prefix: str | None = None) -> str:
    """A key of the forger's own making (with a row's prefix, when it is to pass for that row)."""
    key = "ih_" + secrets.token_urlsafe(32)
    return key if prefix is None else prefix + key[len(prefix) :]


def _type_row(pilot: Pilot, person: str, key: str, key_id: str = "k_typed") -> None:
    """The forgery: one INSERT into the shared database, no event."""
    with pilot.lead.store.engine.begin() as conn:
        conn.execute(insert(gateway_keys).values(
            id=key_id, person=person, agent=None, hash=hash_key(key), prefix=key[:11],
            created="2026-11-02T00:00:00+00:00", revoked=None, limits="{}"))  # fmt: skip


def _key_id(pilot: Pilot, person: str) -> str:
    (key,) = [k for k in list_keys(pilot.lead.store) if k.person == person and k.active]
    return key.id


def door(pilot: Pilot, key: str) -> tuple[int, dict[str, Any]]:
    """One request with ``key`` through the gateway as it starts now, and the keys it refuses
    with why (what its log and ``inhouse keys list`` say; ``/healthz`` only counts them)."""

    async def run() -> tuple[int, dict[str, Any]]:
        standin = StandinUpstream(StandinTiming(0, 0, 2), model="tiny", port=pilot.port,
                                  root=weights_root(pilot.folder))  # fmt: skip
        async with standin, in_process(pilot.folder, clock=pilot.clock) as (gateway, client):
            reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                      headers=auth(key))  # fmt: skip
            health = (await client.get("/healthz")).json()
            refused = [{"id": r.key.id, "reason": r.reason} for r in gateway.keys.refused]
            assert health["keys_refused"] == len(refused)
            await gateway.usage.flush()
        return reply.status_code, {"keys_refused": refused}

    return asyncio.run(run())


def refusal(health: dict[str, Any], key_id: str) -> str:
    (found,) = [r for r in health["keys_refused"] if r["id"] == key_id]
    return str(found["reason"])


def _usage_rows(pilot: Pilot, person: str) -> list[Any]:
    with pilot.lead.store.engine.connect() as conn:
        return list(conn.execute(select(gateway_usage).where(gateway_usage.c.person == person)))


def test_a_key_row_typed_into_the_shared_database_is_not_served(pilot: Pilot) -> None:
    """The audit's forgery: a lead with the database's password files a key of their own
    making under dora, who never used the tool, and sends requests with it. Refused: no row,
    nothing signed for dora, not "independent"; bob's honest key is served as before."""
    key = _made_key()
    _type_row(pilot, "dora", key)
    pilot.keys["dora"] = key  # held by the lead
    pilot.use(Use("dora", f"{day}T10:00", status=401) for day in DAYS)
    pilot.use(Use("bob", f"{day}T10:00") for day in DAYS)  # granted, fetched: served
    pilot.on("2026-11-06")
    status, health = door(pilot, key)
    assert status == 401
    why = refusal(health, "k_typed")
    assert "no signed gateway.key.issued event names it" in why
    assert "`inhouse keys issue dora`" in why and "`inhouse keys fetch`" in why
    assert _usage_rows(pilot, "dora") == []
    rollup_usage(pilot.lead)
    signed = {(str(f.payload["day"]), p) for f in pilot.lead.state().facts
              if f.kind == "usage.daily" and f.by == "gateway" for p in daily_usage(f)}  # fmt: skip
    assert {p for _, p in signed} == {"bob"}
    report, fact = record_adoption(pilot.lead)
    assert fact is not None and fact.by == "gateway"
    assert "dora" not in report.independent and "bob" in report.independent


def test_a_revoked_key_cleared_in_the_database_stays_refused(pilot: Pilot) -> None:
    key_id = _key_id(pilot, "bob")
    assert door(pilot, pilot.keys["bob"])[0] == 200
    revoke_key(pilot.people["bob"], None, key_id)
    assert door(pilot, pilot.keys["bob"])[0] == 401
    with pilot.lead.store.engine.begin() as conn:  # the forgery: the column cleared by hand
        conn.execute(update(gateway_keys).where(gateway_keys.c.id == key_id).values(revoked=None))
    status, health = door(pilot, pilot.keys["bob"])
    assert status == 401
    assert "revoked by event" in refusal(health, key_id)


def test_a_real_key_row_given_another_hash_serves_no_key(pilot: Pilot) -> None:
    """The lead takes over dora's real row: same id, person and prefix, the hash of a key of
    their own making. Neither that key nor dora's own is served; the row is named as changed."""
    key_id = _key_id(pilot, "dora")
    made = _made_key(prefix=pilot.keys["dora"][:11])
    with pilot.lead.store.engine.begin() as conn:
        conn.execute(
            update(gateway_keys).where(gateway_keys.c.id == key_id).values(hash=hash_key(made))
        )
    status, health = door(pilot, made)
    assert status == 401
    assert "does not match what dora signed" in refusal(health, key_id)
    assert door(pilot, pilot.keys["dora"])[0] == 401


def test_a_grant_a_pilot_user_signs_for_themselves_is_not_served(pilot: Pilot) -> None:
    """bob, no lead, logs a grant to himself through the Python API: `keys fetch` finds no
    grant waiting (only a lead's is one), and a fetch he writes himself (his issued event,
    signed by him, and the row) is not served: no lead granted it."""
    bob = pilot.people["bob"]
    bob.log_event(KEY_GRANTED, {"grant": "g_self", "person": "bob", "agent": None,
                                "limits": {}, "waivers": []})  # fmt: skip
    with pytest.raises(InvalidInput, match="no gateway key is waiting for bob"):
        fetch_key(bob)
    key = _made_key()
    bob.log_event(KEY_ISSUED, {"key": "k_self", "grant": "g_self", "prefix": key[:11],
                               "hash": hash_key(key), "person": "bob", "agent": None,
                               "limits": {}})  # fmt: skip
    _type_row(pilot, "bob", key, key_id="k_self")
    status, health = door(pilot, key)
    assert status == 401
    assert "answers no open grant a rollout lead signed (g_self)" in refusal(health, "k_self")


def test_an_issued_event_the_lead_signs_for_someone_else_is_not_served(pilot: Pilot) -> None:
    """A real grant to dora, but the lead writes the fetch: the event and the row name dora,
    the signature is the lead's."""
    grant = grant_key(pilot.lead, None, "dora")
    key = _made_key()
    pilot.lead.log_event(KEY_ISSUED, {"key": "k_lead", "grant": grant, "prefix": key[:11],
                                      "hash": hash_key(key), "person": "dora", "agent": None,
                                      "limits": {}})  # fmt: skip
    _type_row(pilot, "dora", key, key_id="k_lead")
    status, health = door(pilot, key)
    assert status == 401
    assert "is not signed by dora's own key" in refusal(health, "k_lead")


@pytest.mark.parametrize("how", ["a fetch of his own", "a withdrawal"])
def test_a_grant_someone_else_answers_around_the_api_is_still_fetched(
    pilot: Pilot, how: str
) -> None:
    """A lead grants dora a key. bob, a colleague and no lead, appends an event through the
    Python API that names dora's grant: a fetch he signs (naming her, or himself) or a
    withdrawal. Neither is one the log honours (only dora fetches her grant, only a lead
    withdraws it), so neither uses her grant up: dora fetches it, and her key is served."""
    grant = grant_key(pilot.lead, None, "dora")
    bob = pilot.people["bob"]
    if how == "a withdrawal":
        bob.log_event(KEY_REVOKED, {"grant": grant, "person": "dora"})
    else:
        for person in ("dora", "bob"):
            key = _made_key()
            bob.log_event(KEY_ISSUED, {"key": f"k_{person}", "grant": grant, "prefix": key[:11],
                                       "hash": hash_key(key), "person": person, "agent": None,
                                       "limits": {}})  # fmt: skip
    record, key = fetch_key(pilot.people["dora"])
    status, health = door(pilot, key)
    assert status == 200, refusal(health, record.id)


def test_a_key_fetched_before_hashes_were_logged_is_refused_with_the_remedy(
    pilot: Pilot,
) -> None:
    """A key fetched with an older inhouse: its issued event names no hash, so the row's hash
    (what a writer of the database replaces) is vouched for by nothing. It is refused, and its
    person is told to fetch a new one; the new one is served."""
    bob = pilot.people["bob"]
    grant = grant_key(pilot.lead, None, "bob")
    key = _made_key()
    bob.log_event(KEY_ISSUED, {"key": "k_old", "grant": grant, "prefix": key[:11],
                               "person": "bob", "agent": None, "limits": {}})  # fmt: skip
    _type_row(pilot, "bob", key, key_id="k_old")
    status, health = door(pilot, key)
    assert status == 401
    why = refusal(health, "k_old")
    assert "fetched before the log recorded key hashes" in why
    assert "`inhouse keys issue bob`" in why
    _, fresh = issue_key(pilot.lead, None, "bob", holder=bob)
    assert door(pilot, fresh)[0] == 200


def test_the_limits_served_are_the_grant_s_not_the_row_s(pilot: Pilot) -> None:
    _, key = issue_key(pilot.lead, None, "bob", limits=KeyLimits(rpm=5),
                       holder=pilot.people["bob"])  # fmt: skip
    with pilot.lead.store.engine.begin() as conn:  # the forgery: the limit lifted by hand
        conn.execute(
            update(gateway_keys).where(gateway_keys.c.prefix == key[:11]).values(limits="{}")
        )
    served = load_key_table(pilot.lead.store, pilot.lead.state()).verify(key)
    assert served is not None and served.limits.rpm == 5


def test_a_grant_logged_around_the_reach_guard_is_not_served_until_waived(pilot: Pilot) -> None:
    """The lead logs a grant to someone beyond the pilot herself (``log_event`` takes any play
    package's event), skipping the skipping-play-five guard `inhouse keys issue` runs: the key is
    fetched, but the gateway refuses it, naming the guard and the waiver that puts it on the
    record; once that waiver is granted it is served."""
    from datetime import timedelta

    from inhouse.errors import AntiPattern
    from tests.people import enrol

    erin = enrol(pilot.lead, "erin", team="finance")  # no role: beyond the pilot
    with pytest.raises(AntiPattern, match="skipping-play-five"):
        grant_key(pilot.lead, None, "erin")  # the command runs the guard
    pilot.lead.log_event(KEY_GRANTED, {"grant": "g_around", "person": "erin", "agent": None,
                                       "limits": {}, "waivers": []})  # fmt: skip
    record, key = fetch_key(erin)
    status, health = door(pilot, key)
    assert status == 401
    why = refusal(health, record.id)
    assert "made while skipping-play-five held it back" in why
    assert "inhouse waiver grant skipping-play-five" in why
    assert any("grant a gateway key to erin" in w for w in pilot.lead.status()["warnings"])

    pilot.lead.grant_waiver(
        None,
        "skipping-play-five",
        reason="executive-decision",
        note="erin got a key before play 5; recorded now",
        expires=pilot.clock.now + timedelta(days=7),
    )
    assert door(pilot, key)[0] == 200
