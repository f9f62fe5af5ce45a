"""Identities through the commands people use: reach guards on the commands that widen access,
gateway keys only their owner sees, agent keys bound to a boundary, and an audit that checks
signatures and anchors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from inhouse.errors import IdentityError, NotAllowed
from inhouse.identity import SigningKey, load_key
from inhouse.program import Program
from inhouse.program.checks import evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.events import EventKind, event_hash, signed_material
from tests.clitools import cli
from tests.people import enrol, enrol_cli, forget_seen, key_file


@pytest.fixture
def lena(_isolated: Path) -> Program:
    cli("init", "Acme", "--lead", "lena", "--team", "platform")
    cli("person", "role", "lena", "--add", "play-owner")
    return Program.open(_isolated)


def _waive(guard: str) -> None:
    cli("waiver", "grant", guard, "--reason", "time-boxed-experiment", "--note", "pilot now",
        "--expires", "14d")  # fmt: skip


def test_join_whoami_and_a_typed_name_acts_as_nobody(lena: Program, _isolated: Path) -> None:
    invite = cli("person", "invite", "omar", "--team", "support")
    token = next(w for w in invite.split() if w.startswith("inhouse-invite:"))
    omar_key = key_file(_isolated / "keys", "omar")
    env = {"INHOUSE_KEY": str(omar_key)}
    assert "Enrolled omar" in cli("join", token, env=env)
    assert "omar" in cli("whoami", env=env) and "lena" in cli("whoami")
    # the invitation is single use, and only its holder's key enrols
    other = {"INHOUSE_KEY": str(key_file(_isolated / "k2", "x"))}
    assert "already used" in cli("join", token, env=other, code=2)
    # a shell whose key is not enrolled acts as nobody, whatever name it types
    stranger = {"INHOUSE_KEY": str(key_file(_isolated / "keys", "stranger"))}
    assert "not enrolled" in cli("access", "request", env=stranger, code=3)
    # an access request is signed by the one who asks
    cli("access", "request", "--reason", "triage", env=env)
    facts = lena.state().facts
    assert [(f.kind, f.by, f.payload["person"]) for f in facts if f.kind == "access.request"] == [
        ("access.request", "omar", "omar")
    ]


def test_a_key_file_readable_by_others_is_refused(lena: Program, _isolated: Path) -> None:
    path = key_file(_isolated / "keys", "loose")
    path.chmod(0o644)
    assert "readable by others" in cli("whoami", env={"INHOUSE_KEY": str(path)}, code=3)


def test_skipping_play_five_is_refused_through_keys_issue_until_waived(
    lena: Program, _isolated: Path
) -> None:
    _waive("scaling-before-proving")
    enrol_cli(lena, "pia", _isolated / "keys", team="legal", roles=["pilot-user"])
    dora = enrol_cli(lena, "dora", _isolated / "keys", team="finance")  # beyond the pilot
    # a pilot member's key is within the waived pilot reach
    cli("keys", "issue", "pia")
    out = cli("keys", "issue", "dora", code=3)
    assert "skipping play five" in out and "play 5 (support)" in out
    assert "inhouse waiver grant skipping-play-five" in out
    # adding someone beyond the pilot to it is the scaling guard's business, waived above
    _waive("skipping-play-five")
    granted = cli("keys", "issue", "dora")
    assert "ih_" not in granted  # the granter never sees the key
    fetched = cli("keys", "fetch", "--json", env=dora)
    key = json.loads(fetched)["key"]
    assert key.startswith("ih_") and json.loads(fetched)["person"] == "dora"
    # nobody else can fetch dora's key
    assert "no gateway key is waiting for lena" in cli("keys", "fetch", code=2)
    refusals = lena.status()["refusals"]
    assert [r["guards"] for r in refusals] == [["skipping-play-five"]]


def test_an_agent_key_needs_a_tool_boundary(lena: Program, _isolated: Path) -> None:
    cli("hypothesis", "Local is faster", "--replaces", "the cloud API")
    cli("play", "start", "1")  # lena owns play 1: a key for herself needs no pilot evidence
    out = cli("keys", "issue", "lena", "--agent", "release-bot", code=2)
    assert "agent 'release-bot' has no tool boundary" in out
    assert "[policy.agents.release-bot]" in out
    with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[policy.agents.release-bot]\ntools = ["read_file"]\n')
    cli("keys", "issue", "lena", "--agent", "release-bot")
    ctx = context_for(lena.state(), lena.clock())
    result = evaluate("agent-boundaries", ctx)
    assert result.outcome.value == "pass" and "1 agent bounded" in result.reason
    kinds = [(f.kind, f.collector) for f in ctx.facts if f.kind.startswith("agent.")]
    assert kinds == [("agent.registered", "inhouse keys"), ("agent.boundary", "inhouse keys")]


def _rechain(program: Program, start: int) -> None:
    """Recompute every hash from ``start`` on, as someone with write access to the database
    would after editing an event: the chain links again; only signatures can tell."""
    with program.store.engine.begin() as conn:
        rows = conn.execute(text("SELECT * FROM events ORDER BY seq")).mappings().all()
        prev = rows[start - 2]["hash"]
        for row in rows[start - 1 :]:
            digest = event_hash(
                row["seq"], row["at"], row["actor"], row["kind"], row["payload"], prev,
                row["signer"],
            )  # fmt: skip
            conn.execute(
                text("UPDATE events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": digest, "s": row["seq"]},
            )
            prev = digest


def _edit_and_rechain(program: Program, seq: int, sql: str) -> None:
    with program.store.engine.begin() as conn:
        # hashes are unique: move the tail out of the way before rewriting it
        conn.execute(text("UPDATE events SET hash = hash || '-x', prev_hash = prev_hash || '-x' "
                          "WHERE seq >= :s"), {"s": seq})  # fmt: skip
        conn.execute(text(sql), {"s": seq})
    _rechain(program, seq)


def _walk(lena: Program) -> int:
    """A few signed events; returns the seq of an attested trial verdict in the middle."""
    lena.record_hypothesis(None, "Local is faster", aim="replace-dependency", target="api")
    lena.start_play(None, 1)
    fact = lena.attest(
        None,
        "trial.verdict",
        {"trial": "t", "verdict": "proven", "quality_ok": True, "proven_on": ["faster"]},
        "my word",
    )
    enrol(lena, "omar", team="support")
    return fact.id


def test_a_rechained_rewrite_is_named_at_its_first_event(lena: Program) -> None:
    seq = _walk(lena)
    assert "signatures valid" in cli("audit", "verify")
    # rewrite the attested verdict as measured, and re-chain every hash after it
    _edit_and_rechain(
        lena,
        seq,
        "UPDATE events SET payload = replace(replace(payload, '\"attested\"', '\"measured\"'), "
        '\'"comment":"my word"\', \'"collector":"inhouse prove"\') WHERE seq = :s',
    )
    out = cli("audit", "verify", "--json", code=1)
    report = json.loads(out)
    assert report["first_bad_event"] == seq
    assert "does not carry a valid signature" in report["problem"]


def test_stripping_a_signature_is_caught(lena: Program) -> None:
    seq = _walk(lena)
    _edit_and_rechain(lena, seq, "UPDATE events SET signer = NULL, signature = NULL WHERE seq = :s")
    report = json.loads(cli("audit", "verify", "--json", code=1))
    assert report["first_bad_event"] == seq
    assert "carries no signature, after identities began" in report["problem"]


def test_a_forged_signature_by_another_key_is_caught(lena: Program) -> None:
    seq = _walk(lena)
    forger = SigningKey.generate()
    with lena.store.engine.begin() as conn:
        digest = conn.execute(text("SELECT hash FROM events WHERE seq = :s"), {"s": seq}).scalar()
        conn.execute(
            text("UPDATE events SET signature = :g WHERE seq = :s"),
            {"g": forger.sign(signed_material(str(digest))), "s": seq},
        )
    report = json.loads(cli("audit", "verify", "--json", code=1))
    assert report["first_bad_event"] == seq


def test_an_anchor_notices_a_cut_off_tail(lena: Program, _isolated: Path) -> None:
    _walk(lena)
    head = lena.state().head_seq
    assert f"Anchored event {head}" in cli("audit", "anchor")
    assert (_isolated / "inhouse.anchor").is_file()
    with lena.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE seq > :s"), {"s": head - 2})
    # this machine saw events head-1 and head: its own verify names them gone
    out = cli("audit", "verify", code=1)
    assert f"this machine saw event {head}" in out and "was cut off" not in out, out
    assert f"events {head - 1} to {head} were cut off" in out, out
    forget_seen(lena)
    # the shortened chain is internally valid...
    cli("audit", "verify")
    # ...but the anchor kept in git knows what was there
    out = cli("audit", "verify", "--anchor", "inhouse.anchor", code=1)
    assert f"events {head - 1} to {head} are missing" in out and "cut off" in out


def test_evidence_from_another_machine_travels_as_a_signed_envelope(
    lena: Program, _isolated: Path
) -> None:
    """omar's laptop has the program folder but not its log: what he measures is sealed into
    his outbox; lena imports it; a tampered envelope is refused."""
    omar = enrol(lena, "omar", team="support")
    laptop = _isolated / "laptop"
    laptop.mkdir()
    (laptop / "inhouse.toml").write_text((_isolated / "inhouse.toml").read_text())
    key = key_file(_isolated / "keys", "omar-file")
    omar_key = omar.key
    # omar's enrolled key, as a file on his laptop
    from cryptography.hazmat.primitives import serialization

    key.write_bytes(
        omar_key.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    env = {"INHOUSE_KEY": str(key)}
    on_laptop = Program.open(laptop, key=load_key(key))
    assert on_laptop.detached()
    on_laptop.attest(None, "review.held", {"notes": "looked at it"}, "we met")
    bundle = _isolated / "omar.json"
    cli("--program", str(laptop), "evidence", "export", "-o", str(bundle), env=env)
    envelopes = json.loads(bundle.read_text())
    assert envelopes[0]["payloadType"] == "application/vnd.in-toto+json"
    tampered = json.loads(bundle.read_text())
    import base64

    statement = json.loads(base64.b64decode(tampered[0]["payload"]))
    statement["predicate"]["fact"]["comment"] = "we met twice"
    tampered[0]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (_isolated / "bad.json").write_text(json.dumps(tampered))
    assert "no valid signature" in cli("evidence", "import", "bad.json", code=3)
    assert "review.held by omar" in cli("evidence", "import", "omar.json")
    assert "already imported" in cli("evidence", "import", "omar.json")
    held = [f for f in lena.state().facts if f.kind == "review.held"]
    assert [(f.by, f.imported, f.comment) for f in held] == [("omar", True, "we met")]
    assert "signatures valid" in cli("audit", "verify")
    # the forgery: the same envelope appended again around the import command, a replay that
    # would count omar's word twice (or at another time): the fold stops at it
    first = next(e for e in reversed(lena.events()) if e.kind == EventKind.EVIDENCE_IMPORTED)
    lena._append(EventKind.EVIDENCE_IMPORTED, "lena", dict(first.payload))
    tampered_at = lena.state().tampered
    assert tampered_at is not None and "imported before: a replay" in tampered_at[0]


def test_a_second_machine_and_a_revoked_key(lena: Program, _isolated: Path) -> None:
    """A person enrols another machine by inviting themselves; a revoked key acts for nobody."""
    omar = enrol(lena, "omar", team="support")
    laptop_key = omar.key
    text = omar.invite("omar")  # omar, with the key he holds, invites his own new machine
    desktop = SigningKey.generate()
    lena.join(str(text), desktop, at_machine="omar-desktop")
    assert {k.machine for k in lena.state().keys_of("omar")} == {"omar-laptop", "omar-desktop"}
    on_desktop = lena.using(desktop)
    assert on_desktop.whoami().name == "omar"
    # only a lead invites someone else
    with pytest.raises(NotAllowed, match="only a rollout lead invites"):
        omar.invite("zed")
    omar.revoke_key(laptop_key.key_id)
    with pytest.raises(IdentityError, match="was revoked for omar"):
        lena.using(laptop_key).request_access()
    on_desktop.request_access(reason="still me")
    assert "signatures valid" in cli("audit", "verify")


def test_a_champion_role_is_not_a_way_into_the_pilot(lena: Program, _isolated: Path) -> None:
    """Giving someone outside the pilot a role that is not the pilot's does not let a gateway key
    past the skipping-play-five guard."""
    _waive("scaling-before-proving")
    enrol_cli(lena, "pia", _isolated / "keys", team="legal", roles=["pilot-user"])
    enrol_cli(lena, "dora", _isolated / "keys", team="finance")
    cli("person", "role", "dora", "--add", "champion")
    assert "skipping play five" in cli("keys", "issue", "dora", code=3)


def _insert(
    program: Program, kind: str, actor: str, payload: dict[str, object], key: SigningKey | None
) -> None:
    """Append an event by hand, as someone with write access to the database file would: the
    right seq, link and hash, signed by ``key`` (or not at all)."""
    from datetime import UTC, datetime

    from inhouse.program.events import canonical_json, format_time

    with program.store.engine.begin() as conn:
        head = conn.execute(text("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")).first()
        assert head is not None
        seq, at, body = head.seq + 1, format_time(datetime.now(UTC)), canonical_json(payload)
        signer = key.key_id if key is not None else None
        digest = event_hash(seq, at, actor, kind, body, head.hash, signer)
        conn.execute(
            text(
                "INSERT INTO events (seq, at, actor, kind, payload, prev_hash, hash, signer, "
                "signature) VALUES (:seq, :at, :actor, :kind, :payload, :prev, :hash, :signer, "
                ":sig)"
            ),
            {"seq": seq, "at": at, "actor": actor, "kind": kind, "payload": body,
             "prev": head.hash, "hash": digest, "signer": signer,
             "sig": key.sign(signed_material(digest)) if key is not None else None},
        )  # fmt: skip


@pytest.mark.parametrize("signed_by", ["nobody", "a stranger's key"])
def test_an_event_written_into_the_database_counts_for_nothing(
    lena: Program, _isolated: Path, signed_by: str
) -> None:
    """Someone with the database file appends a well-chained event in omar's name (unsigned, or
    signed by a key nobody enrolled): the forged fact counts for nothing, status names it as
    nobody's the fold can tell, and audit verify reports it. The fold goes on (it stopped
    there: anyone who writes the store froze the program for everyone so)."""
    omar = enrol(lena, "omar", team="support")
    omar.request_access(reason="real")
    proven = {"trial": "t", "verdict": "proven", "proven_on": ["faster"], "quality_ok": True}
    verdict = {"kind": "trial.verdict", "version": 1, "provenance": "measured",
               "collector": "inhouse prove", "payload": proven}  # fmt: skip
    key = None if signed_by == "nobody" else SigningKey.generate()
    _insert(lena, "fact.recorded", "omar", verdict, key)
    fresh = Program.open(_isolated, key=lena.key)
    status = fresh.status()
    assert not any(w.startswith("TAMPERED") for w in status["warnings"])
    assert any("anyone who writes the store could have made it" in w for w in status["warnings"])
    assert not any(f.kind == "trial.verdict" for f in fresh.state().facts)
    assert any(f.kind == "access.request" for f in fresh.state().facts)  # before it: kept
    fresh.request_access(reason="more")  # after it: recorded, and counted
    assert len([f for f in fresh.state().facts if f.kind == "access.request"]) == 2
    assert "FORGERY ATTEMPT" in cli("audit", "verify", code=1)


def test_a_rechained_rewrite_is_not_folded(lena: Program, _isolated: Path) -> None:
    seq = _walk(lena)
    _edit_and_rechain(
        lena,
        seq,
        "UPDATE events SET payload = replace(replace(payload, '\"attested\"', '\"measured\"'), "
        '\'"comment":"my word"\', \'"collector":"inhouse prove"\') WHERE seq = :s',
    )
    state = Program.open(_isolated, key=lena.key).state()
    assert state.tampered is not None and state.tampered[1] == seq
    assert not any(f.kind == "trial.verdict" for f in state.facts)
