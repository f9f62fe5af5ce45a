"""A person's own word on their use of the gateway (``inhouse usage confirm``).

The gateway's host is its operator's: a rollout lead who runs it holds its service key and the
MAC key its usage rows are sealed with, so she could seal rows in the name of a colleague who
only fetched a gateway key, and the gateway's rollup, adoption report and prompt use would sign
them. What the gateway measures of a person therefore counts (:mod:`inhouse.program.counting`)
only on the days, and for the prompt versions, that person confirmed with a key of their own,
on a machine of their own: a ``usage.confirmed`` fact, which only its person signs.

This module finds what the gateway's figures give the person whose key runs it (its signed
``usage.daily`` and ``prompt.usage`` facts in the program's log, and the days the usage log
holds for them through keys of their own) and not confirmed yet, and records their
confirmation, less the days they leave out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from inhouse.errors import InvalidInput, NotAllowed
from inhouse.program.facts import Fact, FactSet, Provenance

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = [
    "COLLECTOR",
    "OwnUse",
    "attributed_use",
    "awaiting_confirmation",
    "confirm_usage",
    "prompts_awaiting_confirmation",
]

COLLECTOR = "inhouse usage confirm"
#: the usage log is read from here (a person's first request is after the program began)
_SINCE = date(2000, 1, 1)


@dataclass(frozen=True)
class OwnUse:
    """What the gateway's figures give ``person`` that they have not confirmed (nor left out)
    yet: days, and library prompt versions as (name, version)."""

    person: str
    days: list[date]
    prompts: list[tuple[str, int]]
    #: per day, the answered requests the usage log holds through keys of the person's own, and
    #: the time (UTC) of the latest of them; a day only the gateway's signed figures give has none
    requests: dict[date, tuple[int, str]] = field(default_factory=dict)
    #: per prompt version, who wrote it as the library reads it (its byline)
    authors: dict[tuple[str, int], str] = field(default_factory=dict)
    #: per day, the figures a confirmation of it covers, as (requests, tokens): the gateway's
    #: latest signed ones for the person, else (nothing signed yet) the usage log's, every key
    #: of theirs: both are bound, and a day signed later with more of either is asked again
    figures: dict[date, tuple[int, int]] = field(default_factory=dict)
    #: per prompt version, the latest day the gateway's signed figures date their use of it
    #: (none where they date none): a confirmation covers their use of it up to that day
    prompt_days: dict[tuple[str, int], date] = field(default_factory=dict)
    #: per day, the runs of each workflow (by name) the gateway's latest signed figures give
    #: the person (a day not signed yet: the usage log's, every key of theirs, as its requests
    #: and tokens): a confirmation binds them, and a day signed
    #: later with more runs of one counts the runs confirmed and is asked again (exit rule 32)
    runs: dict[date, dict[str, int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.days and not self.prompts

    def lines(self) -> list[str]:
        """What a confirmation of all of it would sign, a line per day and prompt version, so
        that its person reads each before answering for it (the days are the gateway's figures,
        written on a host its operator runs, not what this machine sent)."""
        said = []
        for day in self.days:
            count, last = self.requests.get(day, (0, ""))
            line = (
                f"{day}: {count} request{'' if count == 1 else 's'} through your keys, the last "
                f"at {last[11:16] or '?'} UTC"
                if count
                else f"{day}: in the gateway's signed figures (no request of yours in the usage "
                "log here)"
            )
            if day in self.figures:  # what a yes binds: more of either later is asked again
                most, tokens = self.figures[day]
                line += (
                    f"; you answer for up to {most} request{'' if most == 1 else 's'} and "
                    f"{tokens} token{'' if tokens == 1 else 's'} that day"
                )
            if ran := self.runs.get(day):  # a yes binds them too (exit rule 32)
                line += ", of them " + ", ".join(
                    f"{count} run{'' if count == 1 else 's'} of workflow {name}"
                    for name, count in sorted(ran.items())
                )
            said.append(line)
        said += [
            f"{name}@{number}: a library prompt sent to you"
            + (f", last on {on}" if (on := self.prompt_days.get((name, number))) else "")
            + (f", written by {by}" if (by := self.authors.get((name, number))) else "")
            for name, number in self.prompts
        ]
        return said


def attributed_use(program: Program) -> OwnUse:
    """What the gateway's figures (its signed facts, and its usage log through keys of this
    shell's key holder's own) give them, less what they confirmed or left out before."""
    from inhouse.pilot.library import fold_library
    from inhouse.program.counting import build_context, confirmations_bound, not_their_fetch
    from inhouse.usage import active_days, prompts_used, workflow_days

    state = program.state()
    person = program.whoami().name
    today = program.clock().astimezone(UTC).date()
    bound = confirmations_bound(state)
    days: set[date] = set()
    prompts: set[tuple[str, int]] = set()
    prompt_days: dict[tuple[str, int], date] = {}  # the latest day signed use of it names them
    signed: dict[date, tuple[int, int]] = {}  # the latest signed figures of a day naming them
    ran: dict[date, dict[str, int]] = {}  # and its runs of each workflow
    for fact in state.facts:
        if not _by_service(state, fact):
            continue
        payload = fact.payload
        try:
            if fact.kind == "usage.daily":
                if person in _named(payload):
                    day = date.fromisoformat(str(payload["day"]))
                    days.add(day)
                    signed[day] = _figures(payload, person)
                    ran[day] = _runs(payload, person)
            elif fact.kind == "prompt.usage":
                used_by = payload.get("used_by")
                if person in (payload.get("people") or ()) or (
                    isinstance(used_by, dict) and person in used_by
                ):
                    version = (str(payload["prompt"]), int(payload["version"]))
                    prompts.add(version)
                    if isinstance(used_by, dict) and person in used_by:
                        on = date.fromisoformat(str(used_by[person]))
                        prompt_days[version] = max(prompt_days.get(version, on), on)
                    elif not isinstance(used_by, dict) and bound and payload.get("last_used"):
                        # the older shape dates everyone it names by its last use (rule 19)
                        on = date.fromisoformat(str(payload["last_used"]))
                        prompt_days[version] = max(prompt_days.get(version, on), on)
        except _MALFORMED:
            continue  # appended around the API: it gives nobody anything (counting drops it)
    not_own = not_their_fetch(state)
    logged = active_days(program.store, [person], since=_SINCE, until=today, not_own=not_own)
    requests = {date.fromisoformat(row.day): (row.requests, row.last_at) for row in logged}
    days.update(requests)
    # what a day's confirmation covers: the signed figures, else every answered request of
    # theirs the usage log holds (their agents' too, as the gateway's figures count them)
    every = active_days(program.store, [person], since=_SINCE, until=today, agents=True)
    figures: dict[date, tuple[int, int]] = {
        date.fromisoformat(row.day): (row.requests, row.tokens) for row in every
    }
    figures.update(signed)
    # and its runs of each workflow: the signed day's, else the usage log's (exit rule 32)
    from inhouse.program.lagging_words import signed_runs

    runs = {
        date.fromisoformat(day): signed_runs({"workflows": logged_runs})
        for day, logged_runs in workflow_days(
            program.store, person, since=_SINCE, until=today
        ).items()
    }
    runs.update(ran)
    sent = prompts_used(program.store, [person], since=_SINCE, until=today, not_own=not_own)
    for sent_ref in sent.get(person, ()):
        name, _, number = sent_ref.rpartition("@")
        if name and number.isdigit():  # NAME@VERSION, as the usage log keeps a library prompt
            prompts.add((name, int(number)))
    counted = build_context(state, program.clock()).facts
    said_days, said_prompts = _said(counted, person)
    # a day confirmed with figures the gateway has signed more than since: asked again
    said_days -= _outgrown(counted, person, figures, bound=bound, runs=runs)
    # and a prompt version the gateway dates their use of later than they confirmed it
    said_prompts -= _prompts_outgrown(counted, person, prompt_days, bound=bound)
    versions = {
        (name, number): version.byline
        for name, prompt in fold_library(state).prompts.items()
        for number, version in prompt.versions.items()
    }
    return OwnUse(
        person,
        sorted(d for d in days - said_days if d <= today),
        sorted(prompts - said_prompts),
        requests,
        {ref: versions[ref] for ref in prompts if ref in versions},
        figures,
        {ref: day for ref, day in prompt_days.items() if ref in prompts - said_prompts},
        runs,
    )


def awaiting_confirmation(program: Program, now: datetime | None = None) -> dict[str, list[date]]:
    """Per person (services aside), the days the gateway's signed daily usage gives them that
    they have not confirmed nor left out yet at ``now`` (default: the clock's): what ``inhouse
    status`` asks each of them to confirm. From the signed facts only (each person's own
    ``inhouse usage confirm`` also reads the usage log their keys wrote to)."""
    from inhouse.program.counting import build_context, confirmations_bound

    state = program.state()
    when = program.clock() if now is None else now
    today = when.astimezone(UTC).date()
    given: dict[str, set[date]] = {}
    signed: dict[str, dict[date, tuple[int, int]]] = {}
    ran: dict[str, dict[date, dict[str, int]]] = {}
    for fact in state.facts:
        if fact.kind != "usage.daily" or not _by_service(state, fact):
            continue
        try:
            named = _named(fact.payload)
            day = date.fromisoformat(str(fact.payload["day"]))
            figures = {name: _figures(fact.payload, name) for name in named}
            runs = {name: _runs(fact.payload, name) for name in named}
        except _MALFORMED:
            continue  # appended around the API: it gives nobody a day (counting drops it)
        for name in named:
            found = state.people.get(str(name))
            if found is not None and not found.service and day <= today:
                given.setdefault(str(name), set()).add(day)
                signed.setdefault(str(name), {})[day] = figures[name]
                ran.setdefault(str(name), {})[day] = runs[name]
    if not given:
        return {}
    counted = build_context(state, when).facts
    awaited = {}
    for name, days in given.items():
        said, _ = _said(counted, name)
        said -= _outgrown(
            counted, name, signed[name], bound=confirmations_bound(state), runs=ran[name]
        )
        if left := sorted(days - said):
            awaited[name] = left
    return awaited


def prompts_awaiting_confirmation(
    program: Program, now: datetime | None = None
) -> dict[str, list[tuple[str, int]]]:
    """Per person (services aside), the library prompt versions, as (name, version), that the
    gateway's signed ``prompt.usage`` gives them and they have not confirmed nor left out yet
    at ``now`` (or that it dates their use of later than they confirmed): what ``inhouse
    status`` asks each of them to confirm beside their days (it asked for days only, so a
    member whose days were all confirmed never heard of the versions that still counted for
    nobody). From the signed facts only, as :func:`awaiting_confirmation`."""
    from inhouse.program.counting import build_context, confirmations_bound

    state = program.state()
    when = program.clock() if now is None else now
    bound = confirmations_bound(state)
    given: dict[str, set[tuple[str, int]]] = {}
    dated: dict[str, dict[tuple[str, int], date]] = {}
    for fact in state.facts:
        if fact.kind != "prompt.usage" or not _by_service(state, fact):
            continue
        payload = fact.payload
        try:
            version = (str(payload["prompt"]), int(payload["version"]))
            used_by = payload.get("used_by")
            # as attributed_use reads it: whom it names, each on the day it dates their use
            last = payload.get("last_used")
            day = None
            if not isinstance(used_by, dict) and bound and last:
                day = date.fromisoformat(str(last))  # the older shape dates all by last use
            on: dict[str, date | None] = {str(n): day for n in payload.get("people") or ()}
            if isinstance(used_by, dict):
                on.update({str(n): date.fromisoformat(str(d)) for n, d in used_by.items()})
        except _MALFORMED:
            continue  # appended around the API: it gives nobody a version (counting drops it)
        for name, day in on.items():
            found = state.people.get(name)
            if found is None or found.service:
                continue
            given.setdefault(name, set()).add(version)
            if day is not None:
                was = dated.setdefault(name, {}).get(version, day)
                dated[name][version] = max(was, day)
    if not given:
        return {}
    counted = build_context(state, when).facts
    awaited = {}
    for name, versions in given.items():
        _, said = _said(counted, name)
        said -= _prompts_outgrown(counted, name, dated.get(name, {}), bound=bound)
        if left := sorted(versions - said):
            awaited[name] = left
    return awaited


def confirm_usage(
    program: Program,
    *,
    leave_out: Iterable[date] = (),
    leave_out_prompts: Iterable[tuple[str, int]] = (),
    person: str | None = None,
    agree: Callable[[OwnUse], bool | None] | None = None,
) -> Fact:
    """``inhouse usage confirm``: record, signed with this shell's key, that its holder used
    the gateway on the days (and was served the prompt versions) its figures give them, less
    ``leave_out`` (days they did not use it) and ``leave_out_prompts``. Refused, nothing
    recorded, for someone else (``person``), for a service, or where there is nothing new to
    confirm or a day left out is not one the figures give them. ``agree`` (the command's
    question) is shown exactly what would be signed, and nothing is recorded unless it says
    yes (None: no answer came, said apart from a no): the figures are written on the
    gateway's host, which its operator runs, so a person asked to "just run it" signs only
    what they read and answered for."""
    who = program.whoami()
    if person is not None and person != who.name:
        raise NotAllowed(
            f"{who.name} cannot confirm {person}'s use: a person's use counts only on their own "
            f"word, signed with their key; {person} runs `inhouse usage confirm` on their machine"
        )
    found = program.state().people.get(who.name)
    if found is not None and found.service:
        raise NotAllowed(f"{who.name} is a service: it measures use, it confirms none")
    use = attributed_use(program)
    out, out_prompts = set(leave_out), set(leave_out_prompts)
    if stray := sorted(out - set(use.days)):
        raise InvalidInput(
            f"--except {', '.join(map(str, stray))}: not a day the gateway's figures give "
            f"{who.name} that is still to confirm"
            + (f" ({', '.join(map(str, use.days))})" if use.days else " (none)")
        )
    if stray_prompts := sorted(out_prompts - set(use.prompts)):
        raise InvalidInput(
            f"--except-prompt {', '.join(f'{n}@{v}' for n, v in stray_prompts)}: not a prompt "
            f"version the gateway's figures give {who.name} that is still to confirm"
        )
    if use.empty:
        raise InvalidInput(
            f"nothing to confirm: the gateway's figures give {who.name} no use not confirmed "
            "yet (they count a person's requests through a gateway key of their own)"
        )
    signed = OwnUse(
        who.name,
        [d for d in use.days if d not in out],
        [p for p in use.prompts if p not in out_prompts],
        {d: n for d, n in use.requests.items() if d not in out},
        use.authors,
        {d: n for d, n in use.figures.items() if d not in out},
        use.prompt_days,
        {d: n for d, n in use.runs.items() if d not in out},
    )
    answer = True if agree is None or signed.empty else agree(signed)
    if answer is None:
        raise NotAllowed(
            f"not confirmed, nothing recorded for {who.name}: the question got no answer (no "
            "terminal to ask on, or the input ended): run `inhouse usage confirm` yourself in a "
            "terminal, read each day and prompt version it lists, and answer y if you used them "
            "(there is no flag that answers for you: the figures are the gateway operator's)"
        )
    if not answer:
        raise NotAllowed(
            f"not confirmed, nothing recorded for {who.name}: confirm only the use you made "
            "yourself; leave out a day you did not use the gateway with --except DAY (a prompt "
            "version you were not sent with --except-prompt NAME@VERSION) and run it again"
        )
    bound = {d: use.figures[d] for d in signed.days if d in use.figures}
    today = program.clock().astimezone(UTC).date()
    return program.record_fact(
        None,
        "usage.confirmed",
        {
            "person": who.name,
            "days": [d.isoformat() for d in signed.days],
            # each with the latest day of its use shown (else today): a use dated later by
            # the gateway's host is asked about again
            "prompts": [
                {
                    "prompt": n,
                    "version": v,
                    "last": (use.prompt_days.get((n, v)) or today).isoformat(),
                }
                for n, v in signed.prompts
            ],
            "left_out": [d.isoformat() for d in sorted(out)],
            # and the prompt versions left out, each up to the latest day of its use shown: not
            # asked about again until the gateway's host dates a use of it later
            "left_out_prompts": [
                {
                    "prompt": n,
                    "version": v,
                    "last": (use.prompt_days.get((n, v)) or today).isoformat(),
                }
                for n, v in sorted(out_prompts)
            ],
            # the figures answered for: more sealed into a day since is asked about again
            "requests": {d.isoformat(): n for d, (n, _) in bound.items()},
            "tokens": {d.isoformat(): t for d, (_, t) in bound.items()},
            # and each workflow's runs (exit rule 32): a chat the gateway's host relabels as
            # runs since counts as the runs confirmed; a day with none binds none
            "runs": {
                d.isoformat(): dict(sorted(ran.items()))
                for d in signed.days
                if (ran := use.runs.get(d))
            },
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def _by_service(state: ProgramState, fact: Fact) -> bool:
    """Whether ``fact`` is the gateway's figures to show and bind: signed by a service's key,
    and not by one exit rule 39 marks (whoever holds that key signs other figures after the
    real ones, and a word bound to them covers less than what counts)."""
    from inhouse.program.counting import marked_service

    signer = state.people.get(fact.by)
    return signer is not None and signer.service and fact.signed and not marked_service(fact, state)


def _said(counted: FactSet, person: str) -> tuple[set[date], set[tuple[str, int]]]:
    """What ``person`` confirmed or left out before, in their own ``usage.confirmed`` facts
    that count (one signed with a key made on the gateway's host is asked again)."""
    days: set[date] = set()
    prompts: set[tuple[str, int]] = set()
    for fact in counted.of("usage.confirmed"):
        if fact.by != person:
            continue
        payload = fact.payload
        try:  # one appended around the API says nothing (as counting reads it), whole or not
            said = {
                date.fromisoformat(str(value))
                for value in [*(payload.get("days") or ()), *(payload.get("left_out") or ())]
            }
            refs = {
                (str(r["prompt"]), int(r["version"]))
                for r in [*(payload.get("prompts") or ()), *(payload.get("left_out_prompts") or ())]
            }
        except _MALFORMED:
            continue
        days |= said
        prompts |= refs
    return days, prompts


def _prompts_outgrown(
    counted: FactSet, person: str, signed: Mapping[tuple[str, int], date], *, bound: bool
) -> set[tuple[str, int]]:
    """The prompt versions ``person`` confirmed, each up to a day, that the gateway's signed
    figures (``signed``: per version, the latest day they date their use of it) date their
    use of later than every confirmation of it covers: to be asked about again. ``bound``:
    read as :data:`~inhouse.program.checks.CONFIRMED_BOUND` reads them (one that dates no use
    covers up to the day it was recorded)."""
    from inhouse.program.counting import confirmed_prompts

    said = confirmed_prompts(counted.of("usage.confirmed"), person, bound=bound)
    # and those they left out, each up to the latest day of its use they were shown: a use
    # the gateway dates later is a new claim, asked about again
    for fact in counted.of("usage.confirmed"):
        if fact.by != person:
            continue
        try:
            out = [
                ((str(r["prompt"]), int(r["version"])), date.fromisoformat(str(r["last"])))
                for r in fact.payload.get("left_out_prompts") or ()
            ]
        except _MALFORMED:
            continue
        for ref, up_to in out:
            was = said.get(ref, up_to)
            said[ref] = None if ref in said and was is None else max(was or up_to, up_to)
    return {
        ref for ref, day in signed.items() if ref in said and (last := said[ref]) and day > last
    }


def _figures(payload: dict[str, object], person: str) -> tuple[int, int]:
    """``person``'s (requests, tokens) in a ``usage.daily`` payload."""
    people = payload.get("people")
    given = people.get(person) if isinstance(people, dict) else payload
    if not isinstance(given, dict):
        raise TypeError(f"no figures for {person}")
    tokens = int(str(given.get("tokens_in", 0))) + int(str(given.get("tokens_out", 0)))
    return int(str(given.get("requests", 0))), tokens


def _runs(payload: dict[str, object], person: str) -> dict[str, int]:
    """``person``'s runs of each workflow (by name) in a ``usage.daily`` payload."""
    from inhouse.program.lagging_words import signed_runs

    people = payload.get("people")
    given = people.get(person) if isinstance(people, dict) else payload
    if not isinstance(given, dict):
        raise TypeError(f"no figures for {person}")
    return signed_runs(given)


def _outgrown(
    counted: FactSet,
    person: str,
    signed: Mapping[date, tuple[int, int | None]],
    *,
    bound: bool,
    runs: Mapping[date, Mapping[str, int]] | None = None,
) -> set[date]:
    """The days ``person`` confirmed, bound to figures (:func:`confirmed_bounds`), that the
    figures now (``signed``: the gateway's latest signed ones, else the usage log's requests)
    exceed: to be asked about again. ``bound``: read as
    :data:`~inhouse.program.checks.CONFIRMED_BOUND` reads them (a figure one names none of is
    none: an older inhouse's, of a day not signed yet, asked about again). ``runs``: per day,
    the signed runs of each workflow; a day they exceed what its confirmations bound, or that
    no confirmation binds runs of (one from before exit rule 32), is asked about again. A day
    whose latest answer left it out (``--except``) is not: asked again, its person said they
    used no more of it than they confirmed, which still bounds what it counts; asked forever,
    their one way out was to confirm what the gateway's host sealed in since."""
    from inhouse.program.counting import confirmed_bounds, confirmed_runs

    bounds: dict[date, tuple[int | None, int | None]] = {}
    ran: dict[date, dict[str, int]] = {}
    #: the days whose latest answer (in the log's order) left them out: asked again, the
    #: person said they used no more of it than they confirmed before, which still bounds it
    settled: set[date] = set()
    for fact in counted.of("usage.confirmed"):
        if fact.by != person:
            continue
        try:
            days = {date.fromisoformat(str(v)) for v in fact.payload.get("days") or ()}
            out = {date.fromisoformat(str(v)) for v in fact.payload.get("left_out") or ()}
            found = confirmed_bounds(fact.payload, days, bound=bound)
            bound_runs = confirmed_runs(fact.payload, days)
        except _MALFORMED:
            continue
        settled = (settled - days) | (out - days)
        for day, said in (bound_runs or {}).items():
            held = ran.setdefault(day, {})
            for name, count in said.items():
                held[name] = max(held.get(name, 0), count)
        for day, (most, spent) in found.items():
            was = bounds.get(day)
            bounds[day] = (
                (most, spent)
                if was is None
                else (
                    None if most is None or was[0] is None else max(most, was[0]),
                    None if spent is None or was[1] is None else max(spent, was[1]),
                )
            )
    return {
        day
        for day, (most, spent) in bounds.items()
        if day in signed
        and day not in settled
        and (
            (most is not None and signed[day][0] > most)
            or (spent is not None and (signed[day][1] or 0) > spent)
            or _runs_outgrown((runs or {}).get(day, {}), ran.get(day))
        )
    }


def _runs_outgrown(signed: Mapping[str, int], confirmed: Mapping[str, int] | None) -> bool:
    """Whether a day's signed runs are more than its confirmations bound (None: none bound
    them, as before exit rule 32: asked again where it has any, once)."""
    if confirmed is None:
        return any(count > 0 for count in signed.values())
    return any(count > confirmed.get(name, 0) for name, count in signed.items())


#: what reading a payload appended around the API (the fold checks no shape) may raise
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


def _named(payload: dict[str, object]) -> list[str]:
    """Whom a ``usage.daily`` names: a day's ``people``, or the one ``person`` of facts from
    before the gateway recorded a day in one fact."""
    people = payload.get("people")
    return [str(p) for p in people] if isinstance(people, dict) else [str(payload.get("person"))]
