"""The playbook engine: playbooks, facts, checks, the event log, guards, handoffs and waivers.

The public API is :class:`Program`; everything else is reachable from its submodules.
"""

from inhouse.program.engine import Program
from inhouse.program.facts import Provenance
from inhouse.program.playbook import Reach, Role

__all__ = ["Program", "Provenance", "Reach", "Role"]
