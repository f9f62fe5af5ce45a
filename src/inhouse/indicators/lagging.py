"""Lagging indicators for one period, each with every input it was computed from and that
input's source, as the trial's cost report lists them.

- **Work changed** (hours): for each workflow, its runs through the gateway times the minutes
  one run saves; those minutes are the workflow's author's signed estimate where one exists
  (labelled as their word; its author first published it), else play 1's trial: the status
  quo's minutes per task minus the candidate's measured time per task.
- **Spend avoided**: what the answered requests' tokens would have cost at the reference API's
  prices (:mod:`inhouse.indicators.prices`), minus what serving them locally cost: the trial's
  energy and amortised hardware per hour times the busy time the gateway measured (the sum of
  the answered requests' end-to-end times: where requests overlap this counts the machine busy
  more than it was, so the local cost is overstated and the spend avoided understated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inhouse.db import Store
from inhouse.errors import InvalidInput, NotAllowed
from inhouse.indicators.leading import Authors, PeriodUsage
from inhouse.indicators.model import CostsWord, Indicator, Input
from inhouse.indicators.periods import Period
from inhouse.indicators.prices import costs_word, latest_economics, prices_for, trial_of
from inhouse.plaintext import check_plain
from inhouse.program.checks import CheckContext
from inhouse.program.facts import Fact
from inhouse.program.lagging_words import (
    MINUTES_KIND,
    local_rate,
    minutes_estimates,
    trial_minutes,
)
from inhouse.program.playchecks._shared import first_publisher

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["MINUTES_KIND", "lagging_indicators", "local_rate", "record_minutes_saved"]

_GATEWAY = "gateway usage log (measured)"
#: where a workflow's runs come from: what play 6's check counts, never the summary tables
_RUNS = "the gateway's signed daily usage: answered requests that named the workflow (measured)"
#: where the busy time comes from: no figure the gateway's key signs carries it (its daily
#: usage holds requests and tokens), and summing it from the sealed rows would verify a MAC
#: per request, millions a month
BUSY_UNSIGNED = (
    "unsigned: the usage log's summary tables, which anyone with database access can write "
    "(no figure the gateway signs carries busy time)"
)


def record_minutes_saved(program: Program, workflow: str, minutes: float, note: str = "") -> Fact:
    """Attest the minutes one run of ``workflow`` saves, in the acting person's word. A name
    that is no workflow of this program (not in ``workflows/``, no ``workflow.spec``) is
    refused: the estimate would be recorded and never used, as no run carries that name."""
    from inhouse.program.counting import build_context
    from inhouse.workflows.spec import list_workflows

    check_plain(note, what="the note")
    ctx = build_context(program.state(), program.clock())
    authors = Authors.of(ctx).workflows
    known = set(list_workflows(program.folder)) | set(authors)
    if workflow not in known:
        raise InvalidInput(
            f"no workflow {workflow!r} in this program (workflows: "
            f"{', '.join(sorted(known)) or 'none yet'}): an estimate counts for a workflow's runs"
        )
    # the report reads only the workflow's author's estimate (:func:`estimator`): anyone
    # else's would be recorded, said "recorded", and never used (before the workflow has an
    # author, whoever records it may yet be it)
    who = program.actor().name
    author = estimator(ctx, workflow)
    if author is not None and who != author:
        raise NotAllowed(
            f"an estimate of {workflow}'s minutes counts only from its author, {author} (who "
            f"first published it; whoever published a later version edited it), not {who}: "
            f"yours would be recorded and never used; ask {author} to run this"
        )
    return program.attest(
        None,
        MINUTES_KIND,
        {"workflow": workflow, "minutes": minutes},
        note or f"{minutes} minutes saved per run of {workflow}",
    )


def lagging_indicators(
    store: Store, ctx: CheckContext, period: Period, used: PeriodUsage | None = None
) -> list[Indicator]:
    used = used or PeriodUsage.read(store, period, Authors.of(ctx))
    return [_work_changed(used, ctx), *_spend(used, ctx, period)]


def estimator(ctx: CheckContext, workflow: str) -> str | None:
    """Whose minutes-saved estimate of ``workflow`` counts: its author, the signer of its first
    published ``workflow.spec`` (the one who built it, as play 3 names a version's author:
    :func:`~inhouse.program.playchecks._shared.first_publisher`). A later version's publisher
    edited it, and play 3's owner may never have run it: their word would override the
    builder's. The one rule, read by the report (:func:`_estimates`) and by the command that
    records an estimate (:func:`record_minutes_saved`). None: nobody published it yet."""
    return first_publisher(ctx.facts, workflow)


def _estimates(ctx: CheckContext) -> dict[str, Fact]:
    """Each workflow's latest minutes-saved estimate signed by its :func:`estimator`."""
    return minutes_estimates(ctx.facts)


def _work_changed(used: PeriodUsage, ctx: CheckContext) -> Indicator:
    definition = (
        "hours of work changed: each workflow's runs through the gateway x the minutes one "
        "run saves (its author's estimate, else play 1's trial: status quo minutes per task "
        "minus the candidate's time per task), summed, / 60"
    )
    runs = used.runs()
    estimates = _estimates(ctx)
    trial = latest_economics(ctx)
    trial_minutes, trial_source = _trial_minutes(trial)
    inputs: list[Input] = []
    missing: list[str] = []
    hours = 0.0
    for name in sorted(runs):
        inputs.append(Input(f"{name}: runs", runs[name], "runs", _RUNS))
        estimate = estimates.get(name)
        if estimate is not None:
            minutes = float(estimate.payload["minutes"])
            source = (
                f"estimate attested by {estimate.by} (fact #{estimate.id}, "
                f"{estimate.at.date().isoformat()}): their word, not measured"
            )
        elif trial_minutes is not None:
            minutes, source = trial_minutes, trial_source
        else:
            missing.append(name)
            continue
        inputs.append(Input(f"{name}: minutes saved per run", round(minutes, 4), "min", source))
        hours += runs[name] * minutes / 60.0
    if not runs:
        return Indicator("work_changed_hours", "Work changed", "lagging", 0.0, "hours",
                         definition, "no workflow ran through the gateway in the period",
                         tuple(inputs))  # fmt: skip
    if missing:
        why = (
            f"no minutes saved known for {', '.join(missing)}: "
            + (trial_source if trial is not None else "no trial recorded its economics")
            + "; its author can attest an estimate (`inhouse indicators minutes-saved "
            "WORKFLOW MINUTES`)"
        )
        return Indicator("work_changed_hours", "Work changed", "lagging", None, "hours",
                         definition, why, tuple(inputs))  # fmt: skip
    return Indicator("work_changed_hours", "Work changed", "lagging", round(hours, 4), "hours",
                     definition, "", tuple(inputs))  # fmt: skip


def _trial_minutes(trial: Fact | None) -> tuple[float | None, str]:
    """Minutes one task saves according to the trial, and the sentence saying where from."""
    if trial is None:
        return None, "no trial recorded its economics"
    economics = trial.payload["economics"]
    name = f"trial.verdict #{trial.id} ({trial.payload['trial']})"
    minutes = trial_minutes(trial)
    if minutes is None:
        return None, f"{name} has no time per task for both sides"
    status_quo = float(economics["status_quo_seconds_per_task"])
    candidate = float(economics["candidate_seconds_per_task"])
    # a trial is one person's run on their own machine (play 1): its figures are what its
    # author's run measured, signed by them, which no one else witnessed
    kind = "recorded by" if economics["status_quo"] == "manual" else "measured in the run of"
    source = (
        f"{name}: status quo {status_quo / 60:.2f} min per task ({kind} the trial's "
        f"author, {trial.by}) minus the candidate's {candidate:.2f} s (measured in "
        "that run)"
    )
    return minutes, source


def _spend(usage: PeriodUsage, ctx: CheckContext, period: Period) -> list[Indicator]:
    used = usage.answered
    busy_hours = used.busy_ms / 3_600_000.0
    window = f"{period.start.isoformat()}..{period.end.isoformat()}"
    usage_inputs = (
        Input("input tokens", used.tokens_in, "tokens", f"{_GATEWAY}, answered requests {window}"),
        Input("output tokens", used.tokens_out, "tokens", f"{_GATEWAY}, answered requests"),
    )
    prices = prices_for(ctx, period)
    reference_def = (
        "what the answered requests' tokens would have cost at the reference API's prices: "
        "input tokens x input price / 1e6 + output tokens x output price / 1e6"
    )
    typed = None if prices is None else trial_of(ctx, prices.trial_fact)
    priced = None if typed is None else costs_word(ctx, typed)
    if prices is None:
        reference = Indicator(
            "reference_cost", "Reference API cost", "lagging", None, "", reference_def,
            "no reference prices: record a snapshot (`inhouse indicators prices set`) or run "
            "play 1's trial against an API", usage_inputs,
        )  # fmt: skip
    else:
        reference = Indicator(
            "reference_cost", "Reference API cost", "lagging",
            prices.cost(used.tokens_in, used.tokens_out), prices.currency,
            reference_def, "",
            (
                *usage_inputs,
                Input("reference", prices.reference, "", prices.source),
                Input("price per 1M input tokens", prices.input_per_mtok,
                      f"{prices.currency}/Mtok", prices.source),
                Input("price per 1M output tokens", prices.output_per_mtok,
                      f"{prices.currency}/Mtok", prices.source),
            ),
            costs=priced,
        )  # fmt: skip
    local = _local(ctx, busy_hours, window)
    spend_def = "reference API cost minus local cost"
    if reference.value is None or local.value is None:
        why = "; ".join(r for r in (reference.reason, local.reason) if r)
        spend = Indicator("spend_avoided", "Spend avoided", "lagging", None, "", spend_def, why,
                          reference.inputs + local.inputs)  # fmt: skip
    elif reference.unit != local.unit:
        spend = Indicator(
            "spend_avoided", "Spend avoided", "lagging", None, "", spend_def,
            f"the prices are in {reference.unit} but the local cost in {local.unit}: record "
            "prices in one currency", reference.inputs + local.inputs,
        )  # fmt: skip
    else:
        spend = Indicator(
            "spend_avoided", "Spend avoided", "lagging",
            round(reference.value - local.value, 6), reference.unit, spend_def, "",
            reference.inputs + local.inputs, costs=_weakest(reference.costs, local.costs),
        )  # fmt: skip
    return [spend, reference, local]


def _local(ctx: CheckContext, busy_hours: float, window: str) -> Indicator:
    definition = (
        "busy hours x (watts / 1000 x price per kWh + hardware price / lifetime hours / "
        "utilisation), with the cost inputs of play 1's trial"
    )
    busy = Input("busy time", round(busy_hours, 6), "h",
                 f"{BUSY_UNSIGNED}: answered requests' end-to-end times summed, "
                 f"{window}")  # fmt: skip
    trial = latest_economics(ctx)
    local = None if trial is None else trial.payload["economics"].get("local")
    if trial is None or local is None:
        return Indicator("local_cost", "Local cost", "lagging", None, "", definition,
                         "no local cost model: play 1's trial records its cost inputs",
                         (busy,))  # fmt: skip
    energy, hardware = local_rate(local)
    word = costs_word(ctx, trial)
    source = f"trial.verdict #{trial.id} cost model ({word.label})"
    currency = str(local.get("currency", "USD"))
    return Indicator(
        "local_cost", "Local cost", "lagging", round(busy_hours * (energy + hardware), 6),
        currency, definition, "",
        (
            busy,
            Input("energy per busy hour", round(energy, 6), f"{currency}/h",
                  f"{source}: {local['watts']} W x {local['price_per_kwh']} per kWh"),
            Input("hardware per busy hour", round(hardware, 6), f"{currency}/h",
                  f"{source}: {local['hardware_price']} / {local['lifetime_hours']} h / "
                  f"{local['utilisation']} utilisation"),
        ),
        costs=word,
    )  # fmt: skip


def _weakest(*words: CostsWord | None) -> CostsWord | None:
    """Of the costs words a figure rests on, the one to label it with: an author's word alone
    before a confirmed one (a figure is only as confirmed as its least confirmed input)."""
    found = [w for w in words if w is not None]
    alone = [w for w in found if w.confirmed_by is None]
    return next(iter(alone or found), None)
