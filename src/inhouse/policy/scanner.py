"""The scanner: every detector's anchor joined into one RE2 pattern, one pass over the text.

How a scan works:

1. The text is encoded to UTF-8 once, and RE2 searches it for the joined anchors of every
   detector (a DFA: linear time, no backtracking, whatever custom patterns a user writes).
2. At a candidate, only the detectors whose anchors can start with that byte (worked out once,
   from RE2's own ``possiblematchrange``) confirm; where more than a few share that byte (the
   digits), an anchored ``RE2::Set`` of all the anchors names, in one call, the detectors
   whose anchor matches right there. They confirm in registration order: their exact pattern
   at that spot, then their validator (Luhn, mod-97, …). The first that holds is a finding and
   the search goes on after it; if none holds, it goes on one character later, or after what
   a *suppressing* detector confirmed there (the number after *order*, which is no phone).
3. Byte offsets become character offsets (free for ASCII text).

**Disguised text.** The joined pattern also looks for the characters that can hide a value
from the detectors while a model still reads it (:data:`_DISGUISES`): invisible format
characters (zero-width spaces and joiners, soft hyphens, bidi controls, the BOM, tag
characters), full-width forms, mathematical alphanumerics, super- and subscript and circled
digits, and the decimal digits of other scripts. Only a text that has one is **normalised**
(:func:`_normalise`): each character to its NFKC form, other scripts' digits to ASCII digits,
invisible characters dropped; then it is scanned again. So a card number in full-width digits
or split by zero-width spaces is still a card number, and plain text pays nothing for it (the
DFA looks for these in the same pass). Findings are reported at their place in the text as
given, and the text itself is never changed: redaction replaces those spans, and a text
without findings goes on exactly as it came.

Why RE2 and not Python's ``re``: one alternation of all detectors in ``re`` tries every branch
at every position and ran at a few MB/s on the benchmark corpus; RE2 runs the same pass as a DFA
(numbers in ``docs/policy.md`` and ``benchmarks/scanner.py``). google-re2 ships wheels for the
platforms we support, so it is a plain dependency with no fallback.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

from inhouse.errors import ConfigError
from inhouse.policy.classes import CustomClass, custom_detectors, parse_custom_classes
from inhouse.policy.detectors import Detector, registered_detectors

__all__ = ["Match", "Scanner", "redact"]

# room for the joined DFA; RE2's default (8 MiB) makes big joined patterns fall back to the NFA
_MAX_MEM = 64 << 20
_UNANCHORED = re2._Anchor.UNANCHORED
#: more detectors than this sharing a candidate's first byte: ask RE2 which anchors match there
_FEW = 3
_ANCHOR_START = re2._Anchor.ANCHOR_START


#: invisible format characters that can split a value without showing: zero-width space,
#: joiners, marks and bidi controls, soft hyphen, word joiner and invisible operators, the BOM,
#: Mongolian vowel separator, interlinear annotation marks and the tag characters
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)

#: the characters that make a text worth normalising before it is scanned: the invisible ones,
#: full-width forms, mathematical alphanumerics, super/subscript, circled and other scripts'
#: digits (Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali, Thai)
_DISGUISES = (
    _INVISIBLE.pattern[:-1] + "\uff01-\uff5e\U0001d400-\U0001d7ff\u00b2\u00b3\u00b9\u2070-\u209f"
    "\u2460-\u24ff\u2776-\u2793\u0660-\u0669\u06f0-\u06f9\u0966-\u096f"
    "\u09e6-\u09ef\u0e50-\u0e59]"
)
_IS_DISGUISE = re.compile(_DISGUISES).match


def _normalise(text: str) -> tuple[str, list[int]]:
    """``text`` as the detectors should see it and, for each of its characters, the index of
    the character of ``text`` it came from (with one more entry: the end)."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char < "\x80":
            pieces.append(char)
            origin.append(index)
            continue
        if _INVISIBLE.match(char):
            continue
        form = unicodedata.normalize("NFKC", char)
        if char.isdecimal() and not form.isascii():
            form = str(unicodedata.decimal(char))
        pieces.append(form)
        origin.extend([index] * len(form))
    origin.append(len(text))
    return "".join(pieces), origin


@dataclass(frozen=True, slots=True)
class Match:
    """One finding: ``text[start:end]`` is data of ``data_class`` (character offsets)."""

    data_class: str
    start: int
    end: int
    text: str
    detector: str = ""


class _Found(Protocol):
    def span(self, group: int = 0, /) -> tuple[int, int]: ...
    def end(self, group: int = 0, /) -> int: ...


#: confirm(data, pos): the detector's exact pattern tried at a candidate's start (bytes)
_Confirm = Callable[[bytes, int], _Found | None]


class _RE2Found:
    """The little of :class:`re.Match` the scan loop uses, for an RE2 span."""

    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int) -> None:
        self._start, self._end = start, end

    def span(self, group: int = 0, /) -> tuple[int, int]:
        return self._start, self._end

    def end(self, group: int = 0, /) -> int:
        return self._end


def _python_confirm(pattern: str, name: str) -> tuple[_Confirm, tuple[int, ...]]:
    try:
        compiled = re.compile(pattern.encode("ascii"))
    except (re.error, UnicodeEncodeError) as err:
        raise ConfigError(f"detector {name!r}: confirm pattern does not compile: {err}") from None
    value_groups = tuple(
        index for group, index in sorted(compiled.groupindex.items()) if group.startswith("value")
    )
    return compiled.match, value_groups


def _re2_confirm(compiled: Any) -> _Confirm:
    regexp = compiled._regexp  # the C++ RE2 object: no per-call generator or Match wrapper

    def confirm(data: bytes, pos: int) -> _Found | None:
        start, end = regexp.Match(_ANCHOR_START, data, pos, len(data))[0]
        return None if start < 0 or end == start else _RE2Found(start, end)

    return confirm


def _first_bytes(compiled: Any) -> range:
    """The bytes a match of ``compiled`` can start with (a superset; all of them if unknown)."""
    try:
        low, high = compiled.possiblematchrange(1)
    except re2.error:
        return range(256)
    if not low or not high:
        return range(256)
    return range(low[0], high[0] + 1)


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_MEM
    return options


def _compile(pattern: str, where: str) -> Any:
    try:
        return re2.compile(pattern, _options())
    except re2.error as err:
        raise ConfigError(f"{where}: not a valid RE2 pattern ({err}): {pattern!r}") from None


class Scanner:
    """Finds data classes in text with one combined pass. Build once, use from any thread."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        if not detectors:
            raise ConfigError("a scanner needs at least one detector")
        self.detectors: tuple[Detector, ...] = tuple(detectors)
        names = [d.name for d in self.detectors]
        if len(set(names)) != len(names):
            raise ConfigError("detector names must be unique")
        self.data_classes: tuple[str, ...] = tuple(dict.fromkeys(d.data_class for d in detectors))
        confirms: list[_Confirm] = []
        value_groups: list[tuple[int, ...]] = []
        first_bytes: list[range] = []
        for detector in self.detectors:
            single = _compile(detector.anchor, f"detector {detector.name!r}")
            first_bytes.append(_first_bytes(single))
            if detector.confirm is None:
                confirms.append(_re2_confirm(single))
                value_groups.append(())
            else:
                confirm, groups = _python_confirm(detector.confirm, detector.name)
                confirms.append(confirm)
                value_groups.append(groups)
        # which anchors match at a candidate, in one C++ call: used where many detectors share
        # the candidate's first byte (digits), instead of trying each one's confirm in Python
        anchored = re2.Set.MatchSet(_options())
        for detector in self.detectors:
            anchored.Add(detector.anchor)
        anchored.Compile()
        self._anchored = anchored._set.Match
        joined = "|".join([*(f"(?:{d.anchor})" for d in self.detectors), _DISGUISES])
        self._search = _compile(joined, "the joined detector pattern")._regexp.Match
        self._confirms = tuple(confirms)
        self._value_groups = tuple(value_groups)
        self._validators = tuple(d.validate for d in self.detectors)
        self._suppressors = frozenset(i for i, d in enumerate(self.detectors) if d.suppress)
        # which detectors can start with a given byte: a candidate tries only those, in order
        self._by_first_byte = tuple(
            tuple(i for i, span in enumerate(first_bytes) if byte in span) for byte in range(256)
        )

    @classmethod
    def build(
        cls,
        custom: Mapping[str, CustomClass | Mapping[str, Any]] | None = None,
        *,
        detectors: Iterable[Detector] | None = None,
    ) -> Scanner:
        """A scanner over the registered detectors (or ``detectors``) plus the custom classes
        (the ``[policy.classes]`` table as a dict, validated here)."""
        chosen = list(registered_detectors() if detectors is None else detectors)
        return cls([*chosen, *custom_detectors(parse_custom_classes(custom))])

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Scanner:
        """A scanner for a program: built-ins plus ``[policy.classes]`` of ``inhouse.toml``."""
        policy = config.get("policy") or {}
        if not isinstance(policy, Mapping):
            raise ConfigError("policy: must be a table")
        return cls.build(policy.get("classes"))

    def scan(self, text: str) -> list[Match]:
        """Every finding in ``text``, in order, not overlapping; spans and texts are those of
        ``text`` as given, found in its normalised form where it needs one (see the module
        docstring)."""
        found = self._scan(text, disguises=True)
        if found is not None:
            return found
        seen, origin = _normalise(text)
        return [
            Match(m.data_class, origin[m.start], origin[m.end - 1] + 1,
                  text[origin[m.start]:origin[m.end - 1] + 1], m.detector)
            for m in self._scan(seen, disguises=False) or []
        ]  # fmt: skip

    def _scan(self, text: str, *, disguises: bool) -> list[Match] | None:
        """The findings; None, with ``disguises``, as soon as a character that needs
        normalising turns up."""
        data = text.encode("utf-8", "surrogatepass")
        size = len(data)
        search = self._search
        by_first_byte = self._by_first_byte
        confirms = self._confirms
        value_groups = self._value_groups
        validators = self._validators
        suppressors = self._suppressors
        anchored = self._anchored
        view = memoryview(data)
        found: list[tuple[int, int, int]] = []  # (detector index, byte start, byte end)
        pos = 0
        while pos < size:
            start = search(_UNANCHORED, data, pos, size)[0][0]
            if start < 0:
                break
            if data[start] >= 0x80 and _IS_DISGUISE(
                data[start : start + 4].decode("utf-8", "ignore")
            ):
                if disguises:
                    return None  # scanned again, normalised
                pos = start + 1
                while pos < size and data[pos] & 0xC0 == 0x80:
                    pos += 1
                continue
            pos = start + 1
            tried: Sequence[int] = by_first_byte[data[start]]
            if len(tried) > _FEW:
                tried = sorted(anchored(view[start:]) or ())
            for index in tried:
                hit = confirms[index](data, start)
                if hit is None:
                    continue
                value_start, value_end = hit.span()
                for group in value_groups[index]:
                    value_start, value_end = hit.span(group)
                    if value_start >= 0:
                        break
                check = validators[index]
                if check is None or check(
                    data[value_start:value_end].decode("utf-8", "surrogatepass")
                ):
                    end = hit.end()
                    if end > pos:  # go on after the finding, or what a suppressor confirmed
                        pos = end
                    if index in suppressors:  # looks like data, is not: keep trying
                        continue
                    found.append((index, value_start, value_end))
                    break
            while pos < size and data[pos] & 0xC0 == 0x80:  # never inside a character
                pos += 1
        return self._matches(text, data, found)

    def _matches(self, text: str, data: bytes, found: list[tuple[int, int, int]]) -> list[Match]:
        detectors = self.detectors
        if len(data) == len(text):  # ASCII: byte offsets are character offsets
            return [
                Match(detectors[i].data_class, s, e, text[s:e], detectors[i].name)
                for i, s, e in found
            ]
        matches: list[Match] = []
        byte_at = char_at = 0  # byte offsets become character offsets by decoding the gaps
        for index, start, end in found:
            s = char_at + len(data[byte_at:start].decode("utf-8", "surrogatepass"))
            char_at = e = s + len(data[start:end].decode("utf-8", "surrogatepass"))
            byte_at = end
            matches.append(
                Match(detectors[index].data_class, s, e, text[s:e], detectors[index].name)
            )
        return matches

    def classes(self, text: str) -> set[str]:
        """The data classes present in ``text``."""
        return {match.data_class for match in self.scan(text)}


def redact(text: str, matches: Iterable[Match]) -> str:
    """``text`` with each match replaced by ``[REDACTED:<class>]`` (overlaps merged)."""
    pieces: list[str] = []
    at = 0
    for match in sorted(matches, key=lambda m: (m.start, -m.end)):
        if match.end <= at:
            continue
        start = max(match.start, at)
        pieces.append(text[at:start])
        pieces.append(f"[REDACTED:{match.data_class}]")
        at = match.end
    pieces.append(text[at:])
    return "".join(pieces)
