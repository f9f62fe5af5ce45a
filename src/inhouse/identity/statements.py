"""What a delegation and an approval share: a statement of named string fields that a person's
own key signs, with a window in time (``issued`` to ``expires``).

:func:`utc_text` writes the window's times as both write them, :func:`signed_material` is the
exact bytes a key signs for a statement (a prefix naming what it is, then canonical JSON), and
:func:`read_statement` makes the checks both readers make before their own rules: the shape,
the fields (none missing, none unknown), the type, and times that parse with a zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["read_statement", "signed_material", "utc_text"]


def utc_text(moment: datetime) -> str:
    """``moment`` in UTC to the microsecond, as a statement carries its times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_material(prefix: bytes, statement: Mapping[str, Any]) -> bytes:
    """The bytes a key signs for ``statement``: ``prefix`` (what it is, and its version), a
    newline, and the statement as canonical JSON."""
    body = json.dumps(dict(statement), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return prefix + b"\n" + body.encode("utf-8")


def read_statement(
    data: Any, *, what: str, type_: str, fields: Sequence[str]
) -> tuple[Mapping[str, str], datetime, datetime]:
    """The statement ``data`` carries (``{statement, signature}``), with its ``issued`` and
    ``expires`` parsed; :class:`~inhouse.errors.IdentityError` naming the problem, ``what``
    naming the statement ("delegation", "approval")."""
    from inhouse.errors import IdentityError

    article = "an" if what[:1] in "aeiou" else "a"
    if not isinstance(data, Mapping) or not isinstance(data.get("statement"), Mapping):
        raise IdentityError(f"{article} {what} is {{statement, signature}}")
    statement = data["statement"]
    missing = [f for f in fields if not isinstance(statement.get(f), str)]
    if missing:
        raise IdentityError(f"the {what} lacks {', '.join(missing)}")
    extra = sorted(set(statement) - set(fields))
    if extra:
        raise IdentityError(f"the {what} carries unknown fields: {', '.join(extra)}")
    if statement["type"] != type_:
        raise IdentityError(f"not a session {what} (type {statement['type']!r})")
    try:
        issued = datetime.fromisoformat(statement["issued"])
        expires = datetime.fromisoformat(statement["expires"])
    except ValueError as err:
        raise IdentityError(f"the {what}'s times do not parse: {err}") from None
    if issued.tzinfo is None or expires.tzinfo is None:
        raise IdentityError(f"the {what}'s times must carry a zone")
    return statement, issued, expires
