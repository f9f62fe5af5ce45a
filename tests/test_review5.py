"""Review of exit rule 19 (``CONFIRMED_BOUND``, branch oldconf), as forgery tests: a prompt
version's confirmation covers the days of its use it was shown; a ``prompt.usage`` fact in the
shape from before the gateway dated each person's use (no ``used_by``) dates everyone in
``people`` by its ``last_used``, and the host's operator writes that shape as easily."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from inhouse.pilot.enablement import record_enablement
from inhouse.pilot.roster import add_member
from inhouse.pilot.usage_confirm import attributed_use, confirm_usage
from tests.conftest import Clock
from tests.test_redteam34p import _enabled, sign_use_again, triage_tried
from tests.test_review4 import _step


def test_an_undated_use_the_host_signs_later_is_no_use_a_confirmation_covers(
    _isolated: Path, clock: Clock
) -> None:
    """FORGERY (lena alone, who runs the gateway's host): bob confirmed carol's triage@1 on 3
    November (today's inhouse: "last 2026-11-03"). After he joins the pilot lena signs its
    use again in the older shape, ``people: [bob]``, last used the 12th, with no ``used_by``:
    the checks date his use by ``last_used``, and his confirmation was asked of the day only
    in ``used_by``; his used-shared-prompt step was met on use he never made."""
    world, bob, gateway, _v1 = triage_tried(_isolated, clock)
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="prompts")
    clock.now = datetime(2026, 11, 12, 18, tzinfo=UTC)
    sign_use_again(gateway, dated=False)
    step = _step(bob)
    assert not step.met, step.detail
    record_enablement(bob)
    result = _enabled(world.lead)
    assert result.outcome.value == "fail", result.reason
    # he is asked about the version again; confirming it once ends it, and the step is met
    assert ("triage", 1) in attributed_use(bob).prompts
    confirm_usage(bob)
    assert ("triage", 1) not in attributed_use(bob).prompts
    step = _step(bob)
    assert step.met, step.detail
    record_enablement(bob)
    result = _enabled(world.lead)
    assert result.outcome.value == "pass", result.reason
