"""The one reader of JSON and JSONL files: what it returns, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.jsonfiles import read_json, read_jsonl, read_jsonl_objects


def test_jsonl_skips_blank_lines_and_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n  \n"two"\n[3]\n', encoding="utf-8")
    assert read_jsonl(path) == [(1, {"a": 1}), (4, "two"), (5, [3])]


def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"^data/in.jsonl:2: not JSON \(Expecting value\)$"):
        read_jsonl(path, shown="data/in.jsonl")


def test_objects_only_says_what_a_line_is_for(tmp_path: Path) -> None:
    path = tmp_path / "vars.jsonl"
    path.write_text('{"ticket": "jam"}\n["ticket"]\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"vars.jsonl:2: expected an object of vars, got a list"):
        read_jsonl_objects(path, shown="vars.jsonl", what="an object of vars")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"^no file nope.jsonl$"):
        read_jsonl(tmp_path / "nope.jsonl", shown="nope.jsonl")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInput, match=r"cannot read .*b.json: not UTF-8 text"):
        read_json(binary)


def test_a_json_document_names_the_line_of_its_fault(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{\n  "models": {}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"m.json:3: not JSON"):
        read_json(path)
    path.write_text('{"models": {}}', encoding="utf-8")
    assert read_json(path) == {"models": {}}
