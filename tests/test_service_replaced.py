"""A service's key replaced by one lead alone: she revokes the real gateway's key and enrols
one on a machine of hers, whose measurements then count. Shown on status, not refused (a rebuilt
host looks the same)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.drift import COLLECTOR as DRIFT
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock
from tests.locks import lock_payload
from tests.test_sign_in import _sign_in

LOCK = lock_payload("lena")


pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def lena(_isolated: Path, clock: Clock, idp: StandinIdP) -> Iterator[Program]:
    clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    yield lena
    lena.close()


def test_a_service_key_one_lead_replaced_is_named_on_status(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real gateway (the harness enrols it on 'gateway-host') reviewed drift and FAILED.
    lena enrols a second gateway key on her VM, revokes the real one (`person revoke-key`, as
    for a rebuilt host), and her VM's clean review passes. That is what a rebuilt host looks
    like too, so it is not refused; status names it on every machine: who replaced it, from
    where, since which event."""
    from inhouse.identity import SigningKey

    real = lena.as_service("gateway")  # harness: enrolled from 'gateway-host'
    real.record_fact(
        None, "drift.review",
        {"lock_hash": LOCK["lock_hash"], "passed": False, "drifted": ["m digest differs"],
         "findings": [], "nodes": ["n"], "pinning_enforced": True},
        provenance=Provenance.MEASURED, collector=DRIFT,
    )  # fmt: skip
    assert evaluate("versions-pinned", context_for(lena.state(), lena.clock())).outcome is (
        Outcome.FAIL
    )
    monkeypatch.setenv(OTHER_COMPUTER, "lenas-own-cloud-vm")
    mine = SigningKey.generate()
    ENROL_SERVICE_HERE(lena, "gateway", mine)
    monkeypatch.delenv(OTHER_COMPUTER)
    real_key = next(k for k in lena.state().keys_of("gateway") if k.key_id != mine.key_id)
    lena.revoke_key(real_key.key_id)
    lena.clock.advance(minutes=5)  # type: ignore[attr-defined]
    lena.using(mine).record_fact(
        None, "drift.review",
        {"lock_hash": LOCK["lock_hash"], "passed": True, "drifted": [], "findings": [],
         "nodes": ["n"], "pinning_enforced": True},
        provenance=Provenance.MEASURED, collector=DRIFT,
    )  # fmt: skip
    warnings = lena.status()["warnings"]
    [said] = [w for w in warnings if "the gateway service's key was replaced by lena alone" in w]
    assert f"revoked {real_key.key_id} (from {real_key.machine})" in said
    new = next(k for k in lena.state().keys_of("gateway") if k.key_id == mine.key_id)
    assert f"enrolled {mine.key_id} from {new.machine}" in said
