"""Role enablement, measured: each pilot member's track, step by step, from evidence.

``progress`` evaluates every step of each member's track with its step type's check (what the
gateway's own key signed, facts a collector signed, or, for an attested step, the member's own
signed word). ``record_enablement`` turns the runner's own newly met steps into
``enablement.step`` facts (a measured one names the facts it rests on; a word says
``attested``) and their finished track into ``enablement.completed`` naming its steps
(collector ``inhouse pilot enablement``), signed with the member's own key: a completion counts
only when signed by the member it names (:mod:`inhouse.program.counting`), so a lead cannot
record a track for someone who never walked it, and play 4's ``pilot-enabled`` check verifies
each step against the facts it names, so a member's signature over an unsigned table read
makes nothing measured. ``step_done`` is how a member records the steps only
they can: their own word for an attested step, and having read why a request of theirs was
redacted; it is refused for anyone else and for a step inhouse measures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from inhouse.errors import InhouseError, InvalidInput, NotAllowed
from inhouse.figures import count
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.roster import Member, PilotLimits, members, pilot_limits
from inhouse.pilot.tracks import Step, Track, load_track
from inhouse.plaintext import check_plain
from inhouse.program.facts import Fact, Provenance
from inhouse.program.playchecks.pilot import (
    WORD,
    Enablement,
    enablement_of,
    step_problem,
    track_terms,
    uncounted_track,
)

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.program import Program

__all__ = [
    "COLLECTOR",
    "MemberProgress",
    "PilotList",
    "StepDone",
    "StepProgress",
    "pilot_list",
    "progress",
    "record_enablement",
    "step_done",
]

COLLECTOR = "inhouse pilot enablement"


@dataclass(frozen=True)
class StepProgress:
    id: str
    type: str
    title: str
    met: bool
    detail: str  # the evidence that met it, or what is missing
    how: str  # how to meet it
    recorded: bool  # an enablement.step fact already says it is met, and the log bears it out
    #: the counted facts that met it (a measured step), empty for the member's own word
    evidence: tuple[int, ...] = ()
    #: not met, but they did what ``how`` asks: ``detail`` names what is left
    acted: bool = False


@dataclass(frozen=True)
class MemberProgress:
    member: Member
    steps: tuple[StepProgress, ...] = ()
    completed_recorded: bool = False
    error: str | None = None  # the track does not load (one bad file hides no other member)
    track_title: str = ""
    #: why their finished track counts for nothing toward play 4's ``pilot-enabled`` (exit
    #: rule 13: no step of it the gateway measured), None where it counts or is not finished
    not_counted: str | None = None

    @property
    def met(self) -> int:
        return sum(step.met for step in self.steps)

    @property
    def done(self) -> bool:
        return self.error is None and bool(self.steps) and self.met == len(self.steps)

    def to_dict(self) -> dict[str, object]:
        return {
            "person": self.member.person,
            "team": self.member.team,
            "says": self.member.says,
            "confirmed": self.member.confirmed,
            "track": self.member.track,
            "onboarded": self.member.onboarded.date().isoformat(),
            "met": self.met,
            "steps_total": len(self.steps),
            "done": self.done,
            "counts": self.done and self.not_counted is None,
            "not_counted": self.not_counted,
            "completed_recorded": self.completed_recorded,
            "error": self.error,
            "steps": [asdict(step) for step in self.steps],
        }


def _recorded(evidence: PilotEvidence, kind: str, person: str, track: str) -> list[Fact]:
    return [
        f
        for f in evidence.facts.of(kind)
        if f.payload["person"] == person and f.payload["track"] == track
    ]


def _progress_of(
    evidence: PilotEvidence, member: Member, tracks: dict[str, Track]
) -> MemberProgress:
    try:
        track = tracks.get(member.track) or load_track(evidence.program.folder, member.track)
    except InhouseError as err:
        return MemberProgress(member, error=str(err))
    tracks[member.track] = track
    added = evidence.members[member.person]
    recorded = _recorded(evidence, "enablement.step", member.person, track.name)
    steps_done = {
        str(f.payload["step"])
        for f in recorded
        if step_problem(evidence.context, member.person, added, f) is None
    }
    steps = []
    for step in track.steps:
        result = step.check(evidence, member.person)
        steps.append(
            StepProgress(
                id=step.id,
                type=step.type,
                title=step.title,
                met=result.met,
                detail=result.detail,
                how=step.how,
                recorded=step.id in steps_done,
                evidence=result.evidence,
                acted=result.acted,
            )
        )
    # recorded: a completion of theirs that counts names every step; for a member added before
    # their track's steps were recorded (the check judges none until a lead adds them again),
    # one naming every step, so each run does not record it again
    wanted = {s.id for s in track.steps}
    counted = enablement_of(evidence.context, member.person, added)
    if track_terms(added):
        completed = counted.completion is not None and wanted <= set(
            counted.completion.payload.get("steps") or []
        )
    else:
        completed = any(
            wanted <= set(f.payload.get("steps") or [])
            for f in _recorded(evidence, "enablement.completed", member.person, track.name)
        )
    not_counted = None
    if steps and all(step.met for step in steps):
        found = counted
        if found.completion is None:
            # not recorded yet: the facts its steps rest on, as --record would name them
            ids = {i for step in steps for i in step.evidence}
            found = Enablement(None, tuple(f for f in evidence.facts if f.id in ids))
        not_counted = uncounted_track(evidence.context, member.person, member.track, found)
    return MemberProgress(
        member, tuple(steps), completed, track_title=track.title, not_counted=not_counted
    )


def progress(
    program: Program, person: str | None = None, now: datetime | None = None
) -> list[MemberProgress]:
    """Each member's track, step by step, from the evidence at ``now`` (default: the clock's;
    ``person``: theirs only)."""
    evidence = PilotEvidence(program, now)
    return _progress(evidence, person)


def _progress(evidence: PilotEvidence, person: str | None) -> list[MemberProgress]:
    current = members(evidence)
    if person is not None:
        current = [m for m in current if m.person == person]
        if not current:
            raise InvalidInput(f"{person} is not in the pilot: `inhouse pilot list` shows it")
    tracks: dict[str, Track] = {}
    return [_progress_of(evidence, member, tracks) for member in current]


def record_enablement(
    program: Program, person: str | None = None
) -> tuple[list[MemberProgress], list[Fact]]:
    """Record, signed by the member running it, an ``enablement.step`` fact for each of their
    steps newly met and ``enablement.completed`` when their track is finished. Returns their
    progress after, and the facts recorded. Refused for anyone else's track (``person``): only
    the member's own signature counts, and a lead's would be their word for someone else."""
    who = program.whoami().name
    if person is not None and person != who:
        raise NotAllowed(
            f"only {person}'s own key records {person}'s enablement: {person} runs "
            f"`inhouse pilot enablement --record` ({who} can look, without --record)"
        )
    try:
        found = progress(program, who)
    except InvalidInput:
        raise InvalidInput(
            f"{who} is not in the pilot: each member records their own track with "
            "`inhouse pilot enablement --record` and their own key"
        ) from None
    recorded: list[Fact] = []
    for item in found:
        if item.error is not None:
            continue
        for step in item.steps:
            if step.met and not step.recorded:
                # a measured step names what it rests on; one without is the member's word
                how = step.detail if step.evidence else WORD
                recorded.append(
                    _record(program, "enablement.step", item.member, step=step.id, how=how,
                            evidence=list(step.evidence))
                )  # fmt: skip
        if item.done and not item.completed_recorded:
            steps = [step.id for step in item.steps]
            recorded.append(_record(program, "enablement.completed", item.member, steps=steps))
    return progress(program, who), recorded


def _record(program: Program, kind: str, member: Member, **extra: object) -> Fact:
    return program.record_fact(
        None,
        kind,
        {"person": member.person, "track": member.track, **extra},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


@dataclass(frozen=True)
class StepDone:
    fact: Fact
    step: Step
    #: what the person read (for a redaction: the request, the classes, the rules)
    explanation: list[str] = field(default_factory=list)


def step_done(
    program: Program, step_id: str, *, comment: str = "", on_behalf_of: str | None = None
) -> StepDone:
    """Record, in the acting person's own signed word, a step of their track that only they can
    say they did. Refused for anyone else (a lead included) and for a measured step."""
    check_plain(comment, what="the comment")
    who = program.whoami()
    if on_behalf_of is not None and on_behalf_of != who.name:
        raise NotAllowed(
            f"only {on_behalf_of}'s own word counts for their enablement: {on_behalf_of} runs "
            f"`inhouse pilot step done {step_id}` with their own key ({who.name} cannot)"
        )
    evidence = PilotEvidence(program)
    member = next((m for m in members(evidence) if m.person == who.name), None)
    if member is None:
        raise InvalidInput(f"{who.name} is not in the pilot: a rollout lead adds you first")
    track = load_track(program.folder, member.track)
    step = track.step(step_id)
    if step.kind.on_done is None:
        raise InvalidInput(
            f"step {step.id} ({step.type}) is measured, not a person's word: {step.how}; "
            "`inhouse pilot enablement` then finds it (now: "
            f"{step.check(evidence, who.name).detail})"
        )
    explanation = step.kind.on_done(evidence, who.name)
    text = comment.strip() or f"{step.title}: done"
    fact = program.attest(
        None,
        "enablement.step",
        {"person": who.name, "track": track.name, "step": step.id, "how": "attested"},
        text,
    )
    return StepDone(fact, step, explanation)


@dataclass(frozen=True)
class PilotList:
    members: list[MemberProgress]
    role_only: list[str]  # hold pilot-user with no track: not members until a lead adds them
    limits: PilotLimits
    teams: list[str]

    def summary(self) -> str:
        return (
            f"{count(len(self.members), 'members')} across {count(len(self.teams), 'teams')} "
            "as the roster "
            f"names them (pilot-size counts a team where its members say so too: `inhouse "
            f"pilot team TEAM`); the playbook wants {self.limits.describe()}"
        )


def pilot_list(program: Program, now: datetime | None = None) -> PilotList:
    """``pilot list``: the members with their team, track, onboarded day and progress (at
    ``now``: default, the clock's)."""
    evidence = PilotEvidence(program, now)
    found = _progress(evidence, None)
    inside = {item.member.person for item in found}
    role_only = sorted(p.name for p in evidence.context.pilot if p.name not in inside)
    teams = sorted({item.member.team for item in found if item.member.team})
    return PilotList(found, role_only, pilot_limits(program.playbook), teams)
