"""The shape of every event the engine reads, held to it strictly on read: the fields the fold,
the signature verifier and the play packages' readers (:mod:`inhouse.program.access`) take from
an event's payload, each with the type inhouse writes. A declaration table, as
:mod:`inhouse.program.payloads` is for facts.

An event appended around the API (``Program._append``, or a row signed with a real key and
written straight into the store) can carry any JSON at all: a list for a payload, a key id that
is a list, an expiry that is no time, a field left out. Read as Python reads it, such a payload
raised in the middle of the fold, which stopped there as at a bad signature: one such event from
any enrolled member froze the program for everyone. The fold now asks :func:`event_problem`
first, and sets aside (never counts, and names on ``status``) an event that is not what inhouse
writes, where its signer is no rollout lead (:func:`inhouse.program.state.apply`).

Each model names only the fields read, and allows others: what an event carries besides them
(a delegation, an approval, the rules it judged by) is held by the code that reads it.

The kinds only a rollout lead may write (a waiver, the sign-in's set-up, the program's
creation) are not held here on read: a lead's malformed event stops the fold by design, and
where one does, :func:`lead_event_problem` names the field for the message that says so."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from inhouse.errors import validation_problem_list
from inhouse.program.events import EventKind

__all__ = ["event_problem", "lead_event_problem"]


def _iso_time(text: str) -> str:
    datetime.fromisoformat(text)  # a ValueError names the text: what the fold reads it with
    return text


#: a time as inhouse writes it, and the fold reads it (``datetime.fromisoformat``): pydantic's
#: own datetime takes a count of seconds too ("1700000000"), which the fold's reader does not
_Time = Annotated[str, AfterValidator(_iso_time)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


class _Seat(_Shape):
    """``person.added``, ``person.changed``: a person as the roster holds them."""

    name: str
    team: str | None = None
    email: str | None = None
    roles: list[str] = []
    service: bool = False


class _Invited(_Seat):
    token_hash: str
    expires: _Time
    another_key: bool = False
    join_key: str | None = None


class _Enrolled(_Shape):
    name: str
    key_id: str
    public_key: str
    token_hash: str | None = None
    join_proof: str | None = None
    service: bool = False
    claimed: bool = False
    supersedes: list[str] | None = None


class _Revoked(_Shape):
    key_id: str


class _SignedIn(_Shape):
    id_token: str


class _Refused(_Shape):
    action: str
    guards: list[str]
    message: str


class _Started(_Shape):
    play: str
    owner: str
    waivers: list[int] = []


class _Offered(_Shape):
    play: str
    to: str
    evidence_hash: str
    comment: str = ""


class _Decided(_Shape):
    play: str
    comment: str = ""
    evidence_hash: str | None = None


class _Exited(_Shape):
    play: str


class _Stopped(_Shape):
    reason: str
    evidence: list[int] = []
    comment: str = ""


class _Imported(_Shape):
    envelope: dict[str, Any]
    digest: str
    key_id: str


class _Released(_Shape):
    mailbox: str = ""
    to: str | None = None
    account: str | None = None  # an account signed in at no address, by its subject


class _DashNames(_Shape):
    domain: str = ""


class _KeyEvent(_Shape):
    """A gateway key's grant, fetch or revocation (:mod:`inhouse.program.access`)."""

    grant: str | None = None
    key: str | None = None
    person: str | None = None
    agent: str | None = None
    prefix: str | None = None
    hash: str | None = None


class _Waiver(_Shape):
    """``waiver.granted``: what the fold's waivers and the guards read."""

    guard: str
    expires: _Time
    reason: str
    note: str
    play: str | None = None


class _SetUp(_Shape):
    """``sign-in.set-up``: the issuer, client, domain and signing keys pinned."""

    issuer: str
    client_id: str
    keys: list[dict[str, Any]]
    domain: str | None = None


class _Created(_Shape):
    """``program.created``: the program's name, lead and playbook."""

    name: str
    lead: str
    playbook: str
    playbook_version: int
    playbook_rules: str | None = None
    demo: bool = False


_SHAPES: dict[str, type[_Shape]] = {
    EventKind.PERSON_ADDED: _Seat,
    EventKind.PERSON_CHANGED: _Seat,
    EventKind.PERSON_INVITED: _Invited,
    EventKind.PERSON_ENROLLED: _Enrolled,
    EventKind.KEY_REVOKED: _Revoked,
    EventKind.PERSON_SIGNED_IN: _SignedIn,
    EventKind.ACTION_REFUSED: _Refused,
    EventKind.PLAY_STARTED: _Started,
    EventKind.HANDOFF_OFFERED: _Offered,
    EventKind.HANDOFF_ACCEPTED: _Decided,
    EventKind.HANDOFF_REJECTED: _Decided,
    EventKind.PLAY_EXITED: _Exited,
    EventKind.PROGRAM_STOPPED: _Stopped,
    EventKind.EVIDENCE_IMPORTED: _Imported,
    EventKind.MAILBOX_RELEASED: _Released,
    EventKind.DASH_NAMES: _DashNames,
    "gateway.key.granted": _KeyEvent,
    "gateway.key.issued": _KeyEvent,
    "gateway.key.revoked": _KeyEvent,
}


#: the kinds only a lead writes, for naming what is wrong where one stops the fold
_LEAD_SHAPES: dict[str, type[_Shape]] = {
    EventKind.WAIVER_GRANTED: _Waiver,
    EventKind.SIGN_IN_SET_UP: _SetUp,
    EventKind.PROGRAM_CREATED: _Created,
}


def event_problem(kind: str, payload: Any) -> str | None:
    """Why an event of ``kind`` carrying ``payload`` (as the log holds it) is not one inhouse
    writes, naming the field; None where it is. Every payload is a JSON object; the kinds in
    the table are held to their fields, strictly (a list for a key id, a number for an expiry,
    ``"true"`` for a flag); the others (a fact's, whose payload its kind's schema holds, a
    sign-in's judged by the fold, a play package's this process does not know) are taken as
    they are."""
    return _problem(_SHAPES, kind, payload)


def lead_event_problem(kind: str, payload: Any) -> str | None:
    """What is wrong with an event of ``kind`` carrying ``payload`` that stopped the fold,
    naming the field (``expires: Input should be a valid string``), for a kind anyone writes
    or one only a lead does; None where its shape is not what is wrong (the caller says what
    went wrong instead). It only names the problem: which events stop the fold is the fold's."""
    return _problem(_SHAPES | _LEAD_SHAPES, kind, payload)


def _problem(shapes: dict[str, type[_Shape]], kind: str, payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return f"payload: {type(payload).__name__}, not an object"
    shape = shapes.get(kind)
    if shape is None:  # most of the log (facts): nothing more to hold here, and fast
        return None
    try:
        shape.model_validate_json(json.dumps(payload, default=str))
    except ValidationError as err:
        return "; ".join(
            f"{'.'.join(str(part) for part in problem.loc) or 'payload'}: {problem.message}"
            for problem in validation_problem_list(err)
        )
    return None
