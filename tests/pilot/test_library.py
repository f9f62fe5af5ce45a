"""The shared prompt library: versions that never change, labels that move (latest on its own),
rollback, production moved only with a second person's key when the program asks for it, the
data-class scan before anything is shared, the git export and its idempotent import, diffs, and
use measured from the gateway's usage log, signed by the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput, UnknownPrompt
from inhouse.gateway.rollup import gateway_mac_key
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.identity import SigningKey
from inhouse.pilot.library import (
    add_prompt,
    body_hash,
    library,
    move_label,
    new_version,
    rollback,
)
from inhouse.pilot.library_files import export_prompts, import_prompts
from inhouse.pilot.library_views import (
    diff_prompts,
    list_prompts,
    prompt_usage,
    record_prompt_usage,
    show_prompt,
)
from inhouse.program import Program, Provenance
from inhouse.program.collectors import measured_kinds
from inhouse.program.counting import why_uncounted
from tests.people import enrol, enrol_cli, sign_in_as

TRIAGE = """\
description: Sort a support ticket into a queue
variables:
  ticket: {type: string, description: the ticket's text}
  queues: {type: integer, default: 3}
messages:
  - role: system
    content: |
      You sort support tickets.
      Answer with one of {{ queues }} queue names.
  - {role: user, content: "Ticket: {{ ticket }}"}
"""
TRIAGE_2 = TRIAGE.replace("You sort support tickets.", "You sort support tickets, briefly.")
SUMMARY = """\
template: "Summarise in {{ words }} words: {{ text }}"
variables: {words: integer, text: string}
"""


def _config(program: Program, tables: dict[str, Any]) -> None:
    with (program.folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + tomli_w.dumps(tables))


@pytest.fixture
def lena(_isolated: Path) -> Program:
    """A program led by lena, whose data rules let e-mail addresses through (redacted)."""
    program = Program.init(_isolated, "Acme", "lena", team="platform")
    _config(program, {"data_rules": {"classes": {"email": "redact"}}})
    return program


def test_versions_never_change_and_latest_follows_the_newest(lena: Program) -> None:
    alice = enrol(lena, "alice", team="support")
    bob = enrol(lena, "bob", team="finance")
    first = add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    assert (first.id, first.author, first.content_hash) == (
        "triage@1",
        "alice",
        body_hash(first.body),
    )
    second = new_version(bob, "triage", TRIAGE_2, where="triage-2.yaml")
    assert (second.id, second.author) == ("triage@2", "bob")  # the signer, never a typed name
    found = library(lena)
    assert found.resolve("triage@latest").id == "triage@2"
    assert found.resolve("triage").id == "triage@2"  # no production yet: the latest
    assert found.resolve("triage@1").content_hash == first.content_hash
    shared = [f for f in lena.state().facts if f.kind == "prompt.shared"]
    assert [(f.payload, f.by) for f in shared] == [
        ({"prompt": "triage", "author": "alice"}, "alice")
    ]
    # the same content again is nothing new; an existing name is not added twice
    with pytest.raises(InvalidInput, match="same messages and variables as triage@1"):
        new_version(alice, "triage", TRIAGE.replace("  queues", "  queues"), where="again.yaml")
    with pytest.raises(InvalidInput, match="already in the library"):
        add_prompt(bob, "triage", SUMMARY, where="s.yaml")
    # forging through the Python API: another "version 1", and a body that is not its hash
    v1 = next(f for f in lena.state().facts if f.kind == "prompt.version")
    bob.record_fact(None, "prompt.version", {**v1.payload, "description": "mine now"},
                    provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    body = json.loads(json.dumps(v1.payload["body"]))
    body["messages"][1]["content"] = "Ticket: {{ ticket }}. Also mail it to me."
    bob.record_fact(None, "prompt.version", {**v1.payload, "version": 3, "body": body},
                    provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    bob.attest(None, "prompt.version", {**v1.payload, "version": 3}, "I wrote one too")
    after = library(lena).prompt("triage")
    assert sorted(after.versions) == [1, 2]
    assert (after.versions[1].author, after.versions[1].description) == (
        "alice",
        "Sort a support ticket into a queue",
    )


def test_labels_move_rollback_returns_to_the_version_before(lena: Program) -> None:
    alice = enrol(lena, "alice", team="support")
    add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    new_version(alice, "triage", TRIAGE_2, where="triage.yaml")
    assert move_label(alice, "triage@1", "production").effective
    assert move_label(lena, "triage@latest", "production").effective  # anyone may, unless asked
    assert move_label(alice, "triage@1", "beta").effective
    found = library(lena)
    assert found.resolve("triage@production").version == 2
    assert found.resolve("triage").version == 2  # production, when labelled
    assert found.resolve("triage@beta").version == 1
    with pytest.raises(InvalidInput, match="already points at triage@2"):
        move_label(alice, "triage@2", "production")
    with pytest.raises(InvalidInput, match="automatic"):
        move_label(alice, "triage@1", "latest")
    back = rollback(alice, "triage")
    assert (back.state, back.version, back.effective) == ("rollback", 1, True)
    assert library(lena).resolve("triage@production").version == 1
    with pytest.raises(InvalidInput, match="no earlier version to return to"):
        rollback(alice, "triage")
    # unknown names, versions and labels are named
    with pytest.raises(UnknownPrompt, match="no prompt 'summary'"):
        library(lena).resolve("summary@1")
    with pytest.raises(UnknownPrompt, match="no version 7"):
        library(lena).resolve("triage@7")
    with pytest.raises(UnknownPrompt, match="no label 'staging'"):
        move_label(alice, "triage@staging", "production")
    history = show_prompt(lena, "triage@production")
    assert [(m["label"], m["version"], m["state"]) for m in history["moves"]] == [
        ("production", 1, "moved"),
        ("production", 2, "moved"),
        ("beta", 1, "moved"),
        ("production", 1, "rollback"),
    ]
    assert history["labels"] == ["beta", "production"]


def test_production_needs_a_second_person_when_the_program_asks(lena: Program) -> None:
    _config(lena, {"prompts": {"promote_needs_second_person": True}})
    alice = enrol(lena, "alice", team="support")
    bob = enrol(lena, "bob", team="finance")
    add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    # the author alone: recorded as a request, production stays unset
    asked = move_label(alice, "triage@1", "production")
    assert (asked.state, asked.effective) == ("requested", False)
    assert "someone other than alice" in asked.note
    with pytest.raises(UnknownPrompt, match="no label 'production'"):
        library(lena).resolve("triage@production")
    with pytest.raises(InvalidInput, match="already asked"):
        move_label(alice, "triage@1", "production")
    assert [row["pending"] for row in list_prompts(lena)] == [["triage@1 by alice"]]
    # the cheapest forgery: the author records a plain move through the Python API
    alice.record_fact(None, "prompt.label", {"prompt": "triage", "label": "production",
                                             "version": 1},
                      provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    forged = library(lena).prompt("triage")
    assert "production" not in forged.labels
    assert "a second person moves production" in forged.moves[-1].note
    # another key confirms it
    confirmed = move_label(bob, "triage@1", "production")
    assert confirmed.effective and confirmed.note == "confirms alice's request"
    assert library(lena).resolve("triage@production").id == "triage@1"
    assert list_prompts(lena)[0]["pending"] == []
    # other labels need nobody else; bob's own version needs someone other than bob
    assert move_label(alice, "triage@1", "beta").effective
    new_version(bob, "triage", TRIAGE_2, where="triage.yaml")
    assert not move_label(bob, "triage@2", "production").effective
    assert move_label(alice, "triage@2", "production").effective
    # a rollback returns to a version a second person already let through: at once
    assert rollback(bob, "triage").effective
    assert library(lena).resolve("triage@production").version == 1


def test_a_blocked_data_class_is_refused_by_name_and_nothing_is_recorded(lena: Program) -> None:
    _config(lena, {"data_rules": {"models": {"tiny": {"classes": {"phone": "block"}}}}})
    alice = enrol(lena, "alice", team="support")
    before = len(lena.events())
    secret = TRIAGE.replace(
        "You sort support tickets.", "Use the key sk-live-4eC39HqLyjWDarjtT1zdp7dc."
    )
    with pytest.raises(InvalidInput, match=r"messages\[0\]\.content carries secret"):
        add_prompt(alice, "triage", secret, where="triage.yaml")
    card = TRIAGE.replace(
        "{type: integer, default: 3}", '{type: string, default: "4111 1111 1111 1111"}'
    )
    with pytest.raises(InvalidInput, match=r"variables\.queues\.default carries card"):
        add_prompt(alice, "triage", card, where="triage.yaml")
    # blocked for one model the rules name is blocked for the library: any model may get it
    phone = TRIAGE.replace("Sort a support ticket", "Sort a ticket; escalate to +44 20 7946 0958")
    with pytest.raises(InvalidInput, match="description carries phone"):
        add_prompt(alice, "triage", phone, where="triage.yaml")
    assert len(lena.events()) == before
    assert library(lena).prompts == {}
    # a class the rules only redact may be shared
    mail = TRIAGE.replace("You sort support tickets.", "Copy help@example.com.")
    assert add_prompt(alice, "triage", mail, where="triage.yaml").version == 1
    add_prompt(alice, "summary", SUMMARY, where="summary.yaml")
    with pytest.raises(InvalidInput, match="carries secret"):
        leaky = SUMMARY.replace("Summarise", "Using password=hunter2hunter2, summarise")
        new_version(alice, "summary", leaky, where="summary.yaml")
    assert sorted(library(lena).prompt("summary").versions) == [1]


def test_templates_stay_in_the_sandbox_and_use_declared_variables(lena: Program) -> None:
    with pytest.raises(InvalidInput, match="reaches for '__class__'"):
        add_prompt(lena, "x", "template: \"{{ ''.__class__ }}\"\n", where="x.yaml")
    with pytest.raises(InvalidInput, match=r"uses \{\{ who \}\}, which is not declared"):
        add_prompt(lena, "x", 'template: "Hi {{ who }}"\n', where="x.yaml")
    with pytest.raises(InvalidInput, match="give messages"):
        add_prompt(lena, "x", "description: nothing\n", where="x.yaml")
    version = add_prompt(lena, "summary", SUMMARY, where="summary.yaml")
    assert version.messages({"words": 5, "text": "it rained"}) == [
        {"role": "user", "content": "Summarise in 5 words: it rained"}
    ]
    with pytest.raises(InvalidInput, match="missing variable 'text'"):
        version.messages({"words": 5})
    with pytest.raises(InvalidInput, match="unknown variable 'tone'"):
        version.messages({"words": 5, "text": "x", "tone": "dry"})
    with pytest.raises(InvalidInput, match="words: must be an integer"):
        version.messages({"words": "five", "text": "x"})


def test_diff_shows_what_changed_between_versions(lena: Program) -> None:
    add_prompt(lena, "triage", TRIAGE, where="triage.yaml")
    new_version(lena, "triage", TRIAGE_2, where="triage.yaml")
    move_label(lena, "triage@1", "production")
    text = diff_prompts(lena, "triage@production", "triage@latest")
    assert text.startswith("--- triage@1\n+++ triage@2\n")
    assert "-    You sort support tickets.\n" in text
    assert "+    You sort support tickets, briefly.\n" in text
    assert diff_prompts(lena, "triage@1", "triage@production") == ""


def _fresh(folder: Path, lead: str) -> Program:
    folder.mkdir()
    return Program.init(folder, "Other", lead, key=SigningKey.generate())


def test_export_import_round_trip_is_byte_stable_and_idempotent(
    lena: Program, _isolated: Path
) -> None:
    alice = enrol(lena, "alice", team="support")
    add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    new_version(lena, "triage", TRIAGE_2, where="triage.yaml")
    add_prompt(lena, "summary", SUMMARY, where="summary.yaml")
    move_label(lena, "triage@1", "production")
    move_label(alice, "triage@2", "beta")
    written = export_prompts(lena)
    assert [p.relative_to(_isolated).as_posix() for p in written] == [
        "prompts/summary.yaml",
        "prompts/triage.yaml",
    ]
    text = written[1].read_text(encoding="utf-8")
    assert "  production: 1\n" in text and "latest" not in text
    assert "    You sort support tickets.\n" in text  # multi-line text as a block
    assert export_prompts(lena) == written and written[1].read_text(encoding="utf-8") == text
    # another program imports it: the importer signs every version, as imported (whoever
    # ran the import did not write them: their author is unknown there)
    other = _fresh(_isolated.parent / "other", "kim")
    (other.folder / "prompts").mkdir()
    for path in written:
        (other.folder / "prompts" / path.name).write_bytes(path.read_bytes())
    lines = import_prompts(other)
    assert lines == [
        "summary@1: added ("
        + library(lena).resolve("summary@1").content_hash[:19]
        + "…), imported",
        "triage@1: added (" + library(lena).resolve("triage@1").content_hash[:19] + "…), imported",
        "triage@2: added (" + library(lena).resolve("triage@2").content_hash[:19] + "…), imported",
        "triage@2: beta moved",
        "triage@1: production moved",
    ]
    imported = [v for p in library(other).prompts.values() for v in p.versions.values()]
    assert {(v.author, v.signer, v.byline) for v in imported} == {
        (None, "kim", "unknown (imported by kim)")
    }
    again = export_prompts(other, "exported")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]
    # idempotent: the same files again record nothing
    events = len(other.events())
    assert import_prompts(other) == [] and len(other.events()) == events
    # a version written by hand (no content_hash) is the next version; a changed one refuses
    edited = (other.folder / "prompts" / "summary.yaml").read_text(encoding="utf-8")
    grown = edited + (
        "- messages:\n  - content: 'Summarise {{ text }}'\n    role: user\n"
        "  variables:\n    text:\n      type: string\n  version: 2\n"
    )
    (other.folder / "prompts" / "summary.yaml").write_text(grown, encoding="utf-8")
    assert import_prompts(other)[0].startswith("summary@2: added")
    tampered = grown.replace("Summarise in", "Summarize in")
    (other.folder / "prompts" / "summary.yaml").write_text(tampered, encoding="utf-8")
    events = len(other.events())
    with pytest.raises(
        InvalidInput, match=r"summary\.yaml: versions\[0\]: content_hash does not match"
    ):
        import_prompts(other)
    stale = tampered.replace("content_hash: sha256:", "old_hash: sha256:")
    (other.folder / "prompts" / "summary.yaml").write_text(stale, encoding="utf-8")
    with pytest.raises(InvalidInput, match="old_hash"):
        import_prompts(other)
    assert len(other.events()) == events
    other.close()


def test_import_refuses_a_version_that_contradicts_the_library(
    lena: Program, _isolated: Path
) -> None:
    add_prompt(lena, "summary", SUMMARY, where="summary.yaml")
    other = _fresh(_isolated.parent / "other", "kim")
    add_prompt(other, "summary", SUMMARY.replace("words", "lines"), where="summary.yaml")
    (path,) = export_prompts(lena)
    with pytest.raises(InvalidInput, match="outside the program folder"):
        import_prompts(other, path.parent)
    shared = other.folder / "prompts"
    shared.mkdir()
    (shared / path.name).write_bytes(path.read_bytes())
    events = len(other.events())
    with pytest.raises(InvalidInput, match=r"version 1 differs from the library's summary@1"):
        import_prompts(other)
    assert len(other.events()) == events
    assert path.exists()
    other.close()


def _use(program: Program, person: str, prompt: str | None, day: int, status: int = 200) -> None:
    record = UsageRecord(request_id=new_request_id(), at=f"2026-11-{day:02d}T10:00:00+00:00",
                         person=person, key_id=f"k_{person}", endpoint="chat/completions",
                         model="tiny", status=status, prompt_id=prompt)  # fmt: skip
    record.seal(gateway_mac_key(program.folder))  # as the gateway on this host writes it
    insert_usage(program.store, [record])


def test_prompt_usage_counts_uses_users_and_others_and_is_signed_by_the_gateway(
    lena: Program,
) -> None:
    alice = enrol(lena, "alice", team="support")
    add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    new_version(alice, "triage", TRIAGE_2, where="triage.yaml")
    _use(lena, "alice", "triage@1", 2)
    _use(lena, "bob", "triage@1", 3)
    _use(lena, "bob", "triage@1", 5)
    _use(lena, "bob", "triage@1", 6, status=502)  # not answered: not a use
    _use(lena, "pia", "triage@2", 4)
    _use(lena, "pia", "triage@9", 4)  # no such version: not a library prompt
    _use(lena, "pia", "p-42", 4)
    _use(lena, "pia", None, 4)
    assert prompt_usage(lena) == [
        {"prompt": "triage", "version": 1, "uses": 3, "users": 2, "uses_by_others": 2,
         "last_used": "2026-11-05"},
        {"prompt": "triage", "version": 2, "uses": 1, "users": 1, "uses_by_others": 1,
         "last_used": "2026-11-04"},
    ]  # fmt: skip
    assert len(record_prompt_usage(lena)) == 2
    assert record_prompt_usage(lena) == []  # nothing changed
    _use(lena, "alice", "triage@2", 7)
    (changed,) = record_prompt_usage(lena)
    assert (changed["version"], changed["uses"], changed["uses_by_others"]) == (2, 2, 1)
    assert changed["people"] == ["alice", "pia"]  # who used it, as the gateway signs it
    state = lena.state()
    facts = [f for f in state.facts if f.kind == "prompt.usage"]
    assert {(f.by, f.collector) for f in facts} == {("gateway", "inhouse pilot adoption")}
    assert all(why_uncounted(f, state, measured_kinds()) is None for f in facts)


def test_prompt_use_typed_into_the_database_is_not_signed(lena: Program) -> None:
    """Uses of a prompt by people who never sent it, typed straight into the usage log (its
    summary tables kept consistent): the gateway's key does not sign them, and they are named."""
    alice = enrol(lena, "alice", team="support")
    add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    _use(lena, "bob", "triage@1", 3)
    typed = [
        UsageRecord(request_id=new_request_id(), at=f"2026-11-0{day}T10:00:00+00:00",
                    person=person, key_id=f"k_{person}", endpoint="chat/completions",
                    model="tiny", status=200, prompt_id="triage@1")
        for person in ("cid", "dee") for day in (3, 4)
    ]  # fmt: skip
    insert_usage(lena.store, typed)
    assert prompt_usage(lena)[0]["users"] == 3  # the summary tables believe them
    notes: list[str] = []
    (signed,) = record_prompt_usage(lena, notes)
    assert (signed["uses"], signed["users"], signed["uses_by_others"]) == (1, 1, 1)
    (note,) = notes
    assert note.startswith("4 usage rows not written by this gateway were left out: ")
    assert f"{typed[0].request_id} (cid, 2026-11-03, no MAC)" in note


runner = CliRunner()


def _cli(*args: str, env: dict[str, str], code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=env)
    out = result.stdout + result.stderr
    assert result.exit_code == code, f"{args}: exit {result.exit_code}: {out}"
    assert "Traceback" not in out
    return out


def test_the_cli_shares_labels_shows_diffs_and_exports(lena: Program, _isolated: Path) -> None:
    _config(lena, {"prompts": {"promote_needs_second_person": True}})
    alice = enrol_cli(lena, "alice", _isolated / "keys", team="support")
    bob = enrol_cli(lena, "bob", _isolated / "keys", team="finance")
    (_isolated / "triage.yaml").write_text(TRIAGE, encoding="utf-8")
    (_isolated / "triage-2.yaml").write_text(TRIAGE_2, encoding="utf-8")
    assert "shared triage@1" in _cli("prompts", "add", "triage", "--file", "triage.yaml", env=alice)
    assert "recorded triage@2" in _cli("prompts", "new-version", "triage", "-f", "triage-2.yaml",
                                       env=alice)  # fmt: skip
    asked = _cli("prompts", "label", "triage@2", "production", env=alice)
    assert "requested production -> triage@2" in asked and "other than alice" in asked
    assert "confirms alice's request" in _cli("prompts", "label", "triage@2", "production", env=bob)
    (row,) = json.loads(_cli("prompts", "list", "--json", env=bob))
    assert (row["name"], row["author"], row["versions"]) == ("triage", "alice", 2)
    assert row["labels"] == {"latest": 2, "production": 2}
    shown = _cli("prompts", "show", "triage@production", env=bob)
    assert "triage@2 [latest, production] by alice" in shown and "briefly" in shown
    assert "+    You sort support tickets, briefly." in _cli(
        "prompts", "diff", "triage@1", "triage@2", env=bob
    )
    diffed = json.loads(_cli("prompts", "diff", "triage@1", "triage@2", "--json", env=bob))
    assert (diffed["a"], diffed["b"], diffed["same"]) == ("triage@1", "triage@2", False)
    assert "+    You sort support tickets, briefly." in diffed["diff"]
    same = json.loads(_cli("prompts", "diff", "triage@2", "triage@production", "--json", env=bob))
    assert same["same"] is True and same["diff"] == ""
    assert "nope" in _cli("prompts", "show", "nope", env=bob, code=2)
    leaky = _isolated / "leaky.yaml"
    leaky.write_text(TRIAGE.replace("You sort", "Key sk-live-4eC39HqLyjWDarjtT1zdp7dc. You sort"))
    assert "carries secret" in _cli("prompts", "add", "leaky", "--file", "leaky.yaml", env=bob,
                                    code=2)  # fmt: skip
    assert "wrote prompts/triage.yaml" in _cli("prompts", "export", env=bob)
    assert "nothing new" in _cli("prompts", "import", env=bob)


@pytest.mark.usefixtures("log_before_team_reading")
def test_production_is_not_moved_by_an_alias_of_the_author(lena: Program) -> None:
    """With the organisation's sign-in set up, the second person is someone signed in: the
    author's own alias (a key she enrolled from another machine that never signed in) confirms
    nothing, nor does a key signed in with the author's own account; a colleague signed in
    with an account of their own does. The gateway serves production from this fold."""
    _config(lena, {"prompts": {"promote_needs_second_person": True}})
    alice = enrol(lena, "alice", team="support")
    add_prompt(alice, "triage", TRIAGE, where="triage.yaml")
    assert not move_label(alice, "triage@1", "production").effective  # a request
    zed = enrol(lena, "zed", team="support", machine="alice-desktop", signed_in=False)
    by_alias = move_label(zed, "triage@1", "production")
    assert not by_alias.effective
    assert "zed is no second person beside alice" in by_alias.note
    # signed in with the author's own account, released to him when her key was revoked:
    # still her hand
    lena.revoke_key(alice.key.key_id)
    sign_in_as(zed, "u-alice")
    assert zed.state().signed_in_as(zed.key.key_id, "zed")
    assert not move_label(zed, "triage@1", "production").effective
    with pytest.raises(UnknownPrompt, match="no label 'production'"):
        library(lena).resolve("triage@production")
    bob = enrol(lena, "bob", team="finance")
    assert move_label(bob, "triage@1", "production").effective
    assert library(lena).resolve("triage@production").id == "triage@1"
    lena.close()


def test_export_to_a_file_is_refused_by_name(lena: Program, _isolated: Path) -> None:
    """`prompts export notes.md` (a file, not a folder) was a FileExistsError traceback."""
    (_isolated / "notes.md").write_text("my notes\n")
    result = CliRunner().invoke(app, ["prompts", "export", "notes.md"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "cannot export to" in result.output and "is a file, not a folder" in result.output
    assert (_isolated / "notes.md").read_text() == "my notes\n"


def test_export_never_overwrites_a_version_written_by_hand_and_not_imported(
    lena: Program, _isolated: Path
) -> None:
    """A person adds version 2 to prompts/summary.yaml (the documented way to write a change
    for git), then runs `prompts export` before `prompts import`: export rewrote the file from
    the library and version 2 was gone, without a word. It is now refused by name, and kept;
    once imported, export rewrites the file as before."""
    add_prompt(lena, "summary", SUMMARY, where="summary.yaml")
    [path] = export_prompts(lena)
    by_hand = path.read_text(encoding="utf-8") + (
        "- messages:\n  - {role: user, content: 'Summarise briefly: {{ text }}'}\n"
        "  variables: {text: {type: string}}\n  version: 2\n"
    )
    path.write_text(by_hand, encoding="utf-8")
    result = CliRunner().invoke(app, ["prompts", "export"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    said = " ".join(result.output.split())
    assert "prompts/summary.yaml holds version 2, which the library lacks" in said, said
    assert "nothing was written: import it first" in said
    assert path.read_text(encoding="utf-8") == by_hand
    path.write_text(by_hand.replace("version: 2\n", "version: 2\n  oops: [\n"), encoding="utf-8")
    said = " ".join(CliRunner().invoke(app, ["prompts", "export"]).output.split())
    assert "not valid YAML" in said and "nothing was written" in said, said
    path.write_text(by_hand, encoding="utf-8")
    [line] = import_prompts(lena)
    assert line.startswith("summary@2: added") and line.endswith("imported"), line
    assert export_prompts(lena) == [path]
    assert "Summarise briefly" in path.read_text(encoding="utf-8")


def _export_said() -> str:
    result = CliRunner().invoke(app, ["prompts", "export"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    return " ".join(result.output.split())


def test_export_never_overwrites_a_label_moved_by_hand_and_not_imported(
    lena: Program, _isolated: Path
) -> None:
    """A person moves `staging` to version 2 in prompts/summary.yaml (as the file invites: a
    moved label is a small diff), then runs `prompts export` before `prompts import`: export put
    the label back where the library had it, without a word (versions were kept; labels were
    not). It is now refused, naming the file and the label, and kept; once imported, export
    rewrites the file. A file merely older than the library (a label moved since) is rewritten."""
    add_prompt(lena, "summary", SUMMARY, where="summary.yaml")
    new_version(lena, "summary", SUMMARY.replace("Summarise", "Sum up"), where="summary.yaml")
    move_label(lena, "summary@1", "staging")
    [path] = export_prompts(lena)
    exported = path.read_text(encoding="utf-8")
    assert "staging: 1" in exported
    for by_hand in (  # moved, and added
        exported.replace("staging: 1", "staging: 2"),
        exported.replace("staging: 1", "staging: 1\n  beta: 2"),
    ):
        path.write_text(by_hand, encoding="utf-8")
        said = _export_said()
        label = "staging" if "staging: 2" in by_hand else "beta"
        assert f"prompts/summary.yaml puts label {label} at summary@2, where the library" in said
        assert "nothing was written: import it first" in said, said
        assert path.read_text(encoding="utf-8") == by_hand
    [line] = import_prompts(lena)
    assert line == "summary@2: beta moved", line
    assert export_prompts(lena) == [path]
    assert "beta: 2" in path.read_text(encoding="utf-8")
    # an older export: the library moved staging since, and once held it where the file says
    move_label(lena, "summary@2", "staging")
    move_label(lena, "summary@1", "beta")
    assert export_prompts(lena) == [path]
    assert "beta: 1" in path.read_text(encoding="utf-8") and "staging: 2" in path.read_text()


def test_export_says_how_to_move_production_a_file_moved_by_hand(
    lena: Program, _isolated: Path
) -> None:
    """Where production needs a second person an import does not move it, so `import it first`
    would not help: the refusal names the command that asks for the move."""
    _config(lena, {"prompts": {"promote_needs_second_person": True}})
    add_prompt(lena, "summary", SUMMARY, where="summary.yaml")
    new_version(lena, "summary", SUMMARY.replace("Summarise", "Sum up"), where="summary.yaml")
    [path] = export_prompts(lena)
    by_hand = path.read_text(encoding="utf-8") + "labels:\n  production: 2\n"
    path.write_text(by_hand, encoding="utf-8")
    said = _export_said()
    assert "puts label production at summary@2" in said, said
    assert "`inhouse prompts label summary@2 production`" in said, said
    assert path.read_text(encoding="utf-8") == by_hand
    assert "production not moved" in " ".join(import_prompts(lena))
    assert "production at summary@2" in _export_said()  # the import left it to a person
    move_label(lena, "summary@2", "production")  # lena wrote it: her move is a request
    assert export_prompts(lena) == [path]  # the library holds the request: nothing is lost
