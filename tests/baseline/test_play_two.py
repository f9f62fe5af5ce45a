"""Play 2 end to end, on the real llama.cpp engine (the embedded runtime, test model): lock,
re-lock, verify as the owner and as a second person (with his own key, on his own machine), a
changed model file, a re-lock that makes earlier verifies stale, and `inhouse status` reading
play 2's exit from these facts alone."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.baseline import baseline_runtime, check_models, read_lock
from inhouse.cli.app import app
from inhouse.program import Program, Provenance
from inhouse.runtimes import make_test_model, open_runtime, serve_embedded, stop_embedded
from inhouse.runtimes.digests import sha256_digest
from tests.conftest import OTHER_COMPUTER
from tests.engine import needs_engine
from tests.people import enrol_cli
from tests.runtimes.elsewhere import ELSEWHERE, answers_from_elsewhere

pytestmark = needs_engine
runner = CliRunner()

RULES = """
[data_rules]
default = "block"
classes = { email = "redact" }

[data_rules.models.inhouse-test-model]
classes = { email = "allow" }
"""


def run(
    *args: str, code: int = 0, env: dict[str, str] | None = None, answer: str | None = None
) -> str:
    result = runner.invoke(app, list(args), env=env, input=answer)
    assert result.exit_code == code, f"{args}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout + result.stderr


def exit_checks(play: int = 2) -> dict[str, dict[str, object]]:
    status = json.loads(run("status", "--json"))
    rows = status["plays"][play - 1]["exit"]
    assert rows is not None, "play 2 has not started"
    return {row["check"]: row for row in rows}


def walk_play_one(folder: Path, omar: dict[str, str]) -> None:
    """Play 1 on the verdict `inhouse prove` records (a trial is not what these tests are
    about: its output goes through the same collector seam), then omar asks to get in."""
    run("waiver", "grant", "calendar-driven-advance", "--play", "1",
        "--reason", "time-boxed-experiment", "--note", "demo first", "--expires", "7d")  # fmt: skip
    run("play", "start", "1")
    opened = Program.open(folder)
    opened.record_fact(
        None, "trial.verdict",
        {"trial": "t", "verdict": "proven", "proven_on": ["faster"], "quality_ok": True},
        provenance=Provenance.MEASURED, collector="inhouse prove",
    )  # fmt: skip
    opened.close()
    run("handoff", "offer", "1", "--to", "lena")
    run("handoff", "accept", "1", "--comment", "usable", answer="y\n")
    run("access", "request", "--reason", "support replies", env=omar)  # signed by omar himself
    run("play", "start", "2")


@pytest.fixture
def omar() -> dict[str, str]:
    """omar's shell: his own key, on his own machine (filled in when the program enrols him)."""
    return {OTHER_COMPUTER: "omar-laptop"}


@pytest.fixture
def program(_isolated: Path, omar: dict[str, str]) -> Iterator[Path]:
    run("init", "Acme", "--lead", "lena", "--team", "platform")
    run("person", "role", "lena", "--add", "play-owner")
    opened = Program.open(_isolated)
    omar.update(enrol_cli(opened, "omar", _isolated.parent / "keys", team="support"))
    opened.close()
    walk_play_one(_isolated, omar)
    model = make_test_model(_isolated / "models" / "inhouse-test-model.gguf")
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text()
        + '\n[runtimes.local]\nfamily = "embedded"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\n'
        + 'models = [{ name = "inhouse-test-model", path = "models/inhouse-test-model.gguf" }]\n'
        + RULES
    )
    serve_embedded(model, program=_isolated)
    try:
        yield _isolated
    finally:
        stop_embedded(_isolated)


def test_play_two_walks_on_measured_facts(program: Path, omar: dict[str, str]) -> None:
    model = program / "models" / "inhouse-test-model.gguf"
    digest = sha256_digest(model, cached=False)

    # lock: the embedded engine's version and the model's digest, from its inventory
    out = run("baseline", "lock")
    assert f"model    inhouse-test-model  {digest}" in out
    lock = read_lock(program)
    assert lock is not None
    assert lock.runtime.family == "embedded"
    assert lock.runtime.version is not None and lock.runtime.version.startswith("llama-cpp-python")
    assert lock.model("inhouse-test-model").digest == digest
    assert lock.model("inhouse-test-model").size == model.stat().st_size
    text = (program / "inhouse.lock").read_bytes()

    # re-locking with nothing changed: the same bytes, and no second fact
    assert "Unchanged:" in run("baseline", "lock")
    assert (program / "inhouse.lock").read_bytes() == text
    facts = json.loads(run("fact", "list", "--kind", "baseline.lock", "--json"))
    assert len(facts) == 1 and facts[0]["provenance"] == "measured"
    assert facts[0]["payload"]["body"] == lock.body()  # what its lock_hash is the hash of

    run("baseline", "install-script")
    run("baseline", "docs")
    page = (program / "BASELINE.md").read_text()
    assert digest in page and lock.rules_hash in page
    assert "For model inhouse-test-model: e-mail addresses are allowed." in page

    # the owner's verify passes but does not satisfy the exit
    out = run("baseline", "verify")  # the lead's own key
    assert "Verify passed" in out
    assert "does not count: lena is the baseline's owner" in out
    checks = exit_checks()
    assert checks["second-person-verified"]["outcome"] == "fail"
    reason = str(checks["second-person-verified"]["reason"])
    # the check judges the signer: lena's key signed the only verify, and lena is the owner
    assert "no verify of the current lock by a second person on their own machine" in reason
    assert "(it is lena's own)" in reason

    # omar's key, but run on the owner's machine: verify says so, and the exit agrees
    out = run("baseline", "verify", env={"INHOUSE_KEY": omar["INHOUSE_KEY"]})
    assert "Verify passed" in out
    assert "does not count: omar's evidence came from a machine lena enrolled" in out
    assert exit_checks()["second-person-verified"]["outcome"] == "fail"

    # a second person's verify satisfies it; every exit check rests on measured facts only
    out = run("baseline", "verify", env=omar)
    assert "it counts: omar is not the baseline's owner" in out
    verify = json.loads(run("fact", "list", "--kind", "baseline.verify", "--json"))[-1]
    assert verify["payload"]["models"] == [{"name": "inhouse-test-model", "digest": digest}]
    checks = exit_checks()
    assert {name: row["outcome"] for name, row in checks.items()} == {
        "baseline-pinned": "pass",
        "install-script-written": "pass",
        "data-rules-written": "pass",
        "second-person-verified": "pass",
        # play 1's verdict here has the shape from before verdicts named their spec: nobody
        # can rerun what it measured, and the check says how to fix it
        "trial-reproduced": "fail",
    }
    assert "recorded before verdicts named the spec and pass rate they measured" in str(
        checks["trial-reproduced"]["reason"]
    )
    evidence = [e for row in checks.values() for e in row["evidence"]]  # type: ignore[attr-defined]
    assert evidence and {e["provenance"] for e in evidence} == {"measured"}
    assert json.loads(run("status", "--json"))["plays"][1]["state"] != "exit-met"

    # the model file changes under the running runtime: which bytes it serves is no longer
    # known (it loaded the old ones), so verify fails, naming both digests and the restart
    changed = make_test_model(program / "changed.gguf", seed=1)
    os.replace(changed, model)
    new_digest = sha256_digest(model, cached=False)
    assert new_digest != digest
    said = " ".join(run("baseline", "verify", env=omar, code=1).split())
    assert f"changed since the server was started on it (then {digest}, now {new_digest})" in said
    assert "restart it (`inhouse runtime stop`, then `inhouse runtime serve MODEL.gguf`)" in said
    assert (
        json.loads(run("fact", "list", "--kind", "baseline.verify", "--json"))[-1]["payload"][
            "models"
        ]
        == []
    )  # served without a digest: nothing to name

    # restarted on the new file, it serves the new weights: verify names both digests
    stop_embedded(program)
    serve_embedded(model, program=program)
    out = run("baseline", "verify", env=omar, code=1)
    assert f"model inhouse-test-model: digest mismatch: locked {digest}, found {new_digest}" in out
    assert "fix: put the blessed file back" in out
    verify = json.loads(run("fact", "list", "--kind", "baseline.verify", "--json"))[-1]
    assert verify["by"] == "omar" and verify["payload"]["passed"] is False
    assert verify["payload"]["models"] == [{"name": "inhouse-test-model", "digest": new_digest}]

    async def drifted() -> list[str]:
        async with open_runtime(baseline_runtime(program), program=program) as runtime:
            return [str(d) for d in await check_models(lock, runtime)]

    assert asyncio.run(drifted()) == [
        f"inhouse-test-model: digest mismatch: locked {digest}, found {new_digest}"
    ]

    # re-locking pins the new file; the earlier passing verifies are now stale
    out = run("baseline", "lock")
    relocked = read_lock(program)
    assert relocked is not None and relocked.lock_hash != lock.lock_hash
    checks = exit_checks()
    assert checks["second-person-verified"]["outcome"] == "fail"
    assert "3 passing verifies are for an earlier lock" in str(
        checks["second-person-verified"]["reason"]
    )
    assert checks["install-script-written"]["outcome"] == "fail"  # written for the old lock


def test_a_relock_supersedes_a_lock_fact_from_before_lock_facts_carried_their_body(
    program: Path,
) -> None:
    """A program upgraded from before: its lock fact names the lock by hash alone, so it does
    not count; re-locking the unchanged baseline writes the same bytes and records the fact
    again, with its body."""
    from inhouse.baseline.lock import lock_fact_payload, measure_lock, write_lock
    from inhouse.program.config import read_config

    lock, _ = asyncio.run(measure_lock(program, read_config(program)))
    write_lock(program, lock)
    old = {k: v for k, v in lock_fact_payload(lock).items() if k != "body"}
    opened = Program.open(program)
    opened.record_fact(None, "baseline.lock", old, provenance=Provenance.MEASURED,
                       collector="inhouse baseline lock")  # fmt: skip
    opened.close()
    pinned = exit_checks()["baseline-pinned"]
    assert pinned["outcome"] != "pass"
    status = run("status")
    assert "recorded before lock facts carried the lock's body" in status
    assert "re-lock: `inhouse baseline lock`" in status
    out = run("baseline", "lock")
    assert "Unchanged:" in out and "Recorded baseline.lock" in out
    facts = json.loads(run("fact", "list", "--kind", "baseline.lock", "--json"))
    assert len(facts) == 2 and facts[-1]["payload"]["lock_hash"] == lock.lock_hash
    assert exit_checks()["baseline-pinned"]["outcome"] == "pass"
    assert "Unchanged:" in run("baseline", "lock")  # and once recorded, no third fact
    assert len(json.loads(run("fact", "list", "--kind", "baseline.lock", "--json"))) == 2


def test_verify_without_a_lock_says_who_locks(program: Path, omar: dict[str, str]) -> None:
    out = run("baseline", "verify", env=omar, code=2)
    assert "no inhouse.lock" in out and "`inhouse baseline lock`" in out


def test_a_verify_answered_by_another_hosts_runtime_does_not_count(
    program: Path, omar: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verify measures the baseline stood up on the verifier's machine, judged by where the
    answers came from. The forgery: `inhouse.toml` names 127.0.0.1 (and resolving it again
    after the verify says this machine), but the connections that carried the answers went to
    the owner's own server. This machine has no second host, so the connections say they went
    to 192.0.2.10 (tests/runtimes/elsewhere.py)."""
    run("baseline", "lock")
    with monkeypatch.context() as patched:
        answers_from_elsewhere(patched)
        out = run("baseline", "verify", env=omar, code=1)
    said = " ".join(out.split())
    assert "FAIL runtime on this machine: local at http://127.0.0.1:" in said
    assert f"answered from {ELSEWHERE}, which is not this machine" in said
    assert exit_checks()["second-person-verified"]["outcome"] == "fail"
    recorded = json.loads(run("fact", "list", "--kind", "baseline.verify", "--json"))[-1]
    assert recorded["payload"]["runtime_local"] is False  # where it was answered, recorded
    assert recorded["payload"]["runtime_peers"] == [ELSEWHERE]
    # an answer over a connection that does not say where it went cannot count as here either
    with monkeypatch.context() as patched:
        answers_from_elsewhere(patched, None)
        out = run("baseline", "verify", env=omar, code=1)
    assert "over a connection inhouse could not see, so it cannot count as here" in " ".join(
        out.split()
    )
    assert exit_checks()["second-person-verified"]["outcome"] == "fail"
    said = " ".join(run("baseline", "verify", env=omar).split())
    assert "Verify passed" in said and "ok runtime on this machine: http://127.0.0.1:" in said
    assert "answered from 127.0.0.1, this machine" in said
    recorded = json.loads(run("fact", "list", "--kind", "baseline.verify", "--json"))[-1]
    assert recorded["payload"]["runtime_local"] is True
    assert recorded["payload"]["runtime_peers"] == ["127.0.0.1"]
    assert exit_checks()["second-person-verified"]["outcome"] == "pass"


def test_a_verify_in_a_checkout_says_when_it_will_count(
    program: Path, omar: dict[str, str], tmp_path: Path
) -> None:
    """omar verifies on his laptop, in a checkout without the log: a pass waits in the outbox
    until the lead imports it, and says so (it said "does not count: signed into this
    checkout's outbox" for a pass and a failure alike); a failure says it failed."""
    run("baseline", "lock")
    laptop = tmp_path / "laptop"
    (laptop / "models").mkdir(parents=True)
    for name in ("inhouse.toml", "inhouse.lock", "models/inhouse-test-model.gguf"):
        (laptop / name).write_bytes((program / name).read_bytes())
    failed = run("baseline", "verify", "--program", str(laptop), env=omar, code=1)
    assert "does not count: it failed." in failed, failed  # no runtime there yet
    serve_embedded(laptop / "models" / "inhouse-test-model.gguf", program=laptop)
    try:
        passed = " ".join(run("baseline", "verify", "--program", str(laptop), env=omar).split())
    finally:
        stop_embedded(laptop)
    assert "Verify passed (signed into this checkout's outbox)" in passed, passed
    assert "does not count: not until the program's lead imports it" in passed, passed
