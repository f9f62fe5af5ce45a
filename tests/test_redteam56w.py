"""Red team of plays 5 and 6, the rollout lead alone (second round): each test is a forgery
lena tries with evidence she made herself. The gateway's host is every lead who enrolled one of
its keys, on that host (exit rule 7): the same forgery where lena enrolled the gateway's first
key is tests/test_redteam56.py's. The confirmations' fixes are tested where their commands are:
tests/support/test_confirm.py, test_review.py, test_session_tickets.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.identity import SigningKey
from inhouse.indicators.findings import open_finding
from inhouse.program import Program
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock
from tests.people import enrol


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """lena leads; rob, a co-lead, set the gateway up first; pia, on her own laptop, uses it."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    rob = enrol(lena, "rob", team="platform", roles=["rollout-lead"])
    pia = enrol(lena, "pia", team="sales")
    yield {"lena": lena, "rob": rob, "pia": pia}
    lena.close()


def _findings(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    return evaluate("findings-fed-back", ctx)


def test_a_finding_opened_with_a_key_made_where_the_lead_enrolled_the_gateways_new_key(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.indicators.test_findings_confirmed import _lock, _verify
    from tests.locks import lock_payload

    lena, rob, pia = cast["lena"], cast["rob"], cast["pia"]
    first = SigningKey.generate()
    with monkeypatch.context() as patch:  # rob enrols the gateway's first key on its first host
        patch.setenv(OTHER_COMPUTER, "old-gateway-host")
        ENROL_SERVICE_HERE(rob, GATEWAY_SERVICE, first)
    clock.advance(hours=1)
    lena.revoke_key(first.key_id)  # the host rebuilt: lena enrols the new key where she runs it
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    gus = enrol(lena, "gus", team="ops", machine=_on_gateway_host(monkeypatch))
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(gus, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    relock = lock_payload("lena", rules_hash="s" * 12)
    _lock(lena, {**relock, "closes": [finding.id]})
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _verify(pia, relock["lock_hash"], "pia-laptop")
    result = _findings(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"finding #{finding.id} was opened by gus, whose keys were all enrolled from" in (
        result.reason
    )
    assert "after lena enrolled its key there" in result.reason, result.reason  # not rob
    # a play 6 exit judged on it keeps it (the rule before)
    ctx = context_for(lena.state(), lena.clock()).with_params({"period_days": 92})
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("findings-fed-back", dataclasses.replace(ctx, exited={"measure": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason


def _on_gateway_host(monkeypatch: pytest.MonkeyPatch) -> str:
    from tests.test_redteam4 import _gateway_host

    return _gateway_host(monkeypatch)
