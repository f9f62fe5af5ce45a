"""The outsider, round 24: a rollout lead's first day, from the README and docs alone.

A lead who has never seen inhouse walks the README's tour by hand in a demo program (she has no
identity provider to try it with), with two colleagues on her one computer, each in a shell of
their own, and goes on to a real trial of her own. What stopped her, each pinned here:

- ``sign-in login`` in a demo told her to have a lead set up the organisation's sign-in, which a
  demo does not need (it tells people apart by machine): she went looking for an identity
  provider;
- a colleague who joined without ``INHOUSE_MACHINE_ID`` learnt only from a later ``status`` that
  he had enrolled from her machine, and ``join`` named no next step either;
- a trial whose candidate was an inline ``url`` (a server naming no weights) proved play 1 and
  said nothing; play 2 refused the colleague's whole rerun of it afterwards.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from tests.clitools import cli
from tests.engine import needs_engine
from tests.test_cli import invite, ok, own_machine
from tests.trials.test_prove import COST, tickets, write_inputs
from tests.trials.test_prove import program as program
from tests.workflows.conftest import baseline_program as baseline_program
from tests.workflows.conftest import people as people


def test_sign_in_login_in_a_demo_says_a_demo_needs_none(_isolated: Path, tmp_path: Path) -> None:
    """omar, in a demo, follows the README's `inhouse sign-in login` after joining: refused,
    and the refusal says a demo needs no sign-in and how it tells people apart instead."""
    ok("init", "Acme", "--lead", "lena", "--demo")
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invite("omar"), env=env)
    out = " ".join(cli("sign-in", "login", env=env, code=2).split())
    assert "demo program has no sign-in set up, and needs none" in out, out
    assert "INHOUSE_MACHINE_ID" in out, out


def test_sign_in_login_outside_a_demo_still_names_the_lead_s_setup(
    _isolated: Path, tmp_path: Path
) -> None:
    """A real program without a sign-in: the refusal still sends omar to a lead's setup and
    says nothing of going on without one."""
    ok("init", "Acme", "--lead", "lena")
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invite("omar"), env=env)
    out = " ".join(cli("sign-in", "login", env=env, code=2).split())
    assert "a rollout lead runs `inhouse sign-in setup" in out, out
    assert "needs none" not in out, out


def test_join_from_the_lead_s_machine_warns_at_once(_isolated: Path, tmp_path: Path) -> None:
    """In a demo on one computer, tom joins in a shell without INHOUSE_MACHINE_ID: his key is
    enrolled from lena's machine, for good (the invitation is spent). `join` says so there and
    then, with what to do, and names his next step; omar, who set it, is not warned."""
    ok("init", "Acme", "--lead", "lena", "--demo")
    out = " ".join(cli("join", invite("omar"), env=own_machine("omar", tmp_path / "keys")).split())
    assert "warning" not in out, out
    assert "Next: `inhouse status`" in out, out
    tom = {"INHOUSE_KEY": str(tmp_path / "keys" / "tom.key")}
    out = " ".join(cli("join", invite("tom"), env=tom).split())
    assert "warning: tom enrolled from the same machine as lena" in out, out
    assert "INHOUSE_MACHINE_ID" in out, out


def test_a_trial_whose_candidate_names_no_weights_says_so_at_play_one(program: Path) -> None:
    """lena's trial names its candidate inline (`url`, `model`), a server that names no
    weights. Play 1 passes on it; play 2 would refuse any colleague's rerun of it. `prove`
    says so beside the verdict, with what to do, in its output and its report."""
    write_inputs(program, tickets(6))
    (program / "data" / "minutes.csv").write_text(
        "minutes,output\n" + "".join(f"{4 + i},Printer {i} jams\n" for i in range(6))
    )
    with spawn_standin(StandinTiming(1, 1, 4), model="local-model") as local:
        spec = {
            "description": "one-line ticket summaries",
            "task": {"prompt": "Summarise: {{ text }}", "inputs": "data/tickets.jsonl"},
            "candidate": {"url": local.url, "model": "local-model", "cost": COST},
            "status_quo": {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42},
            "checks": [{"type": "length", "min": 1}],
            "meaningful": {"faster": 30},
            "generation": {"max_tokens": 8, "temperature": 0, "seed": 1},
            "resamples": 1000,
        }
        (program / "trials").mkdir()
        (program / "trials" / "tickets.yaml").write_text(yaml.safe_dump(spec))
        data = json.loads(ok("prove", "tickets", "--json"))
    assert data["candidate"]["inventory"]["digest"] is None
    said = [c for c in data["caveats"] if "named no weights" in c]
    assert len(said) == 1, data["caveats"]
    assert "play 2 cannot show a colleague's rerun ran the same model" in said[0]
    assert "prove it again" in said[0]


def test_bench_s_table_folds_a_long_latency_never_cuts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `inhouse bench … --concurrency 32` on an 80-column terminal printed
    p95 "1016.…" and max "1069.…": a number cut short. Every latency is printed whole."""

    monkeypatch.setenv("COLUMNS", "80")  # the terminal the CLI prints on
    with spawn_standin(StandinTiming(1100, 1, 4), model="slow") as slow:
        out = ok("bench", slow.url, "--model", "slow", "-n", "2", "--concurrency", "2",
                 "--warmup", "0")  # fmt: skip
    table = out.split("completed")[0]
    assert "TTFT" in table, out
    assert not re.search(r"\S…", table), table


#: a workflow a newcomer writes first: two tickets, each checked for an answer of sane length
SANE_LENGTH = """\
name: sane
description: Summarise a support ticket
owner: omar
frequency: daily
model: inhouse-test-model
parameters: {temperature: 0, max_tokens: 16, seed: 7}
variables:
  ticket: {type: string}
prompt:
  user: "Ticket: {{ ticket }}"
tests:
  - name: printer
    vars: {ticket: The printer on floor 2 is jammed again.}
    checks:
      - {type: length, min: 1, max: 2000}
  - name: vpn
    vars: {ticket: VPN drops every ten minutes.}
    checks:
      - {type: length, min: 1, max: 2000}
"""


@needs_engine
def test_a_workflow_the_test_model_passes_by_length_says_how_to_test_it(
    baseline_program: Path,
    people: dict[str, dict[str, str]],
) -> None:
    """omar tries play 3 on the test model with cases checked for length alone: the run
    passes and counts for nothing, and the output says why for the test model and points at
    the demo's workflow, which holds each ticket to what the test model says for it."""
    (baseline_program / "workflows" / "sane.yaml").write_text(SANE_LENGTH)
    out = " ".join(cli("workflow", "test", "sane", env=people["omar"]).split())
    assert "play 3 does not count this run" in out, out
    assert "the test model writes nonsense: a case needs it only where" in out, out
    assert "workflows/ticket-summary.yaml" in out, out


def test_after_the_demo_a_command_that_needs_a_key_names_the_demo_s_keys(
    _isolated: Path, tmp_path: Path
) -> None:
    """After `make demo`, the lead looks around in demo-program/: `inhouse whoami` said only
    that she had no key and should join, though the demo's people's keys are in .demo-keys/.
    It names them and how to act as one; with no .demo-keys/ the plain refusal stands."""
    ok("init", "Acme", "--lead", "lena", "--demo", env={"INHOUSE_KEY": str(tmp_path / "l.key")})
    nobody = {"INHOUSE_KEY": str(tmp_path / "none.key")}
    out = " ".join(cli("whoami", env=nobody, code=3).split())
    assert "enrol with `inhouse join INVITATION`" in out, out
    (_isolated / ".demo-keys").mkdir()
    out = " ".join(cli("whoami", env=nobody, code=3).split())
    assert "this demo's people act with the keys `make demo` keeps in" in out, out
    assert "INHOUSE_KEY=.demo-keys/lena.key" in out, out
