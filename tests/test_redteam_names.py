"""Red team: a person's name that reads as another's.

Every check tells people apart by key, but a reader tells them apart by name: `status`, the
reports, a handoff's prompt, `sign-in list` and `web approve` say *who* verified, ran or
accepted by the name a lead typed when inviting them. Where a hole is left open (a provider the
lead runs, a colleague's account lent once), "the record is where to look" — and lena, who
invites everyone, could make the record lie to whoever looks: her alias invited as "omar" with
a Cyrillic o shows on every page as omar, the colleague whose verify the program is waiting
for ("Omar", or fullwidth letters, nearly so; the terminal escapes an invisible character, but
a page in a browser need not). `person invite` refused only control
characters and outer spaces. It now refuses invisible characters, Latin letters mixed with
Cyrillic or Greek ones, and a name that reads (case and compatibility forms folded) as someone's
already in the program. Names already in a log stay as they are: the rule is the invitation's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.program import Program
from tests.clitools import cli

#: a Persian name written with a zero-width non-joiner, as Persian writes it
PERSIAN = "\u0645\u06cc\u200c\u0646\u0627"


@pytest.fixture
def lena(_isolated: Path) -> Program:
    cli("init", "Acme", "--lead", "lena", "--team", "platform")
    cli("person", "invite", "omar", "--team", "support")
    return Program.open(_isolated)


@pytest.mark.parametrize(
    ("alias", "why"),
    [
        ("omar\u200b", "invisible characters"),  # a zero-width space after "omar"
        ("\u202eramo", "invisible characters"),  # a right-to-left override: shows as "omar"
        ("\u043emar", "mix Latin letters with Cyrillic ones"),  # a Cyrillic o
        ("Omar", "reads as omar, already in the program"),
        ("\uff4f\uff4d\uff41\uff52", "reads as omar, already in the program"),  # fullwidth letters
        # (review B) what shows as nothing beyond format characters, and more lookalike scripts
        ("o\u034fmar", "invisible characters"),  # a combining grapheme joiner
        ("omar\ufe0f", "invisible characters"),  # a variation selector after a letter
        ("omar\u3164", "invisible characters"),  # a Hangul filler
        ("\u0585mar", "mix Latin letters with Armenian ones"),  # an Armenian oh
        ("om\u13aar", "mix Latin letters with Cherokee ones"),  # a Cherokee letter drawn as A
        ("\u043e-mar", "mix Latin letters with Cyrillic ones"),  # one word, a hyphen inside
    ],
)
def test_an_alias_that_reads_as_a_colleague_is_not_invited(
    lena: Program, alias: str, why: str
) -> None:
    """lena invites her alias under a name every page shows as omar's: refused, naming why."""
    out = cli("person", "invite", alias, "--team", "support", code=2)
    assert why in " ".join(out.split()), out
    assert alias not in lena.state().people


def test_names_that_only_look_foreign_to_a_check_are_still_invited(lena: Program) -> None:
    """The honest names stay: accents, another script whole, a Persian joiner, a namesake told
    apart by an initial."""
    for name in ("José", "Иван", "Ελένη", PERSIAN, "omar b", "omar.k"):
        assert "inhouse-invite:" in cli("person", "invite", name), name
    assert {"José", "Иван", "Ελένη", PERSIAN, "omar b", "omar.k"} <= set(lena.state().people)
