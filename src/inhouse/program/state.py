"""Fold the event log into the program's current state. Nothing here is stored: the state is
recomputed from the events every time, so it can never disagree with the log."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from inhouse.program.checks import Person
from inhouse.program.events import Event, EventKind
from inhouse.program.facts import FACT_KINDS, Fact, FactSet, Provenance

__all__ = ["Handoff", "PlayRecord", "ProgramState", "Refusal", "Stop", "Waiver", "fold"]


@dataclass(frozen=True)
class PlayRecord:
    play: str
    owner: str
    started_by: str
    started_at: datetime
    waivers: tuple[int, ...] = ()  # waivers (by event seq) that let the start through


@dataclass(frozen=True)
class Handoff:
    play: str  # the play being handed on
    offered_by: str
    to: str
    offered_at: datetime
    offer_hash: str
    comment: str
    status: str = "offered"  # offered | accepted | rejected
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    accepted_hash: str | None = None


@dataclass(frozen=True)
class Waiver:
    seq: int
    guard: str
    play: str | None
    reason: str
    note: str
    granted_by: str
    granted_at: datetime
    expires: datetime

    def active(self, now: datetime) -> bool:
        return now < self.expires

    def covers(self, guard: str, play: str | None, now: datetime) -> bool:
        return self.guard == guard and (self.play is None or self.play == play) and self.active(now)


@dataclass(frozen=True)
class Refusal:
    seq: int
    at: datetime
    actor: str
    action: str
    guards: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Stop:
    reason: str
    by: str
    at: datetime
    evidence: tuple[int, ...]
    comment: str


@dataclass
class ProgramState:
    name: str = ""
    lead: str = ""
    playbook: str = ""
    playbook_version: int = 0
    created_at: datetime | None = None
    people: dict[str, Person] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    plays: dict[str, PlayRecord] = field(default_factory=dict)
    handoffs: dict[str, Handoff] = field(default_factory=dict)
    exited: dict[str, datetime] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    stopped: Stop | None = None
    head_seq: int = 0

    @property
    def owners(self) -> dict[str, str]:
        return {play: record.owner for play, record in self.plays.items()}

    def live_facts(self, now: datetime) -> FactSet:
        return FactSet(fact for fact in self.facts if not fact.expired(now))


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fact(event: Event, data: dict[str, Any]) -> Fact:
    return Fact(
        id=event.seq,
        kind=data["kind"],
        version=int(data.get("version", 1)),
        payload=data["payload"],
        provenance=Provenance(data["provenance"]),
        by=event.actor,
        collector=data.get("collector"),
        comment=data.get("comment"),
        expires=_when(data.get("expires")),
        at=event.at,
    )


def fold(events: list[Event]) -> ProgramState:
    """Replay ``events`` (oldest first) into a :class:`ProgramState`."""
    state = ProgramState()
    for event in events:
        data = event.payload
        kind = event.kind
        state.head_seq = event.seq
        if kind == EventKind.PROGRAM_CREATED:
            state.name = data["name"]
            state.lead = data["lead"]
            state.playbook = data["playbook"]
            state.playbook_version = int(data["playbook_version"])
            state.created_at = event.at
        elif kind in (EventKind.PERSON_ADDED, EventKind.PERSON_CHANGED):
            state.people[data["name"]] = Person(
                name=data["name"],
                email=data.get("email", ""),
                team=data.get("team", ""),
                roles=frozenset(data.get("roles", [])),
            )
        elif kind == EventKind.HYPOTHESIS_RECORDED:
            state.facts.append(
                _fact(
                    event,
                    {
                        "kind": "hypothesis",
                        "version": FACT_KINDS["hypothesis"].version,
                        "payload": data,
                        "provenance": Provenance.ATTESTED.value,
                        "comment": data["statement"],
                    },
                )
            )
        elif kind == EventKind.FACT_RECORDED:
            state.facts.append(_fact(event, data))
        elif kind == EventKind.PLAY_STARTED:
            state.plays[data["play"]] = PlayRecord(
                play=data["play"],
                owner=data["owner"],
                started_by=event.actor,
                started_at=event.at,
                waivers=tuple(data.get("waivers", [])),
            )
        elif kind == EventKind.HANDOFF_OFFERED:
            state.handoffs[data["play"]] = Handoff(
                play=data["play"],
                offered_by=event.actor,
                to=data["to"],
                offered_at=event.at,
                offer_hash=data["evidence_hash"],
                comment=data.get("comment", ""),
            )
        elif kind in (EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_REJECTED):
            accepted = kind == EventKind.HANDOFF_ACCEPTED
            state.handoffs[data["play"]] = replace(
                state.handoffs[data["play"]],
                status="accepted" if accepted else "rejected",
                decided_by=event.actor,
                decided_at=event.at,
                decision_comment=data.get("comment", ""),
                accepted_hash=data.get("evidence_hash") if accepted else None,
            )
        elif kind == EventKind.PLAY_EXITED:
            state.exited[data["play"]] = event.at
        elif kind == EventKind.WAIVER_GRANTED:
            expires = _when(data["expires"])
            assert expires is not None
            state.waivers.append(
                Waiver(
                    seq=event.seq,
                    guard=data["guard"],
                    play=data.get("play"),
                    reason=data["reason"],
                    note=data["note"],
                    granted_by=event.actor,
                    granted_at=event.at,
                    expires=expires,
                )
            )
        elif kind == EventKind.ACTION_REFUSED:
            state.refusals.append(
                Refusal(
                    seq=event.seq,
                    at=event.at,
                    actor=event.actor,
                    action=data["action"],
                    guards=tuple(data["guards"]),
                    message=data["message"],
                )
            )
        elif kind == EventKind.PROGRAM_STOPPED:
            state.stopped = Stop(
                reason=data["reason"],
                by=event.actor,
                at=event.at,
                evidence=tuple(data.get("evidence", [])),
                comment=data.get("comment", ""),
            )
    return state
