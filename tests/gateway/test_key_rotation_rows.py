"""After an honest rotation of the gateway's key, the rows its earlier key sealed are still the
gateway's: they count while the log holds that key enrolled for the gateway and never revoked it.

Rotation deletes ``.inhouse/keys/gateway.key`` on the gateway's host and restarts it, which
makes a new key. The rows' MAC is an HMAC under a key derived from the gateway's private key,
so without more the old rows verify with no key the host holds and read as "not written by this
gateway". The host keeps each key's MAC key (never the private key) signed by that key
(``.inhouse/keys/gateway.seals/``); a reader uses the ones whose signature the key the log
enrolled for the gateway made. A file someone writes there with a MAC key of their own choosing
vouches for nothing.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput, Refused
from inhouse.gateway.rollup import SERVICE, gateway_seal
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.identity import SigningKey
from inhouse.location import DATA_DIR
from inhouse.pilot.adoption import adoption_report
from inhouse.program import Program
from inhouse.program.core import read_service_key, unenrolled_service_key
from inhouse.usage.authentic import REVOKED, left_out_message
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock
from tests.pilot.gateway_days import Use, start_pilot
from tests.test_identity import _insert

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support")}


def _forged(person: str, day: str, key: bytes | None) -> UsageRecord:
    record = UsageRecord(
        request_id=new_request_id(), at=f"{day}T11:00:00+00:00", person=person,
        key_id=f"k_{person}", endpoint="chat/completions", model="tiny", status=200,
        tokens_in=40, tokens_out=60,
    )  # fmt: skip
    if key is not None:
        record.seal(key)
    return record


def test_rows_sealed_with_the_gateways_earlier_key_count_after_an_honest_rotation(
    _isolated: Path,
    clock: Clock,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pilot = start_pilot(_isolated, clock, TEAMS)
    lead = pilot.lead
    request.addfinalizer(lead.close)
    pilot.confirms = False  # the rows, not the signed figures, are what this reads
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    old = read_service_key(pilot.folder, SERVICE)
    assert old is not None
    # the rotation as the docs give it: the key file deleted, the gateway restarted (a new key)
    (pilot.folder / DATA_DIR / "keys" / f"{SERVICE}.key").unlink()
    pilot.use([Use("pia", "2026-11-06T10:00")])
    new = read_service_key(pilot.folder, SERVICE)
    assert new is not None and new.key_id != old.key_id
    pilot.on("2026-11-06")

    seal = gateway_seal(lead, make=False)
    assert seal is not None and seal.key_id == new.key_id
    live = adoption_report(lead, mac_key=seal)
    # bob's rows, sealed with the earlier key, are the gateway's: not "not written by it"
    assert {m.person: m.active_days for m in live.members} == {"bob": 3, "pia": 1}
    assert not live.left_out
    assert [e.key_id for e in seal.earlier] == [old.key_id]

    # the forgeries: a row typed into the table with no seal, one sealed with a MAC key of the
    # forger's choosing, and a seals file that names the earlier key's id for that MAC key
    chosen = secrets.token_bytes(32)
    typed = [_forged("pia", "2026-11-04", None), _forged("pia", "2026-11-05", chosen)]
    insert_usage(lead.store, typed)
    label = old.key_id.partition(":")[2]
    (pilot.folder / DATA_DIR / "keys" / f"{SERVICE}.seals" / f"{label}x.json").write_text(
        json.dumps({"key_id": old.key_id, "mac": chosen.hex(), "signature": "AAAA"}),
        encoding="utf-8",
    )
    seal = gateway_seal(lead, make=False)
    assert seal is not None and [e.key_id for e in seal.earlier] == [old.key_id]  # only its own
    live = adoption_report(lead, mac_key=seal)
    assert {m.person: m.active_days for m in live.members} == {"bob": 3, "pia": 1}
    assert {r.request_id: r.why for r in live.left_out} == {
        typed[0].request_id: "no MAC",
        typed[1].request_id: "wrong MAC",
    }

    # a lead's rollup on the gateway's host enrols the new key, superseding the earlier one:
    # it signs nothing from then on, and the rows it sealed keep counting
    monkeypatch.setenv(OTHER_COMPUTER, f"{SERVICE}-host")  # on the gateway's host, where
    # its key was enrolled (tests.conftest) and its file rotated
    lead.as_service(SERVICE)
    records = lead.state().keys
    assert records[old.key_id].superseded_by == new.key_id
    assert records[old.key_id].revoked_at is None and records[new.key_id].active
    assert lead.state().person_of_key(old.key_id) is None  # it signs for nobody now
    seal = gateway_seal(lead, make=False)
    assert seal is not None and seal.key_id == new.key_id and seal.revoked is None
    assert [(e.key_id, e.revoked) for e in seal.earlier] == [(old.key_id, None)]
    live = adoption_report(lead, mac_key=seal)
    assert {m.person: m.active_days for m in live.members} == {"bob": 3, "pia": 1}
    pilot.use([Use("pia", "2026-11-07T10:00")])  # sealed with the new key, now enrolled
    live = adoption_report(lead, mac_key=seal)
    assert {m.person: m.active_days for m in live.members} == {"bob": 3, "pia": 2}

    # only a revocation (the old key leaked) voids them: they count for nothing, whatever
    # time they give, and say so, not "not written by this gateway"
    lead.revoke_key(old.key_id)
    seal = gateway_seal(lead, make=False)
    assert seal is not None and seal.revoked is None
    live = adoption_report(lead, mac_key=seal)
    assert {m.person: m.active_days for m in live.members} == {"bob": 0, "pia": 2}
    revoked = sorted(r.day for r in live.left_out if r.why == REVOKED)
    assert revoked == ["2026-11-03", "2026-11-04", "2026-11-05"]
    note = left_out_message(live.left_out, revoked=seal.revoked) or ""
    assert "3 usage rows sealed with a gateway key the log revoked were left out" in note


def _rotated_on_its_host(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[Program, SigningKey, SigningKey, bytes]:
    """The gateway's key enrolled and used, its file rotated on its host and the new key
    enrolled there by lena's rollup: (lena, the old key, the new one, the old key file)."""
    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    pilot.confirms = False
    pilot.enable("bob", "2026-11-02T10:00")
    pilot.use([Use("bob", "2026-11-03T10:00")])
    path = pilot.folder / DATA_DIR / "keys" / f"{SERVICE}.key"
    old, kept = read_service_key(pilot.folder, SERVICE), path.read_bytes()
    path.unlink()
    pilot.use([Use("bob", "2026-11-04T10:00")])
    new = read_service_key(pilot.folder, SERVICE)
    assert old is not None and new is not None
    monkeypatch.setenv(OTHER_COMPUTER, f"{SERVICE}-host")
    pilot.lead.as_service(SERVICE)
    return pilot.lead, old, new, kept


def test_a_superseded_gateway_key_signs_nothing_after_its_rotation(
    _isolated: Path,
    clock: Clock,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lead kept the old key: the file put back is refused (not signed with, nor enrolled
    again); an event she signs with it appended straight to the log counts for nothing (set
    aside, named: a revoked key speaks for nobody); a
    replica still on the old file is flagged as one sealing with a key not the gateway's."""
    lead, old, new, kept = _rotated_on_its_host(_isolated, clock, request, monkeypatch)
    path = _isolated / DATA_DIR / "keys" / f"{SERVICE}.key"
    path.write_bytes(kept)
    with pytest.raises(Refused, match=f"holds {old.key_id}, which key {new.key_id} superseded"):
        lead.as_service(SERVICE)
    flagged = unenrolled_service_key(lead.state(), SERVICE, old) or ""
    assert (
        f"superseded by {new.key_id}" in flagged and f"its enrolled key is {new.key_id}" in flagged
    )
    assert lead.state().tampered is None
    _insert(lead, "gateway.note", SERVICE, {"forged": True}, old)  # the database file, by hand
    state = Program.open(_isolated, key=lead.key).state()
    assert state.tampered is None and "gateway.note" not in state.package_events
    (named,) = [why for _, why in state.unauthorized if old.key_id in why]
    assert "revoked before it" in named and "a revoked key speaks for nobody" in named


def test_a_superseding_enrolment_names_only_the_services_own_active_keys(
    _isolated: Path,
    clock: Clock,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lead's enrolment of a gateway key that "supersedes" her colleague's key (so that every
    event that person signs from then on reads as forged) is refused, and so is one superseding
    a key superseded already (or revoked); written into the database by hand, the log
    stops verifying there and bob's key still signs for him."""
    lead, old, _, _ = _rotated_on_its_host(_isolated, clock, request, monkeypatch)
    bob = next(k.key_id for k in lead.state().keys_of("bob"))
    for named in (bob, old.key_id):
        with pytest.raises(InvalidInput, match=f"superseding key {named}, which is no active"):
            lead.enrol_service(SERVICE, SigningKey.generate(), supersedes=[named])
    assert lead.state().keys[bob].active
    forged = SigningKey.generate()
    payload = {
        "name": SERVICE, "key_id": forged.key_id, "public_key": forged.public_key,
        "machine": "gateway-host", "service": True, "enrolled_by": "lena", "supersedes": [bob],
        "proof": forged.sign(f"inhouse-service:{lead.state().program_id}:{SERVICE}".encode()),
    }  # fmt: skip
    _insert(lead, "person.enrolled", "lena", payload, lead.key)
    state = Program.open(_isolated, key=lead.key).state()
    assert state.tampered is not None and f"superseding key {bob}" in state.tampered[0]
    assert state.keys[bob].active


def test_a_rotation_beside_another_hosts_active_key_supersedes_nothing(
    _isolated: Path,
    clock: Clock,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gateway holds an active key from its host and one from another machine: which of
    them a rotation on the host replaces is a lead's call (a revocation), so nothing is
    enrolled or superseded."""
    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    pilot.enable("bob", "2026-11-02T10:00")
    pilot.use([Use("bob", "2026-11-03T10:00")])
    monkeypatch.setenv(OTHER_COMPUTER, "replica-host")
    elsewhere = SigningKey.generate()
    ENROL_SERVICE_HERE(pilot.lead, SERVICE, elsewhere)
    (pilot.folder / DATA_DIR / "keys" / f"{SERVICE}.key").unlink()
    pilot.use([Use("bob", "2026-11-04T10:00")])
    monkeypatch.setenv(OTHER_COMPUTER, f"{SERVICE}-host")
    before = len(pilot.lead.events())
    with pytest.raises(Refused, match=r"from this machine \([0-9a-f]+\) and another"):
        pilot.lead.as_service(SERVICE)
    assert len(pilot.lead.events()) == before
    assert all(k.superseded_by is None for k in pilot.lead.state().keys_of(SERVICE))
