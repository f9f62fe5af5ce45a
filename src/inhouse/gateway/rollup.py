"""Daily rollups: the usage log, summed per person and day, recorded as ``usage.daily`` facts
(one per day, with every person's totals that day).

Play 4's ``pilot-independent-use`` check (and play 6's ``use-beyond-pilot``) read these facts.
Only answered requests (status below 400) count. Rolling up again records a fact only for a
(day, person) whose totals changed since the gateway's key last signed them, so it is safe on a
timer (a day's figures anyone else signed are not "signed already").

The summary tables say which days changed; what is signed is summed from the day's request rows
whose MAC verifies (:mod:`inhouse.usage.authentic`), so a row or a summary figure anyone with
the database's password typed in is left out and named, never signed by the gateway's key.

Each day's fact also carries, per person, the tools offered the model through their keys bound
to no agent (``unbound_tools``: how many answered requests offered tools, and the tools' sorted
names), read from the same sealed rows' ``tool_calls``: an agent run on a person's own key, with
no boundary, is what play 5's ``agent-boundaries`` fails on. Requests on any weights count there
(an agent ran, blessed weights or not); a day whose tools changed is signed again.

Only use of the baseline counts: once the program's log records a lock, a row counts only where
its digest is one the lock recorded that day blessed (any lock that was the recorded one at some
time that day; for a day before the first, the first). The rest (weights routed from an
``inhouse.lock`` nobody verified, while no lock was recorded or before the gateway followed the
recorded lock) is set aside and named, so plays 4 to 6 never count use of unverified weights.
While the log records no lock at all, every answered row counts as before: nothing is verified
yet to judge them by, and the plays that read this usage start after a lock is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from inhouse.db.schema import gateway_usage
from inhouse.usage import totals as usage_totals
from inhouse.usage.authentic import (
    GATEWAY_SERVICE,
    Rejected,
    Seal,
    authentic_rows,
    left_out_message,
    mac_key,
)
from inhouse.usage.totals import ANSWERED_BELOW, day_text

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.identity import SigningKey
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = [
    "COLLECTOR",
    "SERVICE",
    "TOOLS_NAMED",
    "Rollup",
    "blessed_by_day",
    "compact_rows",
    "compaction_cutoff",
    "daily_totals",
    "gateway_mac_key",
    "gateway_seal",
    "purge_bodies",
    "remember_seal",
    "rollup_usage",
    "seal_of",
    "service_program",
    "split_blessed",
    "unblessed_message",
]

COLLECTOR = "inhouse gateway rollup"
SERVICE = GATEWAY_SERVICE  # the gateway's own identity on the roster


def gateway_mac_key(folder: Path) -> bytes:
    """The key the gateway seals its usage rows with, derived from its own service key (read,
    or created the first time, where :meth:`Program.as_service` reads it): on the gateway's
    host, and on every replica, which must hold the same key file."""
    from inhouse.program.core import service_key

    key = service_key(folder, SERVICE)
    remember_seal(folder, key)
    return mac_key(key.private)


def gateway_seal(program: Program, *, make: bool = True) -> Seal | None:
    """The gateway's key as a reader of its rows holds it (:class:`Seal`): its MAC key, and
    where the log revoked the key the file holds, its words (every row it verifies is then
    left out, :func:`~inhouse.usage.authentic.authentic_rows`). ``make``: read or create the
    file, as :func:`gateway_mac_key` (where a command goes on to sign as the gateway, which
    refuses a revoked key first); else None where this host holds no key file (a dashboard or a
    check never makes one: rows sealed with the old key would no longer verify)."""
    from inhouse.program.core import read_service_key, service_key

    key = (
        service_key(program.folder, SERVICE) if make else read_service_key(program.folder, SERVICE)
    )
    if key is None:
        return None
    remember_seal(program.folder, key)
    return seal_of(program.folder, program.state(), key)


def seal_of(folder: Path, state: ProgramState, key: SigningKey) -> Seal:
    """The :class:`Seal` the gateway's ``key`` reads its rows with, as the log ``state`` stands:
    whether it revoked that key, and the earlier keys the host kept (:func:`remember_seal`)."""
    from inhouse.program.core import revoked_key_words

    earlier = tuple(
        Seal(mac, key_id, revoked_key_words(state, key_id))
        for key_id, mac in _earlier_seals(folder, state, key.key_id)
    )
    return Seal(mac_key(key.private), key.key_id, revoked_key_words(state, key.key_id), earlier)


#: what a gateway key signs to vouch for its own MAC key in :func:`remember_seal`'s file
_SEAL_CONTEXT = b"inhouse gateway: the MAC key this key seals usage rows with, v1\n"


def _seals_folder(folder: Path) -> Path:
    from inhouse.location import DATA_DIR

    return folder / DATA_DIR / "keys" / f"{SERVICE}.seals"


def remember_seal(folder: Path, key: SigningKey) -> None:
    """Keep, on the gateway's host, the MAC key ``key`` seals usage rows with, signed by
    ``key`` (``.inhouse/keys/gateway.seals/ID.json``, mode 0600): once the key file is rotated
    (deleted, a new key made) the rows it sealed still verify there, so they read as what they
    are, the gateway's, and count while the log holds that key enrolled and not revoked. Only
    a MAC key is kept, never the private key: nothing is signed with a key rotated out. A host
    that cannot write the file keeps nothing (its old rows read as before, not sealed)."""
    import os

    path = _seals_folder(folder) / f"{key.key_id.partition(':')[2] or key.key_id}.json"
    if path.exists():
        return
    mac = mac_key(key.private)
    record = {
        "key_id": key.key_id,
        "mac": mac.hex(),
        "signature": key.sign(_SEAL_CONTEXT + key.key_id.encode() + b"\n" + mac),
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # made by another worker meanwhile, or a folder this process may not write
        return
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(record, out)


def _earlier_seals(folder: Path, state: ProgramState, current: str) -> list[tuple[str, bytes]]:
    """The MAC keys :func:`remember_seal` kept of the gateway's keys other than ``current``,
    each with its key id: only those whose record the key the log enrolled for the gateway
    signed (a file someone wrote with a MAC key of their own choosing vouches for nothing)."""
    from inhouse.identity import verify_signature

    found: list[tuple[str, bytes]] = []
    folder = _seals_folder(folder)
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            key_id, mac = str(record["key_id"]), bytes.fromhex(str(record["mac"]))
            signature = str(record["signature"])
        except (OSError, ValueError, TypeError, KeyError):
            continue  # unreadable or malformed: no key of the gateway's
        enrolled = state.keys.get(key_id)
        if key_id == current or enrolled is None or enrolled.person != SERVICE:
            continue
        signed = _SEAL_CONTEXT + key_id.encode() + b"\n" + mac
        if verify_signature(enrolled.public_key, signed, signature):
            found.append((key_id, mac))
    return found


def service_program(program: Program) -> Program:
    """The program, acted on with the gateway's own key: usage facts are signed by the
    gateway, not by a person (:meth:`Program.as_service`)."""
    return program.as_service(SERVICE)


def daily_totals(program: Program, *, since: str | None = None) -> list[dict[str, Any]]:
    """Answered requests and tokens per (day, person), oldest day first: the payloads of
    ``usage.daily`` facts, summed by :mod:`inhouse.usage`."""
    return [
        {
            "day": row.day,
            "person": row.person,
            "requests": row.requests,
            "tokens_in": row.tokens_in,
            "tokens_out": row.tokens_out,
        }
        for row in usage_totals(program.store, ("day", "person"), since=since)
    ]


#: what a person's day holds in a ``usage.daily`` fact
_TOTALS = ("requests", "tokens_in", "tokens_out")


@dataclass
class Rollup:
    """What a rollup signed, and what it left out."""

    #: the (day, person) totals new or changed, as signed (:func:`daily_totals`' shape)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    #: the rows of the days rolled up that the gateway did not write as they stand
    left_out: list[Rejected] = field(default_factory=list)
    #: where the log revoked the key the rows were read with, its words (its rows left out)
    revoked: str | None = None
    #: (day, person) whose summary-table totals disagree with the rows the gateway wrote
    disagreeing: list[tuple[str, str]] = field(default_factory=list)
    #: days past the compaction horizon, signed before, whose summary totals changed: their
    #: rows may be compacted, so they are not signed again
    compacted: list[str] = field(default_factory=list)
    #: answered requests not counted, per (day, person, digest): on weights no lock the log
    #: recorded that day blessed
    unblessed: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: each day signed (again) whose tools offered through keys bound to no agent are new or
    #: changed: ``{"day", "person", "requests", "tools"}`` for each person offering them
    unbound_tools: list[dict[str, Any]] = field(default_factory=list)

    def notes(self) -> list[str]:
        """What a person running the rollup should hear about what was not signed."""
        notes = []
        rows = left_out_message(self.left_out, revoked=self.revoked)
        if rows:
            notes.append(rows)
        if self.disagreeing:
            named = ", ".join(f"{day} {person}" for day, person in self.disagreeing[:10])
            more = f", and {len(self.disagreeing) - 10} more" if len(self.disagreeing) > 10 else ""
            notes.append(
                f"the summary tables' totals of {len(self.disagreeing)} (day, person) disagree "
                f"with the rows this gateway wrote, whose totals were used: {named}{more}"
            )
        if message := unblessed_message(self.unblessed):
            notes.append(message)
        if self.compacted:
            notes.append(
                f"{len(self.compacted)} days past the request rows' retention, signed before, "
                f"changed in the summary tables and were not signed again: "
                f"{', '.join(self.compacted)}"
            )
        return notes


def rollup_usage(program: Program, actor: str | None = None, *, since: str | None = None) -> Rollup:
    """Record a ``usage.daily`` fact for every day on which some person's totals are new or
    changed: one fact per day with everyone's totals that day (a department of 2,000 adds a
    fact a day to the log, not 2,000).

    The summary tables name the days that changed; each such day's totals are then summed from
    its request rows whose MAC verifies, and only those are signed: rows without one or with a
    wrong one are left out, and a summary figure the rows do not bear out is not signed. A day
    past the compaction horizon (``request_rows_days``) that was signed before is never signed
    again: its rows may be gone, and what was signed for it stands."""
    from inhouse.program import Provenance
    from inhouse.program.counting import marked_service, not_their_fetch
    from inhouse.program.facts import standing_usage

    program.actor(actor)  # whoever runs the rollup must be enrolled
    if since is not None:  # refused before the gateway's key is enrolled, not after
        day_text(since, "since")
    service = service_program(program)
    # what the gateway's own key signed: a day anyone else wrote up (their typed figures count
    # for nothing) is not signed yet, whatever totals it gives; nor is one a gateway key a
    # marked lead's key enrolled signed (exit rule 39: its holder could sign each day first)
    state = program.state()
    signed_facts = [
        fact
        for fact in state.facts
        if fact.kind == "usage.daily"
        and fact.by == SERVICE
        and fact.signed
        and not marked_service(fact, state)
    ]
    seen_tools: dict[str, Any] = {}  # the tools each day's latest signed fact says
    for fact in signed_facts:
        seen_tools[str(fact.payload["day"])] = fact.payload.get("unbound_tools") or {}
    # each day's figures as the checks read them, as last signed: someone a later reading of
    # the day left out (their rows did not verify then) is not signed, and is signed again
    # once their rows bear the figures out
    seen = {
        (day, person): {key: int(totals.get(key, 0)) for key in _TOTALS}
        for day, readings in standing_usage(signed_facts).items()
        for person, (_, totals) in readings.items()
    }
    # and each person's runs per workflow as last signed (none in a fact from before)
    seen_runs = {
        (day, person): dict(totals.get("workflows") or {})
        for day, readings in standing_usage(signed_facts).items()
        for person, (_, totals) in readings.items()
    }
    summary: dict[str, dict[str, dict[str, int]]] = {}
    for totals in daily_totals(program, since=since):
        summary.setdefault(str(totals["day"]), {})[str(totals["person"])] = {
            key: totals[key] for key in _TOTALS
        }
    # and the runs each workflow's requests make, as the summary tables count them: a day
    # signed before the rollup counted runs (or whose runs changed) is read again
    summary_runs: dict[tuple[str, str], dict[str, int]] = {}
    for each in usage_totals(program.store, ("day", "person", "workflow"), since=since):
        if each.workflow:
            named = summary_runs.setdefault((str(each.day), str(each.person)), {})
            named[each.workflow] = each.requests
    result = Rollup()
    candidates = [
        day for day, people in summary.items()
        if any(seen.get((day, person)) != figures
               or seen_runs.get((day, person), {}) != summary_runs.get((day, person), {})
               for person, figures in people.items())
    ]  # fmt: skip
    cutoff = compaction_cutoff(program)
    if cutoff is not None:  # past the horizon a day's rows may be gone: what was signed stands
        signed = set(seen_tools)
        result.compacted = [day for day in candidates if day < cutoff and day in signed]
        candidates = [day for day in candidates if day >= cutoff or day not in signed]
    if not candidates:
        return result
    seal = gateway_seal(program)
    assert seal is not None  # made where none was
    found = authentic_rows(program.store, seal, days=candidates)
    result.left_out = found.rejected
    result.revoked = seal.revoked
    blessed = blessed_by_day(program)
    # a key whose fetch is not its person's (a lead's, in their name) is nobody's own use
    theirs_not = not_their_fetch(program.state())
    rows: dict[str, dict[str, dict[str, int]]] = {}
    aside: dict[str, dict[str, dict[str, int]]] = {}  # the summary tables count these too
    own: dict[tuple[str, str], int] = {}  # answered through the person's own key, no agent's
    tools: dict[str, dict[str, dict[str, Any]]] = {}  # day -> person -> unbound tools
    runs: dict[tuple[str, str], dict[str, int]] = {}  # (day, person) -> workflow -> runs
    for row in found.rows:
        if row.status >= ANSWERED_BELOW:
            continue
        if not row.agent and row.tool_calls:
            _add_tools(tools, row)
        if blessed is not None and row.digest not in blessed(row.day):
            unblessed = (row.day, row.person, str(row.digest or "no digest"))
            result.unblessed[unblessed] = result.unblessed.get(unblessed, 0) + 1
            _add(aside, row)
            continue
        _add(rows, row)
        if row.workflow_id:  # a workflow's run, as its request named it to the gateway
            theirs = runs.setdefault((row.day, row.person), {})
            theirs[row.workflow_id] = theirs.get(row.workflow_id, 0) + 1
        if not row.agent and row.key_id not in theirs_not:
            own[row.day, row.person] = own.get((row.day, row.person), 0) + 1
    for day in sorted(candidates):
        people = dict(sorted(rows.get(day, {}).items()))
        both = {
            person: _plus(people.get(person), aside.get(day, {}).get(person))
            for person in set(people) | set(aside.get(day, {}))
        }
        result.disagreeing.extend(
            (day, person)
            for person in sorted(set(summary[day]) | set(both))
            if summary[day].get(person) != both.get(person)
        )
        changed = [
            {"day": day, "person": person, **figures}
            for person, figures in people.items()
            if seen.get((day, person)) != figures
            or seen_runs.get((day, person), {}) != runs.get((day, person), {})
        ]
        offered = {
            person: _named(each["requests"], each["tools"])
            for person, each in sorted(tools.get(day, {}).items())
        }
        if not changed and offered == seen_tools.get(day, {}):
            continue
        # each person's own-key requests beside their totals: who was active that day, as
        # play 6's daily, weekly and monthly counts read it (an agent's use makes nobody active)
        # and their runs per workflow: play 6's work changed counts runs the gateway signed
        stated = {
            person: {
                **figures,
                "own": own.get((day, person), 0),
                **(
                    {"workflows": dict(sorted(ran.items()))}
                    if (ran := runs.get((day, person)))
                    else {}
                ),
            }
            for person, figures in people.items()
        }
        service.record_fact(
            None,
            "usage.daily",
            {"day": day, "people": stated, **({"unbound_tools": offered} if offered else {})},
            provenance=Provenance.MEASURED,
            collector=COLLECTOR,
        )
        result.recorded.extend(changed)
        if offered != seen_tools.get(day, {}):
            result.unbound_tools.extend(
                {"day": day, "person": person, **each} for person, each in offered.items()
            )
    return result


def unblessed_message(counts: dict[tuple[str, str, str], int]) -> str | None:
    """What to say of the answered requests left uncounted per (day, person, digest) because
    no lock the log recorded that day blessed their weights (None: there were none)."""
    if not counts:
        return None
    count = sum(counts.values())
    named = ", ".join(
        f"{day} {person} on {digest[:19]} ({n})"
        for (day, person, digest), n in list(counts.items())[:10]
    )
    more = f", and {len(counts) - 10} more" if len(counts) > 10 else ""
    return (
        f"{count} answered request{'s' if count != 1 else ''} on weights no recorded lock "
        f"blessed that day were not counted: {named}{more}. Use of other weights counts once "
        "`inhouse baseline lock` records them and a second person runs `inhouse baseline verify`"
    )


def split_blessed(
    rows: list[Any], blessed: Callable[[str], frozenset[str]] | None
) -> tuple[list[Any], dict[tuple[str, str, str], int]]:
    """``rows`` (sealed usage rows) parted into those on weights a lock the log recorded that
    day blessed (all of them while it records none: ``blessed`` is None) and, of the answered
    rest, how many per (day, person, digest): what the gateway's key signs about use counts
    only use of the baseline, in the daily usage, the adoption report and prompt use alike."""
    if blessed is None:
        return rows, {}
    kept: list[Any] = []
    aside: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if row.digest in blessed(row.day):
            kept.append(row)
        elif row.status < ANSWERED_BELOW:
            which = (row.day, row.person, str(row.digest or "no digest"))
            aside[which] = aside.get(which, 0) + 1
    return kept, aside


def _add(into: dict[str, dict[str, dict[str, int]]], row: Any) -> None:
    figures = into.setdefault(row.day, {}).setdefault(
        row.person, {"requests": 0, "tokens_in": 0, "tokens_out": 0}
    )
    figures["requests"] += 1
    figures["tokens_in"] += row.tokens_in
    figures["tokens_out"] += row.tokens_out


#: the most tool names a day's fact lists per person (the rest are counted, as ``more``)
TOOLS_NAMED = 50


def _named(requests: int, tools: set[str]) -> dict[str, Any]:
    named = sorted(tools)
    shown = {"requests": requests, "tools": named[:TOOLS_NAMED]}
    return {**shown, "more": len(named) - TOOLS_NAMED} if len(named) > TOOLS_NAMED else shown


def _add_tools(into: dict[str, dict[str, dict[str, Any]]], row: Any) -> None:
    """Count a sealed row of a key bound to no agent whose request (or answer) carried tools."""
    try:
        calls = json.loads(row.tool_calls)
    except ValueError:
        return
    listed = calls if isinstance(calls, list) else []
    names = {str(call["tool"]) for call in listed if isinstance(call, dict) and call.get("tool")}
    if not names:
        return
    offered = into.setdefault(row.day, {}).setdefault(row.person, {"requests": 0, "tools": set()})
    offered["requests"] += 1
    offered["tools"] |= names


def _plus(one: dict[str, int] | None, other: dict[str, int] | None) -> dict[str, int] | None:
    if one is None or other is None:
        return one or other
    return {key: one[key] + other[key] for key in one}


def blessed_by_day(
    program: Program, now: datetime | None = None
) -> Callable[[str], frozenset[str]] | None:
    """The digests a row of a day may carry to count: those of every lock the log recorded
    that was the recorded one at some time that day (for a day before the first, the first's);
    None while the log records no lock that counts (as the checks count the log at ``now``:
    default, the clock's)."""
    from inhouse.program.counting import build_context  # counting loads the play checks

    when = program.clock() if now is None else now
    locks = sorted(
        build_context(program.state(), when).facts.of("baseline.lock"),
        key=lambda f: (f.at, f.id),
    )
    if not locks:
        return None
    dated = [
        (f.at.astimezone(UTC).date().isoformat(),
         frozenset(str(m["digest"]) for m in f.payload["models"]))
        for f in locks
    ]  # fmt: skip

    def blessed(day: str) -> frozenset[str]:
        before = [digests for when, digests in dated if when < day]
        that_day = [digests for when, digests in dated if when == day]
        current = before[-1:] or ([] if that_day else [dated[0][1]])
        return frozenset().union(*current, *that_day)

    return blessed


def purge_bodies(program: Program) -> int:
    """Drop stored bodies older than their model's ``retention_days``; returns how many."""
    from inhouse.policy import load_rules
    from inhouse.program.config import read_config

    config = read_config(program.folder)
    if "data_rules" not in config:
        return 0
    rules = load_rules(config)
    with program.store.engine.connect() as conn:
        models = [str(m) for (m,) in conn.execute(
            select(gateway_usage.c.model).where(gateway_usage.c.body.is_not(None)).distinct()
        ).all()]  # fmt: skip
    purged = 0
    now = program.clock()
    with program.store.engine.begin() as conn:
        for model in models:
            days = rules.retention_days(model)
            if days is None:
                continue
            cutoff = (now - timedelta(days=days)).isoformat()
            result = conn.execute(
                update(gateway_usage)
                .where(gateway_usage.c.model == model, gateway_usage.c.at < cutoff,
                       gateway_usage.c.body.is_not(None))
                .values(body=None)
            )  # fmt: skip
            purged += result.rowcount or 0
    return purged


def compaction_cutoff(program: Program) -> str | None:
    """The first day whose request rows :func:`compact_rows` keeps (None: it keeps them all):
    the days before it cannot be summed from their rows any more."""
    from inhouse.policy import load_rules
    from inhouse.program.config import read_config

    config = read_config(program.folder)
    if "data_rules" not in config:
        return None
    days = load_rules(config).request_rows_days
    if days is None:
        return None
    return (program.clock() - timedelta(days=days)).date().isoformat()


def compact_rows(program: Program) -> int:
    """Delete the usage log's request rows older than the data rules' ``request_rows_days``
    (their totals stay in the daily rollups, which plays 4 to 6 read); returns how many.

    A gateway that was down longer than this and replays its spool may count a request twice
    whose row had reached the database and was compacted before the replay: keep the horizon
    well beyond any outage (weeks, not days). A day is signed from its rows
    (:func:`rollup_usage`): what was signed for a compacted day stands, and a day not rolled up
    before its rows go is never signed, so the rollup runs well within the horizon."""
    cutoff = compaction_cutoff(program)
    if cutoff is None:
        return 0
    with program.store.engine.begin() as conn:
        result = conn.execute(delete(gateway_usage).where(gateway_usage.c.day < cutoff))
    return result.rowcount or 0
