"""Each page's data, as its ``.json`` twin returns it and its template renders it.

Every function here calls the play packages and :mod:`inhouse.program` and arranges what they
return; none decides anything a check, guard or play package decides (docs/web.md documents
each shape). ``program`` is the viewer's: the session's program, acting as them.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from inhouse.errors import InhouseError, NoSuchRoute

if TYPE_CHECKING:
    from collections.abc import Iterable

    from inhouse.program import Program
    from inhouse.program.audit import AuditReport
    from inhouse.program.facts import Fact
    from inhouse.usage.authentic import Seal

__all__ = [
    "PAGES",
    "audit_head",
    "audit_page",
    "fact_page",
    "governance_page",
    "indicators_page",
    "pilot_page",
    "play_page",
    "program_page",
    "prompts_page",
    "support_page",
    "ticket_page",
    "viewer",
]

#: the navigation: (page name, path, title)
PAGES = (
    ("program", "/", "Program"),
    ("pilot", "/pilot", "Pilot"),
    ("prompts", "/prompts", "Prompts"),
    ("support", "/support", "Support"),
    ("governance", "/governance", "Governance"),
    ("indicators", "/indicators", "Indicators"),
    ("audit", "/audit", "Audit"),
)
_AUDIT_PAGE = 100


def viewer(program: Program) -> dict[str, Any]:
    """Who is looking: their name and roles (what they may do follows them), and at what: the
    program's name, whether it is a demo (every page says so: nothing a demo shows is
    evidence), and whether its log stopped verifying (every page says so: what it shows is as
    of the event before the first bad one, and nothing more can be recorded)."""
    from inhouse.program.witness import CUT

    who = program.whoami()
    state = program.state()
    tampered = None
    if state.tampered is not None:  # every page says so: its figures stop before that event
        problem, seq = state.tampered
        # cut: the log verifies, but no longer holds the newest event this server's user saw
        tampered = {"problem": problem, "first_bad_seq": seq, "cut": problem.startswith(CUT)}
    return {
        "name": who.name,
        "roles": sorted(who.roles),
        "team": who.team,
        "program": {"name": state.name, "demo": state.demo, "tampered": tampered},
    }


# -- program ---------------------------------------------------------------------------------


def program_page(program: Program) -> dict[str, Any]:
    """The six plays as a board (``inhouse status --json``), and each person's next step,
    judged at one moment: the checks' context is built once for both (the program is shared
    between requests, so its clock is read once here, not pinned)."""
    from inhouse.next_steps import next_steps

    now = program.clock()
    status = program.status(now)
    return {"status": status, "next_steps": next_steps(program, status, now)}


# -- play ------------------------------------------------------------------------------------


def play_page(program: Program, ref: str) -> dict[str, Any]:
    """One play from the status, with every fact behind its checks."""
    from inhouse.errors import UnknownPlay

    try:
        play = program.playbook.play(ref)
    except UnknownPlay as err:
        raise NoSuchRoute(str(err)) from None
    now = program.clock()  # one moment for the play and its facts: one context built
    status = program.status(now)
    view = next(v for v in status["plays"] if v["id"] == play.id)
    ids = {e["fact"] for row in (*view["trigger"], *(view["exit"] or [])) for e in row["evidence"]}
    facts = {f.id: f for f in program.state().facts if f.id in ids}
    counts = _counting(program, now)
    evidence = {str(i): _fact_view(facts[i], counts) for i in sorted(facts)}
    waivers = [w for w in status["waivers"] if w["play"] in (None, play.id)]
    # what the exit will need, from the playbook: shown before the play starts too, when the
    # status judges none of it yet (its ``exit`` is null)
    criteria = [{"check": ref.check, "title": ref.title} for ref in play.exit]
    return {"play": view, "evidence": evidence, "waivers": waivers, "now": status["now"],
            "exit_criteria": criteria}  # fmt: skip


def _counting(program: Program, now: datetime | None = None) -> tuple[set[int], dict[int, str]]:
    """The ids of the facts the checks count, and why each fact they may not count does not
    (as ``status`` shows it beside the checks)."""
    from inhouse.program.counting import build_context

    context = build_context(program.state(), program.clock() if now is None else now)
    return {f.id for f in context.facts}, {u.fact.id: u.why for u in context.uncounted}


def _fact_view(fact: Any, counts: tuple[set[int], dict[int, str]]) -> dict[str, Any]:
    counted, uncounted = counts
    # a fact the checks do not count (a lock fact whose hash is not its body's, a measurement
    # typed as someone's word, a signer the sign-in never vouched for) is shown as such: its
    # payload alone would read as evidence ("passed": true, the models it lists)
    why = uncounted.get(fact.id)
    if why is None and fact.id not in counted:
        why = "it is no longer live (expired, withdrawn or replaced), so no check reads it"
    return {
        "counts": fact.id in counted,
        "not_counted": why,
        "id": fact.id,
        "kind": fact.kind,
        "label": fact.label,
        "provenance": fact.provenance.value,
        "by": fact.by,
        "signed": fact.signed,
        "on_behalf_of": fact.on_behalf_of,
        # signed by a dashboard session's key, which the dashboard's host holds; approved: with
        # its person's own approval of exactly this fact (else a check needing their own act
        # reads it as the host's word)
        "session": fact.session,
        "approved": fact.approved,
        "collector": fact.collector,
        "comment": fact.comment,
        "at": fact.at.isoformat(timespec="seconds"),
        "expires": fact.expires.isoformat(timespec="seconds") if fact.expires else None,
        "payload": fact.payload,
    }


def fact_page(program: Program, fact_id: int) -> dict[str, Any]:
    """One fact: what it says, who signed it, how it was gathered."""
    for fact in program.state().facts:
        if fact.id == fact_id:
            return {"fact": _fact_view(fact, _counting(program))}
    raise NoSuchRoute(f"no fact #{fact_id} in this program")


# -- pilot -----------------------------------------------------------------------------------


def pilot_page(program: Program) -> dict[str, Any]:
    """Roster, enablement, adoption, the survey, champions and findings: play 4's reports, as
    the CLI prints them. Adoption is the gateway's signed measurement, what play 4 counts;
    live figures beside it say where they come from, and where they disagree with it. All of
    it judged at one moment: the checks' context is built once for the page."""
    from inhouse.pilot.adoption import adoption_report
    from inhouse.pilot.champions import suggest_champions
    from inhouse.pilot.enablement import pilot_list
    from inhouse.pilot.findings import list_findings
    from inhouse.pilot.survey import (
        ANSWERS,
        QUESTION,
        current_survey,
        eligibility,
        own_answer,
        survey_results,
    )
    from inhouse.program.counting import not_their_fetch
    from inhouse.usage.activity import active_days

    now = program.clock()
    roster = pilot_list(program, now)
    from inhouse.gateway.rollup import gateway_seal
    from inhouse.usage.authentic import left_out_message

    # never made here: a dashboard that made the gateway a key would make its rows unverifiable
    seal = gateway_seal(program, make=False)
    live = adoption_report(program, mac_key=seal, now=now)
    people = [m.person for m in live.members]
    days: dict[str, dict[str, int]] = {p: {} for p in people}
    not_own = not_their_fetch(program.state())  # the rule the adoption above counts by
    for day in active_days(
        program.store, people, since=live.since, until=live.as_of, not_own=not_own
    ):
        days[day.person][day.day] = day.requests
    window = [(live.since + timedelta(days=n)).isoformat() for n in range(live.window_days)]
    survey = current_survey(program, now)
    me = program.whoami().name
    survey_view: dict[str, Any] | None = None
    if survey is not None:
        mine = own_answer(program, now)
        member = me in {item.member.person for item in roster.members}
        allowed = eligibility(program, me, now) if member and survey.is_open(now) else None
        survey_view = {
            "results": survey_results(program, now=now).to_dict(),
            "question": QUESTION,
            "answers": [{"value": a.value, "text": text} for a, text in ANSWERS.items()],
            "mine": None if mine is None else {"fact": mine.id, **mine.payload},
            "may_answer": allowed is not None and allowed.eligible,
            "why_not": None if allowed is None or allowed.eligible else allowed.reason,
        }
    signed = _signed_adoption(program, people, now)
    return {
        "roster": {
            "summary": roster.summary(),
            "teams": roster.teams,
            "members": [p.to_dict() for p in roster.members],
            "role_only": roster.role_only,
        },
        "adoption": signed,
        "live": {
            **_live_source(seal),
            "report": live.to_dict(),
            "active_days": {"days": window, "people": days, "label": UNSIGNED},
            # a key the log revoked verifies no row: every figure would disagree for that
            "disagree": [] if live.revoked else _disagreement(signed, live.members),
            "left_out": left_out_message(live.left_out, revoked=live.revoked),
        },
        "survey": survey_view,
        "champions": suggest_champions(program, now).to_dict(),
        "findings": [asdict(f) for f in list_findings(program, now)],
    }


#: how the dashboard labels a figure computed from the usage summary tables
UNSIGNED = "unsigned: from the summary tables, which anyone with database access can write"
#: how it labels one computed from the request rows the gateway sealed (its key is on this host)
SEALED = (
    "live: from the request rows the gateway sealed, verified with its key on this host; "
    "not signed until `inhouse pilot adoption --record` records it"
)


def _live_source(seal: Seal | None) -> dict[str, str]:
    """Where the pilot page's live figures come from, as ``source``, ``short`` and ``label``:
    the summary tables (no gateway key here), the rows the gateway sealed, or none of them
    where the key on this host is one the log revoked (its rows are read as not sealed)."""
    if seal is None:
        return {"source": "tables", "short": "unsigned", "label": UNSIGNED}
    if seal.revoked is not None:
        return {"source": "revoked", "short": "not sealed: the gateway's key was revoked",
                "label": revoked_label(seal.revoked)}  # fmt: skip
    return {"source": "sealed", "short": "live, sealed rows", "label": SEALED}


def revoked_label(revoked: str) -> str:
    """How the dashboard labels live figures where the gateway's key on this host is one the
    log revoked (``revoked``: its words)."""
    from inhouse.gateway.rollup import SERVICE
    from inhouse.program.core import rotation_words

    return (
        f"not sealed: the gateway's key file on this host holds {revoked}, and no request row "
        "it sealed counts, whatever time the row gives (the gateway host's clock, which "
        "whoever kept the key sets); what it signed before the revocation stands. To rotate "
        f"it, {rotation_words(SERVICE)}: rows sealed with the new key count"
    )


def _signed_adoption(program: Program, members: list[str], now: datetime) -> dict[str, Any]:
    """The latest ``pilot.adoption`` fact that counts, as play 4's ``pilot-independent-use``
    check picks it (the latest of the counted facts: signed by the gateway's key): who of
    ``members`` (the pilot as the checks see it) is independent and why, when it was measured.
    ``fact`` is None until one is recorded; ``too_old`` says why the check no longer counts it
    (its own rule), else None."""
    from inhouse.pilot.adoption import counted_adoption, unmet_terms

    fact, too_old = counted_adoption(program, now)
    rows = {} if fact is None else {str(r["person"]): r for r in fact.payload["members"]}
    # a row's "independent" is its signer's word (the gateway host's operator's): play 4 sets
    # aside a member whose own confirmed days do not bear it out (exit rule 9), and so does
    # the page that says what play 4 counts
    unmet = {} if fact is None else unmet_terms(program, fact, now)
    rows.update({p: {**rows[p], "independent": False, "reason": why} for p, why in unmet.items()})
    shown = [
        {
            "person": person,
            "measured": person in rows,
            "active_days": int(rows[person]["active_days"]) if person in rows else None,
            "independent": bool(rows.get(person, {}).get("independent")),
            "reason": str(rows[person].get("reason") or "") if person in rows else "",
        }
        for person in members
    ]
    return {
        "fact": None if fact is None else fact.id,
        "by": None if fact is None else fact.by,
        "at": None if fact is None else fact.at.isoformat(timespec="seconds"),
        "as_of": None if fact is None else str(fact.payload["as_of"]),
        "window_days": None if fact is None else fact.payload.get("window_days"),
        "min_days": None if fact is None else fact.payload.get("min_days"),
        "members": shown,
        "independent": sum(1 for row in shown if row["independent"]),
        "too_old": too_old,
    }


def _disagreement(signed: dict[str, Any], live: Iterable[Any]) -> list[str]:
    """The measured members whose live "independent" is not the signed measurement's."""
    if signed["fact"] is None:
        return []
    measured = {row["person"]: row["independent"] for row in signed["members"] if row["measured"]}
    return [m.person for m in live if m.person in measured and measured[m.person] != m.independent]


# -- prompts ---------------------------------------------------------------------------------


def prompts_page(program: Program) -> dict[str, Any]:
    """The shared library: each prompt's versions and labels, the latest change as a diff, and
    measured use (reuse by people other than the author)."""
    from inhouse.pilot.library_views import diff_prompts, list_prompts, prompt_usage, show_prompt

    prompts = []
    for row in list_prompts(program):
        shown = show_prompt(program, row["name"])
        numbers = [v["version"] for v in shown["versions"]]
        diff = ""
        if len(numbers) > 1:
            name = row["name"]
            diff = diff_prompts(program, f"{name}@{numbers[-2]}", f"{name}@{numbers[-1]}")
        prompts.append({**row, "history": shown["versions"], "latest_diff": diff})
    return {
        "prompts": prompts,
        "signed_usage": _signed_prompt_usage(program),
        "usage": prompt_usage(program),
        "usage_label": UNSIGNED,
    }


def _signed_prompt_usage(program: Program) -> list[dict[str, Any]]:
    """Each prompt version's latest counted ``prompt.usage`` fact (signed by the gateway's key,
    what the pilot's and play 6's checks read), by prompt and version."""
    from inhouse.program.counting import build_context

    context = build_context(program.state(), program.clock())
    latest: dict[tuple[str, int], Fact] = {}
    for fact in context.facts.of("prompt.usage"):
        latest[(str(fact.payload["prompt"]), int(fact.payload["version"]))] = fact
    return [
        {**_signed(fact), **fact.payload, "last_used": str(fact.payload.get("last_used") or "")}
        for _, fact in sorted(latest.items())
    ]


# -- support ---------------------------------------------------------------------------------


def support_page(program: Program) -> dict[str, Any]:
    """The queue, its tickets and the figures per component (builder-free share, Contributor
    Absence Factor)."""
    from inhouse.program.counting import build_context
    from inhouse.support.queue import (
        CATEGORIES,
        list_tickets,
        queue_of,
        without_builders_verdict,
        words_awaited,
    )
    from inhouse.support.stats import support_stats

    now = program.clock()  # one moment for the queue, its tickets and figures: one context
    queue = queue_of(program, now)
    context = build_context(program.state(), now)
    tickets = reversed(list_tickets(program, state="all", now=now))
    return {
        "queue": None
        if queue is None
        else {
            "name": queue.name,
            "owner": queue.owner,
            "named_by": queue.named_by,
            "accepted": queue.accepted,
            "standing": queue.standing(),
        },
        "tickets": [
            {
                **_ticket_row(t),
                "without_builders": without_builders_verdict(context, t),
                "words_awaited": sorted({s.actor for s in words_awaited(t)}),
            }
            for t in tickets
        ],
        "stats": [row.to_dict() for row in support_stats(program, now)],
        "categories": list(CATEGORIES),
    }


def _ticket_row(ticket: Any) -> dict[str, Any]:
    resolution = ticket.resolution
    return {
        "id": ticket.id,
        "title": ticket.title,
        "state": ticket.state,
        "category": ticket.category,
        "component": ticket.component,
        "opened_by": ticket.opened.actor,
        "opened_at": ticket.opened.at.isoformat(timespec="seconds"),
        "assignee": ticket.assignee,
        "resolved_by": resolution.actor if resolution else None,
        # whether the ticket's opener confirmed the fix (None while open): play 5 and the
        # figures count a resolution only then
        "fix_confirmed": ticket.fix_confirmed() is not None if resolution else None,
    }


def ticket_page(program: Program, ticket: str) -> dict[str, Any]:
    """One ticket with every step (``inhouse support show --json``)."""
    from inhouse.errors import InvalidInput
    from inhouse.support.queue import assign_refused, find_ticket, ticket_dict

    now = program.clock()  # one moment for the ticket and who may assign it: one context
    try:
        found = find_ticket(program, ticket, now)
    except InvalidInput as err:
        raise NoSuchRoute(str(err)) from None
    state = program.state()
    # the assign form, for whoever may assign (the queue's owner, a rollout lead): the next
    # step "assign T-1" links here, and the page had no way to do it
    may = found.state == "open" and assign_refused(program, program.whoami(), now) is None
    people = sorted(
        name
        for name, person in state.people.items()
        if may and not person.service and any(k.revoked_at is None for k in state.keys_of(name))
    )
    return {
        "ticket": ticket_dict(program, found, now),
        "assign": {"may": may, "people": people},
    }


# -- governance ------------------------------------------------------------------------------


def _signed(fact: Fact) -> dict[str, Any]:
    """A fact as the pages name it: its number, signer and time."""
    return {"fact": fact.id, "by": fact.by, "at": fact.at.isoformat(timespec="seconds")}


def governance_page(program: Program) -> dict[str, Any]:
    """The lock, the latest drift review (every node against it), the review cadence and every
    agent's boundary."""
    from inhouse.baseline.lock import read_lock
    from inhouse.program.counting import build_context
    from inhouse.support.agents import agent_keys
    from inhouse.support.review import review_status

    problem = None
    try:
        lock = read_lock(program.folder)
    except InhouseError as err:
        lock, problem = None, str(err)
    now = program.clock()  # one moment for the lock, the review and the agents: one context
    context = build_context(program.state(), now)
    drift = context.facts.latest("drift.review")
    # inhouse.lock is a file anyone with the program folder writes: a lead can hash a lock of
    # other weights into it without recording it. Play 2's checks, every verify and the install
    # script follow the latest counted baseline.lock fact, so the page shows that one beside the
    # file and says when the file is not it (else the page would show a lock the log does not
    # hold, one no colleague verified, as "the lock").
    recorded = context.facts.latest("baseline.lock")
    return {
        "lock": None
        if lock is None
        else {
            "lock_hash": lock.lock_hash,
            "runtime": lock.runtime.model_dump(mode="json"),
            "models": [m.model_dump(mode="json") for m in lock.models],
            "recorded": recorded is not None
            and recorded.payload.get("lock_hash") == lock.lock_hash,
        },
        "lock_problem": problem,
        "recorded_lock": None
        if recorded is None
        else {
            **_signed(recorded),
            "lock_hash": recorded.payload["lock_hash"],
            "runtime": recorded.payload["runtime"],
            "models": recorded.payload["models"],
        },
        "drift_review": None
        if drift is None
        else {
            **_signed(drift),
            **drift.payload,
            # the latest review may be of an earlier lock: play 5's versions-pinned counts only
            # a review of the recorded lock, so the page does not show another's "passed" as
            # the current lock's
            "current": recorded is not None
            and drift.payload.get("lock_hash") == recorded.payload.get("lock_hash"),
        },
        "review": review_status(program, now).to_dict(),
        "agents": [asdict(a) for a in agent_keys(program, now)],
    }


# -- indicators ------------------------------------------------------------------------------


def indicators_page(program: Program, period: str | None = None) -> dict[str, Any]:
    """Play 6's leading and lagging indicators per period, and the findings; where this
    version has no ``inhouse.indicators`` yet, says so. The usage play 6's checks count is the
    gateway's signed ``usage.daily`` facts (``signed``, with those checks' results), and so
    are the report's active counts, trend and workflow runs; its figures computed live from
    the summary tables alone (prompt use, busy time) are labelled unsigned."""
    try:
        from inhouse.indicators.report import build_report
    except ImportError:
        return {
            "available": False,
            "message": "play 6 indicators are not available in this version",
            "report": None,
            "unsigned": None,
            "signed": None,
            "findings": [],
        }
    now = program.clock()  # one moment for the report, its findings and play 6's checks
    report = build_report(program, period, now)
    findings: list[dict[str, Any]] = []
    try:
        module = import_module("inhouse.indicators.findings")
    except ImportError:
        module = None
    listing = getattr(module, "list_findings", None) or getattr(module, "findings", None)
    if callable(listing):
        findings = [_plain(f) for f in listing(program, now)]
    data = report.to_dict()
    signed = _signed_usage(program, data["period"]["start"], data["period"]["end"], now)
    live = {row["name"]: row["value"] for row in data["leading"]}
    disagree = [
        f"{label}: {live.get(name)} in the summary tables, {signed[key]} signed"
        for name, key, label in (
            ("answered_requests", "answered_requests", "answered requests"),
            ("active_users", "active", "active people"),
        )
        if live.get(name) is not None and live[name] != signed[key]
    ]
    return {
        "available": True,
        "message": None,
        "report": data,
        "unsigned": {
            "label": UNSIGNED,
            "leading": sorted(_FROM_TABLES),
            "lagging": sorted(_LAGGING_FROM_TABLES),
        },
        "signed": {
            **signed,
            "checks": _checks(program, _PLAY6_USAGE, now),
            "disagree": disagree,
        },
        "findings": findings,
    }


#: the leading indicators computed from the usage summary tables alone (answered requests,
#: active people, people beyond the pilot, the daily, weekly and monthly active counts, the
#: trend and the workflow runs count only what the gateway's key signed, as play 6's checks
#: read it; the runs by non-authors are the signed runs, whose key each went through the
#: tables' word, which may lower it only: its definition says so)
_FROM_TABLES = frozenset({"prompt_uses", "prompt_uses_by_non_authors", "prompts_reused"})
#: the lagging indicators that rest on the busy time, which no signed figure carries
_LAGGING_FROM_TABLES = frozenset({"local_cost", "spend_avoided"})
#: play 6's checks that count the gateway's signed usage
_PLAY6_USAGE = ("use-beyond-pilot", "indicators-reported")


def _signed_usage(program: Program, first: str, last: str, now: datetime) -> dict[str, Any]:
    """The gateway's signed daily usage from ``first`` to ``last`` (ISO days), as play 6's
    checks read it: the counted ``usage.daily`` facts, the latest per (day, person)."""
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks.measure import signed_totals

    context = build_context(program.state(), now)
    found = signed_totals(context.facts, first, last)
    return {
        "facts": [fact.id for fact in found.facts],
        "answered_requests": found.requests,
        "tokens_in": found.tokens_in,
        "tokens_out": found.tokens_out,
        # active: through a key of their own (an agent's use makes nobody active)
        "people": sorted(found.active),
        "active": len(found.active),
    }


def _checks(program: Program, checks: tuple[str, ...], now: datetime) -> list[dict[str, str]]:
    """Where the status evaluates them (their play started), these checks' outcome and
    reason."""
    wanted = set(checks)
    found: dict[str, dict[str, str]] = {}
    for view in program.status(now)["plays"]:
        for row in (*view["trigger"], *(view["exit"] or [])):
            if row["check"] in wanted:
                found.setdefault(row["check"], {
                    "check": row["check"], "title": row["title"], "outcome": row["outcome"],
                    "reason": row["reason"], "play": str(view["number"]),
                })  # fmt: skip
    return [found[c] for c in checks if c in found]


def _plain(item: Any) -> dict[str, Any]:
    if hasattr(item, "to_dict"):
        return dict(item.to_dict())
    if is_dataclass(item) and not isinstance(item, type):
        return asdict(item)
    return dict(vars(item))


# -- audit -----------------------------------------------------------------------------------


def audit_head(program: Program) -> tuple[int, str]:
    """The log's head as the fold read it (its seq and hash): what a full verify walks to."""
    state = program.state()
    return state.head_seq, state.verifier.prev


def audit_page(
    program: Program, *, before: int | None = None, full: tuple[AuditReport, datetime] | None = None
) -> dict[str, Any]:
    """The event log, newest first, a page at a time, with the person who signed each event
    (a dashboard session's events say so); and the chain's verification: the fold's, checked
    as it read every event, or a walk from the first event (``full``: its report and when it
    ran, from the server's ``SharedVerify``, which the dashboard asks off its event loop)."""
    from inhouse.program.events import read_events_after

    state = program.state()
    head = state.head_seq
    end = head if before is None else max(0, min(before - 1, head))
    start = max(0, end - _AUDIT_PAGE)
    events = [e for e in read_events_after(program.store, start) if e.seq <= end]
    rows = []
    for event in reversed(events):
        signer = None
        if event.signer is not None:
            record = state.keys.get(event.signer)
            delegated = state.verifier.keys.delegated.get(event.signer)
            session = record is None and delegated is not None
            signer = {
                "key_id": event.signer,
                "person": record.person if record is not None else delegated,
                "session": session,
                # the session's event carries its person's own approval of exactly it (the
                # fold checked it): their decision, not the host's
                "approved": session and "approval" in event.payload,
            }
        rows.append(
            {
                "seq": event.seq,
                "at": event.at.astimezone(UTC).isoformat(timespec="seconds"),
                "actor": event.actor,
                "kind": event.kind,
                "signer": signer,
                "hash": event.hash,
                "summary": _summary(event.payload),
            }
        )
    verifier = state.verifier
    # a member's event made without the authority to make it is set aside, the chain intact:
    # the auditor is shown the attempt, as `inhouse audit verify` reports it
    forged = state.unauthorized
    verification: dict[str, Any] = {
        "how": "fold",
        "at": None,  # as the fold read each event
        "ok": state.tampered is None and not forged,
        "intact": state.tampered is None,
        "checked": verifier.checked,
        "signed": verifier.signed,
        "unsigned": verifier.unsigned,
        "problem": state.tampered[0] if state.tampered else "; ".join(w for _, w in forged) or None,
        "first_bad_seq": state.tampered[1]
        if state.tampered
        else (forged[0][0] if forged else None),
    }
    if full is not None:
        report, walked = full
        verification = {
            "how": "full",
            "at": walked.astimezone(UTC).isoformat(timespec="seconds"),
            "ok": report.ok,
            "intact": report.intact,
            "checked": report.checked,
            "signed": report.signed,
            "unsigned": report.unsigned,
            "problem": report.problem,
            "first_bad_seq": report.first_bad_seq,
        }
    return {
        "events": rows,
        "head": head,
        "older": start if start > 0 else None,
        "verification": verification,
    }


def _summary(payload: dict[str, Any]) -> str:
    """A line of what an event says (its delegation and approval left out: the signer column
    shows them)."""
    parts = []
    for key, value in payload.items():
        if key in ("delegation", "envelope", "approval"):
            continue
        text = value if isinstance(value, str) else repr(value)
        parts.append(f"{key}={text}")
    line = ", ".join(parts)
    return line if len(line) <= 160 else line[:157] + "…"
