"""Dated price snapshots: what the reference API (by default the status quo of play 1's trial)
charges per million tokens, recorded as an ``indicators.prices`` fact on the day someone looked
them up. Spend avoided in a period is priced with the snapshot in force at the period's end, so
a price recorded later never moves a period already reported.

A price list is a person's word (nothing here can measure a vendor's price), signed by them and
shown as such wherever it is used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from inhouse.errors import InvalidInput, Refused
from inhouse.indicators.model import CostsWord
from inhouse.indicators.periods import Period
from inhouse.plaintext import check_plain
from inhouse.program.checks import CheckContext
from inhouse.program.facts import Fact
from inhouse.program.lagging_words import PRICES_KIND, Prices, prices_in_force
from inhouse.program.lagging_words import latest_economics as economics_in
from inhouse.trials.cost import MAX_PER_MTOK

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "KIND",
    "MAX_PER_MTOK",
    "Prices",
    "costs_word",
    "latest_economics",
    "local_currency",
    "prices_for",
    "prices_from_trial",
    "set_prices",
    "trial_of",
]

KIND = PRICES_KIND


def set_prices(
    program: Program,
    *,
    reference: str,
    input_per_mtok: float,
    output_per_mtok: float,
    currency: str = "USD",
    source: str,
) -> Fact:
    """Record a price snapshot in the acting person's signed word."""
    for option, value in (("--input", input_per_mtok), ("--output", output_per_mtok)):
        if not math.isfinite(value) or value < 0 or value > MAX_PER_MTOK:
            raise InvalidInput(
                f"{option} {value:g}: a price per 1M tokens is a number from 0 to "
                f"{MAX_PER_MTOK:,.0f} (a typo? the dearest APIs list hundreds)"
            )
    for option, text in (("--reference", reference), ("--currency", currency),
                         ("--source", source)):  # fmt: skip
        check_plain(text, what=option, one_line=True)
    payload = {
        "reference": reference.strip(),
        "price_input_per_mtok": input_per_mtok,
        "price_output_per_mtok": output_per_mtok,
        "currency": currency.strip().upper(),
        "source": source.strip(),
    }
    return program.attest(None, KIND, payload, f"prices for {reference}: {source}")


def costs_word(ctx: CheckContext, verdict: Fact) -> CostsWord:
    """Whose word the costs ``verdict``'s author typed are: confirmed by the colleague whose
    rerun play 2's ``trial-reproduced`` counts as confirming them, or the author's alone."""
    from inhouse.program.playchecks.baseline import costs_confirmation

    rerun = costs_confirmation(ctx, verdict)
    return CostsWord(
        trial=str(verdict.payload["trial"]),
        trial_fact=verdict.id,
        author=verdict.by,
        confirmed_by=None if rerun is None else rerun.by,
        rerun_fact=None if rerun is None else rerun.id,
        comment="" if rerun is None else str(rerun.payload["costs_confirmed"]),
        claimed_cheaper="cheaper" in (verdict.payload.get("proven_on") or []),
    )


def trial_of(ctx: CheckContext, fact_id: int | None) -> Fact | None:
    """The trial verdict with id ``fact_id`` (None: none)."""
    if fact_id is None:
        return None
    return next((f for f in ctx.facts.of("trial.verdict") if f.id == fact_id), None)


def latest_economics(ctx: CheckContext) -> Fact | None:
    """The latest trial verdict that recorded its economics (play 1's head-to-head trial)."""
    return economics_in(ctx.facts)


def local_currency(program: Program) -> str | None:
    """The currency play 1's trial counts local cost in (its cost inputs), which reference
    prices must share for spend avoided to be computed; None where no trial recorded them."""
    from inhouse.program.counting import build_context

    verdict = latest_economics(build_context(program.state(), program.clock()))
    local = None if verdict is None else verdict.payload["economics"].get("local")
    return None if local is None else str(local.get("currency", "USD")).upper()


def prices_from_trial(program: Program) -> Fact:
    """Record a snapshot copied from the latest trial's status quo (an API and its listed
    prices); refused when the trial's status quo was not an API."""
    from inhouse.program.counting import build_context

    ctx = build_context(program.state(), program.clock())
    verdict = latest_economics(ctx)
    if verdict is None:
        raise Refused(
            "no trial verdict records its economics: run play 1's trial (`inhouse prove`), or "
            "give the prices: --reference NAME --input PRICE --output PRICE --source URL "
            "(per million tokens)",
            missing=["trial.verdict"],
        )
    economics = verdict.payload["economics"]
    if economics["status_quo"] != "api":
        raise Refused(
            f"trial {verdict.payload['trial']} (fact #{verdict.id}) compared with a manual "
            "process, which has no token prices: give the reference API's prices, `inhouse "
            "indicators prices set --reference NAME --input PRICE --output PRICE --source URL` "
            "(per million tokens; the source is where you read them)"
        )
    payload = {
        "reference": f"trial {verdict.payload['trial']}'s status quo",
        "price_input_per_mtok": economics["api_price_input_per_mtok"],
        "price_output_per_mtok": economics["api_price_output_per_mtok"],
        "currency": economics["currency"],
        "source": f"the status quo's listed prices in trial.verdict #{verdict.id}",
        "trial_fact": verdict.id,
    }
    return program.attest(None, KIND, payload, payload["source"])


def prices_for(ctx: CheckContext, period: Period) -> Prices | None:
    """The prices in force at the end of ``period``: the latest snapshot recorded on or before
    its last day; else the trial's status quo prices (fixed in its signed verdict); else the
    first snapshot recorded after the period (labelled so). None: no prices at all."""
    return prices_in_force(ctx.facts, period.end)
