"""Red team of plays 1 and 2, round rt12: lena alone, with colleagues who type once what she
tells them or confirm what they are shown.

A manual status quo whose CSV holds no outputs has its quality *stated* by the trial's author
(`pass_rate` in trials/NAME.yaml), and play 2's rerun compares the candidate's quality with
that figure. The rerunner's `--confirm-minutes` covers it (the flag's help says so), but what
play 2 showed them asked for the minutes alone ("its status quo is the minutes lena recorded"),
and the pass said only that the minutes were confirmed: lena's stated 10 % for the manual
process (any candidate's quality "acceptable" beside it) rode on omar's word that a ticket
takes five minutes by hand, which is all he was shown and all he confirmed. Now the reason
that asks for the confirmation, and the pass that counts it, name the stated rate beside the
minutes, so whoever confirms is shown what their word covers.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from inhouse.program.checks import Outcome
from tests.test_playchecks import reproducible, rerun, run

#: lena's manual status quo: no outputs in its CSV, a pass rate she states
_MANUAL = {"status_quo": "manual", "currency": "EUR"}
_STATED = {"status_quo": "manual", "proven_on": ["faster"], "costs_confirmed": None,
           "api_confirmed": None, "status_quo_measured": False,
           "status_quo_pass_rate": 0.1}  # fmt: skip


def test_the_confirmation_asked_for_names_the_pass_rate_the_author_stated() -> None:
    """omar is asked to confirm the minutes and, by name, the 10 % lena stated for the manual
    process: his word covers both, so both are what he is shown."""
    verdict = reproducible(proven_on=["faster"], status_quo_measured=False, economics=_MANUAL,
                           candidate_pass_rate=0.9, status_quo_pass_rate=0.1)  # fmt: skip
    asked = run("trial-reproduced", verdict, rerun(**_STATED))
    assert asked.outcome is Outcome.INCONCLUSIVE, asked.reason
    assert "its status quo is the minutes lena recorded for the manual process and the pass " \
        "rate lena stated for it (10.0 %), which the candidate's quality was compared with: " \
        "their word alone" in asked.reason  # fmt: skip
    assert "--confirm-minutes COMMENT" in asked.reason


def test_the_pass_says_the_confirmed_word_covers_the_stated_pass_rate() -> None:
    """Confirmed, the pass says whose word the stated rate is and who confirmed it; a manual
    status quo whose quality was measured on its CSV's outputs states no rate, and says none."""
    verdict = reproducible(proven_on=["faster"], status_quo_measured=False, economics=_MANUAL)
    held = run("trial-reproduced", verdict,
               rerun(**_STATED, status_quo_confirmed="I do these by hand: 5 minutes"))  # fmt: skip
    assert held.outcome is Outcome.PASS, held.reason
    assert "against the manual minutes lena recorded and the pass rate lena stated for it " \
        "(10.0 %), which omar confirmed (their word: I do these by hand: 5 minutes)" \
        in held.reason  # fmt: skip
    measured = {**_STATED, "status_quo_measured": True, "status_quo_pass_rate": 0.9,
                "status_quo_confirmed": "5 minutes", "outputs_confirmed": "checked"}  # fmt: skip
    typed = reproducible(proven_on=["faster"], status_quo_measured=True, economics=_MANUAL)
    said = run("trial-reproduced", typed, rerun(**measured))
    assert said.outcome is Outcome.PASS, said.reason
    assert "pass rate lena stated" not in said.reason
    # an API status quo states no rate either
    api = run("trial-reproduced", reproducible(proven_on=["faster"]), rerun(proven_on=["faster"]))
    assert api.outcome is Outcome.PASS and "stated" not in api.reason, api.reason


def test_the_rerun_tells_the_rerunner_their_word_covered_the_stated_pass_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What `inhouse prove NAME --rerun --confirm-minutes ...` prints once it recorded the
    rerun: the confirmation covered the minutes and the 10 % stated for the manual process."""
    from inhouse.cli.prove import _render_rerun

    fact = rerun(**_STATED, status_quo_confirmed="5 minutes each")
    done = SimpleNamespace(trial="t", spec_hash="sha256:" + "d" * 64, fact=fact, verdict=None,
                           outcome=SimpleNamespace(caveats=()), counts=True,
                           why="omar's")  # fmt: skip
    _render_rerun(done, "omar")  # type: ignore[arg-type]
    said = " ".join(capsys.readouterr().out.split())
    assert "you confirmed the manual minutes and the pass rate stated for the manual process " \
        "(10.0 %), which the candidate's quality was compared with: 5 minutes each" \
        in said  # fmt: skip
