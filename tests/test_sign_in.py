"""The organisation's sign-in: a person counts as someone once the identity provider vouched
for them, whatever machine they say they are on.

Each test runs the real client code (discovery, the loopback PKCE flow, ID token checks) over
real HTTP against a stand-in identity provider on loopback (:mod:`inhouse.testing.standin_idp`;
no real provider can run here). The forgeries are the judged lead's, alone: an alias joined
"from another machine" with no account at the provider, a token copied from the log, a token
the lead signed with a key of their own, bindings and set-ups appended around the API.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput, NotAllowed, SignInError
from inhouse.identity.signin import nonce_for
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import exit_results
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP, browse
from tests.conftest import Clock
from tests.locks import HERE, lock_payload
from tests.people import enrol, enrol_cli, lead_env
from tests.test_engine import prove

#: each test sets up the stand-in provider its own way, when it chooses
pytestmark = pytest.mark.own_sign_in

LOCK = lock_payload("lena")
VERIFY = {"lock_hash": LOCK["lock_hash"], "passed": True, "models": LOCK["models"], **HERE}


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    with StandinIdP(path="/realms/acme", clock=clock) as provider:
        yield provider


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """The lead, owner of the baseline play, with the baseline locked."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    yield lena
    lena.close()


def _sign_in(program: Program, idp: StandinIdP, subject: str) -> None:
    idp.login(subject, email=f"{subject}@acme.example")
    program.sign_in(open_browser=browse, say=lambda _: None, timeout=30)


def signed_in_team(
    lena: Program, idp: StandinIdP, teams: dict[str, str], *, later: tuple[str, ...] = ()
) -> dict[str, Program]:
    """The sign-in at ``idp`` set up by lena (a play owner), who signs in; each of ``teams``
    enrolled from a laptop of their own (omar a play owner) and signed in, but for ``later``."""
    lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
    _sign_in(lena, idp, "u-lena")
    people = {
        name: enrol(lena, name, team=team, roles=["play-owner"] if name == "omar" else ())
        for name, team in teams.items()
    }
    for name, person in people.items():
        if name not in later:
            _sign_in(person, idp, f"u-{name}")
    return people


def _verify(program: Program) -> None:
    program.record_fact(None, "baseline.verify", VERIFY, provenance=Provenance.MEASURED,
                        collector="inhouse baseline verify")  # fmt: skip


def _judge(program: Program, play_id: str, check: str) -> Result:
    play = next(p for p in program.playbook.plays if p.id == play_id)
    for item in exit_results(play, program.state(), program.clock()):
        if item.ref.check == check:
            return item.result
    raise AssertionError(f"{play_id} has no check {check}")


def test_a_verify_counts_once_its_signer_signed_in(lena: Program, idp: StandinIdP) -> None:
    """The honest path: bob verifies on his laptop; without a sign-in it does not count (nobody
    is told apart), with one set up it counts once the provider vouched for him, and a full
    fold elsewhere agrees."""
    bob = enrol(lena, "bob", team="ops")
    _verify(bob)
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is Outcome.FAIL
    assert "sign-in is not set up, so inhouse tells nobody apart" in result.reason, result.reason
    lena.set_up_sign_in(idp.issuer, "inhouse")
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is not Outcome.PASS
    warnings = lena.status()["warnings"]
    waiting = next(w for w in warnings if w.startswith("not signed in with"))
    assert ": bob, lena;" in waiting, waiting
    assert any("is on a loopback address" in w for w in warnings), warnings
    _sign_in(bob, idp, "u-bob")
    bound = lena.state().signed_in["bob"]
    assert (bound.subject, bound.email) == ("u-bob", "u-bob@acme.example")
    # the lock is lena's, and she has not signed in either: nothing to verify yet
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    _sign_in(lena, idp, "u-lena")
    assert _judge(lena, "baseline", "second-person-verified").outcome is Outcome.PASS
    again = Program.open(lena.folder, clock=lena.clock)
    assert again.state().signed_in["bob"].subject == "u-bob"
    assert again.state().tampered is None
    assert verify_chain(again.store, lead_key=again.settings.lead_key).ok
    again.close()


def test_an_alias_from_another_machine_is_nobody_without_an_account(
    lena: Program, idp: StandinIdP
) -> None:
    """The lead joins "omar" from a made-up machine: before a sign-in that was a second person;
    with one, omar's verify counts only once the provider vouches for omar, which it does only
    for an account of omar's own. The lead's own account binds the lead, once."""
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    omar = enrol(lena, "omar", team="ops", machine="omar-desktop")
    _verify(omar)
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is not Outcome.PASS
    # the lead signs omar in with the only account they hold: their own
    with pytest.raises(SignInError, match="for lena already: one identity is one person"):
        _sign_in(omar, idp, "u-lena")
    assert "omar" not in lena.state().signed_in


def test_a_token_copied_from_the_log_binds_no_other_key(lena: Program, idp: StandinIdP) -> None:
    """bob's ID token is in the log for anyone to read; presented by the lead's alias (through
    the API, or appended around it) it names bob's key in its nonce, not the alias's."""
    lena.set_up_sign_in(idp.issuer, "inhouse")
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    token = next(e for e in lena.events() if e.kind == EventKind.PERSON_SIGNED_IN)
    copied = str(token.payload["id_token"])
    alias = enrol(lena, "ali", team="ops", machine="ali-laptop")
    with pytest.raises(SignInError, match="nonce"):
        alias.bind_sign_in(copied)
    alias._append(EventKind.PERSON_SIGNED_IN, "ali", {"id_token": copied})
    fresh = Program.open(lena.folder, clock=lena.clock)
    # ali is a member: the fold sets his forgery aside (tests/test_event_authority.py)
    (_, aside), *_ = fresh.state().unauthorized
    assert fresh.state().tampered is None and "nonce" in aside, aside
    assert "ali" not in fresh.state().signed_in
    fresh.close()


def test_a_token_the_lead_signed_with_a_key_of_their_own_binds_nobody(
    lena: Program, idp: StandinIdP
) -> None:
    lena.set_up_sign_in(idp.issuer, "inhouse")
    alias = enrol(lena, "ali", team="ops", machine="ali-laptop")
    claims = idp.claims("u-ali", nonce=nonce_for(lena.state().program_id, alias.key.key_id))
    forged = idp.foreign_token(claims)
    with pytest.raises(SignInError, match="kid"):
        alias.bind_sign_in(forged)
    # the provider's own key, but a token asked for no key (no nonce): refused too
    with pytest.raises(SignInError, match="nonce"):
        alias.bind_sign_in(idp.mint(idp.claims("u-ali")))
    # an honest token for this key, made an hour before the binding: not this sign-in's
    stale = idp.claims("u-ali", nonce=nonce_for(lena.state().program_id, alias.key.key_id))
    stale["iat"] -= 3600
    with pytest.raises(SignInError, match="iat"):
        alias.bind_sign_in(idp.mint(stale))
    assert "ali" not in lena.state().signed_in


def test_only_a_lead_sets_the_sign_in_up(lena: Program, idp: StandinIdP) -> None:
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"])
    with pytest.raises(NotAllowed, match="only a rollout lead"):
        bob.set_up_sign_in(idp.issuer, "inhouse")
    lena.set_up_sign_in(idp.issuer, "inhouse")
    # around the API: a non-lead's set-up is set aside, never counted (a lead's second issuer
    # once someone signed in stops the fold: tests/test_sign_in_forgery.py)
    own = {"issuer": idp.issuer, "client_id": "inhouse", "keys": idp.jwks()["keys"]}
    bob._append(EventKind.SIGN_IN_SET_UP, "bob", own)
    state = Program.open(lena.folder, clock=lena.clock).state()
    assert state.tampered is None and "only a lead sets up" in state.unauthorized[0][1]
    assert state.sign_in is not None and state.sign_in.client_id == "inhouse"


def test_the_issuer_must_be_https_unless_on_loopback(lena: Program) -> None:
    with pytest.raises(SignInError, match="https"):
        lena.set_up_sign_in("http://idp.example.com/realms/acme", "inhouse")
    assert lena.state().sign_in is None


def test_a_service_and_a_dashboard_session_do_not_sign_in(lena: Program, idp: StandinIdP) -> None:
    from tests.test_delegation_machine import _session

    lena.set_up_sign_in(idp.issuer, "inhouse")
    with pytest.raises(NotAllowed, match="dashboard session"):
        _sign_in(_session(lena), idp, "u-lena")
    gateway = lena.as_service("gateway")
    with pytest.raises(NotAllowed, match="service"):
        _sign_in(gateway, idp, "u-gw")


def test_a_pilot_member_counts_once_signed_in(_isolated: Path, clock: Clock) -> None:
    """Play 4's members are people the lead names: with a sign-in, one the provider has not
    vouched for is set aside, with the reason, until they sign in."""
    from inhouse.pilot.roster import add_member
    from inhouse.program.evaluation import context_for
    from inhouse.program.playchecks.pilot import set_aside
    from tests.pilot.world import make_world

    world = make_world(_isolated, clock)
    world.waive()
    with StandinIdP(clock=clock) as idp:
        world.lead.set_up_sign_in(idp.issuer, "inhouse")
        _sign_in(world.lead, idp, "u-lena")  # else her adding bea counts for nothing
        bea = world.enrol("bea", "finance")
        add_member(world.lead, "bea", track="support")
        aside = set_aside(context_for(world.lead.state(), world.lead.clock()))
        assert "bea has not signed in with" in aside["bea"], aside
        _sign_in(bea, idp, "u-bea")
        aside = set_aside(context_for(world.lead.state(), world.lead.clock()))
        assert "bea" not in aside, aside


def test_rotated_keys_need_a_lead_to_pin_them(lena: Program, idp: StandinIdP) -> None:
    lena.set_up_sign_in(idp.issuer, "inhouse")
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    idp.rotate(drop_old=True)
    cam = enrol(lena, "cam", team="ops")
    with pytest.raises(SignInError, match="inhouse sign-in keys"):
        _sign_in(cam, idp, "u-cam")
    audit = lena.audit_sign_in()
    assert audit.local and [k.published for k in audit.pinned] == [False]
    assert audit.published_not_pinned == (idp.kid,)
    _, new = lena.refresh_sign_in_keys()
    assert new == 1
    _sign_in(cam, idp, "u-cam")
    # bob's binding, made under the key since dropped, still holds on a full fold
    fresh = Program.open(lena.folder, clock=lena.clock)
    assert set(fresh.state().signed_in) == {"bob", "cam"} and fresh.state().tampered is None
    fresh.close()


def test_a_set_up_is_corrected_until_the_first_person_signs_in(
    lena: Program, idp: StandinIdP, clock: Clock
) -> None:
    """The lead typed the wrong domain, then the organisation moved provider, before anyone
    signed in: each set-up with other values replaces the last whole (its keys, who set it up
    and when), and bob signs in against the provider the last one names."""
    from inhouse.identity.signin import jwk_thumbprint

    kim = enrol(lena, "kim", team="platform", roles=["rollout-lead"])
    bob = enrol(lena, "bob", team="ops")
    typo = lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.exmaple")
    with pytest.raises(SignInError, match=r"only a verified address at acme\.exmaple counts"):
        _sign_in(bob, idp, "u-bob")
    assert lena.state().signed_keys == {}
    fixed = lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
    assert (fixed.domain, fixed.keys) == ("acme.example", typo.keys) and fixed.seq > typo.seq
    clock.advance(hours=1)
    with StandinIdP(path="/realms/acme", clock=clock) as moved:
        found = kim.set_up_sign_in(moved.issuer, "inhouse", domain="acme.example")
        assert (found.issuer, found.domain, found.set_by) == (moved.issuer, "acme.example", "kim")
        assert found.set_at == clock() and found.seq > fixed.seq
        # the old provider's keys are no longer pinned, nor said to be anyone's pin
        assert [key["kid"] for key in found.keys] == [moved.kid]
        thumb = jwk_thumbprint(found.keys[0])
        assert found.pinned_by == ((thumb, "kim", found.seq),)
        _sign_in(bob, moved, "u-bob")
        assert lena.state().signed_in["bob"].subject == "u-bob"
        again = Program.open(lena.folder, clock=lena.clock)
        assert again.state().tampered is None
        assert again.state().sign_in == found and set(again.state().signed_in) == {"bob"}
        assert verify_chain(again.store, lead_key=again.settings.lead_key).ok
        again.close()


def test_the_cli_says_what_a_corrected_set_up_replaced(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse sign-in setup` run again before anyone signed in names what it replaced; bob
    then signs in against the new provider, and after that the setup refuses another."""
    lena = Program.init(_isolated, "Acme", "lena")
    runner = CliRunner()

    def setup(*args: str) -> tuple[int, str]:
        found = runner.invoke(app, ["sign-in", "setup", *args], env=lead_env(lena))
        return found.exit_code, " ".join(found.output.split())

    with StandinIdP() as old, StandinIdP() as new:
        code, said = setup("--issuer", old.issuer, "--client-id", "inhous")
        assert code == 0 and "Replaced" not in said, said
        code, said = setup("--issuer", new.issuer, "--client-id", "inhouse",
                           "--email-domain", "acme.example")  # fmt: skip
        assert code == 0, said
        assert (
            f"Replaced the sign-in lena set up: {old.issuer} (client inhous) -> {new.issuer} "
            "(client inhouse, addresses at acme.example only)."
        ) in said
        code, said = setup("--issuer", new.issuer, "--client-id", "inhouse",
                           "--email-domain", "acme.example")  # fmt: skip
        assert code == 0 and "Replaced" not in said, said  # the same again: nothing replaced
        bob_env = enrol_cli(lena, "bob", tmp_path / "keys", team="ops")
        new.login("u-bob", email="bob@acme.example")
        monkeypatch.setenv("BROWSER", f"{sys.executable} -m inhouse.testing.standin_idp browse %s")
        login = runner.invoke(app, ["sign-in", "login", "--timeout", "60"], env=bob_env)
        assert login.exit_code == 0, login.output
        code, said = setup("--issuer", old.issuer, "--client-id", "inhouse")
        assert code != 0
        assert "1 person has signed in with it (bob first" in said, said
        assert "it can no longer be changed" in said, said
        state = lena.state()
        assert state.sign_in is not None and state.sign_in.issuer == new.issuer
    lena.close()


def test_the_cli_signs_in_through_the_browser(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse sign-in login` opens the browser the environment names (``BROWSER``: here a
    command that follows the provider's redirect back to the loopback listener). The CLI runs
    on the real clock, so the provider does too."""
    lena = Program.init(_isolated, "Acme", "lena")
    runner = CliRunner()
    with StandinIdP() as idp:
        setup = runner.invoke(
            app, ["sign-in", "setup", "--issuer", idp.issuer, "--client-id", "inhouse"],
            env=lead_env(lena),
        )  # fmt: skip
        assert setup.exit_code == 0, setup.output
        bob_env = enrol_cli(lena, "bob", tmp_path / "keys", team="ops")
        idp.login("u-bob", email="bob@acme.example")
        browser = f"{sys.executable} -m inhouse.testing.standin_idp browse %s"
        monkeypatch.setenv("BROWSER", browser)
        login = runner.invoke(app, ["sign-in", "login", "--timeout", "60"], env=bob_env)
        assert login.exit_code == 0, login.output
        assert "Signed in: bob is u-bob (bob@acme.example)" in login.output
        listed = runner.invoke(app, ["sign-in", "list"], env=lead_env(lena))
        assert "u-bob" in listed.output and "not signed in" in listed.output  # lena has not
        me = runner.invoke(app, ["whoami", "--json"], env=bob_env)
        assert json.loads(me.stdout)["signed_in"] == {
            "issuer": idp.issuer, "subject": "u-bob", "email": "bob@acme.example"
        }  # fmt: skip
        lead = runner.invoke(app, ["whoami"], env=lead_env(lena)).output
        assert f"not signed in with {idp.issuer}" in lead
    lena.close()


def test_play_two_is_not_handed_to_an_alias_on_a_machine_of_its_own(
    _isolated: Path, clock: Clock
) -> None:
    """The machine rule refuses a handoff to a key joined on the owner's own laptop; an alias
    joined "from" a desktop of its own passed it. With a sign-in, the receiver must be someone
    the provider vouched for, and the owner too: one account, one person."""
    from tests.test_handoff_machines import _play_two_met

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    with StandinIdP(clock=clock) as idp:
        lena.set_up_sign_in(idp.issuer, "inhouse")
        _sign_in(lena, idp, "u-lena")
        vic = _play_two_met(lena, clock)
        _sign_in(vic, idp, "u-vic")
        bob = enrol(lena, "bob", team="ops", roles=["play-owner"], machine="bob-desktop")
        with pytest.raises(NotAllowed, match="bob has not signed in with"):
            lena.offer_handoff(None, 2, to="bob")
        # bob's "account" is the only one the lead holds: hers, bound to her already
        with pytest.raises(SignInError, match="one identity is one person"):
            _sign_in(bob, idp, "u-lena")
        # a colleague with an account of their own takes it
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        _sign_in(omar, idp, "u-omar")
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2)
        assert lena.state().handoffs["baseline"].status == "accepted"


def test_an_owner_who_never_signs_in_is_told_apart_from_nobody(
    lena: Program, idp: StandinIdP
) -> None:
    """The lead keeps her own account for an alias and never signs in herself: the alias is then
    the only person her account vouches for, and nobody counts as someone other than her."""
    from inhouse.program.evaluation import context_for
    from inhouse.program.playchecks._shared import unsigned_apart

    lena.set_up_sign_in(idp.issuer, "inhouse")
    omar = enrol(lena, "omar", team="ops", machine="omar-desktop")
    _sign_in(omar, idp, "u-lena")
    why = unsigned_apart(context_for(lena.state(), lena.clock()), "omar", {"lena"})
    assert why is not None and "lena, whose work this judges, has not signed in" in why


def test_with_a_domain_only_verified_addresses_there_count(lena: Program, idp: StandinIdP) -> None:
    """A provider that gives anyone an account (accounts.google.com) vouches for the lead's
    free second account too: with an e-mail domain, only a verified address there binds."""
    lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
    assert lena.state().sign_in is not None and lena.state().sign_in.domain == "acme.example"
    alias = enrol(lena, "ali", team="ops", machine="ali-laptop")
    idp.login("u-free", email="lena.second@gmail.example")
    with pytest.raises(SignInError, match=r"only a verified address at acme\.example counts"):
        alias.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    idp.login("u-ali", email="ali@acme.example", email_verified=False)
    with pytest.raises(SignInError, match=r"\(not verified\)"):
        alias.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    _sign_in(lena, idp, "u-lena")  # u-lena@acme.example, verified
    assert set(lena.state().signed_in) == {"lena"}
    with pytest.raises(InvalidInput, match=r"lena first.*can no longer be changed"):
        lena.set_up_sign_in(idp.issuer, "inhouse")  # dropping the domain is a change too
    with pytest.raises(InvalidInput, match="not a domain"):
        lena.set_up_sign_in(idp.issuer, "inhouse", domain="lena@acme.example")


def test_at_an_open_issuer_only_the_organisations_accounts_count(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At accounts.google.com anyone makes an account with any address they read mail at: a
    personal account made with a work address, or with a plus-address of one's own mailbox (one
    person, any number of verified addresses at the domain). Only an account the provider marks
    as the domain's (Google's ``hd``: a Workspace account) counts. The stand-in provider stands
    in for Google here: its issuer is listed as open."""
    monkeypatch.setattr("inhouse.program.state.OPEN_ISSUERS", frozenset({idp.issuer}))
    lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
    idp.login("u-lena", email="lena@acme.example", hosted_domain="acme.example")
    lena.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    alias = enrol(lena, "omar", team="ops", machine="omar-vm")
    idp.login("u-plus", email="lena+omar@acme.example")  # a personal account: no hd
    with pytest.raises(SignInError, match="does not mark it as any organisation's"):
        alias.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    idp.login("u-other", email="omar@acme.example", hosted_domain="other.example")
    with pytest.raises(SignInError, match=r"marks it as other\.example's"):
        alias.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    assert set(lena.state().signed_in) == {"lena"}
    # appended around the API, the personal account's sign-in binds nobody; status says so
    claims = idp.claims("u-plus", nonce=nonce_for(lena.state().program_id, alias.key.key_id))
    claims |= {"email": "lena+omar@acme.example", "email_verified": True}
    alias._append(EventKind.PERSON_SIGNED_IN, "omar", {"id_token": idp.mint(claims), "seen": []})
    fresh = Program.open(lena.folder, clock=lena.clock)
    try:
        state = fresh.state()
        assert state.tampered is None and set(state.signed_in) == {"lena"}
        assert any("omar's sign-in binds nobody" in w for w in fresh.status()["warnings"])
    finally:
        fresh.close()


def _access_requested(program: Program) -> Result:
    from inhouse.program.evaluation import trigger_results

    found = trigger_results(program.playbook.plays[1], program.state(), program.clock())
    return next(item.result for item in found if item.ref.check == "access-requested")


@pytest.mark.parametrize("how", ["left", "never joined", "left before the sign-in"])
def test_a_co_lead_who_left_blocks_nobody(
    _isolated: Path, clock: Clock, idp: StandinIdP, how: str
) -> None:
    """A co-lead holding no key (revoked when she left, never joined, or gone before the
    sign-in existed) cannot be hiding an account behind another name: she is still judged
    (a lead is no demand), and no longer makes everyone uncountable. Before, play 2's
    trigger could then never pass, whatever real colleagues asked."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    if how == "left before the sign-in":
        kim = enrol(lena, "kim", team="it", roles=["rollout-lead"])
        lena.revoke_key(kim.key.key_id)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    if how == "left":
        kim = enrol(lena, "kim", team="it", roles=["rollout-lead"])
        _sign_in(kim, idp, "u-kim")
        lena.revoke_key(kim.key.key_id)
    elif how == "never joined":
        lena.invite("kim", team="it", roles=["rollout-lead"])
    lena.change_roles(None, "kim", remove=["rollout-lead"])
    prove(lena)
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    bob.request_access(reason="I want the triage model")
    result = _access_requested(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "access requested by bob" in result.reason


def test_a_lead_who_drops_her_keys_unsigned_still_blocks(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The way out stays shut for a judged person who held a key under the sign-in and never
    signed in: her account is unknown, and may be the one another name signed in with."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    kim = enrol(lena, "kim", team="it", roles=["rollout-lead"])  # never signs in
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-kim-private")  # kim's own account, lent to bob
    lena.revoke_key(kim.key.key_id)
    prove(lena)
    bob.request_access(reason="wanted")
    result = _access_requested(lena)
    assert result.outcome is not Outcome.PASS
    assert "kim, whose work this judges, has not signed in" in result.reason


@pytest.mark.usefixtures("log_before_team_reading")
def test_an_account_a_judged_lead_released_is_still_hers(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """kim signed in, then lost her keys: her binding is released, and her account may bind
    another name. A request signed in with it is kim's, not someone else's."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    kim = enrol(lena, "kim", team="it", roles=["rollout-lead"])
    _sign_in(kim, idp, "u-kim")
    lena.revoke_key(kim.key.key_id)
    prove(lena)
    max_ = enrol(lena, "max", team="ops")
    _sign_in(max_, idp, "u-kim")
    max_.request_access(reason="wanted")
    result = _access_requested(lena)
    assert result.outcome is not Outcome.PASS
    assert "max signed in with the account kim, whose work this judges, held" in result.reason


def test_an_open_issuer_set_up_without_a_domain_around_the_api_vouches_for_nobody(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API refuses an open issuer without a domain; appended around it, such a set-up
    folds, and then every sign-in binds nobody (a free account is anyone's)."""
    monkeypatch.setattr("inhouse.program.state.OPEN_ISSUERS", frozenset({idp.issuer}))
    monkeypatch.setattr("inhouse.program.signin.OPEN_ISSUERS", frozenset({idp.issuer}))
    with pytest.raises(InvalidInput, match="gives an account to anyone"):
        lena.set_up_sign_in(idp.issuer, "inhouse")
    lena._pin("lena", idp.issuer, "inhouse", None)  # the set-up without the API's check
    alias = enrol(lena, "omar", team="ops", machine="omar-vm")
    idp.login("u-free", email="whatever@gmail.example")
    with pytest.raises(SignInError, match="names no organisation's domain"):
        alias.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    assert lena.state().signed_in == {}
