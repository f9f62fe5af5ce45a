"""Review of the reading of names and teams (redteam14): the neighbouring forgeries.

`reading` dropped only format characters (``Cf``), so "ops" followed by a combining grapheme
joiner, a variation selector, a Hangul filler or a braille blank (each shows as nothing, or a
blank) was a second team to pilot-size, and `person invite` let lena invite her alias as
"omar" with a combining grapheme joiner. `check_name` refused Latin mixed only with Cyrillic or
Greek, so "omar" with an Armenian o (U+0585) or a Cherokee capital drawn as a Latin one was
invited, and `pilot team` took either for a team's name the lead sends members to paste. And it
refused Latin mixed with Cyrillic anywhere in a name, so an honest "Anna Анна" (a name beside
its Cyrillic spelling, each word in one script) was refused.
"""

from __future__ import annotations

import pytest

from inhouse.plaintext import reading
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from tests.clitools import cli
from tests.test_exit_scope import LIMITS, context
from tests.test_redteam_names import lena  # noqa: F401
from tests.test_redteam_teams import _pilot

#: characters that show as nothing (or a blank) and are not format characters
BLANKS = ["\u034f", "\ufe0f", "\u3164", "\u2800", "\U000e0100"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_team_with_a_blank_that_is_no_format_character_is_one_team(blank: str) -> None:
    assert reading(f"ops{blank}") == reading("ops")
    people, facts = _pilot(["ops", f"ops{blank}", "ops", f"o{blank}ps", "ops"])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spans 1 team" in result.reason, result.reason


def test_a_name_in_armenian_letters_that_read_as_latin_is_not_invited(
    lena: Program,  # noqa: F811
) -> None:
    """hugo spelt all in Armenian letters drawn as h, u, g and o: one script, so no mix, but it
    reads as hugo's name."""
    cli("person", "invite", "hugo", "--team", "support")
    out = cli("person", "invite", "\u0570\u057d\u0581\u0585", "--team", "support", code=2)
    assert "reads as hugo, already in the program" in " ".join(out.split()), out


def test_cherokee_spelt_as_a_colleague_is_not_invited(
    lena: Program,  # noqa: F811
) -> None:
    """Cherokee capitals drawn as Latin ones (A, M, R, and a na, which Unicode draws as an O
    with a stroke across it) spell "OMAR" in one script. `reading` now reads every Cherokee
    letter Unicode's confusables draw as a Latin one as it (two that Unicode draws as one Latin
    letter read alike, as they show), and `drawn_reading` draws the barred O as an O
    (tests/test_confusables_data.py)."""
    out = cli("person", "invite", "\u13be\u13b7\u13aa\u13a1", "--team", "support", code=2)
    assert "reads as omar, already in the program" in " ".join(out.split()), out


def test_a_name_beside_its_spelling_in_another_script_is_invited(
    lena: Program,  # noqa: F811
) -> None:
    """Each word in one script: an honest pilot who writes both spellings, or an emoji drawn
    as an emoji (its variation selector after the symbol), is not refused."""
    for name in ("Anna \u0410\u043d\u043d\u0430", "Ana \u2764\ufe0f"):
        assert "inhouse-invite:" in cli("person", "invite", name), name
        assert name in lena.state().people


@pytest.mark.parametrize("team", ["\u0585ps", "\u13beps", "\u043eps"])
def test_a_team_name_mixing_lookalike_letters_is_refused(
    lena: Program,  # noqa: F811
    team: str,
) -> None:
    """The lead's message says `inhouse pilot team ops` with an Armenian o: the member who
    pastes it is told, and nothing is recorded; so is a lead who lists it on the roster."""
    out = cli("pilot", "team", team, code=2)
    assert "mix Latin letters with" in " ".join(out.split()), out
    out = cli("person", "invite", "nadia", "--team", team, code=2)
    assert "mix Latin letters with" in " ".join(out.split()), out
    assert not [f for f in lena.state().facts if f.kind == "pilot.team"]


def test_teams_in_one_script_each_are_taken(
    lena: Program,  # noqa: F811
) -> None:
    cli("pilot", "team", "\u041f\u043e\u0434\u0434\u0435\u0440\u0436\u043a\u0430 QA")
    assert [f.payload["team"] for f in lena.state().facts if f.kind == "pilot.team"] == [
        "\u041f\u043e\u0434\u0434\u0435\u0440\u0436\u043a\u0430 QA"
    ]
