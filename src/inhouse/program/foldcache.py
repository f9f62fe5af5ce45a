"""A folded, verified state kept between commands: on this machine, for this user.

Every command folds the event log and verifies each event's hash and signature as it goes
(about 0.15 ms an event): 3.4 s on a log of 20,000 events, and a department's gateway adds a
signed usage fact per person and day. So once a log is long, the state a command folded is
kept, and the next command starts from it and folds only the events after it.

What makes that safe:

- **It is this user's.** The file lives under ``~/.cache/inhouse/fold/`` (never in the program
  folder or the database), and is read only if its HMAC-SHA256 under a key of this user's own
  (``~/.cache/inhouse/fold/key``, 0600, made on first use) matches. Someone who can write the
  program's database or folder cannot forge one; a file that does not verify is ignored
  before anything in it is read (it is a pickle, so that order matters) and folded anew.
- **It is the same program.** It was folded against the lead key and ``program_id`` that
  ``inhouse.toml`` names now (a log whose event 1 is not that ``program_id`` is never kept:
  it stops the fold at event 1), or it is not used.
- **It is the same log.** It is used only if the database's event at its head still has the
  hash it had. The next event is then checked against that hash, as every event is against
  its predecessor's, so events appended since chain onto the kept state or stop the fold
  as tampered. A log rewritten from an earlier event on (re-chained) changes the head's hash:
  full fold. A log cut back below the kept head: full fold.
- **It is the same fold.** The file is named for the program (its first event's hash, its root
  of trust, its database), and its HMAC covers a fingerprint of the code that folds (the
  engine's source files and the fact kinds registered): an upgrade, an edited engine or a
  plugin that changes a fact kind folds anew.
- **Only clean states are kept**: one that stopped at a tampered event is never written.

What it gives up, said plainly: an event edited in the database *before* the kept head
without touching the stored hashes is not re-read by later commands on this machine. It
changes nothing they decide (their state was folded from the event as it was signed), and
``inhouse audit verify``, any other machine and any full fold still catch it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from inhouse.program.events import payload_bytes, read_event_hash

if TYPE_CHECKING:
    from inhouse.db import Store
    from inhouse.program.state import ProgramState

__all__ = ["MIN_BYTES", "MIN_EVENTS", "load", "save"]

log = logging.getLogger(__name__)

#: a log shorter than this, with payloads smaller than the next, folds in well under a second:
#: nothing is kept
MIN_EVENTS = 2_000
MIN_BYTES = 2_000_000
#: a kept state is written again once this many events were folded on top of it
REWRITE_AFTER = 500
_MAGIC = b"inhouse-fold-1\n"
_DIGEST = hashlib.sha256().digest_size


def _home() -> Path:
    return Path.home() / ".cache" / "inhouse" / "fold"


def _secret() -> bytes:
    """This user's key for the kept states, made on first use (0600)."""
    home = _home()
    path = home / "key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another command made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(made)
    return made


def _fingerprint() -> bytes:
    from inhouse import __version__
    from inhouse.program.facts import FACT_KINDS

    digest = hashlib.sha256(__version__.encode())
    # the engine's code, the checks a play's start is held to again (its start guards), and
    # the identity code the fold verifies signatures and tokens with
    here = Path(__file__).parent
    code = [*here.glob("*.py"), *(here / "playchecks").glob("*.py")]
    for source in sorted([*code, *(here.parent / "identity").glob("*.py")]):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    for kind in sorted(FACT_KINDS.values(), key=lambda k: k.name):
        # a plugin's kinds too: what a session may sign of them is a rule the fold applies
        digest.update(
            f"{kind.name}:{kind.version}:{kind.from_dashboard}:{kind.needs_approval}\n".encode()
        )
    return digest.digest()


def _path(program_id: str, lead_key: str | None, where: str) -> Path:
    name = hashlib.sha256(f"{program_id}\n{lead_key}\n{where}".encode()).hexdigest()[:32]
    return _home() / f"{name}.state"


def load(
    store: Store,
    program_id: str | None,
    lead_key: str | None,
    where: str,
    *,
    named: str | None = None,
) -> ProgramState | None:
    """The kept state of this program, or None where there is none this user can trust for
    the log as it stands (the caller folds in full). ``program_id``: the hash of the log's
    event 1; ``lead_key`` and ``named``: the key and hash ``inhouse.toml`` says event 1 has (a
    state kept under other ones was not checked against them). ``where`` names the database."""
    if not program_id:
        return None
    path = _path(program_id, lead_key, where)
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        if not blob.startswith(_MAGIC):
            return None
        body = blob[len(_MAGIC) :]
        mac, payload = body[:_DIGEST], body[_DIGEST:]
        expected = hmac.new(_secret(), _fingerprint() + payload, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            log.warning("fold cache %s does not verify: folding the log in full", path)
            return None
        state: ProgramState = pickle.loads(payload)
    except Exception as err:  # a cache must never stop a command
        log.warning("fold cache %s unreadable (%s): folding the log in full", path, err)
        return None
    if state.program_id != program_id:
        return None
    if state.verifier.lead_key != lead_key or state.verifier.program_id != named:
        return None
    if read_event_hash(store, state.head_seq) != state.verifier.prev:
        return None  # the log is not the one this state was folded from
    return state


def save(
    state: ProgramState, store: Store, lead_key: str | None, where: str, *, folded_since: int
) -> None:
    """Keep ``state`` when it is worth it: a clean log of :data:`MIN_EVENTS` events or
    :data:`MIN_BYTES` of payloads (a day's usage fact holds every person's totals: a quarter of
    a 2,000-person department's is 91 events but ~9 MB of JSON, ~0.35 s to fold), folded in full
    or with :data:`REWRITE_AFTER` events on top of the kept state (``folded_since``). The size
    is asked of the database only when all else says keep."""
    if state.tampered is not None or not state.program_id:
        return
    if folded_since < min(REWRITE_AFTER, state.head_seq):
        return
    if state.head_seq < MIN_EVENTS and payload_bytes(store) < MIN_BYTES:
        return
    path = _path(state.program_id, lead_key, where)
    try:
        payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        mac = hmac.new(_secret(), _fingerprint() + payload, hashlib.sha256).digest()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_MAGIC + mac + payload)
        os.replace(partial, path)
    except Exception as err:  # a cache must never stop a command
        log.warning("fold cache %s not written: %s", path, err)
