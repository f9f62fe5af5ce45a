"""Red team of plays 2 to 4: one person (lena, the lead, who writes omar's workflow for him)
with the checkout, the database and colleagues who do only what they would honestly do.

The cast of tests/workflows/test_author_flip.py: lena leads the program, omar owns play 3,
vic is a real colleague, signed in with his own account.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

import inhouse
from inhouse.program import Program
from inhouse.program.checks import CheckContext, Outcome, evaluate
from inhouse.program.facts import Fact, FactSet
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.decoys import judge_cases
from inhouse.workflows.runner import record_test_facts
from inhouse.workflows.spec import parse_workflow
from tests.conftest import Clock
from tests.locks import AT_ZERO
from tests.people import at_own_machine
from tests.test_engine import DIGEST, LOCK
from tests.test_outsider import clock  # noqa: F401
from tests.test_playchecks import (
    EXITED,
    ISSUER,
    NOW,
    OWNERS,
    ROSTER,
    WITH_VIC,
    fact,
    lock,
    reproducible,
    rerun,
    run,
    signed_in,
    spec,
)
from tests.test_playchecks import LOCK as LOCK_HASH
from tests.test_sign_in import _judge
from tests.workflows.test_author_flip import _play_three
from tests.workflows.test_decoys import _PROSE_WORDS, BANANA, FIXED
from tests.workflows.test_play3_checks import wrun

pytestmark = pytest.mark.anyio

#: where lena's own build of inhouse lies: what pip writes in its dist-info when it installs
#: `inhouse @ <url>` (a branch of hers, "with a fix"), instead of the release the lock pins
HER_BUILD = "https://git.acme.example/lena/inhouse/archive/fix.zip"


def _installed_from(monkeypatch: pytest.MonkeyPatch, tmp: Path, direct_url: str | None) -> None:
    """The running inhouse as pip would have laid it out: from a package index (no
    ``direct_url.json``) or from the folder or URL its ``direct_url.json`` names."""
    site = tmp / "site-packages"
    (site / "inhouse").mkdir(parents=True)
    (site / "inhouse" / "__init__.py").write_text("")
    info = site / f"inhouse-{inhouse.__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: inhouse\nVersion: {inhouse.__version__}\n"
    )
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps({"url": direct_url, "archive_info": {}}))
    monkeypatch.setattr(metadata, "distribution", lambda name: metadata.PathDistribution(info))
    monkeypatch.setattr(inhouse, "__file__", str(site / "inhouse" / "__init__.py"))


def _test_run(program: Program) -> list[Fact]:
    """What a passing `inhouse workflow test triage` of version v1 records, through the
    runner's own recording code: its cases need the model, answered on this machine."""
    workflow = SimpleNamespace(name="triage", content_hash="v1", run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=LOCK),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),
        test_model=False,
    )
    report = SimpleNamespace(passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default",
                             proved=3, untested=[], inputs=3)  # fmt: skip
    with at_own_machine(program):
        return record_test_facts(
            program, program.whoami().name, workflow, pinned, report, seed=AT_ZERO
        )  # type: ignore[arg-type]


# -- play 3: a rerun by a build nobody pinned ---------------------------------------------------


@pytest.mark.parametrize("rerun_from", ["index", "url"])
def test_a_rerun_by_a_build_of_hers_from_a_url_is_no_rerun_by_another(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    rerun_from: str,
) -> None:
    """lena publishes omar's workflow and asks vic to rerun it "with the inhouse from my
    branch, it has a fix": `pip install inhouse @ https://…/lena/…`. That build's runner is
    hers to write (the decoys judged, where the answers came from, what passed), and it signs
    with vic's key. play 2 already refuses a verify such a build made; play 3 counted vic's
    rerun by it as someone else's pass. Now it does not, naming the build; the same rerun by
    the release from a package index counts."""
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    try:
        _test_run(omar)  # the author: the version is his
        with monkeypatch.context() as patch:
            _installed_from(patch, tmp_path, None if rerun_from == "index" else HER_BUILD)
            [run] = _test_run(vic)
        result = _judge(omar, "workflow", "workflow-run-by-other")
        if rerun_from == "index":
            assert result.outcome is Outcome.PASS, result.reason
            assert run.payload["inhouse"]["installed_from"] == "index"
            return
        assert result.outcome is Outcome.FAIL, result.reason
        assert (
            f"vic's run (fact #{run.id}): the inhouse that ran it was installed from {HER_BUILD}"
            in result.reason
        )
        assert "not from a package index: a build nobody pinned" in result.reason
        # vic reruns it with the release the lock pins, from a package index: it counts
        with monkeypatch.context() as patch:
            _installed_from(patch, tmp_path / "index", None)
            _test_run(vic)
        result = _judge(omar, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
    finally:
        cast["lena"].close()


def test_a_rerun_by_a_build_from_a_folder_or_url_still_counts_in_a_demo() -> None:
    """A demo program installs the checkout it runs from (`install --source`): a build from a
    folder is how it runs there, so the rule holds only outside one."""
    said = wrun("vic", lock_hash=LOCK_HASH).payload  # type: ignore[attr-defined]
    built = {**said, "inhouse": {"version": inhouse.__version__, "installed_from": "url",
                                 "url": HER_BUILD}}  # fmt: skip
    facts = FactSet((lock(), spec(), fact("workflow.run", by="vic", **built)))
    for demo in (False, True):
        context = CheckContext(facts=facts, people=WITH_VIC, owners=OWNERS, now=NOW, params={},
                               machines={who: frozenset({f"{who}-laptop"}) for who in WITH_VIC},
                               signed_in=signed_in(WITH_VIC), sign_in_issuer=ISSUER, exited=EXITED,
                               demo=demo)  # fmt: skip
        result = evaluate("workflow-run-by-other", context)
        assert result.outcome is (Outcome.PASS if demo else Outcome.FAIL), result.reason


# -- play 2: a trial rerun by a build nobody pinned ---------------------------------------------


@pytest.mark.parametrize("built_from", ["url", "index", None])
def test_a_trial_rerun_by_a_build_of_hers_is_no_rerun_by_another(built_from: str | None) -> None:
    """The same request for play 2's rerun of the trial: "rerun it with the inhouse from my
    branch". That build runs lena's trial, judges both sides' answers and says where they came
    from as she wrote it, signing with omar's key; `trial-reproduced` counted it. Now a rerun
    names its inhouse, and one built from a folder or URL is set aside, named; a rerun by the
    release from a package index counts, and so does one recorded before reruns named it."""
    origin = {
        "url": {"version": inhouse.__version__, "installed_from": "url", "url": HER_BUILD},
        "index": {"version": inhouse.__version__, "installed_from": "index"},
        None: None,
    }[built_from]
    again = rerun(**({} if origin is None else {"inhouse": origin}))
    result = run("trial-reproduced", reproducible(), again)
    if built_from != "url":
        assert result.outcome is Outcome.PASS, result.reason
        return
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"omar's rerun (fact #{again.id}): the inhouse that ran it was installed from " \
        f"{HER_BUILD}" in result.reason  # fmt: skip


# -- play 3: a case whose input tells the model its answer, in words its checks refuse ----------


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (the review52 family: the author picks every case's input): the VPN "
    "case's ticket tells the model to reply banana, and its checks want banana and refuse "
    "'reply with', so its input and prompt echoed back fail it and it counts as needing the "
    "model; the printer case refuses banana beside the fixed decoys' words and is told apart "
    "from it while judging nothing of its ticket. Handing back each word of each input as a "
    "decoy would catch this spelling, at a judge call per word for model checks, and not the "
    "next (ban + ana, 'the yellow fruit monkeys like'): the colleague who reruns reads the cases",
)
async def test_a_case_whose_input_says_its_answer_in_words_its_checks_refuse_is_no_decoy() -> None:
    """tests/workflows/test_decoys.py closed the VPN case whose input says "reply with the one
    word banana": it passes its input echoed back, so its answers are no decoy for the others.
    One more check on it (not-icontains "reply with") fails that echo, and the printer case is
    told apart again, each "needing the model"."""
    spec = BANANA.replace("PROSE", json.dumps(_PROSE_WORDS)).replace(
        "    checks: [{type: icontains, value: banana}]",
        "    checks:\n      - {type: icontains, value: banana}\n"
        "      - {type: not-icontains, value: reply with}",
    )
    workflow = parse_workflow(spec, where="t.yaml")
    printer, vpn = workflow.cases
    answer = "Whatever the model said, at some length, about nothing the ticket asks at all."
    cases = [(printer, [answer], [(5.0, None)], True), (vpn, ["banana"], [(5.0, None)], True)]
    found = await judge_cases(workflow, cases, runtime=None, judge_model=None,  # type: ignore[arg-type]
                              embedder=None, embedding_model=None)  # fmt: skip
    assert found[1] == dict.fromkeys(FIXED, False) | {"other-answer": False}  # "needs the model"
    # what should hold: the printer case, which judges nothing of its ticket, is told apart
    # from no case
    assert found[0] is not None and found[0]["other-answer"], found[0]


# -- plays 2 and 3: her build, installed editable ---------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a build's origin is its own word (pip's direct_url.json, read by "
    "the running inhouse), and an editable install of lena's branch (`pip install -e "
    "git+https://…/lena/inhouse#egg=inhouse`, or a clone and `pip install -e .`) runs from a "
    "source tree, so it says `checkout`, which counts outside a demo for a verify and a rerun "
    "alike; only `url` is refused. Refusing `checkout` outside a demo would set aside honest "
    "verifies and reruns made from source trees in running programs (and every test run from "
    "one), and stop no branch that edits inhouse_origin to say `index`: the lead's to weigh",
)
def test_her_build_installed_editable_is_no_second_person_s_measurement() -> None:
    """vic installs lena's branch "with a fix" the way a developer would, editable: its verify
    and its rerun say the inhouse that ran them runs from a checkout, and both count."""
    origin = {"version": inhouse.__version__, "installed_from": "checkout"}
    verify = fact(
        "baseline.verify", by="omar", lock_hash=LOCK_HASH, passed=True, inhouse=origin,
        runtime_local=True, runtime_peers=["127.0.0.1"],
    )  # fmt: skip
    rerun = {**wrun("lena", lock_hash=LOCK_HASH).payload, "inhouse": origin}  # type: ignore[attr-defined]
    facts = FactSet((lock(), verify, spec(), fact("workflow.run", by="lena", **rerun)))
    context = CheckContext(facts=facts, people=ROSTER, owners=OWNERS, now=NOW, params={},
                           machines={who: frozenset({f"{who}-laptop"}) for who in ROSTER},
                           signed_in=signed_in(ROSTER), sign_in_issuer=ISSUER,
                           exited=EXITED)  # fmt: skip
    for check in ("second-person-verified", "workflow-run-by-other"):
        result = evaluate(check, context)
        assert result.outcome is Outcome.FAIL, f"{check}: {result.reason}"
