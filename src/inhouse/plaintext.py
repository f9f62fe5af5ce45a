"""Text a person types that inhouse records and later prints (a ticket's title, a comment, a
price's source): plain text only. A control character in it would act on the terminal of
whoever lists it later (an escape sequence repaints the screen, a bell rings), and a line break
in a one-line field splits the table that shows it.

    check_plain(title, what="the title", one_line=True)
"""

from __future__ import annotations

import unicodedata

from inhouse.errors import InvalidInput

__all__ = ["check_plain"]

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
