"""A key's series of reruns of one spec, and the gaps a colleague's pool shows in it (exit rule
23, :data:`~inhouse.program.checks.RERUN_SERIES`).

Play 2 judges a colleague's reruns of one spec and weights together, so that asking for another
draw adds data, not a second chance. A rerun made in a checkout without the program's log
reaches the log only as the envelope someone hands ``inhouse evidence import``, and whoever
holds four of them could import only the one that held. So each rerun names, in the payload its
key signs, its place in that key's series for the spec (``place``: its number and the hash of
the key's rerun before it, :func:`rerun_hash`). A rerun whose predecessor is not in the log
shows a gap, which nobody but its signer's key could close by sealing another series:

    gaps = series_gaps(pool, logged)   # {fact id: the numbers missing below it}

The series is the key's: a new machine has a new key, and a new series. One whose series file
was lost (:mod:`inhouse.trials.series_file`) starts again at 1, a second series beside the
first that shows no gap of its own. A rerun by the same key of another spec is in another
series. A rerun recorded before reruns named their place (``place`` None) is in none, and
pools as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from inhouse.program.events import canonical_json
from inhouse.program.facts import Fact

__all__ = ["rerun_hash", "series_gaps", "signer"]


def rerun_hash(payload: Mapping[str, Any]) -> str:
    """``sha256:`` and the hex digest of a rerun's payload as the log holds it (canonical
    JSON): what the next rerun of its key's series names as ``previous``. The payload, not an
    envelope's digest: a rerun recorded straight into the log has no envelope, and the payload
    is what its key signed either way."""
    return "sha256:" + hashlib.sha256(canonical_json(dict(payload)).encode("utf-8")).hexdigest()


def signer(fact: Fact) -> str:
    """Whose series ``fact`` is in: the key that signed it (a fact built by hand, without
    one, its person's)."""
    return fact.key or f"person:{fact.by}"


def series_gaps(pool: Iterable[Fact], logged: Iterable[Fact]) -> dict[int, tuple[int, ...]]:
    """The reruns of ``pool`` (one colleague's, of one spec) whose series the log does not
    hold whole, each with the numbers missing below it: following each one's ``previous``
    back to its series' first rerun through ``logged`` (every rerun in the log, counted or
    not: one the check sets aside is not hidden), a link not there is a gap. The numbers
    named are those below the break that no rerun of the key's series in the log carries
    (or the break's own, where another series of the key carries it)."""
    groups: dict[tuple[str, str], list[Fact]] = {}
    for fact in logged:
        if fact.payload.get("place"):
            groups.setdefault((signer(fact), str(fact.payload["spec_hash"])), []).append(fact)
    gaps: dict[int, tuple[int, ...]] = {}
    for fact in pool:
        if not fact.payload.get("place"):
            continue
        series = groups.get((signer(fact), str(fact.payload["spec_hash"])), [fact])
        by_hash = {rerun_hash(f.payload): f for f in series}
        numbers = {int(f.payload["place"]["number"]) for f in series}
        current, seen = fact, {fact.id}
        while (number := int(current.payload["place"]["number"])) > 1:
            before = by_hash.get(str(current.payload["place"]["previous"]))
            if (
                before is None
                or before.id in seen
                or int(before.payload["place"]["number"]) != number - 1
            ):
                missing = [n for n in range(1, number) if n not in numbers] or [number - 1]
                gaps[fact.id] = tuple(missing)
                break
            current = before
            seen.add(before.id)
    return gaps
