"""An envelope carries a fact into the log once. ``evidence export`` re-seals the facts a key
signed in the log (for a copy of the log that grew apart); imported by the lead, a colleague's
harmless export once became a second, newer fact of theirs: a new ticket the lead then resolved
alone, a new finding a re-lock "fed back" this quarter. A session-signed fact, re-sealed with
the person's own key, once lost its session mark (the host's word became theirs). Each is
refused at import, and a copy appended around the import is kept but never counted; an honest
outbox from a machine without the log still counts, once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import IdentityError
from inhouse.identity import SigningKey, fact_predicate_type, open_envelope, seal
from inhouse.indicators.findings import open_finding
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.events import EventKind
from inhouse.program.facts import Fact
from inhouse.support.queue import list_tickets, open_ticket, resolve_ticket
from tests.conftest import Clock
from tests.locks import DIGEST, lock_payload
from tests.people import enrol
from tests.support.test_session_tickets import _cast, _judged, _signed_in
from tests.support.test_ticket_word_order import _program

pytestmark = pytest.mark.usefixtures("on_database")


def _resealed(person: Program, fact: Fact) -> dict[str, Any]:
    """``fact`` sealed with ``person``'s key as ``evidence export`` sealed a fact in the log
    (what a bundle exported before this fix holds, or a copy of the log exports)."""
    data = {"kind": fact.kind, "version": fact.version, "payload": fact.payload,
            "provenance": fact.provenance.value}  # fmt: skip
    for field in ("collector", "comment"):
        if value := getattr(fact, field):
            data[field] = value
    predicate = {"fact": data, "at": fact.at.isoformat(), "machine": fact.machine}
    return seal(person.key, program_id=person.state().program_id,
                predicate_type=fact_predicate_type(fact.kind, fact.version),
                predicate=predicate)  # fmt: skip


def _kinds(envelopes: list[dict[str, Any]]) -> list[str | None]:
    return [open_envelope(envelope).fact_kind for envelope in envelopes]


def test_a_colleagues_exported_opening_imported_by_the_lead_is_no_second_ticket(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """pia opened a ticket, omar (the builder) resolved it. pia exports her evidence; lena
    imports it: the copy of pia's opening would be a new ticket of pia's that lena resolves
    alone, passing ``ticket-resolved-without-builder``."""
    lena, omar = _program(request, _isolated, clock)
    pia = enrol(lena, "pia", team="sales")
    clock.advance(hours=1)
    ticket = open_ticket(pia, "model answers garbage", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(omar, ticket.id, note="re-pinned the weights")
    clock.advance(hours=1)
    envelopes = pia.export_evidence(["ticket.opened"])
    assert _kinds(envelopes) == ["ticket.opened"]  # a copy of the log would carry it
    before = lena.state().head_seq
    [line] = lena.import_evidence(envelopes, source="pia.json")
    assert line.startswith("pia.json #1: not imported: it carries pia's ticket.opened again, "
                           f"fact {ticket.opened.fact.id} (recorded ")  # fmt: skip
    assert "already in the log" in line
    assert lena.state().head_seq == before  # nothing appended
    assert [t.id for t in list_tickets(lena, state="all")] == [ticket.id]
    assert _judged(lena).outcome is Outcome.FAIL


def _fed_back(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    return evaluate("findings-fed-back", ctx)


def test_a_colleagues_exported_old_finding_is_no_new_finding(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """pia's finding was fed back long ago; imported again from her export, it would be a
    new finding lena's next re-lock closes, so ``findings-fed-back`` would pass this quarter."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.record_fact(None, "baseline.lock", lock_payload("lena", models=(("m", DIGEST),)),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    pia = enrol(lena, "pia", team="sales")
    old = open_finding(pia, "answers are slow on long tickets", target="baseline")
    clock.advance(days=200)
    envelopes = pia.export_evidence(["finding.opened"])
    [line] = lena.import_evidence(envelopes, source="pia.json")
    assert f"not imported: it carries pia's finding.opened again, fact {old.id}" in line
    assert [f.id for f in lena.state().facts if f.kind == "finding.opened"] == [old.id]
    assert _fed_back(lena).outcome is Outcome.FAIL


def test_export_never_seals_a_fact_a_dashboard_session_signed(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The dashboard's host opened a ticket in bea's session. Her export re-sealed it with her
    own key: imported, it was her own act, no ``support confirm`` needed. Export leaves it out;
    a bundle that holds one all the same (exported before) is refused, naming the session's."""
    lena, bea, _ = _cast(request, _isolated, clock)
    forged = open_ticket(_signed_in(bea), "model answers garbage", category="it-broke",
                         component="baseline")  # fmt: skip
    assert forged.opened.fact.session
    clock.advance(days=1)
    assert "ticket.opened" not in _kinds(bea.export_evidence())
    [line] = lena.import_evidence([_resealed(bea, forged.opened.fact)], source="bea.json")
    assert f"not imported: it carries bea's ticket.opened again, fact {forged.opened.fact.id}" in (
        line
    )
    [ticket] = list_tickets(lena, state="all")
    assert ticket.opened.fact.session  # still the host's word until bea confirms it
    resolve_ticket(lena, ticket.id, note="re-pulled the weights")
    assert _judged(lena).outcome is Outcome.FAIL


def test_export_seals_only_what_this_key_signed_itself_with_its_expiry(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """A lead's word on someone's behalf is not the lead's own fact to carry; an attestation
    carries its expiry (without it, a copy would never expire); an expired one is not sealed."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    enrol(lena, "omar", team="support")
    lena.attest("omar", "review.held", {"notes": "omar ran it"}, "he told me")
    lasting = clock.now.replace(year=clock.now.year + 1)
    lena.attest(None, "review.held", {"notes": "we met"}, "we met", expires=lasting)
    lena.attest(None, "review.held", {"notes": "short"}, "briefly",
                expires=clock.now.replace(hour=23, minute=59))  # fmt: skip
    clock.advance(days=1)
    envelopes = lena.export_evidence(["review.held"])
    facts = [open_envelope(envelope).predicate["fact"] for envelope in envelopes]
    assert [(f["payload"]["notes"], f.get("expires")) for f in facts] == [
        ("we met", lasting.isoformat())
    ]


def test_a_copy_appended_around_the_import_is_kept_and_not_counted(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The store's host appends the copy of pia's opening as an import event, around the
    command: the log still folds and verifies, the copy is no ticket, ``replayed`` says why,
    and what comes after it counts."""
    lena, omar = _program(request, _isolated, clock)
    pia = enrol(lena, "pia", team="sales")
    ticket = open_ticket(pia, "model answers garbage", category="it-broke", component="baseline")
    resolve_ticket(omar, ticket.id, note="re-pinned the weights")
    clock.advance(hours=1)
    envelope = _resealed(pia, ticket.opened.fact)
    copy = lena._append(
        EventKind.EVIDENCE_IMPORTED,
        "lena",
        {"envelope": envelope, "digest": open_envelope(envelope).digest, "key_id": pia.key.key_id},
    )
    clock.advance(hours=1)
    later = open_ticket(pia, "it forgets the context", category="it-broke", component="baseline")
    fresh = Program.open(lena.folder, clock=clock)
    try:
        state = fresh.state()
        assert state.tampered is None
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
        assert [t.id for t in list_tickets(fresh, state="all")] == [ticket.id, later.id]
        assert all(f.id != copy.seq for f in state.facts)
        [said] = state.replayed
        opening = ticket.opened.fact.id
        assert said.startswith(f"event {copy.seq}: an envelope lena imported carries pia's "
                               f"ticket.opened, fact {opening} (recorded ")  # fmt: skip
        assert said.endswith("again: a copy, not counted")
    finally:
        fresh.close()


def _lead_and_omars_laptop(
    request: pytest.FixtureRequest, folder: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Program, Program, Program]:
    """lena's program; omar enrolled; and omar's laptop, with the program folder but not its log
    (his attestations go to his outbox)."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="support")
    laptop = folder / "laptop"
    laptop.mkdir()
    shutil.copy(folder / "inhouse.toml", laptop / "inhouse.toml")
    with monkeypatch.context() as env:  # the laptop has no access to a shared database either
        env.delenv("INHOUSE_DATABASE_URL", raising=False)
        on_laptop = Program.open(laptop, key=omar.key, clock=clock)
    request.addfinalizer(on_laptop.close)
    return lena, omar, on_laptop


def test_a_detached_machines_outbox_imported_once_counts(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """omar's laptop has the program folder, not its log: his attestations go to his outbox.
    Imported once, each counts as his (the same words again, said later, are a new fact);
    imported again, nothing changes; exported from the log, an imported fact is not resealed."""
    lena, omar, on_laptop = _lead_and_omars_laptop(request, _isolated, clock, monkeypatch)
    assert on_laptop.detached()
    on_laptop.attest(None, "review.held", {"notes": "looked at it"}, "we met")
    clock.advance(minutes=5)
    on_laptop.attest(None, "review.held", {"notes": "looked at it"}, "we met")
    bundle = on_laptop.export_evidence()
    lines = lena.import_evidence(bundle, source="omar.json")
    held = [f for f in lena.state().facts if f.kind == "review.held"]
    # each line names the fact it recorded, by its number, as every recording command does
    assert lines == [f"omar.json #{n}: review.held by omar (key {omar.key.key_id}), fact #{f.id}"
                     for n, f in zip((1, 2), held, strict=True)]  # fmt: skip
    assert [(f.by, f.imported) for f in held] == [("omar", True), ("omar", True)]
    assert held[0].at < held[1].at
    assert all("already imported" in line for line in lena.import_evidence(bundle))
    assert omar.export_evidence(["review.held"]) == []


def test_an_import_refused_midway_says_what_it_took_in_and_a_second_run_skips_it(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Envelopes go in one by one (an enrolment may enrol the key the next one is signed with),
    so one refused midway leaves those before it in the log: the refusal says which, and the
    file imported again once fixed skips them. An envelope for another program refuses the
    whole file before anything goes in."""
    lena, omar, on_laptop = _lead_and_omars_laptop(request, _isolated, clock, monkeypatch)
    on_laptop.attest(None, "review.held", {"notes": "first"}, "we met")
    clock.advance(minutes=5)
    on_laptop.attest(None, "review.held", {"notes": "second"}, "we met again")
    first, second = on_laptop.export_evidence()
    opened = open_envelope(first)

    def sealed(key: SigningKey, program_id: str) -> dict[str, Any]:
        return seal(key, program_id=program_id, predicate_type=opened.predicate_type,
                    predicate=opened.predicate)  # fmt: skip

    def held() -> list[str]:
        return [f.payload["notes"] for f in lena.state().facts if f.kind == "review.held"]

    stranger = sealed(SigningKey.generate(), lena.state().program_id)
    with pytest.raises(IdentityError) as refused:
        lena.import_evidence([first, stranger, second], source="omar.json")
    said = str(refused.value)
    assert said.startswith("omar.json #2: signed by key "), said
    assert f"(before it: omar.json #1: review.held by omar (key {omar.key.key_id}), fact #" in said
    assert said.endswith("import the file again: what is already in is skipped)"), said
    assert held() == ["first"]
    assert lena.import_evidence([first, second], source="omar.json") == [
        "omar.json #1: already imported, skipped",
        f"omar.json #2: review.held by omar (key {omar.key.key_id}), fact #{lena.state().head_seq}",
    ]
    assert held() == ["first", "second"]

    clock.advance(minutes=5)
    on_laptop.attest(None, "review.held", {"notes": "third"}, "and again")
    third = on_laptop.export_evidence()[-1]
    foreign = sealed(omar.key, "0" * 64)
    with pytest.raises(IdentityError, match=r"^omar.json #2: signed for another program$"):
        lena.import_evidence([third, foreign], source="omar.json")
    assert held() == ["first", "second"]
