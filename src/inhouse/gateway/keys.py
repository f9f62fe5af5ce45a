"""Gateway keys: issued to a person (optionally bound to an agent), shown once, stored as hashes.

A key is ``ih_`` plus 43 URL-safe characters (256 random bits); only its SHA-256 is stored.
Its first characters (the *prefix*) are kept in clear to find the row and to tell keys apart in
listings; the hash is then compared in constant time. Issuing and revoking are events in the
program's log, so the audit trail shows who gave whom access and under which waiver.

A key is *granted* (``keys issue``) and then *fetched* by its person with their own signing key
(``keys fetch``), so the granter never sees another person's key. Granting widens reach: to the
pilot it goes through the scaling-before-proving guard, beyond the pilot through the
skipping-play-five guard (:meth:`Program.check_reach`); each refuses with the missing evidence
unless a waiver covers it.

The ``gateway_keys`` table is in the shared database, which every enrolled person's CLI writes
to, so a row there proves nothing by being there. The gateway serves a row only when the log
vouches for it (:func:`load_key_table`): a ``gateway.key.issued`` event that verified, signed by
the key's own person, naming the row's id, person, agent, prefix and SHA-256, answering a
``gateway.key.granted`` a rollout lead signed (the limits are the grant's), and no verified
``gateway.key.revoked`` for it. A key fetched before the issued event carried the hash is not
served: nothing signed says which key its row's hash belongs to, and the row's hash is exactly
what a writer of the database would replace. Its person is named (log, ``/healthz``) with the
remedy: a new grant, fetched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update

from inhouse.db.schema import gateway_keys
from inhouse.errors import AntiPattern, ConfigError, InvalidInput, UnknownPerson
from inhouse.program.access import (
    KEY_GRANTED,
    KEY_ISSUED,
    KEY_REVOKED,
    Vouched,
    key_ledger,
    live_grants,
)

if TYPE_CHECKING:
    from inhouse.db import Store
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = [
    "KEY_GRANTED",
    "KEY_ISSUED",
    "KEY_REVOKED",
    "GatewayKey",
    "KeyLimits",
    "KeyTable",
    "RefusedKey",
    "close_access",
    "fetch_key",
    "grant_key",
    "hash_key",
    "issue_key",
    "list_keys",
    "live_grants",
    "load_key_table",
    "models_not_blessed",
    "pending_grants",
    "refused_keys",
    "revoke_key",
]

COLLECTOR = "inhouse keys"
_PREFIX_LEN = 11  # "ih_" + 8 random characters

log = logging.getLogger("inhouse.gateway")


@dataclass(frozen=True)
class KeyLimits:
    """Per-key limits; ``None`` means unlimited. ``models`` narrows the blessed models."""

    rpm: int | None = None
    tokens_per_day: int | None = None
    models: tuple[str, ...] | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "rpm": self.rpm,
                "tokens_per_day": self.tokens_per_day,
                "models": list(self.models) if self.models is not None else None,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> KeyLimits:
        data: dict[str, Any] = json.loads(text or "{}")
        models = data.get("models")
        return cls(
            rpm=data.get("rpm"),
            tokens_per_day=data.get("tokens_per_day"),
            models=tuple(models) if models is not None else None,
        )


@dataclass(frozen=True)
class GatewayKey:
    id: str
    person: str
    agent: str | None
    prefix: str
    created: str
    revoked: str | None
    limits: KeyLimits = field(default_factory=KeyLimits)
    hash: str = field(default="", repr=False)

    @property
    def active(self) -> bool:
        return self.revoked is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _row_key(row: Any) -> GatewayKey:
    return GatewayKey(
        id=row.id,
        person=row.person,
        agent=row.agent,
        prefix=row.prefix,
        created=row.created,
        revoked=row.revoked,
        limits=KeyLimits.from_json(row.limits),
        hash=row.hash,
    )


def _positive(value: int | None, what: str) -> None:
    if value is not None and value < 1:
        raise InvalidInput(f"{what} must be at least 1 (leave it out for no limit), not {value}")


def models_not_blessed(program: Program, models: Sequence[str]) -> tuple[list[str], list[str]]:
    """Of ``models`` (a key's ``--model`` list), those the lock the gateway routes does not
    bless, and the ones it does: the lock the log records, else ``inhouse.lock`` (nothing when
    there is neither, or the file does not read). A typo in ``--model`` made a key that could
    use no model, granted without a word."""
    from inhouse.baseline.lock import read_lock, recorded_lock

    lock = recorded_lock(program.state(), program.clock())
    if lock is None:
        try:
            lock = read_lock(program.folder)
        except ConfigError:
            return [], []
    if lock is None:
        return [], []
    blessed = [m.name for m in lock.models]
    return [m for m in models if m not in blessed], blessed


def grant_key(
    program: Program,
    actor: str | None,
    person: str,
    *,
    agent: str | None = None,
    limits: KeyLimits | None = None,
) -> str:
    """Grant ``person`` a gateway key, to be fetched by them with their own signing key (the
    granter never sees it). Widening reach goes through the guards: to the pilot before plays
    1-3 exit (scaling before proving), beyond the pilot before play 5 exits (skipping play
    five). A key bound to an agent needs that agent's tool boundary in inhouse.toml, and
    records the agent and its boundary as facts. Returns the grant's id."""
    from inhouse.program import Provenance
    from inhouse.program.config import read_config
    from inhouse.program.guards import reach_label
    from inhouse.program.state import not_on_roster

    limits = limits or KeyLimits()
    _positive(limits.rpm, "--rpm")
    _positive(limits.tokens_per_day, "--tokens-per-day")
    program.actor(actor)  # on-behalf is refused: a grant is the granter's own act
    state = program.state()
    if person in state.people and state.people[person].service:
        raise InvalidInput(
            f"{person!r} is a service with a key of its own, not a person: a gateway key is "
            "issued to a person on the roster (or to a person's agent, `--agent NAME`)"
        )
    if person not in state.people:
        raise UnknownPerson(
            f"{not_on_roster(person, state.people)}; a rollout lead invites someone new first "
            "(`inhouse person invite NAME`)"
        )
    boundary = None
    if agent is not None:
        from inhouse.policy.tools import load_boundaries

        boundary = load_boundaries(read_config(program.folder)).get(agent)
        if boundary is None:
            raise InvalidInput(
                f"agent {agent!r} has no tool boundary: declare [policy.agents.{agent}] with its "
                "allowed tools in inhouse.toml first; an agent key without one is refused"
            )
    reach = program.reach_of(person)
    said = reach_label(program.playbook, state, person, reach)
    try:
        used = program.check_reach(
            None, reach, action=f"grant a gateway key to {person} ({said})", person=person
        )
    except AntiPattern as err:
        first = program.playbook.plays[0]
        if first.id in state.owners:
            raise
        # an operator following docs/gateway.md before play 1 starts read only that plays 1-3
        # must exit, when starting play 1 is what lets its owner hold a key
        raise AntiPattern(
            f"{err}\n(play 1, {first.id}, has not started: whoever starts it "
            "(`inhouse play start 1`) owns it, and play 1's owner may hold a gateway key before "
            "plays 1 to 3 have exited)",
            guard=err.guard, play=err.play, missing=err.missing,
        ) from None  # fmt: skip
    grant = "g_" + secrets.token_hex(6)
    if agent is not None and boundary is not None:
        facts = state.live_facts(program.clock())
        # registered by a grant before: measured, not someone's typed word (which counts for
        # nothing, and would leave the agent registered nowhere that counts)
        if not any(
            f.payload.get("agent") == agent
            and f.provenance is Provenance.MEASURED
            and f.collector == COLLECTOR
            for f in facts.of("agent.registered")
        ):
            program.record_fact(
                None,
                "agent.registered",
                {"agent": agent},
                provenance=Provenance.MEASURED,
                collector=COLLECTOR,
            )
        program.record_fact(
            None,
            "agent.boundary",
            {"agent": agent, "tools": sorted(boundary.tools)},
            provenance=Provenance.MEASURED,
            collector=COLLECTOR,
        )
    program.log_event(
        KEY_GRANTED,
        {
            "grant": grant,
            "person": person,
            "agent": agent,
            "limits": json.loads(limits.to_json()),
            "waivers": [w.seq for w in used],
        },
    )
    return grant


def pending_grants(program: Program, person: str) -> list[dict[str, Any]]:
    """Grants to ``person`` not yet fetched, oldest first: as the log honours them
    (:func:`key_ledger`), a rollout lead's grant, used up only by ``person``'s own fetch or
    withdrawn only by a lead. A fetch or a withdrawal someone else appended naming it does not
    take it from them, nor does a "grant" nobody but a lead may sign give them one."""
    _, grants = key_ledger(program.state())
    return [
        dict(grant.payload)
        for grant in sorted(grants.values(), key=lambda e: e.seq)
        if grant.payload.get("person") == person
    ]


def fetch_key(program: Program) -> tuple[GatewayKey, str]:
    """Fetch the key granted to you (the holder of this shell's signing key). Returns the stored
    record and the key itself, shown once to you alone and never stored."""
    who = program.actor(None)
    grants = pending_grants(program, who.name)
    if not grants:
        raise InvalidInput(
            f"no gateway key is waiting for {who.name}: a rollout lead grants one first "
            f"(`inhouse keys issue {who.name}`)"
        )
    grant = grants[0]
    limits = KeyLimits.from_json(json.dumps(grant["limits"]))
    agent = grant.get("agent")
    key = "ih_" + secrets.token_urlsafe(32)
    created = program.clock().astimezone(UTC).isoformat()
    issued = GatewayKey(
        id="k_" + secrets.token_hex(6),
        person=who.name,
        agent=agent,
        prefix=key[:_PREFIX_LEN],
        created=created,
        revoked=None,
        limits=limits,
        hash=hash_key(key),
    )
    # the signed event first: a row the log does not vouch for yet is never served, and an
    # event whose row never came serves nothing. The hash of 256 random bits gives no key away
    program.log_event(
        KEY_ISSUED,
        {
            "key": issued.id,
            "grant": grant["grant"],
            "prefix": issued.prefix,
            "hash": issued.hash,
            "person": who.name,
            "agent": agent,
            "limits": grant["limits"],
        },
    )
    with program.store.engine.begin() as conn:
        conn.execute(
            insert(gateway_keys).values(
                id=issued.id,
                person=who.name,
                agent=agent,
                hash=issued.hash,
                prefix=issued.prefix,
                created=created,
                revoked=None,
                limits=limits.to_json(),
            )
        )
    _tell_replicas(program)
    return issued, key


def issue_key(
    program: Program,
    actor: str | None,
    person: str,
    *,
    agent: str | None = None,
    limits: KeyLimits | None = None,
    holder: Program | None = None,
) -> tuple[GatewayKey, str]:
    """Grant a key to ``person`` and fetch it with ``holder`` (the program opened with that
    person's own key): the two steps of `keys issue` and `keys fetch`, for tests and scripts
    that hold both keys."""
    grant_key(program, actor, person, agent=agent, limits=limits)
    return fetch_key(holder or program)


def _find(store: Store, ref: str) -> GatewayKey:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(gateway_keys).where(or_(gateway_keys.c.id == ref, gateway_keys.c.prefix == ref))
        ).all()
    if not rows:
        raise InvalidInput(f"no gateway key {ref!r}: give its id or prefix (`inhouse keys list`)")
    if len(rows) > 1:
        raise InvalidInput(f"{ref!r} matches {len(rows)} keys; give the key id instead")
    return _row_key(rows[0])


def revoke_key(
    program: Program, actor: str | None, ref: str, *, tell_replicas: bool = True
) -> GatewayKey:
    """Revoke the key with id or prefix ``ref``; running gateways drop it at once when they share
    Redis (told here unless ``tell_replicas`` is false: the caller tells them and reports how it
    went), else on their next refresh."""
    who = program.actor(actor)
    key = _find(program.store, ref)
    if key.person != who.name and "rollout-lead" not in who.roles:
        raise InvalidInput(f"{who.name} cannot revoke {key.person}'s key; they or a lead can")
    if key.revoked is not None:
        raise InvalidInput(f"key {key.id} ({key.person}) was already revoked at {key.revoked}")
    when = program.clock().astimezone(UTC).isoformat()
    with program.store.engine.begin() as conn:
        conn.execute(update(gateway_keys).where(gateway_keys.c.id == key.id).values(revoked=when))
    program.log_event(KEY_REVOKED, {"key": key.id, "prefix": key.prefix, "person": key.person})
    if tell_replicas:
        _tell_replicas(program)
    return GatewayKey(**{**key.__dict__, "revoked": when})


def close_access(program: Program, person: str) -> list[str]:
    """Take back every gateway key ``person`` holds (revoked) and every grant to them not yet
    fetched (withdrawn), as a rollout lead: what leaving the pilot before play 5 exits needs.
    Returns what was taken back, in words."""
    who = program.actor(None)
    if "rollout-lead" not in who.roles:
        raise InvalidInput(f"{who.name} cannot take back {person}'s gateway access; a lead can")
    closed = []
    for key in list_keys(program.store, include_revoked=False):
        if key.person == person:
            revoke_key(program, None, key.id, tell_replicas=False)
            closed.append(f"key {key.id} ({key.prefix}…) revoked")
    for grant in pending_grants(program, person):
        program.log_event(KEY_REVOKED, {"grant": grant["grant"], "person": person})
        closed.append(f"grant {grant['grant']} withdrawn before it was fetched")
    if closed:
        _tell_replicas(program)
    return closed


def _tell_replicas(program: Program) -> None:
    """Running gateways sharing Redis reload their keys now (the rest at their refresh)."""
    from inhouse.gateway.shared import announce

    told = announce(program.folder, "keys")
    if told.problem is not None:
        log.warning("could not tell the gateway replicas: %s; they pick the change up within "
                    "keys_refresh_seconds (%s s)", told.problem, told.refresh_seconds)  # fmt: skip


def list_keys(store: Store, *, include_revoked: bool = True) -> list[GatewayKey]:
    with store.engine.connect() as conn:
        query = select(gateway_keys).order_by(gateway_keys.c.created, gateway_keys.c.id)
        if not include_revoked:
            query = query.where(gateway_keys.c.revoked.is_(None))
        return [_row_key(row) for row in conn.execute(query).all()]


@dataclass(frozen=True)
class RefusedKey:
    """A row of ``gateway_keys`` the gateway does not serve, and why (what to do about it)."""

    key: GatewayKey
    reason: str


class KeyTable:
    """The active keys, in memory, for the request path: a dict lookup by prefix and a
    constant-time hash comparison. Rebuilt from the store on every refresh. ``refused``: the
    active rows the log does not vouch for, never looked up."""

    def __init__(
        self,
        keys: list[GatewayKey],
        refused: tuple[RefusedKey, ...] = (),
        revoked: Sequence[GatewayKey] = (),
    ) -> None:
        self.refused = refused
        self._by_prefix: dict[str, list[GatewayKey]] = {}
        for key in keys:
            if key.active:
                self._by_prefix.setdefault(key.prefix, []).append(key)
        #: the revoked rows' hashes by prefix, never served: only so that whoever presents one
        #: is told it was revoked, not to try again in a few seconds
        self._revoked: dict[str, list[str]] = {}
        for key in revoked:
            self._revoked.setdefault(key.prefix, []).append(key.hash)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._by_prefix.values())

    def verify(self, presented: str) -> GatewayKey | None:
        candidates = self._by_prefix.get(presented[:_PREFIX_LEN])
        if not candidates:
            return None
        digest = hash_key(presented)
        for key in candidates:
            if hmac.compare_digest(digest, key.hash):
                return key
        return None

    def why_refused(self, presented: str) -> RefusedKey | None:
        """The refused row ``presented`` is the key of, if any: its holder is told why, not
        "invalid or revoked" (an honest key fetched with an older inhouse, or granted before a
        guard held it back, is neither). Only the holder of the key itself is told."""
        digest = hash_key(presented)
        for refused in self.refused:
            if refused.key.prefix == presented[:_PREFIX_LEN] and hmac.compare_digest(
                digest, refused.key.hash
            ):
                return refused
        return None

    def was_revoked(self, presented: str) -> bool:
        """Whether ``presented`` is a key that was revoked (its row says so): its holder is told
        that, not to try again in a few seconds. Nothing more: not who revoked it, nor when;
        and only the holder of the key itself, whose hash it is, hears even that."""
        hashes = self._revoked.get(presented[:_PREFIX_LEN])
        if not hashes:
            return False
        digest = hash_key(presented)
        return any(hmac.compare_digest(digest, known) for known in hashes)


def _vouched(state: ProgramState) -> dict[str, Vouched]:
    """:func:`_ledger`'s keys, each held to the reach guards its grant and its person's place
    answer to: a grant made while a reach guard held it back, or a key its person kept after
    leaving the pilot while a reach guard held that back, no waiver on the record since (each
    fold judges them again: a grant or a removal appended around the API skipped its guard)."""
    from inhouse.program.guards import waiver_commands

    keys, _ = key_ledger(state)
    held = {h.seq: (h, left) for h, left in state.unwaived_reach() if h.person is None}
    kept = [(h, left) for h, left in state.unwaived_reach() if h.person is not None]
    for key, vouched in keys.items():
        grant = vouched.grant
        if vouched.issued is None or grant is None or vouched.revoked is not None:
            continue
        why = None
        if grant.seq in held:
            _, left = held[grant.seq]
            why = f"its grant (event {grant.seq}) was made while {_guards(left)} held it back"
        else:
            person = grant.payload.get("person")
            found = [(h, left) for h, left in kept if h.person == person and h.seq > grant.seq]
            if found:
                h, left = found[0]
                why = (
                    f"{person} left the pilot at event {h.seq}, after its grant (event "
                    f"{grant.seq}), while {_guards(left)} held access beyond the pilot back"
                )
        if why is not None:
            keys[key] = Vouched(
                problem=f"{why}, and no waiver covered it "
                f"({'; '.join(w for _, _, w in left)}): a rollout lead puts it on the record "
                f"with {waiver_commands(left)}"
            )
    return keys


def _guards(left: list[tuple[str, str | None, str]]) -> str:
    return ", ".join(dict.fromkeys(guard for guard, _, _ in left))


def _problem(row: GatewayKey, vouched: Vouched | None, state: ProgramState) -> str | None:
    """Why the log does not vouch for ``row``, in words its person can act on; None: it does."""
    again = (
        f"a rollout lead grants {row.person} a new key (`inhouse keys issue {row.person}`) and "
        f"{row.person} fetches it (`inhouse keys fetch`)"
    )
    if vouched is None and state.tampered is not None:
        problem, seq = state.tampered
        return (
            f"the event log does not verify from event {seq} ({problem}), and no event before "
            "it vouches for this key: restore the store from a backup (`inhouse audit verify`)"
        )
    if vouched is None:
        return f"no signed gateway.key.issued event names it: {again}"
    if vouched.issued is None:
        return f"{vouched.problem}: {again}"
    data = vouched.issued.payload
    if vouched.revoked is not None:
        return f"revoked by event {vouched.revoked} (gateway.key.revoked), whatever its row says"
    if "hash" not in data:
        return (
            "fetched before the log recorded key hashes (older inhouse), so nothing signed "
            f"says which key its row's hash is: {again}"
        )
    signed = (data.get("person"), data.get("agent"), data.get("prefix"), data.get("hash"))
    if signed != (row.person, row.agent, row.prefix, row.hash):
        return (
            f"its row does not match what {data.get('person')} signed in event "
            f"{vouched.issued.seq} (person, agent, prefix, hash): it was changed in the database"
        )
    return None


def load_key_table(store: Store, state: ProgramState) -> KeyTable:
    """The active rows of ``gateway_keys`` that ``state`` (the log, folded and verified)
    vouches for, served with the limits their grant signed; the others, refused with why. Reads
    the table and the key events only: the log itself is folded by the caller, incrementally."""
    vouched = _vouched(state)
    served: list[GatewayKey] = []
    refused: list[RefusedKey] = []
    rows = list_keys(store, include_revoked=False)
    for row in rows:
        found = vouched.get(row.id)
        problem = _problem(row, found, state)
        if problem is not None:
            refused.append(RefusedKey(row, problem))
        else:
            assert found is not None and found.grant is not None
            limits = KeyLimits.from_json(json.dumps(found.grant.payload.get("limits") or {}))
            served.append(replace(row, limits=limits))
    return KeyTable(served, tuple(refused), _last_revoked(store, REVOKED_TOLD))


#: how many revoked keys, the last revoked, a gateway still knows by their hash, to tell whoever
#: presents one that it was revoked (not to try again in a few seconds). Every revoked row stays
#: in ``gateway_keys``: held all, a gateway's memory (and each refresh's read) grew with every
#: key ever revoked. One revoked earlier is refused all the same (only active rows the log
#: vouches for are served), as "invalid or revoked".
REVOKED_TOLD = 1000


def _last_revoked(store: Store, most: int) -> list[GatewayKey]:
    """The ``most`` rows of ``gateway_keys`` revoked last."""
    with store.engine.connect() as conn:
        query = (
            select(gateway_keys)
            .where(gateway_keys.c.revoked.is_not(None))
            .order_by(gateway_keys.c.revoked.desc(), gateway_keys.c.id)
            .limit(most)
        )
        return [_row_key(row) for row in conn.execute(query).all()]


def refused_keys(program: Program) -> tuple[RefusedKey, ...]:
    """The active rows the gateway refuses to serve, as :func:`load_key_table` judges them from
    the program's log as it stands: each with why, and what to do about it."""
    return load_key_table(program.store, program.state()).refused
