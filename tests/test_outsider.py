"""The outsider: one person, alone, trying to get through plays 1 to 4 of a real program.

lena has one laptop, one account at the organisation's identity provider (``u-lena``, at the
stand-in provider on loopback, standing for the organisation's: tests/conftest.py), full control
of her machine, the program folder, its database file and the Python API. She leads the program
and owns its plays, so she may invite anyone, enrol as many keys as she likes from machines she
names herself, grant waivers and write her own playbook. She cannot sign anyone's key but her
own, nor get a token for an account that is not hers.

Each test walks the cheapest path she can find toward one exit, the CLI where a user would
type, the Python API where a forger would script, and asserts the refusal and what it names.
What the sign-in-less version of the walk meets is tests/test_forgery.py's; this one has the
organisation's sign-in, so every "someone else" comes down to an account she does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from inhouse.errors import AntiPattern, NotAllowed, SignInError
from inhouse.gateway.keys import grant_key
from inhouse.identity import SigningKey
from inhouse.identity.signin import nonce_for
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol, lead_env
from tests.test_engine import DIGEST, HERE, LOCK, lock_baseline, measured, prove, reproduce
from tests.test_forgery import _checks
from tests.test_sign_in import _sign_in

pytestmark = pytest.mark.own_sign_in


def _exits(program: Program, number: int) -> dict[str, tuple[str, str]]:
    return {name: (row["outcome"], row["reason"]) for name, row in _checks(
        program.status(), number).items()}  # fmt: skip


def _her_token(lena: Program, idp: StandinIdP, key: SigningKey) -> str:
    """An ID token for lena's one account, ``u-lena``, issued for ``key`` (any key of the
    program's: the nonce binds the token to it). The provider issues it to her: it is hers."""
    claims = idp.claims("u-lena", nonce=nonce_for(lena.state().program_id, key.key_id),
                        email="u-lena@acme.example")  # fmt: skip
    return idp.mint(claims)


def _alias(lena: Program, name: str, team: str) -> Program:
    """A "colleague" lena invents: invited by her, joined with a second key of hers, from a
    machine whose name she makes up (``Program.join(at_machine=...)``). Not signed in."""
    return enrol(lena, name, team=team, machine=f"{name}-laptop", signed_in=False)


def lend_her_account(
    lena: Program,
    idp: StandinIdP,
    aliases: Callable[[Program], Iterable[Program]],
    act: Callable[[Program], object],
) -> Program:
    """lena lends her one account at the identity provider to each of ``aliases`` in turn:
    from a second key of hers she revokes the key that signed in, each alias (made with that
    second key, ``aliases``' argument) signs in with the freed account, does ``act`` and has
    its key revoked; then a third key of hers takes the account back. The program as she
    holds it then, signed in."""
    desktop = SigningKey.generate()
    lena.join(str(lena.invite("lena")), desktop, at_machine="lena-desktop")
    unsigned = lena.using(desktop)
    unsigned.revoke_key(lena.key.key_id)
    for alias in aliases(unsigned):
        alias.bind_sign_in(_her_token(lena, idp, alias.key))
        act(alias)
        unsigned.revoke_key(alias.key.key_id)
    third = SigningKey.generate()
    unsigned.join(str(unsigned.invite("lena")), third, at_machine="lena-desktop")
    back = unsigned.using(third)
    back.bind_sign_in(_her_token(lena, idp, third))
    back.revoke_key(desktop.key_id)
    return back


def _waive(lena: Program, guard: str, play: str | None = None) -> None:
    until = lena.clock() + timedelta(days=30)
    lena.grant_waiver(
        None, guard, play=play, reason="executive-decision", note="I am the program", expires=until
    )


class _Now(Clock):
    """The machine's own clock: the CLI lena types writes at it, and so must her scripts."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def clock() -> Clock:
    return _Now()


@pytest.fixture
def lena(_isolated: Path, clock: Clock, idp: StandinIdP) -> Any:
    """lena's program, created through the CLI, with the organisation's sign-in set up and her
    one account signed in; she owns every play."""
    cli("init", "Acme", "--lead", "lena", "--team", "platform")
    cli("person", "role", "lena", "--add", "play-owner")
    program = Program.open(_isolated, clock=clock)
    program.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
    _sign_in(program, idp, "u-lena")
    yield program
    program.close()


# -- play 1: one person's by design ---------------------------------------------------------------


def test_play_one_exits_on_her_own_trial_and_opens_nothing(lena: Program, idp: StandinIdP) -> None:
    """Play 1 is one technical person proving value on one machine: her trial, measured on her
    machine, exits it, handed on to herself (play 2's owner is the same person by design). What
    she could have faked there (a stand-in runtime that answers fast) is caught later: play 2
    asks someone else to rerun the trial. So play 1's exit opens nothing: a gateway key for an
    alias, the cheapest reach, is refused as scaling before proving, naming play 2's exit."""
    prove(lena)
    assert _exits(lena, 1)["value-proven"][0] == "pass"
    out = cli("handoff", "offer", "1", "--to", "lena", env=lead_env(lena))
    assert "offered" in out.lower()
    lena.accept_handoff(None, 1)
    assert lena.status()["plays"][0]["state"] == "exited"
    _alias(lena, "pia", "legal")
    with pytest.raises(AntiPattern, match="scaling before proving") as refused:
        grant_key(lena, None, "pia")
    assert "needs play 2 (baseline) to exit first" in str(refused.value)


# -- play 2: someone else must ask, stand the baseline up and rerun the trial ---------------------


@pytest.fixture
def after_one(lena: Program) -> Program:
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    return lena


def test_an_alias_on_a_made_up_machine_asks_for_nobody(after_one: Program) -> None:
    """Play 2 starts when someone other than the owner asks to get in. lena asks herself (she
    owns the play), then invents pia on a machine named 'pia-laptop' and has pia's key ask.
    pia never signed in, so her request is shown and not counted; the start is refused as a
    calendar-driven advance, naming the missing request and why pia's does not count."""
    lena = after_one
    lena.request_access(reason="I want it")
    pia = _alias(lena, "pia", "legal")
    pia.request_access(reason="legal wants contract summaries")
    reason = _checks(lena.status(), 2, "trigger")["access-requested"]["reason"]
    assert "by 0 people other than the owners and leads" in reason
    assert "signed by pia, who has not signed in with" in reason
    out = cli("play", "start", "2", env=lead_env(lena), code=3)
    assert "calendar-driven advance" in out and "someone other than the owner asked" in out


def test_her_one_account_signs_in_one_name(after_one: Program, idp: StandinIdP) -> None:
    """lena signs pia's key in with the only account she has. The provider issues the token
    (the account is hers), but the program refuses the binding: that identity is lena's
    already. Appended around the API, the same binding is set aside, never counted (pia holds
    no lead's role), and the audit reports it."""
    lena = after_one
    pia = _alias(lena, "pia", "legal")
    with pytest.raises(SignInError, match=r"vouched for that identity \(u-lena\) for lena"):
        pia.bind_sign_in(_her_token(lena, idp, pia.key))
    assert "pia" not in lena.state().signed_in
    pia._append(EventKind.PERSON_SIGNED_IN, "pia",
                {"id_token": _her_token(lena, idp, pia.key), "seen": []})  # fmt: skip
    fresh = Program.open(lena.folder, clock=lena.clock)
    try:
        state = fresh.state()
        assert state.tampered is None and "pia" not in state.signed_in
        assert "one identity is one person" in state.unauthorized[0][1]
        assert not verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


@pytest.mark.usefixtures("log_before_team_reading")
def test_her_account_released_to_an_alias_tells_nobody_apart(
    after_one: Program, idp: StandinIdP
) -> None:
    """The release: lena joins a second key of hers (her 'desktop'), revokes the key that
    signed in, and binds her freed account to zed, an alias. The program takes the binding (a
    binding made by mistake is released so, in a log from before rules 6; with them in force
    no release naming zed lets her in: tests/test_signinfollow.py), but zed's request still
    counts for nothing: lena, whose work it judges, is no longer signed in and nobody is told
    apart from her. And lena cannot act as play 2's owner any more without signing in, which
    would take her account back from zed."""
    lena = after_one
    desktop = SigningKey.generate()
    lena.join(str(lena.invite("lena")), desktop, at_machine="lena-desktop")
    unsigned = lena.using(desktop)
    unsigned.revoke_key(lena.key.key_id)
    zed = _alias(unsigned, "zed", "ops")
    zed.bind_sign_in(_her_token(lena, idp, zed.key))
    zed.request_access(reason="ops wants it")
    reason = _checks(unsigned.status(), 2, "trigger")["access-requested"]["reason"]
    assert "not counted: zed: lena, whose work this judges, has not signed in" in reason
    with pytest.raises(NotAllowed, match="has not signed in with"):
        unsigned.start_play(None, 2)


@pytest.mark.usefixtures("log_before_team_reading")
def test_her_account_lent_to_aliases_in_turn_makes_no_demand(
    after_one: Program, idp: StandinIdP
) -> None:
    """The release, three times over, then taken back: from a second key of hers lena revokes
    her signed-in key, binds her freed account to pia, has pia ask for access, revokes pia's
    key (releasing the account again), and so on for dan and eve; then she signs back in with
    it on a third key and revokes the second. Three people "asked", each once signed in, from a
    machine of their own: neither play 2's trigger nor play 4's demand counts any of them."""
    lena = after_one
    back = lend_her_account(
        lena,
        idp,
        lambda unsigned: (_alias(unsigned, name, team) for name, team in
                          (("pia", "legal"), ("dan", "finance"), ("eve", "sales"))),
        lambda alias: alias.request_access(reason="I want in"),
    )  # fmt: skip
    status = back.status()
    access = _checks(status, 2, "trigger")["access-requested"]
    demand = _checks(status, 4, "trigger")["demand-spreading"]
    assert (access["outcome"], demand["outcome"]) == ("fail", "fail")
    assert "by 0 people other than the owners and leads" in access["reason"]
    assert "by 0 distinct people, need 3" in demand["reason"]
    assert "not counted: dan, eve, pia" in demand["reason"]


def test_a_reach_waiver_lets_her_key_through_on_the_record_and_exits_nothing(
    after_one: Program,
) -> None:
    """The override the playbook gives a rollout lead: she waives scaling before proving, on
    the record, and grants pia, an alias, a pilot gateway key (`inhouse keys issue`). It goes
    through, and status lists the waiver with its reason and expiry; no play past 1 exits."""
    lena = after_one
    _alias(lena, "pia", "legal")
    out = cli("keys", "issue", "pia", env=lead_env(lena), code=3)
    assert "scaling before proving" in out and "needs play 2 (baseline) to exit first" in out
    _waive(lena, "scaling-before-proving")
    cli("keys", "issue", "pia", env=lead_env(lena))
    status = lena.status()
    (waiver,) = status["waivers"]
    assert waiver["guard"] == "scaling-before-proving"
    assert waiver["reason"] == "executive-decision"
    assert [p["state"] for p in status["plays"]][:4] == ["exited", *["not-started"] * 3]


def test_play_two_started_on_a_waiver_does_not_exit_on_her_aliases(after_one: Program) -> None:
    """A waiver lets a play start; it passes no check. lena waives the start, locks the
    baseline, and has bob, an alias on 'bob-laptop', verify it and rerun her trial (a stand-in
    runtime would pass anything). bob never signed in (he has no account to sign in with), so
    neither counts. Play 3 wants another owner, so she offers the handoff to omar, another
    alias: refused, as the sign-in cannot tell omar from her."""
    lena = after_one
    enrol(lena, "omar", team="support", roles=["play-owner"], signed_in=False)
    _waive(lena, "calendar-driven-advance", "baseline")
    lena.start_play(None, 2)
    lock_baseline(lena)
    bob = _alias(lena, "bob", "ops")
    measured(bob, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(bob)
    # and her own rerun, on her own machine
    reproduce(lena)
    exits = _exits(lena, 2)
    assert exits["second-person-verified"][0] == "inconclusive"
    assert "signed by bob, who has not signed in" in exits["second-person-verified"][1]
    assert exits["trial-reproduced"][0] != "pass"
    assert "signed by bob, who has not signed in" in exits["trial-reproduced"][1]
    # play 3 wants another owner: not herself, and not omar, whom nobody tells apart from her
    with pytest.raises(NotAllowed, match="needs a different owner than play 2's"):
        lena.offer_handoff(None, 2, to="lena")
    with pytest.raises(NotAllowed, match="omar has not signed in with"):
        lena.offer_handoff(None, 2, to="omar")
    assert lena.status()["plays"][1]["state"] == "running"


def test_envelopes_she_sealed_as_a_colleague_elsewhere_count_for_nobody(
    after_one: Program,
) -> None:
    """The offline colleague: lena makes a key for bob that never touches the log, seals bob's
    enrolment (from 'bob-workstation') and a passing verify of her lock with it, as DSSE
    envelopes, and imports them (`inhouse evidence import`). Both import (the signatures are
    good, the invitation hers to give), but a key that reaches the log only through envelopes
    never signed in, so bob's verify is shown and not counted."""
    from inhouse.identity import ENROLMENT_TYPE, fact_predicate_type, seal
    from inhouse.program.people import parse_invitation
    from tests.test_engine import COLLECTOR

    lena = after_one
    _waive(lena, "calendar-driven-advance", "baseline")
    lena.start_play(None, 2)
    lock_baseline(lena)
    invitation = parse_invitation(str(lena.invite("bob", team="ops")))
    bob_key, program_id = SigningKey.generate(), lena.state().program_id
    enrolment = seal(bob_key, program_id=program_id, predicate_type=ENROLMENT_TYPE,
                     predicate={"name": "bob", "token_hash": invitation.token_hash,
                                "machine": "bob-workstation",
                                "join_proof": invitation.join_proof(bob_key.key_id)})  # fmt: skip
    fact = {"kind": "baseline.verify", "version": 1, "provenance": "measured",
            "collector": COLLECTOR["baseline.verify"],
            "payload": {"lock_hash": LOCK, "passed": True}}  # fmt: skip
    verify = seal(bob_key, program_id=program_id,
                  predicate_type=fact_predicate_type("baseline.verify", 1),
                  predicate={"fact": fact, "at": lena.clock().isoformat(),
                             "machine": "bob-workstation"})  # fmt: skip
    lines = lena.import_evidence([enrolment, verify])
    assert lines[0].endswith(f"enrolled bob (key {bob_key.key_id})")
    assert "baseline.verify by bob" in lines[1]
    second = _exits(lena, 2)["second-person-verified"]
    assert second[0] == "inconclusive"
    assert "signed by bob, who has not signed in" in second[1]


# -- plays 3 and 4: more waivers, and the same missing people ------------------------------------


def test_plays_three_and_four_on_waivers_exit_nothing_and_open_no_pilot(after_one: Program) -> None:
    """lena waives play 2's start and starts it, locks the baseline, names a daily task and
    publishes a workflow on the lock, run by her and by pia, an alias. Play 3 wants an owner
    other than play 2's, but the waivers let her start it herself (shown beside the start).
    pia's run is shown, not counted, so the workflow is run by nobody but its author, and play
    4 wants yet another owner, so she cannot take its handoff herself. Three aliases
    ask for access, yet the pilot's gateway keys are refused as scaling before proving, naming
    play 2's exit, the first that does not hold."""
    lena = after_one
    for guard in ("calendar-driven-advance", "botched-handoff"):
        _waive(lena, guard, "baseline")
        _waive(lena, guard, "workflow")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(lena, "task.named", task="ticket-summary", frequency="daily")
    lena.start_play(None, 3)  # on the waivers: she owns play 3 too, shown as waived
    waived = lena.status()["plays"][2]["started_under_waivers"]
    assert waived, "play 3 started by its play 2 owner under no waiver"
    measured(lena, "workflow.spec", workflow="ticket-summary", content_hash="v1",
             author="lena", model="m0", model_digest=DIGEST)  # fmt: skip
    run = {"workflow": "ticket-summary", "content_hash": "v1", "lock_hash": LOCK,
           "passed": True, "pass_rate": 1.0, "cases": 3, **HERE}  # fmt: skip
    measured(lena, "workflow.run", **run)
    aliases = [_alias(lena, name, team) for name, team in
               (("pia", "legal"), ("dan", "finance"), ("eve", "sales"))]  # fmt: skip
    measured(aliases[0], "workflow.run", **run)
    by_other = _exits(lena, 3)["workflow-run-by-other"]
    assert by_other[0] != "pass" and "pia, who has not signed in" in by_other[1]
    for alias in aliases:
        alias.request_access(reason="I want in")
    demand = _checks(lena.status(), 4, "trigger")["demand-spreading"]
    assert demand["outcome"] != "pass"
    with pytest.raises(AntiPattern, match="scaling before proving") as refused:
        grant_key(lena, None, "pia")
    assert "needs play 2 (baseline) to exit first" in str(refused.value)
    assert [p["state"] for p in lena.status()["plays"]][:4] == [
        "exited", "running", "running", "not-started"]  # fmt: skip
    with pytest.raises(NotAllowed, match="needs a different owner than play 3's"):
        lena.offer_handoff(None, 3, to="lena")


# -- a playbook of her own ------------------------------------------------------------------------


def test_a_playbook_of_her_own_without_reach_gates_opens_no_pilot(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """lena copies the shipped playbook under a name of her own and deletes its `reach:`
    section (which plays must exit before the pilot and beyond get access). She creates her
    program on it and grants pia, an alias, a pilot gateway key with no play started: the
    program should refuse it as scaling before proving, naming the shipped gate her playbook
    dropped, unless a waiver says so on the record."""
    shipped = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml")
    text = shipped.read_text(encoding="utf-8")
    gates = "reach:\n  pilot: workflow\n  beyond-pilot: support\n"
    assert gates in text
    own = text.replace("name: local-model-program", "name: acme", 1).replace(gates, "")
    (_isolated / "acme.yaml").write_text(own, encoding="utf-8")
    lena = Program.init(
        _isolated, "Acme", "lena", clock=clock, playbook=str(_isolated / "acme.yaml")
    )
    try:
        lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
        _sign_in(lena, idp, "u-lena")
        _alias(lena, "pia", "legal")
        with pytest.raises(AntiPattern, match="scaling before proving") as refused:
            grant_key(lena, None, "pia")
        # the refusal names the gate her playbook dropped, not only the plays hers would ask
        assert "playbook of the program's own" in str(refused.value)
        assert "the pilot reach gate at workflow" in str(refused.value)
        # on the record it goes through, and stays shown beside the guard it waives
        _waive(lena, "scaling-before-proving")
        grant_key(lena, None, "pia")
        assert not lena.state().unwaived_reach()
    finally:
        lena.close()


def _own_playbook(folder: Path, edit: Any) -> str:
    """The shipped playbook under a name of her own (acme), edited by ``edit``."""
    shipped = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml")
    text = shipped.read_text(encoding="utf-8").replace("name: local-model-program", "name: acme", 1)
    edited = edit(text)
    assert edited != text
    (folder / "acme.yaml").write_text(edited, encoding="utf-8")
    return str(folder / "acme.yaml")


def test_a_playbook_of_her_own_easing_play_one_still_needs_a_waiver_to_open_the_pilot(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """lena keeps the reach gates but swaps play 1's exit for one that holds already (the
    hypothesis she recorded), and play 2's and 3's for the same: every gate her playbook asks is
    met by what she typed. The pilot still waits for the rules inhouse ships, or a waiver."""

    def ease(text: str) -> str:
        book = yaml.safe_load(text)
        typed = {"check": "hypothesis-recorded", "title": "what she typed"}
        for play in book["plays"][:3]:
            play["exit"] = [typed]
        return str(yaml.safe_dump(book, sort_keys=False))

    path = _own_playbook(_isolated, ease)
    lena = Program.init(_isolated, "Acme", "lena", clock=clock, playbook=path)
    try:
        from inhouse.program.guards import reach_blockers
        from inhouse.program.playbook import Reach

        blockers = reach_blockers(lena.playbook, Reach.PILOT, lena.state(), clock())
        own = [b for b in blockers if "playbook of the program's own" in b.message]
        assert own, [b.message for b in blockers]
        missing = " ".join(own[0].missing)
        assert "value-proven (play 1's exit)" in missing
        assert "second-person-verified (play 2's exit)" in missing
        assert "workflow-run-by-other (play 3's exit)" in missing
        # play 6's rules are not the pilot's: nothing past play 3 is named
        assert "play 4" not in missing and "play 5" not in missing
    finally:
        lena.close()


def test_a_playbook_of_her_own_that_only_adds_rules_is_gated_as_the_shipped_one(
    _isolated: Path, clock: Clock
) -> None:
    """A stricter playbook of the organisation's own (a check added to play 1's exit, the
    shipped rules kept) asks no waiver: only what it drops of the shipped rules does."""
    from inhouse.program.guards import reach_blockers
    from inhouse.program.playbook import Reach, dropped_before

    def stricter(text: str) -> str:
        return text.replace(
            "      - check: value-proven\n        title: a trial on",
            "      - check: hypothesis-recorded\n        title: also typed\n"
            "      - check: value-proven\n        title: a trial on",
            1,
        )

    path = _own_playbook(_isolated, stricter)
    program = Program.init(_isolated, "Acme", "lena", clock=clock, playbook=path)
    try:
        assert dropped_before(program.playbook, Reach.PILOT) == []
        assert dropped_before(program.playbook, Reach.BEYOND_PILOT) == []
        blockers = reach_blockers(program.playbook, Reach.PILOT, program.state(), clock())
        assert blockers and not [b for b in blockers if "of the program's own" in b.message]
    finally:
        program.close()
