"""The fold's cost where a member's events teach the signature check: a log of N events in
which the lead left I invitations open and a member, omar, invites the rest of it for machines
of his own (each a ``person.invited`` the check learns a token from).

Before each such event of a member's, the fold kept what the check knew so as to put it back
if the event was set aside (:func:`inhouse.program.state._before_learning`): it copied every
key and open invitation, so the fold's cost grew with the member's events times the
invitations. It now journals each change, and undoes those alone. Prints the full fold's
time and the CPU time it took (a shared machine's wall clock is noisy), no cache.
Usage: python benchmarks/fold_invitations.py [N] [I] (default 20000 8000)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signed_rows import append_signed

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.events import (
    EventKind,
    read_events,
)
from inhouse.program.state import fold

_EXPIRES = "2099-01-01T00:00:00+00:00"


def build(folder: Path, n: int, invitations: int) -> Program:
    """A program at ``folder`` whose log holds about ``n`` events: the lead's ``invitations``
    open invitations, then omar's invitations of his own machines."""
    lena = Program.init(folder, "Bench", "lena")
    omar_key = SigningKey.generate()
    lena.join(str(lena.invite("omar", team="ops")), omar_key, at_machine="omar-laptop")
    seq, prev = lena.state().head_seq, lena.events()[-1].hash
    start = datetime(2026, 1, 1, tzinfo=UTC)
    plan: list[tuple[str, SigningKey, dict[str, Any]]] = []
    for i in range(invitations):
        token = f"{i:064x}"
        invited = {"name": f"p{i}", "email": "", "team": "ops", "roles": []}
        plan.append(("lena", lena.key, invited | {"token_hash": token, "expires": _EXPIRES}))
    for j in range(max(0, n - seq - invitations)):
        token = f"{invitations + j:064x}"
        own = {"name": "omar", "token_hash": token, "expires": _EXPIRES, "another_key": True}
        plan.append(("omar", omar_key, own))
    kind = str(EventKind.PERSON_INVITED)
    entries = [(actor, key, kind, payload) for actor, key, payload in plan]
    append_signed(lena.store, (seq, prev), entries, start)
    return lena


def main() -> None:
    n, invitations = (int(a) for a in (sys.argv[1:3] + ["20000", "8000"][len(sys.argv) - 1 :]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "program"
        folder.mkdir()
        os.environ["HOME"] = tmp
        program = build(folder, n, invitations)
        logged = read_events(program.store)
        began, cpu = time.perf_counter(), time.process_time()
        state = fold(logged, lead_key=program.settings.lead_key, playbook=program.playbook)
        took, spent = time.perf_counter() - began, time.process_time() - cpu
        his = sum(1 for e in logged if e.actor == "omar" and e.kind == EventKind.PERSON_INVITED)
        aside = len(state.unauthorized) + len(state.malformed)
        print(f"events {len(logged)}, the lead's open invitations {invitations}, the member's "
              f"{his}: fold {took:.2f} s ({spent:.2f} s CPU; tampered: {state.tampered}, "
              f"set aside: {aside})")  # fmt: skip
        program.close()


if __name__ == "__main__":
    main()
