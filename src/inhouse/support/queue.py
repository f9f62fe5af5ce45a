"""The support queue: its owner, and tickets taken step by step, each step a signed fact.

A rollout lead names the queue's owner (the ``support-owner`` role and a ``support.queue``
fact). Any enrolled person opens a ticket against a component that exists (``baseline``,
``gateway``, ``workflow:NAME`` in ``workflows/``, ``prompt:NAME`` in the library,
``model:NAME`` in the lock); the queue's owner or a rollout lead assigns it; anyone enrolled
comments on it, resolves it with a note, or reopens it with a reason. Whoever signs a step took
it: nobody records a step for someone else (the collector is ``inhouse support``).

An imported step is its importer's word for what someone else did: the person it names confirms
it with their own key (``ticket.confirmed``, naming the imported steps it covers), or disputes it
(``ticket.disputed``: "this is not mine"), which it then never counts for.

The queue's state is a fold over the ``ticket.*`` facts that count, imported ones included
(:func:`inhouse.program.playchecks._shared.fold_tickets`, the fold the check reads too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput, NotAllowed, Refused
from inhouse.plaintext import check_plain
from inhouse.program.checks import Person
from inhouse.program.consent import Agree, require_yes
from inhouse.program.counting import build_context, unsigned_signer
from inhouse.program.facts import Fact, Provenance
from inhouse.program.playbook import Role
from inhouse.program.playchecks._shared import (
    IMPORTED_TICKETS,
    NATIVE_TICKETS,
    Ticket,
    TicketStep,
    builders_of,
    fold_tickets,
    parse_component,
)
from inhouse.program.playchecks.support import by_lead, queue_owner_refusal
from inhouse.terminal import shown

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.checks import CheckContext

__all__ = [
    "CATEGORIES",
    "COLLECTOR",
    "STATES",
    "Queue",
    "Ticket",
    "TicketStep",
    "accept_owner",
    "assign_refused",
    "assign_ticket",
    "comment_on_ticket",
    "confirm_fix",
    "confirm_fix_command",
    "confirm_ticket",
    "confirmation_lines",
    "dispute_ticket",
    "find_ticket",
    "fix_lines",
    "list_tickets",
    "name_owner",
    "open_ticket",
    "queue_of",
    "reopen_ticket",
    "resolve_ticket",
    "ticket_dict",
    "without_builders_verdict",
    "words_awaited",
]

COLLECTOR = NATIVE_TICKETS
CATEGORIES = ("it-broke", "how-to", "request")
STATES = ("open", "resolved", "all")
_NUMBERED = re.compile(r"T-(\d+)")


@dataclass(frozen=True)
class Queue:
    """The support queue as the latest ``support.queue`` a rollout lead signed names it."""

    name: str
    owner: str
    named_by: str
    at: datetime
    fact: int
    #: whether the owner took it on with their own key after being named (as
    #: ``support-queue-owned`` reads it), or named themself: a lead's naming alone is their word
    accepted: bool = False

    def standing(self) -> str:
        """Who owns it and on whose word, in a clause: what `support list` and the dashboard
        say after "Queue NAME"."""
        said = f"owned by {self.owner} (named by {self.named_by})"
        if self.accepted:
            return said
        return (
            f"{said}, who has not taken it on yet: {self.owner} runs `inhouse support owner "
            "--accept` with their own key, and until then play 5 does not count it owned"
        )


def queue_of(program: Program, now: datetime | None = None) -> Queue | None:
    """The queue and its owner (at ``now``: default, the clock's), or None until a rollout
    lead names one."""
    state = program.state()
    context = build_context(state, program.clock() if now is None else now)
    for fact in reversed(context.facts.of("support.queue")):
        if fact.payload.get("accepted"):
            continue  # the owner taking it on names nobody
        # a lead's naming as ``support-queue-owned`` reads it: one who led when they signed it
        if by_lead(context, fact):
            owner, name = str(fact.payload["owner"]), str(fact.payload["queue"])
            accepted = owner == fact.by or any(
                later.payload.get("accepted") and later.by == owner and later.id > fact.id
                and later.payload.get("queue") == name
                for later in context.facts.of("support.queue")
            )  # fmt: skip
            return Queue(name, owner, fact.by, fact.at, fact.id, accepted)
    return None


def name_owner(program: Program, person: str, *, queue: str = "support") -> Queue:
    """Name ``person`` (enrolled) the queue's owner: a rollout lead's act. Gives them the
    ``support-owner`` role and records ``support.queue``."""
    from inhouse.pilot.roster import enrolled_person, require_lead

    require_lead(program, "names the support queue's owner")
    found = enrolled_person(program, person)
    if not queue.strip():
        raise InvalidInput("a support queue needs a name (e.g. support, #llm-help)")
    # the check's own rule, before anything is recorded: the pilot's owner owns no support, and
    # a lead's naming of herself commits nobody once play 5 is someone else's
    check_plain(queue, what="the queue", one_line=True)  # before a refusal repeats it
    named_by = program.whoami().name
    if why := queue_owner_refusal(program.state().owners, queue.strip(), named_by, person):
        raise Refused(why, missing=["a support queue owned by play 5's owner"])
    if Role.SUPPORT_OWNER not in found.roles:
        program.change_roles(None, person, add=[Role.SUPPORT_OWNER.value])
    _record(program, "support.queue", {"queue": queue.strip(), "owner": person})
    named = queue_of(program)
    assert named is not None
    return named


def accept_owner(program: Program, *, agree: Agree | None = None) -> Fact:
    """Take on the support queue a rollout lead named you owner of (your own key signs it):
    ``support-queue-owned`` counts an owner someone else named once they accepted, after the
    naming. A lead's word does not make someone else's commitment, nor does a command its
    person ran unread: ``agree`` (the command's question) is shown what it signs."""
    who = program.whoami()
    named = queue_of(program)
    if named is None or named.owner != who.name:
        owner = "nobody yet" if named is None else named.owner
        raise Refused(
            f"{who.name} is not named owner of the support queue (its owner: {owner}): a rollout "
            "lead names one (`inhouse support owner PERSON`), then that person accepts"
        )
    # the name as the log holds it, not typed now (one named before the rule stays takeable)
    payload = {"queue": named.name, "owner": who.name, "accepted": True}
    require_yes(
        agree,
        [
            f"you, {who.name}, take on the support queue {shown(named.name)} as its owner",
            f"named its owner by {named.named_by} at {named.at:%Y-%m-%d %H:%M} UTC",
            "play 5 counts the queue owned once you do; you assign its tickets",
        ],
        person=who.name,
        command="inhouse support owner --accept",
        not_done="not taken on",
        declined="take on only a queue you will own (a rollout lead names someone else)",
    )
    return _record(program, "support.queue", payload, typed=False)


# -- tickets -------------------------------------------------------------------------------------


def _tickets(program: Program, now: datetime | None = None) -> dict[str, Ticket]:
    state = program.state()
    context = build_context(state, program.clock() if now is None else now)
    return fold_tickets(context.facts, context.people, context.held_role_at)


def list_tickets(
    program: Program, *, state: str = "open", now: datetime | None = None
) -> list[Ticket]:
    """The queue's tickets in ``state`` (open, resolved or all), oldest first, as the checks
    count them at ``now`` (default: the clock's)."""
    if state not in STATES:
        raise InvalidInput(f"no ticket state {state!r}: use {', '.join(STATES)}")
    found = list(_tickets(program, now).values())
    return found if state == "all" else [t for t in found if t.state == state]


def find_ticket(program: Program, ticket: str, now: datetime | None = None) -> Ticket:
    """The ticket ``ticket`` names, as the checks count it at ``now`` (default: the clock's);
    :class:`InvalidInput` naming the known ones otherwise."""
    found = _tickets(program, now)
    if ticket not in found:
        known = ", ".join(found) or "none yet"
        raise InvalidInput(f"no ticket {ticket!r} in the support queue (tickets: {known})")
    return found[ticket]


def open_ticket(
    program: Program, title: str, *, category: str, component: str, description: str = ""
) -> Ticket:
    """Open a ticket in your own name. Its id is ``T-N``, the next number (see the fold for two
    people opening at once); the one returned is the id the queue gives it. Refused, nothing
    recorded, where the organisation's sign-in has not vouched for its opener: the queue shows
    only what counts, so their ticket would be nowhere in it."""
    who = _acting(program)
    state = program.state()
    unsigned = state.sign_in is not None and who.name not in state.signed_in
    if unsigned and (why := unsigned_signer(state, who.name, None)):
        raise NotAllowed(
            f"a ticket {who.name} opens would count for nothing, and the queue would not show "
            f"it: {why}"
        )
    if not title.strip():
        raise InvalidInput("a ticket needs a title saying what happened")
    if category not in CATEGORIES:
        raise InvalidInput(f"no ticket category {category!r}: use {', '.join(CATEGORIES)}")
    check_component(program, component)
    numbers = [int(m.group(1)) for t in _tickets(program) if (m := _NUMBERED.fullmatch(t))]
    payload = {
        "ticket": f"T-{max(numbers, default=0) + 1}",
        "title": title.strip(),
        "category": category,
        "component": component,
        "description": description.strip(),
    }
    fact = _record(program, "ticket.opened", payload)
    opened = next((t for t in _tickets(program).values() if t.opened.fact.id == fact.id), None)
    if opened is None:  # recorded, and left out of what counts: say why, never crash
        context = build_context(program.state(), program.clock())
        why = next((u.why for u in context.uncounted if u.fact.id == fact.id), "it does not count")
        raise Refused(
            f"{payload['ticket']} is recorded (fact #{fact.id}) and shown beside the queue, not "
            f"in it: {why}"
        )
    return opened


def assign_ticket(program: Program, ticket: str, person: str) -> Ticket:
    """Assign an open ticket to an enrolled person: the queue's owner or a rollout lead."""
    who = _acting(program)
    if (refused := assign_refused(program, who)) is not None:
        raise NotAllowed(refused)
    found = find_ticket(program, ticket)
    if found.state != "open":
        raise InvalidInput(f"{ticket} is resolved: reopen it before assigning it")
    from inhouse.pilot.roster import enrolled_person  # the roster loads workflows: slow

    enrolled_person(program, person)
    _record(program, "ticket.assigned", {"ticket": ticket, "to": person})
    return find_ticket(program, ticket)


def assign_refused(program: Program, who: Person, now: datetime | None = None) -> str | None:
    """Why ``who`` may not assign tickets (None: they may): the queue's owner (at ``now``:
    default, the clock's) and the rollout leads assign."""
    owner = queue_of(program, now)
    if Role.ROLLOUT_LEAD in who.roles or (owner is not None and owner.owner == who.name):
        return None
    whose = f"the queue's owner ({owner.owner})" if owner else "the queue's owner (none yet)"
    return f"only {whose} or a rollout lead assigns tickets; {who.name} is neither"


def comment_on_ticket(program: Program, ticket: str, text: str) -> Ticket:
    """Comment on a ticket in your own name."""
    _acting(program)
    find_ticket(program, ticket)
    if not text.strip():
        raise InvalidInput("a comment needs some text")
    _record(program, "ticket.commented", {"ticket": ticket, "text": text.strip()})
    return find_ticket(program, ticket)


def resolve_ticket(program: Program, ticket: str, *, note: str) -> Ticket:
    """Resolve an open ticket in your own name, with a note saying what fixed it."""
    _acting(program)
    found = find_ticket(program, ticket)
    if found.state != "open":
        resolution = found.resolution
        by = f" by {resolution.actor} on {resolution.at:%Y-%m-%d}" if resolution else ""
        raise InvalidInput(f"{ticket} is already resolved{by}")
    if not note.strip():
        raise InvalidInput("a resolution needs a note saying what fixed it (--note)")
    payload = {"ticket": ticket, "category": found.category, "note": note.strip()}
    _record(program, "ticket.resolved", payload)
    return find_ticket(program, ticket)


def reopen_ticket(program: Program, ticket: str, *, reason: str) -> Ticket:
    """Reopen a resolved ticket in your own name, saying why (it broke again, the fix was not
    one)."""
    _acting(program)
    found = find_ticket(program, ticket)
    if found.state != "resolved":
        raise InvalidInput(f"{ticket} is open: only a resolved ticket is reopened")
    if not reason.strip():
        raise InvalidInput("reopening needs a reason (--reason)")
    _record(program, "ticket.reopened", {"ticket": ticket, "text": reason.strip()})
    return find_ticket(program, ticket)


def confirm_ticket(
    program: Program, ticket: str, *, text: str = "", agree: Agree | None = None
) -> Ticket:
    """Confirm, with your own key, the imported steps of ``ticket`` that name you (you opened
    it, you resolved it): the import is its runner's word until you do. The fact names the
    steps it covers and the ticket's content then, so a later import is not covered by it.
    ``agree`` (the command's question) is shown what the confirmation signs for, and nothing
    is recorded unless it says yes: the import is its runner's, who may be the lead play 5
    judges, and a colleague asked to "just run it" signs only what they read."""
    who = _acting(program)
    found = find_ticket(program, ticket)
    named = _named(found, who.name, "confirm")
    disputed = [s for s in named if found.disputed(who.name, s.fact) is not None]
    pending = [s for s in named if s not in disputed and not found.confirmed(who.name, s.fact)]
    if not pending:
        if disputed:
            raise Refused(
                f"{ticket}: you disputed {_steps(disputed)} imported in your name, and a "
                "dispute stands; nothing else names you to confirm"
            )
        raise Refused(
            f"{ticket}: you already confirmed {_steps(named)} imported in your name, as the "
            "ticket stands now: nothing new to confirm"
        )
    covers = [s for s in named if s not in disputed]
    lines = [*confirmation_lines(found, covers), *_comment(text)]
    _agreed(agree, lines, who.name, f"inhouse support confirm {ticket}")
    _record(program, "ticket.confirmed", _word(found, covers, text))
    return find_ticket(program, ticket)


def confirm_fix(
    program: Program, ticket: str, *, text: str = "", agree: Agree | None = None
) -> Ticket:
    """As the person who opened ``ticket`` (who hit the problem), confirm with your own key that
    its resolution fixed it: a resolution is its resolver's word until you do, and play 5's
    check counts it only then. Reopen it instead when the fix was not one. ``agree`` (the
    command's question) is shown the ticket and the resolution it confirms; nothing is
    recorded unless it says yes."""
    who = _acting(program)
    found = find_ticket(program, ticket)
    resolution = found.resolution
    if resolution is None:
        raise InvalidInput(f"{ticket} is open: only a resolved ticket's fix is confirmed")
    if found.opened.actor != who.name:
        raise Refused(
            f"{ticket} was opened by {found.opened.actor or 'nobody the import mapped'}: only the "
            "person who hit the problem confirms that it is fixed"
        )
    if found.fix_confirmed() is not None:
        raise Refused(f"{ticket}: you already confirmed the fix by {resolution.actor}")
    if program.delegation is not None:
        # a dashboard session's key lives on the dashboard's host, which could sign this in
        # the opener's name while they are signed in: the check never counts it, so the
        # dashboard is refused here, before the log's own refusal, with what to run instead
        raise NotAllowed(
            f"a session may not sign ticket.fixed facts: play 5 counts a fix only its opener "
            f"confirmed with their own key. Run `{confirm_fix_command(ticket)}` on your own "
            "machine"
        )
    _agreed(agree, [*fix_lines(found), *_comment(text)], who.name, confirm_fix_command(ticket))
    payload = {"ticket": ticket, "resolution": resolution.fact.id, "text": text.strip()}
    _record(program, "ticket.fixed", payload)
    return find_ticket(program, ticket)


def confirm_fix_command(ticket: str) -> str:
    """What a ticket's opener runs, on their own machine, to confirm its fix."""
    return f"inhouse support confirm-fix {ticket}"


def confirmation_lines(ticket: Ticket, steps: list[TicketStep]) -> list[str]:
    """What a confirmation of ``steps`` (the steps of ``ticket`` in its person's name that are
    another's word: imported, or signed by a dashboard session) says they did, a line each,
    after the ticket as it stands (what the confirmation vouches for: its title, category and
    component decide where play 5 counts it), every control character written out."""
    said = _about(ticket)
    for step in steps:
        source = (
            "a dashboard session signed in your name (its host holds the session's key)"
            if step.fact.session
            else f"{shown(step.fact.by)}'s import says"
        )
        when = f"{step.at:%Y-%m-%d %H:%M} UTC"
        if step.kind == "opened":
            said.append(f"{source}: you opened it, {when}, as {shown(ticket.category)} on "
                        f"{shown(ticket.component)}")  # fmt: skip
        else:
            said.append(f"{source}: you {step.kind} it, {when}: {shown(step.text or '(no note)')}")
    return said


def fix_lines(ticket: Ticket) -> list[str]:
    """What a confirmation of ``ticket``'s fix says: the ticket its opener hit and the
    resolution they confirm fixed it."""
    resolution = ticket.resolution
    assert resolution is not None
    return [
        *_about(ticket),
        f"resolved by {shown(resolution.actor or 'nobody the import mapped')}, "
        f"{resolution.at:%Y-%m-%d %H:%M} UTC: {shown(resolution.text or '(no note)')}",
    ]


def _comment(text: str) -> list[str]:
    """The comment a confirmation signs beside what it confirms, shown with it: the key signs
    it too, and "just add --comment 'fixed, thanks'" would be signed unread."""
    return [f"your comment: {shown(text.strip())}"] if text.strip() else []


def _about(ticket: Ticket) -> list[str]:
    where = f", {shown(ticket.external)}" if ticket.external else ""
    return [
        f'{shown(ticket.id)}: "{shown(ticket.title)}" ({shown(ticket.category)} on '
        f"{shown(ticket.component)}{where})"
    ]


def _agreed(agree: Agree | None, lines: list[str], person: str, command: str) -> None:
    """Nothing is signed unless ``agree``, shown ``lines``, says yes (None: the caller's own
    word, the Python API); refused, naming how to answer, otherwise."""
    require_yes(
        agree,
        lines,
        person=person,
        command=command,
        not_done="not confirmed",
        declined="confirm only what you did yourself (`inhouse support dispute` says an imported "
        "step in your name is not yours; `inhouse support reopen` says a fix was not one)",
    )


def dispute_ticket(program: Program, ticket: str, *, reason: str = "") -> Ticket:
    """Say, with your own key, that the imported steps of ``ticket`` that name you are not
    yours ("I never fixed this"): a disputed step never counts for play 5's check, whatever
    else is said of it, and the check names the dispute."""
    who = _acting(program)
    found = find_ticket(program, ticket)
    named = _named(found, who.name, "dispute")
    pending = [s for s in named if found.disputed(who.name, s.fact) is None]
    if not pending:
        raise Refused(f"{ticket}: you already disputed {_steps(named)} imported in your name")
    _record(program, "ticket.disputed", _word(found, pending, reason))
    return find_ticket(program, ticket)


def _named(ticket: Ticket, person: str, verb: str) -> list[TicketStep]:
    """The imported steps of ``ticket`` naming ``person``; refused, saying why, when none do."""
    named = ticket.imported_in_name_of(person)
    if named:
        return named
    if not ticket.imported:
        raise Refused(
            f"{ticket.id} was opened here, not imported: every step on it is already signed by "
            f"whoever took it, so there is nothing to {verb}"
        )
    raise Refused(
        f"{ticket.id}: no imported opening or resolution names {person}, so there is nothing "
        f"for you to {verb} (`inhouse support show {ticket.id}` lists who each step names; the "
        "import maps source accounts by [support.import.*.logins] or e-mail)"
    )


def _steps(steps: list[TicketStep]) -> str:
    return ", ".join(f"{s.kind} (fact #{s.fact.id})" for s in steps)


def _word(ticket: Ticket, steps: list[TicketStep], text: str) -> dict[str, Any]:
    stated = ticket.stated.id if ticket.stated is not None else None
    return {"ticket": ticket.id, "steps": [s.fact.id for s in steps], "stated": stated,
            "text": text.strip()}  # fmt: skip


def check_component(program: Program, component: str) -> None:
    """Refuse a component that does not exist: a workflow not in ``workflows/``, a prompt not
    in the library, a model not in the lock, or a form that is not one of the five."""
    kind, name = parse_component(component)
    if not kind:
        raise InvalidInput(
            f"no component {component!r}: use baseline, gateway, workflow:NAME, prompt:NAME or "
            "model:NAME"
        )
    known: list[str] | None = None
    if kind == "workflow":
        from inhouse.workflows.spec import list_workflows

        known = list_workflows(program.folder)
    elif kind == "prompt":
        from inhouse.pilot.library import library

        known = sorted(library(program).prompts)
    elif kind == "model":
        from inhouse.baseline.lock import program_lock

        # the recorded lock's models: a rewritten inhouse.lock blesses nothing
        lock = program_lock(program)
        if lock is None:
            raise InvalidInput(f"no {component}: the program has no lock yet")
        known = [model.name for model in lock.models]
    if known is not None and name not in known:
        raise InvalidInput(f"no {kind} {name!r} (known: {', '.join(known) or 'none yet'})")


def ticket_dict(program: Program, ticket: Ticket, now: datetime | None = None) -> dict[str, Any]:
    """A ticket as ``support show --json`` and ``support list --json`` print it, judged at
    ``now`` (default: the clock's; pass the moment the ticket was read at)."""
    context = build_context(program.state(), program.clock() if now is None else now)
    resolution = ticket.resolution
    return {
        "id": ticket.id,
        "title": ticket.title,
        "category": ticket.category,
        "component": ticket.component,
        "description": ticket.description,
        "external": ticket.external,
        "state": ticket.state,
        "opened_by": ticket.opened.actor,
        "opened_at": ticket.opened.at.isoformat(),
        "assignee": ticket.assignee,
        "resolved_by": resolution.actor if resolution else None,
        "resolved_at": resolution.at.isoformat() if resolution else None,
        "fix_confirmed": ticket.fix_confirmed() is not None if resolution else None,
        "fix": _fix(ticket),
        "builders": sorted(builders_of(context, ticket.component)),
        # whether play 5 (and the support figures) count its resolution as one without the
        # builders, and if not why, in the check's words (None while open): a dashboard page
        # or a list that says "fix confirmed" must not read as "counted" when the opening was
        # a session's word still awaiting its person's own key
        "without_builders": without_builders_verdict(context, ticket),
        "steps": [
            {
                "step": step.kind,
                "by": step.actor,
                "at": step.at.isoformat(),
                "text": step.text,
                "to": step.to,
                "fact": step.fact.id,
                "imported_by": step.fact.by if step.fact.collector == IMPORTED_TICKETS else None,
                "word": _word_on(ticket, step),
                # taken through a dashboard session: its host's word until its person confirms
                "session": step.fact.session,
                "covers": list(step.covers),
            }
            for step in ticket.steps
        ],
    }


def _fix(ticket: Ticket) -> dict[str, Any] | None:
    """Where the resolution a ticket stands on waits (None while open): confirmed by its opener
    (who, when, the fact), or awaiting their word and the command they run for it."""
    if ticket.resolution is None:
        return None
    fixed = ticket.fix_confirmed()
    if fixed is not None:
        return {"confirmed": True, "by": fixed.actor, "at": fixed.at.isoformat(),
                "fact": fixed.fact.id, "awaits": None, "command": None}  # fmt: skip
    opener = ticket.opened.actor or None
    return {"confirmed": False, "by": None, "at": None, "fact": None,
            "awaits": opener, "command": confirm_fix_command(ticket.id)}  # fmt: skip


def without_builders_verdict(context: CheckContext, ticket: Ticket) -> dict[str, Any] | None:
    """Whether ``ticket``'s resolution counts as one without its component's builders, by the
    rules of play 5's ``ticket-resolved-without-builder`` as ``support stats`` applies them
    (a reopening aside), and why not; None while it is open."""
    from inhouse.program.playchecks.support import why_not_without_builders

    if ticket.resolution is None:
        return None
    why = why_not_without_builders(context, ticket)
    return {"counts": why is None, "why_not": why}


def words_awaited(ticket: Ticket) -> list[TicketStep]:
    """The openings and resolutions of ``ticket`` that are another's word in their person's
    name (an import's, a dashboard session's) and still await that person's own key
    (``inhouse support confirm``): neither confirmed nor disputed."""
    return [s for s in ticket.steps if _word_on(ticket, s) == "awaited"]


def _word_on(ticket: Ticket, step: TicketStep) -> str | None:
    """For an imported opening or resolution, or one a dashboard session signed, where its
    named person's word stands: ``own`` (they ran the import), ``confirmed``, ``disputed`` or
    ``awaited``; None for other steps. A session's step is never ``own``: its fact names its
    person as signer, but the dashboard's host holds the session key, so it is their word only
    once they confirm it (``inhouse support confirm``), as the check reads it."""
    if step not in ticket.imported_in_name_of(step.actor):
        return None
    if ticket.disputed(step.actor, step.fact) is not None:
        return "disputed"
    if step.fact.by == step.actor and not step.fact.session:
        return "own"
    return "confirmed" if ticket.confirmed(step.actor, step.fact) else "awaited"


def _acting(program: Program) -> Person:
    """The acting person (the key holder), on the machine that holds the log."""
    if program.detached():
        raise InvalidInput(
            "the support queue lives in the program's log, which this machine does not hold: "
            "run this where the program's store is"
        )
    who = program.whoami()
    if who.service:
        raise NotAllowed(f"{who.name} is a service; tickets are taken by people")
    return who


#: the words a person types that are one line (a title, a queue's name); every other text
#: (a description, a comment, a note) may run over lines
_ONE_LINE = ("title", "queue")


def _record(program: Program, kind: str, payload: dict[str, Any], *, typed: bool = True) -> Fact:
    """Record ``payload``, once every text a person typed in it (``typed``) is plain
    (:func:`~inhouse.plaintext.check_plain`): whoever lists the queue sees it in a terminal."""
    for field, value in payload.items():
        if typed and isinstance(value, str):
            check_plain(value, what=f"the {field}", one_line=field in _ONE_LINE)
    return program.record_fact(
        None, kind, payload, provenance=Provenance.MEASURED, collector=COLLECTOR
    )
