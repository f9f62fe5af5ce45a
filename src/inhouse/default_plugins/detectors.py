"""The built-in data detectors: e-mail, phone, card, IBAN, national IDs and secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inhouse.hookspecs import hookimpl

if TYPE_CHECKING:
    from inhouse.policy.detectors import Detector


@hookimpl
def inhouse_detectors() -> tuple[Detector, ...]:
    from inhouse.policy.builtin import BUILTIN_DETECTORS

    return BUILTIN_DETECTORS
