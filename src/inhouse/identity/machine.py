"""A machine's fingerprint: which computer a key was enrolled on, or a verify ran on.

It is the SHA-256 (first 16 hex digits) of the hostname, OS, architecture and the OS's machine
id. It is self-reported, like everything a client says about itself: it tells apart the cheap
forgery (one person, one laptop, two keys), not a person who owns two computers.
"""

from __future__ import annotations

import hashlib
import platform
import socket
from pathlib import Path

__all__ = ["machine_fingerprint"]

_MACHINE_ID = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


def machine_fingerprint() -> str:
    machine_id = ""
    for path in _MACHINE_ID:
        try:
            machine_id = path.read_text().strip()
            break
        except OSError:
            continue
    material = "|".join((socket.gethostname(), platform.system(), platform.machine(), machine_id))
    return hashlib.sha256(material.encode()).hexdigest()[:16]
