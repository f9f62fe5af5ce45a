"""Evidence: facts recorded here, signed by whoever made them, or carried in from another machine.

A measured fact must name a registered collector that declares its kind; an attestation is a
person's word, with a comment. A rollout lead may attest on behalf of someone (shown as such;
it never counts as that person's act); a measurement cannot be made on someone's behalf.

On a machine that does not hold the program's log (a second person's fresh laptop with the
program folder checked out), facts are sealed into signed envelopes in ``.inhouse/outbox/``
instead; ``evidence export`` bundles them and ``evidence import`` on the program's side appends
them, attributed to the key that signed them, whoever carried the file.

An envelope carries a fact into the log once. Export re-seals only facts this key signed
itself (never a dashboard session's, one recorded on someone's behalf, or one that arrived as
an import); an envelope that carries a fact already in the log again (its signer's, same kind,
payload and time: :func:`~inhouse.program.state.repeated_fact`) is not imported, and the fold
does not count one appended around the import: a copy would be a new ticket, a new finding.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inhouse.errors import IdentityError, InhouseError, InvalidInput, NotAllowed
from inhouse.identity import machine as _machine
from inhouse.jsonfiles import read_json
from inhouse.location import DATA_DIR
from inhouse.plaintext import check_plain
from inhouse.program.collectors import collector_for
from inhouse.program.core import ProgramCore
from inhouse.program.events import EventKind
from inhouse.program.facts import (
    FACT_KINDS,
    Fact,
    Provenance,
    envelope_problem,
    fact_problem,
    newer_fields,
    validate_payload,
)
from inhouse.program.people import parse_invitation
from inhouse.program.state import ProgramState, invitation_problem, repeated_fact

if TYPE_CHECKING:
    from inhouse.identity import Envelope

__all__ = ["OUTBOX", "EvidenceMixin"]

OUTBOX = "outbox"


class EvidenceMixin(ProgramCore):
    # -- recording here ----------------------------------------------------------------------

    def record_hypothesis(
        self, actor: str | None, statement: str, *, aim: str, target: str
    ) -> Fact:
        check_plain(statement, what="the hypothesis")
        check_plain(target, what="the target", one_line=True)
        _, who = self._begin(actor, behalf_ok=True)
        payload = validate_payload(
            "hypothesis", {"statement": statement, "aim": aim, "target": target}
        )
        if actor is not None and actor != who.name:
            payload["on_behalf_of"] = actor
        event = self._append(EventKind.HYPOTHESIS_RECORDED, who.name, payload)
        return self._fact(event.seq)

    def record_fact(
        self,
        actor: str | None,
        kind: str,
        payload: dict[str, Any],
        *,
        provenance: Provenance,
        collector: str | None = None,
        comment: str | None = None,
        expires: datetime | None = None,
    ) -> Fact:
        """Record evidence, signed by this process's key. ``actor``, if it names someone else,
        records an attestation on their behalf (rollout leads only)."""
        if kind == "hypothesis":
            raise InvalidInput("record a hypothesis with `inhouse hypothesis` (record_hypothesis)")
        data = self._fact_data(kind, payload, provenance, collector, comment, expires)
        if self.detached():
            return self._to_outbox(data)
        _, who = self._begin(actor, behalf_ok=True)
        if actor is not None and actor != who.name:
            if provenance is Provenance.MEASURED:
                raise NotAllowed(
                    f"a measurement is made by whoever runs it; {who.name} cannot record one "
                    f"on behalf of {actor}"
                )
            data["on_behalf_of"] = actor
        event = self._append(EventKind.FACT_RECORDED, who.name, data)
        return self._fact(event.seq)

    def attest(
        self,
        actor: str | None,
        kind: str,
        payload: dict[str, Any],
        comment: str,
        *,
        expires: datetime | None = None,
    ) -> Fact:
        """A person's word for a fact (shown as attested everywhere; for a kind inhouse measures,
        it is shown but never passes a check)."""
        check_plain(comment, what="the attestation")
        return self.record_fact(
            actor, kind, payload, provenance=Provenance.ATTESTED, comment=comment, expires=expires
        )

    def request_access(self, *, reason: str = "", person: str | None = None) -> Fact:
        """Ask to get in, in your own name: the request is signed by you, the requester.

        On a machine without the log (a newcomer's own laptop, where people ask from) it is
        sealed into the outbox in the name this key joined under here (``inhouse join`` left
        that enrolment in the outbox), or ``person``; imported, it counts only if that name is
        the signer's (a request in someone else's name is shown, never counted)."""
        check_plain(reason, what="the reason")
        if self.detached():
            name = person or self.joined_as()
            if not name:
                raise InvalidInput(
                    "this checkout has the program's settings but not its log, and no enrolment "
                    f"of this key ({self.key.key_id}) in its outbox says whose it is: give your "
                    "name (`inhouse access request --as NAME`), the one you joined under"
                )
        else:
            name = self._begin(None)[1].name
            if person is not None and person != name:
                raise NotAllowed(
                    f"this shell acts as {name}; nobody asks to get in for {person}: "
                    f"{person} runs `inhouse access request` with their own key"
                )
        return self.record_fact(
            None,
            "access.request",
            {"person": name, "reason": reason},
            provenance=Provenance.MEASURED,
            collector="inhouse access",
        )

    def outbox_signer(self) -> str:
        """Whom a fact sealed into this checkout's outbox is by, as said to the person here: the
        name this key joined under (:meth:`joined_as`), else "your key (ID)". The program's side
        names the signer when it imports the fact; this is only what to show meanwhile."""
        return self.joined_as() or f"your key ({self.key.key_id})"

    def joined_as(self) -> str | None:
        """The name this key joined under in this checkout: its own enrolment in the outbox
        (the latest, if it joined twice), or None."""
        from inhouse.identity import ENROLMENT_TYPE, open_envelope

        folder = self.folder / DATA_DIR / OUTBOX
        name = None
        for path in sorted(folder.glob("*-enrolment.json")) if folder.is_dir() else []:
            try:
                envelope = open_envelope(json.loads(path.read_text(encoding="utf-8")))
            except (IdentityError, ValueError, OSError):
                continue  # not ours to judge here: the import refuses it, naming the fault
            if (
                envelope.predicate_type == ENROLMENT_TYPE
                and envelope.key_id == self.key.key_id
                and envelope.program_id == self.settings.program_id
            ):
                name = str(envelope.predicate.get("name") or "") or name
        return name

    def _fact_data(
        self,
        kind: str,
        payload: dict[str, Any],
        provenance: Provenance,
        collector: str | None,
        comment: str | None,
        expires: datetime | None,
    ) -> dict[str, Any]:
        body = validate_payload(kind, payload)
        if provenance is Provenance.ATTESTED:
            if not comment or not comment.strip():
                raise InvalidInput(
                    "an attested fact needs a comment saying what the person vouches for"
                )
            if collector:
                raise InvalidInput("an attested fact has no collector; it is a person's word")
        else:
            if not collector:
                raise InvalidInput("a measured fact must name the collector that measured it")
            found = collector_for(collector)
            if found is None:
                raise InvalidInput(
                    f"no collector named {collector!r} is registered: a measured fact comes "
                    "from a registered collector, or it is a person's word (attest it)"
                )
            if kind not in found.kinds:
                raise InvalidInput(
                    f"collector {collector!r} measures {', '.join(found.kinds)}, not {kind}"
                )
            if expires is not None:
                raise InvalidInput("only attestations expire; a measurement stays what it was")
        if expires is not None and expires <= self.clock():
            raise InvalidInput(f"the expiry {expires:%Y-%m-%d %H:%M} is already past")
        data: dict[str, Any] = {
            "kind": kind,
            "version": FACT_KINDS[kind].version,
            "payload": body,
            "provenance": provenance.value,
        }
        if collector:
            data["collector"] = collector
        if comment:
            data["comment"] = comment.strip()
        if expires is not None:
            data["expires"] = expires.isoformat()
        return data

    def _fact(self, seq: int) -> Fact:
        return next(f for f in reversed(self.state().facts) if f.id == seq)

    # -- another machine ---------------------------------------------------------------------

    def program_id(self) -> str:
        return self.state().program_id or self.settings.program_id or ""

    def _to_outbox(self, data: dict[str, Any]) -> Fact:
        from inhouse.identity import fact_predicate_type, seal

        predicate = {
            "fact": data,
            "at": self.clock().isoformat(),
            "machine": _machine.machine_fingerprint(),
        }
        kind = str(data["kind"])
        envelope = seal(
            self.key,
            program_id=self.program_id(),
            predicate_type=fact_predicate_type(kind, int(data["version"])),
            predicate=predicate,
        )
        self._write_outbox(envelope, kind)
        return Fact(
            id=0,
            kind=kind,
            version=int(data["version"]),
            payload=data["payload"],
            provenance=Provenance(data["provenance"]),
            by=self.key.key_id,
            collector=data.get("collector"),
            comment=data.get("comment"),
            expires=None,
            at=self.clock(),
            signed=True,
            imported=False,
        )

    def _write_outbox(self, envelope: dict[str, Any], label: str) -> Path:
        folder = self.folder / DATA_DIR / OUTBOX
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.clock().strftime("%Y%m%dT%H%M%S%f")
        path = folder / f"{stamp}-{label}.json"
        # written whole or not at all: a run cut short leaves no half envelope to export
        partial = folder / f".{path.name}.partial"
        partial.write_text(json.dumps(envelope, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, path)
        return path

    def seal_enrolment(self, invitation: str, *, at_machine: str | None = None) -> Path:
        """On a machine without the log: sign an enrolment with this machine's key into the
        outbox, for the program's side to import. It replaces an enrolment on the same
        invitation that an inhouse from before join proofs sealed there (without the
        invitation's own signature): the import refuses that one, and stops at it, so joining
        again with this inhouse and exporting again is the way out."""
        from inhouse.identity import ENROLMENT_TYPE, seal

        text = parse_invitation(invitation)
        if self.settings.program_id and text.program_id != self.settings.program_id:
            raise InvalidInput("this invitation is for another program")
        envelope = seal(
            self.key,
            program_id=text.program_id,
            predicate_type=ENROLMENT_TYPE,
            predicate={
                "name": text.name,
                "token_hash": text.token_hash,
                "join_proof": text.join_proof(self.key.key_id),
                "machine": at_machine or _machine.machine_fingerprint(),
            },
        )
        stale = self._unproven_enrolments(text.token_hash)
        written = self._write_outbox(envelope, "enrolment")
        for path in stale:
            path.unlink(missing_ok=True)
        return written

    def _unproven_enrolments(self, token_hash: str) -> list[Path]:
        """The outbox's enrolments on invitation ``token_hash`` without a join proof."""
        from inhouse.identity import ENROLMENT_TYPE, open_envelope

        folder = self.folder / DATA_DIR / OUTBOX
        found = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                envelope = open_envelope(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, InhouseError):
                continue  # not an envelope this replaces: export names what is wrong with it
            predicate = envelope.predicate
            if (
                envelope.predicate_type == ENROLMENT_TYPE
                and predicate.get("token_hash") == token_hash
                and not predicate.get("join_proof")
            ):
                found.append(path)
        return found

    def export_evidence(self, kinds: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Signed envelopes to carry elsewhere: the outbox (on a machine without the log), or
        the facts in the log this key signed itself, re-sealed with it (for a copy of the log
        that grew apart: the program's side imports only those it lacks). Never a fact a
        dashboard session signed (its host holds that key: sealed with this one, it would turn
        into this person's own act), one recorded on someone's behalf, one that arrived as an
        import (its own envelope travels), or an attestation already expired."""
        from inhouse.identity import fact_predicate_type, seal

        wanted = set(kinds)
        folder = self.folder / DATA_DIR / OUTBOX
        if self.detached():
            found = []
            for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                shown = f"{DATA_DIR}/{OUTBOX}/{path.name}"
                try:
                    found.append(read_json(path, shown=shown))
                except InvalidInput as err:
                    # never left out quietly: it may be this machine's enrolment
                    raise InvalidInput(
                        f"{err}: not a whole envelope (a run cut short?). Move it away and run "
                        "the command that made it again (`inhouse join`, `inhouse access "
                        "request`, `inhouse baseline verify`)"
                    ) from None
            return found
        state, _ = self._begin(None)
        now = self.clock()
        out = []
        for fact in state.facts:
            if (
                fact.key != self.key.key_id
                or not fact.signed
                or fact.session
                or fact.on_behalf_of
                or fact.imported
                or fact.expired(now)
            ):
                continue
            if wanted and fact.kind not in wanted:
                continue
            data: dict[str, Any] = {
                "kind": fact.kind,
                "version": fact.version,
                "payload": fact.payload,
                "provenance": fact.provenance.value,
            }
            if fact.collector:
                data["collector"] = fact.collector
            if fact.comment:
                data["comment"] = fact.comment
            if fact.expires is not None:
                data["expires"] = fact.expires.isoformat()
            out.append(
                seal(
                    self.key,
                    program_id=state.program_id,
                    predicate_type=fact_predicate_type(fact.kind, fact.version),
                    predicate={"fact": data, "at": fact.at.isoformat(), "machine": fact.machine},
                )
            )
        return out

    def import_evidence(self, envelopes: list[Any], *, source: str = "file") -> list[str]:
        """Append envelopes from another machine, each checked: its signature, its program, an
        enrolled signer (or a valid invitation, for an enrolment), the fact's rules. Returns one
        line per envelope saying what happened (a fact taken in, with its number); an envelope
        already imported, or one carrying a fact already in the log again
        (:func:`~inhouse.program.state.repeated_fact`), is not imported, and its line names
        why."""
        from inhouse.identity import ENROLMENT_TYPE, open_envelope

        state, who = self._begin(None)
        opened = [
            open_envelope(item, where=f"{source} #{n + 1}") for n, item in enumerate(envelopes)
        ]
        if strays := [
            f"{source} #{n + 1}" for n, e in enumerate(opened) if e.program_id != state.program_id
        ]:
            raise IdentityError(f"{', '.join(strays)}: signed for another program")
        lines: list[str] = []
        for n, envelope in enumerate(opened):
            where = f"{source} #{n + 1}"
            state = self.state()
            if envelope.digest in state.imported:
                lines.append(f"{where}: already imported, skipped")
                continue
            raw = envelopes[n]
            try:
                if envelope.predicate_type == ENROLMENT_TYPE:
                    lines.append(self._import_enrolment(state, envelope, raw, where, who.name))
                else:
                    lines.append(self._import_fact(state, envelope, raw, where, who.name))
            except InhouseError as err:
                raise _stopped_at(err, lines) from None
        return lines

    def _import_enrolment(
        self, state: ProgramState, envelope: Envelope, raw: Any, where: str, importer: str
    ) -> str:
        predicate = envelope.predicate
        name = str(predicate.get("name", ""))
        token_hash = str(predicate.get("token_hash", ""))
        invitation = state.invitations.get(token_hash)
        if invitation is None or invitation.name != name:
            raise IdentityError(f"{where}: no invitation for {name} matches this enrolment")
        # reuse the checks a local join makes (expiry, single use)
        if invitation.used:
            raise IdentityError(f"{where}: the invitation for {name} was already used")
        if self.clock() >= invitation.expires:
            raise IdentityError(f"{where}: the invitation for {name} expired")
        if envelope.key_id in state.keys:
            raise IdentityError(f"{where}: key {envelope.key_id} is already enrolled")
        if not state.verifier.keys.shows_invitation(
            token_hash, predicate.get("join_proof"), envelope.key_id
        ):
            raise IdentityError(
                f"{where}: the enrolment of {name} does not carry its invitation's own signature "
                f"over key {envelope.key_id} (its join proof): it shows only the invitation's "
                "hash, which the log holds for anyone who writes the store to read. An inhouse "
                "from before join proofs sealed it so: nothing of it was imported; on that "
                f"machine, {name} runs `inhouse join INVITATION` again with a current inhouse "
                "(the same invitation and key; it replaces the one in the outbox) and "
                "`inhouse evidence export -o FILE` again, and this import takes the new file"
            )
        if problem := invitation_problem(state, name, token_hash, self.clock()):
            raise IdentityError(f"{where}: {name} cannot join {problem}")
        self._append(
            EventKind.EVIDENCE_IMPORTED,
            importer,
            {"envelope": raw, "digest": envelope.digest, "key_id": envelope.key_id},
        )
        return f"{where}: enrolled {name} (key {envelope.key_id})"

    def _import_fact(
        self, state: ProgramState, envelope: Envelope, raw: Any, where: str, importer: str
    ) -> str:
        signer = state.person_of_key(envelope.key_id)
        record = state.keys.get(envelope.key_id)
        if signer is None and record is not None and record.revoked_at is not None:
            # its enrolment is in: importing it again would not help, and nothing would
            raise IdentityError(
                f"{where}: signed by key {envelope.key_id}, {record.person}'s, which "
                f"{record.revoked_by or 'a lead'} revoked on {record.revoked_at:%Y-%m-%d %H:%M} "
                f"UTC: a revoked key carries nothing into the log, whenever it sealed it; "
                f"{record.person} records it again with a key of theirs on the roster"
            )
        if signer is None:
            raise IdentityError(
                f"{where}: signed by key {envelope.key_id}, which is not enrolled here: "
                "import its enrolment first"
            )
        fact = envelope.predicate.get("fact")
        if not isinstance(fact, dict) or envelope.fact_kind != fact.get("kind"):
            raise IdentityError(f"{where}: the predicate type does not match the fact inside")
        try:
            original = repeated_fact(state, envelope.key_id, envelope.predicate)
        except (TypeError, ValueError):
            at = envelope.predicate.get("at")
            raise IdentityError(f"{where}: its time {at!r} is no ISO-8601 time") from None
        if original is not None:
            return (
                f"{where}: not imported: it carries {original.by}'s {original.kind} again, "
                f"fact {original.id} (recorded {original.at:%Y-%m-%d %H:%M:%S} UTC), already in "
                "the log; a fact is carried in once, and a copy would count as a new one"
            )
        if (why := fact_problem(fact)) is not None:
            # the fold would set it aside: a colleague's outbox holds what inhouse sealed
            if envelope_problem(fact) is None and (
                newer := newer_fields(fact["kind"], fact["payload"])
            ):
                # a colleague's newer inhouse sealed it, most likely (a rerun's place and seed)
                from inhouse import __version__

                raise IdentityError(
                    f"{where}: its {fact['kind']} holds {', '.join(newer)}, which this inhouse "
                    f"({__version__}) does not know: a newer inhouse sealed it and reads them, "
                    "so upgrade inhouse on this machine and import it again (nothing was "
                    "imported)"
                )
            raise IdentityError(f"{where}: its {fact['kind']} is not what inhouse writes: {why}")
        expires = fact.get("expires")
        self._fact_data(
            str(fact["kind"]),
            dict(fact.get("payload") or {}),
            Provenance(str(fact.get("provenance"))),
            fact.get("collector"),
            fact.get("comment"),
            datetime.fromisoformat(expires) if expires else None,
        )
        event = self._append(
            EventKind.EVIDENCE_IMPORTED,
            importer,
            {"envelope": raw, "digest": envelope.digest, "key_id": envelope.key_id},
        )
        # the fact's number, as every command that records one says it (`fact show N`)
        return f"{where}: {fact['kind']} by {signer} (key {envelope.key_id}), fact #{event.seq}"


def _stopped_at(err: InhouseError, lines: list[str]) -> InhouseError:
    """``err`` (an envelope refused), saying what this import took in before it: each envelope
    is appended as it is checked (one may enrol the key the next is signed with), so those
    stay, and importing the file again skips them."""
    taken = "; ".join(
        line
        for line in lines
        if not line.endswith("already imported, skipped") and ": not imported: " not in line
    )
    if not taken:
        return err
    said = (
        f"{err} (before it: {taken}. Those are in the log; once this one is fixed or left out, "
        "import the file again: what is already in is skipped)"
    )
    try:
        return type(err)(said)
    except TypeError:  # an error built from other arguments than its message
        return InhouseError(said)
