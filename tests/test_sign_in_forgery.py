"""The lone lead against the organisation's sign-in, the second time: the holes an audit found
after it shipped, each walked the cheapest way (the Python API, events appended around it with
``Program._append``), each refused now. Run against the stand-in identity provider on loopback
(:mod:`inhouse.testing.standin_idp`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput, NotAllowed, SignInError
from inhouse.identity import SigningKey, fact_predicate_type, seal
from inhouse.identity.envelopes import open_envelope
from inhouse.identity.signin import nonce_for
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.counting import build_context
from inhouse.program.events import EventKind
from inhouse.program.guards import Guard, reach_blockers
from inhouse.program.people import InvitationText
from inhouse.program.playbook import Reach
from inhouse.testing.standin_idp import StandinIdP, browse
from tests.conftest import Clock
from tests.people import enrol, lead_env
from tests.test_sign_in import LOCK, VERIFY, _judge, _sign_in, _verify


@pytest.fixture
def lena(_isolated: Path, clock: Clock, idp: StandinIdP) -> Iterator[Program]:
    """The lead, signed in with her one account, the baseline locked in her name."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    yield lena
    lena.close()


def _tampered(program: Program) -> str:
    """Why the fold refused the newest forgery: it stopped there (a lead's), or set it aside
    (a member's: never counted, reported by the audit)."""
    fresh = Program.open(program.folder, clock=program.clock)
    state = fresh.state()
    fresh.close()
    if state.tampered is not None:
        return state.tampered[0]
    assert state.unauthorized, "the fold accepted it"
    return state.unauthorized[-1][1]


def _join_around(
    program: Program, name: str, key: SigningKey, invitation: InvitationText, at: str
) -> None:
    """The enrolment `Program.join` would write, appended around its checks, signed by ``key``
    (the lead holds the invitation she made: its own signature over the key is hers to make)."""
    payload = {"name": name, "key_id": key.key_id, "public_key": key.public_key,
               "machine": at, "token_hash": invitation.token_hash,
               "join_proof": invitation.join_proof(key.key_id)}  # fmt: skip
    program._append(EventKind.PERSON_ENROLLED, name, payload, key=key)


def test_a_service_key_enrolled_under_a_persons_name_stops_the_fold(
    lena: Program, idp: StandinIdP
) -> None:
    """bob signed in honestly; the lead enrols a 'service' key under his name, so what it
    signs would be bob's."""
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    key = SigningKey.generate()
    proof = key.sign(f"inhouse-service:{lena.state().program_id}:bob".encode())
    payload = {"name": "bob", "key_id": key.key_id, "public_key": key.public_key,
               "machine": "bob-desktop", "service": True, "enrolled_by": "lena",
               "proof": proof}  # fmt: skip
    with pytest.raises(InvalidInput, match="bob is a person on the roster"):
        lena.enrol_service("bob", key)
    lena._append(EventKind.PERSON_ENROLLED, "lena", payload)
    assert "bob is a person: their key would sign as them" in _tampered(lena)


def test_a_service_signs_only_what_it_measures_and_owns_no_play(lena: Program) -> None:
    """A key the lead holds as 'qa-bot' locks the baseline, the lead verifies it: the lead is
    then 'someone other than the owner'. A service's fact counts only where the gateway
    measures; it holds no role, owns no play, receives no handoff."""
    bot = lena.as_service("qa-bot")
    bot.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                    collector="inhouse baseline lock")  # fmt: skip
    _verify(lena)
    ctx = build_context(lena.state(), lena.clock())
    why = next(u.why for u in ctx.uncounted if u.fact.by == "qa-bot")
    assert "a service's key counts only for what the gateway measures" in why
    with pytest.raises(NotAllowed, match="holds no role"):
        lena.change_roles(None, "qa-bot", add=["play-owner"])
    lena._append(EventKind.PERSON_CHANGED, "lena",
                 {"name": "qa-bot", "email": "", "team": "", "roles": ["play-owner"]})  # fmt: skip
    assert "a service is enrolled by a lead, never invited, and holds no role" in _tampered(lena)


def test_a_play_started_for_a_service_stops_the_fold(lena: Program) -> None:
    lena.as_service("ops-bot")
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "prove-value", "owner": "ops-bot"})
    assert "it owns and receives no play" in _tampered(lena)


def test_a_spare_invitation_joins_nobody_once_its_person_has(
    lena: Program, idp: StandinIdP, clock: Clock
) -> None:
    """The lead invites bob twice and keeps one back; bob joins and signs in; the spare would
    have joined a key of the lead's as bob, riding on bob's sign-in."""
    spare = lena.invite("bob", team="ops")
    bob = enrol(lena, "bob", team="ops")  # a second invitation, which bob uses
    _sign_in(bob, idp, "u-bob")
    key = SigningKey.generate()
    with pytest.raises(InvalidInput, match="already used"):
        lena.join(str(spare), key, at_machine="bob-desktop")
    _join_around(lena, "bob", key, spare, "bob-desktop")
    assert "with an invitation for bob that was already used" in _tampered(lena)


def test_an_expired_invitation_joins_nobody(lena: Program, clock: Clock) -> None:
    text = lena.invite("cam", team="ops")
    clock.advance(days=8)
    key = SigningKey.generate()
    with pytest.raises(InvalidInput, match="expired"):
        lena.join(str(text), key, at_machine="cam-laptop")
    _join_around(lena, "cam", key, text, "cam-laptop")
    assert "with an invitation that expired" in _tampered(lena)


def test_each_key_signs_in_itself(lena: Program, idp: StandinIdP) -> None:
    """bob signed in on his laptop; a second machine of his counts once it signed in too."""
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    text = bob.invite("bob")
    desktop = SigningKey.generate()
    bob.join(str(text), desktop, at_machine="bob-desktop")
    second = bob.using(desktop)
    _verify(second)
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is not Outcome.PASS
    assert f"signed with bob's key {desktop.key_id}, which has not signed in" in result.reason
    idp.login("u-bob", email="u-bob@acme.example")
    second.sign_in(open_browser=browse, say=lambda _: None, timeout=30)
    assert _judge(lena, "baseline", "second-person-verified").outcome is Outcome.PASS


def test_a_lost_laptop_is_invited_again_and_signs_in_as_the_same_account(
    lena: Program, idp: StandinIdP
) -> None:
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    lena.revoke_key(bob.key.key_id)
    # the lead joins the new invitation herself: the key is nobody, with her own account
    text = lena.invite("bob", team="ops")
    mine = SigningKey.generate()
    lena.join(str(text), mine, at_machine="bob-new-laptop")
    with pytest.raises(SignInError, match="for lena already: one identity is one person"):
        _sign_in(lena.using(mine), idp, "u-lena")
    assert not lena.state().vouched("bob")
    # honestly: the lead revokes that key too; bob joins again and signs in as himself
    lena.revoke_key(mine.key_id)
    again = enrol(lena, "bob", team="ops", machine="bob-new-laptop")
    _sign_in(again, idp, "u-bob")
    assert lena.state().vouched("bob")


def test_an_import_signed_by_a_key_nobody_holds_stops_the_fold(lena: Program) -> None:
    ali = enrol(lena, "ali", team="ops", machine="ali-laptop")
    nobody = SigningKey.generate()
    data = {"kind": "baseline.verify", "version": 1, "payload": VERIFY,
            "provenance": "measured", "collector": "inhouse baseline verify"}  # fmt: skip
    envelope = seal(nobody, program_id=lena.state().program_id,
                    predicate_type=fact_predicate_type("baseline.verify", 1),
                    predicate={"fact": data, "at": lena.clock().isoformat(),
                               "machine": ""})  # fmt: skip
    ali._append(EventKind.EVIDENCE_IMPORTED, "ali",
                {"envelope": envelope, "digest": open_envelope(envelope).digest,
                 "key_id": nobody.key_id})  # fmt: skip
    assert "which nobody on the roster holds" in _tampered(lena)


def test_a_set_up_with_a_malformed_key_stops_the_fold_instead_of_crashing(
    lena: Program, idp: StandinIdP
) -> None:
    config = lena.state().sign_in
    assert config is not None
    broken = {"issuer": config.issuer, "client_id": "inhouse", "keys": [{"kid": "x"}]}
    lena._append(EventKind.SIGN_IN_SET_UP, "lena", broken)
    assert "malformed" in _tampered(lena)


def test_a_key_pinned_later_by_hand_is_named_by_the_audit(lena: Program, idp: StandinIdP) -> None:
    """Any lead can pin more keys (a rotation needs it), so a lead can pin one of her own and
    mint an account for an alias. It may not reuse a pinned key id, and the audit names it as
    doubtful: it verifies a sign-in, and nobody but the lead saw the issuer publish it."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "use": "sig"}
    config = lena.state().sign_in
    assert config is not None
    payload = {"issuer": config.issuer, "client_id": "inhouse", "keys": [{**own, "kid": idp.kid}]}
    lena._append(EventKind.SIGN_IN_SET_UP, "lena", payload)
    said = _tampered(lena)
    assert "other key material under the key id" in said and "a key id names one key" in said


def test_a_fresh_kid_pinned_by_hand_is_doubtful(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")  # bob saw the provider's key published
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "use": "sig", "kid": "k2"}
    lena._append(EventKind.SIGN_IN_SET_UP, "lena",
                 {"issuer": idp.issuer, "client_id": "inhouse", "keys": [own]})  # fmt: skip
    ali = enrol(lena, "ali", team="ops", machine="ali-laptop")
    claims = idp.claims("u-ali", nonce=nonce_for(lena.state().program_id, ali.key.key_id))
    ali.bind_sign_in(idp.mint(claims, kid="k2", key=private))
    report = lena.audit_sign_in()
    doubtful = {k.kid: k for k in report.doubtful}
    assert list(doubtful) == ["k2"] and doubtful["k2"].bindings == ("ali",)
    assert doubtful["k2"].pinned_by == "lena"
    honest = next(k for k in report.pinned if k.kid == idp.kid)
    assert honest.published and not honest.doubtful
    assert set(honest.bindings) == {"lena", "bob"}
    # `sign-in audit --json` says the same, for scripts (the README: every read command takes
    # --json), and exits 1 on the doubtful key as the text does
    said = CliRunner().invoke(app, ["sign-in", "audit", "--json"], env=lead_env(lena))
    assert said.exit_code == 1, said.stdout + said.stderr
    data = json.loads(said.stdout)
    assert data["issuer"] == idp.issuer and data["local"] is True
    assert [k["kid"] for k in data["pinned"] if k["doubtful"]] == ["k2"]
    shown = next(k for k in data["pinned"] if k["kid"] == "k2")
    assert shown["bindings"] == ["ali"] and shown["pinned_by"] == "lena" and not shown["published"]
    lena.close()


def test_google_is_set_up_only_with_a_domain(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    with pytest.raises(InvalidInput, match="gives an account to anyone"):
        lena.set_up_sign_in("https://accounts.google.com", "inhouse")
    lena.close()


def test_the_pilot_waits_for_a_sign_in_or_a_waiver(_isolated: Path, clock: Clock) -> None:
    """Widening access to a pilot with people told apart only by the machines they report is
    scaling before proving: a blocker until a sign-in is set up."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)

    def signin_blockers() -> list[str]:
        found = reach_blockers(lena.playbook, Reach.PILOT, lena.state(), lena.clock())
        return [b.message for b in found if "who people are" in b.message]

    assert len(signin_blockers()) == 1
    blocker = next(
        b for b in reach_blockers(lena.playbook, Reach.PILOT, lena.state(), lena.clock())
        if "who people are" in b.message
    )  # fmt: skip
    assert blocker.guard is Guard.SCALING_BEFORE_PROVING
    with StandinIdP(clock=clock) as idp:
        lena.set_up_sign_in(idp.issuer, "inhouse")
    assert signin_blockers() == []
    lena.close()


def test_a_signed_in_key_is_never_enrolled_again_under_another_name(
    lena: Program, idp: StandinIdP
) -> None:
    """bob signed in once. The lead signs in a second machine of her own, revokes bob's key,
    invites him again and enrols her signed-in key as bob: its binding would vouch for 'bob'."""
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    text = lena.invite("lena")
    desktop = SigningKey.generate()
    lena.join(str(text), desktop, at_machine="lena-desktop")
    _sign_in(lena.using(desktop), idp, "u-lena")
    lena.revoke_key(bob.key.key_id)
    again = lena.invite("bob", team="ops")
    with pytest.raises(InvalidInput, match="already enrolled"):
        lena.join(str(again), desktop, at_machine="bob-new-laptop")
    _join_around(lena, "bob", desktop, again, "bob-new-laptop")
    assert f"with key {desktop.key_id}, enrolled before for lena" in _tampered(lena)


def test_a_witness_is_no_witness_for_the_key_its_own_sign_in_rests_on(
    lena: Program, idp: StandinIdP
) -> None:
    """The lead pins a key of her own beside the issuer's, mints her alias a token with it and
    has the alias claim it saw every pinned key published: the key stays doubtful."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from inhouse.identity.signin import jwk_thumbprint

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "use": "sig", "kid": "k2"}
    lena._append(EventKind.SIGN_IN_SET_UP, "lena",
                 {"issuer": idp.issuer, "client_id": "inhouse", "keys": [own]})  # fmt: skip
    ali = enrol(lena, "ali", team="ops", machine="ali-laptop")
    claims = idp.claims("u-ali", nonce=nonce_for(lena.state().program_id, ali.key.key_id))
    config = lena.state().sign_in
    assert config is not None
    everything = [jwk_thumbprint(k) for k in config.keys]
    ali.bind_sign_in(idp.mint(claims, kid="k2", key=private), seen=everything)
    doubtful = lena.audit_sign_in().doubtful
    assert [k.kid for k in doubtful] == ["k2"] and doubtful[0].seen_by == ()


def test_a_service_adds_no_machine_of_its_own(lena: Program) -> None:
    """The gateway's key on the lead's laptop does not count; a second gateway key joined
    through the service's own 'another machine' invitation, from a made-up rack, would have."""
    gateway = lena.as_service("gateway")
    with pytest.raises(NotAllowed, match="a lead enrols each key of a service"):
        gateway.invite("gateway")
    gateway._append(EventKind.PERSON_INVITED, "gateway",
                    {"name": "gateway", "token_hash": "t" * 64, "another_key": True,
                     "expires": (lena.clock() + timedelta(days=1)).isoformat()})  # fmt: skip
    assert "a lead enrols each key of a service" in _tampered(lena)


def test_a_handoff_is_accepted_only_with_a_signed_in_key(_isolated: Path, clock: Clock) -> None:
    from inhouse.program.evaluation import evidence_hash, exit_results
    from tests.test_handoff_machines import _play_two_met

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    with StandinIdP(clock=clock) as idp:
        lena.set_up_sign_in(idp.issuer, "inhouse")
        _sign_in(lena, idp, "u-lena")
        _sign_in(_play_two_met(lena, clock), idp, "u-vic")
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        _sign_in(omar, idp, "u-omar")
        lena.offer_handoff(None, 2, to="omar")
        text = omar.invite("omar")
        desktop = SigningKey.generate()
        omar.join(str(text), desktop, at_machine="omar-desktop")  # not signed in there yet
        with pytest.raises(NotAllowed, match="omar has not signed in"):
            omar.using(desktop).accept_handoff(None, 2)
        play = lena.playbook.play("baseline")
        digest = evidence_hash(exit_results(play, lena.state(), lena.clock()))
        lena.using(desktop)._append(EventKind.HANDOFF_ACCEPTED, "omar",
                                    {"play": "baseline", "evidence_hash": digest,
                                     "comment": ""})  # fmt: skip
        assert "with a key that has not signed in" in _tampered(lena)
    lena.close()


def test_an_import_does_not_rewrite_a_ticket_opened_here(lena: Program, idp: StandinIdP) -> None:
    """zoe's real ticket: the baseline's install fails (lena locked the baseline: its builder).
    lena, who may import tickets, records an 'imported' opening of the same id with no external
    link, moving it onto pat's prompt, then resolves it herself: support working without its
    builder. The import opens a ticket of its own instead."""
    from inhouse.support.queue import find_ticket, open_ticket, resolve_ticket

    zoe = enrol(lena, "zoe", team="legal")
    _sign_in(zoe, idp, "u-zoe")
    pat = enrol(lena, "pat", team="sales")
    _sign_in(pat, idp, "u-pat")
    pat.record_fact(None, "prompt.version",
                    {"prompt": "summary", "version": 1, "content_hash": "abcdef123456"},
                    provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    ticket = open_ticket(zoe, "install fails", category="it-broke", component="baseline")
    rewrite = {"ticket": ticket.id, "title": "summary prompt wrong", "category": "it-broke",
               "component": "prompt:summary", "actor": "lena"}  # fmt: skip
    lena.record_fact(None, "ticket.opened", rewrite, provenance=Provenance.MEASURED,
                     collector="inhouse support import")  # fmt: skip
    assert find_ticket(lena, ticket.id).component == "baseline"
    resolve_ticket(lena, ticket.id, note="fixed")
    result = _judge(lena, "support", "ticket-resolved-without-builder")
    assert result.outcome is not Outcome.PASS, result.reason


def test_a_pilot_member_is_added_by_a_lead_only(lena: Program, idp: StandinIdP) -> None:
    """A colleague's own `pilot.member` fact (not `inhouse pilot add`, a lead's act) naming the
    lead made the lead a counted member, whose own answers then counted for the pilot."""
    from inhouse.program.playchecks.pilot import members

    lena.grant_waiver(None, "scaling-before-proving", reason="other", note="test",
                      expires=lena.clock() + timedelta(days=30))  # fmt: skip
    zoe = enrol(lena, "zoe", team="legal")
    _sign_in(zoe, idp, "u-zoe")
    lena.change_roles(None, "lena", add=["pilot-user"])
    zoe.record_fact(None, "pilot.member", {"person": "lena", "track": "analyst", "action": "added"},
                    provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip
    assert "lena" not in members(build_context(lena.state(), lena.clock()))


def test_a_services_name_is_never_invited(lena: Program) -> None:
    """A service whose key was revoked is not invited back as a person: the API refuses what
    the fold would stop at (an invitation under a service's name)."""
    gateway = lena.as_service("gateway")
    lena.revoke_key(gateway.key.key_id)
    with pytest.raises(InvalidInput, match="gateway is a service"):
        lena.invite("gateway")
    assert lena.state().tampered is None


def test_a_program_without_a_sign_in_keeps_reading_a_spare_joined_key(
    _isolated: Path, clock: Clock
) -> None:
    """Logs from before the sign-in were written by an API that let a lead's second invitation
    join a second machine: with no sign-in set up, such a log still folds."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    spare = lena.invite("bob", team="ops")
    enrol(lena, "bob", team="ops", signed_in=False)
    lena.join(str(spare), SigningKey.generate(), at_machine="bob-desktop")
    fresh = Program.open(lena.folder, clock=clock)
    assert fresh.state().tampered is None and len(fresh.state().keys_of("bob")) == 2
    fresh.close()
    lena.close()


def test_a_set_up_is_not_re_pointed_once_someone_signed_in(
    lena: Program, idp: StandinIdP, clock: Clock
) -> None:
    """lena and bob signed in; the lead then re-points the program at a provider she runs,
    which would vouch for any alias she likes: the API refuses, naming who signed in, and the
    same set-up appended around it stops the fold."""
    bob = enrol(lena, "bob", team="ops")
    _sign_in(bob, idp, "u-bob")
    first = lena.state().signed_in["lena"].seq
    with StandinIdP(clock=clock) as own:
        refused = f"2 people have signed in with it (lena first, at event {first}): it can no"
        with pytest.raises(InvalidInput, match=re.escape(refused)):
            lena.set_up_sign_in(own.issuer, "inhouse")
        # another client or domain at the same provider is a change too
        with pytest.raises(InvalidInput, match="can no longer be changed"):
            lena.set_up_sign_in(idp.issuer, "inhouse", domain="acme.example")
        config = lena.state().sign_in
        assert config is not None and config.issuer == idp.issuer
        lena._append(EventKind.SIGN_IN_SET_UP, "lena",
                     {"issuer": own.issuer, "client_id": "inhouse",
                      "keys": own.jwks()["keys"]})  # fmt: skip
        assert refused in _tampered(lena)
    fresh = Program.open(lena.folder, clock=clock)
    assert fresh.state().sign_in == config  # the fold stopped before the forged set-up
    fresh.close()


def test_a_token_from_the_replaced_issuer_binds_nobody(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The lead first set up a provider she runs and had it issue a token for her alias; then,
    before anyone signed in, corrected the set-up to the organisation's provider. Her
    provider's keys went with it: neither its token, nor one it mints naming the new issuer,
    binds the alias, through the API or around it."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    ali = enrol(lena, "ali", team="ops", machine="ali-laptop", signed_in=False)
    nonce = nonce_for(lena.state().program_id, ali.key.key_id)
    with StandinIdP(clock=clock) as own:
        lena.set_up_sign_in(own.issuer, "inhouse")
        kept = own.mint(own.claims("u-ali", nonce=nonce))
        # the same key signing what the organisation's provider would: verifies only while
        # that key is pinned
        posing = own.mint({**idp.claims("u-ali", nonce=nonce), "iss": idp.issuer})
    lena.set_up_sign_in(idp.issuer, "inhouse")
    config = lena.state().sign_in
    assert config is not None and [key["kid"] for key in config.keys] == [idp.kid]
    for token in (kept, posing):
        with pytest.raises(SignInError, match="a key the program does not hold"):
            ali.bind_sign_in(token)
    assert lena.state().signed_keys == {}
    ali._append(EventKind.PERSON_SIGNED_IN, "ali", {"id_token": posing})
    assert "a key the program does not hold" in _tampered(lena)
    lena.close()


@pytest.mark.usefixtures("log_before_team_reading")
def test_a_binding_made_by_mistake_is_undone_by_revoking_its_keys(
    lena: Program, idp: StandinIdP
) -> None:
    """bob signs in on a machine whose browser is signed in as alice: his key binds alice's
    account, and neither can sign in as themselves. Revoking every key that signed in with
    that binding releases it: bob, invited again, binds his own account, and alice hers."""
    bob = enrol(lena, "bob", team="ops")
    alice = enrol(lena, "alice", team="ops")
    _sign_in(bob, idp, "u-alice")  # the mistake
    with pytest.raises(SignInError, match="for bob already: one identity is one person"):
        _sign_in(alice, idp, "u-alice")
    with pytest.raises(SignInError, match="bob signed in as u-alice before"):
        _sign_in(bob, idp, "u-bob")
    lena.revoke_key(bob.key.key_id)
    listed = CliRunner().invoke(app, ["sign-in", "list", "--json"], env=lead_env(lena))
    rows = {row["person"]: row for row in json.loads(listed.stdout)}
    assert rows["bob"]["subject"] == "u-alice" and rows["bob"]["released"] is True
    again = enrol(lena, "bob", team="ops", machine="bob-laptop-2")
    _sign_in(again, idp, "u-bob")
    _sign_in(alice, idp, "u-alice")
    state = lena.state()
    assert state.vouched("bob") and state.vouched("alice")
    assert (state.signed_in["bob"].subject, state.signed_in["alice"].subject) == (
        "u-bob",
        "u-alice",
    )
    fresh = Program.open(lena.folder, clock=lena.clock)
    assert fresh.state().tampered is None
    assert fresh.state().signed_in["alice"].subject == "u-alice"
    fresh.close()


@pytest.mark.usefixtures("log_before_team_reading")
def test_a_lead_who_releases_her_own_account_for_an_alias_is_told_apart_from_nobody(
    lena: Program, idp: StandinIdP
) -> None:
    """The release, tried by the lone lead: she adds a second machine of her own, revokes the
    key her account vouched for, and binds that one account to an alias. The alias is signed
    in; she is not (her account holds for the alias now, and she has no other), so the alias
    counts as nobody apart from her, and she cannot take the account back while it holds."""
    from inhouse.program.evaluation import context_for
    from inhouse.program.playchecks._shared import unsigned_apart

    first = lena.key.key_id
    text = lena.invite("lena")
    spare = SigningKey.generate()
    lena.join(str(text), spare, at_machine="lena-desktop")
    me = lena.using(spare)
    me.revoke_key(first)  # her binding is released
    omar = enrol(me, "omar", team="ops", machine="omar-desktop")
    _sign_in(omar, idp, "u-lena")
    _verify(omar)
    state = me.state()
    assert state.vouched("omar") and not state.vouched("lena")
    why = unsigned_apart(context_for(state, me.clock()), "omar", {"lena"})
    assert why is not None and "lena, whose work this judges, has not signed in" in why
    assert _judge(me, "baseline", "second-person-verified").outcome is not Outcome.PASS
    with pytest.raises(SignInError, match="for omar already: one identity is one person"):
        _sign_in(me, idp, "u-lena")
    # and the account passed back: omar's key revoked, she signs in again; omar's verify is
    # still his, but he is vouched for by nothing now, so it counts for nobody apart from her
    me.revoke_key(omar.key.key_id)
    _sign_in(me, idp, "u-lena")
    assert me.state().vouched("lena") and not me.state().vouched("omar")
    assert _judge(me, "baseline", "second-person-verified").outcome is not Outcome.PASS


@pytest.mark.usefixtures("log_before_team_reading")
def test_the_leads_own_account_lent_to_an_alias_is_no_witness(
    lena: Program, idp: StandinIdP
) -> None:
    """The release used against the audit: the lead pins a key of her own, lends her real
    account to an alias for long enough to have it "see" every pinned key published, takes
    the account back, and mints a second alias a token with her key. A binding to an account
    the pinner ever held is no witness: her key stays doubtful."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from inhouse.identity.signin import discover, jwk_thumbprint
    from inhouse.identity.signin import sign_in as oidc

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "use": "sig", "kid": "k2"}
    lena._append(EventKind.SIGN_IN_SET_UP, "lena",
                 {"issuer": idp.issuer, "client_id": "inhouse", "keys": [own]})  # fmt: skip
    config = lena.state().sign_in
    assert config is not None
    everything = [jwk_thumbprint(k) for k in config.keys]
    text = lena.invite("lena")
    spare = SigningKey.generate()
    lena.join(str(text), spare, at_machine="lena-desktop")
    me = lena.using(spare)
    me.revoke_key(lena.key.key_id)  # her account released…
    omar = enrol(me, "omar", team="ops", machine="omar-desktop")
    idp.login("u-lena", email="u-lena@acme.example")  # her real account, at the provider
    nonce = nonce_for(me.state().program_id, omar.key.key_id)
    token = oidc(discover(idp.issuer), "inhouse", nonce, open_browser=browse,
                 say=lambda _: None, timeout=30)  # fmt: skip
    omar.bind_sign_in(token, seen=everything)  # "saw" her key published
    me.revoke_key(omar.key.key_id)  # …lent, and taken back
    _sign_in(me, idp, "u-lena")
    zed = enrol(me, "zed", team="ops", machine="zed-laptop")
    claims = idp.claims("u-zed", nonce=nonce_for(me.state().program_id, zed.key.key_id))
    zed.bind_sign_in(idp.mint(claims, kid="k2", key=private))
    doubtful = me.audit_sign_in().doubtful
    assert [k.kid for k in doubtful] == ["k2"] and "omar" not in doubtful[0].seen_by


def test_a_waiver_is_granted_only_with_a_signed_in_key(lena: Program, clock: Clock) -> None:
    """A waiver is a decision on the record, in its grantor's name: the lone lead, who would
    rather the record did not show her waiving a guard on her own play, makes "ann" a co-lead,
    joins her on a key of her own, and grants it as ann. Refused, as a start or a handoff
    decision is: with the organisation's sign-in set up, a waiver is granted with a key that
    signed in as its grantor (ann, who has no account of her own, never can)."""
    ann = enrol(lena, "ann", team="ops", roles=["rollout-lead"])
    expires = clock.now + timedelta(days=7)
    with pytest.raises(NotAllowed, match="ann grants a waiver with a key that has not signed in"):
        ann.grant_waiver(None, "calendar-driven-advance", play=1, reason="executive-decision",
                         note="go faster", expires=expires)  # fmt: skip
    assert not lena.state().waivers
    # the honest way: the lead who signed in grants it, in her own name
    waiver = lena.grant_waiver(None, "calendar-driven-advance", play=1,
                               reason="executive-decision", note="go faster",
                               expires=expires)  # fmt: skip
    assert waiver.granted_by == "lena"
    # appended around the API, ann's waiver folds (it covers what it waives, as before this
    # rule), and status says whose word it is not
    ann._append(EventKind.WAIVER_GRANTED, "ann",
                {"guard": "botched-handoff", "play": "baseline", "reason": "executive-decision",
                 "note": "go faster", "expires": expires.isoformat()})  # fmt: skip
    warnings = lena.status()["warnings"]
    assert not any("granted by lena" in w for w in warnings)
    assert any(
        "granted by ann with a key" in w and "has not signed in as ann" in w for w in warnings
    ), warnings
