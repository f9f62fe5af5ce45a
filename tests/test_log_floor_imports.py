"""A fact carried in an envelope is held to the log's floor as of its import.

Once the organisation's sign-in is set up, a fact is dated no earlier than ten minutes before
what two other signed-in people had already written (docs/concepts.md). A fact imported in an
envelope used to keep the time its signer sealed into it, so the lead sealed her own fact with
any date and carried it in with ``inhouse evidence import``. Now its time is held to the same
floor, as of the import: a key that counts signed in, so its holder could write to the log, and
a key that signs in only after its envelopes were imported would otherwise make them count with
their old times. Where no two signed-in people wrote after it (a program without the sign-in, an
outbox imported promptly), an envelope keeps its time; the same fact sealed again is still a
copy, though the log dated it later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.identity import fact_predicate_type, seal
from inhouse.pilot.roster import COLLECTOR as PILOT
from inhouse.program import Program
from inhouse.program.facts import FACT_KINDS
from inhouse.program.state import LOG_SKEW
from tests.conftest import Clock
from tests.gateway.test_vouch import _vouch
from tests.people import enrol, sign_in_as

pytestmark = pytest.mark.usefixtures("on_database")


#: the collector that measures each kind sealed here
COLLECTORS = {"pilot.member": PILOT, "access.request": "inhouse access"}


def _sealed(program: Program, kind: str, payload: dict[str, Any], at: datetime,
            machine: str = "") -> dict[str, Any]:  # fmt: skip
    """``program``'s key seals a measured ``kind`` fact dated ``at``, as an outbox does."""
    version = FACT_KINDS[kind].version
    fact = {"kind": kind, "version": version, "payload": payload, "provenance": "measured",
            "collector": COLLECTORS[kind]}  # fmt: skip
    return seal(program.key, program_id=program.state().program_id,
                predicate_type=fact_predicate_type(kind, version),
                predicate={"fact": fact, "at": at.isoformat(), "machine": machine})  # fmt: skip


def test_a_removal_carried_in_an_envelope_is_dated_no_earlier_than_the_log(
    _isolated: Path, clock: Clock
) -> None:
    """The forgery (tests/pilot/test_pilot_heard.py's walk, six signed-in members): the lead
    removes carl, who does not use the tool, after reading the figures. Removed now, he counts
    as not independent in the report's window ("3 of 6", a fail). She seals the removal's
    ``pilot.member`` fact with her own key dated a month back and imports it: dated as sealed,
    he was out of the pilot the report measures ("3 of 5", a pass). Held to the log's floor as
    of its import, it is dated now, and the check fails as the honest removal does."""
    from inhouse.gateway.keys import close_access
    from inhouse.pilot.adoption import adoption_report, record_adoption
    from inhouse.program.checks import Outcome
    from tests.pilot.gateway_days import SIX, Use, exit_check, signed_in_pilot

    keen = {"bob", "pia", "dora"}
    with signed_in_pilot(_isolated, clock, SIX) as pilot:
        for person in SIX:
            pilot.enable(person, "2026-11-02T10:00")
        pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in keen for d in (3, 4, 5))
        pilot.on("2026-11-06")
        preview = adoption_report(pilot.lead)  # nothing recorded
        assert sorted(set(SIX) - set(preview.independent)) == ["carl", "eve", "fay"]
        lead = pilot.lead
        # FORGERY: what `inhouse pilot remove carl` does, its fact sealed a month back and
        # carried in with `inhouse evidence import` (her own key, her own signed fact)
        close_access(lead, "carl")
        lead.change_roles(None, "carl", remove=["pilot-user"])
        back = datetime.fromisoformat("2026-10-01T09:00:00+00:00")
        removal = {"person": "carl", "track": pilot.tracks["carl"], "action": "removed"}
        [line] = lead.import_evidence([_sealed(lead, "pilot.member", removal, back)],
                                      source="old.json")  # fmt: skip
        assert "pilot.member by lena" in line, line
        [fact] = [f for f in lead.state().facts if f.imported]
        assert fact.at > back + timedelta(days=30), f"dated {fact.at:%Y-%m-%d %H:%M}"
        _, report = record_adoption(lead)
        assert report is not None
        assert not isinstance(_vouch(pilot.people["bob"], pilot.folder, pilot.clock), Exception)
        outcome, reason = exit_check(pilot, "pilot-independent-use")
        assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), (
            f"a removal dated back in an envelope took carl out of the report's window: "
            f"{outcome.value}: {reason}"
        )


def test_an_envelope_imported_before_its_key_signed_in_is_held_to_the_floor_too(
    _isolated: Path, clock: Clock
) -> None:
    """Holding only signed-in keys to the floor would leave a gap: a fact counts once its key
    signs in, whenever that is, so vic (on a machine he has not signed in from) seals a fact
    dated a month back, the lead imports it, and vic signs in afterwards. It is dated as of
    its import all the same."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="support")
    sam = enrol(lena, "sam", team="it")
    vic = enrol(lena, "vic", team="sales", signed_in=False)
    clock.advance(days=30)
    lena.request_access(reason="today")
    sam.request_access(reason="today")
    back = clock.now - timedelta(days=30)
    [line] = lena.import_evidence(
        [_sealed(vic, "access.request", {"person": "vic", "reason": "a month ago"}, back)]
    )
    assert "access.request by vic" in line, line
    sign_in_as(vic)
    [fact] = [f for f in vic.state().facts if f.imported]
    assert fact.at >= clock.now - LOG_SKEW, f"dated {fact.at:%Y-%m-%d %H:%M}"
    lena.close()


def test_an_outbox_imported_before_two_others_wrote_after_it_keeps_its_time(
    _isolated: Path, clock: Clock
) -> None:
    """The honest path: omar's fact, sealed on a machine without the log fifty minutes ago, is
    imported before two other signed-in people wrote after it, and keeps its time."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    enrol(lena, "sam", team="it")
    clock.advance(hours=1)
    sealed_at = clock.now - timedelta(minutes=50)
    lena.import_evidence(
        [_sealed(omar, "access.request", {"person": "omar", "reason": "triage"}, sealed_at)]
    )
    [fact] = [f for f in lena.state().facts if f.imported]
    assert fact.at == sealed_at
    lena.close()


def test_without_the_sign_in_an_outbox_keeps_its_times(_isolated: Path, clock: Clock) -> None:
    """In a program without the organisation's sign-in there is no floor: an outbox imported
    days after its facts were recorded keeps their times."""
    from inhouse.identity import SigningKey

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    text = lena.invite("pia", team="legal")
    key = SigningKey.generate()
    lena.join(str(text), key, at_machine="pia-laptop")
    pia = lena.using(key)
    clock.advance(days=5)
    lena.request_access(reason="today")
    week = clock.now - timedelta(days=4)
    lena.import_evidence(
        [_sealed(pia, "access.request", {"person": "pia", "reason": "last week"}, week)]
    )
    assert lena.state().sign_in is None
    [fact] = [f for f in lena.state().facts if f.imported]
    assert fact.at == week
    lena.close()


def test_the_same_fact_sealed_again_is_a_copy_though_the_log_dated_it_later(
    _isolated: Path, clock: Clock
) -> None:
    """The floor moves an imported fact's time; the copy check (``repeated_fact``) still finds
    it by the time it was sealed with, so the same fact, sealed again from another machine (a
    new envelope), is not counted a second time."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="support")
    sam = enrol(lena, "sam", team="it")
    vic = enrol(lena, "vic", team="sales")
    clock.advance(days=2)
    lena.request_access(reason="today")
    sam.request_access(reason="today")
    back = clock.now - timedelta(days=2)
    request = {"person": "vic", "reason": "two days ago"}
    lena.import_evidence([_sealed(vic, "access.request", request, back, machine="vic-laptop")])
    [line] = lena.import_evidence(
        [_sealed(vic, "access.request", request, back, machine="vic-desktop")]
    )
    assert "not imported" in line and "again" in line, line
    assert len([f for f in lena.state().facts if f.imported]) == 1
    lena.close()
