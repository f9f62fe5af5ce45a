"""Lookups the play checks share. "Who" is always a signer: the person whose key signed the
fact, never a name typed into a payload."""

from __future__ import annotations

import functools
from collections.abc import Callable

from inhouse.program.checks import CheckContext, CheckFunc, Result, failed
from inhouse.program.facts import Fact

__all__ = [
    "author_of",
    "builders",
    "current_lock",
    "current_workflow",
    "early_owners",
    "given",
    "insiders",
    "invited_by_judged",
    "names",
    "other_person_elsewhere",
    "passing_runs",
]


def given(
    find: Callable[[CheckContext], Fact | None], missing: str
) -> Callable[[Callable[[CheckContext, Fact], Result]], CheckFunc]:
    """For a check that judges one fact (the current lock, the current workflow): ``find`` looks
    it up and the check gets it; without one, the check fails saying ``missing``."""

    def decorator(judge: Callable[[CheckContext, Fact], Result]) -> CheckFunc:
        @functools.wraps(judge)
        def check(ctx: CheckContext) -> Result:
            fact = find(ctx)
            return failed(missing) if fact is None else judge(ctx, fact)

        return check

    return decorator


def current_lock(ctx: CheckContext) -> Fact | None:
    return ctx.facts.latest("baseline.lock")


def author_of(spec: Fact) -> str:
    """A workflow version's author: whoever signed the fact that published it."""
    return spec.by


def other_person_elsewhere(ctx: CheckContext, fact: Fact, judged: set[str]) -> str | None:
    """Why ``fact`` is not evidence from someone other than ``judged``, or None when it is: it
    must be signed by another person, from a machine none of ``judged`` enrolled a key from."""
    if fact.by in judged:
        return f"it is {fact.by}'s own"
    theirs = ctx.machines_of(judged)
    used = {m for m in (fact.machine, str(fact.payload.get("machine") or "")) if m}
    shared = used & theirs
    if shared:
        return (
            f"{fact.by}'s evidence came from a machine {names(list(judged))} enrolled "
            f"({', '.join(sorted(shared))})"
        )
    return None


def invited_by_judged(ctx: CheckContext, person: str, judged: set[str]) -> str:
    """A note when the "someone else" was invited by the very person being judged: it counts
    (inviting is a rollout lead's job), and it is said, so a reader can weigh it."""
    inviter = ctx.invited_by.get(person)
    if inviter is not None and inviter in judged:
        return f" (note: {inviter}, whose work this judges, invited {person})"
    return ""


def passing_runs(ctx: CheckContext, spec: Fact) -> list[Fact]:
    """Passing test runs of ``spec``'s version, against the current lock where there is one (a
    run against other locked weights does not prove this workflow on the baseline's model)."""
    lock = current_lock(ctx)
    lock_hash = lock.payload["lock_hash"] if lock is not None else None
    return [
        f
        for f in ctx.facts.of("workflow.run")
        if f.payload["workflow"] == spec.payload["workflow"]
        and f.payload["content_hash"] == spec.payload["content_hash"]
        and f.payload["passed"]
        and (lock_hash is None or not f.payload["lock_hash"] or f.payload["lock_hash"] == lock_hash)
    ]


def current_workflow(ctx: CheckContext) -> Fact | None:
    """The workflow play 3 is judged on: of each workflow's current version, the latest one
    someone other than its author passed, else the latest version recorded. (With several
    workflows, testing a second one must not hide the first one's evidence.)"""
    current: dict[str, Fact] = {}
    for spec in ctx.facts.of("workflow.spec"):
        current[str(spec.payload["workflow"])] = spec
    proven = [
        spec
        for spec in current.values()
        if any(
            other_person_elsewhere(ctx, run, {author_of(spec)}) is None
            for run in passing_runs(ctx, spec)
        )
    ]
    return max(proven, key=lambda f: f.id) if proven else ctx.facts.latest("workflow.spec")


def early_owners(ctx: CheckContext) -> set[str]:
    return {owner for play, owner in ctx.owners.items() if play in {"prove-value", "baseline"}}


def builders(ctx: CheckContext) -> set[str]:
    """Who built what tends to break, from the log: the owners of plays 1-3 and whoever signed
    the baseline's lock and install script and the workflows' published versions."""
    found = {
        owner
        for play, owner in ctx.owners.items()
        if play in {"prove-value", "baseline", "workflow"}
    }
    found |= {
        fact.by
        for fact in ctx.facts.of("baseline.lock", "baseline.install_script", "workflow.spec")
    }
    return found


def insiders(ctx: CheckContext) -> set[str]:
    """Everyone already inside the program: holders of any role (pilot users, owners, leads,
    champions, support) and the owners of started plays. Anyone else is "beyond the pilot"."""
    return {p.name for p in ctx.people.values() if p.roles} | set(ctx.owners.values())


def names(people: list[str]) -> str:
    return ", ".join(sorted(people)) if people else "nobody"
