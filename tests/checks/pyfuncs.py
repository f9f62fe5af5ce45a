"""Check functions the ``python`` check tests call by dotted path."""

from __future__ import annotations

from typing import Any


def mentions_tea(output: str, context: dict[str, Any]) -> bool:
    return "tea" in output


def vowel_share(output: str, context: dict[str, Any]) -> float:
    letters = [c for c in output.lower() if c.isalpha()]
    return sum(c in "aeiou" for c in letters) / len(letters) if letters else 0.0


def graded(output: str, context: dict[str, Any]) -> dict[str, Any]:
    wanted = str(context["vars"]["word"])
    found = wanted in output
    return {"pass": found, "score": 1.0 if found else 0.2, "reason": f"looked for {wanted}"}


async def slow_yes(output: str, context: dict[str, Any]) -> bool:
    return True


def explodes(output: str, context: dict[str, Any]) -> bool:
    raise RuntimeError("boom")


def says_maybe(output: str, context: dict[str, Any]) -> str:
    return "maybe"


def out_of_range(output: str, context: dict[str, Any]) -> float:
    return 7.0


NOT_CALLABLE = 3


def quick_and_said(output: str, context: dict[str, Any]) -> bool:
    """A quality check that is a speed bound by another name: an answer of over a minute fails
    whatever it says (a manual process's minutes always do)."""
    return bool(output.strip()) and float(context["latency_ms"] or 0) < 60_000


def said(output: str, context: dict[str, Any]) -> bool:
    """A quality check that reads neither time nor cost."""
    return bool(output.strip())


_SEEN: set[str] = set()


def first_seen(output: str, context: dict[str, Any]) -> bool:
    """A check that tells the sides of a trial apart by the order it is asked in: it passes the
    first answer it is asked about for an input (the candidate's, were the candidate's answers
    judged first) and fails every later one, whatever they say."""
    key = repr(sorted(context["vars"].items()))
    first = key not in _SEEN
    _SEEN.add(key)
    return first


def whole_or_none(output: str, context: dict[str, Any]) -> bool:
    """Passes the stand-in upstream's answer only whole (its last token, ``tok39``, in it), and
    any answer that is not the stand-in's."""
    return "tok" not in output or "tok39" in output


def whole(output: str, context: dict[str, Any]) -> bool:
    """Passes only the stand-in upstream's whole answer: no other answer at all."""
    return "tok39" in output


def wanted(output: str, context: dict[str, Any]) -> bool:
    """Passes where the input's own ``want`` regular expression is found in the answer."""
    import re

    return re.search(str(context["vars"]["want"]), output) is not None
