"""People and their keys: invitations, enrolment, roles, revocation.

A rollout lead invites someone (a one-time token that expires; only its hash is logged). The
person joins on their own machine with a key of their own: the enrolment event is signed by that
new key, so nobody else can enrol in their name. A person adds a machine by inviting themselves
(signed by a key they already hold). Roles widen reach only through the guards.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput, NotAllowed
from inhouse.identity import machine
from inhouse.plaintext import (
    check_plain,
    check_words_one_script,
    invisible,
    readings,
)
from inhouse.program.checks import EXIT_RULES, Person
from inhouse.program.core import ProgramCore, refuse_if_tampered
from inhouse.program.events import EventKind
from inhouse.program.playbook import Reach, Role
from inhouse.program.state import (
    Invitation,
    ProgramState,
    invitation_problem,
    supersedes_problem,
)

if TYPE_CHECKING:
    from inhouse.identity import SigningKey

__all__ = ["PeopleMixin", "parse_invitation"]

_INVITE_PREFIX = "inhouse-invite:"


@dataclass(frozen=True)
class InvitationText:
    program_id: str
    name: str
    token: str

    @property
    def token_hash(self) -> str:
        return hashlib.sha256(self.token.encode("ascii")).hexdigest()

    def join_proof(self, key_id: str) -> str:
        """The invitation's own signature letting key ``key_id`` join with it: only its holder
        makes one (:mod:`inhouse.identity.invitations`)."""
        from inhouse.identity.invitations import join_proof

        return join_proof(
            self.token, program_id=self.program_id, token_hash=self.token_hash, key_id=key_id
        )

    def __str__(self) -> str:
        body = json.dumps({"p": self.program_id, "n": self.name, "t": self.token})
        return _INVITE_PREFIX + base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def parse_invitation(text: str) -> InvitationText:
    value = text.strip()
    if not value.startswith(_INVITE_PREFIX):
        raise InvalidInput(f"not an inhouse invitation (it starts with {_INVITE_PREFIX!r})")
    raw = value.removeprefix(_INVITE_PREFIX)
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return InvitationText(str(data["p"]), str(data["n"]), str(data["t"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("the invitation is damaged: copy it whole") from None


def roles_of(values: Iterable[str]) -> set[str]:
    """The roles ``values`` names, each checked; refused where one is unknown, or where
    ``values`` is one text (read letter by letter it names roles "p", "i", ...)."""
    if isinstance(values, str):
        raise InvalidInput(
            f"roles are a list of roles, not the text {values!r}: give [{values!r}] for one"
        )
    roles = set()
    for value in values:
        try:
            roles.add(Role(value).value)
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}; roles are {', '.join(r.value for r in Role)}"
            ) from None
    return roles


#: the joiners some scripts write names with (Persian, the Indic scripts): format characters
#: that a name may hold; every other one (a zero-width space, a direction override) is invisible
#: or reorders what a reader sees
_NAME_JOINERS = frozenset("\u200c\u200d")
#: the variation selectors that draw a symbol as text or as an emoji ("Ana \u2764\ufe0f")
_EMOJI_SELECTORS = frozenset("\ufe0e\ufe0f")


def check_name(name: str, what: str) -> None:
    # a line break or other control character would split the name across lines in every
    # table and log that shows it, and a person cannot type it back to name them
    if (
        not name
        or name != name.strip()
        or len(name) > 200
        or any(unicodedata.category(char) == "Cc" for char in name)
    ):
        raise InvalidInput(
            f"a {what} name must be 1-200 characters, without outer spaces or control "
            f"characters (line breaks, tabs): {name!r}"
        )
    # an invisible character or a letter of a lookalike script makes a name that reads as
    # another's on every page, report and prompt that shows who did what ("omar" and "omar"
    # with a zero-width space, or with a Cyrillic o)
    if any(
        invisible(c)
        and c not in _NAME_JOINERS
        # an emoji's presentation selector, after the symbol it draws
        and not (c in _EMOJI_SELECTORS and unicodedata.category(before).startswith("S"))
        for before, c in itertools.pairwise(" " + name)
    ):
        raise InvalidInput(
            f"a {what} name must not hold invisible characters (a zero-width space, a "
            f"direction mark): {name!r} reads as another name"
        )
    check_words_one_script(name, what=f"a {what} name")


def _reads_as(state: ProgramState, name: str) -> str | None:
    """Someone already in the program whose name reads as ``name`` (:func:`read_alike`: case,
    compatibility forms, invisible characters and lookalike letters folded, a capital I drawn
    as a small l) and is not it. Each name read once: a roster of thousands is asked in one
    pass."""
    read = readings(name)
    alike = (
        other
        for other in state.people
        if other != name and any(a == b for a, b in zip(readings(other), read, strict=True))
    )
    return next(alike, None)


def _all_revoked(state: ProgramState, name: str) -> bool:
    """Whether ``name`` held keys and every one of them is revoked (they left)."""
    keys = state.keys_of(name)
    return bool(keys) and all(key.revoked_at is not None for key in keys)


def _a_lead_left(state: ProgramState, *, without: str) -> bool:
    """Whether a rollout lead who can still sign is left once key ``without`` is revoked: one
    with a key in use beside it, or one invited who has not joined yet (no key to revoke)."""
    for person in state.people.values():
        if person.service or Role.ROLLOUT_LEAD not in person.roles:
            continue
        keys = state.keys_of(person.name)
        if not keys or any(k.revoked_at is None and k.key_id != without for k in keys):
            return True
    return False


class PeopleMixin(ProgramCore):
    def invite(
        self,
        name: str,
        *,
        email: str = "",
        team: str = "",
        roles: Iterable[str] = (),
        expires_in: timedelta = timedelta(days=7),
    ) -> InvitationText:
        """Invite ``name`` (a rollout lead), or invite yourself onto another machine (anyone,
        for their own name). Returns the one-time invitation, which only its holder should see."""
        check_plain(email, what="the e-mail", one_line=True)
        check_words_one_script(check_plain(team, what="the team", one_line=True), what="the team")
        state, who = self._begin(None)
        check_name(name, "person")
        another = name == who.name
        if another and who.service:
            raise NotAllowed(f"{name} is a service: a lead enrols each key of a service")
        if another:
            if roles or team or email:
                raise InvalidInput("a new machine of yours keeps your roles and team")
        else:
            if Role.ROLLOUT_LEAD not in who.roles:
                raise NotAllowed(f"only a rollout lead invites people; {who.name} is not one")
            if (alike := _reads_as(state, name)) is not None:
                # an honest Erna beside Ema is told which letters, else the refusal reads as a bug
                # (read alike: as reading reads them, or as rule 16 did; else drawn alike)
                read, other = readings(name), readings(alike)
                drawn = (
                    ""
                    if read[0] == other[0] or read[2] == other[2]
                    else " (drawn alike where names are shown: a capital I and a small l or a "
                    "one, a zero and an O, an O with a stroke across it and an O, rn and m, vv "
                    "and w)"
                )
                raise InvalidInput(
                    f"{name!r} reads as {alike}, already in the program{drawn}: every page, "
                    f"report and prompt would show two people by one name; name {name} so nobody "
                    f"can take them for {alike} (a surname, an initial)"
                )
            existing = state.people.get(name)
            if existing is not None and existing.service:
                raise InvalidInput(f"{name} is a service: a lead enrols its keys, none is invited")
            if existing is not None and any(k.revoked_at is None for k in state.keys_of(name)):
                raise InvalidInput(
                    f"{name} is already enrolled; they add a machine by inviting themselves "
                    "(a lead invites them again once every key of theirs is revoked)"
                )
            wanted = roles_of(roles)
            self._role_rules(state, who, name, set(), wanted)
        from inhouse.identity.invitations import invitation_key

        token = secrets.token_urlsafe(24)
        text = InvitationText(state.program_id, name, token)
        payload: dict[str, Any] = {
            "name": name,
            "token_hash": text.token_hash,
            "expires": (self.clock() + expires_in).isoformat(),
            "another_key": another,
            # the public half of the key the token seeds: a key joins with this invitation only
            # with that key's signature over it, which the hash in the log does not give
            # (:mod:`inhouse.identity.invitations`)
            "join_key": invitation_key(token).public_key,
        }
        if not another:
            payload.update(email=email, team=team, roles=sorted(roles_of(roles)))
        self._append(EventKind.PERSON_INVITED, who.name, payload)
        return text

    def add_person(
        self,
        actor: str | None,
        name: str,
        *,
        email: str = "",
        team: str = "",
        roles: Iterable[str] = (),
    ) -> Person:
        """Put someone on the roster with an invitation (they act once they join)."""
        self._begin(actor)
        state = self.state()
        if name in state.people:
            raise InvalidInput(f"{name} is already on the roster; change roles with `person role`")
        self.invite(name, email=email, team=team, roles=roles)
        return self.state().people[name]

    def join(
        self, invitation: str | InvitationText, key: SigningKey, *, at_machine: str | None = None
    ) -> Person:
        """Enrol ``key`` for the invited person: the event is signed by that new key."""
        text = parse_invitation(invitation) if isinstance(invitation, str) else invitation
        state = self.state()
        refuse_if_tampered(state)
        found = self._valid_invitation(state, text)
        if (held := state.keys.get(key.key_id)) is not None and held.person == found.name:
            # their own invitation for a machine of their own, joined from the shell whose
            # key they already hold: "use a key of omar's own" told omar what he had done
            raise InvalidInput(
                f"the key {key.key_id} is already enrolled in this program, as {held.person}'s "
                f"own: this invitation adds another machine of {found.name}'s, which joins "
                "with a key of its own: run `inhouse join` in their shell on that machine, or "
                "point INHOUSE_KEY at a file that does not exist yet (join creates it there); "
                "the invitation is still unused"
            )
        if held is not None:
            # one computer playing several people (the README's tour by hand): the second
            # person's `join` in the first one's shell found that person's key, and the error
            # said only that it was enrolled
            raise InvalidInput(
                f"the key {key.key_id} is already enrolled in this program, as "
                f"{held.person}'s: this shell acts as {held.person}. To join as {found.name}, "
                f"use a key of {found.name}'s own: run `inhouse join` in their shell on their "
                f"machine, or point INHOUSE_KEY at a file that does not exist yet (join "
                f"creates it there); the invitation is still unused"
            )
        payload = {
            "name": found.name,
            "key_id": key.key_id,
            "public_key": key.public_key,
            "machine": at_machine or machine.machine_fingerprint(),
            "token_hash": found.token_hash,
            "join_proof": text.join_proof(key.key_id),
            # the rules this inhouse judges by: a colleague's, which no exit may claim fewer of
            "rules": EXIT_RULES,
        }
        self._append(EventKind.PERSON_ENROLLED, found.name, payload, key=key)
        return self.state().people[found.name]

    def _valid_invitation(self, state: ProgramState, text: InvitationText) -> Invitation:
        if text.program_id != state.program_id:
            raise InvalidInput("this invitation is for another program")
        found = state.invitations.get(text.token_hash)
        if found is None or found.name != text.name:
            raise InvalidInput(f"no such invitation for {text.name} in this program")
        if found.used:
            raise InvalidInput(f"this invitation for {text.name} was already used")
        if self.clock() >= found.expires:
            raise InvalidInput(
                f"this invitation for {text.name} expired on {found.expires:%Y-%m-%d %H:%M}"
            )
        # the fold's own rule (a lead's invitation beside a key the person holds, in a program
        # with a sign-in), asked before writing what the fold would refuse
        if problem := invitation_problem(state, text.name, text.token_hash, self.clock()):
            raise InvalidInput(f"{text.name} cannot join {problem}")
        return found

    def enrol_service(
        self, name: str, key: SigningKey, *, supersedes: Sequence[str] = ()
    ) -> Person:
        """Enrol a service (the gateway) with a key of its own; a rollout lead vouches for it.
        The enrolment also carries the service key's own signature. ``supersedes``: the
        service's keys it replaces on the same host (a rotation): they sign nothing from then
        on, while what they sealed keeps counting until one is revoked."""
        state, who = self._begin(None)
        if Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(f"only a rollout lead enrols a service; {who.name} is not one")
        existing = state.people.get(name)
        if existing is not None and not existing.service:
            raise InvalidInput(f"{name} is a person on the roster, not a service")
        payload = {
            "name": name,
            "key_id": key.key_id,
            "public_key": key.public_key,
            "machine": machine.machine_fingerprint(),
            "service": True,
            "enrolled_by": who.name,
            "proof": key.sign(f"inhouse-service:{state.program_id}:{name}".encode()),
        }
        if supersedes:  # left out otherwise: an enrolment reads as every earlier one did
            payload["supersedes"] = list(supersedes)
            where = f"the enrolment of {name}'s key {key.key_id}"
            if problem := supersedes_problem(state, where, name, payload["supersedes"]):
                raise InvalidInput(problem)
        self._append(EventKind.PERSON_ENROLLED, who.name, payload)
        return self.state().people[name]

    def revoke_key(self, key_id: str) -> None:
        """Revoke one of your keys (or, as a rollout lead, anyone's)."""
        state, who = self._begin(None)
        record = state.keys.get(key_id)
        if record is None or record.revoked_at is not None:
            raise InvalidInput(f"no active key {key_id} in this program")
        if record.person != who.name and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(f"{who.name} cannot revoke {record.person}'s key")
        if not _a_lead_left(state, without=key_id):
            # as dropping the last lead's role: nobody could invite, change roles or grant
            # waivers again, and `claim-lead` takes only a program nobody has joined
            raise InvalidInput(
                f"{key_id} is the last key in use of the program's last rollout lead "
                f"({record.person}): revoked, nobody could invite people or change roles "
                "again. Make someone else rollout lead first (`inhouse person role NAME --add "
                "rollout-lead`), then revoke it"
            )
        self._append(EventKind.KEY_REVOKED, who.name, {"key_id": key_id, "person": record.person})

    def change_roles(
        self, actor: str | None, name: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> Person:
        state, who = self._begin(actor)
        person = self._person(state, name)
        adding, removing = roles_of(add), roles_of(remove)
        if person.service and adding:
            raise NotAllowed(f"{name} is a service: its key speaks for no person and holds no role")
        roles = (set(person.roles) | adding) - removing
        if roles != set(person.roles) and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(f"only a rollout lead changes roles; {who.name} is not one")
        self._role_rules(state, who, name, set(person.roles), roles)
        payload = {"name": name, "email": person.email, "team": person.team, "roles": sorted(roles)}
        self._append(EventKind.PERSON_CHANGED, who.name, payload)
        return self.state().people[name]

    def _role_rules(
        self, state: ProgramState, who: Person, name: str, before: set[str], after: set[str]
    ) -> None:
        if Role.ROLLOUT_LEAD in after ^ before and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"only a rollout lead can change who is rollout lead ({who.name} is not)"
            )
        others = [
            other.name
            for other in state.people.values()
            if other.name != name
            and not other.service
            and Role.ROLLOUT_LEAD in other.roles
            # a lead every key of whom is revoked (who left) can sign nothing, so leads no one
            # (one invited who has not joined yet has no key to revoke: they count)
            and not _all_revoked(state, other.name)
        ]
        if Role.ROLLOUT_LEAD in before - after and not others:
            # nobody would be left to invite, change roles or grant waivers, and `claim-lead`
            # takes only a program nobody has joined: the program would be locked for good
            raise InvalidInput(
                f"{name} is the program's last rollout lead: without one nobody may invite "
                "people or change roles again. Make someone else rollout lead first, someone "
                "whose keys are not all revoked (`inhouse person role NAME --add rollout-lead`)"
            )
        if Role.PILOT_USER in after - before:
            self.check_reach(None, Reach.PILOT, action=f"add {name} to the pilot")
        if before - after and self._leaves_pilot(state, name, after):
            # access granted inside the pilot would reach beyond it: every fold holds that back
            # before play 5 exits, so the API refuses it (`inhouse pilot remove` takes the
            # access back first)
            self.check_reach(
                None,
                Reach.BEYOND_PILOT,
                action=f"take {name} out of the pilot, the gateway access granted to them in it "
                "left open (revoke it first: `inhouse pilot remove`, or `inhouse keys revoke`)",
            )

    def _leaves_pilot(self, state: ProgramState, name: str, roles: set[str]) -> bool:
        """Whether ``name``, holding gateway access, would reach beyond the pilot with
        ``roles`` where they reach no further than the pilot now."""
        from dataclasses import replace

        from inhouse.program.guards import access_holders, reach_of

        if name not in access_holders(state):
            return False
        if reach_of(self.playbook, state, name) is Reach.BEYOND_PILOT:
            return False
        person = replace(state.people[name], roles=frozenset(roles))
        after = replace(state, people={**state.people, name: person})
        return reach_of(self.playbook, after, name) is Reach.BEYOND_PILOT


def invitation_expiry(days: int) -> timedelta:
    if days < 1 or days > 90:
        raise InvalidInput(f"an invitation lasts 1 to 90 days, not {days}")
    return timedelta(days=days)
