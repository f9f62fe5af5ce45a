"""Review of rt34p and outs456 (review4).

**`inhouse pilot enablement` and play 4's check disagreed on a used-shared-prompt step.** The
preview read a prompt version's signed ``people`` (a confirmation of the version, any day,
keeps a person there), the check each person's own dated use (``used_by``, held to the days
their confirmation covers and to the day they joined the pilot). So the preview said "met",
``--record`` recorded the step, and ``pilot-enabled`` called it unborne: the member was told
two things at once. The preview now reads a version's use as the check does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from inhouse.pilot.enablement import StepProgress, progress, record_enablement
from inhouse.pilot.roster import add_member
from inhouse.pilot.usage_confirm import COLLECTOR, attributed_use, confirm_usage
from inhouse.program import Program, Provenance
from tests.conftest import Clock
from tests.test_redteam34p import _enabled, sign_use_again, triage_tried


def _step(program: Program) -> StepProgress:
    [item] = progress(program, "bob")
    [step] = item.steps
    return step


def _confirm_as_before_dates(bob: Program) -> None:
    """bob's `usage confirm` of the 3rd again, as an inhouse from before confirmations dated a
    version's use wrote it (no ``last``)."""
    for fact in bob.state().facts:
        if fact.kind == "usage.confirmed" and fact.by == "bob":
            legacy = {
                **fact.payload,
                "prompts": [
                    {"prompt": r["prompt"], "version": r["version"]}
                    for r in fact.payload["prompts"]
                ],
            }
    bob.record_fact(
        None, "usage.confirmed", legacy, provenance=Provenance.MEASURED, collector=COLLECTOR
    )


def test_preview_agrees_with_the_check_on_a_use_the_host_dates_after_a_confirmation(
    _isolated: Path, clock: Clock
) -> None:
    """bob confirmed carol's triage@1 on 3 November, before he joined the pilot; the host's
    key then dates his use of it on the 12th, which he never confirmed. The check says his
    step is unborne; the preview said it was met, and ``--record`` recorded it."""
    world, bob, gateway, v1 = triage_tried(_isolated, clock)
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="prompts")
    clock.now = datetime(2026, 11, 12, 18, tzinfo=UTC)
    sign_use_again(gateway)
    step = _step(bob)
    assert not step.met, step.detail
    assert "counts once you confirm that use" in step.detail
    assert "2026-11-12" in step.detail
    assert all(f.kind != "enablement.step" for f in record_enablement(bob)[1])
    # the honest way still passes, preview and check alike
    world.send("bob", datetime(2026, 11, 13, 10, tzinfo=UTC), prompt=v1)
    world.sign()
    step = _step(bob)
    assert step.met, step.detail
    record_enablement(bob)
    result = _enabled(world.lead)
    assert result.outcome.value == "pass", result.reason


def test_preview_agrees_with_the_check_on_a_use_from_before_joining(
    _isolated: Path, clock: Clock
) -> None:
    """bob used triage@1 on 3 November and confirmed it; lena adds him to the pilot on the
    10th and the host's signed use of it still dates his last use the 3rd. The check reads
    his step as unborne (no use since he joined); the preview said it was met."""
    world, bob, _, _v1 = triage_tried(_isolated, clock)
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="prompts")
    world.sign()
    step = _step(bob)
    assert not step.met, step.detail
    assert "2026-11-03" in step.detail, step.detail
    assert "2026-11-10" in step.detail, step.detail


def test_a_confirmation_from_before_dates_is_no_use_the_host_dates_later(
    _isolated: Path, clock: Clock
) -> None:
    """FORGERY (lena alone, who runs the gateway's host): bob confirmed carol's triage@1 on 3
    November, before confirmations named the last day of a version's use (the payload had
    none). lena signs its use again, bob's "last on the 12th", after he joined the pilot: his
    used-shared-prompt step is met on use he never made, as 72a090d8 closed for a dated one."""
    world, bob, gateway, _v1 = triage_tried(_isolated, clock)
    # what bob's `usage confirm` of the 3rd recorded before confirmations dated a version
    _confirm_as_before_dates(bob)
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="prompts")
    clock.now = datetime(2026, 11, 12, 18, tzinfo=UTC)
    sign_use_again(gateway)
    record_enablement(bob)
    result = _enabled(world.lead)
    assert result.outcome.value == "fail", result.reason
    # rule 19: his older confirmation covers his use up to the day it was made; asked again
    assert attributed_use(bob).prompts == [("triage", 1)]


def test_a_confirmation_from_before_dates_counts_once_confirmed_again(
    _isolated: Path, clock: Clock
) -> None:
    """Honest: bob confirmed triage@1 on 3 November with an inhouse from before confirmations
    dated a version's use, joined the pilot and used it again on the 12th. The gateway dates
    that use; his older word covers up to the 3rd, so his step waits for him to confirm the
    version again, once, and then it is met."""
    world, bob, _, v1 = triage_tried(_isolated, clock)
    _confirm_as_before_dates(bob)
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="prompts")
    world.confirms = False
    world.send("bob", datetime(2026, 11, 12, 10, tzinfo=UTC), prompt=v1)
    world.sign()
    clock.now = datetime(2026, 11, 12, 18, tzinfo=UTC)
    assert not _step(bob).met
    assert ("triage", 1) in attributed_use(bob).prompts
    confirm_usage(bob)
    assert ("triage", 1) not in attributed_use(bob).prompts
    step = _step(bob)
    assert step.met, step.detail
    record_enablement(bob)
    result = _enabled(world.lead)
    assert result.outcome.value == "pass", result.reason
