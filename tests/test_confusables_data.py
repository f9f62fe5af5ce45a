"""`reading` held to Unicode's own confusables data (UTS #39, ``confusables.txt``).

`reading` folds letters drawn as Latin ones by a table written by hand, and the hand missed
whole scripts: no Cherokee letter was in it (Cherokee capitals are drawn as Latin capitals:
"\u13b7\u13aa\u13a1\u13e6" shows as MARK), nor a Cyrillic ghe drawn as r, a Greek gamma as y,
an Armenian tiwn as s, Coptic's mi and ni, Lisu's pha, a Latin thorn as p. Each alias spelt so
in one script (no mix for the script check) was invited beside the colleague it shows as, and a
team so spelt counted apart for play 4's spread.

No package on PyPI computes UTS #39's skeleton the way a name wants it: ICU's SpoofChecker
(PyICU) has no wheels, and builds against a system ICU; ``confusable_homoglyphs`` tells
whether one text mixes scripts, not whether two read alike; ``confusables`` (last release
2021, Unicode 13) expands its own table; and the skeleton folds no case ("OMAR" and "omar"
are two skeletons) and draws a capital I as a small l ("Ian" and "Lan" one), which
`drawn_reading` already answers its own way. So the table stays, and this test reads Unicode's
file (an excerpt of version 17, ``tests/fixtures/confusables-excerpt.txt``): every letter of
Greek, Cyrillic, Armenian, Cherokee, Lisu, Coptic, Latin, the mathematical alphanumerics and
the fullwidth forms that Unicode draws as one plain Latin letter reads as it (or is drawn as
it), save the few listed below with why.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import pytest

from inhouse.plaintext import (
    _CONFUSABLE_LATIN,
    _CONFUSABLE_LETTERS,
    _WIDER_LOOKALIKES,
    drawn_reading,
    read_alike,
    reading,
)
from inhouse.program import Program
from inhouse.program.checks import CONFUSABLE_READING, LOOKALIKE_READING, Outcome, evaluate
from tests.clitools import cli
from tests.test_exit_scope import LIMITS, context
from tests.test_redteam_names import lena  # noqa: F401
from tests.test_redteam_teams import _pilot

DATA = Path(__file__).parent / "fixtures" / "confusables-excerpt.txt"

#: letters Unicode draws as a Latin letter that `reading` reads otherwise, and why: reading
#: folds case, so a letter reads as one Latin letter with its capital
LEFT_AS_THEY_READ = {
    "\u03bd": "a Greek nu is drawn as v, its capital as N: it reads n, as before",
    "\ua647": "a Cyrillic small iota is drawn as i, a Byelorussian-Ukrainian I as l, which the "
    "sixteenth rule reads as an i: read so, the iota would make the two one letter",
    "\u03c3": "a Greek sigma is drawn as o, its final form and its capital as no Latin letter",
    "\u0131": "a Turkish dotless i: its reader sees the missing dot (Isik and I\u015f\u0131k)",
    "\u017f": "a long s: NFKC folds it into an s, as Unicode's own identifiers do",
    "\u0269": "a Latin iota: Unicode draws it as an i, its capital as an l",
    "\u03f2": "a lunate sigma: NFKC folds it into a (final) sigma",
    "\u03f9": "a capital lunate sigma: NFKC folds it into a capital sigma",
    "\u037a": "a Greek iota subscript: NFKC makes it a mark under the letter before",
}


def _rows() -> list[tuple[str, str]]:
    """(letter, what Unicode draws it as) for each line of the excerpt whose source is one
    letter Python's Unicode knows."""
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target = (part.strip() for part in data.split(";")[:2])
        char = chr(int(source, 16))
        if unicodedata.name(char, "") and unicodedata.category(char).startswith("L"):
            rows.append((char, "".join(chr(int(code, 16)) for code in target.split())))
    return rows


def _as_latin(target: str) -> str | None:
    """The one plain Latin letter (case folded) ``target`` is, if it is one."""
    folded = unicodedata.normalize("NFKC", target).casefold()
    return folded if len(folded) == 1 and "a" <= folded <= "z" else None


def test_every_letter_unicode_draws_as_a_latin_one_reads_as_it() -> None:
    """Drawn as a Latin letter by Unicode, read as it: by `reading`, or by `drawn_reading`
    where that is how the project draws it (a Greek capital iota as the bar of an I and an l,
    a mathematical zero as an O)."""
    head = DATA.read_text(encoding="utf-8").splitlines()[:9]
    assert "# Version: 17.0.0" in head and len(_rows()) > 1500  # Unicode's file, not an empty one
    wrong = [
        f"U+{ord(char):04X} {unicodedata.name(char)} reads {reading(char)!r}, not {latin!r}"
        for char, target in _rows()
        if (latin := _as_latin(target)) is not None
        and char not in LEFT_AS_THEY_READ
        and unicodedata.normalize("NFKC", char) not in LEFT_AS_THEY_READ
        and not read_alike(char, latin)
    ]
    assert not wrong, "\n".join(wrong)


def test_every_letter_unicode_draws_as_a_barred_o_is_drawn_as_an_o() -> None:
    """Unicode draws a Cherokee na, a Greek theta and a Cyrillic barred O or fita as one
    letter, an O with a short stroke across it; `drawn_reading` draws that as an O."""
    barred = [
        char
        for char, target in _rows()
        if unicodedata.normalize("NFD", target).casefold() == "o\u0335"
    ]
    assert "\u13be" in barred and "\u0398" in barred, barred
    wrong = [f"U+{ord(c):04X} {unicodedata.name(c)}" for c in barred if drawn_reading(c) != "o"]
    assert not wrong, "\n".join(wrong)


def _drawn_as(char: str) -> str | None:
    """The plain Latin letter Unicode's confusables draw ``char`` as, that code point in the
    case written: its prototype where that is a Latin letter or one the project reads as a
    Latin letter (a small capital), or the letter the sixteenth rule reads a letter of the same
    prototype as (a Cyrillic kappa and a Cherokee tso are both drawn as a kra: k). A letter the
    file lists as no one's source is drawn as itself: Latin only where it is a prototype the
    sixteenth rule reads as Latin (a small capital R). None: drawn as no Latin letter."""
    drawings = dict(_rows())
    prototype = drawings.get(char)
    if prototype is None:
        if char not in set(drawings.values()):
            return None
        prototype = char
    folded = reading(prototype, confusables=False)
    if len(folded) == 1 and "a" <= folded <= "z":
        return folded
    alike = {
        latin
        for code, latin in _WIDER_LOOKALIKES.items()
        if drawings.get(chr(code)) == prototype and latin is not None
    }
    return alike.pop() if len(alike) == 1 else None


@pytest.mark.parametrize(
    ("letter", "latin"),
    list(zip(_CONFUSABLE_LETTERS, _CONFUSABLE_LATIN, strict=True)),
    ids=lambda c: f"U+{ord(c):04X}" if len(c) == 1 and not c.isascii() else c,
)
def test_a_letter_reads_as_the_latin_letter_unicode_draws_that_code_point_as(
    letter: str, latin: str
) -> None:
    """Each code point as Unicode draws it in the case written, its other case only where
    Unicode draws that as the same letter: a small Cyrillic ghe is an r and its capital (drawn
    as a gamma) is not, a Cherokee capital is a Latin capital."""
    assert _drawn_as(letter) == latin, f"U+{ord(letter):04X} is not drawn as {latin}"
    assert reading(letter) == latin
    for form in {letter.upper(), letter.lower()} - {letter}:
        if len(form) == 1 and ord(form) not in _WIDER_LOOKALIKES:
            drawn = _drawn_as(form) == latin
            assert (reading(form) == latin) is drawn, f"U+{ord(form):04X} reads {reading(form)}"


#: scripts whose letters spell names that stand for themselves (Latin's own variant letters and
#: the mathematical alphanumerics spell no honest name beside another)
NAMED_SCRIPTS = ("ARMENIAN", "CHEROKEE", "COPTIC", "CYRILLIC", "GREEK", "LISU")


def _script_letters() -> dict[str, set[str]]:
    """Every letter of :data:`NAMED_SCRIPTS` the file names or :func:`reading` folds, with its
    other case, by script."""
    letters = (
        {char for char, _ in _rows()}
        | {chr(code) for code in _WIDER_LOOKALIKES}
        | set(_CONFUSABLE_LETTERS)
    )
    letters |= {f for c in set(letters) for f in (c.upper(), c.lower()) if len(f) == 1}
    scripts: dict[str, set[str]] = {}
    for char in letters:
        script = unicodedata.name(char, "").split(" ", 1)[0]
        if script in NAMED_SCRIPTS:
            scripts.setdefault(script, set()).add(char)
    return scripts


def test_two_letters_of_one_script_read_alike_only_where_unicode_draws_them_alike() -> None:
    """Two letters of one script that are two letters in it (not a letter and its capital)
    read alike only where Unicode draws them as one Latin letter, or where the sixteenth rule
    read them alike (kept): a Greek gamma (y) and an upsilon (u), an Armenian capital gim and
    za (no Latin letter: Gohar and Zohar), a Cyrillic soft sign (a tone six) and a ve (a small
    capital B) read apart."""
    scripts = _script_letters()
    assert {"\u03b3", "\u03c5", "\u0533", "\u0536", "\u044c", "\u0432"} <= set().union(
        *scripts.values()
    )
    wrong = [
        f"U+{ord(one):04X} {unicodedata.name(one)} and U+{ord(two):04X} {unicodedata.name(two)}"
        f" both read {reading(one)!r}"
        for letters in scripts.values()
        for one, two in combinations(sorted(letters), 2)
        if reading(one) == reading(two)
        and one.casefold() != two.casefold()
        and unicodedata.normalize("NFKC", one) != unicodedata.normalize("NFKC", two)
        and reading(one, confusables=False) != reading(two, confusables=False)
        and not (_drawn_as(one) is not None and _drawn_as(one) == _drawn_as(two))
    ]
    assert not wrong, "\n".join(wrong)


def test_what_the_sixteenth_rule_read_alike_still_reads_alike() -> None:
    """Kept: every letter the sixteenth rule folded, and its capital, still reads alike with
    its Latin letter (an upsilon a y, an Armenian capital za a q), even where :func:`reading`
    now reads it as Unicode draws it."""
    wrong = [
        f"U+{code:04X} {unicodedata.name(chr(code))}"
        for code, latin in _WIDER_LOOKALIKES.items()
        if latin is not None and not read_alike(chr(code), latin)
    ]
    assert not wrong, "\n".join(wrong)


#: a colleague, and their name spelt whole in one script's letters Unicode draws as theirs
ALIASES = [
    ("mark", "\u13b7\u13aa\u13a1\u13e6"),  # Cherokee capitals: MARK
    ("mark", "\uab87\uab7a\uab71\uabb6"),  # the same in Cherokee small letters
    ("Wes", "\u0448\u0435\u0455"),  # Cyrillic: a small sha as w
    ("Yoko", "\u03b3\u03bf\u03ba\u03bf"),  # Greek: a gamma as y
    ("Yoko", "\u03c5\u03bf\u03ba\u03bf"),  # and an upsilon, as the sixteenth rule read it
    ("Bob", "\u0412\u043e\u042c"),  # Cyrillic: a ve as B, a capital soft sign as b
    ("Won", "\u0561\u0585\u057c"),  # Armenian: a small ayb as w, a small ra as n
    ("Mona", "\u2c99\u2c9f\u2c9b\u2c81"),  # Coptic: mi and ni
    ("Dave", "\ua4d2\ua4ee\ua4e6\ua4f0"),  # Lisu: a pha as D
    ("Pete", "\u00feete"),  # Latin: a thorn as p
]


@pytest.mark.parametrize(("colleague", "alias"), ALIASES)
def test_an_alias_in_letters_unicode_draws_as_a_colleagues_is_not_invited(
    lena: Program,  # noqa: F811
    colleague: str,
    alias: str,
) -> None:
    cli("person", "invite", colleague, "--team", "support")
    out = cli("person", "invite", alias, "--team", "support", code=2)
    assert f"reads as {colleague}, already in the program" in " ".join(out.split()), out
    assert alias not in lena.state().people


def test_a_theta_or_a_barred_o_beside_an_o_is_told_which_letters(
    lena: Program,  # noqa: F811
) -> None:
    """Latin's barred O (one script: no mix) is drawn as omar's o; the refusal says so."""
    out = " ".join(cli("person", "invite", "\u0275mar", "--team", "support", code=2).split())
    assert "reads as omar, already in the program (drawn alike" in out, out
    assert "an O with a stroke across it and an O" in out, out


def test_names_written_whole_in_cherokee_are_still_invited(
    lena: Program,  # noqa: F811
) -> None:
    """Cherokee names Unicode draws apart read apart: two people, each invited."""
    honest = (
        "\u13a0\u13cd\u13a9",
        "\u13a4\u13ec\u13a9",
        "\u13d3\u13c2\u13af",
        "\u13a7\u13c3\u13ae\u13cd",
    )
    for name in honest:
        assert "inhouse-invite:" in cli("person", "invite", name), name
    assert set(honest) <= set(lena.state().people)


#: one team, HR, as the lead's message spelt it to two members (Cherokee capitals), beside
#: ops and Cherokee's "OPS" (a na, drawn as an O with a bar, for its O)
TEAMS = ["HR", "\u13bb\u13a1", "hr", "\u13be\u13e2\u13da", "ops"]


def test_a_team_in_cherokee_capitals_is_one_team() -> None:
    assert reading("\u13bb\u13a1") == reading("HR")
    people, facts = _pilot(TEAMS)
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spans 2 teams" in result.reason, result.reason


@pytest.mark.parametrize(
    ("rules", "outcome"),
    [(CONFUSABLE_READING - 1, Outcome.PASS), (CONFUSABLE_READING, Outcome.FAIL)],
)
def test_an_exit_judged_before_rule_23_keeps_its_count(rules: int, outcome: Outcome) -> None:
    """Play 4 exited on these members under the rules before CONFUSABLE_READING: their teams
    count as they read then (three teams); an exit made under it reads two."""
    people, facts = _pilot(["HR", "\u13bb\u13a1", "hr", "\u13bb\u13a1", "ops"])
    exited = {"pilot": (facts[-1].at, facts[-1].id)}
    ctx = replace(context(facts, people, exited, **LIMITS), exit_rules={"pilot": rules})
    result = evaluate("pilot-size", ctx)
    assert result.outcome is outcome, result.reason


def test_an_exit_reads_its_rosters_teams_drawn_alike_as_one() -> None:
    people, facts = _pilot(["ops", "\u13be\u13e2\u13da", "OPS", "\u13be\u13e2\u13da", "HR"])
    exited = {"pilot": (facts[-1].at, facts[-1].id)}
    ctx = replace(
        context(facts, people, exited, **LIMITS), exit_rules={"pilot": CONFUSABLE_READING}
    )
    result = evaluate("pilot-size", ctx)
    assert result.outcome is Outcome.FAIL, result.reason


def test_an_exit_reads_its_rosters_small_l_as_an_i_since_rule_16() -> None:
    """The roster's "lT" (a small L) beside "IT" is one team for an exit judged since rule 16,
    as the members' word reads it; an exit judged before keeps the count it exited on."""
    people, facts = _pilot(["it", "lT", "IT", "lT", "HR"])  # "it" and "IT" read alike
    exited = {"pilot": (facts[-1].at, facts[-1].id)}
    since = replace(
        context(facts, people, exited, **LIMITS), exit_rules={"pilot": LOOKALIKE_READING}
    )
    result = evaluate("pilot-size", since)
    assert result.outcome is Outcome.FAIL, result.reason
    before = replace(since, exit_rules={"pilot": LOOKALIKE_READING - 1})
    kept = evaluate("pilot-size", before)
    assert kept.outcome is Outcome.PASS, kept.reason


#: colleagues whose honest names the merged rule 24 read as one (a capital read as its small
#: letter's Latin one: a Cyrillic ghe as r, an Armenian gim as q; an Armenian gim and za, a
#: Greek gamma and upsilon, as one letter), beside names that are not theirs
HONEST = [
    ("\u0533\u0578\u0570\u0561\u0580", "\u0536\u0578\u0570\u0561\u0580"),  # Gohar, Zohar
    ("\u0533\u0548\u0540\u0531\u0550", "\u0536\u0548\u0540\u0531\u0550"),  # in capitals
    ("Reha", "\u0413\u0435\u043d\u0430"),  # Reha (Turkish) and Gena (Russian)
    ("Rowa", "\u0413\u043e\u0448\u0430"),  # and Gosha: a capital ghe is no R
    ("Yianna", "\u0393\u03b9\u03b1\u03bd\u03bd\u03b1"),  # a capital gamma is no Y
    ("\u0391\u03c5\u03b3\u03b7", "\u0391\u03b3\u03b3\u03b7"),  # Greek: Avgi and Angi
    ("\u10dc\u10d8\u10dc\u10dd", "\u10dc\u10d0\u10dc\u10d0"),  # Georgian: Nino, Nana
    ("\u10d2\u10d8\u10dd", "\u10d2\u10d8\u10d0"),  # Gio, Gia
]


@pytest.mark.parametrize(("colleague", "name"), HONEST)
def test_honest_names_unicode_draws_apart_are_each_invited(
    lena: Program,  # noqa: F811
    colleague: str,
    name: str,
) -> None:
    assert not read_alike(colleague, name)
    cli("person", "invite", colleague, "--team", "support")
    assert "inhouse-invite:" in cli("person", "invite", name, "--team", "support"), name
    assert {colleague, name} <= set(lena.state().people)


def test_a_name_and_its_capitals_still_read_alike(
    lena: Program,  # noqa: F811
) -> None:
    """Kept from the sixteenth rule: a name and the same name in other case are one, though a
    capital gim is drawn apart from a small one (Gohar, and gohar typed small)."""
    cli("person", "invite", "\u0533\u0578\u0570\u0561\u0580", "--team", "support")
    for other in ("\u0563\u0578\u0570\u0561\u0580", "\u0533\u0548\u0540\u0531\u0550"):
        out = cli("person", "invite", other, "--team", "support", code=2)
        assert "already in the program" in out, out
        assert "drawn alike" not in out, out


def test_armenian_teams_gohar_and_zohar_are_two_teams() -> None:
    """Two teams Unicode draws apart count as two; a team and its capitals as one."""
    gohar, zohar = "\u0533\u0578\u0570\u0561\u0580", "\u0536\u0578\u0570\u0561\u0580"
    people, facts = _pilot([gohar, zohar, "\u0533\u0548\u0540\u0531\u0550", gohar, zohar])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert "spans 2 teams" in result.reason, result.reason


def test_a_greek_team_with_an_upsilon_is_still_one_with_its_latin_spelling() -> None:
    """Kept from the sixteenth rule: an upsilon for a y, though Unicode draws it as a u."""
    people, facts = _pilot(
        ["Yoko", "\u03c5\u03bf\u03ba\u03bf", "YOKO", "yoko", "\u03a5\u039f\u039a\u039f"]
    )
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert "spans 1 team" in result.reason, result.reason
