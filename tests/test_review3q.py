"""Review of rt12q and rt34q (plays 1 to 3): what an honest team is told, and said true.

**A colleague's ``inhouse prove`` ran for minutes, then read as if no trial had run.** rt12q set
aside a ``trial.verdict`` whose signer had no say over play 1 (a colleague who asked in, a pilot
user): right, but ``inhouse prove`` ran the whole trial first, printed "Recorded fact #N
(trial.verdict)", and then play 1's exit line said "no trial.verdict yet: run a head-to-head
trial (`inhouse prove`)" (or, beside an earlier verdict, said nothing of theirs at all). Now
``prove`` says before it runs that the verdict will not count, and why, and after it says the
fact was not counted, in the words ``inhouse status`` uses; the report is still the runner's.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.testing.standin_upstream import StandinTiming, standin_in_thread
from tests.people import enrol_cli
from tests.trials.test_prove import COST, program, tickets, write_inputs, write_trial  # noqa: F401

runner = CliRunner()


def _said(text: str) -> str:
    return " ".join(text.split())


def test_a_colleague_s_prove_says_up_front_and_after_that_it_will_not_count(
    program: Path,  # noqa: F811
) -> None:
    """bob asked in and holds no role: his trial still runs (its report is his to read), but he
    is told before it runs, and after, that plays 1 and 2 set its verdict aside, and why; lena,
    the lead who owns play 1, is told nothing of the kind."""
    lena = Program.open(program)
    bob = enrol_cli(lena, "bob", program.parent / "keys", team="sales")
    write_inputs(program, tickets(5))
    with (
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-a") as candidate,
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-b") as status_quo,
    ):
        write_trial(
            program,
            {"kind": "api", "url": status_quo.url, "price_input_per_mtok": 1.0,
             "price_output_per_mtok": 1.0},
            candidate={"url": candidate.url, "cost": COST},
        )  # fmt: skip
        result = runner.invoke(app, ["prove", "tickets"], env=bob)
        assert result.exit_code == 0, result.stdout + result.stderr
        before = _said(result.stderr)
        assert "note: this trial's verdict will not count for plays 1 and 2" in before, before
        assert "recorded by bob, who held none of the roles" in before
        after = _said(result.stdout)
        assert "Not counted for plays 1 and 2 (fact #" in after, after
        assert "bob's trial is theirs to read (its report)" in after
        facts = json.loads(runner.invoke(app, ["fact", "list", "--json"]).stdout)
        assert [f["by"] for f in facts if f["kind"] == "trial.verdict"] == ["bob"]
        # lena's run of the same trial counts, and says nothing of the kind
        mine = runner.invoke(app, ["prove", "tickets"])
        assert mine.exit_code == 0, mine.stdout + mine.stderr
        assert "will not count" not in _said(mine.stderr)
        assert "Not counted" not in _said(mine.stdout)
    from inhouse.trials.prove import verdict_set_aside  # what the CLI asks before it runs

    assert verdict_set_aside(lena) is None
    assert "recorded by bob" in str(verdict_set_aside(Program.open(program), "bob"))
