"""A machine's fingerprint: which computer a key was enrolled on, or a verify ran on.

It is the SHA-256 (first 16 hex digits) of the hostname, OS, architecture and the OS's machine
id (``/etc/machine-id``). It is self-reported, like everything a client says about itself: it
catches the cheap forgery (one person, one laptop, a second key) and flags it on ``status``; it
cannot tell a person who owns two computers from two people.

``INHOUSE_MACHINE_ID`` replaces the machine id, for ``make demo``'s show of several people on
one computer. A fingerprint made with it says so, and names the machine it was really made
on: ``<fingerprint with the replacement>~<the machine's own fingerprint>``. Outside a demo
program the checks compare machines by the part after ``~`` (:func:`same_machine`), so one
environment variable does not turn one laptop into two. (Cloned images that share a machine id
usually differ in hostname, which is in the fingerprint; where both are the same, give each
clone its own machine id: ``systemd-machine-id-setup``.)
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from pathlib import Path

__all__ = ["machine_fingerprint", "real_machine", "same_machine"]

_MACHINE_ID = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))

#: between a fingerprint made with ``INHOUSE_MACHINE_ID`` and the machine's own
_REPLACED = "~"


def _fingerprint(machine_id: str) -> str:
    material = "|".join((socket.gethostname(), platform.system(), platform.machine(), machine_id))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _os_machine_id() -> str:
    for path in _MACHINE_ID:
        try:
            return path.read_text().strip()
        except OSError:
            continue
    return ""


def machine_fingerprint() -> str:
    """This machine's fingerprint; with ``INHOUSE_MACHINE_ID`` set, the one it names followed
    by ``~`` and this machine's own."""
    own = _fingerprint(_os_machine_id())
    replaced = os.environ.get("INHOUSE_MACHINE_ID", "")
    if not replaced:
        return own
    return f"{_fingerprint(replaced)}{_REPLACED}{own}"


def real_machine(fingerprint: str) -> str:
    """The machine a fingerprint was really made on (itself unless ``INHOUSE_MACHINE_ID``
    replaced the machine id)."""
    return fingerprint.rpartition(_REPLACED)[2]


def same_machine(one: str, other: str, *, demo: bool = False) -> bool:
    """Whether two fingerprints name the same machine: equal ones, and outside a ``demo``
    program also two made on one machine, whatever ``INHOUSE_MACHINE_ID`` said."""
    if one == other:
        return True
    return not demo and real_machine(one) == real_machine(other)
