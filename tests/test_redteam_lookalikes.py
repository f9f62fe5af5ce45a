"""Red team (identity): letters drawn as Latin ones that `reading` did not fold.

lena wants the record to show a colleague acting where her alias did, and a pilot spread over
teams it does not span. `reading` folded Cyrillic, Greek and Armenian lookalikes, and the
script check refused Latin mixed with those and Cherokee; three more sets passed both:

- Latin's own lookalikes: an alpha (U+0251) or the small capitals (U+1D0F is drawn as an o):
  "om\u0251r" and "\u1d0f\u1d0d\u1d00\u0280" are Latin only, so no mix, and read apart from omar;
- Coptic letters drawn as Greek and Latin ones: "\u2c9fmar" with a Coptic o mixed scripts the
  check did not know;
- Lisu, whose capitals are drawn as Latin capitals: "\ua4f3\ua4df\ua4ee\ua4e3" is OMAR in one
  script.

Each was invited beside omar, showing on every page as him; and a member who pasted
`inhouse pilot team \u1d0fps` from lena's message counted as a team apart from ops for play 4's
spread (exit rule 16 reads it as ops; a pilot whose play 4 exited before keeps its count).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from inhouse.plaintext import reading
from inhouse.program import Program
from inhouse.program.checks import LOOKALIKE_READING, Outcome, evaluate
from tests.clitools import cli
from tests.test_exit_scope import LIMITS, context
from tests.test_redteam_names import lena  # noqa: F401
from tests.test_redteam_teams import _pilot


@pytest.mark.parametrize(
    ("alias", "why"),
    [
        ("om\u0251r", "reads as omar, already in the program"),  # a Latin alpha
        ("\u1d0f\u1d0d\u1d00\u0280", "reads as omar, already in the program"),  # small capitals
        ("\u1d0fmar", "reads as omar, already in the program"),  # a small capital O
        ("\ua4f3\ua4df\ua4ee\ua4e3", "reads as omar, already in the program"),  # Lisu OMAR
        ("\u2c9fmar", "mix Latin letters with Coptic ones"),  # a Coptic o
        ("o\ua4dfar", "mix Latin letters with Lisu ones"),  # a Lisu M
    ],
)
def test_an_alias_in_lookalike_letters_is_not_invited(
    lena: Program,  # noqa: F811
    alias: str,
    why: str,
) -> None:
    out = cli("person", "invite", alias, "--team", "support", code=2)
    assert why in " ".join(out.split()), out
    assert alias not in lena.state().people


def test_names_in_these_scripts_whole_are_still_invited(
    lena: Program,  # noqa: F811
) -> None:
    """A name written whole in Lisu or Coptic reads as itself: two different ones are two
    people, and a Turkish dotless i is no i (its reader sees the missing dot)."""
    lisu = ("\ua4e1\ua4f2 \ua4e2\ua4ec", "\ua4e0\ua4ee \ua4d4\ua4f3")
    honest = (*lisu, "\u2c99\u2c81\u2c93", "I\u015f\u0131k")
    for name in (*honest, "Isik"):
        assert "inhouse-invite:" in cli("person", "invite", name), name
    assert {*honest, "Isik"} <= set(lena.state().people)


#: a colleague and an alias drawn as their name: a small L, a one, a zero, "rn", "vv"
DRAWN = [("Ian", "lan"), ("Ian", "1an"), ("omar", "0mar"), ("omar", "ornar"), ("Owen", "Ovven")]


@pytest.mark.parametrize(("colleague", "alias"), DRAWN)
def test_an_alias_in_plain_letters_drawn_alike_is_not_invited(
    lena: Program,  # noqa: F811
    colleague: str,
    alias: str,
) -> None:
    """A capital I and a small l (and the digit one) are one stroke in the sans-serif faces
    the dashboard and most terminals use; a zero is an O there. "lan" shows as Ian."""
    cli("person", "invite", colleague, "--team", "support")
    out = cli("person", "invite", alias, "--team", "support", code=2)
    assert f"reads as {colleague}, already in the program" in " ".join(out.split()), out
    assert alias not in lena.state().people


def test_names_an_i_with_its_dot_tells_apart_are_invited(
    lena: Program,  # noqa: F811
) -> None:
    for name in ("Ella", "Eila", "Ilse", "Lise", "ian", "Bernd", "Bend"):
        assert "inhouse-invite:" in cli("person", "invite", name), name
    out = cli("person", "invite", "Ian", code=2)  # its case alone changed: as before
    assert "reads as ian" in " ".join(out.split()), out


@pytest.mark.parametrize("team", ["\u2c9fps", "o\ua4d1s"])
def test_a_team_mixing_coptic_or_lisu_letters_is_refused(
    lena: Program,  # noqa: F811
    team: str,
) -> None:
    out = cli("pilot", "team", team, code=2)
    assert "mix Latin letters with" in " ".join(out.split()), out
    out = cli("person", "invite", "nadia", "--team", team, code=2)
    assert "mix Latin letters with" in " ".join(out.split()), out
    assert not [f for f in lena.state().facts if f.kind == "pilot.team"]


#: one team, as the lead's message spelt it to each member: a small capital O, small capitals,
#: a Lisu O (the member pastes what she sends; the check reads what they said)
OPS = ["ops", "\u1d0fps", "OPS", "\u1d0f\u1d18\ua731", "\ua4f3ps"]


def test_it_with_a_small_l_is_it() -> None:
    """ "lT" with a small L shows as IT: one team, as "it" is."""
    people, facts = _pilot(["IT", "lT", "it", "1T", "IT"])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spans 1 team" in result.reason, result.reason


def test_a_team_in_small_capitals_is_one_team() -> None:
    assert {reading(team) for team in OPS} == {"ops"}
    people, facts = _pilot(OPS)
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spans 1 team" in result.reason, result.reason


@pytest.mark.parametrize(
    ("rules", "outcome"),
    [(LOOKALIKE_READING - 1, Outcome.PASS), (LOOKALIKE_READING, Outcome.FAIL)],
)
def test_an_exit_judged_before_rule_16_keeps_its_count(rules: int, outcome: Outcome) -> None:
    """Play 4 exited on these members under the rules before LOOKALIKE_READING: their teams
    count as they read then (three teams); an exit made under it reads one."""
    people, facts = _pilot(OPS)
    exited = {"pilot": (facts[-1].at, facts[-1].id)}
    ctx = replace(context(facts, people, exited, **LIMITS), exit_rules={"pilot": rules})
    result = evaluate("pilot-size", ctx)
    assert result.outcome is outcome, result.reason


# -- review 2: a capital L is no capital I; the strokes UTS #39 draws as l; a joiner in "rn" --

#: honest colleagues whose names differ by a capital I and a capital L (Vietnamese Lan beside
#: Ian, Romanian Ion beside Lon): an L is drawn with its foot, no face shows it as an I. The
#: drawn reading once turned the I into an l and then folded case, so the L became one too
HONEST_L = [("Ian", "Lan"), ("Ion", "Lon"), ("Ian Lo", "Lan Lo")]


@pytest.mark.parametrize(("colleague", "other"), HONEST_L)
def test_a_capital_l_beside_a_capital_i_is_invited(
    lena: Program,  # noqa: F811
    colleague: str,
    other: str,
) -> None:
    cli("person", "invite", colleague, "--team", "support")
    assert "inhouse-invite:" in cli("person", "invite", other, "--team", "support"), other
    assert {colleague, other} <= set(lena.state().people)


#: what lena types beside a colleague, drawn as their name: a joiner a name may hold (ZWJ,
#: ZWNJ) inside "rn" shows as "rn" and read apart from omar; and the strokes Unicode's
#: confusables draw as a small l that are Latin letters (no script mix), or a vertical bar
STROKES = [
    ("omar", "or\u200dnar"),  # a zero-width joiner between r and n
    ("omar", "or\u200cnar"),  # a zero-width non-joiner
    ("Ian", "\u01c0an"),  # Latin letter dental click
    ("Ian", "\u0196an"),  # Latin capital letter iota
    ("Ian", "|an"),  # a vertical bar
]


@pytest.mark.parametrize(("colleague", "alias"), STROKES)
def test_an_alias_drawn_with_a_stroke_or_a_joiner_is_not_invited(
    lena: Program,  # noqa: F811
    colleague: str,
    alias: str,
) -> None:
    if colleague not in lena.state().people:
        cli("person", "invite", colleague, "--team", "support")
    out = cli("person", "invite", alias, "--team", "support", code=2)
    assert f"reads as {colleague}, already in the program" in " ".join(out.split()), out
    assert alias not in lena.state().people


def test_teams_a_capital_l_tells_apart_count_apart() -> None:
    """ML (machine learning) and MI (market intelligence), AI and AL, IT and LT: five teams,
    as their members read them; a capital I was folded into an l and then, case folded, an L,
    so each pair counted once and the pilot spanned three."""
    people, facts = _pilot(["ML", "MI", "AI", "AL", "IT"])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.PASS, result.reason
    assert "5 members across 5 teams" in result.reason, result.reason


def test_a_team_drawn_with_a_stroke_is_one_team() -> None:
    """A dental click (a Latin letter: no script mix) and a vertical bar show as IT's I."""
    people, facts = _pilot(["IT", "\u01c0T", "|T", "it", "1T"])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spans 1 team" in result.reason, result.reason


def test_honest_namesakes_drawn_alike_are_told_which_letters(
    lena: Program,  # noqa: F811
) -> None:
    """Erna beside Ema (rn drawn as m) is refused, as "ornar" beside omar is; the refusal said
    only "'Erna' reads as Ema", which an honest Erna reads as a bug. It names the letters, and
    a surname tells the two apart."""
    cli("person", "invite", "Ema", "--team", "support")
    out = " ".join(cli("person", "invite", "Erna", "--team", "support", code=2).split())
    assert "'Erna' reads as Ema, already in the program (drawn alike" in out, out
    assert "rn and m" in out, out
    assert "inhouse-invite:" in cli("person", "invite", "Erna Berg", "--team", "support")
