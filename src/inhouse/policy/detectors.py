"""The detector registry: every way the scanner knows to find a data class.

Declared once, here. A :class:`Detector` names its data class and gives the scanner three
things:

``anchor``
    an RE2-syntax regex that finds *candidates*. The anchors of every detector are joined into
    one pattern and the text is searched once; an anchor must match wherever the detector can
    find something (a superset), and should be tight, because every candidate costs a little
    Python.
``confirm``
    a Python :mod:`re` pattern (ASCII; matched against UTF-8 bytes) tried at the candidate's
    start; it may use look-arounds. A group named ``value`` narrows what is reported and
    redacted (``api_key=`` stays, the key goes). Without ``confirm`` the anchor itself is the
    finding.
``validate``
    an optional check on the confirmed text (Luhn, mod-97, the 11-proof…).
``suppress``
    a detector of things that *look like* data but are not (the number after *order* or
    *SKU*, the dotted number after *version*): what it confirms is skipped, not reported, so
    the detectors after it do not take the order number for a phone number. Another detector
    that holds at the same place still wins (a custom class naming the word *order*).

Detectors come through the ``inhouse_detectors`` hook (:mod:`inhouse.hookspecs`): the
built-ins (:data:`inhouse.policy.builtin.BUILTIN_DETECTORS`, handed over by
:mod:`inhouse.default_plugins.detectors`) and every installed plugin's::

    [project.entry-points.inhouse]
    medical = "inhouse_medical"

    # inhouse_medical/__init__.py
    @hookimpl
    def inhouse_detectors():
        return DETECTORS

(An entry point in the older ``inhouse.detectors`` group that points at a :class:`Detector` or
a sequence of them still works.) :func:`register_detector` adds one in this process. A name
registered twice is refused with a :class:`~inhouse.errors.PluginError` naming both sources.

Detectors are tried in registration order where several could match at one place: built-ins
first (secrets, e-mail, IBAN, card, national IDs, phone), then plugins, then detectors
registered in this process, then custom classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inhouse.errors import ConfigError
from inhouse.plugins import Registry, contributed, generation

__all__ = [
    "BUILTIN_CLASSES",
    "ENTRY_POINT_GROUP",
    "Detector",
    "Validator",
    "known_classes",
    "register_detector",
    "registered_detectors",
    "unregister_detector",
]

#: the older per-area entry-point group, still read (see :mod:`inhouse.plugins`)
ENTRY_POINT_GROUP = "inhouse.detectors"

#: the data classes inhouse knows without configuration, in the order rules list them
BUILTIN_CLASSES: tuple[str, ...] = (
    "email",
    "phone",
    "card",
    "iban",
    "national-id",
    "secret",
    "ip-address",
)

#: a check on a candidate's text: True keeps it
Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Detector:
    """One way of finding one data class (see the module docstring for the three parts)."""

    name: str
    data_class: str
    anchor: str
    confirm: str | None = None
    validate: Validator | None = None
    description: str = ""
    suppress: bool = False


#: detectors registered in this process, and the names among them that replace a plugin's
_registered: dict[str, Detector] = {}
_replacing: set[str] = set()
_IN_PROCESS = "register_detector() in this process"

_plugged: tuple[int, Registry[Detector]] | None = None


def _plugin_detectors() -> Registry[Detector]:
    """The plugins' detectors (built-ins first), read again when the installed plugins change."""
    global _plugged
    now = generation()
    if _plugged is not None and _plugged[0] == now:
        return _plugged[1]
    found: Registry[Detector] = Registry("data detector")
    for detector, source in contributed("inhouse_detectors", Detector):
        found.add(detector.name, detector, source=source)
    _plugged = (now, found)
    return found


def _all() -> Registry[Detector]:
    found = _plugin_detectors().copy()
    for name, detector in _registered.items():
        if name not in _replacing or name not in found:
            found.add(name, detector, source=_IN_PROCESS)
    return found


def register_detector(detector: Detector, *, replace: bool = False) -> None:
    """Add a detector to this process. A name registered already is refused, naming both
    sources; ``replace=True`` swaps one out on purpose (it keeps its place in the order)."""
    if replace:
        if detector.name in _plugin_detectors():
            _replacing.add(detector.name)
    else:
        _all().add(detector.name, detector, source=_IN_PROCESS)
    _registered[detector.name] = detector


def unregister_detector(name: str) -> None:
    """Remove a detector registered in this process (a built-in cannot be removed)."""
    from inhouse.policy.builtin import BUILTIN_DETECTORS

    if any(detector.name == name for detector in BUILTIN_DETECTORS):
        raise ConfigError(f"{name!r} is a built-in detector and cannot be removed")
    _registered.pop(name, None)
    _replacing.discard(name)


def registered_detectors() -> list[Detector]:
    """Every registered detector, built-ins first, in the order they are tried."""
    return [_registered.get(name, detector) for name, detector in _all().items()]


def known_classes() -> list[str]:
    """The data classes the registered detectors find (custom classes come on top)."""
    found = list(BUILTIN_CLASSES)
    for detector in registered_detectors():
        if detector.data_class not in found:
            found.append(detector.data_class)
    return found
