"""Text a person types that inhouse records and later prints (a ticket's title, a comment, a
price's source): plain text only. A control character in it would act on the terminal of
whoever lists it later (an escape sequence repaints the screen, a bell rings), and a line break
in a one-line field splits the table that shows it.

    check_plain(title, what="the title", one_line=True)
"""

from __future__ import annotations

import unicodedata

from inhouse.errors import InvalidInput

__all__ = ["check_plain", "check_words_one_script", "invisible", "reading"]

#: the control characters a text over several lines may hold: line breaks and tabs
_LAYOUT = frozenset("\n\r\t")


def check_plain(text: str, *, what: str, one_line: bool = False) -> str:
    """``text``, refused with :class:`InvalidInput` naming ``what`` if it holds a control
    character (for ``one_line`` text, line breaks and tabs too)."""
    allowed = frozenset() if one_line else _LAYOUT
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in text):
        also = "line breaks, tabs or " if one_line else ""
        raise InvalidInput(
            f"{what} holds a control character ({also}an escape sequence, a bell): "
            f"{text[:80]!r}; type it as plain text"
        )
    return text


#: letters of other scripts a reader takes for Latin ones (Cyrillic, Greek and Armenian, each
#: with its capital), with the Latin letter they read as: a declaration table, written as
#: escapes so that no editor shows two names alike that are not. A letter and its capital read
#: alike, so that reading keeps case folded (a Cyrillic capital en looks like H, and its small
#: letter is its)
_LOOKALIKE_LETTERS = (
    "\u0430\u0432\u0435\u0455\u0456\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0445"
    "\u0443\u04af\u04bb\u0501\u051b\u051d\u04cf\u03b1\u03b2\u03b5\u03b6\u03b7\u03b9\u03ba"
    "\u03bc\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u0585\u057d\u0570\u0578\u0581\u0566"
)
_LOOKALIKE_LATIN = "abesijkmhopctxyyhdqwlabezhikmnoptyxouhngq"
_LOOKALIKES = str.maketrans(
    {
        each: latin
        for letter, latin in zip(_LOOKALIKE_LETTERS, _LOOKALIKE_LATIN, strict=True)
        for each in (letter, letter.upper())
    }
)


#: characters that show as nothing (or a blank) that are not format characters (``Cf``): the
#: combining grapheme joiner, the Hangul fillers, Khmer's inherent vowels, Mongolian's
#: free variation selectors and the variation selectors (Unicode's default-ignorable code points
#: outside ``Cf``), and the braille blank. "ops" with one of them reads as "ops"
_BLANKS = frozenset(
    chr(c)
    for first, last in (
        (0x034F, 0x034F),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180D),
        (0x180F, 0x180F),
        (0x2800, 0x2800),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFFA0, 0xFFA0),
        (0xE0100, 0xE01EF),
    )
    for c in range(first, last + 1)
)


def invisible(char: str) -> bool:
    """Whether ``char`` shows as nothing a reader sees: a format character (a zero-width space,
    a direction mark) or one of :data:`_BLANKS` (a combining grapheme joiner, a variation
    selector, a Hangul filler)."""
    return unicodedata.category(char) == "Cf" or char in _BLANKS


#: scripts with letters a reader cannot tell from Latin ones (a Cyrillic o, a Greek capital
#: iota, an Armenian oh, a Cherokee letter that is drawn as a Latin capital)
_LOOKALIKE_SCRIPTS = frozenset({"ARMENIAN", "CHEROKEE", "CYRILLIC", "GREEK"})


def check_words_one_script(text: str, *, what: str) -> str:
    """``text`` where no word of it mixes Latin letters with lookalike ones
    (:func:`_lookalike_mix`: a name or team that reads as another's), else InvalidInput naming
    the scripts."""
    if mixed := _lookalike_mix(text):
        raise InvalidInput(
            f"{what} must not mix Latin letters with {' or '.join(mixed)} ones in a word, which "
            f"read the same: {text!r}; type each word in one script"
        )
    return text


def _lookalike_mix(text: str) -> list[str]:
    """The lookalike scripts (:data:`_LOOKALIKE_SCRIPTS`, title case) that a word of ``text``
    (what spaces part: "o-mar" is one word) mixes with Latin letters: "omar" with a Cyrillic o,
    not "Anna" beside its Cyrillic spelling. Empty: no word does."""
    mixed: set[str] = set()
    for word in unicodedata.normalize("NFKC", text).split():
        scripts = {unicodedata.name(c, "").split(" ", 1)[0] for c in word if c.isalpha()}
        if "LATIN" in scripts:
            mixed |= scripts & _LOOKALIKE_SCRIPTS
    return sorted(s.title() for s in mixed)


def reading(text: str) -> str:
    """How ``text`` (a name, a team) reads to a person: its compatibility forms folded (NFKC:
    fullwidth letters are letters), invisible characters dropped (:func:`invisible`: a
    zero-width space, a direction mark, a variation selector), a Cyrillic, Greek or Armenian
    letter that looks Latin read as that Latin letter, case folded and spaces collapsed. Two
    texts that read alike are one to whoever reads them."""
    folded = unicodedata.normalize("NFKC", text)
    shown = "".join(c for c in folded if not invisible(c))
    return " ".join(shown.translate(_LOOKALIKES).casefold().split())
