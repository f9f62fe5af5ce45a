"""Waivers and the reach guards: the rollout lead's recorded overrides, and the check every
action that widens access goes through.

A refusal is recorded (the log shows who tried what) and raised as :class:`AntiPattern`, naming
the missing evidence and the guard a waiver would cover; wording lives in :mod:`guards`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from inhouse.errors import AntiPattern, InvalidInput, NotAllowed
from inhouse.plaintext import check_plain
from inhouse.program.checks import EXIT_RULES
from inhouse.program.core import ProgramCore
from inhouse.program.events import EventKind
from inhouse.program.guards import (
    WAIVER_REASONS,
    Blocker,
    Guard,
    reach_blockers,
    reach_of,
    refusal_message,
)
from inhouse.program.playbook import Reach, Role
from inhouse.program.state import (
    NO_SIGN_IN_SHORT,
    WAIVER_LONGEST,
    WAIVER_WINDOW,
    ProgramState,
    Waiver,
    waiver_share,
)

__all__ = ["WaiversMixin"]


class WaiversMixin(ProgramCore):
    def grant_waiver(
        self,
        actor: str | None,
        guard: str,
        *,
        reason: str,
        note: str,
        expires: datetime,
        play: str | int | None = None,
    ) -> Waiver:
        check_plain(note, what="the note")
        state, who = self._begin(actor)
        if Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(f"only a rollout lead can grant a waiver; {who.name} is not one")
        if state.sign_in is not None and not state.signed_in_as(self._acting_key(state), who.name):
            # a decision in its grantor's name, as a start or a handoff decision is: else a lead
            # waives a guard on her own play as a co-lead of hers that nobody vouched for
            raise NotAllowed(
                f"{who.name} grants a waiver with a key that has not signed in with "
                f"{state.sign_in.issuer}: {self._sign_in_here()} first (a waiver is on the "
                "record in its grantor's name)"
            )
        try:
            guard_name = Guard(guard)
        except ValueError:
            raise InvalidInput(
                f"no guard named {guard!r}; waivable guards: {', '.join(g.value for g in Guard)}"
            ) from None
        if reason not in WAIVER_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(WAIVER_REASONS)}, not {reason!r}")
        if not note.strip():
            raise InvalidInput("a waiver needs a note saying why, on the record")
        now = self.clock()
        if expires.tzinfo is None:
            raise InvalidInput("the expiry needs a timezone")
        if expires <= now:
            raise InvalidInput(f"the expiry {expires:%Y-%m-%d %H:%M} is already past")
        if expires > now + WAIVER_LONGEST:
            raise InvalidInput(
                f"the expiry {expires:%Y-%m-%d %H:%M} is too far: a waiver lasts at most "
                f"{WAIVER_LONGEST.days} days (until {now + WAIVER_LONGEST:%Y-%m-%d %H:%M} UTC); "
                "grant another on the record when it lapses if the guard still needs waiving"
            )
        play_id = self.playbook.play(play).id if play is not None else None
        nobody = state.nobody_grants(self._acting_key(state), who.name)
        share = waiver_share(
            state.waivers,
            who.name,
            guard_name.value,
            play_id,
            now,
            state.nobodys_waiver,
            nobody=nobody,
        )
        if expires > now + share:
            # renewed back to back by one lead, a guard is off for good on one person's word
            scope = f"play {self.playbook.number(play_id)}" if play_id else "the program"
            left = (
                f"this one may run until {now + share:%Y-%m-%d %H:%M} UTC at most"
                if share
                else "none is left to grant now"
            )
            own = waiver_share(state.waivers, who.name, guard_name.value, play_id, now)
            share_rule = (
                f"what one person may waive a guard for ({WAIVER_LONGEST.days} days in any "
                f"{WAIVER_WINDOW.days})"
            )
            if nobody and expires <= now + own:
                # no sign-in tells this lead from the one whose waivers ran before: any lead's
                # waivers are theirs (a co-lead she enrolled herself would renew hers)
                raise NotAllowed(
                    f"the waivers of {guard_name.value} for {scope} leave too little of "
                    f"{share_rule}, and {who.name}'s are not told apart from another "
                    f"lead's: {NO_SIGN_IN_SHORT} or vouches for nobody, so every lead's waivers "
                    f"count as one person's: {left}. A rollout lead sets up the organisation's "
                    f"sign-in (`inhouse sign-in setup`) and another lead, signed in, renews it "
                    "in their own name, or the evidence the guard asks for is recorded"
                )
            if expires <= now + own and (
                unvouched := _unvouched(state, who.name, guard_name.value, play_id, now)
            ):
                # her own waivers leave room: another's, nobody's word, spent the share
                raise NotAllowed(
                    f"{who.name}'s own waivers of {guard_name.value} for {scope} leave room, "
                    f"but {unvouched}: nobody vouched whose word such a waiver is, and it counts "
                    f"toward every lead's share of {share_rule}: {left}. Once the grantor "
                    "named signs in with the key that granted it (`inhouse sign-in login` on "
                    "their machine), it is theirs alone; else the evidence the guard asks for "
                    "is recorded"
                )
            # with no sign-in that tells leads apart, another lead's renewal is hers too
            renews = (
                "another rollout lead renews it on the record in their own name"
                if not nobody
                else f"another rollout lead renews it on the record in their own name once "
                f"the organisation's sign-in tells them apart ({NO_SIGN_IN_SHORT} or vouches "
                "for nobody: a rollout lead runs `inhouse sign-in setup`, and each lead signs "
                "in)"
            )
            raise NotAllowed(
                f"{who.name}'s own waivers of {guard_name.value} for {scope} leave too little "
                f"of {share_rule}: {left}. Past that, {renews}, or the evidence the guard asks "
                "for is recorded"
            )
        event = self._append(
            EventKind.WAIVER_GRANTED,
            who.name,
            {
                "guard": guard_name.value,
                "play": play_id,
                "reason": reason,
                "note": note.strip(),
                "expires": expires.astimezone(UTC).isoformat(),
                # the rules this inhouse judges by: rule 18 dates the waiver's life by what
                # two others write after it, in a program running since before the rule too
                "rules": EXIT_RULES,
            },
        )
        return next(w for w in self.state().waivers if w.seq == event.seq)

    def check_reach(
        self, actor: str | None, reach: Reach, *, action: str, person: str | None = None
    ) -> list[Waiver]:
        """The guard later packages call before widening access (issuing keys, adding pilot
        members, users beyond the pilot). Returns the waivers it relied on; raises
        :class:`AntiPattern` naming the missing evidence otherwise."""
        state, who = self._begin(actor)
        blockers = reach_blockers(self.playbook, reach, state, self._judged_at(state, who.name))
        return self._pass_guards(state, who.name, blockers, action=action)

    def reach_of(self, person: str) -> Reach:
        """How far giving ``person`` access reaches (:func:`~inhouse.program.guards.reach_of`)."""
        state = self.state()
        self._person(state, person)  # an unknown name is refused, naming the roster
        return reach_of(self.playbook, state, person)

    def _pass_guards(
        self, state: ProgramState, actor: str, blockers: list[Blocker], *, action: str
    ) -> list[Waiver]:
        now = self._judged_at(state, actor)
        used: list[Waiver] = []
        open_blockers: list[Blocker] = []
        for blocker in blockers:
            waiver = next(
                (w for w in state.waivers if w.covers(blocker.guard, blocker.play, now)), None
            )
            if waiver is None:
                open_blockers.append(blocker)
            elif waiver not in used:
                used.append(waiver)
        if not open_blockers:
            return used
        missing = [item for blocker in open_blockers for item in blocker.missing]
        message = refusal_message(action, open_blockers)
        if now > self.clock():  # judged later than this clock says, as every fold will
            own = state.latest_at_by.get(actor)
            why = (
                f"an earlier event of {actor}'s is dated after this machine's clock, and an "
                "action is judged no earlier than its writer's latest event"
                if own is not None and own >= now
                else "two other signed-in people wrote later than this machine's clock, and an "
                "action is judged no earlier than ten minutes before what they wrote"
            )
            message += f"\n(judged at {now:%Y-%m-%d %H:%M} UTC, not now: {why}; check the clocks)"
        first = open_blockers[0]
        self._append(
            EventKind.ACTION_REFUSED,
            actor,
            {
                "action": action,
                "guards": list(dict.fromkeys(b.guard.value for b in open_blockers)),
                "message": message,
            },
        )
        raise AntiPattern(message, guard=first.guard.value, play=first.play, missing=missing)


def _unvouched(
    state: ProgramState, grantor: str, guard: str, play: str | None, now: datetime
) -> str:
    """In words, the waivers of ``guard`` (for ``play``, or the whole program) by leads other
    than ``grantor``, within the window before ``now``, that are nobody's word
    (:meth:`~inhouse.program.state.ProgramState.nobodys_waiver`: their key never signed in as
    their grantor with a sign-in that vouches for anyone), so they count toward every lead's
    share; "" where none is."""
    found = [
        w
        for w in state.waivers
        if w.guard == guard
        and (w.play is None or play is None or w.play == play)
        and w.granted_by != grantor
        and w.expires > now - WAIVER_WINDOW
        and state.nobodys_waiver(w)
    ]
    if not found:
        return ""

    def said(w: Waiver) -> str:
        record = state.keys.get(w.key or "")
        gone = " (that key is revoked: it never will)" if record and record.revoked_at else ""
        return f"waiver #{w.seq} by {w.granted_by}{gone}"

    return (
        ", ".join(said(w) for w in found)
        + (" was" if len(found) == 1 else " were")
        + " granted with a key that has not signed in as its grantor with a sign-in that "
        "vouches for anyone (before the sign-in was set up, or appended around the API)"
    )
