"""findings-fed-back with the organisation's sign-in: a prompt.version that claims a number the
library gave another version closes nothing.

A red team showed the lead closing a colleague's finding alone: she appended, around the API, a
"version 1" of the prompt with another body naming the finding; the library ignored it (the
number was taken), nobody was ever served it, yet the gateway's next routine rollup of triage@1
(the original, cumulative: it names everyone who ever used it) confirmed her "fix". A change
now closes a prompt finding only when it is the library's version of its number.
"""

from __future__ import annotations

import pytest

from inhouse.gateway import issue_key
from inhouse.indicators.findings import open_finding
from inhouse.pilot.library import COLLECTOR, _version_payload, library
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.pilot.prompt_spec import parse_prompt
from inhouse.program import Provenance
from inhouse.program.checks import Outcome
from tests.gateway.test_vouch import _vouch
from tests.indicators.conftest import judge_findings as _judge
from tests.pilot.gateway_days import PROMPT, Pilot, Use, at

pytestmark = pytest.mark.usefixtures("on_database")


def claim_version_one(pilot: Pilot, finding: int) -> None:
    """The lead appends a "version 1" of triage with another body naming ``finding``, then uses
    triage@1 once herself and lets the gateway's routine rollup run."""
    lena = pilot.lead
    draft = parse_prompt(PROMPT.replace("Ticket:", "Ticket (floor?):"), where="x.yaml")
    payload = _version_payload("triage", 1, draft)
    payload["closes"] = [finding]
    lena.record_fact(None, "prompt.version", payload, provenance=Provenance.MEASURED,
                     collector=COLLECTOR)  # fmt: skip
    # the library ignores it (number 1 was taken): nobody is ever served it
    assert library(lena).prompt("triage").versions[1].content_hash != draft.content_hash
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", prompt="triage@1")])
    pilot.clock.now = at("2026-11-05T12:00")
    record_prompt_usage(lena)


def test_a_version_claiming_a_taken_number_closes_nothing(pilot: Pilot) -> None:
    lena = pilot.lead
    # honest acts: bob vouches for the gateway's host (start_pilot has him vouch too, stood in;
    # here through the real gateway); oli shares a prompt; pia and bob use it
    pilot.clock.now = at("2026-11-03T09:00")
    assert pilot.share_prompt("oli", "triage") == "triage@1"
    pilot.use([Use("pia", "2026-11-03T10:00", prompt="triage@1"),
               Use("bob", "2026-11-03T11:00", prompt="triage@1")])  # fmt: skip
    pilot.clock.now = at("2026-11-04T09:00")
    record_prompt_usage(lena)  # the gateway's key (enrolled by start_pilot) signs prompt use
    assert not isinstance(_vouch(pilot.people["bob"], pilot.folder, pilot.clock), Exception)
    finding = open_finding(pilot.people["pia"], "triage ignores the floor", target="prompt:triage")
    pilot.clock.now = at("2026-11-05T09:00")
    assert _judge(lena).outcome is Outcome.FAIL

    # the lead alone: a "version 1" of triage with another body, naming pia's finding; she
    # sends one request with triage@1 (the ORIGINAL, oli's), and the gateway's routine rollup
    # names the cumulative users of triage@1
    claim_version_one(pilot, finding.id)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "it is no version of the shared library" in result.reason, result.reason
