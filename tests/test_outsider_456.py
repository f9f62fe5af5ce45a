"""The outsider at plays 4 to 6, round 456: paths the earlier walks do not try.

tests/test_outsider_later.py's world: a pilot of three colleagues (bob, pia, oli), each signed
in with an account of their own, keyed and onboarded, who sent real requests through the
gateway on 3 and 4 November; lena leads, owns the support queue and play 6. She has her one
account, her laptop, the program folder, the Python API and the CLI.
"""

from __future__ import annotations

from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import build_report, record_report, set_prices, write_report
from inhouse.program import Program
from inhouse.program.checks import Outcome
from tests.pilot.gateway_days import Pilot
from tests.test_outsider_later import _judge, lena, pilot  # noqa: F401 (fixtures)


def _report(lead: Program, period: str) -> None:
    """``inhouse indicators report --period PERIOD --record``, as the lead runs it."""
    report = build_report(lead, period)
    record_report(lead, report, write_report(lead, report))


# -- play 6: indicators ---------------------------------------------------------------------------


def test_a_report_spanning_months_hides_a_month_nobody_used_it(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """Nobody used the tool in December. lena's report of December fails: the gateway signed no
    answered request in it. So she reports November and December as one span: its figures
    match the signed usage (November's), and the check passed on a period in which the last
    month of use was none. A report stands for one period: at most ``period_days`` long."""
    pilot.on("2027-01-02")
    rollup_usage(lena)
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.0, output_per_mtok=6.0,
               source="the vendor's price page")  # fmt: skip
    _report(lena, "2026-12")
    result = _judge(lena, "indicators-reported")
    assert result.outcome is Outcome.FAIL
    assert "the gateway signed no answered request in 2026-12-01..2026-12-31" in result.reason
    _report(lena, "2026-11-01..2026-12-31")
    result = _judge(lena, "indicators-reported")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "covers 61 day(s)" in result.reason
