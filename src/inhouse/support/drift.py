"""The drift review: the inventory of every node against the program's current lock, recorded as
a measured ``drift.review`` signed by the gateway's own service key. It is what the gateway's
host sees of the nodes the gateway routes to, so only that key's review counts (a review a
person signs, or one signed by a gateway key enrolled from its enrolling lead's own machine, is
that person's word: :mod:`inhouse.program.counting`). Run it on the gateway's host.

``versions-pinned`` reads it: the gateway's pinning on, and a passing review of the current
lock younger than the playbook's ``max_age_days``. A node that was down fails the review (each
blessed model counts as missing there, and ``drifted`` says the node was down).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inhouse.baseline.lock import LOCK_NAME, program_lock, require_lock
from inhouse.errors import ConfigError
from inhouse.gateway.rollup import service_program
from inhouse.policy.tools import load_boundaries
from inhouse.program.config import read_config
from inhouse.program.counting import build_context
from inhouse.program.facts import Fact, Provenance
from inhouse.support.inventory import InventoryReport, take_inventory

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["COLLECTOR", "DriftReview", "inventory", "record_drift_review", "review_payload"]

COLLECTOR = "inhouse support drift-review"


@dataclass(frozen=True)
class DriftReview:
    report: InventoryReport
    fact: Fact


def inventory(program: Program) -> InventoryReport:
    """``inhouse support inventory``: every node's inventory against the current lock, the one
    the program records (``inhouse.lock`` only while it records none), so a rewritten file
    cannot make nodes serving unverified weights read as clean (nothing is recorded)."""
    lock = program_lock(program)
    if lock is None:
        raise ConfigError(f"no {LOCK_NAME} yet: run `inhouse baseline lock` first")
    return take_inventory(program.folder, lock, read_config(program.folder))


def review_payload(
    report: InventoryReport, agents: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The ``drift.review`` fact's payload for ``report``, and ``agents``: each agent's tool
    allowlist as the gateway's host configures it (what the gateway enforces, beside what
    ``inhouse keys`` recorded when the agent's key was granted)."""
    down = {n.node for n in report.down}
    drifted = [f"{n.node}: down ({n.error})" for n in report.down]
    drifted += [str(f) for f in report.findings if f.node not in down]
    return {
        "lock_hash": report.lock_hash,
        "passed": report.passed,
        "drifted": drifted,
        "findings": [
            {"node": f.node, "model": f.model, "problem": f.problem, "detail": f.detail}
            for f in report.findings
        ],
        "nodes": [n.node for n in report.nodes],
        "pinning_enforced": report.pinning_enforced,
        **({} if agents is None else {"agents": agents}),
    }


def record_drift_review(program: Program) -> DriftReview:
    """``inhouse support drift-review``: take the inventory and record it, measured, signed by
    the gateway's own key (:func:`~inhouse.gateway.rollup.service_program`: on the gateway's
    host, where ``.inhouse/keys/gateway.key`` lives; a rollout lead's first run there enrols
    it). Refused when ``inhouse.lock`` is not the lock the program records (a review of another
    lock would judge nothing)."""
    program.whoami()  # an enrolled key, before asking any node
    lock = require_lock(program.folder)
    state = program.state()
    recorded = build_context(state, program.clock()).facts.latest("baseline.lock")
    if recorded is None or recorded.payload["lock_hash"] != lock.lock_hash:
        was = "none" if recorded is None else str(recorded.payload["lock_hash"])[:19]
        raise ConfigError(
            f"inhouse.lock ({lock.lock_hash[:19]}) is not the lock this program records "
            f"({was}): run `inhouse baseline lock` first, then review drift against it"
        )
    gateway = service_program(program)  # refused before asking any node when it cannot sign
    config = read_config(program.folder)
    report = take_inventory(program.folder, lock, config)
    served = {name: sorted(b.tools) for name, b in load_boundaries(config).items()}
    fact = gateway.record_fact(
        None,
        "drift.review",
        review_payload(report, served),
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
    return DriftReview(report, fact)
