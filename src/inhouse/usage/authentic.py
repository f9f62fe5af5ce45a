"""Which usage rows the gateway wrote: the MAC each row carries, and reading the rows whose MAC
verifies.

In a team deployment the usage log lives in the shared database every enrolled CLI writes to,
so a row of ``gateway_usage`` (or a figure in the summary tables kept beside it) proves nothing
by being there. The gateway seals each row it writes with an HMAC-SHA256 under a key derived
(HKDF) from its own service key, which only the gateway's host holds (``.inhouse/keys/
gateway.key``, the key that signs its facts), and what that key signs (``usage.daily``,
``pilot.adoption``, ``prompt.usage``) is computed from rows whose MAC verifies, never from the
summary tables alone.

    key = mac_key(private)                        # on the gateway's host
    row_mac(key, fields)                          # the gateway, once per record
    seal = Seal(key, key_id, revoked=None)        # the key, and whether the log revoked it
    found = authentic_rows(store, seal, days=["2026-11-03"])
    found.rows, found.rejected                    # verified rows; the others, named

The MAC covers every column a summary table or a signed figure is derived from (and every
other column but ``body``, which the retention purge sets to NULL later and nothing counts).
Rows written before the gateway sealed its rows have no MAC and never count toward a new
signature; nor does a second row with a request id already read (``request_id`` is the table's
key, so only someone who dropped it could have copied a sealed row).

A key rotated out (its file deleted on the gateway's host, a new one made) still verifies the
rows it sealed where the host kept its MAC key, vouched for by the key itself
(:func:`~inhouse.gateway.rollup.gateway_seal`, :attr:`Seal.earlier`): those rows are the
gateway's, and count while the log has enrolled that key for the gateway and never revoked it.

A row sealed with a key the log has revoked counts for nothing, whatever time it gives: its
``at`` and ``day`` are the gateway host's clock, its operator's (a rollout lead's) to set, and
whoever kept the revoked key file can seal a row dated before the revocation at any time after
it. What cannot be back-dated is the log: what that key signed from its rows before the
revocation event (``usage.daily``, ``pilot.adoption``, ``prompt.usage``) stands, judged by
their position in the log; the rows themselves are read as not sealed, and say why.
"""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from inhouse.db import Store
from inhouse.db.schema import gateway_usage

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "COVERED",
    "COVERED_WHERE_SET",
    "GATEWAY_SERVICE",
    "MAC_INFO",
    "REVOKED",
    "Authentic",
    "Rejected",
    "Seal",
    "authentic_rows",
    "left_out_message",
    "mac_key",
    "row_mac",
]

#: the gateway's own identity on the roster: the service whose key seals these rows and signs
#: what is measured from them. Named here, below the gateway and the play packages, so that
#: pilot code names it without importing :mod:`inhouse.gateway` (which loads its whole server)
GATEWAY_SERVICE = "gateway"

#: HKDF's ``info``: the MAC key is bound to this one use of the gateway's private key
MAC_INFO = b"inhouse gateway usage rows: HMAC-SHA256 key, v1"

#: the columns a row's MAC covers, in the order they are encoded (``body`` and ``mac`` aside),
#: then :data:`COVERED_WHERE_SET`
COVERED = (
    "request_id", "at", "day", "person", "key_id", "agent", "endpoint", "model", "digest",
    "prompt_id", "workflow_id", "stream", "tokens_in", "tokens_out", "ttft_ms", "latency_ms",
    "overhead_ms", "status", "policy", "upstream", "tool_calls",
)  # fmt: skip

#: columns added since, encoded after :data:`COVERED` only where not NULL: a row without them
#: (written before they were, or with nothing to say) is sealed as rows were before (0011)
COVERED_WHERE_SET = ("prompt_sent",)

#: a :class:`Rejected`'s ``why`` for a row whose MAC verifies with a key the log revoked
REVOKED = "sealed with a revoked key"

#: hex characters of the HMAC kept (128 bits)
_MAC_CHARS = 32


def mac_key(private: Ed25519PrivateKey) -> bytes:
    """The usage rows' MAC key, derived from the gateway's private key (HKDF-SHA256): no second
    secret to keep, and whoever holds the gateway's key file (its host, its replicas) has it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=MAC_INFO).derive(raw)


def row_mac(key: bytes, fields: Sequence[Any]) -> str:
    """The MAC of one row: ``fields`` are its :data:`COVERED` columns in that order, texts as
    stored, integers as ``int`` and times in ms as ``float`` (or None), encoded as one JSON
    array, which no two different rows share."""
    try:
        message = orjson.dumps(fields)
    except orjson.JSONEncodeError:  # what only json can write (an int over 64 bits)
        message = json.dumps(list(fields), separators=(",", ":")).encode()
    mac = _keyed(key).copy()  # hmac.digest(key, message, "sha256"), at half the cost
    mac.update(message)
    return mac.hexdigest()[:_MAC_CHARS]


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 keyed once: ``hmac.digest`` keys OpenSSL's HMAC anew on every call
    (~3 µs a row); a copy of a keyed one is ~1.4 µs."""
    return hmac.new(key, digestmod="sha256")


def _fields(row: Any) -> tuple[Any, ...]:
    """A stored row's covered columns, typed as the gateway encoded them."""
    return (
        row.request_id, row.at, row.day, row.person, row.key_id, row.agent, row.endpoint,
        row.model, row.digest, row.prompt_id, row.workflow_id, int(row.stream),
        int(row.tokens_in), int(row.tokens_out),
        None if row.ttft_ms is None else float(row.ttft_ms), float(row.latency_ms),
        float(row.overhead_ms), int(row.status), row.policy, row.upstream, row.tool_calls,
        *(() if row.prompt_sent is None else (int(row.prompt_sent),)),  # COVERED_WHERE_SET
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Seal:
    """The gateway's key as a reader of its rows holds it: the MAC key (:func:`mac_key`), the
    service key's id, and where the log revoked that key, its words
    (:func:`inhouse.program.core.revoked_key_words`): then no row it verifies counts."""

    key: bytes
    key_id: str | None = None
    revoked: str | None = None
    #: the gateway's earlier keys, rotated out (:func:`~inhouse.gateway.rollup.gateway_seal`
    #: reads those the log enrolled for the gateway): a row one of them verifies is the
    #: gateway's, and counts unless the log revoked that key (then :data:`REVOKED`)
    earlier: tuple[Seal, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A usage row the gateway did not write as it stands: no MAC, or one that does not verify
    (the row was made or edited by someone else)."""

    request_id: str
    day: str
    person: str
    why: str  # "no MAC", "wrong MAC", "duplicate request id" or REVOKED

    def __str__(self) -> str:
        return f"{self.request_id} ({self.person}, {self.day}, {self.why})"


@dataclass
class Authentic:
    """The rows read: those whose MAC verifies, and the others."""

    rows: list[Any] = field(default_factory=list)  # SQLAlchemy rows of the covered columns
    rejected: list[Rejected] = field(default_factory=list)


#: days per ``IN (...)`` list (well within SQLite's parameter limit)
_DAYS_PER_QUERY = 200


def authentic_rows(
    store: Store,
    seal: Seal,
    *,
    days: Iterable[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    people: Iterable[str] | None = None,
    prompts_only: bool = False,
    agents_only: bool = False,
) -> Authentic:
    """The usage rows of ``days`` (or from ``since`` to ``until``, both included), of
    ``people`` where given (and only those that named a library prompt, with
    ``prompts_only``; only agents' rows that carried tool calls, with ``agents_only``), split
    into those whose MAC verifies and those whose does not. A row whose MAC verifies with a
    ``seal`` the log revoked is rejected too (:data:`REVOKED`): its time is its sealer's word.
    Only a :class:`Seal` (:func:`~inhouse.gateway.rollup.gateway_seal`, which asks the log): a
    bare key would read rows sealed with a revoked key as counting (:class:`TypeError`)."""
    if not isinstance(seal, Seal):
        raise TypeError(
            "authentic_rows reads with a Seal (inhouse.gateway.rollup.gateway_seal), which says "
            f"whether the log revoked the key, not {type(seal).__name__}"
        )
    u = gateway_usage.c
    base = select(*(u[name] for name in (*COVERED, *COVERED_WHERE_SET)), u.mac)
    if since is not None:
        base = base.where(u.day >= since)
    if until is not None:
        base = base.where(u.day <= until)
    if people is not None:
        base = base.where(u.person.in_(sorted(set(people))))
    if prompts_only:
        base = base.where(u.prompt_id.is_not(None))
    if agents_only:  # the partial index's conditions (inhouse.usage.toolcalls)
        base = base.where(u.agent.is_not(None), u.tool_calls.is_not(None))
    queries = [base]
    if days is not None:
        wanted = sorted(set(days))
        queries = [
            base.where(u.day.in_(wanted[start : start + _DAYS_PER_QUERY]))
            for start in range(0, len(wanted), _DAYS_PER_QUERY)
        ]
    found = Authentic()
    seen: set[str] = set()
    with store.engine.connect() as conn:
        for query in queries:
            for row in conn.execute(query):
                if row.mac is None:
                    found.rejected.append(Rejected(row.request_id, row.day, row.person, "no MAC"))
                elif (sealer := _sealer(seal, row)) is not None:
                    if sealer.revoked is not None:  # whenever it says it was written
                        found.rejected.append(
                            Rejected(row.request_id, row.day, row.person, REVOKED)
                        )
                        continue
                    if row.request_id in seen:  # the table's key dropped, a sealed row copied
                        found.rejected.append(
                            Rejected(row.request_id, row.day, row.person, "duplicate request id")
                        )
                        continue
                    seen.add(row.request_id)
                    found.rows.append(row)
                else:
                    found.rejected.append(
                        Rejected(row.request_id, row.day, row.person, "wrong MAC")
                    )
    return found


def _sealer(seal: Seal, row: Any) -> Seal | None:
    """Which of the gateway's keys (``seal``, then its earlier ones) sealed ``row``; None: none
    of them (no key this host holds verifies it)."""
    fields = _fields(row)
    mac = str(row.mac)
    for each in (seal, *seal.earlier):
        if hmac.compare_digest(row_mac(each.key, fields), mac):
            return each
    return None


def left_out_message(
    rejected: Sequence[Rejected], *, shown: int = 10, revoked: str | None = None
) -> str | None:
    """The line a command prints about the rows it left out (None: none was); ``revoked``: the
    words of the key the log revoked that sealed the :data:`REVOKED` ones (:attr:`Seal.revoked`)."""
    if not rejected:
        return None
    said = []
    others = [r for r in rejected if r.why != REVOKED]
    if others:
        said.append(_named(others, shown, "not written by this gateway"))
    if len(others) < len(rejected):
        key = f"the gateway's {revoked}" if revoked else "a gateway key the log revoked"
        said.append(
            _named([r for r in rejected if r.why == REVOKED], shown, f"sealed with {key}")
            + ": a row's time is the gateway host's clock, and whoever kept the revoked key "
            "can seal a row dated before its revocation, so no row it seals counts; what it "
            "signed into the log before the revocation stands"
        )
    return "; ".join(said)


def _named(rejected: Sequence[Rejected], shown: int, what: str) -> str:
    named = ", ".join(str(r) for r in rejected[:shown])
    more = f", and {len(rejected) - shown} more" if len(rejected) > shown else ""
    rows = "row" if len(rejected) == 1 else "rows"
    were = "was" if len(rejected) == 1 else "were"
    return f"{len(rejected)} usage {rows} {what} {were} left out: {named}{more}"
