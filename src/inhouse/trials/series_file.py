"""Where a key's series of reruns is kept between them: per user, beside the key's other state
(``$XDG_STATE_HOME/inhouse/reruns/``, ``~/.local/state`` by default; a file per key, mode
0600), each program's spec's latest place (its number and
:func:`~inhouse.program.rerun_series.rerun_hash`): per program, as one key may rerun the same
spec for two programs, each of whose logs holds only its own reruns.

A rerun made in a checkout without the program's log (a colleague's laptop) learns its place
only here; one made beside the log takes the later of this file's and the log's (a rerun of
the key's there), so a file lost on a machine that holds the log heals from it. A file lost
elsewhere starts the key's series of each spec again at 1: a second series, read as no gap
(exit rule 25, :data:`~inhouse.program.checks.RERUN_SERIES`).

    next_place(key_id, program_id, spec_hash, logged)   # before the rerun runs: readable?
    fact = claim(key_id, program_id, spec_hash, logged, record)   # once it ran

Two reruns with one key on one machine at once (two shells) each take their place under a lock
on a file beside the series (``<key>.json.lock``, :func:`claim`): read, recorded and kept
before the other reads it, so they never name one number (read before either was kept, both
did: a duplicate the log reads as a second series, or a gap where only one is imported).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from inhouse.errors import InvalidInput
from inhouse.program.facts import Fact
from inhouse.program.rerun_series import rerun_hash

__all__ = ["claim", "next_place", "remember", "series_path"]

log = logging.getLogger(__name__)


def series_path(key_id: str) -> Path:
    """The file that keeps ``key_id``'s series of reruns, per spec."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    name = key_id.split(":", 1)[-1]
    return base / "inhouse" / "reruns" / f"{name}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise InvalidInput(_unreadable(path, str(err))) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, dict)
        and isinstance(v.get("number"), int)
        and v["number"] >= 1
        and isinstance(v.get("hash"), str)
        for v in data.values()
    ):
        raise InvalidInput(_unreadable(path, "not a series inhouse wrote"))
    return data


def _unreadable(path: Path, why: str) -> str:
    return (
        f"{path} keeps which of your key's reruns of each trial spec is which, and it is "
        f"unreadable ({why}); nothing was run. Move it away and rerun: your key's reruns of "
        "each spec start a new series at 1, and the ones you made before still count once "
        "the program's log holds them"
    )


def _entry(program_id: str, spec_hash: str) -> str:
    return f"{program_id} {spec_hash}"


def next_place(
    key_id: str, program_id: str, spec_hash: str, logged: Iterable[Fact] = ()
) -> dict[str, Any]:
    """The ``place`` of ``key_id``'s next rerun of ``spec_hash`` for ``program_id``: one after
    the later of what this machine's file says and the reruns of ``logged`` (the program's
    log, where it is here) the key signed of that spec; the first of a series where neither
    knows one."""
    entry = _read(series_path(key_id)).get(_entry(program_id, spec_hash))
    latest = (int(entry["number"]), str(entry["hash"])) if entry else (0, "")
    for fact in logged:
        place = fact.payload.get("place")
        mine = fact.key == key_id and fact.payload.get("spec_hash") == spec_hash
        if mine and place and int(place["number"]) > latest[0]:
            latest = (int(place["number"]), rerun_hash(fact.payload))
    number, previous = latest
    return {"number": number + 1, "previous": previous or None}


def remember(key_id: str, program_id: str, fact: Fact) -> None:
    """Keep ``fact`` (``key_id``'s rerun for ``program_id``, just recorded) as its spec's
    latest place. Written whole or not at all (a temporary file renamed over it), and on the
    disk before it is renamed and after (a power cut after a rename the disk did not hold yet
    left an empty file on some filesystems, which the next rerun refuses as unreadable, its
    series lost; one whose rename the disk lost repeats the place before)."""
    place = fact.payload.get("place")
    if not place:
        return
    path = series_path(key_id)
    data = _read(path)
    data[_entry(program_id, str(fact.payload["spec_hash"]))] = {
        "number": int(place["number"]),
        "hash": rerun_hash(fact.payload),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".series-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    try:  # the rename on the disk: a folder that cannot be synced still holds it, in memory
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass


@contextlib.contextmanager
def _held(key_id: str) -> Iterator[None]:
    """``key_id``'s series file held against every other rerun with that key on this machine
    (an exclusive ``flock`` on ``<key>.json.lock`` beside it, which stays): one that holds it
    is waited for, and said so (a warning: the command line shows no less). Where the lock
    cannot be made (a folder nobody may write: nothing could be kept either, as
    :func:`remember` warns) or taken (a home on NFS without its lock daemon: ENOLCK), the
    rerun, which has run, goes on unlocked and says so, rather than being lost."""
    path = series_path(key_id)
    lock = path.with_name(f"{path.name}.lock")
    fd: int | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning(
                "another rerun with your key is taking its place in %s: waiting for it", path
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as err:
        if fd is not None:
            os.close(fd)
            fd = None
        log.warning("which of your key's reruns this is is taken unlocked (%s): %s", lock, err)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # the lock goes with it


def claim(
    key_id: str,
    program_id: str,
    spec_hash: str,
    logged: Callable[[], Iterable[Fact]],
    record: Callable[[dict[str, Any]], Fact],
) -> Fact:
    """Take ``key_id``'s next place in its series of ``spec_hash`` for ``program_id``
    (:func:`next_place`, with ``logged()``: the program's log as it is now, where it is here),
    ``record`` the rerun with it and keep it (:func:`remember`), all under the series' lock: a
    second rerun with the key at once waits, then takes the place after this one. The fact
    recorded is returned; where it could not be kept, a warning says so (the next rerun of the
    spec then repeats its number: a second series, no gap)."""
    with _held(key_id):
        fact = record(next_place(key_id, program_id, spec_hash, logged()))
        try:
            remember(key_id, program_id, fact)
        except OSError as err:
            log.warning(
                "rerun recorded, but which of your key's reruns it is was not kept: %s", err
            )
    return fact
