"""Plays and handoffs: starting a play, offering its artifact, the receiver's decision, and the
honest stop.

Only the play's owner offers its handoff; only the receiver decides it, with their own key (an
acceptance on someone's behalf is refused). An acceptance is bound to a hash of the evidence it
saw.
"""

from __future__ import annotations

from inhouse.errors import AntiPattern, InvalidInput, NotAllowed, Refused
from inhouse.plaintext import check_plain
from inhouse.program.checks import EXIT_RULES, Person
from inhouse.program.consent import Agree, require_yes
from inhouse.program.core import ProgramCore
from inhouse.program.evaluation import (
    CheckedRef,
    cited,
    context_for,
    describe_missing,
    evidence_hash,
    exit_results,
    satisfied,
    saw_the_same,
)
from inhouse.program.events import EventKind
from inhouse.program.facts import Fact
from inhouse.program.guards import held_back_warning, start_blockers
from inhouse.program.playbook import Play, Role
from inhouse.program.playchecks._shared import (
    enrolled_elsewhere,
    hosts_of,
    services_enrolled_by,
    unsigned_apart,
)
from inhouse.program.state import Handoff, ProgramState, sign_in_login, unsigned_offer
from inhouse.terminal import shown

__all__ = ["PlaysMixin"]


def _met(checked: list[CheckedRef], refusal: str) -> str:
    """The evidence hash a handoff is bound to, once every exit check holds; else ``refusal``,
    naming what is missing."""
    if not satisfied(checked):
        raise Refused(refusal, missing=describe_missing(checked))
    return evidence_hash(checked)


def acceptance_lines(
    offer: Handoff,
    receiver: str,
    number: int,
    play: Play,
    checked: list[CheckedRef],
    digest: str,
    comment: str,
) -> list[str]:
    """What an acceptance of ``offer`` signs, a line each, as its receiver reads it before their
    key signs: the artifact, who offered it, each exit check with the facts it rests on (the
    facts the acceptance names), the evidence hash and the rules, and the comment (every
    control character written out)."""
    lines = [
        f"ACCEPT, as {receiver}, the handoff of play {number} ({play.id}: {play.title}), "
        "and the play exits",
        f"the artifact handed on: {shown(play.hands_on or '(the play names none)')}",
        f"offered by {offer.offered_by} at {offer.offered_at:%Y-%m-%d %H:%M} UTC, "
        f"saying: {shown(offer.comment or '(nothing)')}",
    ]
    for item in checked:
        lines.append(
            f"exit: {shown(item.ref.title)}: {item.result.outcome.value}: "
            f"{shown(item.result.reason)}"
        )
        for fact in item.result.evidence:
            lines.append(f"  fact #{fact.id}: {shown(fact.kind)} by {fact.by}, {fact.provenance}")
    lines += [
        f"the facts it names: {', '.join(f'#{i}' for i in cited(checked)) or 'none'}",
        f"its exit evidence hash: {digest}",
        # a number alone ("judged by rules 34") told a newcomer nothing of what it counts
        f"judged by exit rules {EXIT_RULES} (the version of inhouse's checks: an exit keeps "
        'the rules it was judged by; docs/concepts.md, "Plays, handoffs, staleness")',
        f"your comment: {shown(comment) if comment else '(nothing)'}",
    ]
    return lines


class PlaysMixin(ProgramCore):
    def start_play(
        self, actor: str | None, play_ref: str | int, *, owner: str | None = None
    ) -> Play:
        state, who = self._begin(actor)
        play = self.playbook.play(play_ref)
        number = self.playbook.number(play.id)
        if play.id in state.plays:
            raise InvalidInput(f"play {number} ({play.id}) already started")
        previous = self.playbook.previous(play.id)
        handoff = state.handoffs.get(previous.id) if previous else None
        receiver = handoff.to if handoff is not None and handoff.status == "accepted" else None
        if owner is not None and receiver is not None and owner != receiver:
            raise InvalidInput(
                f"play {number}'s owner is {receiver}, who accepted the handoff; not {owner}"
            )
        owner_name = owner or receiver or who.name
        owner_person = self._person(state, owner_name)
        if who.name != owner_name and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"{who.name} cannot start play {number} for {owner_name}: only its owner or a "
                "rollout lead can"
            )
        if state.sign_in is not None and not state.signed_in_as(self._acting_key(state), who.name):
            raise NotAllowed(
                f"{who.name} starts play {number} with a key that has not signed in with "
                f"{state.sign_in.issuer}: {self._sign_in_here()} first (a key joined under an "
                "owner's name is not the owner until it has)"
            )
        # a play that cannot start anyway says so first, the owner's missing role after it: the
        # role alone sent them to get it, only to be refused next for the play before it
        lacking = self._owner_role_problem(play, owner_person)
        if lacking is not None and owner is None and receiver is None:
            # nobody named an owner, so the starter was taken for one: where someone else holds
            # the role (play 5's support owner, who took the queue on), name them before telling
            # the starter to take a role, and a queue, that is theirs
            # only those who can still sign: one whose every key was revoked (who left) starts
            # nothing with their own key, and owning the play could hand nothing on
            holders = [
                name
                for name in _holders(state, play.owner.role, but=owner_name)
                if any(k.revoked_at is None for k in state.keys_of(name))
            ]
            if holders:
                lacking += (
                    f"; or the play goes to who holds the role: {', '.join(holders)} "
                    f"(`inhouse play start {number}` with their own key, or a rollout lead's "
                    f"`inhouse play start {number} --owner {holders[0]}`)"
                )
        try:
            used = self._pass_guards(
                state,
                who.name,
                start_blockers(self.playbook, play, state, self._judged_at(state, who.name)),
                action=f"start play {number} ({play.id})",
            )
        except AntiPattern as refused:
            if lacking is None:
                raise
            raise AntiPattern(
                f"{refused}\nand then: {lacking}",
                guard=refused.guard,
                play=refused.play,
                missing=refused.missing,
            ) from None
        if lacking is not None:
            raise NotAllowed(lacking)
        self._append(
            EventKind.PLAY_STARTED,
            who.name,
            {"play": play.id, "owner": owner_name, "waivers": [w.seq for w in used]},
        )
        return play

    def offer_handoff(
        self, actor: str | None, play_ref: str | int, *, to: str, comment: str = ""
    ) -> str:
        """Offer play's artifact to the next owner. Returns the evidence hash offered."""
        check_plain(comment, what="the comment")
        state, who = self._begin(actor)
        play = self.playbook.play(play_ref)
        number = self.playbook.number(play.id)
        record = state.plays.get(play.id)
        if record is None:
            raise Refused(f"play {number} ({play.id}) has not started; nothing to hand off")
        if who.name != record.owner:
            raise NotAllowed(
                f"only play {number}'s owner ({record.owner}) can offer its handoff, not {who.name}"
            )
        if state.sign_in is not None and not state.signed_in_as(self._acting_key(state), who.name):
            raise NotAllowed(
                f"{who.name} offers play {number}'s handoff with a key that has not signed in "
                f"with {state.sign_in.issuer}: {self._sign_in_here()} first (a key joined under "
                "an owner's name is not the owner until it has)"
            )
        following = self.playbook.next(play.id)
        if following is None or play.ongoing:
            raise Refused(
                f"play {number} ({play.id}) is the last play and ongoing: nothing to hand on"
            )
        start = state.held_back.get(play.id)
        if start is not None and (left := start.unwaived(state.waivers)):
            raise Refused(held_back_warning(self.playbook, start, left))
        if widened := state.unwaived_reach():
            raise Refused(held_back_warning(self.playbook, *widened[0]))
        receiver = self._person(state, to)
        if receiver.service:
            raise NotAllowed(f"{to} is a service: a play is handed to a person, who confirms it")
        rule = following.owner.previous
        if rule == "same" and receiver.name != record.owner:
            raise NotAllowed(
                f"the playbook says play {number + 1} ({following.id}) is owned by the same "
                f"person as play {number}: hand it to {record.owner}"
            )
        if rule == "different" and receiver.name == record.owner:
            role = following.owner.role.value
            others = _holders(state, following.owner.role, but=record.owner)
            who_else = (
                f": {', '.join(others)}"
                if others
                else f" (nobody is yet: `inhouse person role NAME --add {role}`)"
            )
            raise NotAllowed(
                f"the playbook says play {number + 1} ({following.id}) needs a different owner "
                f"than play {number}'s ({record.owner}); hand it to the person who will own it, "
                f"a {role} other than {record.owner}{who_else}"
            )
        if rule == "different":
            self._refuse_same_machine(state, receiver.name, record.owner, number)
        self._owner_role(following, receiver)
        current = state.handoffs.get(play.id)
        checked = exit_results(play, state, self.clock())
        # an offer whose evidence changed since is offered again: the receiver accepts only
        # what the latest offer showed (:meth:`accept_handoff`)
        if current is not None and (
            (current.status == "offered" and saw_the_same(checked, current.offer_hash))
            or (current.status == "accepted" and saw_the_same(checked, current.accepted_hash))
        ):
            raise Refused(
                f"play {number}'s handoff is already {current.status} ({current.to}); "
                "nothing changed since"
            )
        digest = _met(
            checked, f"play {number} ({play.id}) cannot hand off: its exit criteria are not met"
        )
        self._append(
            EventKind.HANDOFF_OFFERED,
            who.name,
            {
                "play": play.id,
                "to": receiver.name,
                "evidence_hash": digest,
                "comment": comment,
                "rules": EXIT_RULES,
            },
        )
        return digest

    def accept_handoff(
        self,
        actor: str | None,
        play_ref: str | int,
        *,
        comment: str = "",
        agree: Agree | None = None,
    ) -> str:
        """Accept play ``play_ref``'s handoff as its receiver, bound to its exit evidence now;
        returns the evidence hash. ``agree`` (the command's question) is shown what the
        acceptance signs (:func:`acceptance_lines`), and nothing is signed unless it answers
        yes; None is the caller's own word (a program)."""
        check_plain(comment, what="the comment")
        state, who, play = self._decision(actor, play_ref)
        number = self.playbook.number(play.id)
        if why := unsigned_offer(state, state.handoffs[play.id]):
            raise NotAllowed(f"play {number}'s handoff cannot be accepted: {why}")
        following = self.playbook.next(play.id)
        if following is not None and following.owner.previous == "different":
            self._refuse_same_machine(state, who.name, state.plays[play.id].owner, number)
        if state.sign_in is not None and not state.signed_in_as(self._acting_key(state), who.name):
            raise NotAllowed(
                f"{who.name} accepts play {number}'s handoff with a key that has not signed in "
                f"with {state.sign_in.issuer}: {self._sign_in_here()} first"
            )
        checked = exit_results(play, state, self.clock())
        digest = _met(
            checked, f"cannot accept play {number}'s handoff: its exit criteria no longer hold"
        )
        offer = state.handoffs[play.id]
        if not saw_the_same(checked, offer.offer_hash):
            # else the owner changes the evidence after the receiver looked at the offer, and
            # the acceptance binds, as the receiver's, evidence they never saw
            raise Refused(
                f"play {number}'s exit evidence changed since {offer.offered_by} offered it "
                f"({offer.offered_at:%Y-%m-%d %H:%M} UTC): what you would accept is not what "
                f"was offered. `inhouse status` shows it now; {offer.offered_by} offers it "
                f"again (`inhouse handoff offer {number} --to {who.name}`) for you to decide",
                missing=[f"an offer of play {number}'s handoff on its current evidence"],
            )
        # the facts the exit was judged on, beside their hash: an earlier rule kept for this
        # exit spares only these (CheckContext.spared), not every fact by its mark; and the
        # rules that judged them: a rule that came before needs no sparing for it. The
        # acceptance names them too, so they are what its receiver signs (or approves, through
        # a dashboard session): the exit event beside it may be the dashboard's host's to
        # write, and an exit spares none of the facts its acceptance left out
        named = cited(checked)
        require_yes(
            agree,
            acceptance_lines(offer, who.name, number, play, checked, digest, comment),
            person=who.name,
            command=f"inhouse handoff accept {number}",
            not_done="not accepted",
            declined=f"accept only an artifact you read and can use (`inhouse handoff reject "
            f"{number} --comment ...` tells {offer.offered_by} what is missing)",
        )
        self._append(
            EventKind.HANDOFF_ACCEPTED,
            who.name,
            {
                "play": play.id,
                "evidence_hash": digest,
                "evidence": named,
                "comment": comment,
                "rules": EXIT_RULES,
            },
        )
        self._append(
            EventKind.PLAY_EXITED,
            who.name,
            {"play": play.id, "evidence_hash": digest, "evidence": named, "rules": EXIT_RULES},
        )
        return digest

    def reject_handoff(self, actor: str | None, play_ref: str | int, *, comment: str) -> None:
        if not comment.strip():
            raise InvalidInput(
                "say why you reject the handoff (--comment): the owner needs to know"
            )
        check_plain(comment, what="the comment")
        _, who, play = self._decision(actor, play_ref)
        self._append(
            EventKind.HANDOFF_REJECTED,
            who.name,
            {"play": play.id, "comment": comment, "rules": EXIT_RULES},
        )

    def _decision(
        self, actor: str | None, play_ref: str | int
    ) -> tuple[ProgramState, Person, Play]:
        state, who = self._begin(actor)
        play = self.playbook.play(play_ref)
        number = self.playbook.number(play.id)
        handoff = state.handoffs.get(play.id)
        if handoff is None or handoff.status != "offered":
            status = "none" if handoff is None else handoff.status
            raise Refused(
                f"play {number} has no handoff awaiting a decision (handoff: {status})"
                + (
                    f": its owner offers it first, once its exit checks pass (`inhouse handoff "
                    f"offer {number} --to {who.name}`)"
                    if handoff is None
                    else ""
                )
            )
        if who.name != handoff.to:
            raise NotAllowed(
                f"only the receiver, {handoff.to}, can accept or reject play {number}'s handoff; "
                f"{who.name} cannot decide for them"
            )
        return state, who, play

    def _refuse_same_machine(
        self, state: ProgramState, receiver: str, owner: str, number: int
    ) -> None:
        """A play that needs a different owner is not handed to the owner's second key: refused
        when every key of the receiver was enrolled from a machine the owner enrolled from."""
        context = context_for(state, self.clock())
        if not context.machines.get(receiver):
            return  # invited, not joined yet: judged when they decide, with the key they joined
        if unsigned := unsigned_apart(context, receiver, {owner}):
            raise NotAllowed(
                f"play {number + 1} needs a different owner than play {number}'s ({owner}), "
                f"and the organisation's sign-in cannot tell them apart yet: {unsigned}. Each "
                f"runs {sign_in_login(state.log_file)} first"
            )
        if not enrolled_elsewhere(context, receiver, {owner}):
            raise NotAllowed(
                f"play {number + 1} needs a different owner than play {number}'s ({owner}), and "
                f"every key of {receiver} was enrolled from a machine {owner} enrolled from: one "
                f"person with two keys. {receiver} joins from their own machine first "
                "(`inhouse join` there), or the next play starts on a waiver a rollout lead "
                "grants on the record"
            )
        # nor is a key made on the host of a service the owner enrolled there first (the
        # gateway's): whoever runs it holds the key files made there, as plays 4 to 6 judge it
        hosts = services_enrolled_by(context, {owner})
        if hosts and not enrolled_elsewhere(context, receiver, {owner}, services=hosts):
            raise NotAllowed(
                f"play {number + 1} needs a different owner than play {number}'s ({owner}), and "
                f"every key of {receiver} was enrolled from {hosts_of(hosts)} after {owner} "
                f"enrolled its key there: whoever runs it holds the key files made there, so it "
                f"is one person with two keys. {receiver} joins from their own machine first "
                "(`inhouse join` there), or the next play starts on a waiver a rollout lead "
                "grants on the record"
            )

    def stop_not_worth_it(self, actor: str | None, *, comment: str = "") -> Fact:
        """End the program because play 1's trial said "not worth it": a success of the
        playbook, recorded with its evidence."""
        check_plain(comment, what="the comment")
        state, who = self._begin(actor)
        first = self.playbook.plays[0]
        owner = state.owners.get(first.id)
        if who.name != owner and Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"only play 1's owner ({owner}) or a rollout lead can stop the program"
            )
        # the verdict that counts: a word typed over a measured trial does not stop a program
        verdict = context_for(state, self.clock()).facts.latest("trial.verdict")
        if verdict is None or verdict.payload["verdict"] != "not-worth-it":
            found = (
                "no trial verdict" if verdict is None else f"verdict {verdict.payload['verdict']}"
            )
            raise Refused(
                f"a not-worth-it stop needs play 1's latest trial verdict to say so ({found})",
                missing=["trial.verdict: not-worth-it"],
            )
        self._append(
            EventKind.PROGRAM_STOPPED,
            who.name,
            {"reason": "not-worth-it", "evidence": [verdict.id], "comment": comment},
        )
        return verdict

    def _owner_role(self, play: Play, person: Person) -> None:
        if (lacking := self._owner_role_problem(play, person)) is not None:
            raise NotAllowed(lacking)

    def _owner_role_problem(self, play: Play, person: Person) -> str | None:
        """Why ``person`` cannot own ``play`` (None: they can)."""
        if play.owner.role not in person.roles:
            number = self.playbook.number(play.id)
            role = play.owner.role.value
            how = f"`inhouse person role {person.name} --add {role}`"
            if role == "support-owner":
                # the role alone owns no queue, and play 5's first check asks for the queue:
                # the command that gives both is the one docs/support.md names
                how = (
                    f"name them the support queue's owner, `inhouse support owner {person.name}`, "
                    "which gives the role; they take it on with `inhouse support owner --accept`"
                )
            return (
                f"play {number} ({play.id}) is owned by a {role}; {person.name} is not one (add "
                f"it: {how})"
            )
        return None


def _holders(state: ProgramState, role: Role, *, but: str) -> list[str]:
    """The people on the roster who hold ``role``, but ``but``, by name (services hold none)."""
    return sorted(
        name
        for name, person in state.people.items()
        if name != but and not person.service and role in person.roles
    )
