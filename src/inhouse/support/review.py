"""The periodic review (play 5): a cadence that is data, a review held by the people it names,
a decision for every model the nodes serve, and the next due date.

``[review]`` in ``inhouse.toml`` sets the cadence::

    [review]
    every_days = 30
    roles = ["rollout-lead", "support-owner"]   # at least one attendee holds each

A rollout lead schedules it (``review.scheduled``); an attendee records it held
(``review.held``): the attendees (enrolled people, the recorder among them, every role the
cadence names present), a decision per inventory item (keep, upgrade or retire, with a reason:
every blessed model and every unpinned extra of the latest drift review) and the next due date,
the held day plus ``every_days``. Each other attendee then confirms it with their own key
(``review.attended``, which only its ``person`` can sign): the names the recorder typed are a
claim, and only the confirmed ones count as attending. All are measured by the ``inhouse
review`` collector and signed by whoever records them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse.errors import ConfigError, InvalidInput, NotAllowed, UnknownPerson
from inhouse.location import CONFIG_NAME
from inhouse.plaintext import check_plain
from inhouse.program.config import read_config
from inhouse.program.counting import build_context
from inhouse.program.facts import Fact, FactSet, Provenance
from inhouse.program.playbook import Role
from inhouse.program.playchecks.support import (
    Attendance,
    inventory_items,
    queue_owner_for,
    review_attendance,
    review_due,
)
from inhouse.terminal import shown

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "COLLECTOR",
    "ReviewSettings",
    "ReviewStatus",
    "attend_review",
    "attended_lines",
    "hold_review",
    "parse_decision",
    "review_settings",
    "review_status",
    "schedule_review",
]

COLLECTOR = "inhouse review"
_DECISION = re.compile(
    r"(?P<item>[^=]+)=(?P<decision>keep|upgrade|retire):(?P<reason>.*\S.*)", re.S
)


class ReviewSettings(BaseModel):
    """The ``[review]`` table."""

    model_config = ConfigDict(extra="forbid")

    every_days: int = Field(ge=1, le=366)
    roles: list[Role] = Field(
        default_factory=lambda: [Role.ROLLOUT_LEAD, Role.SUPPORT_OWNER],
        min_length=1,
        description="who must attend (play 5's review-held check asks for a lead and the "
        "support owner whatever this says)",
    )


def review_settings(folder: Path, config: dict[str, Any] | None = None) -> ReviewSettings:
    """The cadence from ``inhouse.toml``; a :class:`ConfigError` naming the field otherwise."""
    from inhouse.errors import validation_problems

    data = read_config(folder) if config is None else config
    table = data.get("review")
    if not isinstance(table, dict):
        raise ConfigError(
            f"{folder / CONFIG_NAME}: no [review] table: the cadence is data, e.g.\n"
            '[review]\nevery_days = 30\nroles = ["rollout-lead", "support-owner"]'
        )
    try:
        return ReviewSettings.model_validate(table)
    except ValidationError as err:
        raise ConfigError(
            f"{folder / CONFIG_NAME}: {validation_problems(err, 'review.')}"
        ) from None


def _counted(program: Program) -> FactSet:
    return build_context(program.state(), program.clock()).facts


def schedule_review(program: Program) -> Fact:
    """``inhouse review schedule``: record the cadence ``[review]`` sets (a rollout lead)."""
    who = program.whoami()
    if Role.ROLLOUT_LEAD not in who.roles:
        raise NotAllowed(
            f"only a rollout lead schedules the periodic review; {who.name} is not one"
        )
    settings = review_settings(program.folder)
    return program.record_fact(
        None,
        "review.scheduled",
        {"every_days": settings.every_days, "roles": [str(r) for r in settings.roles]},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def parse_decision(text: str) -> dict[str, str]:
    """``ITEM=keep|upgrade|retire:REASON`` as a decision."""
    match = _DECISION.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(
            f"cannot read decision {text!r}: write ITEM=keep|upgrade|retire:REASON, e.g. "
            '"llama3.2=keep:answers well, no CVE"'
        )
    return {
        "item": match["item"].strip(),
        "decision": match["decision"],
        "reason": match["reason"].strip(),
    }


def _attendees(program: Program, names: list[str], roles: list[str]) -> list[str]:
    state = program.state()
    who = program.whoami()
    people: list[str] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        person = state.people.get(name)
        if person is None or person.service:
            raise UnknownPerson(f"attendee {name!r} is not a person on this program's roster")
        if not any(k.revoked_at is None for k in state.keys_of(name)):
            raise InvalidInput(f"attendee {name} has no enrolled key: they join first")
        people.append(name)
    if who.name not in people:
        raise NotAllowed(
            f"{who.name} records the review, so {who.name} attended: add --attendee {who.name}"
        )
    held = {r for name in people for r in state.people[name].roles}
    missing = [r for r in roles if r not in held]
    if missing:
        raise InvalidInput(
            f"the review needs an attendee holding each of {', '.join(roles)}; nobody among "
            f"{', '.join(people)} holds {', '.join(missing)}"
        )
    # the support owner it asks for is the queue's, not whoever holds the role (play 5's
    # review-held reads it so)
    owner = queue_owner_for(build_context(state, program.clock()), state.head_seq + 1)
    if Role.SUPPORT_OWNER.value in roles and owner is not None and owner not in people:
        raise InvalidInput(
            f"the review needs the support queue's owner, {owner}, among its attendees (another "
            f"holder of the support-owner role stands in for nobody): add --attendee {owner}"
        )
    if people == [who.name]:
        raise InvalidInput(
            "a review of one is not a review: add --attendee for who else attended (each "
            "confirms it with their own key, `inhouse review attend`)"
        )
    return people


def hold_review(
    program: Program, attendees: list[str], decisions: list[str], *, notes: str = ""
) -> Fact:
    """``inhouse review hold``: record the review held today, refused (nothing recorded) unless
    it was scheduled, the cadence's roles attended, and every inventory item has a decision.
    The other attendees are a claim until each confirms it (:func:`attend_review`)."""
    check_plain(notes, what="the notes")
    facts = _counted(program)
    plan = facts.latest("review.scheduled")
    if plan is None:
        raise InvalidInput(
            "no periodic review is scheduled: a rollout lead runs `inhouse review schedule`"
        )
    people = _attendees(program, attendees, [str(r) for r in plan.payload["roles"]])
    found = inventory_items(facts)
    if found is None:
        raise InvalidInput(
            "no drift review to decide on: run `inhouse support drift-review` first, so the "
            "review sees what every node serves"
        )
    items = found[1]
    decided: dict[str, dict[str, str]] = {}
    for text in decisions:
        decision = parse_decision(text)
        if decision["item"] not in items:
            raise InvalidInput(
                f"{decision['item']!r} is not an inventory item (items: {', '.join(items)})"
            )
        if decision["item"] in decided:
            raise InvalidInput(f"{decision['item']} has two decisions; give one")
        decided[decision["item"]] = decision
    undecided = [i for i in items if i not in decided]
    if undecided:
        raise InvalidInput(
            f"no decision for {', '.join(undecided)}: every served model gets one "
            '(--decision "ITEM=keep|upgrade|retire:REASON")'
        )
    today = program.clock().date()
    return program.record_fact(
        None,
        "review.held",
        {
            "notes": notes,
            "attendees": people,
            "decisions": [decided[i] for i in items],
            "next_due": (today + timedelta(days=int(plan.payload["every_days"]))).isoformat(),
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def attend_review(
    program: Program,
    review: int | None = None,
    *,
    comment: str = "",
    agree: Callable[[list[str]], bool | None] | None = None,
) -> Fact:
    """``inhouse review attend``: confirm, signed with this shell's key, that its holder attended
    review ``review`` (a ``review.held`` fact id; default: the latest held). Refused, nothing
    recorded, unless that review lists them as an attendee and they did not record it.
    ``agree`` (the command's question) is shown the review as its recorder recorded it (when,
    who, every decision), and nothing is recorded unless it says yes: a colleague asked to
    "just run it" for a review they never sat in signs only what they read."""
    check_plain(comment, what="the comment")
    facts = _counted(program)
    who = program.whoami()
    held = _held(facts, review)
    attendees = [str(a) for a in held.payload.get("attendees") or []]
    if who.name not in attendees:
        raise NotAllowed(
            f"{who.name} is not listed as an attendee of review #{held.id} (held "
            f"{held.at:%Y-%m-%d} by {held.by}; attendees: {', '.join(attendees)}): only a "
            "listed attendee confirms it; if you attended, the recorder records the review "
            "listing you"
        )
    if who.name == held.by:
        raise InvalidInput(
            f"{who.name} recorded review #{held.id}, which already says {who.name} attended; "
            f"the other attendees confirm it, each with `inhouse review attend {held.id}`"
        )
    before = facts.latest(
        "review.attended", lambda f: f.by == who.name and f.payload["review"] == held.id
    )
    if before is not None:
        raise InvalidInput(
            f"{who.name} already confirmed attending review #{held.id} (fact #{before.id})"
        )
    if agree is not None:
        lines = attended_lines(held)
        if comment.strip():  # signed with the rest: shown with it
            lines.append(f"your comment: {shown(comment.strip())}")
        answer = agree(lines)
        if answer is None:
            raise NotAllowed(
                f"not confirmed, nothing recorded for {who.name}: the question got no answer (no "
                f"terminal to ask on, or the input ended): run `inhouse review attend {held.id}` "
                "yourself in a terminal, read the review it shows, and answer y only if you "
                "attended it (no flag answers for you)"
            )
        if not answer:
            raise NotAllowed(
                f"not confirmed, nothing recorded for {who.name}: confirm only a review you "
                f"attended yourself (ask {held.by}, who recorded it, to record the one you did)"
            )
    return program.record_fact(
        None,
        "review.attended",
        {"review": held.id, "person": who.name, "comment": comment.strip()},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def attended_lines(held: Fact) -> list[str]:
    """The review ``held`` as an attendee's confirmation signs for it, a line each: when and by
    whom it was recorded, who it lists, and each decision (every control character written
    out)."""
    attendees = ", ".join(shown(a) for a in held.payload.get("attendees") or [])
    said = [
        f"review #{held.id}, held {held.at:%Y-%m-%d %H:%M} UTC, recorded by {shown(held.by)}",
        f"attendees it lists: {attendees}",
    ]
    if notes := str(held.payload.get("notes") or "").strip():
        said.append(f"its notes: {shown(notes)}")
    for decision in held.payload.get("decisions") or []:
        if isinstance(decision, dict):
            said.append(
                f"decided: {shown(decision.get('item'))}: {shown(decision.get('decision'))} "
                f"({shown(decision.get('reason'))})"
            )
    return said


def _held(facts: FactSet, review: int | None) -> Fact:
    """The ``review.held`` fact to confirm: ``review`` by id, or the latest one held."""
    if review is None:
        found = facts.latest("review.held")
        if found is None:
            raise InvalidInput("no review held to confirm: an attendee runs `inhouse review hold`")
        return found
    found = facts.latest("review.held", lambda f: f.id == review)
    if found is None:
        raise InvalidInput(
            f"fact #{review} is not a review held (a review.held recorded by `inhouse review "
            "hold`): `inhouse review status` shows the last one and its id"
        )
    return found


@dataclass(frozen=True)
class ReviewStatus:
    scheduled: Fact | None
    held: Fact | None  # the last one held since it was scheduled
    due: date | None
    today: date
    attendance: Attendance | None = None  # who attended ``held``, by their own signature

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.today > self.due

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheduled": None
            if self.scheduled is None
            else {
                "at": self.scheduled.at.isoformat(timespec="seconds"),
                "by": self.scheduled.by,
                **self.scheduled.payload,
            },
            "held": None
            if self.held is None
            else {
                "id": self.held.id,
                "at": self.held.at.isoformat(timespec="seconds"),
                "by": self.held.by,
                **self.held.payload,
                **_attendance_dict(self.attendance),
            },
            "due": None if self.due is None else self.due.isoformat(),
            "overdue": self.overdue,
            "today": self.today.isoformat(),
        }


def _attendance_dict(attendance: Attendance | None) -> dict[str, Any]:
    if attendance is None:
        return {}
    return {
        "confirmed": list(attendance.confirmed),
        "unconfirmed": list(attendance.pending),
        "set_aside": list(attendance.aside),
    }


def review_status(program: Program, now: datetime | None = None) -> ReviewStatus:
    """``inhouse review status``: the schedule, the last review held since, who confirmed
    attending it, when the next is due and whether it is overdue, at ``now`` (default: the
    clock's, read once: the review and the day it is judged on are of one moment)."""
    moment = program.clock() if now is None else now
    context = build_context(program.state(), moment)
    today = moment.date()
    due = review_due(context)
    if due is None:
        return ReviewStatus(None, None, None, today)
    plan, held, when = due
    came = None if held is None else review_attendance(context, held)
    return ReviewStatus(plan, held, when, today, came)
