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

The built-in detectors (:data:`inhouse.policy.builtin.BUILTIN_DETECTORS`) register through the
same :func:`register_detector` a plugin uses; an installed package adds detectors with an entry
point in the ``inhouse.detectors`` group that points at a :class:`Detector` or a sequence of
them::

    [project.entry-points."inhouse.detectors"]
    medical = "inhouse_medical:DETECTORS"

Detectors are tried in registration order where several could match at one place: built-ins
first (secrets, e-mail, IBAN, card, national IDs, phone), then plugins, then custom classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from inhouse.errors import ConfigError

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

ENTRY_POINT_GROUP = "inhouse.detectors"

#: the data classes inhouse knows without configuration, in the order rules list them
BUILTIN_CLASSES: tuple[str, ...] = ("email", "phone", "card", "iban", "national-id", "secret")

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


_registered: dict[str, Detector] = {}
_builtins_registered = False
_entry_points_loaded = False


def _ensure_builtins() -> None:
    """Register the built-ins first (so they are tried first), through the public seam."""
    global _builtins_registered
    if _builtins_registered:
        return
    _builtins_registered = True
    from inhouse.policy.builtin import BUILTIN_DETECTORS

    for detector in BUILTIN_DETECTORS:
        register_detector(detector)


def register_detector(detector: Detector, *, replace: bool = False) -> None:
    """Add a detector to this process. Names are unique; ``replace=True`` swaps one out."""
    _ensure_builtins()
    if detector.name in _registered and not replace:
        raise ConfigError(f"a detector named {detector.name!r} is already registered")
    _registered[detector.name] = detector


def unregister_detector(name: str) -> None:
    """Remove a detector registered in this process (a built-in cannot be removed)."""
    from inhouse.policy.builtin import BUILTIN_DETECTORS

    if any(detector.name == name for detector in BUILTIN_DETECTORS):
        raise ConfigError(f"{name!r} is a built-in detector and cannot be removed")
    _registered.pop(name, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        loaded = point.load()
        found: Iterable[object] = loaded if isinstance(loaded, list | tuple) else (loaded,)
        for detector in found:
            if not isinstance(detector, Detector):
                raise ConfigError(
                    f"entry point {point.name} = {point.value!r} in {ENTRY_POINT_GROUP!r} "
                    f"gave {type(detector).__name__}, not a Detector"
                )
            register_detector(detector)


def registered_detectors() -> list[Detector]:
    """Every registered detector, built-ins first, in the order they are tried."""
    _ensure_builtins()
    _load_entry_points()
    return list(_registered.values())


def known_classes() -> list[str]:
    """The data classes the registered detectors find (custom classes come on top)."""
    found = list(BUILTIN_CLASSES)
    for detector in registered_detectors():
        if detector.data_class not in found:
            found.append(detector.data_class)
    return found
