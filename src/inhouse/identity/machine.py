"""A machine's fingerprint: which computer a key was enrolled on, or a verify ran on.

It is the SHA-256 (first 16 hex digits) of the hostname, OS, architecture and the OS's machine
id (``/etc/machine-id``; ``INHOUSE_MACHINE_ID`` replaces it where cloned VM or container images
share one). It is self-reported, like everything a client says about itself: it catches the
cheap forgery (one person, one laptop, a second key) and flags it on ``status``; it cannot tell
a person who owns two computers from two people.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from pathlib import Path

__all__ = ["machine_fingerprint"]

_MACHINE_ID = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


def machine_fingerprint() -> str:
    machine_id = os.environ.get("INHOUSE_MACHINE_ID", "")
    for path in () if machine_id else _MACHINE_ID:
        try:
            machine_id = path.read_text().strip()
            break
        except OSError:
            continue
    material = "|".join((socket.gethostname(), platform.system(), platform.machine(), machine_id))
    return hashlib.sha256(material.encode()).hexdigest()[:16]
