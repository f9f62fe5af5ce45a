"""The words play 6's lagging indicators rest on, as the log records them: the reference prices
in force at a period's end (a price snapshot, or play 1's trial's status quo API), the trial's
economics (its cost model and time per task), and each workflow's minutes saved (its author's
estimate). Read by :mod:`inhouse.indicators`, which computes a report from them, and by
``indicators-reported``, which holds a recorded report's lagging figures to them: a figure
that follows from none of them is its reporter's alone.

Each is a person's word (nothing here measures a vendor's price or a task's minutes), signed
and shown as such wherever it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from inhouse.program.facts import Fact, FactSet

__all__ = [
    "MINUTES_KIND",
    "PRICES_KIND",
    "READS",
    "Prices",
    "latest_economics",
    "local_rate",
    "minutes_estimates",
    "prices_in_force",
    "signed_runs",
    "trial_minutes",
    "whose_words",
    "workflow_name",
]

PRICES_KIND = "indicators.prices"
MINUTES_KIND = "indicators.minutes_saved"
#: the kinds of fact these words are read from (a workflow's author from its specs and runs)
READS = (PRICES_KIND, MINUTES_KIND, "trial.verdict", "workflow.spec", "workflow.run")


@dataclass(frozen=True)
class Prices:
    """The reference prices a period is priced with, and where they come from."""

    reference: str
    input_per_mtok: float
    output_per_mtok: float
    currency: str
    source: str  # said beside every figure priced with them
    #: the trial verdict whose author typed these prices (None: a price list's attester's)
    trial_fact: int | None = None

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """What these tokens cost at these prices (per million tokens), to the millionth."""
        return round((tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6, 6)


def prices_in_force(facts: FactSet, end: date) -> Prices | None:
    """The prices in force at ``end`` (a period's last day): the latest snapshot recorded on or
    before it; else the trial's status quo prices (fixed in its signed verdict); else the first
    snapshot recorded after it (labelled so). None: no prices at all."""
    snapshots = facts.of(PRICES_KIND)
    before = [f for f in snapshots if f.at.date() <= end]
    if before:
        return _snapshot(before[-1], "")
    verdict = latest_economics(facts)
    if verdict is not None and verdict.payload["economics"]["status_quo"] == "api":
        economics = verdict.payload["economics"]
        return Prices(
            reference=f"trial {verdict.payload['trial']}'s status quo",
            input_per_mtok=float(economics["api_price_input_per_mtok"]),
            output_per_mtok=float(economics["api_price_output_per_mtok"]),
            currency=str(economics["currency"]),
            source=f"listed prices in trial.verdict #{verdict.id} (configured by the trial's "
            f"author, {verdict.by})",
            trial_fact=verdict.id,
        )
    if snapshots:
        return _snapshot(snapshots[0], ", recorded after the period: none was in force then")
    return None


def _snapshot(fact: Fact, note: str) -> Prices:
    p = fact.payload
    return Prices(
        reference=str(p["reference"]),
        input_per_mtok=float(p["price_input_per_mtok"]),
        output_per_mtok=float(p["price_output_per_mtok"]),
        currency=str(p["currency"]),
        source=f"price snapshot #{fact.id}, {p['source']} (attested by {fact.by} on "
        f"{fact.at.date().isoformat()}{note})",
        # a snapshot copied from a trial's status quo holds what that trial's author typed
        trial_fact=None if p.get("trial_fact") is None else int(p["trial_fact"]),
    )


def latest_economics(facts: FactSet) -> Fact | None:
    """The latest trial verdict that recorded its economics (play 1's head-to-head trial)."""
    return facts.latest("trial.verdict", lambda f: f.payload.get("economics") is not None)


def local_rate(local: dict[str, Any]) -> tuple[float, float]:
    """Energy and hardware cost per busy hour, from a trial's local cost inputs (the formula
    of :func:`inhouse.trials.cost.local_cost`)."""
    energy = float(local["watts"]) / 1000.0 * float(local["price_per_kwh"])
    hardware = (
        float(local["hardware_price"])
        / float(local["lifetime_hours"])
        / float(local["utilisation"])
    )
    return energy, hardware


def trial_minutes(trial: Fact) -> float | None:
    """The minutes one task saves according to ``trial`` (its status quo's time per task less
    the candidate's), or None where it has no time per task for both sides."""
    economics = trial.payload["economics"]
    status_quo = economics.get("status_quo_seconds_per_task")
    candidate = economics.get("candidate_seconds_per_task")
    if status_quo is None or candidate is None:
        return None
    return (float(status_quo) - float(candidate)) / 60.0


def minutes_estimates(facts: FactSet) -> dict[str, Fact]:
    """Each workflow's latest minutes-saved estimate signed by its author, the signer of its
    first published ``workflow.spec`` (:func:`~inhouse.program.playchecks._shared.
    first_publisher`: a later version's publisher edited it, and their word would override the
    builder's)."""
    # the checks' package imports this module (``indicators-reported``)
    from inhouse.program.playchecks._shared import first_publisher

    authors: dict[str, str | None] = {}
    found: dict[str, Fact] = {}
    for fact in facts.of(MINUTES_KIND):
        name = str(fact.payload["workflow"])
        if name not in authors:
            authors[name] = first_publisher(facts, name)
        if fact.by == authors[name]:
            found[name] = fact
    return found


def workflow_name(ref: str) -> str:
    """``triage@2`` -> ``triage``: a workflow's runs and minutes are counted by its name."""
    return ref.split("@", 1)[0]


def signed_runs(totals: Mapping[str, Any]) -> dict[str, int]:
    """One person's workflow runs in one day's totals as the gateway's key signed them (a
    ``usage.daily`` fact's ``workflows``: the answered requests that named each workflow), per
    workflow name; none in a day signed before the rollup counted them. Exit rule 22
    (``SIGNED_RUNS``), the indicators and the dashboard all count runs through this."""
    runs: dict[str, int] = {}
    for workflow, count in (totals.get("workflows") or {}).items():
        name = workflow_name(str(workflow))
        runs[name] = runs.get(name, 0) + int(count)
    return runs


def whose_words(facts: FactSet, end: date) -> str:
    """Whose word the reference prices in force at ``end`` are, in a few words, for a reason
    that passes a report priced with them: a price is a person's word, never measured."""
    prices = prices_in_force(facts, end)
    if prices is None:
        return "no reference prices recorded"
    return f"the reference prices of {prices.source}"
