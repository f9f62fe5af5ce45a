"""Text a person types that inhouse records and later prints (a ticket's title, a comment, a
price's source): plain text only. A control character in it would act on the terminal of
whoever lists it later (an escape sequence repaints the screen, a bell rings), and a line break
in a one-line field splits the table that shows it.

    check_plain(title, what="the title", one_line=True)
"""

from __future__ import annotations

import unicodedata

from inhouse.errors import InvalidInput

__all__ = ["check_plain", "reading"]

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


#: letters of other scripts a reader takes for Latin ones (Cyrillic and Greek), each with the
#: Latin letter it reads as: a declaration table, written as escapes so that no editor shows two
#: names alike that are not
_LOOKALIKES = str.maketrans(
    "\u0410\u0412\u0415\u0405\u0406\u0408\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425"
    "\u0423\u04ae\u0430\u0435\u0455\u0456\u0458\u043a\u043e\u0440\u0441\u0443\u0445\u04bb"
    "\u0501\u051b\u051d\u04cf\u04af\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d"
    "\u039f\u03a1\u03a4\u03a5\u03a7\u03bf\u03b9\u03ba\u03bd\u03c1\u03c5\u03c7\u03b1",
    "ABESIJKMHOPCTXYYaesijkopcyxhdqwlyABEZHIKMNOPTYXoikvpuxa",
)


def reading(text: str) -> str:
    """How ``text`` (a name, a team) reads to a person: its compatibility forms folded (NFKC:
    fullwidth letters are letters), invisible characters dropped (a zero-width space, a
    direction mark), a Cyrillic or Greek letter that looks Latin read as that Latin letter, case
    folded and spaces collapsed. Two texts that read alike are one to whoever reads them."""
    folded = unicodedata.normalize("NFKC", text)
    shown = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return " ".join(shown.translate(_LOOKALIKES).casefold().split())
