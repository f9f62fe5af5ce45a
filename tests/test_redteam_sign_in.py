"""The lone lead against the sign-in audit, a third time: a key pinned by hand by a co-lead of
her own, witnessed by the lead's own real account. Walked the cheapest way (the Python API and
one event appended around it with ``Program._append``), against the stand-in identity provider
on loopback (:mod:`inhouse.testing.standin_idp`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inhouse.identity.signin import discover, jwk_thumbprint, nonce_for
from inhouse.identity.signin import sign_in as oidc
from inhouse.program import Program
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP, browse
from tests.conftest import Clock
from tests.people import enrol


def _a_co_lead_pins_a_key_of_hers(
    folder: Path, clock: Clock, idp: StandinIdP
) -> tuple[Program, Any, list[str]]:
    """lena's program with the sign-in set up, and carol, a co-lead of lena's own, pinning a
    key lena made (kid ``k2``) beside the issuer's, around the API: the program as lena, the
    key's private half, and every pinned key's thumbprint."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    lena = Program.init(folder, "Acme", "lena", clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    carol = enrol(lena, "carol", team="ops", roles=["rollout-lead"], machine="carol-box")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "use": "sig", "kid": "k2"}
    carol._append(EventKind.SIGN_IN_SET_UP, "carol",
                  {"issuer": idp.issuer, "client_id": "inhouse", "keys": [own]})  # fmt: skip
    config = lena.state().sign_in
    assert config is not None and len(config.keys) == 2
    return lena, private, [jwk_thumbprint(k) for k in config.keys]


def test_a_co_lead_pins_a_key_the_lead_witnesses_and_it_stays_doubtful(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The lead holds one account. She invites a co-lead of her own (no account anywhere), who
    pins a key of the lead's making beside the issuer's, around the API (the fold takes a
    lead's set-up that keeps the issuer). The lead then signs in with her one real account,
    resting on the issuer's published key, and says her machine saw every pinned key published.
    She is not its pinner and her account is not the pinner's, so she "witnessed" it, and
    every alias she mints a token for with it is a colleague the audit does not question: one
    person, any number of signed-in people, and `sign-in audit` clean. A rollout lead is no
    witness for a pin (as a co-lead of one's own is no voucher for a gateway's host): leads pin
    keys, and one lead's word for another's pin is one hand's."""
    lena, private, everything = _a_co_lead_pins_a_key_of_hers(_isolated, clock, idp)
    # the lead's one real account, at the provider, from her own machine: she lies about `seen`
    idp.login("u-lena", email="u-lena@acme.example")
    token = oidc(discover(idp.issuer), "inhouse",
                 nonce_for(lena.state().program_id, lena.key.key_id),
                 open_browser=browse, say=lambda _: None, timeout=30)  # fmt: skip
    lena.bind_sign_in(token, seen=everything)
    # an alias, with an account the lead minted with the key carol pinned
    zed = enrol(lena, "zed", team="ops", machine="zed-laptop")
    claims = idp.claims("u-zed", nonce=nonce_for(lena.state().program_id, zed.key.key_id))
    zed.bind_sign_in(idp.mint(claims, kid="k2", key=private))
    state = lena.state()
    assert state.vouched("zed") and state.vouched("lena")  # the fold takes both
    doubtful = lena.audit_sign_in().doubtful
    try:
        assert [k.kid for k in doubtful] == ["k2"], "the lead's word cleared her co-lead's pin"
        assert "lena" not in doubtful[0].seen_by
        # status cannot ask the issuer, but it names the later pin and the command that can
        (warning,) = [w for w in lena.status()["warnings"] if "pinned after" in w]
        assert "k2 by carol at event" in warning and "`inhouse sign-in audit`" in warning
    finally:
        lena.close()


@pytest.mark.usefixtures("log_before_team_reading")
def test_the_leads_account_lent_to_an_alias_witnesses_no_co_leads_pin(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The same pin, witnessed through a release: the lead's co-lead pins a key of the lead's
    making; the lead lends her one real account to an alias who is no lead (omar) for long
    enough to have him "see" every pinned key published, takes it back by revoking omar's key,
    and signs in with it herself. omar's account was never the pinner's, but it is a lead's:
    no witness, and the key stays doubtful."""
    lena, private, everything = _a_co_lead_pins_a_key_of_hers(_isolated, clock, idp)
    omar = enrol(lena, "omar", team="ops", machine="omar-desktop")
    idp.login("u-lena", email="u-lena@acme.example")  # her one real account, lent
    token = oidc(discover(idp.issuer), "inhouse",
                 nonce_for(lena.state().program_id, omar.key.key_id),
                 open_browser=browse, say=lambda _: None, timeout=30)  # fmt: skip
    omar.bind_sign_in(token, seen=everything)
    lena.revoke_key(omar.key.key_id)  # …and taken back
    token = oidc(discover(idp.issuer), "inhouse",
                 nonce_for(lena.state().program_id, lena.key.key_id),
                 open_browser=browse, say=lambda _: None, timeout=30)  # fmt: skip
    lena.bind_sign_in(token)
    zed = enrol(lena, "zed", team="ops", machine="zed-laptop")
    claims = idp.claims("u-zed", nonce=nonce_for(lena.state().program_id, zed.key.key_id))
    zed.bind_sign_in(idp.mint(claims, kid="k2", key=private))
    doubtful = lena.audit_sign_in().doubtful
    try:
        assert [k.kid for k in doubtful] == ["k2"], "omar, on the lead's account, witnessed it"
        assert doubtful[0].seen_by == ()
    finally:
        lena.close()
