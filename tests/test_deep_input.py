"""JSON and YAML a person hands inhouse nested thousands deep: each was a RecursionError
traceback (`fact record --data`, a workflow spec, a playbook, an evidence file); now every reader
refuses it as not JSON (not valid YAML), naming the limit, ``MAX_DEPTH``, and nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.jsonfiles import MAX_DEPTH, TooDeep, load_yaml, loads, read_json, read_jsonl
from inhouse.program import Program
from tests.clitools import cli

#: the depth of the report: far past Python's recursion limit
_DEEP = 5000


def _nested(depth: int) -> str:
    return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_loads_takes_the_limit_and_refuses_one_level_more_at_its_bracket() -> None:
    assert loads(_nested(MAX_DEPTH))["a"] is not None
    for depth in (MAX_DEPTH + 1, _DEEP):
        with pytest.raises(TooDeep, match=f"nested deeper than {MAX_DEPTH} levels") as err:
            loads(_nested(depth))
        assert err.value.pos == MAX_DEPTH + len('{"a": ') - 1  # the bracket one too deep
    # brackets inside a string do not nest
    assert loads(json.dumps({"a": "[" * _DEEP})) == {"a": "[" * _DEEP}
    assert isinstance(TooDeep("x", "", 0), ValueError)  # every `not JSON` handler reports it


def test_files_name_the_line_that_nests_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('{\n"ok": [1],\n"deep": ' + "[" * _DEEP + "]" * _DEEP + "\n}\n")
    with pytest.raises(InvalidInput, match=r"^in.json:3: not JSON \(nested deeper than 100"):
        read_json(path, shown="in.json")
    path.write_text('{"ok": 1}\n' + "[" * _DEEP + "]" * _DEEP + "\n")
    with pytest.raises(InvalidInput, match=r"^in.jsonl:2: not JSON \(nested deeper than 100"):
        read_jsonl(path, shown="in.jsonl")


def test_yaml_nested_too_deep_or_holding_itself_is_refused() -> None:
    assert load_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), where="x")
    for text in ("a: " + "[" * _DEEP + "]" * _DEEP, "a: &a [*a]"):
        with pytest.raises(InvalidInput, match=r"^x.yaml: not valid YAML: nested deeper than 100"):
            load_yaml(text, where="x.yaml")


def test_fact_record_refuses_a_payload_nested_too_deep_and_keeps_one_at_the_limit(
    _isolated: Path,
) -> None:
    cli("init", "Acme", "--lead", "lena")
    record = ["fact", "record", "task.named", "--attest", "x", "--set", "task=t"]
    for extra in (
        ["--data", _nested(_DEEP)],
        ["--data", _nested(MAX_DEPTH + 1)],
        ["--set", "frequency=" + "[" * _DEEP + "]" * _DEEP],
        ["--set", ".".join(["f"] * _DEEP) + "=1"],  # dotted keys nest too
    ):
        said = " ".join(cli(*record, *extra, code=2).split())
        assert f"nested deeper than {MAX_DEPTH} levels" in said, said
    payload = _isolated / "payload.json"
    payload.write_text(_nested(_DEEP))
    said = " ".join(cli(*record, "--file", str(payload), code=2).split())
    assert "--file is not valid JSON: nested deeper than 100 levels" in said, said
    opened = Program.open(_isolated)
    try:
        assert [f for f in opened.state().facts if f.kind == "task.named"] == []
    finally:
        opened.close()
    # a payload at the limit is an ordinary one: signed, stored, listed and verified (the lock
    # body is the one field a person may nest as deep as they like)
    body = {"x": json.loads("[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2))}  # 100 in all
    lock = {"lock_hash": "abcdefgh1", "runtime": {"family": "llama.cpp", "version": "1"}}
    at_limit = json.dumps({**lock, "models": [], "body": body})
    cli("fact", "record", "baseline.lock", "--attest", "x", "--data", at_limit)
    listed = json.loads(cli("fact", "list", "--kind", "baseline.lock", "--json"))
    assert [fact["payload"]["body"] for fact in listed] == [body]
    assert "chain intact" in cli("audit", "verify")
    past = json.dumps({**lock, "models": [], "body": {"x": [body["x"]]}})
    said = cli("fact", "record", "baseline.lock", "--attest", "x", "--data", past, code=2)
    assert "nested deeper than" in said


@pytest.mark.parametrize(
    ("where", "command"),
    [
        ("workflows/w.yaml", ["workflow", "validate", "w"]),
        ("ours.yaml", ["playbook", "validate", "ours.yaml"]),
        ("trials/t.yaml", ["prove", "t"]),
        ("pf.yaml", ["workflow", "import-promptfoo", "pf.yaml", "--model", "m"]),
        ("bundle.json", ["evidence", "import", "bundle.json"]),
    ],
)
def test_every_reader_of_a_persons_file_refuses_it_too_deep(
    _isolated: Path, where: str, command: list[str]
) -> None:
    cli("init", "Acme", "--lead", "lena")
    path = _isolated / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if where.endswith(".json"):
        path.write_text("[" * _DEEP + "]" * _DEEP)
    else:  # libyaml (the playbook's loader) refuses 1,000 levels itself; PyYAML recursed
        path.write_text("name: x\nsteps: " + "[" * 900 + "]" * 900 + "\n")
    said = " ".join(cli(*command, code=2).split())
    assert f"nested deeper than {MAX_DEPTH} levels" in said, said


def test_toml_nested_too_deep_is_not_valid_toml_naming_the_file(_isolated: Path) -> None:
    """inhouse.toml, inhouse.lock and a proposed boundary file are TOML a person hands inhouse
    too (the program's author, for a colleague's checkout): nested thousands deep, each was a
    RecursionError traceback from every command that read it; now it is not valid TOML, naming
    the file and the limit."""
    cli("init", "Acme", "--lead", "lena")
    config = _isolated / "inhouse.toml"
    kept = config.read_text()
    for depth in (MAX_DEPTH + 1, _DEEP):
        config.write_text(kept + "\n[x]\na = " + "[" * depth + "]" * depth + "\n")
        said = " ".join(cli("status", code=2).split())
        assert "inhouse.toml is not valid TOML: nested deeper than 100 levels" in said, said
        assert "Traceback" not in said
    config.write_text(kept)
    (_isolated / "inhouse.lock").write_text("a = " + "[" * _DEEP + "]" * _DEEP + "\n")
    said = " ".join(cli("baseline", "show", code=2).split())
    assert "inhouse.lock is not valid TOML: nested deeper than 100 levels" in said, said
    from inhouse.jsonfiles import toml_loads  # one level less is read as it is

    assert toml_loads("a = " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))["a"]
