"""Red team (identity): a signing key of the lead's own, pinned beside the provider's.

The sign-in vouches for whoever the pinned keys' ID tokens name. A lead pins the provider's
keys (`sign-in setup`, `sign-in keys`), reading them from its key set over https; appended
around the API, a `sign-in.set_up` naming the same issuer, client and domain may pin any key
under a fresh key id (only a key id the log already pins is held to its material). lena, alone,
pins an RSA key of her own, mints an ID token for an account "u-ali" at the organisation's own
issuer, bound to the key of "ali", an alias she enrols from a machine of hers, and ali's verify
is play 2's second person.

Left open, a strict xfail: the fold cannot read the issuer's key set (it is re-run offline,
years later), and every key it pins is the lead's word: the provider's real key as much as
hers. `sign-in audit` names the key as doubtful, asking the issuer over the network and reading
what each colleague's machine saw published when they signed in (a binding's ``seen``); but an
alias's ``seen`` is the lead's to write, so the log alone holds no root to trust a pinned key
by. `status` names a key pinned after the set-up; one written into the set-up itself is named
by nothing but the audit. Closing it needs a product decision: an exit that rests on a
sign-in asks for a recent audit recorded by someone who is not a lead, from their own machine,
or the organisation's key set pinned in a file its identity team signs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.identity.signin import nonce_for
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_sign_in import LOCK, _judge, _sign_in, _verify


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a lead pins a signing key of her own beside the provider's "
    "(a sign-in.set_up appended around the API, same issuer, a fresh kid) and mints an ID "
    "token for an alias; the fold cannot ask the issuer which keys it publishes, so the alias "
    "counts as a second person; only `sign-in audit` (network) names the key as doubtful",
)
def test_an_alias_bound_with_a_key_the_lead_pinned_is_no_second_person(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    # her own key, pinned under a kid the provider never used: the fold takes it
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "use": "sig", "kid": "k2"}
    lena._append(EventKind.SIGN_IN_SET_UP, "lena",
                 {"issuer": idp.issuer, "client_id": "inhouse", "keys": [own]})  # fmt: skip
    ali = enrol(lena, "ali", team="ops", machine="ali-laptop")
    claims = idp.claims("u-ali", nonce=nonce_for(lena.state().program_id, ali.key.key_id))
    ali.bind_sign_in(idp.mint(claims, kid="k2", key=private), seen=["whatever lena writes"])
    _verify(ali)
    assert lena.state().tampered is None  # the fold took every event
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is not Outcome.PASS, result.reason
    lena.close()
