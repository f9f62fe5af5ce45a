"""What this machine saw of the log: the newest event a command here read or wrote, kept per
user, so that a log cut back (or rewritten) under it is named at the next command, not folded
quietly.

Whoever can write the store can delete its newest events: the chain up to the new head still
verifies, and before this only an anchor kept in git (``inhouse audit anchor``), checked by
someone who thought to (``audit verify --anchor``), noticed. The store's host (a rollout lead)
could drop a colleague's failing workflow run, survey answer or reopened ticket, the newest
events, and record her own on top. Each colleague's machine saw its own event go in, and the
host cannot reach their home folder: so every command keeps, in ``$XDG_STATE_HOME/inhouse/seen/``
(``~/.local/state`` by default; mode 0600), the event it saw last for this program and
database (its seq, its hash, whose and what it was), and the next command here checks that the
log still holds it. Where it does not, the state is marked tampered (:data:`CUT`) and nothing is
recorded on it, as for any forgery: its message names the event that is gone.

    problem = seen_problem(store, program_id, where)   # None while the log holds what we saw
    remember(store, program_id, where, seq)             # a newer event seen: kept

A store restored from an older backup on purpose loses the same events, and says so the same
way; the person who reads that and knows of the restore runs ``inhouse audit forget-seen``,
which sets the file named aside, never deleting it (:func:`forget`; each person records again
what they had recorded since the backup). A demo program keeps nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from inhouse.db import events
from inhouse.program.events import Event

if TYPE_CHECKING:
    from inhouse.db import Store

__all__ = ["CUT", "FORGET_COMMAND", "forget", "kept", "remember", "seen_path", "seen_problem"]

log = logging.getLogger(__name__)

#: the words a :func:`seen_problem` starts with (what ``status`` and a refusal show)
CUT = "this machine saw event"

#: the command that lets go of what this machine saw, after a knowing restore
FORGET_COMMAND = "inhouse audit forget-seen"

#: the largest seq a database's integer holds (SQLite's and PostgreSQL's bigint)
_MAX_SEQ = 2**63 - 1


def _home() -> Path:
    """``$XDG_STATE_HOME/inhouse/seen`` (an absolute one, as XDG asks; else
    ``~/.local/state``), as keys honour ``$XDG_CONFIG_HOME``: a person who keeps their state
    elsewhere (a read-only home, a home shared by test runs) keeps this there too."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "inhouse" / "seen"


def seen_path(program_id: str, where: str) -> Path:
    """The file that keeps what this user's commands saw of ``program_id``'s log in the
    database ``where`` (its URL)."""
    name = hashlib.sha256(f"{program_id}\n{where}".encode()).hexdigest()[:32]
    return _home() / f"{name}.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:  # unreadable: it witnesses nothing, and says so
        log.warning(
            "%s unreadable (%s): what this machine saw of the log is not checked", path, err
        )
        return None
    seq = data.get("seq") if isinstance(data, dict) else None
    if (
        isinstance(seq, bool)
        or not isinstance(seq, int)
        or not 0 < seq <= _MAX_SEQ
        or not isinstance(data.get("hash"), str)
    ):  # a seq no database holds would stop every command here at the query: it says so
        log.warning(
            "%s holds no event this machine saw (seq %r): what it saw of the log is not "
            "checked until the next command keeps one",
            path,
            seq,
        )
        return None
    return dict(data)


def _row(store: Store, seq: int) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(
            select(events.c.seq, events.c.hash, events.c.actor, events.c.kind, events.c.at).where(
                events.c.seq == seq
            )
        ).first()


def _head(store: Store) -> int:
    from sqlalchemy import func

    with store.engine.connect() as conn:
        return int(conn.execute(select(func.max(events.c.seq))).scalar_one() or 0)


def seen_problem(store: Store, program_id: str, where: str) -> tuple[str, int] | None:
    """Why the log no longer holds the event this user's commands saw last (and its seq), or
    None: it holds it, or nothing was seen here yet."""
    path = seen_path(program_id, where)
    seen = _read(path)
    if seen is None:
        return None
    seq = int(seen["seq"])
    row = _row(store, seq)
    if row is not None and str(row.hash) == seen.get("hash"):
        return None
    what = f"{seen.get('actor', '?')}'s {seen.get('kind', 'event')}"
    if row is None:
        head = _head(store)
        now = (
            f"the log now ends at event {head}: events {head + 1} to {seq} were cut off"
            if head + 1 < seq
            else f"the log now ends at event {head}: event {seq} was cut off"
        )
    else:
        now = (
            f"the log now holds another event {seq} ({row.actor}'s {row.kind}): it was cut back "
            "and written again from there"
        )
    return (
        f"{CUT} {seq} ({what}, recorded {seen.get('at', '?')}, hash "
        f"{str(seen.get('hash', ''))[:12]}) in this log, and {now}, by someone with write access "
        "to the store (the chain up to the new head verifies: only a machine that saw the "
        f"events, or an anchor, tells). If the store was knowingly restored from an older "
        f"backup, run `{FORGET_COMMAND}` on this machine (it sets {path} aside and records "
        "nothing) and run the command again (everyone records again what "
        "they recorded since that backup); if not, the store's host answers for the events "
        "gone",
        seq,
    )


def remember(
    store: Store, program_id: str, where: str, seq: int, *, event: Event | None = None
) -> bool:
    """Keep event ``seq`` of the log (``event``, where the caller just wrote it) as the newest
    this user's commands saw, unless one newer is kept already. A file that cannot be written
    keeps nothing (a command never stops here). Commands here at once (a gateway's threads,
    two terminals) each compare and write under a lock, to a file of their own renamed over
    it: none writes an older event over a newer one, nor half a file. True where it kept it."""
    if seq <= 0:
        return False
    path = seen_path(program_id, where)
    seen = _read(path)
    if seen is not None and int(seen["seq"]) >= seq:
        return False
    row: Any = _row(store, seq) if event is None else event
    if row is None:
        return False
    record = {
        "program_id": program_id,
        "seq": int(row.seq),
        "hash": str(row.hash),
        "actor": str(row.actor),
        "kind": str(row.kind),
        "at": row.raw_at if isinstance(row, Event) and row.raw_at else str(row.at),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            seen = _read(path)  # another command's, kept since: the newer one stays
            if seen is not None and int(seen["seq"]) >= seq:
                return False
            fd, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
                    json.dump(record, out)
                os.replace(partial, path)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
        finally:
            os.close(lock)
    except OSError as err:
        log.warning("cannot keep what this machine saw of the log in %s (%s)", path, err)
        return False
    return True


def kept(program_id: str, where: str) -> tuple[Path, dict[str, Any] | None] | None:
    """The file that keeps what this user's commands saw of ``program_id``'s log in ``where``,
    and the event it holds (None: unreadable, or no event); None where there is no file."""
    path = seen_path(program_id, where)
    if not path.exists():
        return None
    return path, _read(path)


def forget(program_id: str, where: str) -> tuple[Path, dict[str, Any] | None] | None:
    """Let go of what this user's commands saw of ``program_id``'s log in ``where`` (a store
    knowingly restored from an older backup: ``inhouse audit forget-seen``): the file set aside
    and the event it held, as :func:`kept`; None where there was none. It writes nothing to
    the log: the next command here keeps the head it then reads. The file is renamed beside
    itself (``….forgotten-STAMP.json``), never deleted: a "restore" is the store's host's word,
    and what this machine saw is the only thing here that tells a cut from one; no command
    reads it again, but whoever doubts the restore still can."""
    found = kept(program_id, where)
    if found is None:
        return None
    path = found[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.stem}.forgotten-{stamp}.json")
    # under the lock a command keeping a newer event holds: the file set aside is the one it
    # read, never one renamed from under a write (the lock file stays: a command here at once
    # may hold it, and one locking a new file beside it would write under no lock of the other's)
    lock = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        held = _read(path)
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return None
    finally:
        os.close(lock)
    return aside, held
