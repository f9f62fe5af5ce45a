"""The read side of the gateway's usage log: totals per person, day, key, prompt and workflow,
and each person's active days, computed in SQL. Plays 4 to 6 read usage here, never by
folding the event log.

This package sits below the play packages and the gateway: it imports only :mod:`inhouse.db`
and :mod:`inhouse.errors`.
"""

from inhouse.usage.activity import (
    ActiveDay,
    Day,
    active_days,
    days,
    last_active,
    prompts_used,
    unowned_days,
    workflow_days,
)
from inhouse.usage.grid import (
    ActivityGrid,
    ReferenceSummary,
    ReferenceUse,
    activity_grid,
    reference_summary,
    reference_use,
)
from inhouse.usage.totals import ANSWERED_BELOW, DIMENSIONS, Dimension, UsageTotals, totals

__all__ = [
    "ANSWERED_BELOW",
    "DIMENSIONS",
    "ActiveDay",
    "ActivityGrid",
    "Day",
    "Dimension",
    "ReferenceSummary",
    "ReferenceUse",
    "UsageTotals",
    "active_days",
    "activity_grid",
    "days",
    "last_active",
    "prompts_used",
    "reference_summary",
    "reference_use",
    "totals",
    "unowned_days",
    "workflow_days",
]
