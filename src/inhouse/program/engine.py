"""The engine: every action a person takes in a program, each checked, each a signed event.

:class:`Program` is the Python API the CLI, the play packages and the dashboard call. It is
assembled from one mixin per job: people and keys (:mod:`.people`), the organisation's sign-in
(:mod:`.signin`), evidence (:mod:`.evidence`), plays and handoffs (:mod:`.handoffs`), waivers
and reach guards (:mod:`.waivers`), on the shared core (:mod:`.core`: state, the acting key,
appending). A refusal raises an :mod:`inhouse.errors` exception naming the missing evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from inhouse.db import Store, open_store
from inhouse.errors import InvalidInput, ProgramExists
from inhouse.location import database_url, find_program, inside_program, state_folder
from inhouse.plaintext import check_plain
from inhouse.program.checks import EXIT_RULES
from inhouse.program.config import ProgramSettings, read_settings, write_new_config
from inhouse.program.core import Clock, ProgramCore, refuse_if_tampered, utcnow
from inhouse.program.events import EventKind, append, read_events
from inhouse.program.evidence import EvidenceMixin
from inhouse.program.handoffs import PlaysMixin
from inhouse.program.people import PeopleMixin, check_name
from inhouse.program.playbook import Role, load_playbook
from inhouse.program.signin import SignInMixin
from inhouse.program.status_shape import Status
from inhouse.program.waivers import WaiversMixin

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.identity import SigningKey

__all__ = ["Clock", "Program"]


class Program(WaiversMixin, PeopleMixin, SignInMixin, EvidenceMixin, PlaysMixin, ProgramCore):
    """An open program: its folder, settings, playbook and store, acted on with one key."""

    @classmethod
    def open(
        cls,
        folder: str | Path | None = None,
        *,
        clock: Clock = utcnow,
        key: SigningKey | None = None,
        store: Store | None = None,
    ) -> Program:
        """Open the program at ``folder`` (or found from the current directory); ``store``:
        one already open on its database (the gateway's), else one is opened."""
        root = find_program(folder)
        # this machine's own state, kept out of git wherever the store is (a PostgreSQL log
        # leaves the SQLite file's folder unmade, and the reports, outbox and service keys
        # written there later had no .gitignore in a colleague's checkout)
        state_folder(root)
        settings = read_settings(root)
        playbook = load_playbook(_playbook_ref(root, settings.playbook))
        store = store or open_store(database_url(root))
        return cls(root, settings, playbook, store, clock=clock, key=key)

    @classmethod
    def init(
        cls,
        folder: Path,
        name: str,
        lead: str,
        *,
        email: str = "",
        team: str = "",
        playbook: str = "local-model-program",
        demo: bool = False,
        key: SigningKey | None = None,
        clock: Clock = utcnow,
    ) -> Program:
        """Create a program in ``folder``: ``inhouse.toml``, ``.inhouse/`` and its first events,
        signed by the lead's key (this user's key, created if they have none yet)."""
        folder = folder.resolve()
        existing = inside_program(folder)
        if existing is not None:
            raise ProgramExists(f"{folder} is already inside the inhouse program at {existing}")
        if not name.strip():  # before the store is written: a failure after it leaves a log
            raise InvalidInput("the program needs a name, e.g. 'Acme local LLMs'")
        check_plain(name, what="the program's name", one_line=True)
        check_plain(email, what="the e-mail", one_line=True)
        check_plain(team, what="the team", one_line=True)
        blocked = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        if not blocked.is_dir():
            raise InvalidInput(
                f"cannot create the program in {folder}: {blocked} is a file, not a folder"
            )
        check_name(lead, "lead")
        book = load_playbook(_playbook_ref(folder, playbook))  # fail before writing anything
        store = open_store(database_url(folder))
        if read_events(store):
            store.close()
            raise ProgramExists(
                f"the store at {store.url} already holds a program; point INHOUSE_DATABASE_URL "
                "at an empty database"
            )
        from inhouse.identity import create_key, default_key_path, load_key, machine

        if key is None:
            key = load_key() if default_key_path().exists() else create_key()
        now = clock()
        created = append(
            store,
            EventKind.PROGRAM_CREATED,
            lead,
            {
                "name": name,
                "lead": lead,
                "playbook": book.name,
                "playbook_version": book.version,
                "playbook_rules": book.rules(),
                "demo": demo,
                # the rules this inhouse judges exits by: none of the program's may claim fewer
                "rules": EXIT_RULES,
            },
            at=now,
            key=key,
        )
        append(
            store,
            EventKind.PERSON_ENROLLED,
            lead,
            {
                "name": lead,
                "email": email,
                "team": team,
                "roles": [Role.ROLLOUT_LEAD.value],
                "key_id": key.key_id,
                "public_key": key.public_key,
                "machine": machine.machine_fingerprint(),
            },
            at=now,
            key=key,
        )
        settings = ProgramSettings(
            name=name,
            lead=lead,
            playbook=playbook,
            program_id=created.hash,
            lead_key=key.key_id,
        )
        state_folder(folder)
        write_new_config(folder, settings)
        return cls(folder, settings, book, store, clock=clock, key=key)

    def close(self) -> None:
        self.store.close()

    def status(self, now: datetime | None = None) -> Status:
        """The program's status as JSON-ready data (see :mod:`inhouse.program.status`), at
        ``now`` (default: this program's clock)."""
        from inhouse.program.status import build_status

        self.refuse_if_detached("show the program's status")
        state = self.state()
        here: frozenset[str] = frozenset()
        # this machine's own reading of the blessed files, a measurement of the person who
        # looks (never the fold's): only where weights were proven and pinned (a demo counts
        # the test model), where reading the lock already loaded the baseline's code
        kinds = {f.kind for f in state.facts}
        if not state.demo and {"trial.verdict", "baseline.lock"} <= kinds:
            from inhouse.baseline.here import local_test_models

            here = local_test_models(self.folder)
        return build_status(
            self.playbook,
            state,
            self.clock() if now is None else now,
            folder=str(self.folder),
            here=here,
        )

    def claim_lead(self) -> None:
        """A program made before identities has no keys: its lead enrols this shell's key as
        theirs, once (trust on first use, recorded; the audit shows it)."""
        from inhouse.identity import machine

        state = self.state()
        refuse_if_tampered(state)
        if state.keys:
            raise InvalidInput(
                "this program already has enrolled keys: join with an invitation instead"
            )
        append(
            self.store,
            EventKind.PERSON_ENROLLED,
            state.lead,
            {
                "name": state.lead,
                "key_id": self.key.key_id,
                "public_key": self.key.public_key,
                "machine": machine.machine_fingerprint(),
                "claimed": True,
            },
            at=self.clock(),
            key=self.key,
        )


def _playbook_ref(folder: Path, ref: str) -> str | Path:
    """A shipped playbook's name, or a path relative to the program folder."""
    if ref.endswith((".yaml", ".yml")):
        from inhouse.location import safe_join

        return safe_join(folder, ref)
    return ref
