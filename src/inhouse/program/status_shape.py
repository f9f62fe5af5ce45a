"""The shape of a program's status: what ``inhouse status --json`` prints, what the CLI renders,
and what the dashboard will show. One declaration, typed, so the core, the renderer and the
JSON twin cannot drift apart (docs/json.md documents it; a test pins it)."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "CheckRow",
    "EvidenceRow",
    "FactCounts",
    "HandoffView",
    "KeyView",
    "PersonView",
    "PlayView",
    "PlaybookRef",
    "ProgramView",
    "RefusalView",
    "Status",
    "StopEvidence",
    "StopView",
    "TamperedView",
    "WaiverView",
    "owner_words",
    "role_words",
    "state_words",
]

#: each play state as a person reads it: ``inhouse status`` and the dashboard both say these
_STATE_WORDS = {
    "not-started": "not started",
    "ready": "ready to start",
    "running": "running",
    "exit-met": "exit met: offer the handoff",
    "handoff-offered": "handoff offered",
    "exited": "exited",
    "ongoing": "ongoing",
    "stopped": "not reached (program stopped)",
}

#: each role as a person reads it (the ids, ``rollout-lead``, are what a command takes and
#: what the JSON twins carry)
_ROLE_WORDS = {
    "rollout-lead": "rollout lead",
    "play-owner": "play owner",
    "support-owner": "support owner",
    "champion": "champion",
    "pilot-user": "pilot user",
}


class EvidenceRow(TypedDict):
    fact: int
    kind: str
    provenance: str
    by: str
    signed: bool
    on_behalf_of: str | None
    label: str


class CheckRow(TypedDict):
    check: str
    title: str
    outcome: str
    reason: str
    basis: str | None
    evidence: list[EvidenceRow]
    waived_by: list[int]


class HandoffView(TypedDict):
    to: str
    offered_by: str
    offered_at: str | None
    comment: str
    status: str
    decided_by: str | None
    decided_at: str | None
    decision_comment: str | None
    stale: bool


class PlayView(TypedDict):
    number: int
    id: str
    title: str
    purpose: str
    owner_role: str
    owner_who: str
    owner: str | None
    state: str
    started_at: str | None
    started_under_waivers: list[int]
    #: the start guards that held this play's start back, no waiver covering it (a start
    #: written around the API): each guard and why
    held_back: list[dict[str, str]]
    exited_at: str | None
    trigger: list[CheckRow]
    exit: list[CheckRow] | None
    exit_met: bool | None
    hands_on: str | None
    handoff: HandoffView | None
    ongoing: bool


class StopEvidence(TypedDict):
    fact: int
    kind: str
    label: str
    payload: dict[str, Any]


class StopView(TypedDict):
    reason: str
    by: str
    at: str | None
    comment: str
    evidence: list[StopEvidence]
    success: bool
    summary: str


class PlaybookRef(TypedDict):
    name: str
    version: int


class ProgramView(TypedDict):
    name: str
    folder: str
    lead: str
    playbook: PlaybookRef
    state: str
    stopped: StopView | None
    created_at: str | None
    demo: bool
    id: str


class KeyView(TypedDict):
    key_id: str
    machine: str
    enrolled_at: str | None
    invited_by: str | None
    revoked_at: str | None


class PersonView(TypedDict):
    name: str
    email: str
    team: str
    roles: list[str]
    service: bool
    enrolled: bool
    keys: list[KeyView]


class FactCounts(TypedDict):
    live: int
    expired: list[int]


class TamperedView(TypedDict):
    """Why nothing more can be recorded on this log here: it does not verify at ``seq``
    (``cut`` false), or it no longer holds event ``seq``, the newest a command on this
    machine saw (``cut`` true: :mod:`inhouse.program.witness`)."""

    seq: int
    cut: bool
    problem: str


class WaiverView(TypedDict):
    id: int
    guard: str
    play: str | None
    reason: str
    note: str
    granted_by: str
    granted_at: str | None
    expires: str | None
    active: bool


class RefusalView(TypedDict):
    event: int
    at: str | None
    actor: str
    action: str
    guards: list[str]
    message: str


class Status(TypedDict):
    schema: int
    program: ProgramView
    now: str | None
    current_play: str | None
    plays: list[PlayView]
    people: list[PersonView]
    facts: FactCounts
    waivers: list[WaiverView]
    refusals: list[RefusalView]
    warnings: list[str]
    tampered: TamperedView | None
    events: int


def state_words(state: str) -> str:
    """A play's state (``PlayView["state"]``) in words: ``ready`` reads "ready to start"."""
    return _STATE_WORDS.get(state, state)


def owner_words(play: PlayView) -> str:
    """Who owns a play: the person who started it, else who the playbook says should own it
    (its ``owner.who``: "one technical person who will live with the result"), never the role's
    id."""
    return play["owner"] or play["owner_who"]


def role_words(roles: str | list[str]) -> str:
    """A role (``rollout-lead``), or several, in words: "rollout lead", "play owner, pilot
    user"; an id it does not know reads as itself."""
    named = [roles] if isinstance(roles, str) else roles
    return ", ".join(_ROLE_WORDS.get(role, role) for role in named)
