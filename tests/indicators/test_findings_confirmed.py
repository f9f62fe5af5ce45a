"""findings-fed-back: a change closes a colleague's finding only once someone other than its
maker took that very version into their own hands. A red team showed the builder alone closing
pia's finding with a cosmetic change: a workflow version with a comment changed and its own
tests run (passing, by its own signer), a prompt version nobody was ever served, a re-lock whose
data rules gained a blank line. Each closed the finding, and play 6's check passed.

Now the change only answers the finding: it shows "fix published, awaiting confirmation by
someone other than" its maker until the opener (or any colleague told apart from the maker: an
own key, enrolled elsewhere) passes the new workflow version, is served the new prompt version
through the gateway, or passes ``baseline verify`` on the new lock."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from inhouse.gateway.rollup import service_program
from inhouse.indicators import findings
from inhouse.indicators.findings import open_finding
from inhouse.pilot.library import add_prompt, new_version
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact
from inhouse.workflows.runner import record_test_facts
from tests.clitools import cli
from tests.conftest import OTHER_COMPUTER, Clock
from tests.indicators.conftest import judge_findings as _judge
from tests.locks import AT_ZERO, DIGEST, HERE, lock_payload
from tests.people import confirm_own_use, enrol, hold_gateway_key, vouch_for_gateway_host

PROMPT = """\
description: Triage a ticket
variables:
  text: string
messages:
  - {role: user, content: "Triage: {{ text }}"}
"""


def _state(program: Program, finding: Fact) -> str:
    return next(f.state for f in findings(program) if f.id == finding.id)


def _row(program: Program, finding: Fact) -> dict[str, Any]:
    """What `inhouse finding list --json` shows of ``finding``."""
    return next(f.to_dict() for f in findings(program) if f.id == finding.id)


def _test_run(
    program: Program,
    version: str,
    *,
    passed: bool = True,
    closes: tuple[int, ...] = (),
    url: str = "http://127.0.0.1:8080",
    peers: frozenset[str] = frozenset({"127.0.0.1"}),
    runs: str = "",
    proved: int = 3,
) -> list[Fact]:
    """What `inhouse workflow test triage [--closes N]` records, through the runner's own
    recording code, on the machine the test stands at (``OTHER_COMPUTER``), answered by the
    runtime at ``url`` from ``peers``; the version runs ``runs`` (its run hash; default: a run
    of its own, ``version``)."""
    workflow = SimpleNamespace(
        name="triage", content_hash=version * 64, run_hash=runs or version, hashed=""
    )
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=""),
        url=url,
        peers=peers,
        test_model=False,
    )
    report = SimpleNamespace(
        passed=passed,
        pass_rate=1.0 if passed else 0.0,
        judged=[1, 2, 3],
        variant="default",
        proved=proved,
        untested=[],
        inputs=3,
    )
    runner = program.whoami().name
    return record_test_facts(program, runner, workflow, pinned, report, closes=closes, seed=AT_ZERO)  # type: ignore[arg-type]


def test_the_closer_alone_cannot_close_a_workflow_finding_with_a_cosmetic_version(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _test_run(omar, "a")  # v1, published honestly
    clock.advance(hours=1)
    finding = open_finding(pia, "answers too long", target="workflow:triage", source="pilot")
    clock.advance(hours=1)
    # the forgery: a comment changed, published with --closes, its own tests run and passed
    _test_run(omar, "b", closes=(finding.id,))
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert "`inhouse workflow test triage` on version bbbbbbbbbbbb" in result.reason
    assert "workflow.run" in result.reason and "it is omar's own" in result.reason
    assert _state(lena, finding) == (
        "fix published, awaiting confirmation by someone other than omar"
    )
    row = _row(lena, finding)
    assert row["closed_by"] is None and row["awaiting"]["by"] == "omar"
    # nor does a second key of his, enrolled from his own laptop
    olaf = enrol(lena, "olaf", team="sales", machine="omar-laptop")
    _test_run(olaf, "b")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "olaf's evidence came from a machine omar enrolled" in result.reason
    # pia, at her own laptop, runs the new version: a failing run confirms nothing
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _test_run(pia, "b", passed=False)
    assert _judge(lena).outcome is Outcome.FAIL
    # her passing run of that very version closes it
    clock.advance(hours=1)
    _test_run(pia, "b")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "answered by omar's workflow triage version bbbbbbbbbbbb" in result.reason
    assert "confirmed by pia's passing run" in result.reason
    assert _state(lena, finding) == "closed"
    row = _row(lena, finding)
    assert (row["closed_by"]["by"], row["closed_by"]["confirmed_by"]["by"]) == ("omar", "pia")


def test_a_colleagues_run_before_the_version_was_published_confirms_nothing(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pia ran a draft of that content before omar published it: her run is of no version
    anyone published yet, and shows nothing about the change that names her finding."""
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _test_run(omar, "a")
    finding = open_finding(pia, "answers too long", target="workflow:triage")
    clock.advance(hours=1)
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _test_run(pia, "c")  # her own draft: she publishes it, naming no finding
    monkeypatch.setenv(OTHER_COMPUTER, "omar-laptop")
    _test_run(omar, "d", closes=(finding.id,))
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "awaiting confirmation by someone other than omar" in result.reason


def test_the_closer_alone_cannot_close_a_prompt_finding_with_a_version_nobody_was_served(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    add_prompt(omar, "triage", PROMPT, where="triage.yaml")
    for person in (omar, pia):
        hold_gateway_key(lena, person)
    # pia uses the gateway and never led: with the sign-in set up, what the gateway signs
    # counts once she vouched for its host, from her own laptop
    service_program(lena)
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    vouch_for_gateway_host(pia)
    monkeypatch.setenv(OTHER_COMPUTER, "omar-laptop")
    clock.advance(hours=1)
    finding = open_finding(pia, "triage should ask for the floor", target="prompt:triage")
    clock.advance(hours=1)
    # the forgery: a new version, named as the fix, that nobody but omar was ever served
    new_version(omar, "triage", PROMPT.replace("Triage:", "Triage (floor?):"),
                where="t.yaml", closes=[finding.id])  # fmt: skip
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "fix published (prompt triage@2 by omar)" in result.reason
    assert "uses triage@2 through the gateway" in result.reason
    clock.advance(hours=1)
    _used(lena, version=2, people=["omar"])  # his own use, signed by the gateway
    confirm_own_use(omar)  # and confirmed with his key
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "the gateway saw it used only by omar, its maker" in result.reason
    # pia's use of version 1 says nothing about version 2
    _used(lena, version=1, people=["omar", "pia"])
    confirm_own_use(omar, pia)
    assert _judge(lena).outcome is Outcome.FAIL
    # pia is served version 2 with her own key: confirmed
    clock.advance(hours=1)
    _used(lena, version=2, people=["omar", "pia"])
    confirm_own_use(pia)
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "answered by omar's prompt triage@2, confirmed by pia's use" in result.reason
    assert _state(lena, finding) == "closed"
    # `inhouse finding list` names who confirmed it, pia, not the gateway that signed her use
    # (walk456: it read "confirmed by gateway (#177)")
    shown = " ".join(cli("finding", "list", "--program", str(lena.folder)).split())
    assert "confirmed by pia's use at the gateway" in shown, shown
    assert "confirmed by gateway" not in shown, shown


def _used(lena: Program, *, version: int, people: list[str]) -> None:
    """What `inhouse prompts usage --record` signs with the gateway's key."""
    service_program(lena).record_fact(
        None, "prompt.usage",
        {"prompt": "triage", "version": version, "uses": 2 * len(people), "users": len(people),
         "uses_by_others": 0, "people": people},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip


def test_the_closer_alone_cannot_close_a_baseline_finding_with_a_cosmetic_relock(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(pia, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    # the forgery: the data rules gain a blank line (a new rules hash), re-locked, verified
    # on his own laptop
    relock = lock_payload("lena", rules_hash="s" * 12)
    _lock(omar, {**relock, "closes": [finding.id]})
    _verify(omar, relock["lock_hash"], "omar-laptop")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert "runs `inhouse baseline verify`" in result.reason
    assert "it is omar's own" in result.reason
    # pia verifies the new lock at her own laptop: confirmed
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _verify(pia, relock["lock_hash"], "pia-laptop")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "confirmed by pia's passing verify" in result.reason


def _lock(program: Program, payload: dict[str, object]) -> None:
    program.record_fact(None, "baseline.lock", payload, provenance=Provenance.MEASURED,
                        collector="inhouse baseline lock")  # fmt: skip


def _verify(program: Program, lock_hash: str, machine: str, *, where: bool = True) -> None:
    """A passing `baseline verify` of ``lock_hash``; ``where``: it says its runtime answered
    on the verifier's machine, as today's verifies do (not: an older inhouse's)."""
    program.record_fact(None, "baseline.verify", {
        "lock_hash": lock_hash, "passed": True, "machine": machine,
        "models": [{"name": "m", "digest": DIGEST}], **(HERE if where else {})},
        provenance=Provenance.MEASURED, collector="inhouse baseline verify")  # fmt: skip


def _exited_at(program: Program, mark: int) -> Result:
    """``findings-fed-back`` for a program whose play 6 exited at event ``mark``."""
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    ctx = replace(ctx, exited={**ctx.exited, "measure": (program.clock(), mark)})
    return evaluate("findings-fed-back", ctx)


def test_a_relock_that_changes_only_the_locks_owner_closes_no_baseline_finding(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """omar re-locks with only the owner changed (a new lock hash, the same models, runtime
    and data rules), naming pia's finding; pia's routine `baseline verify` of the new lock
    confirms the lock, not that the finding was dealt with: nothing it targets changed."""
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(pia, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    relock = lock_payload("omar")
    assert relock["lock_hash"] != lock_payload("lena")["lock_hash"]
    before_relock = lena.state().head_seq
    _lock(omar, {**relock, "closes": [finding.id]})
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _verify(pia, relock["lock_hash"], "pia-laptop")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "pins the same models, runtime and data rules" in result.reason
    # a program whose play 6 exited under the rule before, on this re-lock, keeps its exit
    assert _exited_at(lena, lena.state().head_seq).outcome is Outcome.PASS
    # one that exited before it: the re-lock recorded since is judged by today's rule
    since = _exited_at(lena, before_relock)
    assert since.outcome is Outcome.FAIL and "pins the same models" in since.reason
    # and `inhouse baseline lock --closes` asks the same of a re-lock about to be recorded: it
    # comes after the exit, whatever rule the exit kept
    from inhouse.program.feedback import relock_refusal

    ctx = context_for(lena.state(), lena.clock())
    ctx = replace(ctx, exited={**ctx.exited, "measure": (lena.clock(), lena.state().head_seq)})
    why = relock_refusal(ctx, [finding.id], lock_payload("pia"))
    assert why is not None and "pins the same models, runtime and data rules" in why, why


def test_baseline_lock_closes_refuses_early_a_relock_the_check_would_not_count(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse baseline lock --closes N` asks what findings-fed-back asks of the re-lock it
    would record: a new lock hash (only its owner changed) with the same models, runtime and
    data rules is refused before anything is recorded, saying why; a re-lock that changes the
    data rules is recorded, naming the finding."""
    from inhouse.baseline import lock as locking
    from inhouse.errors import InvalidInput
    from tests.locks import made_lock

    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(pia, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    measured = made_lock("omar")

    async def measure(*_: object) -> object:
        return measured, ()

    monkeypatch.setattr(locking, "measure_lock", measure)
    locks = len(lena.state().facts)
    with pytest.raises(InvalidInput) as refused:
        locking.lock_baseline(omar, None, closes=[str(finding.id)])
    assert f"finding #{finding.id}" in str(refused.value)
    assert "pins the same models, runtime and data rules" in str(refused.value)
    assert len(omar.state().facts) == locks  # nothing recorded
    measured = made_lock("omar", rules_hash="s" * 12)
    relocked = locking.lock_baseline(omar, None, closes=[str(finding.id)])
    assert relocked.fact is not None and relocked.fact.payload["closes"] == [finding.id]


def test_a_workflow_version_that_runs_what_it_ran_before_closes_no_finding(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """omar changes only the workflow's description (a new content hash, the same prompts,
    cases and checks) and names pia's finding: pia's routine passing run of it confirms the
    version, not that the finding was dealt with. His spec's run hash, where it lies, does not
    help: her run measures what the version runs."""
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _test_run(omar, "a")  # v1, runs "a"
    clock.advance(hours=1)
    finding = open_finding(pia, "answers too long", target="workflow:triage", source="pilot")
    clock.advance(hours=1)
    # the forgery: a new description, published with --closes
    _test_run(omar, "b", closes=(finding.id,), runs="a")
    row = _row(lena, finding)
    assert row["closed_by"] is None and row["awaiting"] is None
    assert "runs what the workflow ran before the finding" in row["not_closing"][0]["why"]
    assert "its description, owner or frequency" in row["not_closing"][0]["why"]
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _test_run(pia, "b", runs="a")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    # his spec written around the runner claims it runs something new: pia's run says not
    monkeypatch.setenv(OTHER_COMPUTER, "omar-laptop")
    clock.advance(hours=1)
    _test_run(omar, "c", closes=(finding.id,), runs="made-up")
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _test_run(pia, "c", runs="a")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "pia's run found this version runs what the workflow ran before" in result.reason
    # a program whose play 6 exited under the rule before, on these versions, keeps its exit
    assert _exited_at(lena, lena.state().head_seq).outcome is Outcome.PASS
    # one that exited before the finding: the versions published since are today's rule's
    since = _exited_at(lena, finding.id - 1)
    assert since.outcome is Outcome.FAIL and "runs what the workflow ran before" in since.reason
    # and `inhouse workflow test --closes` asks the same of a version about to be published
    from inhouse.program.feedback import ran_before_finding

    ctx = context_for(lena.state(), lena.clock())
    ran = ran_before_finding(ctx, finding.id, "triage")
    ctx = replace(ctx, exited={**ctx.exited, "measure": (lena.clock(), lena.state().head_seq)})
    assert ran and ran_before_finding(ctx, finding.id, "triage") == ran
    # a version that really changes what runs, confirmed by pia, closes it; not by a run whose
    # tests pass whatever the model says, though
    monkeypatch.setenv(OTHER_COMPUTER, "omar-laptop")
    _test_run(omar, "d", closes=(finding.id,))
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    clock.advance(hours=1)
    _test_run(pia, "d", proved=0)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "its tests do not need the model" in result.reason
    _test_run(pia, "d")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "version dddddddddddd" in result.reason


def test_a_prompt_version_that_sends_what_it_sent_before_closes_no_finding(
    cast: dict[str, Program], clock: Clock
) -> None:
    """A library prompt's new version whose messages differ only in whitespace and a Jinja
    comment, and whose variable gained a description, sends the model what it sent before."""
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    add_prompt(omar, "triage", PROMPT, where="triage.yaml")
    clock.advance(hours=1)
    finding = open_finding(pia, "triage should ask for the floor", target="prompt:triage")
    clock.advance(hours=1)
    cosmetic = PROMPT.replace("text: string", "text: {type: string, description: the ticket}")
    cosmetic = cosmetic.replace("Triage: {{ text }}", "Triage:   {# asks? #} {{ text }}")
    new_version(omar, "triage", cosmetic, where="t.yaml", closes=[finding.id])
    row = _row(lena, finding)
    assert row["closed_by"] is None and row["awaiting"] is None
    assert "prompt:triage already sent this before the finding" in row["not_closing"][0]["why"]
