"""Every script in benchmarks/ runs, small, and prints its figures' labels.

The benchmarks print performance figures and nothing in the suite asserts a time (a shared
machine's clock says little); but a script nothing runs rots: one stopped with a ``TypeError``
after the code it times changed its signature, another after a check it evaluates asked for
more. Each runs here in a fresh process, as a person runs it, with the smallest sizes its own
arguments take, and must exit 0 and print the labels of its figures: the figures themselves are
never read. A part a script leaves out when a tool is missing or declined (nginx, LiteLLM, the
replicas' Redis) is left out here, and the script must say so. Every ``.py`` under benchmarks/
is either run here or named as a helper another one runs, so a new benchmark comes with its
small run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PROMPTFOO = Path(__file__).resolve().parent / "workflows" / "fixtures" / "promptfoo"
#: not a time the test asserts: a guard so that a hung script fails instead of hanging the suite
HANG = 600


@dataclass(frozen=True)
class Case:
    script: str  # relative to benchmarks/
    args: tuple[str, ...]
    labels: tuple[str, ...]  # each printed by a run that measured what it says
    postgres: tuple[str, ...] = ()  # printed too where INHOUSE_TEST_POSTGRES_URL names a server
    slow: bool = False
    #: patterns a run that measured what it says never prints (a failed stream, say)
    never: tuple[str, ...] = ()


# fmt: off
CASES = [
    Case("cli_startup.py", ("1",), ("inhouse --help   median", "inhouse status   median")),
    Case("fold_invitations.py", ("200", "50"),
         ("events 200, the lead's open invitations 50", ": fold ", "CPU")),
    Case("fold_pilot.py", ("300", "20", "20"),
         ("events 300, people with a grant 20, role changes 20: fold ",)),
    Case("indicators_report.py", ("--events", "2000", "--runs", "1"),
         ("SQLite:", "loaded 2,000 events", "build_report (in process): median",
          "`inhouse indicators report` (new process"),
         postgres=("PostgreSQL:", "PostgreSQL, November:"), slow=True),
    Case("indicators_signed_usage.py", ("--people", "50", "--runs", "1"),
         ("counting (which people each fact counts for)", "now: who held a key that day",
          "now: signed_totals", "the check itself", "now: Signed.read, masks")),
    Case("load_accuracy.py",
         ("--levels", "1,4", "--repeat", "1", "--tokens", "4", "--ttft-ms", "20",
          "--tpot-ms", "5"),
         ("streams  run   TTFT p50", "worst at   1 streams", "worst at   4 streams")),
    Case("pilot_adoption.py", ("--rows", "2000", "--runs", "1"),
         # "of 10": play 4 counts the ten members, so the queries time a pilot, not nobody
         ("sqlite: a pilot of 10 among 200 people", "of 10 on their own",
          "plan of the active-days query",
          "adoption_report    median", "prompts_used "),
         postgres=("postgresql: a pilot of 10",)),
    Case("runtime_overhead.py", ("--requests", "3"),
         ("raw httpx        median", "inhouse adapter  median", "overhead         median"),
         slow=True),
    Case("scanner.py", ("--mb", "0.05", "--dense-mb", "0.02", "--repeat", "1"),
         ("sparse", "MB/s", "dense: precision")),
    Case("status_events.py", ("300", "1"),
         ("built 300 events", "in-process: fold", "inhouse status --json on 300 events: median"),
         slow=True),
    Case("usage_totals.py", ("--rows", "2000", "--runs", "1"),
         ("per person, 28 days:", "per day and person:"), postgres=("postgresql",)),
    Case("web_pages.py", ("--events", "300", "--rows", "2000", "--runs", "1"),
         ("built 300 events and 2,000 usage rows", "sign-in (the first fold",
          "/                median", "/indicators.json median", "/audit.json      median"),
         slow=True),
    Case("gateway/bench_gateway.py",
         ("--levels", "1", "--seconds", "1", "--no-litellm", "--no-replicas", "--no-nginx",
          "--spool-sync", "batch", "--inhouse-workers", "1"),
         ("(a) direct", "(n) nginx: skipped", "(p) python floor:", "(b) inhouse gateway",
          "(r) replicas: skipped (--no-replicas)", "(c) litellm: skipped (--no-litellm)",
          "added latency over direct", "python-floor     c=1", "inhouse-batch    c=1"),
         slow=True, never=(r"err=[1-9]", r"errors [1-9]")),
    Case("gateway/bench_usage_insert.py", ("--records", "300", "--batch", "100"),
         ("SQLite (WAL)", "INSERT … RETURNING (replays)", "multi-row INSERT (own records)"),
         postgres=("PostgreSQL", "COPY (own records)")),
    Case("gateway/one_stream.py", ("--seconds", "1"),
         ("1. one small call right after sleeping", "UsageRecord.now",
          # the probed gateway's medians (written as it stops: fewer than 50 answers here)
          "the steps' medians over", "before: authenticate", "end: record (all)",
          "sum of the steps before upstream"), slow=True),
]
# fmt: on

#: run by the benchmarks above, not on their own
HELPERS = {
    "signed_rows.py": "the fold and status benchmarks' way to append signed events",
    "gateway/python_floor.py": "bench_gateway.py's (p) and count_instructions.py's floor",
    "gateway/probe/sitecustomize.py": "one_stream.py's probe, on the probed gateway's path",
    "gateway/count_instructions.py": "run below, apart: it needs valgrind",
    "promptfoo_examples.py": "run below, apart: it needs a folder of configs",
}


def _run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh process, as a person runs it from a checkout."""
    env = dict(os.environ)
    env.pop("INHOUSE_DATABASE_URL", None)  # each benchmark makes its own store
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG, check=False,
    )  # fmt: skip


def _postgres() -> bool:
    """Whether the scripts that time PostgreSQL too will (they read the same variable)."""
    if os.environ.get("INHOUSE_TEST_POSTGRES_URL"):
        return True
    if os.environ.get("CI") == "true":
        pytest.fail("CI must test PostgreSQL: set INHOUSE_TEST_POSTGRES_URL (see .ci/run)")
    return False


def _params() -> list[object]:
    return [
        pytest.param(case, id=case.script, marks=[pytest.mark.slow] if case.slow else [])
        for case in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_the_benchmark_runs_small_and_prints_its_figures(case: Case, tmp_path: Path) -> None:
    done = _run(case.script, *case.args, cwd=tmp_path)
    out = done.stdout + done.stderr
    ran = f"{case.script} {' '.join(case.args)}"
    assert done.returncode == 0, f"{ran} exited {done.returncode}:\n{out[-4000:]}"
    expected = case.labels + (case.postgres if _postgres() else ())
    missing = [label for label in expected if label not in done.stdout]
    assert not missing, f"{case.script} did not print {missing}:\n{done.stdout[-4000:]}"
    wrong = [found.group() for pattern in case.never if (found := re.search(pattern, done.stdout))]
    assert not wrong, f"{case.script} printed {wrong}:\n{done.stdout[-4000:]}"


def test_the_promptfoo_importer_benchmark_says_what_it_kept(tmp_path: Path) -> None:
    folder = tmp_path / "examples"
    shutil.copytree(PROMPTFOO, folder / "kept")
    (folder / "refused").mkdir()
    (folder / "refused" / "promptfooconfig.yaml").write_text(
        "providers: [openai:gpt-4o]\ntests: []\n"
    )
    done = _run("promptfoo_examples.py", str(folder), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert lines["kept/promptfooconfig.yaml"].split()[1].startswith("kept")
    assert lines["refused/promptfooconfig.yaml"].split()[1] == "refused"
    assert "2 configs: 1 keep every test case" in done.stdout


def test_the_promptfoo_benchmark_refuses_a_folder_with_no_configs(tmp_path: Path) -> None:
    # a mistyped folder must not read as "0 configs, nothing lost"
    done = _run("promptfoo_examples.py", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert done.returncode != 0
    assert "no such folder" in done.stderr
    done = _run("promptfoo_examples.py", str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert "no promptfooconfig*.yaml under it" in done.stderr


@pytest.mark.slow
def test_the_instruction_count_runs_small_or_says_it_needs_valgrind(tmp_path: Path) -> None:
    args = ("--streams", "3", "--warmup", "1", "--concurrency", "1", "--tokens", "4",
            "--no-floor")  # fmt: skip
    done = _run("gateway/count_instructions.py", *args, cwd=tmp_path)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        # valgrind is the whole measurement: without it the script says so and stops
        assert done.returncode != 0
        assert "valgrind is not installed" in done.stderr
        return
    assert done.returncode == 0, done.stdout + done.stderr
    assert "under callgrind" in done.stdout
    assert "k instructions per stream  (gateway, all policies on" in done.stdout


def test_every_benchmark_runs_here_or_is_a_helper() -> None:
    scripts = {str(p.relative_to(BENCHMARKS)) for p in BENCHMARKS.rglob("*.py")}
    covered = {case.script for case in CASES} | set(HELPERS)
    assert scripts - covered == set(), "a benchmark with no small run in this module"
    assert covered - scripts == set(), "a benchmark named here that is gone"
