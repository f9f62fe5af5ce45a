"""The engine: every action a person takes in a program, each checked, each an event.

:class:`Program` is the Python API the CLI (and later the gateway, trials and the dashboard)
call. Every action re-folds the event log, applies its rules and guards, and appends events;
a refusal raises an :mod:`inhouse.errors` exception naming the missing evidence (and a refused
anti-pattern is itself recorded, so the log shows who tried what).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inhouse.db import Store, open_store
from inhouse.errors import (
    AntiPattern,
    InvalidInput,
    NotAllowed,
    ProgramExists,
    ProgramStopped,
    Refused,
    UnknownPerson,
)
from inhouse.location import DATA_DIR, database_url, find_program, inside_program
from inhouse.program.checks import Person
from inhouse.program.config import ProgramSettings, read_settings, write_new_config
from inhouse.program.evaluation import (
    describe_missing,
    evidence_hash,
    exit_results,
    satisfied,
)
from inhouse.program.events import Event, EventKind, append, read_events
from inhouse.program.facts import FACT_KINDS, Fact, Provenance, validate_payload
from inhouse.program.guards import (
    WAIVER_REASONS,
    Blocker,
    Guard,
    reach_blockers,
    start_blockers,
)
from inhouse.program.playbook import Play, Playbook, Reach, Role, load_playbook
from inhouse.program.state import ProgramState, Waiver, fold

__all__ = ["Clock", "Program"]

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Program:
    """An open program: its folder, settings, playbook and store."""

    def __init__(
        self,
        folder: Path,
        settings: ProgramSettings,
        playbook: Playbook,
        store: Store,
        *,
        clock: Clock = _utcnow,
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.playbook = playbook
        self.store = store
        self.clock = clock

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path | None = None, *, clock: Clock = _utcnow) -> Program:
        """Open the program at ``folder`` (or found from the current directory)."""
        root = find_program(folder)
        settings = read_settings(root)
        playbook = load_playbook(_playbook_ref(root, settings.playbook))
        return cls(root, settings, playbook, open_store(database_url(root)), clock=clock)

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
        clock: Clock = _utcnow,
    ) -> Program:
        """Create a program in ``folder``: ``inhouse.toml``, ``.inhouse/`` and its first events."""
        folder = folder.resolve()
        existing = inside_program(folder)
        if existing is not None:
            raise ProgramExists(f"{folder} is already inside the inhouse program at {existing}")
        _check_name(lead, "lead")
        book = load_playbook(_playbook_ref(folder, playbook))  # fail before writing anything
        settings = ProgramSettings(name=name, lead=lead, playbook=playbook)
        store = open_store(database_url(folder))
        if read_events(store):
            store.close()
            raise ProgramExists(
                f"the store at {store.url} already holds a program; point INHOUSE_DATABASE_URL "
                "at an empty database"
            )
        folder.joinpath(DATA_DIR).mkdir(exist_ok=True)
        folder.joinpath(DATA_DIR, ".gitignore").write_text("*\n", encoding="utf-8")
        write_new_config(folder, settings)
        program = cls(folder, settings, book, store, clock=clock)
        now = clock()
        append(
            store,
            EventKind.PROGRAM_CREATED,
            lead,
            {"name": name, "lead": lead, "playbook": book.name, "playbook_version": book.version},
            at=now,
        )
        append(
            store,
            EventKind.PERSON_ADDED,
            lead,
            {"name": lead, "email": email, "team": team, "roles": [Role.ROLLOUT_LEAD.value]},
            at=now,
        )
        return program

    def close(self) -> None:
        self.store.close()

    # -- reading -----------------------------------------------------------------------------

    def events(self) -> list[Event]:
        return read_events(self.store)

    def state(self) -> ProgramState:
        return fold(self.events())

    def status(self) -> dict[str, Any]:
        """The program's status as JSON-ready data (see :mod:`inhouse.program.status`)."""
        from inhouse.program.status import build_status

        return build_status(self.playbook, self.state(), self.clock(), folder=str(self.folder))

    def actor(self, name: str | None = None) -> Person:
        """The acting person: ``name``, else ``$INHOUSE_USER``, else the program's default."""
        return self._person(self.state(), self._actor_name(name))

    def _actor_name(self, name: str | None) -> str:
        return (
            name
            or os.environ.get("INHOUSE_USER")
            or self.settings.default_user
            or self.settings.lead
        )

    # -- people ------------------------------------------------------------------------------

    def add_person(
        self,
        actor: str | None,
        name: str,
        *,
        email: str = "",
        team: str = "",
        roles: Iterable[str] = (),
    ) -> Person:
        state, who = self._begin(actor)
        _check_name(name, "person")
        if name in state.people:
            raise InvalidInput(f"{name} is already on the roster; change roles with `person role`")
        wanted = _roles(roles)
        self._role_rules(state, who, name, set(), wanted)
        payload = {"name": name, "email": email, "team": team, "roles": sorted(wanted)}
        self._append(EventKind.PERSON_ADDED, who.name, payload)
        return Person(name, email, team, frozenset(wanted))

    def change_roles(
        self, actor: str | None, name: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> Person:
        state, who = self._begin(actor)
        person = self._person(state, name)
        adding, removing = _roles(add), _roles(remove)
        roles = (set(person.roles) | adding) - removing
        self._role_rules(state, who, name, set(person.roles), roles)
        payload = {"name": name, "email": person.email, "team": person.team, "roles": sorted(roles)}
        self._append(EventKind.PERSON_CHANGED, who.name, payload)
        return Person(name, person.email, person.team, frozenset(roles))

    def _role_rules(
        self, state: ProgramState, who: Person, name: str, before: set[str], after: set[str]
    ) -> None:
        if Role.ROLLOUT_LEAD in after ^ before and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"only a rollout lead can change who is rollout lead ({who.name} is not)"
            )
        if Role.PILOT_USER in after - before:
            self.check_reach(who.name, Reach.PILOT, action=f"add {name} to the pilot", person=name)

    # -- evidence ----------------------------------------------------------------------------

    def record_hypothesis(
        self, actor: str | None, statement: str, *, aim: str, target: str
    ) -> Fact:
        _, who = self._begin(actor)
        payload = validate_payload(
            "hypothesis", {"statement": statement, "aim": aim, "target": target}
        )
        event = self._append(EventKind.HYPOTHESIS_RECORDED, who.name, payload)
        return next(f for f in fold(self.events()).facts if f.id == event.seq)

    def record_fact(
        self,
        actor: str | None,
        kind: str,
        payload: dict[str, Any],
        *,
        provenance: Provenance,
        collector: str | None = None,
        comment: str | None = None,
        expires: datetime | None = None,
    ) -> Fact:
        """Record evidence. Measured facts name their collector; attested ones need a comment."""
        _, who = self._begin(actor)
        if kind == "hypothesis":
            raise InvalidInput("record a hypothesis with `inhouse hypothesis` (record_hypothesis)")
        body = validate_payload(kind, payload)
        if provenance is Provenance.ATTESTED:
            if not comment or not comment.strip():
                raise InvalidInput(
                    "an attested fact needs a comment saying what the person vouches for"
                )
            if collector:
                raise InvalidInput("an attested fact has no collector; it is a person's word")
        else:
            if not collector:
                raise InvalidInput("a measured fact must name the collector that measured it")
            if expires is not None:
                raise InvalidInput("only attestations expire; a measurement stays what it was")
        now = self.clock()
        if expires is not None and expires <= now:
            raise InvalidInput(f"the expiry {expires:%Y-%m-%d %H:%M} is already past")
        data: dict[str, Any] = {
            "kind": kind,
            "version": FACT_KINDS[kind].version,
            "payload": body,
            "provenance": provenance.value,
        }
        if collector:
            data["collector"] = collector
        if comment:
            data["comment"] = comment.strip()
        if expires is not None:
            data["expires"] = expires.astimezone(UTC).isoformat()
        event = self._append(EventKind.FACT_RECORDED, who.name, data)
        return next(f for f in fold(self.events()).facts if f.id == event.seq)

    def attest(
        self,
        actor: str | None,
        kind: str,
        payload: dict[str, Any],
        comment: str,
        *,
        expires: datetime | None = None,
    ) -> Fact:
        """A person's word for a fact nothing has measured yet (shown as attested everywhere)."""
        return self.record_fact(
            actor, kind, payload, provenance=Provenance.ATTESTED, comment=comment, expires=expires
        )

    # -- plays -------------------------------------------------------------------------------

    def start_play(
        self, actor: str | None, play_ref: str | int, *, owner: str | None = None
    ) -> Play:
        state, who = self._begin(actor)
        play = self.playbook.play(play_ref)
        number = self.playbook.number(play.id)
        if play.id in state.plays:
            raise InvalidInput(f"play {number} ({play.id}) already started")
        previous = self.playbook.previous(play.id)
        handoff = state.handoffs.get(previous.id) if previous else None
        receiver = handoff.to if handoff is not None and handoff.status == "accepted" else None
        if owner is not None and receiver is not None and owner != receiver:
            raise InvalidInput(
                f"play {number}'s owner is {receiver}, who accepted the handoff; not {owner}"
            )
        owner_name = owner or receiver or who.name
        owner_person = self._person(state, owner_name)
        self._owner_role(play, owner_person)
        if who.name != owner_name and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"{who.name} cannot start play {number} for {owner_name}: only its owner or a "
                "rollout lead can"
            )
        used = self._pass_guards(
            state,
            who.name,
            start_blockers(self.playbook, play, state, self.clock()),
            action=f"start play {number} ({play.id})",
        )
        self._append(
            EventKind.PLAY_STARTED,
            who.name,
            {"play": play.id, "owner": owner_name, "waivers": [w.seq for w in used]},
        )
        return play

    # -- handoffs ----------------------------------------------------------------------------

    def offer_handoff(
        self, actor: str | None, play_ref: str | int, *, to: str, comment: str = ""
    ) -> str:
        """Offer play's artifact to the next owner. Returns the evidence hash offered."""
        state, who = self._begin(actor)
        play = self.playbook.play(play_ref)
        number = self.playbook.number(play.id)
        record = state.plays.get(play.id)
        if record is None:
            raise Refused(f"play {number} ({play.id}) has not started; nothing to hand off")
        if who.name != record.owner:
            raise NotAllowed(
                f"only play {number}'s owner ({record.owner}) can offer its handoff, not {who.name}"
            )
        following = self.playbook.next(play.id)
        if following is None or play.ongoing:
            raise Refused(
                f"play {number} ({play.id}) is the last play and ongoing: nothing to hand on"
            )
        receiver = self._person(state, to)
        rule = following.owner.previous
        if rule == "same" and receiver.name != record.owner:
            raise NotAllowed(
                f"the playbook says play {number + 1} ({following.id}) is owned by the same "
                f"person as play {number}: hand it to {record.owner}"
            )
        if rule == "different" and receiver.name == record.owner:
            raise NotAllowed(
                f"the playbook says play {number + 1} ({following.id}) needs a different owner "
                f"than play {number}'s ({record.owner}); hand it to the person who will own it"
            )
        self._owner_role(following, receiver)
        current = state.handoffs.get(play.id)
        checked = exit_results(play, state, self.clock())
        if current is not None and (
            current.status == "offered"
            or (current.status == "accepted" and current.accepted_hash == evidence_hash(checked))
        ):
            raise Refused(
                f"play {number}'s handoff is already {current.status} ({current.to}); "
                "nothing changed since"
            )
        if not satisfied(checked):
            raise Refused(
                f"play {number} ({play.id}) cannot hand off: its exit criteria are not met",
                missing=describe_missing(checked),
            )
        digest = evidence_hash(checked)
        self._append(
            EventKind.HANDOFF_OFFERED,
            who.name,
            {"play": play.id, "to": receiver.name, "evidence_hash": digest, "comment": comment},
        )
        return digest

    def accept_handoff(self, actor: str | None, play_ref: str | int, *, comment: str = "") -> str:
        state, who, play = self._decision(actor, play_ref)
        number = self.playbook.number(play.id)
        checked = exit_results(play, state, self.clock())
        if not satisfied(checked):
            raise Refused(
                f"cannot accept play {number}'s handoff: its exit criteria no longer hold",
                missing=describe_missing(checked),
            )
        digest = evidence_hash(checked)
        self._append(
            EventKind.HANDOFF_ACCEPTED,
            who.name,
            {"play": play.id, "evidence_hash": digest, "comment": comment},
        )
        self._append(EventKind.PLAY_EXITED, who.name, {"play": play.id, "evidence_hash": digest})
        return digest

    def reject_handoff(self, actor: str | None, play_ref: str | int, *, comment: str) -> None:
        if not comment.strip():
            raise InvalidInput(
                "say why you reject the handoff (--comment): the owner needs to know"
            )
        _, who, play = self._decision(actor, play_ref)
        self._append(EventKind.HANDOFF_REJECTED, who.name, {"play": play.id, "comment": comment})

    def _decision(
        self, actor: str | None, play_ref: str | int
    ) -> tuple[ProgramState, Person, Play]:
        state, who = self._begin(actor)
        play = self.playbook.play(play_ref)
        number = self.playbook.number(play.id)
        handoff = state.handoffs.get(play.id)
        if handoff is None or handoff.status != "offered":
            status = "none" if handoff is None else handoff.status
            raise Refused(f"play {number} has no handoff awaiting a decision (handoff: {status})")
        if who.name != handoff.to:
            raise NotAllowed(
                f"only the receiver, {handoff.to}, can accept or reject play {number}'s handoff; "
                f"{who.name} cannot decide for them"
            )
        return state, who, play

    # -- waivers and guards ------------------------------------------------------------------

    def grant_waiver(
        self,
        actor: str | None,
        guard: str,
        *,
        reason: str,
        note: str,
        expires: datetime,
        play: str | int | None = None,
    ) -> Waiver:
        _, who = self._begin(actor)
        if Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(f"only a rollout lead can grant a waiver; {who.name} is not one")
        try:
            guard_name = Guard(guard)
        except ValueError:
            raise InvalidInput(
                f"no guard named {guard!r}; waivable guards: {', '.join(g.value for g in Guard)}"
            ) from None
        if reason not in WAIVER_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(WAIVER_REASONS)}, not {reason!r}")
        if not note.strip():
            raise InvalidInput("a waiver needs a note saying why, on the record")
        now = self.clock()
        if expires.tzinfo is None:
            raise InvalidInput("the expiry needs a timezone")
        if expires <= now:
            raise InvalidInput(f"the expiry {expires:%Y-%m-%d %H:%M} is already past")
        play_id = self.playbook.play(play).id if play is not None else None
        event = self._append(
            EventKind.WAIVER_GRANTED,
            who.name,
            {
                "guard": guard_name.value,
                "play": play_id,
                "reason": reason,
                "note": note.strip(),
                "expires": expires.astimezone(UTC).isoformat(),
            },
        )
        return next(w for w in fold(self.events()).waivers if w.seq == event.seq)

    def check_reach(
        self, actor: str | None, reach: Reach, *, action: str, person: str | None = None
    ) -> list[Waiver]:
        """The guard later packages call before widening access (issuing keys, adding pilot
        members, users beyond the pilot). Returns the waivers it relied on; raises
        :class:`AntiPattern` naming the missing evidence otherwise."""
        state, who = self._begin(actor)
        blockers = reach_blockers(self.playbook, reach, state, self.clock())
        if blockers and person is not None:
            # A refused attempt to let someone in is still demand, measured: play 2's trigger
            # (someone other than the owner asked to get in), play 4's (demand spreading) and,
            # from outside the pilot, play 5's (someone tries to widen access).
            self._append(
                EventKind.FACT_RECORDED,
                who.name,
                {
                    "kind": "access.request",
                    "version": FACT_KINDS["access.request"].version,
                    "payload": validate_payload(
                        "access.request", {"person": person, "reason": action}
                    ),
                    "provenance": Provenance.MEASURED.value,
                    "collector": "inhouse.guards",
                },
            )
        return self._pass_guards(state, who.name, blockers, action=action)

    def _pass_guards(
        self, state: ProgramState, actor: str, blockers: list[Blocker], *, action: str
    ) -> list[Waiver]:
        now = self.clock()
        used: list[Waiver] = []
        open_blockers: list[Blocker] = []
        for blocker in blockers:
            waiver = next(
                (w for w in state.waivers if w.covers(blocker.guard, blocker.play, now)), None
            )
            if waiver is None:
                open_blockers.append(blocker)
            elif waiver not in used:
                used.append(waiver)
        if not open_blockers:
            return used
        missing = [item for blocker in open_blockers for item in blocker.missing]
        lines = [f"refused: {action}"]
        lines += [f"  {blocker.message}" for blocker in open_blockers]
        if missing:
            lines.append("missing evidence:")
            lines += [f"  - {item}" for item in missing]
        lines.append("to override, a rollout lead grants a waiver on the record:")
        for guard, play in dict.fromkeys((b.guard, b.play) for b in open_blockers):
            scope = f" --play {play}" if play else ""
            lines.append(
                f"  inhouse waiver grant {guard.value}{scope} --reason REASON --note TEXT "
                "--expires DATE"
            )
        message = "\n".join(lines)
        first = open_blockers[0]
        self._append(
            EventKind.ACTION_REFUSED,
            actor,
            {
                "action": action,
                "guards": list(dict.fromkeys(b.guard.value for b in open_blockers)),
                "message": message,
            },
        )
        raise AntiPattern(message, guard=first.guard.value, play=first.play, missing=missing)

    # -- the honest stop ---------------------------------------------------------------------

    def stop_not_worth_it(self, actor: str | None, *, comment: str = "") -> Fact:
        """End the program because play 1's trial said "not worth it": a success of the
        playbook, recorded with its evidence."""
        state, who = self._begin(actor)
        first = self.playbook.plays[0]
        owner = state.owners.get(first.id)
        if who.name != owner and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"only play 1's owner ({owner}) or a rollout lead can stop the program"
            )
        verdict = state.live_facts(self.clock()).latest("trial.verdict")
        if verdict is None or verdict.payload["verdict"] != "not-worth-it":
            found = (
                "no trial verdict" if verdict is None else f"verdict {verdict.payload['verdict']}"
            )
            raise Refused(
                f"a not-worth-it stop needs play 1's latest trial verdict to say so ({found})",
                missing=["trial.verdict: not-worth-it"],
            )
        self._append(
            EventKind.PROGRAM_STOPPED,
            who.name,
            {"reason": "not-worth-it", "evidence": [verdict.id], "comment": comment},
        )
        return verdict

    # -- internals ---------------------------------------------------------------------------

    def _begin(self, actor: str | None) -> tuple[ProgramState, Person]:
        state = self.state()
        if state.stopped is not None:
            raise ProgramStopped(
                f"the program stopped on {state.stopped.at:%Y-%m-%d} ({state.stopped.reason}); "
                "start a new program to try again"
            )
        return state, self._person(state, self._actor_name(actor))

    def _person(self, state: ProgramState, name: str) -> Person:
        person = state.people.get(name)
        if person is None:
            known = ", ".join(sorted(state.people)) or "nobody yet"
            raise UnknownPerson(f"{name!r} is not on this program's roster (people: {known})")
        return person

    def _owner_role(self, play: Play, person: Person) -> None:
        if play.owner.role not in person.roles:
            number = self.playbook.number(play.id)
            raise NotAllowed(
                f"play {number} ({play.id}) is owned by a {play.owner.role.value}; {person.name} "
                f"is not one (add it: `inhouse person role {person.name} --add "
                f"{play.owner.role.value}`)"
            )

    def _append(self, kind: EventKind, actor: str, payload: dict[str, Any]) -> Event:
        return append(self.store, kind, actor, payload, at=self.clock())


def _roles(values: Iterable[str]) -> set[str]:
    roles = set()
    for value in values:
        try:
            roles.add(Role(value).value)
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}; roles are {', '.join(r.value for r in Role)}"
            ) from None
    return roles


def _check_name(name: str, what: str) -> None:
    if not name or name != name.strip() or len(name) > 200:
        raise InvalidInput(f"a {what} name must be 1-200 characters without outer spaces: {name!r}")


def _playbook_ref(folder: Path, ref: str) -> str | Path:
    """A shipped playbook's name, or a path relative to the program folder."""
    if ref.endswith((".yaml", ".yml")):
        from inhouse.location import safe_join

        return safe_join(folder, ref)
    return ref
