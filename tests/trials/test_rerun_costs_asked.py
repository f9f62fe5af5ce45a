"""A play-2 rerun asks for the costs' confirmation only where the verdict's claims rest on them.

Only a verdict claiming "cheaper" rests on the costs its author typed (play 2's check asks the
rerunner's word on them for it alone). A rerun whose own figures cleared "cheaper" of a verdict
that claimed faster alone was told, in a checkout, that it counted only with --confirm-costs,
and where the log is its --confirm-costs was taken, shown and signed: figures no check reads.
The engine tests (tests/trials/test_rerun.py, tests/test_outsider_first_week.py) run it end to
end; these judge the rerun's own words without a runtime.
"""

from __future__ import annotations

import pytest

from inhouse.errors import InvalidInput
from inhouse.program.checks import Outcome
from inhouse.program.facts import Fact
from inhouse.trials.rerun import _refuse_unclaimed_costs, _unconfirmed_note
from tests.test_playchecks import fact, reproducible, rerun, run


def _verdict(*claims: str) -> Fact:
    return fact(
        "trial.verdict",
        trial="tickets",
        verdict="proven",
        proven_on=list(claims),
        quality_ok=True,
    )


def test_confirm_costs_on_a_verdict_claiming_no_cheaper_is_refused() -> None:
    verdict = _verdict("faster")
    with pytest.raises(InvalidInput) as refused:
        _refuse_unclaimed_costs(verdict, "our invoice lists these prices")
    said = str(refused.value)
    assert f"the verdict this rerun reproduces (fact #{verdict.id}, by lena) " in said
    assert "claimed faster, not 'cheaper'" in said and "rerun it without --confirm-costs" in said


def test_confirm_costs_on_a_verdict_claiming_cheaper_or_none_given_goes_through() -> None:
    _refuse_unclaimed_costs(_verdict("faster", "cheaper"), "our invoice")
    _refuse_unclaimed_costs(_verdict("faster"), None)


def test_a_checkouts_rerun_asks_the_costs_only_where_the_verdict_claimed_cheaper() -> None:
    """In a checkout (no verdict to read), a rerun that cleared "cheaper" names --confirm-costs
    only for a verdict that claimed it; the flags any verdict needs, without condition."""
    both = _unconfirmed_note("tickets", "trials/tickets.yaml", ["--confirm-minutes"], True)
    assert "rerun it with `inhouse prove tickets --rerun --confirm-minutes COMMENT`, with " \
        "--confirm-costs COMMENT too where the verdict there claimed 'cheaper'" in both  # fmt: skip
    alone = _unconfirmed_note("tickets", "trials/tickets.yaml", [], True)
    assert alone.startswith(". Where the verdict there claimed 'cheaper'"), alone
    assert "`inhouse prove tickets --rerun --confirm-costs COMMENT`" in alone
    assert "where it did not, none is needed" in alone
    assert "--confirm-costs" not in _unconfirmed_note(
        "tickets", "trials/tickets.yaml", ["--confirm-status-quo"], False
    )
    assert _unconfirmed_note("tickets", "trials/tickets.yaml", [], False) == ""


def test_a_word_on_the_costs_of_a_verdict_claiming_no_cheaper_is_said_unread() -> None:
    """A checkout holds no verdict to refuse --confirm-costs by: omar's word on the costs,
    signed there and imported against a verdict that claimed faster alone, was read by no check
    and nothing said so. The check says it, whether the rerun counts or still waits on
    another word; the verdict is the same."""
    verdict = reproducible(proven_on=["faster"])
    signed = rerun(proven_on=["faster"], costs_confirmed="our invoice lists these prices")
    held = run("trial-reproduced", verdict, signed)
    assert held.outcome is Outcome.PASS, held.reason
    unread = (
        "omar's word on the costs lena typed (--confirm-costs: our invoice lists these prices) "
        "is read by no check: the verdict claimed no 'cheaper'"
    )
    assert unread in held.reason, held.reason
    waiting = run("trial-reproduced", verdict, rerun(
        proven_on=["faster"], costs_confirmed="our invoice lists these prices", api_confirmed=None
    ))  # fmt: skip
    assert waiting.outcome is Outcome.INCONCLUSIVE, waiting.reason
    assert unread in waiting.reason, waiting.reason
    # without the word, or where the verdict claimed "cheaper", nothing is said
    bare = run("trial-reproduced", verdict, rerun(proven_on=["faster"], costs_confirmed=None))
    assert bare.outcome is Outcome.PASS and "read by no check" not in bare.reason, bare.reason
    priced = run("trial-reproduced", reproducible(), rerun())
    assert priced.outcome is Outcome.PASS and "read by no check" not in priced.reason
