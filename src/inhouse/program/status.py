"""The program's status as plain data: what ``inhouse status`` renders and ``--json`` prints.

The shape is documented in docs/status-json.md and pinned by a test; add keys, never rename.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from inhouse.program.counting import (
    CLOCK_SKEW,
    build_context,
    marked_keys,
    refused_vouches,
    vouched_hosts,
)
from inhouse.program.evaluation import (
    CheckedRef,
    exit_results,
    satisfied,
    saw_the_same,
    trigger_results,
)
from inhouse.program.guards import (
    Guard,
    governance_theater,
    handed_to_itself,
    held_back_warning,
    start_blockers,
)
from inhouse.program.playbook import Play, Playbook, dropped_from_shipped, shipped_params
from inhouse.program.playchecks.support import overdue_since
from inhouse.program.state import (
    DEMO,
    ProgramState,
    SignIn,
    Waiver,
    claim_disbelieved,
    sign_in_login,
    sqlite_log,
    stop_counted,
)
from inhouse.program.status_shape import (
    CheckRow,
    HandoffView,
    PlayView,
    Status,
    StopView,
    WaiverView,
)
from inhouse.program.witness import CUT

__all__ = ["SCHEMA_VERSION", "build_status"]

SCHEMA_VERSION = 1


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _waiver(waiver: Waiver, now: datetime) -> WaiverView:
    return {
        "id": waiver.seq,
        "guard": waiver.guard,
        "play": waiver.play,
        "reason": waiver.reason,
        "note": waiver.note,
        "granted_by": waiver.granted_by,
        "granted_at": _time(waiver.granted_at),
        "expires": _time(waiver.expires),
        "active": waiver.active(now),
    }


def _checks(
    checked: list[CheckedRef],
    waived: list[Waiver],
    now: datetime,
    eased: Callable[[str, dict[str, Any]], str] = lambda check, params: "",
) -> list[CheckRow]:
    rows: list[CheckRow] = []
    for item in checked:
        result = item.result
        rows.append(
            {
                "check": item.ref.check,
                "title": item.ref.title,
                "outcome": result.outcome.value,
                # a playbook of the program's own may judge with other parameters than the
                # shipped one: said on the row itself, not only among the warnings
                "reason": result.reason + eased(item.ref.check, item.ref.params),
                "basis": result.basis,
                "evidence": [
                    {
                        "fact": f.id,
                        "kind": f.kind,
                        "provenance": f.provenance.value,
                        "by": f.by,
                        "signed": f.signed,
                        "on_behalf_of": f.on_behalf_of,
                        "label": f.label,
                    }
                    for f in result.evidence
                ],
                # a waiver never turns a fail into a pass: it is shown beside the outcome
                "waived_by": [w.seq for w in waived] if not result.outcome.satisfied else [],
            }
        )
    return rows


def _eased(playbook: Playbook, play: str, section: str) -> Callable[[str, dict[str, Any]], str]:
    def note(check: str, params: dict[str, Any]) -> str:
        shipped = shipped_params(playbook, play, section, check)
        if shipped is None:
            return ""
        return f" (judged with this playbook's parameters {params}, not the shipped {shipped})"

    return note


def _play_view(
    playbook: Playbook,
    play: Play,
    state: ProgramState,
    now: datetime,
    here: frozenset[str] = frozenset(),
) -> PlayView:
    record = state.plays.get(play.id)
    handoff = state.handoffs.get(play.id)
    trigger = trigger_results(play, state, now)
    waivers = [w for w in state.waivers if w.play in (None, play.id)]
    start_waivers = [
        w
        for w in waivers
        if w.guard == Guard.CALENDAR_DRIVEN_ADVANCE
        and (w.active(now) or (record is not None and w.seq in record.waivers))
    ]
    exit_checked = exit_results(play, state, now, here=here) if record is not None else None
    stale = False
    handoff_view: HandoffView | None = None
    if handoff is not None:
        if handoff.status == "accepted" and exit_checked is not None:
            stale = not saw_the_same(exit_checked, handoff.accepted_hash)
        handoff_view = {
            "to": handoff.to,
            "offered_by": handoff.offered_by,
            "offered_at": _time(handoff.offered_at),
            "comment": handoff.comment,
            "status": handoff.status,
            "decided_by": handoff.decided_by,
            "decided_at": _time(handoff.decided_at),
            "decision_comment": handoff.decision_comment,
            "stale": stale,
        }
    if state.stopped is not None and record is None:
        phase = "stopped"
    elif record is None:
        phase = "ready" if not start_blockers(playbook, play, state, now) else "not-started"
    elif play.ongoing:
        phase = "ongoing"
    elif (
        handoff is not None
        and handoff.status == "accepted"
        and (exit_checked is None or satisfied(exit_checked))
        and not handed_to_itself(playbook, play, state)
    ):
        # an acceptance of exits that do not hold exits nothing, nor one handed to whom the
        # next play may not go (the owner himself, where it needs another: around the API)
        phase = "exited"
    elif handoff is not None and handoff.status == "offered":
        phase = "handoff-offered"
    elif exit_checked is not None and satisfied(exit_checked):
        phase = "exit-met"
    else:
        phase = "running"
    return {
        "number": playbook.number(play.id),
        "id": play.id,
        "title": play.title,
        "purpose": play.purpose,
        "owner_role": play.owner.role.value,
        "owner_who": play.owner.who,
        "owner": record.owner if record else None,
        "state": phase,
        "started_at": _time(record.started_at) if record else None,
        "started_under_waivers": list(record.waivers) if record else [],
        "held_back": [{"guard": g, "why": why} for g, why in state.unwaived_start(play.id)],
        "exited_at": _time(state.exited.get(play.id)),
        "trigger": _checks(trigger, start_waivers, now, _eased(playbook, play.id, "trigger")),
        "exit": (
            _checks(exit_checked, [], now, _eased(playbook, play.id, "exit"))
            if exit_checked is not None
            else None
        ),
        "exit_met": satisfied(exit_checked) if exit_checked is not None else None,
        "hands_on": play.hands_on,
        "handoff": handoff_view,
        "ongoing": play.ongoing,
    }


def _pinned_later(sign_in: SignIn) -> str:
    """The signing keys a lead pinned after the sign-in's set-up (``inhouse sign-in keys``, or
    a set-up again with the same issuer), each with who pinned it and when; empty if none."""
    from inhouse.identity.signin import jwk_thumbprint

    kids = {jwk_thumbprint(key): str(key.get("kid") or "no kid") for key in sign_in.keys}
    return ", ".join(
        f"{kids.get(thumb, thumb[:12])} by {by} at event {seq}"
        for thumb, by, seq in sign_in.pinned_by
        if seq > sign_in.seq
    )


def _current(playbook: Playbook, state: ProgramState) -> str | None:
    current = None
    for play in playbook.plays:
        if play.id in state.plays:
            current = play.id
    return current


def _not_signed_in(issuer: str, waiting: list[str], *, log_file: str | None) -> str:
    """Who has not signed in yet, and where they can: sign-in needs the log and has no outbox,
    so on a SQLite log (a file on this machine) nobody signs in from a machine of their own."""
    names = ", ".join(waiting)
    said = f"not signed in with {issuer}: {names}; what they sign counts once they have"
    if log_file is None:
        return f"{said} ({sign_in_login(None)})"
    why = sqlite_log(log_file)
    return (
        f"{said}, with `inhouse sign-in login` where the log is. {why[0].upper()}{why[1:]}; "
        "their other evidence can travel as `inhouse evidence export` files"
    )


def build_status(
    playbook: Playbook,
    state: ProgramState,
    now: datetime,
    *,
    folder: str = "",
    here: frozenset[str] = frozenset(),
) -> Status:
    """Everything ``inhouse status`` shows, as JSON-ready data; ``here``: the digests this
    machine read as the project's test model (:func:`inhouse.baseline.here.local_test_models`)."""
    warnings = []
    # what the first event says the program was created with; none folded (a log that does not
    # verify at event 1) says nothing of it, and a comparison would warn of "playbook v0"
    created = bool(state.playbook)
    if created and (state.playbook_version != playbook.version or state.playbook != playbook.name):
        warnings.append(
            f"the program was created with playbook {state.playbook} v{state.playbook_version}; "
            f"it now loads {playbook.name} v{playbook.version}"
        )
    if dropped := dropped_from_shipped(playbook):
        warnings.append(
            f"this program runs a playbook of its own ({playbook.name} v{playbook.version}), "
            f"not the one inhouse ships, and it differs in what holds people to evidence: "
            f"{'; '.join(dropped)}. Its exits are judged by its own rules; where it drops "
            "a rule the shipped playbook asks before the pilot (or beyond it) gets access, "
            "widening access goes through only with a waiver on the record (`inhouse waiver grant`)"
        )
    renamed = state.playbook_version != playbook.version or state.playbook != playbook.name
    if not renamed and state.playbook_rules and state.playbook_rules != playbook.rules():
        warnings.append(
            f"the playbook loaded ({playbook.name} v{playbook.version}) decides otherwise than the "
            f"one the program was created with, under the same name and version: a play's "
            f"owner, trigger or exit, or a check's parameters, differ (rules {playbook.rules()}, "
            f"recorded {state.playbook_rules}); every check is judged by the loaded one. A changed "
            "playbook takes a new name or version (`playbook =` in inhouse.toml names it)"
        )
    if created and (disbelieved := claim_disbelieved(state, playbook)):
        warnings.append(disbelieved)
    theater = governance_theater(playbook, state, now)
    if theater:
        warnings.append(theater)
    if state.tampered is not None:
        problem, seq = state.tampered
        warnings.insert(
            0,
            f"TAMPERED: {problem}; nothing more can be recorded here"
            if problem.startswith(CUT)  # the log holds less than this machine saw
            else f"TAMPERED: the event log does not verify at event {seq} ({problem}); "
            "everything shown is as of the event before it, and nothing more can be recorded",
        )
    warnings.extend(state.shared_machines())
    warnings.extend(marked_keys(state))  # exit rule 36: whose key signs nothing of theirs now
    for play in playbook.plays:
        start = state.held_back.get(play.id)
        if start is not None and (left := start.unwaived(state.waivers)):
            warnings.append(held_back_warning(playbook, start, left))
    warnings.extend(
        held_back_warning(playbook, held, left) for held, left in state.unwaived_reach()
    )
    if state.latest_at is not None and state.latest_at > now + CLOCK_SKEW:
        warnings.append(
            f"the log holds an event dated {state.latest_at:%Y-%m-%d %H:%M} UTC, after this "
            f"machine's clock ({now:%Y-%m-%d %H:%M}): an event's time is its writer's clock, "
            "and guarded actions (a play's start, widening access) are judged no earlier than "
            "that, so a waiver may have run out by then; check the clocks"
        )
    warnings.extend(state.unapproved)
    warnings.extend(state.unmet_exits)
    warnings.extend(state.unnamed_exits)
    warnings.extend(state.kept_exits)
    warnings.extend(state.replayed)
    warnings.extend(state.malformed)
    warnings.extend(why for _, why in state.unauthorized)
    warnings.extend(state.unsigned_waivers())
    people = [p for p in state.people.values() if not p.service]
    if state.sign_in is None and len(people) > 1 and not state.demo:
        warnings.append(
            "without your organisation's sign-in inhouse tells nobody apart, so no check that "
            "needs someone else passes: a lead sets one up with `inhouse sign-in setup` "
            "(docs/concepts.md, 'The organisation's sign-in')"
        )
    if state.sign_in is not None:
        from inhouse.identity.signin import is_local_issuer

        if is_local_issuer(state.sign_in.issuer):
            warnings.append(
                f"the sign-in's issuer, {state.sign_in.issuer}, is on a loopback address: a "
                "provider on someone's own machine vouches for whoever runs it"
                + ("" if state.sign_in_vouches else ", so outside a demo it vouches for nobody")
            )
        waiting = sorted(
            name
            for name, person in state.people.items()
            if not person.service
            and not state.vouched(name)
            and any(k.revoked_at is None for k in state.keys_of(name))
        )
        if waiting:
            warnings.append(_not_signed_in(state.sign_in.issuer, waiting, log_file=state.log_file))
        warnings.extend(state.unbound)
        if later := _pinned_later(state.sign_in):
            warnings.append(
                f"signing keys pinned after the sign-in was set up: {later}. Any sign-in "
                "verified by one rests on it; this log cannot tell a key the issuer rotated in "
                "from one a lead made: `inhouse sign-in audit` compares them with what the "
                "issuer publishes and with what each person's machine saw it publish"
            )
    hosts = vouched_hosts(state)
    refused: dict[str, list[str]] | None = None  # why each vouch does not count, once asked
    for name, person in sorted(state.people.items()):
        active = [k for k in state.keys_of(name) if k.active]  # a superseded key signs nothing
        unvouched = [k for k in active if person.service and hosts is not None
                     and k.key_id not in hosts]  # fmt: skip
        if unvouched:
            refused = refused_vouches(state) if refused is None else refused
            listed = ", ".join(f"{k.key_id} (enrolled by {k.invited_by or 'nobody'})"
                               for k in unvouched)  # fmt: skip
            warnings.append(
                f"nobody but the lead who enrolled it has vouched for the host of the {name} "
                f"service's key {listed}: what it measures does not count until someone else "
                f"who uses the {name} runs `inhouse gateway vouch` on their own machine"
                + (
                    ", once a lead has set up the organisation's sign-in"
                    if state.sign_in is None
                    else ""
                )
                + "".join(f"; {why}" for k in unvouched for why in refused.get(k.key_id, ()))
            )
        if person.service and len(active) > 1:
            listed = "; ".join(
                f"{k.key_id} from {k.machine} (enrolled by {k.invited_by or 'nobody'} at event "
                f"{k.seq})"
                for k in sorted(active, key=lambda k: k.seq)
            )
            warnings.append(
                f"the {name} service signs with {len(active)} keys, and each one's measurements "
                f"count: {listed}. One on a host that is not the {name}'s own (a replica's) "
                "measures for whoever holds it: a lead revokes it (`inhouse person revoke-key`)"
            )
        replaced = [
            (old, new)
            for new in active
            for old in state.keys_of(name)
            if person.service
            and old.revoked_seq is not None
            and old.seq < new.seq
            and old.revoked_by is not None
            and old.revoked_by == new.invited_by
        ]
        for old, new in replaced[-1:]:
            warnings.append(
                f"the {name} service's key was replaced by {new.invited_by} alone: they revoked "
                f"{old.key_id} (from {old.machine or 'no machine'}) at event {old.revoked_seq} and "
                f"enrolled {new.key_id} from {new.machine or 'no machine'} at event {new.seq}; "
                f"its measurements count from there. Where that is not the {name}'s own host "
                "(a machine of theirs), they measure what that person could make up"
            )
    if state.demo:
        warnings.append(DEMO)
    facts = state.live_facts(now)
    overdue = overdue_since(build_context(state, now))
    if overdue is not None:
        warnings.append(
            f"a review is overdue since {overdue}: hold it (`inhouse review hold`; "
            "`inhouse review status` shows the cadence)"
        )
    expired = [f for f in state.facts if f.expired(now)]
    stop = state.stopped
    stop_view: StopView | None = None
    if stop is not None:
        unproven = stop_counted(state, now)
        if unproven is not None:
            warnings.append(unproven)
        evidence = [f for f in state.facts if f.id in stop.evidence]
        stop_view = {
            "reason": stop.reason,
            "by": stop.by,
            "at": _time(stop.at),
            "comment": stop.comment,
            "evidence": [
                {"fact": f.id, "kind": f.kind, "label": f.label, "payload": f.payload}
                for f in evidence
            ],
            "success": stop.reason == "not-worth-it" and unproven is None,
            "summary": (
                "stopped: not worth it. Play 1 did its job: it killed a weak idea cheaply, "
                "before anyone scaled it. This is a successful outcome of the playbook."
                if unproven is None
                else f"stopped: {unproven}"
            ),
        }
    plays = [_play_view(playbook, play, state, now, here) for play in playbook.plays]
    for view in plays:
        for row in (*view["trigger"], *(view["exit"] or [])):
            if row["outcome"] == "inconclusive":
                warnings.append(
                    f"play {view['number']}: {row['check']} is inconclusive and needs a person: "
                    f"{row['reason']}"
                )
    return {
        "schema": SCHEMA_VERSION,
        "program": {
            "name": state.name,
            "folder": folder,
            "lead": state.lead,
            "playbook": {"name": state.playbook, "version": state.playbook_version},
            "state": "stopped" if stop else "running",
            "stopped": stop_view,
            "created_at": _time(state.created_at),
            "demo": state.demo,
            "id": state.program_id,
        },
        "now": _time(now),
        "current_play": _current(playbook, state),
        "plays": plays,
        "people": [
            {
                "name": p.name,
                "email": p.email,
                "team": p.team,
                "roles": sorted(p.roles),
                "service": p.service,
                "enrolled": any(k.revoked_at is None for k in state.keys_of(p.name)),
                "keys": [
                    {
                        "key_id": k.key_id,
                        "machine": k.machine,
                        "enrolled_at": _time(k.enrolled_at),
                        "invited_by": k.invited_by,
                        "revoked_at": _time(k.revoked_at),
                    }
                    for k in state.keys_of(p.name)
                ],
            }
            for p in state.people.values()
        ],
        "facts": {"live": len(facts), "expired": [f.id for f in expired]},
        "waivers": [_waiver(w, now) for w in state.waivers],
        "refusals": [
            {
                "event": r.seq,
                "at": _time(r.at),
                "actor": r.actor,
                "action": r.action,
                "guards": list(r.guards),
                "message": r.message,
            }
            for r in state.refusals
        ],
        "warnings": warnings,
        "tampered": None
        if state.tampered is None
        else {
            "seq": state.tampered[1],
            "cut": state.tampered[0].startswith(CUT),
            "problem": state.tampered[0],
        },
        "events": state.head_seq,
    }
