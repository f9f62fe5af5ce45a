"""Set-ups for the tests of ``inhouse status``'s next steps (tests/test_next_steps_*.py): the
real status with one play's state and its failing rows set, the steps it gives each person, and
the programs, people and facts those tests start from (SQLite, each person's own key)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from inhouse.next_steps import next_steps
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Provenance
from tests.locks import lock_payload
from tests.people import enrol

#: one enablement track for every role, its one step a first answered request
TRACK = (
    "title: Everyone\nrole: all\nsteps:\n  - {id: first-request, type: first-answered-request}\n"
)


def _with_play(program: Program, play: str, rows: str, *checks: str, **view: Any) -> dict[str, Any]:
    """``program``'s status with the plays before ``play`` exited and ``play``'s ``rows``
    (``exit`` or ``trigger``) the failing ``checks``, its view updated with ``view``."""
    status: dict[str, Any] = program.status()
    number = next(v["number"] for v in status["plays"] if v["id"] == play)
    for shown in status["plays"]:
        if shown["number"] < number:
            shown.update(state="exited", handoff=None)
        elif shown["id"] == play:
            failing = [
                {"check": c, "title": c.replace("-", " "), "outcome": "fail", "reason": "not yet"}
                for c in checks
            ]
            shown.update(view, **{rows: failing})
    return status


def running(program: Program, play: str, owner: str, *checks: str) -> dict[str, Any]:
    """``program``'s status with ``play`` running under ``owner``, ``checks`` its failing exit
    rows, and the plays before it exited."""
    return _with_play(program, play, "exit", *checks, state="running", owner=owner)


def waiting(program: Program, play: str, *checks: str) -> dict[str, Any]:
    """``program``'s status with the plays before ``play`` exited, and ``play`` not started,
    ``checks`` its failing trigger rows."""
    return _with_play(program, play, "trigger", *checks, state="not-started")


def steps_by_person(program: Program, status: dict[str, Any]) -> dict[str, list[str]]:
    """The next steps ``status`` gives each person, as texts under their name."""
    found = next_steps(program, status, program.clock())  # type: ignore[arg-type]
    return {p["person"]: [s["text"] for s in p["steps"]] for p in found}


def check_reason(program: Program, check: str) -> str:
    """The reason ``check`` gives on ``program``'s state now."""
    from inhouse.program.checks import evaluate
    from inhouse.program.counting import build_context

    return evaluate(check, build_context(program.state(), program.clock())).reason


def with_omar_and_pia(lead: Program) -> tuple[Program, Program]:
    """omar (support) and pia (legal) enrolled by ``lead``, each acting with their own key."""
    return enrol(lead, "omar", team="support"), enrol(lead, "pia", team="legal")


def record_lock(program: Program, owner: str) -> None:
    """A ``baseline.lock`` naming ``owner`` as the baseline's, recorded by ``program``."""
    program.record_fact(None, "baseline.lock", lock_payload(owner), provenance=Provenance.MEASURED,
                        collector="inhouse baseline lock")  # fmt: skip


def record_version(person: Program, author: str, content_hash: str) -> None:
    """A version of workflow ticket-summary by ``author``, published by ``person``."""
    spec = {"workflow": "ticket-summary", "content_hash": content_hash, "model": "m",
            "model_digest": "sha256:" + "b" * 64, "author": author}  # fmt: skip
    person.record_fact(None, "workflow.spec", spec, provenance=Provenance.MEASURED,
                       collector="inhouse workflow test")  # fmt: skip


def record_failed_run(person: Program, content_hash: str) -> None:
    """``person``'s one run of ticket-summary's version ``content_hash``, failed."""
    failed = {"workflow": "ticket-summary", "content_hash": content_hash, "passed": False,
              "pass_rate": 0.0, "cases": 1}  # fmt: skip
    person.record_fact(None, "workflow.run", failed, provenance=Provenance.MEASURED,
                       collector="inhouse workflow test")  # fmt: skip


def pilot_with_members(lead: Program, teams: dict[str, str]) -> dict[str, Program]:
    """``lead``'s pilot started before plays 1-3 (a waiver), with ``TRACK`` as track everyone,
    and each of ``teams`` (name: team) enrolled and added on it; returns them by name."""
    (lead.folder / "enablement").mkdir()
    (lead.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    later = lead.clock() + timedelta(days=30)
    lead.grant_waiver(None, "scaling-before-proving", reason="time-boxed-experiment",
                      note="the pilot before plays 1-3", expires=later)  # fmt: skip
    members = {}
    for name, team in teams.items():
        members[name] = enrol(lead, name, team=team)
        add_member(lead, name, track="everyone")
    return members


def close(*people: Program) -> None:
    """Close each of ``people``'s programs."""
    for person in people:
        person.close()
