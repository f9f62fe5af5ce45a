"""The drift review on the real llama.cpp engine (llama-cpp-python's server on the generated test
model, its own file): locked, reviewed clean, then the model file replaced with another test
model (another seed) — the review names the node and the model and both digests, and
``versions-pinned`` fails on it. Then the check's other ways to fail: no gateway pinning, an
old review, a failing one, a review of another lock, and the forgeries (a hand-typed review, a
"measured" one made through the Python API with findings in it, one the lead signed through the
Python API, one signed by a gateway key the lead enrolled on their own laptop). A review is
signed by the gateway's own key (enrolled on a host of its own, as the test harness does)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.baseline.lock import (
    Lock,
    LockedModel,
    LockedRuntime,
    lock_baseline,
    lock_fact_payload,
    write_lock,
)
from inhouse.cli._common import Typer
from inhouse.cli.support_inventory import register
from inhouse.errors import ConfigError, NotAllowed
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import exit_results
from inhouse.program.people import PeopleMixin
from inhouse.runtimes import make_test_model
from inhouse.runtimes.digests import sha256_digest
from inhouse.support.drift import COLLECTOR, record_drift_review
from tests.conftest import ENROL_SERVICE_HERE, Clock
from tests.engine import Engine, needs_engine, serve_test_model
from tests.locks import verified_by
from tests.people import enrol, lead_env, vouch_for_gateway_host
from tests.runtimes.standin import free_port

runner = CliRunner()
support = Typer()
register(support)
MODEL = "inhouse-test-model"


def judge(program: Program, check: str, now: object = None) -> Result:
    """One of play 5's exit checks, as `inhouse status` judges it (counting rule included)."""
    play = next(p for p in program.playbook.plays if p.id == "support")
    for item in exit_results(play, program.state(), now or program.clock()):  # type: ignore[arg-type]
        if item.ref.check == check:
            return item.result
    raise AssertionError(f"play 5 has no exit check {check}")


def run(*args: str, env: dict[str, str], code: int = 0) -> str:
    result = runner.invoke(support, list(args), env=env)
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Engine]:
    """The real engine on a test model file of this test's own (the session's is shared)."""
    model = make_test_model(tmp_path / "models" / f"{MODEL}.gguf")
    with serve_test_model(model, tmp_path / "server.log", "--n_ctx", "256") as engine:
        yield engine


def configure(folder: Path, text: str) -> None:
    config = folder / "inhouse.toml"
    config.write_text(config.read_text() + "\n" + text)


@needs_engine
def test_drift_review_on_the_real_engine_reports_the_replaced_model_file(
    _isolated: Path, served: Engine
) -> None:
    program = Program.init(_isolated, "Acme", "lena")
    configure(_isolated, (
        f'[runtimes.local]\nfamily = "llamacpp"\nurl = "{served.url}"\n'
        f'model_path = "{served.model}"\n\n'
        f'[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["{MODEL}"]\n\n[gateway]\n'
    ))  # fmt: skip
    locked = lock_baseline(program, None).lock
    env = lead_env(program)
    node = f"local at {served.url}"

    clean = json.loads(run("drift-review", "--json", env=env))
    assert clean["passed"] and clean["findings"] == [] and clean["pinning_enforced"]
    vic = enrol(program, "vic", team="ops")
    vouch_for_gateway_host(vic)  # it counts from then on
    verified_by(vic, locked)  # and vic stood the lock up: it is not lena's word alone
    assert [n["node"] for n in clean["nodes"]] == [node]
    assert clean["nodes"][0]["models"][0]["digest"] == locked.models[0].digest
    assert judge(program, "versions-pinned").outcome is Outcome.PASS

    before = sha256_digest(served.model, cached=False)
    make_test_model(served.model, seed=1)  # the file replaced under the running server
    after = sha256_digest(served.model, cached=False)
    assert before != after

    out = run("inventory", env=env, code=1)  # shows the drift, records nothing
    assert f"{node}: {MODEL} digest-mismatch" in out.replace("\n", "")
    review = json.loads(run("drift-review", "--json", env=env))
    assert not review["passed"]
    assert review["findings"] == [
        {
            "node": node,
            "model": MODEL,
            "problem": "digest-mismatch",
            "detail": f"locked {before}, served {after}",
        }
    ]
    fact = program.state().facts[-1]
    assert (fact.kind, fact.collector, fact.by) == ("drift.review", COLLECTOR, "gateway")
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.FAIL
    assert f"{node}: {MODEL} digest-mismatch (locked {before}, served {after})" in result.reason


# -- the check's other ways to fail, and its forgeries (no engine needed) -----------------------

DIGEST = "sha256:" + "d" * 64


#: per program folder: vic, who uses the gateway and never led (what he vouches for counts)
_VIC: dict[Path, Program] = {}


def locked_program(
    folder: Path, clock: Clock, *, gateway: bool = True, vouched: bool = True
) -> Program:
    """A program whose lock pins model ``m`` on runtime ``local``, which is down (a port nobody
    listens on): these tests are about the check, the stand-ins are in test_inventory.py.
    ``vouched``: the gateway's key is enrolled, and vic, signed in, has vouched for its host
    (what makes anything it signs count: docs/gateway.md, "Whose host")."""
    program = Program.init(folder, "Acme", "lena", clock=clock)
    _VIC[folder] = vic = enrol(program, "vic", team="ops")
    if vouched:
        service_program(program)
        vouch_for_gateway_host(vic)
    url = f"http://127.0.0.1:{free_port()}"
    configure(folder, (
        f'[runtimes.local]\nfamily = "openai"\nurl = "{url}"\nconnect_timeout = 1\n'
        + ("\n[gateway]\n" if gateway else "")
    ))  # fmt: skip
    lock = Lock(
        owner="lena", runtime=LockedRuntime(name="local", family="openai"),
        models=[LockedModel(name="m", digest=DIGEST)], python="3.12", inhouse="0.1.0",
    )  # fmt: skip
    lock = lock.model_copy(update={"lock_hash": lock.computed_hash()})
    write_lock(folder, lock)
    program.record_fact(
        None, "baseline.lock", lock_fact_payload(lock), provenance=Provenance.MEASURED,
        collector="inhouse baseline lock",
    )  # fmt: skip
    verified_by(vic, lock)  # play 2's second person stood it up: the lock is not lena's word
    return program


def clean_payload(program: Program, **changes: object) -> dict[str, object]:
    lock = next(f for f in reversed(program.state().facts) if f.kind == "baseline.lock")
    lock = lock.payload["lock_hash"]
    payload = {"lock_hash": lock, "passed": True, "drifted": [], "findings": [],
               "nodes": ["local at http://127.0.0.1:1"], "pinning_enforced": True}  # fmt: skip
    return {**payload, **changes}


def gateway_review(program: Program, **changes: object) -> None:
    """A review payload recorded through the Python API with the gateway's own key (enrolled on
    its host): what the check trusts, so these tests reach its other ways to fail."""
    service_program(program).record_fact(
        None, "drift.review", clean_payload(program, **changes), provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip


def test_a_node_that_is_down_fails_the_review_and_the_check(_isolated: Path, clock: Clock) -> None:
    program = locked_program(_isolated, clock)
    done = record_drift_review(program)
    assert done.fact.by == "gateway"  # the gateway's key signs it, not lena who ran it
    assert not done.report.passed and done.report.down
    [finding] = done.fact.payload["findings"]
    assert (finding["model"], finding["problem"]) == ("m", "missing")
    assert "did not answer" in finding["detail"]
    assert "down" in done.fact.payload["drifted"][0]
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.FAIL and "m missing (the node did not answer" in result.reason


def test_versions_pinned_fails_on_an_old_review_and_without_gateway_pinning(
    _isolated: Path, clock: Clock
) -> None:
    program = locked_program(_isolated, clock)
    gateway_review(program)
    assert judge(program, "versions-pinned").outcome is Outcome.PASS
    later = clock.now + timedelta(days=31)
    old = judge(program, "versions-pinned", later)
    assert old.outcome is Outcome.FAIL and "is older than 30 days" in old.reason
    gateway_review(program, pinning_enforced=False)
    unpinned = judge(program, "versions-pinned")
    assert unpinned.outcome is Outcome.FAIL and "pinning was not on" in unpinned.reason


def test_without_a_gateway_table_the_review_records_pinning_off(
    _isolated: Path, clock: Clock
) -> None:
    program = locked_program(_isolated, clock, gateway=False)
    done = record_drift_review(program)
    assert done.fact.payload["pinning_enforced"] is False
    assert "no [gateway] table" in done.report.pinning


def test_a_review_of_another_lock_is_refused_and_does_not_count(
    _isolated: Path, clock: Clock
) -> None:
    program = locked_program(_isolated, clock)
    other = Lock(
        owner="lena", runtime=LockedRuntime(name="local", family="openai"),
        models=[LockedModel(name="m", digest="sha256:" + "e" * 64)], python="3.12",
        inhouse="0.1.0",
    )  # fmt: skip
    write_lock(_isolated, other.model_copy(update={"lock_hash": other.computed_hash()}))
    facts = len(program.state().facts)
    with pytest.raises(ConfigError, match="is not the lock this program records"):
        record_drift_review(program)
    assert len(program.state().facts) == facts  # nothing recorded
    gateway_review(program, lock_hash="sha256:old")
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.FAIL and "no drift review against the current lock" in (
        result.reason
    )


def test_a_hand_typed_drift_review_does_not_count(_isolated: Path, clock: Clock) -> None:
    program = locked_program(_isolated, clock)
    program.attest(None, "drift.review", clean_payload(program), "I looked at every node myself")
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "a person's word" in result.reason


def test_a_measured_review_that_found_drift_cannot_claim_to_pass(
    _isolated: Path, clock: Clock
) -> None:
    """Through the Python API, with the gateway's key, a payload saying passed with findings in
    it: the findings rule."""
    program = locked_program(_isolated, clock)
    finding = {"node": "local at http://127.0.0.1:1", "model": "extra",
               "problem": "unpinned-extra", "detail": "served but not blessed"}  # fmt: skip
    gateway_review(program, findings=[finding])
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.FAIL
    assert "local at http://127.0.0.1:1: extra unpinned-extra" in result.reason


def test_a_review_the_lead_signs_through_the_python_api_does_not_count(
    _isolated: Path, clock: Clock
) -> None:
    """The audit's forgery: lena alone records a "measured" clean review of nodes nobody asked,
    with the drift review's collector, signed with her own key. It is shown beside the check,
    which stays inconclusive and says where a review that counts comes from."""
    program = locked_program(_isolated, clock)
    typed = program.record_fact(None, "drift.review", clean_payload(program),
                                provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "run `inhouse support drift-review` on the gateway's host" in result.reason
    assert (
        f"fact #{typed.id} drift.review: signed by lena, not by the gateway's own service key"
        in result.reason
    )


def test_a_review_signed_by_a_gateway_key_enrolled_on_the_leads_laptop_does_not_count(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena enrols the gateway's key from her own machine: she holds it, so what it signs is her
    word. The review it signs is shown, not counted, with the reason."""
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    program = locked_program(_isolated, clock)
    gateway_review(program)
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "signed by the gateway service's key, which lena enrolled from a machine" in (
        result.reason
    )
    assert "its figures count from a host of its own" in result.reason


def test_only_a_lead_enrols_the_gateways_key_for_a_review(_isolated: Path, clock: Clock) -> None:
    """Before the gateway's key is enrolled, a support owner's review is refused before any node
    is asked (nothing recorded); once a lead's first run enrolled it, the review is the
    gateway's, whoever runs it where the key lives."""
    program = locked_program(_isolated, clock, vouched=False)
    sam = enrol(program, "sam", team="support", roles=["support-owner"])
    facts = len(program.state().facts)
    with pytest.raises(NotAllowed, match="the gateway service's key is not enrolled yet"):
        record_drift_review(sam)
    assert len(program.state().facts) == facts
    record_drift_review(program)
    assert record_drift_review(sam).fact.by == "gateway"


def test_a_second_gateway_key_passes_no_review_over_the_gateways_failing_one(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service may hold several keys (replicas, a rebuilt host), each enrolled by a lead. lena
    enrols another gateway key on a VM of hers and signs a passing review there: it hid the
    real gateway's failing one. Now each active key's latest review of the lock must pass, and
    status names every key the service signs with. Revoking the real gateway's key, as for a
    rebuilt host, lets the replacement's review stand."""
    from inhouse.identity import SigningKey
    from tests.conftest import OTHER_COMPUTER

    program = locked_program(_isolated, clock)
    gateway_review(program, passed=False, drifted=["local: m digest differs"])
    monkeypatch.setenv(OTHER_COMPUTER, "lena-vm-1")
    second = SigningKey.generate()
    ENROL_SERVICE_HERE(program, "gateway", second)
    monkeypatch.delenv(OTHER_COMPUTER)
    vouch_for_gateway_host(_VIC[_isolated], second)  # vic uses both, and vouches for both
    clock.advance(minutes=5)
    program.using(second).record_fact(
        None, "drift.review", clean_payload(program), provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip
    result = judge(program, "versions-pinned")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "m digest differs" in result.reason and f"its key {second.key_id}" in result.reason
    said = [w for w in program.status()["warnings"] if "the gateway service signs with 2 keys" in w]
    assert len(said) == 1 and second.key_id in said[0] and "enrolled by lena" in said[0]
    real = next(k for k in program.state().keys_of("gateway") if k.key_id != second.key_id)
    program.revoke_key(real.key_id)
    assert judge(program, "versions-pinned").outcome is Outcome.PASS
    assert not any("service signs with" in w for w in program.status()["warnings"])


def test_the_review_records_the_agent_boundaries_the_gateway_serves(
    _isolated: Path, clock: Clock
) -> None:
    """What the gateway's host configures for each agent is what the gateway enforces: the
    review, signed by the gateway's key, carries it (the agent-boundaries check compares)."""
    program = locked_program(_isolated, clock)
    with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[policy.agents.reader]\ntools = ["search", "read_file"]\n')
    done = record_drift_review(program)
    assert done.fact.payload["agents"] == {"reader": ["read_file", "search"]}
