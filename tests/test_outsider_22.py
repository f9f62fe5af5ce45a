"""A person's use is use through a key of their own, wherever the checks count it.

``indicators-reported`` counts as active only people who asked through a key of their own (the
gateway's signed ``usage.daily`` says, per person and day, how many requests came through one:
``own``). Play 6's trigger, ``use-beyond-pilot``, counted any request, an agent's included: a
lead alone grants zoe, who never used the tool, an agent key (``--agent``), points a tool of
their own at it, and zoe is "in real use beyond the pilot". A day signed before the rollup
counted ``own`` counts as before, and so does a day play 6's exit was judged on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from inhouse.program.checks import Outcome
from inhouse.program.facts import Fact
from tests.test_playchecks import EXITED, NOW, _judged, fact, person, pilot

PEOPLE = {**pilot(2, 1), "zoe": person("zoe", "sales")}
#: a day after play 5 (support) exited: use on it is use beyond the pilot
DAY = (NOW.date() - timedelta(days=2)).isoformat()


def _day(own: int | None, requests: int = 4) -> Fact:
    """The gateway's signed day of zoe's ``requests``, ``own`` of them through her own key
    (None: a fact signed before the rollup counted them)."""
    mine: dict[str, Any] = {"requests": requests}
    if own is not None:
        mine["own"] = own
    return fact("usage.daily", by="gateway", day=DAY, people={"zoe": mine})


def test_use_beyond_pilot_counts_no_agents_requests() -> None:
    """The forgery: every request of zoe's came through an agent key in her name (``own`` 0):
    nobody beyond the pilot uses it, and the refusal says why."""
    forged = _judged("use-beyond-pilot", _day(own=0), people=PEOPLE)
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "0 people beyond the pilot use it; need 1" in forged.reason
    assert "zoe, whose requests came only through an agent's key" in forged.reason
    assert forged.evidence == ()


def test_use_beyond_pilot_counts_own_key_use_and_days_from_before_own() -> None:
    """The honest path: one request through zoe's own key makes her a user; so does a day
    signed before the gateway counted own-key requests (it cannot say whose key)."""
    honest = _day(own=1)
    result = _judged("use-beyond-pilot", honest, people=PEOPLE)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "1 people beyond the pilot use it"
    assert result.evidence == (honest,)
    older = _day(own=None)
    result = _judged("use-beyond-pilot", older, people=PEOPLE)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.evidence == (older,)


def test_use_beyond_pilot_keeps_the_earlier_rule_for_days_play_6_exited_on() -> None:
    """A program whose play 6 exited on a day only zoe's agent used keeps seeing her as a user
    on that day (its exit judged the day by the rule then); a day recorded since the exit's mark
    is judged by today's rule."""
    before = _day(own=0)
    exited = {**EXITED, "measure": (NOW, before.id)}
    kept = _judged("use-beyond-pilot", before, people=PEOPLE, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert kept.evidence == (before,)
    since = _day(own=0)
    exited = {**EXITED, "measure": (NOW, since.id - 1)}
    result = _judged("use-beyond-pilot", since, people=PEOPLE, exited=exited)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "zoe, whose requests came only through an agent's key" in result.reason
