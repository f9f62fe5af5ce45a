"""What a runtime family needs from a machine, asked of its adapter before anything is opened.

Code that sets a runtime up (play 2's install script, ``BASELINE.md``, ``baseline verify``'s
fixes) asks here instead of testing family names, so a plugin family is set up the same way as
the built-ins: it declares ``capabilities`` on its adapter, or gets the defaults.
"""

from __future__ import annotations

from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.protocol import RuntimeCapabilities
from inhouse.runtimes.registry import load_adapter

__all__ = ["RuntimeCapabilities", "runtime_capabilities"]


def runtime_capabilities(runtime: RuntimeConfig | str) -> RuntimeCapabilities:
    """The capabilities the adapter of ``runtime`` (a config, or a family name) declares; the
    defaults (a server someone runs at its url) for an adapter that declares none."""
    family = runtime if isinstance(runtime, str) else runtime.family
    declared = getattr(load_adapter(family), "capabilities", None)
    return declared if isinstance(declared, RuntimeCapabilities) else RuntimeCapabilities()
