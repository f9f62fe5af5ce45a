"""A key joins with an invitation only by showing the invitation, not the hash the log keeps of
it (:mod:`inhouse.identity.invitations`). lena, a rollout lead, also writes the store (she has
the database's password): she reads every invitation's hash there. omar, a member, invites a
machine of his own; only he received that invitation."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import IdentityError
from inhouse.identity import ENROLMENT_TYPE, SigningKey, seal
from inhouse.program import Program, Provenance
from inhouse.program.events import EventKind, append
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol
from tests.test_fold_no_freeze import _RECEIVED, _joined, _own_invitation, _world


def test_omars_own_new_machine_joins_with_his_invitation(_isolated: Path, clock: Clock) -> None:
    """The honest way: the invitation logs its key's public half, his join signs with it."""
    world = _world(_isolated, clock, plays=False)
    omar = world.omar
    invitation = omar.invite("omar")
    (logged,) = [e for e in omar.events() if e.kind == EventKind.PERSON_INVITED][-1:]
    assert isinstance(logged.payload["join_key"], str)
    assert invitation.token not in json.dumps(logged.payload)  # the store never holds it
    desk = SigningKey.generate()
    omar.join(invitation, desk, at_machine="omar-desktop")
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.keys[desk.key_id].person == "omar"
    assert not state.unauthorized and not state.malformed


def test_a_proof_read_in_the_log_does_not_let_another_key_join(
    _isolated: Path, clock: Clock
) -> None:
    """lena reads omar's honest enrolment in the store, proof and all, removes it (a writer
    of the store can remove the newest rows), and appends her own key's enrolment with his
    proof: the proof signs his key's id, not hers."""
    world = _world(_isolated, clock, plays=False)
    lena = world.lena
    token = _own_invitation(world.omar)
    desk = SigningKey.generate()
    proof = _joined(token, desk, proven=True)["join_proof"]
    key = SigningKey.generate()  # lena's
    seq = append(lena.store, EventKind.PERSON_ENROLLED, "omar",
                 _joined(token, key, join_proof=proof), at=clock(), key=key).seq  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and key.key_id not in state.keys
    (named,) = [why for at, why in state.unauthorized if at == seq]
    assert "without the invitation's own signature over that key" in named


def test_a_join_by_an_older_inhouse_is_set_aside_and_its_key_freezes_nothing(
    _isolated: Path, clock: Clock
) -> None:
    """omar's new machine runs an inhouse from before the proof: its enrolment carries only the
    invitation's hash, so it is set aside (whoever writes the store could have made it), and
    what that key signs next is set aside too, the fold going on for everyone (a row signed by a
    key on nobody's roster stopped it). He joins again with this inhouse, on the same invitation
    and key, and both count from then on."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    token = _own_invitation(omar)
    desk = SigningKey.generate()
    joined = append(lena.store, EventKind.PERSON_ENROLLED, "omar", _joined(token, desk),
                    at=clock(), key=desk).seq  # fmt: skip
    refused = {"action": "a", "guards": [], "message": "m"}
    signed = append(lena.store, EventKind.ACTION_REFUSED, "omar", refused, at=clock(),
                    key=desk).seq  # fmt: skip
    lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                     provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None and desk.key_id not in state.keys
    assert any(f.kind == "task.named" for f in state.facts)  # after both: counted
    warnings = json.loads(cli("status", "--json"))["warnings"]
    (first,) = [w for w in warnings if f"event {joined} " in w]
    assert "join again with this inhouse, on the same invitation" in first
    (second,) = [w for w in warnings if f"event {signed} " in w]
    assert f"signed by key {desk.key_id}, which no enrolment before it names" in second
    assert "FORGERY ATTEMPT" in cli("audit", "verify", code=1)
    omar_desk = Program.open(_isolated, key=desk, clock=clock)
    omar_desk.join(str(_RECEIVED[token]), desk, at_machine="omar-desktop")
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.keys[desk.key_id].person == "omar"


def test_an_invitation_from_before_the_proof_still_lets_its_key_join(
    _isolated: Path, clock: Clock
) -> None:
    """An invitation an older inhouse logged (no ``join_key``) is joined with by its hash, as
    before: programs already running keep every key and verdict they had."""
    world = _world(_isolated, clock, plays=False)
    omar = world.omar
    older = {"name": "omar", "token_hash": "0" * 64, "another_key": True,
             "expires": (clock() + timedelta(days=7)).isoformat()}  # fmt: skip
    append(omar.store, EventKind.PERSON_INVITED, "omar", older, at=clock(), key=omar.key)
    desk = SigningKey.generate()
    append(omar.store, EventKind.PERSON_ENROLLED, "omar", _joined("0" * 64, desk), at=clock(),
           key=desk)  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.keys[desk.key_id].person == "omar"


def test_a_sealed_enrolment_on_his_invitation_needs_it_too(_isolated: Path, clock: Clock) -> None:
    """The same join carried as an envelope (``join --offline``, then ``evidence import``):
    lena seals her key's enrolment on omar's invitation from its hash and imports it; the
    import refuses it, naming the missing signature. omar's own sealed one imports."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    invitation = omar.invite("omar")
    program_id = lena.state().program_id
    key = SigningKey.generate()  # lena's
    forged = seal(key, program_id=program_id, predicate_type=ENROLMENT_TYPE,
                  predicate={"name": "omar", "token_hash": invitation.token_hash,
                             "machine": "omar-laptop"})  # fmt: skip
    with pytest.raises(IdentityError, match="does not carry its invitation's own signature"):
        lena.import_evidence([forged])
    desk = SigningKey.generate()
    honest = seal(desk, program_id=program_id, predicate_type=ENROLMENT_TYPE,
                  predicate={"name": "omar", "token_hash": invitation.token_hash,
                             "machine": "omar-desktop",
                             "join_proof": invitation.join_proof(desk.key_id)})  # fmt: skip
    assert lena.import_evidence([honest])[0].endswith(f"enrolled omar (key {desk.key_id})")
    assert Program.open(_isolated, clock=clock).state().keys[desk.key_id].person == "omar"


def test_a_sealed_enrolment_without_the_proof_appended_around_the_api_counts_nothing(
    _isolated: Path, clock: Clock
) -> None:
    """lena appends her forged envelope's import around the API: her own import, which the fold
    holds to the lead's rule (it stops there, as any lead's import it cannot take in), and the
    key is nobody's."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    invitation = omar.invite("omar")
    key = SigningKey.generate()
    forged = seal(key, program_id=lena.state().program_id, predicate_type=ENROLMENT_TYPE,
                  predicate={"name": "omar", "token_hash": invitation.token_hash,
                             "machine": "omar-laptop"})  # fmt: skip
    from inhouse.identity import open_envelope

    opened = open_envelope(forged, where="x")
    lena._append(EventKind.EVIDENCE_IMPORTED, "lena",
                 {"envelope": forged, "digest": opened.digest, "key_id": key.key_id})  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert key.key_id not in state.keys
    assert state.tampered is not None and "invitation's own signature" in state.tampered[0]


def test_a_forged_join_on_a_leads_own_invitation_does_not_freeze_the_program(
    _isolated: Path, clock: Clock
) -> None:
    """Anyone who writes the store (omar, with the database's password) enrols a key on lena's
    open invitation for a machine of her own, naming someone else: signed by a key on nobody's
    roster, it is nobody's the fold can tell, set aside (it stopped the fold: a lead's
    invitation, so nobody answered for it)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    lena.invite("lena")
    (token,) = [t for t, i in lena.state().invitations.items() if i.name == "lena" and not i.used]
    key = SigningKey.generate()
    body = {"name": "omar", "key_id": key.key_id, "public_key": key.public_key, "machine": "m",
            "token_hash": token}  # fmt: skip
    seq = append(lena.store, EventKind.PERSON_ENROLLED, "omar", body, at=clock(), key=key).seq
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and key.key_id not in state.keys
    (named,) = [why for at, why in state.unauthorized if at == seq]
    assert "enrolling itself: whoever holds its invitation, or anyone who writes the store" in (
        named
    )


def test_join_offline_seals_the_proof_and_the_lead_imports_it(
    _isolated: Path, clock: Clock
) -> None:
    """``join`` on a machine without the log seals the enrolment into the outbox
    (:meth:`~inhouse.program.Program.seal_enrolment`) with the invitation's own signature over
    the new key; the lead's import enrols it, and bob's key then signs as bob."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    invitation = lena.invite("bob", team="ops")
    bob_key = SigningKey.generate()
    sealed = Program.open(_isolated, key=bob_key, clock=clock).seal_enrolment(str(invitation))
    envelope = json.loads(sealed.read_text(encoding="utf-8"))
    (line,) = lena.import_evidence([envelope])
    assert line.endswith(f"enrolled bob (key {bob_key.key_id})")
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and not state.unauthorized
    assert state.keys[bob_key.key_id].person == "bob"


def test_a_leads_own_new_machine_joins_and_signs_as_her(_isolated: Path, clock: Clock) -> None:
    """lena invites a machine of her own and joins with it: the proof holds, the new key signs
    as lena, nothing set aside."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    desk = SigningKey.generate()
    at_desk = Program.open(_isolated, key=desk, clock=clock)
    at_desk.join(str(lena.invite("lena")), desk, at_machine="lena-desk")
    at_desk.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                        provenance=Provenance.ATTESTED, comment="daily")  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and not state.unauthorized
    assert state.keys[desk.key_id].person == "lena"
    assert any(f.kind == "task.named" and f.by == "lena" for f in state.facts)


def test_an_older_inhouses_sealed_enrolment_is_refused_at_import_and_joining_again_mends_it(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob's laptop ran an inhouse from before join proofs: `join` sealed his enrolment on
    lena's invitation (logged with its key, after proofs began) without the invitation's own
    signature. lena's import refuses it, naming what is missing and what bob does; nothing is
    written and the fold goes on. bob joins again with a current inhouse, which replaces the
    old envelope in his outbox; exported again, it imports, and his key is his."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    invitation = lena.invite("bob", team="ops")
    laptop = _isolated / "laptop"
    laptop.mkdir()
    shutil.copy(_isolated / "inhouse.toml", laptop / "inhouse.toml")
    bob_key = SigningKey.generate()
    with monkeypatch.context() as env:  # the laptop has no access to a shared database either
        env.delenv("INHOUSE_DATABASE_URL", raising=False)
        on_laptop = Program.open(laptop, key=bob_key, clock=clock)
    request.addfinalizer(on_laptop.close)
    assert on_laptop.detached()
    # what the older inhouse wrote: the same enrolment, without "join_proof"
    older = seal(bob_key, program_id=lena.state().program_id, predicate_type=ENROLMENT_TYPE,
                 predicate={"name": "bob", "token_hash": invitation.token_hash,
                            "machine": "bob-laptop"})  # fmt: skip
    outbox = laptop / ".inhouse" / "outbox"
    outbox.mkdir(parents=True)
    (outbox / "20261101T000000000000-enrolment.json").write_text(json.dumps(older))

    before = lena.state().head_seq
    with pytest.raises(IdentityError) as refused:
        lena.import_evidence(on_laptop.export_evidence(), source="bob.json")
    said = str(refused.value)
    assert said.startswith(
        "bob.json #1: the enrolment of bob does not carry its invitation's own signature over "
        f"key {bob_key.key_id} (its join proof)"
    ), said
    assert "An inhouse from before join proofs sealed it so: nothing of it was imported" in said
    assert "bob runs `inhouse join INVITATION` again with a current inhouse" in said
    assert "`inhouse evidence export -o FILE` again" in said
    fresh = Program.open(_isolated, clock=clock)
    request.addfinalizer(fresh.close)
    state = fresh.state()
    assert state.head_seq == before and state.tampered is None
    assert bob_key.key_id not in state.keys and not state.unauthorized

    on_laptop.seal_enrolment(str(invitation))  # `inhouse join` again, with this inhouse
    bundle = on_laptop.export_evidence()
    assert len(bundle) == 1 and bundle[0] != older
    (line,) = lena.import_evidence(bundle, source="bob.json")
    assert line.endswith(f"enrolled bob (key {bob_key.key_id})")
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.keys[bob_key.key_id].person == "bob"
