"""What verify reports when the machine does not match the lock (no engine needed: these are
the paths where the runtime is down or the files around it changed), who may record a verify
(the holder of an enrolled key, never on someone's behalf), and who counts as the baseline's
owner for play 2's exit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from inhouse.baseline.lock import build_lock, lock_fact_payload, write_lock
from inhouse.baseline.manifest import read_manifest
from inhouse.cli.app import app
from inhouse.program import Program, Provenance
from inhouse.program.checks import CheckContext, Outcome, Person, evaluate
from inhouse.program.facts import Fact, FactSet, validate_payload
from inhouse.runtimes.protocol import Inventory, ModelInfo
from tests.conftest import OTHER_COMPUTER
from tests.locks import HERE
from tests.people import enrol_cli, key_file
from tests.runtimes.standin import free_port

runner = CliRunner()
DIGEST = "sha256:" + "d" * 64


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout + result.stderr


def omar_env(folder: Path) -> dict[str, str]:
    """omar's shell: his own key, on his own machine (not the one the lead enrolled from)."""
    program = Program.open(folder)
    env = enrol_cli(program, "omar", folder.parent / "keys")
    program.close()
    return {**env, OTHER_COMPUTER: "omar-laptop"}


def locked_program(folder: Path, rules: str = 'default = "redact"') -> Program:
    """A program whose lock was taken from a runtime that has since gone away."""
    program = Program.init(folder, "Acme", "lena")
    config = folder / "inhouse.toml"
    config.write_text(
        config.read_text()
        + f'\n[runtimes.local]\nfamily = "openai"\nurl = "http://127.0.0.1:{free_port()}"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["m"]\n\n'
        + f"[data_rules]\n{rules}\n"
    )
    from inhouse.baseline import rules_hash
    from inhouse.program.config import read_config

    served = Inventory(
        runtime="local", family="openai", url="http://127.0.0.1:1",
        models=[ModelInfo(id="m", digest=DIGEST, digest_source="file-sha256", size=3)],
    )  # fmt: skip
    lock = build_lock(
        read_manifest(folder), served, runtime_family="openai",
        rules=rules_hash(read_config(folder)),
    )  # fmt: skip
    write_lock(folder, lock)
    program.record_fact(
        "lena", "baseline.lock", lock_fact_payload(lock), provenance=Provenance.MEASURED,
        collector="inhouse baseline lock",
    )  # fmt: skip
    return program


def test_a_runtime_that_is_down_fails_with_the_fix(_isolated: Path) -> None:
    locked_program(_isolated)
    code, out = invoke("baseline", "verify", env=omar_env(_isolated))
    assert code == 1
    assert "FAIL runtime:" in out and "fix: start the openai runtime at http://127.0.0.1:" in out
    assert "or correct the url in [runtimes.local] of inhouse.toml" in out  # not eaten as markup
    assert "Verify failed" in out and "does not count: it failed" in out
    code, out = invoke("fact", "list", "--kind", "baseline.verify", "--json")
    (verify,) = json.loads(out)
    assert verify["by"] == "omar" and verify["provenance"] == "measured"
    assert verify["payload"]["passed"] is False
    assert verify["payload"]["failures"][0].startswith("runtime: ")
    assert verify["payload"]["runtime_local"] is None  # it did not answer: nothing said of where
    assert len(verify["payload"]["machine"]) == 16  # his own computer: no replaced id in it


def test_changed_rules_and_manifest_fail_against_the_lock(_isolated: Path) -> None:
    locked_program(_isolated)
    omar = omar_env(_isolated)
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text()
        .replace('default = "redact"', 'default = "allow"')
        .replace('models = ["m"]', 'models = ["m", "n"]')
    )
    code, out = invoke("baseline", "verify", "--json", env=omar)
    assert code == 1
    report = json.loads(out)
    failed = {c["name"]: c for c in report["checks"] if not c["ok"]}
    assert "rules hash locked" in failed["data rules"]["detail"]
    assert "changed since the lock" in failed["data rules"]["fix"]
    assert failed["manifest"]["detail"] == (
        "inhouse.toml blesses m, n on runtime local; the lock pins m on local"
    )
    assert report["passed"] is False and report["counts_for_exit"] is False


def test_a_lock_that_is_not_the_programs_current_one_fails(_isolated: Path) -> None:
    program = locked_program(_isolated)
    other = relocked_payload(_isolated, "sha256:" + "e" * 64)  # the owner re-locked elsewhere
    program.record_fact(
        "lena", "baseline.lock", other, provenance=Provenance.MEASURED,
        collector="inhouse baseline lock",
    )  # fmt: skip
    code, out = invoke("baseline", "verify", "--no-record", env=omar_env(_isolated))
    assert code == 1
    assert f"but the program's current lock is {str(other['lock_hash'])[:19]}" in out
    assert "fix: pull the current inhouse.lock" in out
    _, facts = invoke("fact", "list", "--kind", "baseline.verify", "--json")
    assert json.loads(facts) == []  # --no-record


def test_an_unknown_person_cannot_record_a_verify(_isolated: Path) -> None:
    locked_program(_isolated)
    omar = omar_env(_isolated)
    # zoe made a key of her own but was never invited: her shell is nobody in this program
    zoe = {"INHOUSE_KEY": str(key_file(_isolated.parent / "keys", "zoe"))}
    code, out = invoke("baseline", "verify", env=zoe)
    assert code == 3 and "is not enrolled in program 'Acme'" in out
    assert "ask a rollout lead for an invitation" in out
    # typing a name no longer picks the actor: the lead cannot measure on omar's behalf
    code, out = invoke("baseline", "verify", "--on-behalf-of", "omar")
    assert code == 3 and "this shell acts as lena" in out and "it cannot act as omar" in out
    _, facts = invoke("fact", "list", "--kind", "baseline.verify", "--json", env=omar)
    assert json.loads(facts) == []


def relocked_payload(folder: Path, digest: str) -> dict[str, object]:
    """The fact a re-lock of ``folder``'s lock onto the weights ``digest`` records."""
    from inhouse.baseline import read_lock

    lock = read_lock(folder)
    assert lock is not None
    models = [m.model_copy(update={"digest": digest}) for m in lock.models]
    other = lock.model_copy(update={"models": models})
    return lock_fact_payload(other.model_copy(update={"lock_hash": other.computed_hash()}))


COLLECTORS = {
    "baseline.lock": "inhouse baseline lock",
    "baseline.verify": "inhouse baseline verify",
}


def _fact(seq: int, kind: str, by: str, **payload: object) -> Fact:
    return Fact(
        id=seq, kind=kind, version=1, payload=validate_payload(kind, payload),
        provenance=Provenance.MEASURED, by=by, collector=COLLECTORS[kind], comment=None,
        expires=None, at=datetime(2026, 11, 2, tzinfo=UTC), machine=f"{by}-laptop",
    )  # fmt: skip


def test_the_owner_the_lock_names_counts_as_the_owner_before_play_two_starts() -> None:
    lock = _fact(
        1, "baseline.lock", "lena", lock_hash="sha256:" + "a" * 64, owner="lena",
        runtime={"family": "openai", "version": "unreported"},
        models=[{"name": "m", "digest": DIGEST}],
    )  # fmt: skip
    people = {n: Person(name=n, team="", roles=frozenset()) for n in ("lena", "omar")}

    def outcome(*verifies: Fact) -> Outcome:
        machines = {n: frozenset({f"{n}-laptop"}) for n in people}
        ctx = CheckContext(facts=FactSet([lock, *verifies]), people=people, owners={},
                           now=lock.at, machines=machines,
                           # everyone signed in: without it nobody is told apart (outside a demo)
                           signed_in={n: f"u-{n}" for n in people},
                           sign_in_issuer="https://login.acme.example")  # fmt: skip
        return evaluate("second-person-verified", ctx).outcome

    hash_ = str(lock.payload["lock_hash"])
    assert outcome(_fact(2, "baseline.verify", "lena", lock_hash=hash_, passed=True,
                         machine="lena-laptop")) is Outcome.FAIL  # fmt: skip
    assert outcome(_fact(3, "baseline.verify", "omar", lock_hash=hash_, passed=True,
                         machine="omar-laptop", **HERE)) is Outcome.PASS  # fmt: skip
    # omar's key, but the verify ran on the owner's machine: not a second machine
    assert outcome(_fact(4, "baseline.verify", "omar", lock_hash=hash_, passed=True,
                         machine="lena-laptop")) is Outcome.FAIL  # fmt: skip
