"""The outsider at plays 4 to 6, round 456: paths the earlier walks do not try.

tests/test_outsider_later.py's world: a pilot of three colleagues (bob, pia, oli), each signed
in with an account of their own, keyed and onboarded, who sent real requests through the
gateway on 3 and 4 November; lena leads, owns the support queue and play 6. She has her one
account, her laptop, the program folder, the Python API and the CLI.

What the walk found: play 6's ``indicators-reported`` took a span of months, whose figures sum
earlier use, so a month nobody used the tool (which, reported alone, fails) passed inside it
(closed: a report covers at most ``period_days``); and it judged the latest report recorded, so
a shorter window ending earlier, recorded after the last month's failing report, hid that month
(closed: the report of the latest period is judged). Play 5's ``ticket-resolved-without-builder``
spared every ticket once play 5 had exited, so after the exit's ticket was reopened, lena's own
resolution of a user's new ticket counted with nobody confirming the fix (closed: the earlier
rules spare the resolutions made by the exit). A client that names a library prompt in
``X-Inhouse-Prompt`` with its own messages confirmed a finding's fix it was never sent (closed:
the usage log records whether the gateway sent the version, and only those it sent, or who
pinned it by number, used it).
"""

from __future__ import annotations

from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import build_report, open_finding, record_report, set_prices, write_report
from inhouse.pilot.library import parse_prompt, share_version
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.support.queue import confirm_fix, open_ticket, reopen_ticket, resolve_ticket
from tests.pilot.gateway_days import PROMPT, Pilot, Use
from tests.test_outsider_later import _judge, lena, pilot  # noqa: F401 (fixtures)

#: play 5's ticket check
TICKET = "ticket-resolved-without-builder"


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
    assert "covers 61 days" in result.reason


# -- play 6: findings -----------------------------------------------------------------------------


def test_a_header_naming_the_prompt_confirms_a_version_its_sender_never_saw(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """pia finds bob's triage prompt sorts legal tickets wrong. lena publishes a version of
    triage naming the finding; it changes what the model is sent, but nobody looks at it. bob's
    client names ``triage`` in its header, as the guide shows, with its own messages: the
    gateway records his use of lena's version, which he was never sent, and the rollup's
    prompt.usage confirmed her fix as his. Now it names him apart (he only named it), and his
    client pinning ``triage@2``, his own choice of that version, confirms it."""
    finding = open_finding(pilot.people["pia"], "legal tickets land in ops",
                           target="prompt:triage")  # fmt: skip
    changed = PROMPT.replace("Ticket: {{ ticket }}", "Sort for legal first. Ticket: {{ ticket }}")
    share_version(lena, "triage", parse_prompt(changed, where="triage.yaml"),
                  where="triage.yaml", closes=[finding.id])  # fmt: skip
    assert _judge(lena, "findings-fed-back").outcome is not Outcome.PASS
    pilot.use([Use("bob", "2026-11-06T10:00", prompt="triage")])  # his own messages
    pilot.on("2026-11-06")
    record_prompt_usage(lena)  # the gateway's own key signs the day's prompt use
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is not Outcome.PASS, result.reason
    assert "the gateway sent triage@2 to nobody: bob only named triage in X-Inhouse-Prompt" in (
        result.reason
    )
    pilot.use([Use("bob", "2026-11-07T10:00", prompt="triage@2")])  # the version, by number
    pilot.on("2026-11-07")
    record_prompt_usage(lena)
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is Outcome.PASS, result.reason
    assert "confirmed by bob's use through the gateway" in result.reason


# -- play 5: a ticket resolved without the builder -------------------------------------------------


def test_a_fix_she_alone_calls_done_after_play_five_exited_stands_for_nobody(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """Play 5 exits on pia's ticket on bob's triage prompt: lena (who built no part of it)
    resolved it and pia confirmed the fix. Days later pia reopens it, broken again, and play
    5's exit no longer holds, nor the reach beyond the pilot it gave. pia files it anew; lena
    resolves it with a note and nobody confirms the fix. The rule before the opener's
    confirmation was asked spares the resolutions play 5 exited on, not one made after: pia's
    word is asked, as in any program."""
    pia = pilot.people["pia"]
    clock = pilot.clock
    first = open_ticket(pia, "triage returns nothing", category="it-broke",
                        component="prompt:triage")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(lena, first.id, note="the template lost its variable")
    clock.advance(hours=1)
    confirm_fix(pia, first.id, text="works again")
    exit_at = lena.state().head_seq  # play 5 exits here, as the check sees it
    result = _judge(lena, TICKET, exited=("support",), exited_at=exit_at)
    assert result.outcome is Outcome.PASS, result.reason
    clock.advance(days=3)
    reopen_ticket(pia, first.id, reason="empty again")
    result = _judge(lena, TICKET, exited=("support",), exited_at=exit_at)
    assert result.outcome is Outcome.FAIL
    assert f"{first.id} reopened 3 days after lena resolved it" in result.reason
    clock.advance(hours=1)
    again = open_ticket(pia, "triage is empty again", category="it-broke",
                        component="prompt:triage")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(lena, again.id, note="fixed for good")
    result = _judge(lena, TICKET, exited=("support",), exited_at=exit_at)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        f"{again.id} resolved by lena; pia, who opened it, has not confirmed the fix"
        in result.reason
    )
    clock.advance(hours=1)
    confirm_fix(pia, again.id, text="works")  # the honest path: pia's own word
    result = _judge(lena, TICKET, exited=("support",), exited_at=exit_at)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{again.id} resolved by lena, not one of its builders (bob), fix confirmed by pia" in (
        result.reason
    )


def test_a_shorter_older_window_recorded_after_the_dead_month_does_not_hide_it(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """December's report is recorded (by lena, or the timer that reports each month) and fails:
    nobody used the tool. lena then records a month-long window that ends on 2 December and
    takes in November's use: the latest recorded, it stood for the program until it too was
    overdue. The report judged is the one of the latest period, whenever it was recorded."""
    pilot.on("2027-01-02")
    rollup_usage(lena)
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.0, output_per_mtok=6.0,
               source="the vendor's price page")  # fmt: skip
    _report(lena, "2026-12")
    _report(lena, "2026-11-03..2026-12-02")
    result = _judge(lena, "indicators-reported")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "the gateway signed no answered request in 2026-12-01..2026-12-31" in result.reason
