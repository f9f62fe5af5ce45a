"""Follow-ups on the sign-in rules (redteam1234, review1), for honest teams.

1. An account at an Entra tenant's initial ``*.onmicrosoft.com`` domain counts for nobody; a
   small organisation whose tenant has only that domain is told what to do about it wherever
   the refusal shows: the sign-in, ``status``, ``sign-in list`` and the checks' reasons.
2. Microsoft documents ``preferred_username`` as mutable and not for authorisation: Entra's
   optional claim ``verified_primary_email`` is read before it, and ``email`` with ``xms_edov``
   true (its domain verified by the account's tenant); Entra sends no ``email_verified``.
3. One mailbox is one person, now or before: a new hire given a departed colleague's address
   is let in by a release that a colleague signed in who is no lead records, once the old
   holder's keys are all revoked; the lead cannot use it to sign an invented colleague in at a
   plus-address of her own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.errors import NotAllowed, SignInError
from inhouse.identity import load_key
from inhouse.identity.signin import nonce_for
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol, enrol_cli, lead_env
from tests.test_redteam1234 import (
    ENTRA,
    KEYCLOAK,
    _answering_as,
    _demand_of_one,
    _plus_token,
    _seen,
    _token,
)

pytestmark = [pytest.mark.usefixtures("on_database"), pytest.mark.own_sign_in]

WAY_OUT = "ask your tenant administrator to add and verify your company's domain"


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    with StandinIdP(clock=clock) as provider:
        yield provider


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    lead = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    yield lead
    lead.close()


def _said(args: list[str], env: dict[str, str], answer: str | None = None) -> str:
    from inhouse.cli.app import app

    found = CliRunner().invoke(app, args, env=env, input=answer)
    assert found.exit_code == 0, found.output
    return " ".join(found.output.split())


def _entra(person: Program, idp: StandinIdP, subject: str, **claims: object) -> str:
    """Entra's token for ``person``'s key: no email_verified (Entra sends none), a member."""
    token = _token(person, idp, ENTRA, subject, acct=0, **claims)
    import jwt

    body = jwt.decode(token, options={"verify_signature": False})
    body.pop("email_verified", None)
    body.pop("email", None)
    if "email" in claims:
        body["email"] = claims["email"]
    return idp.mint(body)


# -- 1: the initial domain, and the way out, wherever it shows --------------------------------


def test_a_small_organisation_on_its_initial_domain_is_told_the_way_out_everywhere(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An honest small organisation: its tenant has only acmesmall.onmicrosoft.com. lena signs
    in at a verified domain (say the tenant added one for her); omar's user name is still at the
    initial domain. The sign-in, status, sign-in list and play 2's reason each say his sign-in
    was set aside and what his tenant administrator does about it."""
    _answering_as(monkeypatch, idp, ENTRA)
    lena.set_up_sign_in(ENTRA, "inhouse")
    lena.bind_sign_in(
        _entra(lena, idp, "e-lena", preferred_username="lena@acme.example"), seen=_seen(idp)
    )
    omar = enrol(lena, "omar", team="support", machine="omar-laptop")
    initial = {"preferred_username": "omar@acmesmall.onmicrosoft.com"}
    with pytest.raises(SignInError) as refused:
        omar.bind_sign_in(_entra(omar, idp, "e-omar", **initial), seen=_seen(idp))
    said = str(refused.value)
    assert "initial domain acmesmall.onmicrosoft.com" in said and WAY_OUT in said, said
    assert "move your user name" in said and "sign-in login" in said, said
    # a sign-in recorded anyway (an older inhouse, or around the API): set aside, and said
    token = _entra(omar, idp, "e-omar", **initial)
    omar._append(EventKind.PERSON_SIGNED_IN, "omar", {"id_token": token, "seen": _seen(idp)})
    status = _said(["status"], lead_env(lena))
    assert "omar's sign-in binds nobody" in status and WAY_OUT in status, status
    listed = _said(["sign-in", "list"], lead_env(lena))
    assert "set aside" in listed and WAY_OUT in listed, listed
    omar.request_access(reason="I want in")
    outcome, reason = _demand_of_one(lena)
    assert outcome is not Outcome.PASS, reason
    assert "omar's sign-in (event" in reason and "set aside" in reason, reason
    assert "inhouse status` says why and the way out" in reason, reason
    # the way out taken: the administrator moved his user name to the verified domain
    omar.bind_sign_in(
        _entra(omar, idp, "e-omar", preferred_username="omar@acme.example"), seen=_seen(idp)
    )
    outcome, reason = _demand_of_one(lena)
    assert outcome is Outcome.PASS, reason


# -- 2: Entra's stronger claims ---------------------------------------------------------------


@pytest.fixture
def entra(lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch) -> Program:
    _answering_as(monkeypatch, idp, ENTRA)
    lena.set_up_sign_in(ENTRA, "inhouse")
    return lena


@pytest.mark.parametrize("shape", ["string", "list"])
def test_verified_primary_email_is_read_before_preferred_username(
    entra: Program, idp: StandinIdP, shape: str
) -> None:
    """Honest: a small organisation left user names at the initial domain but gave everyone a
    mailbox at its verified domain; the tenant admin added verified_primary_email to the ID
    token. It is read first (as a string or as Entra's list), so omar signs in, and the binding
    keeps that address. The old code judged preferred_username only and refused him."""
    omar = enrol(entra, "omar", team="support", machine="omar-laptop")
    primary: object = "omar@acme.example" if shape == "string" else ["omar@acme.example"]
    token = _entra(
        omar,
        idp,
        "e-omar",
        preferred_username="omar@acmesmall.onmicrosoft.com",
        verified_primary_email=primary,
    )
    bound = omar.bind_sign_in(token, seen=_seen(idp))
    assert bound.email == "omar@acme.example"
    assert "omar" in entra.state().signed_in


def test_a_user_name_at_a_verified_domain_does_not_outweigh_an_initial_primary_address(
    entra: Program, idp: StandinIdP
) -> None:
    """verified_primary_email, where the token has it, is what the rule judges:
    preferred_username (mutable, not for authorisation) at another domain does not save an
    account whose directory-kept primary address is at the initial domain. The message names
    the claim it judged."""
    omar = enrol(entra, "omar", team="support", machine="lenas-vm")
    token = _entra(
        omar,
        idp,
        "e-omar",
        preferred_username="omar@acme.example",
        verified_primary_email="omar@lenaacme.onmicrosoft.com",
    )
    with pytest.raises(SignInError, match=r"\(verified_primary_email\)") as refused:
        omar.bind_sign_in(token, seen=_seen(idp))
    assert WAY_OUT in str(refused.value)


def test_email_with_xms_edov_counts_and_an_email_verified_claim_at_entra_does_not(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --email-domain at Entra: an address counts where xms_edov says the tenant verified
    its domain (the old code asked for email_verified, which Entra never sends, so nobody
    could sign in); xms_edov false, or an email_verified claim (none of Entra's own), does not;
    and xms_edov true at the initial domain (Entra counts it as verified) is still refused."""
    _answering_as(monkeypatch, idp, ENTRA)
    lena.set_up_sign_in(ENTRA, "inhouse", domain="acme.example")
    omar = enrol(lena, "omar", team="support", machine="omar-laptop")
    upn = {"preferred_username": "omar@acme.example"}
    for unsaid in (
        {"email": "omar@acme.example", "xms_edov": False},
        {"email": "omar@acme.example", "email_verified": True},
    ):
        token = _entra(omar, idp, "e-omar", **upn, **unsaid)
        if "email_verified" in unsaid:
            import jwt

            body = jwt.decode(token, options={"verify_signature": False})
            token = idp.mint({**body, "email_verified": True})
        with pytest.raises(SignInError, match=r"only a verified address at acme\.example") as no:
            omar.bind_sign_in(token, seen=_seen(idp))
        assert "xms_edov" in str(no.value)  # it says what to configure
    initial = {"email": "omar@lenaacme.onmicrosoft.com", "xms_edov": True}
    with pytest.raises(SignInError):
        omar.bind_sign_in(_entra(omar, idp, "e-omar", **upn, **initial), seen=_seen(idp))
    token = _entra(omar, idp, "e-omar", **upn, email="omar@acme.example", xms_edov="true")
    assert omar.bind_sign_in(token, seen=_seen(idp)).email == "omar@acme.example"


# -- 3: a recycled mailbox, released by a colleague who is no lead ----------------------------


@pytest.fixture
def realm(lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch) -> Program:
    _answering_as(monkeypatch, idp, KEYCLOAK)
    lena.set_up_sign_in(KEYCLOAK, "inhouse", domain="acme.example")
    lena.bind_sign_in(_plus_token(lena, idp, "k-lena", "lena@acme.example"), seen=_seen(idp))
    return lena


def _colleague(realm: Program, idp: StandinIdP, name: str, address: str) -> Program:
    person = enrol(realm, name, team="support", machine=f"{name}-laptop")
    person.bind_sign_in(_plus_token(person, idp, f"k-{name}", address), seen=_seen(idp))
    return person


def test_a_new_hire_given_a_departed_colleague_s_address_gets_in_by_a_release(
    realm: Program, idp: StandinIdP, tmp_path: Path
) -> None:
    """omar left; noor was given omar@acme.example (a new account at the realm). Refused, and
    the refusal says the way: a lead revokes omar's keys, then ali (signed in, no lead)
    releases the mailbox. The lead cannot release it; ali cannot while omar still signs in
    with it. The old code refused noor for good, with no way out."""
    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    recycled = _plus_token(noor, idp, "k-noor", "omar@acme.example")
    with pytest.raises(SignInError, match="a rollout lead revokes omar's keys") as refused:
        noor.bind_sign_in(recycled, seen=_seen(idp))
    assert "release-mailbox omar@acme.example" in str(refused.value)
    with pytest.raises(NotAllowed, match="omar still signed in"):
        ali.release_mailbox("omar@acme.example", to="noor", reason="omar left; noor has it")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    with pytest.raises(SignInError, match="omar's keys are all revoked") as refused:
        noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert "not a rollout lead runs `inhouse sign-in release-mailbox" in str(refused.value)
    with pytest.raises(NotAllowed, match="rollout lead"):
        realm.release_mailbox("omar@acme.example", to="noor", reason="omar left")
    # through the CLI, as ali types it
    env = enrol_cli(realm, "sam", tmp_path / "keys", team="support", signed_in=False)
    sam = realm.using(load_key(Path(env["INHOUSE_KEY"])))
    sam.bind_sign_in(_plus_token(sam, idp, "k-sam", "sam@acme.example"), seen=_seen(idp))
    args = ["sign-in", "release-mailbox", "OMAR+x@acme.example", "--reason", "omar left"]
    # sam, told "just run it", is shown every field his key signs and asked: no answer (no
    # terminal) or a no records nothing, and no flag answers for him
    from inhouse.cli.app import app

    for answer, why in ((None, "the question got no answer"), ("n\n", "release a mailbox only")):
        unread = CliRunner().invoke(app, [*args, "--to", "noor"], env=env, input=answer)
        assert unread.exit_code == 3, unread.output
        said = " ".join(unread.stderr.split())
        assert f"not released, nothing recorded for sam: {why}" in said, said
        shown = " ".join(unread.stdout.split())
        assert "Your key signs that this mailbox is now this person's:" in shown, shown
        assert "you, sam, release the mailbox omar@acme.example (you typed OMAR+x@" in shown
        assert "to noor alone: only they may sign in at it from now on" in shown, shown
        assert re.search(r"signed in at it before: omar \(omar@acme\.example, event \d+\)", shown)
        assert "why: omar left" in shown, shown
    assert not realm.state().mailbox_released
    said = _said([*args, "--to", "noor"], env, answer="y\n")
    assert "Released omar@acme.example to noor" in said, said
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    state = realm.state()
    assert "noor" in state.signed_in and state.tampered is None
    # released once: the next to sign in at it holds it again
    late = enrol(realm, "late", team="support", machine="late-laptop")
    with pytest.raises(SignInError, match="one mailbox is one person"):
        late.bind_sign_in(_plus_token(late, idp, "k-late", "omar@acme.example"), seen=_seen(idp))


def test_the_lead_cannot_release_her_own_mailbox_for_an_invented_colleague(
    realm: Program, idp: StandinIdP
) -> None:
    """The forgery through the way out: lena wants "omar" (her alias, on her VM) signed in at
    lena+omar@acme.example. She cannot release her mailbox (a lead); her alias, signed in
    nowhere, cannot; a real colleague cannot while lena signs in with it; a release she appends
    around the API counts for nothing (status says so), and omar stays nobody."""
    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    omar = enrol(realm, "omar", team="support", machine="lenas-vm")
    with pytest.raises(NotAllowed, match="rollout lead"):
        realm.release_mailbox("lena@acme.example", to="omar", reason="for omar")
    with pytest.raises(NotAllowed, match="has not signed in"):
        omar.release_mailbox("lena@acme.example", to="omar", reason="mine")
    with pytest.raises(NotAllowed, match="lena still signed in"):
        ali.release_mailbox("lena+x@acme.example", to="omar", reason="asked to")
    for forger in (realm, omar):
        forger._append(
            EventKind.MAILBOX_RELEASED,
            forger.whoami().name,
            {"mailbox": "lena@acme.example", "reason": "for omar"},
        )
    token = _plus_token(omar, idp, "k-omar", "lena+omar@acme.example")
    omar._append(EventKind.PERSON_SIGNED_IN, "omar", {"id_token": token, "seen": _seen(idp)})
    state = realm.state()
    assert state.tampered is None
    assert "omar" not in state.signed_in
    assert not state.mailbox_released
    released = [line for line in state.unbound if "release of the mailbox" in line]
    assert len(released) == 2 and "counts for nothing" in released[0], state.unbound
    status = _said(["status"], lead_env(realm))
    assert "lena's release of the mailbox lena@acme.example counts for nothing" in status
    omar.request_access(reason="I want in")
    outcome, reason = _demand_of_one(realm)
    assert outcome is not Outcome.PASS, reason


def test_at_entra_an_address_the_tenant_gave_again_is_not_judged_by_mailbox(
    entra: Program, idp: StandinIdP
) -> None:
    """A regression guard for running programs: Entra bindings said no verified address before
    verified_primary_email was read, and nobody registers at Entra (its administrator makes each
    account), so two accounts the tenant gave one address (omar left, noor has it) both bind,
    as they did: reading the new claim sets aside no sign-in an Entra program holds."""
    omar = enrol(entra, "omar", team="support", machine="omar-laptop")
    noor = enrol(entra, "noor", team="support", machine="noor-laptop")
    same = {"preferred_username": "x@acme.example", "verified_primary_email": "team@acme.example"}
    omar.bind_sign_in(_entra(omar, idp, "e-omar", **same), seen=_seen(idp))
    noor.bind_sign_in(_entra(noor, idp, "e-noor", **same), seen=_seen(idp))
    assert {"omar", "noor"} <= set(entra.state().signed_in)


@pytest.mark.parametrize("where", ["gateway-host", "lenas-laptop"])
def test_a_release_signed_with_a_key_made_where_the_lead_runs_things_counts_for_nothing(
    realm: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The host rule (review3): lena runs the gateway's host, has "ali" join there (or on her
    own laptop) and the real ali sign in once with that key; the key file is lena's to sign
    with, so a release "by ali" is hers. Refused, and one appended around the API counts for
    nothing: noor stays set aside. A key ali makes on her own laptop releases it (the honest
    path)."""
    from inhouse.identity import SigningKey
    from inhouse.usage.authentic import GATEWAY_SERVICE
    from tests.test_redteam4 import _gateway_host

    if where == "gateway-host":
        realm.enrol_service(GATEWAY_SERVICE, SigningKey.generate())
        machine = _gateway_host(monkeypatch)
    else:
        machine = realm.state().keys_of("lena")[0].machine
    forged = enrol(realm, "ali", team="support", machine=machine)
    forged.bind_sign_in(_plus_token(forged, idp, "k-ali", "ali@acme.example"), seen=_seen(idp))
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    assert "ali" in realm.state().signed_in
    with pytest.raises(NotAllowed, match="a machine of their own"):
        forged.release_mailbox("omar@acme.example", to="noor", reason="omar left")
    forged._append(
        EventKind.MAILBOX_RELEASED, "ali", {"mailbox": "omar@acme.example", "reason": "left"}
    )
    state = realm.state()
    assert state.tampered is None and not state.mailbox_released
    assert any("ali's release of the mailbox" in line for line in state.unbound), state.unbound
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    with pytest.raises(SignInError, match="one mailbox is one person"):
        noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    # the honest way: a key ali makes on her own laptop, signed in with
    text = forged.invite("ali")
    own = SigningKey.generate()
    realm.join(str(text), own, at_machine="ali-laptop")
    ali = realm.using(own)
    ali.bind_sign_in(_plus_token(ali, idp, "k-ali", "ali@acme.example"), seen=_seen(idp))
    ali.release_mailbox("omar@acme.example", to="noor", reason="omar left; noor has it")
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert "noor" in realm.state().signed_in


def test_an_entra_binding_an_earlier_version_made_on_email_verified_stops_no_fold(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running program (review3): at Entra with --email-domain, the version before
    signinfollow bound omar on ``email`` with an ``email_verified`` claim (a tenant whose
    claims mapping sends one). Today's rule reads verified_primary_email or xms_edov instead;
    the fold judged that old binding by today's rule inside the authorisation step, so the
    whole log stopped as tampered for everyone. Now the binding is set aside (status says why,
    and the way), and the program goes on; a new sign-in with the claim is refused as before."""
    _answering_as(monkeypatch, idp, ENTRA)
    lena.set_up_sign_in(ENTRA, "inhouse", domain="acme.example")
    omar = enrol(lena, "omar", team="support", machine="omar-laptop")
    import jwt

    token = _entra(omar, idp, "e-omar", preferred_username="omar@acme.example")
    body = jwt.decode(token, options={"verify_signature": False})
    token = idp.mint({**body, "email": "omar@acme.example", "email_verified": True})
    with pytest.raises(SignInError, match=r"only a verified address at acme\.example"):
        omar.bind_sign_in(token, seen=_seen(idp))
    # as the earlier version recorded it
    omar._append(EventKind.PERSON_SIGNED_IN, "omar", {"id_token": token, "seen": _seen(idp)})
    state = lena.state()
    assert state.tampered is None, state.tampered
    assert "omar" not in state.signed_in
    assert "omar" in state.set_aside
    assert "only a verified address at acme.example" in state.set_aside["omar"][1]
    assert "xms_edov" in _said(["status"], lead_env(lena))
    # the log still takes what comes next
    ali = enrol(lena, "ali", team="support", machine="ali-laptop")
    good = _entra(ali, idp, "e-ali", email="ali@acme.example", xms_edov=True)
    ali.bind_sign_in(good, seen=_seen(idp))
    assert "ali" in lena.state().signed_in


def test_a_released_mailbox_goes_only_to_the_person_the_release_names(
    realm: Program, idp: StandinIdP
) -> None:
    """review3's hole: a release named no new holder, so whoever signed in at the mailbox next
    held it. omar left; lena revoked his keys and ali released omar@acme.example "for the new
    hire"; omar's mail is forwarded to lena (common for a leaver), so she resets his realm
    password and signs an invented 'zed' in with it (same account, a new name). Now the release
    names noor (`--to noor`) and binds only her: zed is refused, naming noor and the way out;
    zed's sign-in appended around the API binds nobody (status says why); noor gets in."""
    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    ali.release_mailbox("omar@acme.example", to="noor", reason="omar left; noor has it")
    zed = enrol(realm, "zed", team="support", machine="lenas-vm")
    token = _plus_token(zed, idp, "k-omar", "omar@acme.example")
    with pytest.raises(SignInError, match=r"released \(event \d+\) to noor alone") as refused:
        zed.bind_sign_in(token, seen=_seen(idp))
    assert "release-mailbox omar@acme.example --to zed" in str(refused.value)
    zed._append(EventKind.PERSON_SIGNED_IN, "zed", {"id_token": token, "seen": _seen(idp)})
    state = realm.state()
    assert state.tampered is None and "zed" not in state.signed_in
    assert "to noor alone" in state.set_aside["zed"][1]
    assert "released (event" in _said(["status"], lead_env(realm))
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert "noor" in realm.state().signed_in


def test_a_release_names_a_person_of_the_program_with_no_other_mailbox(
    realm: Program, idp: StandinIdP, tmp_path: Path
) -> None:
    """--to is required, and names someone the address can be given to: an enrolled person
    (not a name typed up) who has not signed in with another mailbox (ali cannot give omar's
    address to herself, nor to lena). A release nobody signed in after may be made again,
    naming another: the way out a refused new hire is told."""
    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    with pytest.raises(NotAllowed, match="'nobody' is no person of this program"):
        ali.release_mailbox("omar@acme.example", to="nobody", reason="omar left")
    for taken in ("ali", "lena"):
        with pytest.raises(NotAllowed, match=f"{taken} signed in with another mailbox"):
            ali.release_mailbox("omar@acme.example", to=taken, reason="omar left")
    assert not realm.state().mailbox_released
    env = enrol_cli(realm, "sam", tmp_path / "keys", team="support", signed_in=False)
    sam = realm.using(load_key(Path(env["INHOUSE_KEY"])))
    sam.bind_sign_in(_plus_token(sam, idp, "k-sam", "sam@acme.example"), seen=_seen(idp))
    from inhouse.cli.app import app

    found = CliRunner().invoke(
        app, ["sign-in", "release-mailbox", "omar@acme.example", "--reason", "left"], env=env
    )
    assert found.exit_code == 2 and "--to" in found.output, found.output
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    enrol(realm, "nour", team="support", machine="nour-laptop")
    ali.release_mailbox("omar@acme.example", to="nour", reason="omar left; a typo")
    ali.release_mailbox("omar@acme.example", to="noor", reason="omar left; noor has it")
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert realm.state().signed_in["noor"]


def test_a_release_recorded_before_releases_named_anyone_lets_the_next_in(
    request: pytest.FixtureRequest, idp: StandinIdP
) -> None:
    """Old logs: a release the version before `--to` recorded (no name), in a log every event
    of which that version wrote (rules 5: every inhouse stamping rules 6 names who a release
    gives the mailbox to), keeps working as it did: the next person to sign in at it holds it."""
    from inhouse.program.checks import TEAM_READING
    from tests.test_exit_rules_floor import _older_inhouse

    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older, TEAM_READING - 1)
        realm: Program = request.getfixturevalue("realm")
        ali = _colleague(realm, idp, "ali", "ali@acme.example")
        omar = _colleague(realm, idp, "omar", "omar@acme.example")
        for key in omar.state().keys_of("omar"):
            realm.revoke_key(key.key_id)
        ali._append(
            EventKind.MAILBOX_RELEASED, "ali", {"mailbox": "omar@acme.example", "reason": "left"}
        )
    assert realm.state().rules_seen < TEAM_READING
    assert realm.state().mailbox_released and not realm.state().mailbox_released_to
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert "noor" in realm.state().signed_in


@pytest.mark.parametrize(
    "odd",
    [
        {"verified_primary_email": []},
        {"verified_primary_email": ""},
        {"verified_primary_email": 5},
        {"verified_primary_email": [None, "", 3]},
        {"verified_primary_email": {"address": "omar@acme.example"}},
        {"email": "omar@acme.example", "xms_edov": "yes"},
        {"email": "omar@acme.example", "xms_edov": [True]},
        {"email": ["omar@acme.example"], "xms_edov": True},
        {"email": "", "xms_edov": True},
    ],
)
def test_odd_entra_claim_shapes_are_no_address_and_the_refusal_says_why(
    entra: Program, idp: StandinIdP, odd: dict[str, object]
) -> None:
    """A guard (review3): Entra tenants send claims in shapes inhouse does not read (a list
    where a string is expected, an empty string, a number, xms_edov spelt otherwise). None of
    them crashes the sign-in or counts as an address: the user name at the initial domain is
    judged, and the refusal names it and the way out."""
    omar = enrol(entra, "omar", team="support", machine="omar-laptop")
    token = _entra(omar, idp, "e-omar", preferred_username="omar@acmesmall.onmicrosoft.com", **odd)
    with pytest.raises(SignInError, match="initial domain") as refused:
        omar.bind_sign_in(token, seen=_seen(idp))
    assert WAY_OUT in str(refused.value)
    assert "omar" not in entra.state().signed_in


def test_a_release_to_a_name_the_lead_joined_from_her_own_machine_binds_nobody(
    realm: Program, idp: StandinIdP
) -> None:
    """review (reviewA): `--to` binds only the person it names, but the name may be one the
    lead invited and joined herself, from her own machine. omar left and his mail is forwarded
    to lena; she invites 'zed', joins him with a key made where she enrolled, and tells ali
    the new hire is zed; ali releases omar@acme.example to zed, and lena signs in as zed with
    omar's reset account: one person, two names. A key made on a lead's machine is hers to
    sign with, whoever it names, so it takes no released mailbox (the way out is said); the
    real new hire, joined from a machine of their own, gets in."""
    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    own = realm.state().keys[realm.key.key_id].machine
    assert own
    zed = enrol(realm, "zed", team="support", machine=own)
    ali.release_mailbox("omar@acme.example", to="zed", reason="omar left; zed has it")
    token = _plus_token(zed, idp, "k-omar", "omar@acme.example")
    with pytest.raises(SignInError, match="a machine of their own") as refused:
        zed.bind_sign_in(token, seen=_seen(idp))
    assert "rollout lead" in str(refused.value) and "lena" in str(refused.value)
    zed._append(EventKind.PERSON_SIGNED_IN, "zed", {"id_token": token, "seen": _seen(idp)})
    state = realm.state()
    assert state.tampered is None and "zed" not in state.signed_in
    assert "a machine of their own" in state.set_aside["zed"][1]
    # the honest new hire, from her own laptop, released to by name
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    ali.release_mailbox("omar@acme.example", to="noor", reason="omar left; noor has it")
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert "noor" in realm.state().signed_in


def test_a_release_naming_nobody_where_the_log_shows_releases_name_one_counts_for_nothing(
    realm: Program, idp: StandinIdP
) -> None:
    """review (reviewA), mixed versions: a release naming nobody let whoever signed in next
    hold the mailbox. ali's inhouse is from before `--to` (or the release is appended around
    the API); omar's mail is forwarded to lena, who signs an invented zed in at it before the
    new hire does. Where the log shows rules 6 in force (an inhouse that names who a release
    gives the mailbox to wrote it: the floor, as for acceptances), such a release counts for
    nothing, and status says why and the way out; ali's release naming noor lets noor in."""
    from inhouse.program.checks import TEAM_READING

    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    assert realm.state().rules_seen >= TEAM_READING
    ali._append(
        EventKind.MAILBOX_RELEASED, "ali", {"mailbox": "omar@acme.example", "reason": "left"}
    )
    state = realm.state()
    assert state.tampered is None and not state.mailbox_released
    assert any("names nobody it gives the mailbox to" in line for line in state.unbound)
    assert "releases it again naming the person" in _said(["status"], lead_env(realm))
    zed = enrol(realm, "zed", team="support", machine="zed-laptop")
    with pytest.raises(SignInError, match="one mailbox is one person"):
        zed.bind_sign_in(_plus_token(zed, idp, "k-zed", "omar@acme.example"), seen=_seen(idp))
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    ali.release_mailbox("omar@acme.example", to="noor", reason="omar left; noor has it")
    noor.bind_sign_in(_plus_token(noor, idp, "k-noor", "omar@acme.example"), seen=_seen(idp))
    assert "noor" in realm.state().signed_in


def test_a_leaver_s_own_account_under_a_new_name_needs_a_release(
    realm: Program, idp: StandinIdP
) -> None:
    """review (reviewA), closed (rebind): omar left and his mail is forwarded to lena; she
    revokes his keys (a lead may), resets his realm password, and signs an invented zed in
    with omar's own account. Where the log shows rules 6 in force, an identity once bound to
    one person binds another name only through a release naming it: refused by the API, and
    appended around it, it binds nobody, `status` saying why and the way out."""
    _colleague(realm, idp, "ali", "ali@acme.example")
    omar = _colleague(realm, idp, "omar", "omar@acme.example")
    for key in omar.state().keys_of("omar"):
        realm.revoke_key(key.key_id)
    zed = enrol(realm, "zed", team="support", machine="zed-laptop")
    token = _plus_token(zed, idp, "k-omar", "omar@acme.example")
    with pytest.raises(SignInError, match="binds another name only through a release naming"):
        zed.bind_sign_in(token, seen=_seen(idp))
    zed._append(EventKind.PERSON_SIGNED_IN, "zed", {"id_token": token, "seen": _seen(idp)})
    state = realm.state()
    assert state.tampered is None and "zed" not in state.signed_in and "zed" in state.set_aside
    said = _said(["status"], lead_env(realm))
    assert "omar signed in with" in said
    assert "release-mailbox omar@acme.example --to zed" in said


def test_a_binding_made_by_mistake_is_handed_to_its_own_person_by_a_release(
    realm: Program, idp: StandinIdP
) -> None:
    """The honest fix of a mistaken binding, where the log shows rules 6 in force: noor
    signed in on a machine whose browser held omar's account. A lead revokes noor's key;
    omar's own sign-in is refused until ali (a colleague, no lead) releases the mailbox
    naming omar; then omar binds his own account, and noor, invited again, hers."""
    ali = _colleague(realm, idp, "ali", "ali@acme.example")
    noor = enrol(realm, "noor", team="support", machine="noor-laptop")
    noor.bind_sign_in(_plus_token(noor, idp, "k-omar", "omar@acme.example"), seen=_seen(idp))
    realm.revoke_key(noor.key.key_id)
    omar = enrol(realm, "omar", team="support", machine="omar-laptop")
    with pytest.raises(SignInError, match=r"release-mailbox omar@acme\.example --to omar"):
        omar.bind_sign_in(_plus_token(omar, idp, "k-omar", "omar@acme.example"), seen=_seen(idp))
    ali.release_mailbox("omar@acme.example", to="omar", reason="noor signed in as omar")
    omar.bind_sign_in(_plus_token(omar, idp, "k-omar", "omar@acme.example"), seen=_seen(idp))
    again = enrol(realm, "noor", team="support", machine="noor-laptop-2")
    again.bind_sign_in(_plus_token(again, idp, "k-noor", "noor@acme.example"), seen=_seen(idp))
    state = realm.state()
    assert state.signed_in["omar"].subject == "k-omar" and state.vouched("omar")
    assert state.signed_in["noor"].subject == "k-noor" and state.vouched("noor")


def test_a_leaver_s_own_account_under_a_new_name_in_an_old_log_reads_as_before(
    request: pytest.FixtureRequest, idp: StandinIdP
) -> None:
    """Old logs: an account rebound to another name after its keys were revoked, in a log
    every event of which a version before rules 6 wrote, still binds as it did."""
    from inhouse.program.checks import TEAM_READING
    from tests.test_exit_rules_floor import _older_inhouse

    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older, TEAM_READING - 1)
        realm: Program = request.getfixturevalue("realm")
        _colleague(realm, idp, "ali", "ali@acme.example")
        omar = _colleague(realm, idp, "omar", "omar@acme.example")
        for key in omar.state().keys_of("omar"):
            realm.revoke_key(key.key_id)
        zed = enrol(realm, "zed", team="support", machine="zed-laptop")
        zed.bind_sign_in(_plus_token(zed, idp, "k-omar", "omar@acme.example"), seen=_seen(idp))
    state = realm.state()
    assert state.rules_seen < TEAM_READING and state.tampered is None
    assert state.signed_in["zed"].subject == "k-omar"


# -- an account its issuer named no address for, released by a colleague who is no lead ----


def _bare_token(person: Program, idp: StandinIdP, subject: str) -> str:
    """An account at the organisation's Keycloak for which it names no e-mail address."""
    claims = idp.claims(subject, nonce=nonce_for(person.state().program_id, person.key.key_id))
    return idp.mint({**claims, "iss": KEYCLOAK})


@pytest.fixture
def bare(lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch) -> Program:
    """The realm set up with no domain, whose tokens name no address."""
    _answering_as(monkeypatch, idp, KEYCLOAK)
    lena.set_up_sign_in(KEYCLOAK, "inhouse")
    lena.bind_sign_in(_bare_token(lena, idp, "k-lena"), seen=_seen(idp))
    return lena


def test_a_binding_with_no_address_is_released_to_its_own_person(
    bare: Program, idp: StandinIdP, tmp_path: Path
) -> None:
    """noor signed in in a browser holding omar's account, which the realm names no address
    for. A binding with no address could not be released (release-mailbox names a mailbox),
    so omar was told to sign in "with an account of your own" for good. Now a colleague who is
    no lead releases the account, in the same safe way: shown, asked, typed yes; the lead
    cannot, nor anyone while noor's key still signs with it, nor omar for himself."""
    ali = enrol(bare, "ali", team="support", machine="ali-laptop")
    ali.bind_sign_in(_bare_token(ali, idp, "k-ali"), seen=_seen(idp))
    noor = enrol(bare, "noor", team="support", machine="noor-laptop")
    noor.bind_sign_in(_bare_token(noor, idp, "k-omar"), seen=_seen(idp))
    assert bare.state().signed_in["noor"].email is None
    omar = enrol(bare, "omar", team="support", machine="omar-laptop")
    with pytest.raises(NotAllowed, match="noor still signed in with k-omar"):
        ali.release_account("k-omar", to="omar", reason="noor signed in as omar")
    bare.revoke_key(noor.key.key_id)
    with pytest.raises(SignInError, match=r"release-account k-omar --to omar") as refused:
        omar.bind_sign_in(_bare_token(omar, idp, "k-omar"), seen=_seen(idp))
    assert "named no address for it" in str(refused.value)
    with pytest.raises(NotAllowed, match="rollout lead"):
        bare.release_account("k-omar", to="omar", reason="for omar")
    with pytest.raises(NotAllowed, match="has not signed in"):
        omar.release_account("k-omar", to="omar", reason="mine")
    with pytest.raises(NotAllowed, match="ali signed in with another account"):
        ali.release_account("k-omar", to="ali", reason="mine now")
    # through the CLI, as sam types it: shown, asked; no answer or a no records nothing
    env = enrol_cli(bare, "sam", tmp_path / "keys", team="support", signed_in=False)
    sam = bare.using(load_key(Path(env["INHOUSE_KEY"])))
    sam.bind_sign_in(_bare_token(sam, idp, "k-sam"), seen=_seen(idp))
    args = ["sign-in", "release-account", "k-omar", "--to", "omar", "--reason", "noor, by mistake"]
    from inhouse.cli.app import app

    for answer, why in ((None, "the question got no answer"), ("n\n", "release an account only")):
        unread = CliRunner().invoke(app, args, env=env, input=answer)
        assert unread.exit_code == 3, unread.output
        assert f"not released, nothing recorded for sam: {why}" in " ".join(unread.stderr.split())
        shown = " ".join(unread.stdout.split())
        assert "you, sam, release the account k-omar" in shown, shown
        assert "to omar alone: only they may sign in with it from now on" in shown, shown
        assert re.search(r"signed in with it before: noor \(event \d+\)", shown), shown
        assert "why: noor, by mistake" in shown, shown
    assert not bare.state().account_released
    said = _said(args, env, answer="y\n")
    assert "Released the account k-omar to omar" in said, said
    omar.bind_sign_in(_bare_token(omar, idp, "k-omar"), seen=_seen(idp))
    state = bare.state()
    assert state.signed_in["omar"].subject == "k-omar" and state.vouched("omar")
    assert state.tampered is None and not state.unbound
    # released to omar alone: anyone else signing in with it binds nobody
    zed = enrol(bare, "zed", team="support", machine="zed-laptop")
    with pytest.raises(SignInError, match=r"\(k-omar\) for omar already"):
        zed.bind_sign_in(_bare_token(zed, idp, "k-omar"), seen=_seen(idp))


def test_an_account_release_the_lead_appends_around_the_api_counts_for_nothing(
    bare: Program, idp: StandinIdP
) -> None:
    """The forgery: lena, alone, appends the release herself for a name of hers. It counts
    for nothing, and status says why; the account still binds nobody else."""
    noor = enrol(bare, "noor", team="support", machine="noor-laptop")
    noor.bind_sign_in(_bare_token(noor, idp, "k-omar"), seen=_seen(idp))
    bare.revoke_key(noor.key.key_id)
    zed = enrol(bare, "zed", team="support", machine="zed-laptop")
    bare._append(EventKind.MAILBOX_RELEASED, "lena",
                 {"account": "k-omar", "to": "zed", "reason": "mine"})  # fmt: skip
    state = bare.state()
    assert state.tampered is None and not state.account_released
    assert any("release of the account k-omar counts for nothing" in u for u in state.unbound)
    with pytest.raises(SignInError, match="release-account k-omar --to zed"):
        zed.bind_sign_in(_bare_token(zed, idp, "k-omar"), seen=_seen(idp))
