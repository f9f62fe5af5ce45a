"""Exit rule 35 (``WORKFLOW_FRESH_SEED``) reads whether a workflow version samples from what the
version itself says: the text its content hash covers, which today's ``workflow test`` records
with its run (``hashed``), not from any one member's run saying so.

A run is anyone's to type: pam, a member nobody judges, typed a run of a temperature-0 version
saying it samples at 0.7, and every colleague's honest run of it (which sends the written seed,
as there is no draw to replay at 0) was refused as a replay: a lever to block play 3. The
other way, a colleague's run saying "at 0" of a version at 0.7 (sending its author's seed)
counts for nothing beside the version's own text.
"""

from __future__ import annotations

from typing import Any

from inhouse.program.checks import WORKFLOW_FRESH_SEED, Outcome
from inhouse.program.facts import Fact
from inhouse.workflows.spec import hashed_text, text_hash
from tests.locks import HERE, JUDGED
from tests.test_playchecks import LOCK, fact, lock, run, spec
from tests.test_review_wseed import WITH_PAM

DRAWN = 1_234_567


def version(temperature: float | None, seed: int | None = 11) -> tuple[str, str]:
    """A triage version's hashed text and its content hash (``temperature`` None: none written,
    the server's default)."""
    parameters: dict[str, Any] = {"max_tokens": 80}
    if temperature is not None:
        parameters["temperature"] = temperature
    if seed is not None:
        parameters["seed"] = seed
    data = {
        "name": "triage",
        "owner": "omar",
        "model": "m0",
        "parameters": parameters,
        "prompt": {"user": "Ticket: {{ ticket }}"},
        "variables": {"ticket": "string"},
        "tests": [{"vars": {"ticket": "x"}, "checks": [{"type": "contains", "value": "x"}]}],
    }
    text = hashed_text(data)
    return text, text_hash(text)


def sent(seed: int | None, temperature: float | None, *, drawn: bool = False) -> dict[str, Any]:
    return {"sent": seed, "spec": 11, "temperature": temperature, "drawn": drawn}


def wrun(
    by: str, content: str, seed: dict[str, Any], hashed: str = "", *, passed: bool = True
) -> Fact:
    payload: dict[str, Any] = {**HERE, **JUDGED, "seed": seed}
    if hashed:
        payload["hashed"] = hashed
    return fact(
        "workflow.run",
        by=by,
        workflow="triage",
        content_hash=content,
        lock_hash=LOCK,
        passed=passed,
        pass_rate=1.0 if passed else 0.5,
        **payload,
    )


def judged(*facts: Fact) -> Any:
    return run("workflow-run-by-other", lock(), *facts, people=WITH_PAM)


def test_a_members_run_saying_a_version_at_0_samples_blocks_nobody() -> None:
    """pam types a run of omar's temperature-0 version saying it samples at 0.7 (with no text,
    or a text of her own that hashes as no version); vic's honest run sent the written seed, as
    every run at 0 does, and carries the version's text: it counts."""
    text, content = version(0.0)
    forged, _ = version(0.7)
    omars = wrun("omar", content, sent(11, 0.0), text)
    vics = wrun("vic", content, sent(11, 0.0), text)
    claims = (
        wrun("pam", content, sent(11, 0.7), passed=False),
        wrun("pam", content, sent(11, 0.7), forged, passed=False),
    )
    for claim in claims:
        result = judged(spec(content=content), omars, claim, vics)
        assert result.outcome is Outcome.PASS, result.reason
        assert result.evidence[-1] == vics
    # nor does pam's run typed after vic's
    after = wrun("pam", content, sent(11, 0.7), passed=False)
    result = judged(spec(content=content), omars, vics, after)
    assert result.outcome is Outcome.PASS, result.reason


def test_a_seed_a_member_types_as_the_versions_refuses_no_draw() -> None:
    """At 0.7 vic's run drew its own seed; pam types a run after it saying the version's seed is
    the one vic drew. The version's own text says its seed (11): vic's draw counts."""
    text, content = version(0.7)
    omars = wrun("omar", content, sent(11, 0.7), text)
    vics = wrun("vic", content, sent(DRAWN, 0.7, drawn=True), text)
    typed = wrun(
        "pam", content, {"sent": 5, "spec": DRAWN, "temperature": 0.7, "drawn": False}, passed=False
    )
    result = judged(spec(content=content), omars, vics, typed)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.evidence[-1] == vics


def test_a_colleagues_run_saying_0_of_a_version_that_samples_is_a_replay() -> None:
    """The version's text says 0.7: vic's run saying "at 0" that sent omar's seed replayed his
    draw, whatever it says, and pam's run "at 0" (someone nobody judges) does not help it."""
    text, content = version(0.7)
    omars = wrun("omar", content, sent(11, 0.7), text)
    vics = wrun("vic", content, sent(11, 0.0))
    pams = wrun("pam", content, sent(11, 0.0), passed=False)
    result = judged(spec(content=content), omars, pams, vics)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "sent the version's own seed (11) at temperature 0.7" in result.reason
    assert f"(exit rule {WORKFLOW_FRESH_SEED})" in result.reason


def test_a_version_without_a_temperature_samples_at_the_servers_default() -> None:
    text, content = version(None)
    omars = wrun("omar", content, sent(11, None), text)
    vics = wrun("vic", content, sent(11, 0.0))
    result = judged(spec(content=content), omars, vics)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "sent the version's own seed (11) at the server's default temperature" in result.reason
