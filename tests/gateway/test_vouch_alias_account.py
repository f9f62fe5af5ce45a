"""A vouch for the gateway's host is someone else's only under an account no rollout lead ever
held, and only once the lead who enrolled the gateway's key has signed in herself.

The forgery, the lone lead's (one account at the organisation's provider, u-lena): she sets up
the sign-in and does not sign in, runs the "gateway" on a machine of her own (she holds its
key), invents vic on a "laptop" of his, signs vic in with her own account, has vic run
`inhouse gateway vouch`, revokes vic's key (the documented release of a binding) and signs in
with u-lena herself. Her own drift review then pinned the versions play 5 asks for: the vouch's
rule asked whether vic signed in, never with whose account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import InvalidInput, NotAllowed
from inhouse.gateway.vouch import vouch_for_gateway
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.program.evaluation import context_for
from inhouse.support.drift import COLLECTOR as DRIFT
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.gateway.harness import digest_of, in_process, make_program, model_file
from tests.locks import lock_payload, made_lock, verified_by
from tests.people import enrol
from tests.test_sign_in import _sign_in

pytestmark = [pytest.mark.usefixtures("on_database"), pytest.mark.own_sign_in]

REVIEW = {"lock_hash": lock_payload("lena")["lock_hash"], "passed": True, "drifted": [],
          "findings": [], "nodes": ["local"], "pinning_enforced": True}  # fmt: skip


@pytest.fixture
def lena(_isolated: Path, clock: Clock, idp: StandinIdP) -> Iterator[Program]:
    """lena, a lead who set up the sign-in and has not signed in; the gateway's key on a host
    of its own has signed a drift review; her lock is recorded."""
    weights = model_file(_isolated)
    runtimes = {"local": {"family": "openai", "url": "http://127.0.0.1:9",
                          "model_path": str(weights)}}  # fmt: skip
    lead = make_program(_isolated, runtimes, {"tiny": digest_of(weights)}, clock=clock)
    lead.set_up_sign_in(idp.issuer, "inhouse")
    lead.as_service("gateway").record_fact(
        None, "drift.review", REVIEW, provenance=Provenance.MEASURED, collector=DRIFT
    )
    lead.record_fact(None, "baseline.lock", lock_payload("lena"), provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    yield lead
    lead.close()


def _vouch(program: Program, folder: Path, clock: Clock) -> Any:
    """``program``'s holder runs `inhouse gateway vouch` against the running gateway."""

    async def run() -> Any:
        async with in_process(folder, clock=clock) as (_, client):
            try:
                return await asyncio.to_thread(vouch_for_gateway, program, str(client.base_url))
            except (InvalidInput, NotAllowed) as err:
                return err

    return asyncio.run(run())


def _counted_reviews(program: Program) -> list[int]:
    return [f.id for f in build_context(program.state(), program.clock()).facts.of("drift.review")]


def _why_uncounted(program: Program) -> str:
    (item,) = [u for u in build_context(program.state(), program.clock()).uncounted
               if u.fact.kind == "drift.review"]  # fmt: skip
    return item.why


@pytest.mark.usefixtures("log_before_team_reading")
def test_a_gateway_host_vouched_for_by_an_alias_on_the_leads_own_account_counts_nothing(
    lena: Program, _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """docs/gateway.md "Whose host": vic signed in with u-lena, the account lena signs in with
    once vic's key is revoked: his vouch is lena's, and the gateway's figures count nothing."""
    vic = enrol(lena, "vic", team="support", machine="vic-laptop")
    _sign_in(vic, idp, "u-lena")
    fact = _vouch(vic, _isolated, clock)
    assert hasattr(fact, "id"), fact
    lena.revoke_key(vic.key.key_id)
    _sign_in(lena, idp, "u-lena")
    state = lena.state()
    assert state.vouched("lena") and state.signed_in["vic"].subject == "u-lena"

    result = evaluate("versions-pinned", context_for(lena.state(), clock.now))
    assert result.outcome is not Outcome.PASS, result.reason
    assert _counted_reviews(lena) == []
    said = (
        f"vic's vouch (fact #{fact.id}) is signed by vic with the account u-lena, which lena, "
        "a rollout lead, held"
    )
    assert said in _why_uncounted(lena)
    assert any(said in line for line in lena.status()["warnings"])


def test_a_vouch_waits_for_the_enrolling_lead_to_sign_in_and_then_counts(
    lena: Program, _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """vic, a colleague with his own account, vouches while lena has not signed in: until she
    does, her own account could sit behind vic's name, so the gateway's figures wait, and say
    so. Once she signs in with an account that is not vic's, the vouch counts (the honest
    path)."""
    vic = enrol(lena, "vic", team="support", machine="vic-laptop")
    _sign_in(vic, idp, "u-vic")
    fact = _vouch(vic, _isolated, clock)
    assert hasattr(fact, "id"), fact

    assert _counted_reviews(lena) == []
    waits = f"vic's vouch (fact #{fact.id}) waits for lena, who enrolled the key, to sign in"
    assert waits in _why_uncounted(lena)
    _sign_in(lena, idp, "u-lena")
    assert len(_counted_reviews(lena)) == 1
    verified_by(vic, made_lock("lena"))  # and vic stood her lock up: not her word alone
    result = evaluate("versions-pinned", context_for(lena.state(), clock.now))
    assert result.outcome is Outcome.PASS, result.reason
