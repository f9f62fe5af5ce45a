"""findings-fed-back and the prompt library number versions alike: a version the library serves
under a number holds that number for the checks too, even where its signer's facts do not count.

A red team showed the lead closing a colleague's finding alone, around the guard that a
``prompt.version`` claiming a number the library gave another version closes nothing
(tests/indicators/test_findings_served.py). The library's fold (what the gateway serves) reads
every version its collector signed; the checks numbered only the versions that count, and a key
that never signed in with the organisation's sign-in counts for nothing. So: a second key of the
lead's, never signed in, shares ``triage`` (the library's, and the gateway's, triage@1);
colleagues use triage@1 through the gateway; pia opens a finding on it. The lead appends around
the API a "version 1" of triage with another body naming the finding, signed with her own
signed-in key: the library ignores it (number 1 is taken), nobody is ever served it, but the
checks, which did not see the first version, took it for the library's version 1. She sends one
request with triage@1 herself, and the gateway's routine rollup (cumulative: everyone who ever
used triage@1) confirmed her "fix" with her colleagues' earlier use.

Now the checks number versions over every version the library's fold reads, counted or not; a
version whose number the library gave another is no version, whatever counts."""

from __future__ import annotations

import pytest

from inhouse.indicators.findings import open_finding
from inhouse.pilot.library import add_prompt
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.program import Program
from inhouse.program.checks import Outcome
from tests.gateway.test_vouch import _vouch
from tests.indicators.conftest import judge_findings as _judge
from tests.indicators.test_findings_served import claim_version_one
from tests.people import confirm_own_use, enrol
from tests.pilot.gateway_days import PROMPT, Pilot, Use, at

pytestmark = pytest.mark.usefixtures("on_database")


def _used_then_found(pilot: Pilot, author: Program) -> int:
    """``author`` shares triage@1; pia and bob use it; the gateway records it; pia then opens a
    finding on triage. Returns the finding's number."""
    lena = pilot.lead
    pilot.clock.now = at("2026-11-03T09:00")
    assert add_prompt(author, "triage", PROMPT, where="triage.yaml").id == "triage@1"
    pilot.use([Use("pia", "2026-11-03T10:00", prompt="triage@1"),
               Use("bob", "2026-11-03T11:00", prompt="triage@1")])  # fmt: skip
    pilot.clock.now = at("2026-11-04T09:00")
    record_prompt_usage(lena)
    assert not isinstance(_vouch(pilot.people["bob"], pilot.folder, pilot.clock), Exception)
    finding = open_finding(pilot.people["pia"], "triage ignores the floor", target="prompt:triage")
    pilot.clock.now = at("2026-11-05T09:00")
    assert _judge(lena).outcome is Outcome.FAIL
    return finding.id


def test_a_version_claiming_a_number_an_unsigned_key_took_closes_nothing(pilot: Pilot) -> None:
    lena = pilot.lead
    # the lead's second key, from her other machine, never signed in: its facts do not count,
    # but the library serves what it shares
    gus = enrol(lena, "gus", team="ops", machine="lena-desktop", signed_in=False)
    finding = _used_then_found(pilot, gus)
    claim_version_one(pilot, finding)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "it is no version of the shared library" in result.reason, result.reason


def test_a_version_the_library_serves_still_numbers_as_before(pilot: Pilot) -> None:
    """Control: oli (signed in) shares triage@1; the lead publishes triage@2 through the
    library naming pia's finding; pia's own use of triage@2 through the gateway confirms it."""
    from inhouse.pilot.library import new_version

    lena = pilot.lead
    finding = _used_then_found(pilot, pilot.people["oli"])
    changed = PROMPT.replace("Ticket:", "Ticket (floor?):")
    assert new_version(lena, "triage", changed, where="t.yaml", closes=[finding]).id == ("triage@2")
    pilot.use([Use("pia", "2026-11-05T10:00", prompt="triage@2")])
    pilot.clock.now = at("2026-11-05T12:00")
    record_prompt_usage(lena)
    confirm_own_use(pilot.people["pia"])  # she was served triage@2, in her own word
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
