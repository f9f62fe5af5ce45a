"""Findings to feed back (play 6): open one against its target, list them with what closed
them, and validate a ``--closes`` before the change that names it is recorded. The rules of what
closes a finding live with the engine (:mod:`inhouse.program.feedback`), so the check and these
commands read them from one place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput
from inhouse.plaintext import check_plain
from inhouse.program.facts import Fact
from inhouse.program.feedback import (
    FindingState,
    fold_findings,
    parse_finding_id,
    parse_target,
    require_open,
)

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.program import Program

__all__ = ["close_by_hand", "closed_text", "findings", "open_finding", "require_open"]


def open_finding(program: Program, text: str, *, target: str, source: str = "") -> Fact:
    """Record a finding in the acting person's own signed word."""
    finding = check_plain(text, what="the finding").strip()
    check_plain(source, what="--source", one_line=True)
    if not finding:
        raise InvalidInput("a finding says what was learned: it cannot be empty")
    kind, name = parse_target(target)
    _ticket_exists(program, source.strip())
    payload = {
        "finding": finding,
        "target": f"{kind}:{name}" if name else kind,
        "source": source.strip(),
    }
    return program.attest(None, "finding.opened", payload, finding)


#: a source that names a support ticket, as the queue numbers them
_TICKET = re.compile(r"T-\d+", re.IGNORECASE)


def _ticket_exists(program: Program, source: str) -> None:
    """Refuse a source naming a ticket the queue does not hold: the finding kept a typo'd
    ticket (T-99 for T-9) as where it came from, without a word, for play 6's readers to chase.
    A source names a ticket where it is that alone, ``T-`` and its number (any case); any other
    (an indicator, the pilot, another tracker's id with that tracker's name: ``jira T-1234``)
    is free text, and the refusal says so, an outside tracker's ``T-1234`` being no typo."""
    if not _TICKET.fullmatch(source):
        return
    from inhouse.support.queue import find_ticket

    try:
        find_ticket(program, source.upper())
    except InvalidInput as err:
        raise InvalidInput(
            f"--source {source}: {err}; nothing recorded. A source of T- and a number alone "
            "names a ticket of this queue's; anything else is free text (an indicator, the "
            f'pilot, another tracker\'s ticket with its name: --source "jira {source}")'
        ) from None


def findings(program: Program, now: datetime | None = None) -> list[FindingState]:
    """Every finding, oldest first, with what closed it (only changes that count, at ``now``:
    default, the clock's)."""
    from inhouse.program.counting import build_context

    ctx = build_context(program.state(), program.clock() if now is None else now)
    return fold_findings(ctx)


def closed_text(row: Mapping[str, Any]) -> str:
    """What closed a finding (its :meth:`FindingState.to_dict`), in words: the change and who
    confirmed it, the change still awaiting someone else's confirmation, or a tick by hand
    (which is not evidence); empty where nothing did. `inhouse finding list` and the
    dashboard say it alike."""
    by, waiting = row.get("closed_by"), row.get("awaiting")
    if isinstance(by, Mapping):
        confirmed = by.get("confirmed_by")
        seen = f", confirmed by {confirmed['by']} (#{confirmed['fact']})" if confirmed else ""
        if confirmed and confirmed.get("people"):
            # the gateway signs a prompt's use; who used it confirmed the version
            users = ", ".join(confirmed["people"])
            seen = f", confirmed by {users}'s use at the gateway (#{confirmed['fact']})"
        return f"#{by['fact']} {by['change']} by {by['by']}{seen}"
    if isinstance(waiting, Mapping):
        return f"#{waiting['fact']} {waiting['change']} by {waiting['by']} (not confirmed)"
    return "ticked off by hand (not evidence)" if row.get("ticked_off_by_hand") else ""


def _find(program: Program, number: int) -> FindingState:
    for found in findings(program):
        if found.id == number:
            return found
    raise InvalidInput(f"there is no finding #{number} (`inhouse finding list`)")


def close_by_hand(program: Program, finding: str | int, *, note: str) -> Fact:
    """Record that someone considers a finding done. It is shown beside the finding and never
    counts as fed back: only a change that names the finding closes it."""
    check_plain(note, what="the note")
    found = _find(program, parse_finding_id(finding))
    return program.attest(
        None, "finding.closed", {"finding": found.id, "note": note.strip()}, note or "closed"
    )
