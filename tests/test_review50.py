"""Review of the decoys judged in the model's own time (review50).

The decoys (an empty answer, off-topic prose, the input handed back) are judged at the model's
own time and cost where a case's checks judge time or cost, so ``not-latency`` alone (which an
instant answer fails and every model answer passes) proves nothing. That covered the ``latency``
and ``cost`` check types only; a ``python`` check's function is handed ``latency_ms`` and
``cost`` too, and one returning ``context["latency_ms"] > 0.5`` is ``not-latency`` by another
name: every decoy, given instantly, failed it, so the case "needed the model" (play 3 counted a
rerun of it, play 1 a trial's inputs as proved) whatever the model said. (Closed: a ``python``
check is judged at the model's own time and cost too.)
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from inhouse.checks import parse_checks
from inhouse.checks.base import QualityContext
from inhouse.checks.evaluate import evaluate as judge_output
from inhouse.checks.function import python_checks_allowed
from inhouse.trials.headtohead import _decoy_passes
from inhouse.workflows.decoys import judge_decoys
from inhouse.workflows.spec import parse_workflow
from tests.workflows.conftest import SUMMARY
from tests.workflows.test_decoys import FIXED as FIXED_DECOYS


def took_time(output: str, context: dict[str, Any]) -> bool:
    """lena's check: the answer took longer than half a millisecond (what every answer a model
    gives over HTTP does, whatever it says)."""
    return float(context["latency_ms"] or 0.0) > 0.5


def names_the_printer(output: str, context: dict[str, Any]) -> bool:
    """An honest check: what the answer says, whatever time it took."""
    return "printer jam" in output and float(context["latency_ms"] or 0.0) >= 0.0


def _workflow(function: str) -> Any:
    text = (
        SUMMARY.replace("name: summary", "name: quick").split("tests:")[0]
        + "tests:\n"
        + "  - name: printer\n"
        + "    vars: {ticket: The printer on floor 2 is jammed again.}\n"
        + "    checks:\n"
        + f"      - {{type: python, value: 'tests.test_review50:{function}'}}\n"
    )
    return parse_workflow(text, where="quick.yaml")


@pytest.mark.anyio
async def test_a_python_check_on_the_answer_s_delay_alone_passes_a_decoy_in_its_time() -> None:
    """The forgery: the case's one check is a Python function that passes any answer that took
    time. Every model answer passes it (here one that took 800 ms); judged in the model's own
    time, the empty answer passes too, so the case does not need the model."""
    workflow = _workflow("took_time")
    [case] = workflow.cases
    answer = '{"queue": "it", "summary": "anything at all"}'
    with python_checks_allowed(True):
        assert (await judge_output(case.checks, answer, QualityContext(latency_ms=800.0))).passed
        found = await judge_decoys(workflow, case, runtime=None, judge_model=None, embedder=None,
                                   embedding_model=None, answers=[answer],
                                   timings=[(800.0, None)])  # fmt: skip
    assert found is not None and found["empty"], found


@pytest.mark.anyio
async def test_a_python_check_on_what_the_answer_says_still_needs_the_model() -> None:
    """The honest path: a Python check that reads the answer fails every decoy, at any time."""
    workflow = _workflow("names_the_printer")
    [case] = workflow.cases
    answer = '{"queue": "it", "summary": "printer jam"}'
    with python_checks_allowed(True):
        found = await judge_decoys(workflow, case, runtime=None, judge_model=None, embedder=None,
                                   embedding_model=None, answers=[answer],
                                   timings=[(800.0, None)])  # fmt: skip
    assert found == dict.fromkeys(FIXED_DECOYS, False), found


def _plan(function: str) -> Any:
    """What ``_decoy_passes`` reads of a trial's plan: its checks, inputs and threshold."""
    checks = parse_checks(
        [{"type": "python", "value": f"tests.test_review50:{function}"}], where="trial"
    )
    return SimpleNamespace(
        checks=checks,
        inputs=[SimpleNamespace(fields={"ticket": "printer"})],
        spec=SimpleNamespace(threshold=1.0),
    )


@pytest.mark.anyio
async def test_a_trial_s_python_check_on_delay_alone_passes_a_decoy_in_its_time() -> None:
    """Play 1's trial: a Python quality check passing any answer that took time passes the
    empty answer given in the candidate's own time (800 ms, 0.001): no input is proved. One
    reading the answer still fails it."""
    with python_checks_allowed(True):
        forged = await _decoy_passes(_plan("took_time"), [""], [(800.0, 0.001)])
        honest = await _decoy_passes(_plan("names_the_printer"), [""], [(800.0, 0.001)])
    assert forged == (True,)
    assert honest == (False,)


# -- the servers' log filter ----------------------------------------------------------------------


def test_a_log_call_whose_arguments_do_not_fit_is_reported_not_raised_at_the_call_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """clean_logs' filter formatted every record itself: a message its arguments do not fit
    raised TypeError out of the log call (in the gateway, out of the error path that logged),
    where logging reports it on stderr and goes on. It goes on; a control character in a
    well-formed record is still written as its code."""
    import io
    import logging

    from inhouse.terminal import clean_logs

    logger = logging.getLogger("inhouse.test_review50")
    logger.propagate = False
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    clean_logs("inhouse.test_review50")
    try:
        logger.warning("refused %d", "not a number")  # must not raise
        logger.warning("path %s", "/x\nFORGED line")
    finally:
        logger.removeHandler(handler)
    assert "Logging error" in capsys.readouterr().err
    assert out.getvalue() == "path /x\\u000aFORGED line\n", out.getvalue()
