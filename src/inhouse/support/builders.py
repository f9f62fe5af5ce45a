"""Who built a component, from the log: the rule ``ticket-resolved-without-builder`` uses.

The rule itself is :func:`inhouse.program.playchecks._shared.builders_of` (a check may
not import a play package, so the rule lives beside the checks and this module reads it): the
signers of the facts that made the component, over the facts that count, never a name typed
into a ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inhouse.program.counting import build_context
from inhouse.program.playchecks._shared import builders_of as _builders_of

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["RULES", "builders_of"]

#: how each component kind's builders are found, for a person reading a ticket or the docs
RULES: dict[str, str] = {
    "baseline": "signed a baseline.lock or a baseline.install_script",
    "gateway": "owned play 1, 2 or 3, signed a baseline.lock, or enrolled the gateway's "
    "service key (the lead who runs it)",
    "workflow": "signed a workflow.spec of the workflow (published a version)",
    "prompt": "signed a prompt.version of the prompt (wrote a version)",
    "model": "signed a baseline.lock that pins the model",
}


def builders_of(program: Program, component: str) -> list[str]:
    """The builders of ``component`` now, by name (sorted)."""
    context = build_context(program.state(), program.clock())
    return sorted(_builders_of(context, component))
