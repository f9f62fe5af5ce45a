"""Collectors: the code paths allowed to record *measured* facts, and the kinds each may make.

A measured fact names its collector; the engine refuses a collector nobody registered, and a
collector recording a kind it did not declare. For a kind that has a collector, only facts that
collector made count in checks: an attestation of such a kind is shown, labelled, and leaves the
check inconclusive ("a person's word where inhouse measures this").

Built-ins are declared here, in :data:`BUILTIN_COLLECTORS`, and registered through the same seam
a third-party package uses (the ``inhouse_collectors`` hook in :mod:`inhouse.hookspecs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BUILTIN_COLLECTORS",
    "Collector",
    "collector_for",
    "collectors",
    "measured_kinds",
    "register_collectors",
]


@dataclass(frozen=True)
class Collector:
    """A registered source of measured facts."""

    name: str  # what a measured fact's ``collector`` field says, e.g. "inhouse prove"
    kinds: tuple[str, ...]  # the fact kinds it may record
    description: str = ""


BUILTIN_COLLECTORS: tuple[Collector, ...] = (
    Collector("inhouse prove", ("trial.verdict",), "play 1's head-to-head trial"),
    Collector(
        "inhouse prove --rerun",
        ("trial.rerun",),
        "a proven trial, rerun head to head by someone else from their own machine",
    ),
    Collector(
        "inhouse trust-python",
        ("code.trusted",),
        "a key about to run the Python check code another's spec names (--trust-python), "
        "signed by that key before the code runs",
    ),
    Collector("inhouse baseline lock", ("baseline.lock",), "pins runtime and model digests"),
    Collector(
        "inhouse baseline install-script",
        ("baseline.install_script",),
        "writes the install script for the current lock",
    ),
    Collector(
        "inhouse baseline verify",
        ("baseline.verify",),
        "checks a machine against the lock, signed by whoever ran it",
    ),
    Collector(
        "inhouse workflow validate", ("task.named",), "names play 3's recurring task from its spec"
    ),
    Collector(
        "inhouse workflow test",
        ("workflow.spec", "workflow.run"),
        "runs a workflow's tests; the first run of a version publishes it, its signer the author",
    ),
    Collector(
        "inhouse access",
        ("access.request",),
        "a person asks to get in, signed by that person (or their refused gateway call)",
    ),
    Collector(
        "inhouse gateway rollup",
        ("usage.daily",),
        "real use through the gateway, signed by the gateway's own service key",
    ),
    Collector(
        "inhouse pilot",
        ("pilot.member", "pilot.roster_team", "pilot.champion"),
        "play 4's roster, its teams as a lead corrects them, and champions, recorded by a "
        "rollout lead",
    ),
    Collector(
        "inhouse pilot enablement",
        ("enablement.step", "enablement.completed"),
        "a member's role track, each step met by measured evidence (or their own word)",
    ),
    Collector(
        "inhouse pilot team",
        ("pilot.team",),
        "the team a person says they work in, signed by that person",
    ),
    Collector(
        "inhouse prompts",
        ("prompt.shared", "prompt.version", "prompt.label"),
        "the shared prompt library; a version's signer is its author",
    ),
    Collector(
        "inhouse pilot adoption",
        ("pilot.adoption", "prompt.usage"),
        "who reaches the tool on their own, and library prompt use, from the gateway's usage log,"
        " signed by the gateway's own key",
    ),
    Collector(
        "inhouse survey",
        ("survey.opened", "survey.response"),
        "the 'would you miss it' survey: answers signed by the people who gave them, eligible "
        "by their own use",
    ),
    Collector(
        "inhouse support",
        (
            "support.queue",
            "ticket.opened",
            "ticket.assigned",
            "ticket.commented",
            "ticket.resolved",
            "ticket.reopened",
            "ticket.confirmed",
            "ticket.disputed",
            "ticket.fixed",
        ),
        "play 5's support queue: each step signed by whoever took it",
    ),
    Collector(
        "inhouse support import",
        (
            "ticket.opened",
            "ticket.assigned",
            "ticket.commented",
            "ticket.resolved",
            "ticket.reopened",
        ),
        "tickets kept in GitHub or Zammad, actors mapped to enrolled people by login or e-mail",
    ),
    Collector(
        "inhouse gateway vouch",
        ("service.vouched",),
        "someone other than the lead who enrolled the gateway's key: that key answers where they "
        "use the gateway",
    ),
    Collector(
        "inhouse support drift-review",
        ("drift.review",),
        "what every runtime node serves, compared with the lock",
    ),
    Collector(
        "inhouse review",
        ("review.scheduled", "review.held", "review.attended"),
        "the periodic review: its cadence, decisions, and each attendee's own confirmation",
    ),
    Collector(
        "inhouse usage confirm",
        ("usage.confirmed",),
        "a person's own confirmation of the days and prompt versions the gateway's figures give "
        "them, signed with their key on their machine",
    ),
    Collector(
        "inhouse indicators",
        ("indicators.report",),
        "play 6's indicators for a period, from the gateway's daily rollups",
    ),
    Collector(
        "inhouse keys",
        ("agent.registered", "agent.boundary"),
        "a gateway key bound to a local agent, and that agent's tool boundary",
    ),
)

_registry: dict[str, Collector] = {}
_sources: dict[str, str] = {}
_loaded = False


def register_collectors(found: Iterable[Collector], *, source: str) -> None:
    """Add collectors; a name registered twice is refused, naming both sources."""
    from inhouse.errors import PluginError

    for collector in found:
        if collector.name in _registry:
            raise PluginError(
                f"collector {collector.name!r} is registered twice: by {_sources[collector.name]} "
                f"and by {source}"
            )
        _registry[collector.name] = collector
        _sources[collector.name] = source


def collectors() -> dict[str, Collector]:
    """Every registered collector, by name (built-ins and plugins, through the hook)."""
    global _loaded
    if not _loaded:
        from inhouse.plugins import load_collectors

        _registry.clear()
        _sources.clear()
        load_collectors()
        _loaded = True  # only once the whole set registered: a PluginError leaves none half-made
    return dict(_registry)


def collector_for(name: str) -> Collector | None:
    return collectors().get(name)


def measured_kinds() -> set[str]:
    """Fact kinds some registered collector measures: attestations of these never pass."""
    return {kind for collector in collectors().values() for kind in collector.kinds}
