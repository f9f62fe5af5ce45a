"""Prove the event log untampered: every hash, every link, every signature (the checks live in
:mod:`inhouse.program.integrity`, which the fold uses too); and anchors.

Walking from the first event, the audit recomputes each hash and link, and checks each signed
event's Ed25519 signature against the key the roster held for its signer at that point (keys
come from enrolments: the lead's at creation, each person's own at joining, a service's vouched
for by a lead). Rewriting an event and re-chaining the hashes after it is caught at the first
signature that no longer verifies. The first event's key is compared with ``lead_key`` in
``inhouse.toml`` (kept in git), so a store rebuilt from scratch by someone else is caught too,
and event 1's hash with its ``program_id``, so is one the lead rebuilt with her own key.
Cutting events off the end leaves a valid chain; an *anchor* (the head's seq and hash, written
to a file kept in git) catches that.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from inhouse.db import Store, events
from inhouse.errors import InvalidInput, LogTampered
from inhouse.outfiles import check_replaceable
from inhouse.program.integrity import ChainVerifier

__all__ = [
    "Anchor",
    "AuditReport",
    "SharedVerify",
    "check_anchor",
    "read_anchor",
    "verify_chain",
    "write_anchor",
]


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str | None = None
    head_seq: int = 0
    signed: int = 0
    unsigned: int = 0
    #: every hash, link and signature holds to the head, and the fold reads every event (where
    #: ``ok`` is False, only members' unauthorized events, set aside, are reported): the head
    #: may be anchored
    intact: bool = False


#: how long a full verify's report answers again, for the same head of the log
_FRESH = timedelta(minutes=5)


class SharedVerify:
    """Full verifies for a server that anyone signed in may ask for one (the dashboard's
    ``/audit?verify=full``): each walks and folds the whole log, so one walk runs at a time,
    and its report answers again, for the same head, for ``fresh`` after it ran (with when it
    ran): reloading the page starts no walk. A new event, or the time passing, starts one."""

    def __init__(
        self,
        store: Store,
        *,
        lead_key: str | None,
        clock: Callable[[], datetime],
        fresh: timedelta = _FRESH,
        program_id: str | None = None,
    ) -> None:
        self._store, self._lead_key, self._clock, self._fresh = store, lead_key, clock, fresh
        self._program_id = program_id
        self._last: tuple[tuple[int, str], datetime, AuditReport] | None = None
        self._lock = threading.Lock()

    def report(self, head: tuple[int, str]) -> tuple[AuditReport, datetime]:
        """The full verify's report for the log whose head is ``head`` (its seq and hash, as
        the fold read them), and when its walk ran."""
        with self._lock:  # a second asker waits for the walk running, then reuses it
            now = self._clock()
            if self._last is not None:
                seen, at, report = self._last
                if seen == head and at <= now < at + self._fresh:
                    return report, at
            report = verify_chain(self._store, lead_key=self._lead_key, program_id=self._program_id)
            self._last = (head, now, report)
            return report, now


@dataclass(frozen=True)
class Anchor:
    program_id: str
    seq: int
    hash: str


def verify_chain(
    store: Store, *, lead_key: str | None = None, program_id: str | None = None
) -> AuditReport:
    """Walk the log from the start; stop at the first event whose contents, links or signature
    do not hold. ``program_id`` (``inhouse.toml``'s, kept in git): the hash event 1 must have.
    The lead key alone does not tell a log its own lead made anew from the program's: she holds
    that key, and a log she started again verifies link by link. A member's event made without
    the authority to make it, which the fold sets aside, is reported too (not ok), with the
    chain ``intact`` to its head: the log holds a forgery attempt, and an auditor sees it."""
    verifier = ChainVerifier(lead_key, program_id)
    found = None
    with store.engine.connect() as conn:
        for row in conn.execute(select(events).order_by(events.c.seq)):
            if (found := verifier.check(row)) is not None:
                break
    if found is None and (pending := verifier.pending()) is not None:
        return AuditReport(False, verifier.checked, 1, pending)
    # every link and signature holds; the fold holds each event to its signer's authority too
    # (a handoff accepted by someone other than its receiver, a second program.created). Where
    # the walk alone stopped, the fold tells whether it was at what a member's forgery set
    # aside had taught it (his revocation of the lead's key: her next signature "fails")
    from inhouse.program.events import read_events
    from inhouse.program.state import fold

    state = fold(read_events(store), lead_key=lead_key, program_id=program_id)
    if state.tampered is not None:
        problem, seq = state.tampered
        # rows set aside right before it come first: a row stripped of its signature and the
        # rest re-chained is set aside (nobody's), and the next one's signature fails. Only the
        # run of them it ends: a member's attempt long before, set aside, is no part of it (it
        # was named the first bad event, and the events between called not intact)
        aside = dict(state.unauthorized)
        first = seq
        while first - 1 in aside:
            first -= 1
        if first < seq:
            problem = "; ".join([*(aside[at] for at in range(first, seq)), problem])
        return AuditReport(
            False, first - 1, first, problem, signed=verifier.signed, unsigned=verifier.unsigned
        )
    if (pending := state.verifier.pending()) is not None:
        return AuditReport(False, state.verifier.checked, 1, pending)
    walked = verifier if found is None else state.verifier
    head = None if walked.checked == 0 else walked.prev
    forged = state.unauthorized
    return AuditReport(
        not forged,
        walked.checked,
        forged[0][0] if forged else None,
        "; ".join(why for _, why in forged) or None,
        head_hash=head,
        head_seq=walked.checked,
        signed=walked.signed,
        unsigned=walked.unsigned,
        intact=True,
    )


def _an_anchor(path: Path) -> bool:
    try:
        read_anchor(path)
    except InvalidInput:
        return False
    return True


def write_anchor(store: Store, path: Path, program_id: str, report: AuditReport) -> Anchor:
    """Record the verified head in ``path`` (kept in git): a later cut-off tail shows. The
    anchor already there is rewritten only for a log that still holds what it saw: a log cut
    back (or rewritten) since is refused, naming the events gone, never anchored over, else
    whoever cut the tail erases the one record of it by anchoring again, as any routine run
    of this command would."""
    if not report.intact or report.head_hash is None:
        raise InvalidInput("anchor only a log whose chain verifies and has events")
    # the anchor is rewritten as the log grows; any other file there is someone's, kept
    check_replaceable(path, option="-o", what="an anchor file", ours=_an_anchor)
    if path.exists():
        earlier = read_anchor(path)
        if earlier.program_id != program_id:
            raise InvalidInput(
                f"{path} anchors another program ({earlier.program_id[:16]}…): nothing "
                "overwritten; give another -o FILE"
            )
        if (problem := check_anchor(store, earlier, report)) is not None:
            raise LogTampered(
                f"{path} saw event {earlier.seq} ({earlier.hash[:16]}…), and this log does not "
                f"hold it: {problem}. Nothing overwritten: restore the events from a copy of "
                "the log, or, if this log is knowingly the one to keep, say so in git by "
                "removing the anchor file, then anchor again"
            )
    anchor = Anchor(program_id, report.head_seq, report.head_hash)
    body = {"program": program_id, "seq": anchor.seq, "hash": anchor.hash}
    try:
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot write the anchor {path}: {err.strerror or err}") from None
    return anchor


def read_anchor(path: Path) -> Anchor:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(str(data["program"]), int(data["seq"]), str(data["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InvalidInput(f"cannot read the anchor {path}: {err}") from None


def check_anchor(store: Store, anchor: Anchor, report: AuditReport) -> str | None:
    """Why the log disagrees with ``anchor``, or None."""
    if report.head_seq < anchor.seq:
        return (
            f"events {report.head_seq + 1} to {anchor.seq} are missing: the log was cut off "
            f"after event {report.head_seq} (the anchor saw {anchor.seq})"
        )
    with store.engine.connect() as conn:
        found = conn.execute(select(events.c.hash).where(events.c.seq == anchor.seq)).scalar()
    if found != anchor.hash:
        return f"event {anchor.seq} is not the one the anchor saw: the log was rewritten"
    return None
