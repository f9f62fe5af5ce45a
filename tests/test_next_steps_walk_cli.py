"""A team that only follows `inhouse status`, through the CLI: a demo program from scratch, the
lead copying the command her next step names and running it. Where that stalled, pinned here:

- play 1's step said to run `inhouse prove`, which fails without the trial's name, and said
  nothing of the trial spec it names (trials/NAME.yaml) nor where a demo gets one;
- "start play 1 (`inhouse play start 1`)" was refused: lena, who would own it, is no
  play-owner; the step now names the command that gives her the role first.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_cli import ok


def _steps(out: str) -> str:
    """The next steps ``inhouse status`` printed, on one line (the terminal wraps them)."""
    return " ".join(out.split("Next steps", 1)[1].split())


def _command(text: str) -> str:
    """The last command a step names: what it asks to run."""
    found = re.findall(r"`(inhouse [^`]*)`", text)
    assert found, text
    return str(found[-1])


def _play_one_started() -> None:
    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("hypothesis", "A local model drafts ticket summaries", "--replaces", "manual summaries")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("play", "start", "1")


def test_play_1_s_trial_step_names_the_trial_to_fill_in_and_where_its_spec_lies(
    _isolated: Path,
) -> None:
    _play_one_started()
    steps = _steps(ok("status"))
    assert _command(steps) == "inhouse prove NAME", steps
    assert "trials/NAME.yaml in the program folder (docs/trials.md)" in steps, steps
    # a demo has a sample trial to hand: the command that writes it is named, and works
    assert "`inhouse demo files` writes a sample, trials/tickets.yaml" in steps, steps
    ok("demo", "files")
    assert (_isolated / "trials" / "tickets.yaml").is_file()


def test_a_start_the_lead_would_be_refused_names_the_role_she_lacks_first(
    _isolated: Path,
) -> None:
    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("hypothesis", "A local model drafts ticket summaries", "--replaces", "manual summaries")
    steps = _steps(ok("status"))
    assert "start play 1 (Prove value on one machine): its trigger holds" in steps, steps
    given = "is owned by a play-owner; lena is not one (add it: `inhouse person role lena --add "
    assert given + "play-owner`); then `inhouse play start 1`)" in steps, steps
    # each command it names, in turn, works
    for command in re.findall(r"`(inhouse [^`]*)`", steps):
        ok(*command.split()[1:])
    assert "start play 1" not in _steps(ok("status"))
