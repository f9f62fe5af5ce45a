"""Shares and counts are written one way everywhere (inhouse.figures): a check's reason, the
CLI and the trial report say "1 team" and "90.0 %", never "1 team(s)" beside "2 people", nor
"90%" beside "17.9 %"."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from inhouse import figures

SRC = Path(figures.__file__).parent

#: strings that keep "(s)": log lines for an operator and a docstring, not a user's reading
_KEPT = {
    ("gateway/edge.py", "answer(s) still under way"),
    ("gateway/edge.py", "listening socket(s)"),
    ("gateway/app.py", "database read(s) of the gateway"),
}


@pytest.mark.parametrize(
    ("value", "unit", "said"),
    [
        (1, "test cases", "1 test case"),
        (2, "test cases", "2 test cases"),
        (1, "it-broke tickets", "1 it-broke ticket"),
        (1, "passing verifies", "1 passing verify"),
        (0, "teams", "0 teams"),
        (1, "fixes", "1 fix"),
    ],
)
def test_a_count_of_several_words_agrees_by_its_last(value: int, unit: str, said: str) -> None:
    assert figures.count(value, unit) == said


def test_the_unit_alone_agrees_with_its_number() -> None:
    assert figures.unit(1, "teams") == "team"
    assert figures.unit(3, "teams") == "teams"
    assert figures.unit(1, "people") == "person"


def _strings(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [t.string for t in tokens if t.type == tokenize.STRING]


def test_no_text_a_person_reads_says_s_in_brackets_or_a_bare_percent() -> None:
    """Every string literal in the package (f-strings included) and every template (the
    trial report's, the dashboard's): a plural in brackets ("team(s)") or a share formatted
    by hand ("{x:.0%}") is a second way of writing what `figures` writes."""
    found = []
    for path in sorted([*SRC.rglob("*.py"), *SRC.rglob("*.j2"), *SRC.rglob("*.html")]):
        where = path.relative_to(SRC).as_posix()
        texts = _strings(path) if path.suffix == ".py" else [path.read_text()]
        for text in texts:
            for hit in re.finditer(r"[a-z]\(s\)|\(es\)|:\.\d%\}", text):
                line = text[max(0, hit.start() - 30) : hit.end() + 30]
                if "http(s)" in line or any(f == where and k in line for f, k in _KEPT):
                    continue
                found.append(f"{where}: {line!r}")
    assert found == []
