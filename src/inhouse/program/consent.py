"""A person's yes before their key signs their word on someone else's work or record (a
handoff accepted, a ticket's steps, a fix, a queue or a champion's part taken on).

A command hands the play package an :data:`Agree`: shown the lines the event signs, it answers
yes, no, or None where no answer came (no terminal, the input ended). :func:`require_yes`
records nothing on anything but a yes; the Python API's callers pass none (their own word).
"""

from __future__ import annotations

from collections.abc import Callable

from inhouse.errors import NotAllowed

__all__ = ["Agree", "require_yes"]

#: what a command asks a person before their key signs: shown the lines it signs for, it
#: answers yes, no, or None where no answer came (no terminal, the input ended)
Agree = Callable[[list[str]], bool | None]


def require_yes(
    agree: Agree | None,
    lines: list[str],
    *,
    person: str,
    command: str,
    not_done: str,
    declined: str,
) -> None:
    """Nothing is signed unless ``agree``, shown ``lines``, says yes (None: the caller's own
    word, the Python API). Refused otherwise, ``not_done`` ("not accepted") first, then how to
    answer (``command``, run in a terminal) or, on a no, ``declined``."""
    if agree is None:
        return
    answer = agree(lines)
    if answer is None:
        raise NotAllowed(
            f"{not_done}, nothing recorded for {person}: the question got no answer (no "
            f"terminal to ask on, or the input ended): run `{command}` yourself in a terminal, "
            "read what it shows, and answer y only if it is so (no flag answers for you)"
        )
    if not answer:
        raise NotAllowed(f"{not_done}, nothing recorded for {person}: {declined}")
