"""``make demo``: walk a sample program through the playbook with the real CLI.

Every step is a real ``inhouse`` command run in a fresh ``demo-program/`` folder, printed as a
person would type it. Steps marked *refused* must be refused (an anti-pattern the engine
stops); if one is let through, or a normal step fails, the demo stops with an error, so it
cannot quietly rot. Facts that later collectors will measure (the trial, the lock, the verify)
are attested here and shown as attested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["main"]

_STEPS: list[tuple[str, list[str], bool]] = [
    ("Start the program; lena leads it", ["init", "Acme local LLMs", "--lead", "lena"], True),
    ("lena also owns play 1", ["person", "role", "lena", "--add", "play-owner"], True),
    (
        "omar does ticket triage most",
        ["person", "add", "omar", "--team", "support", "--role", "play-owner"],
        True,
    ),
    (
        "A credible hypothesis is play 1's trigger",
        [
            "hypothesis",
            "A local model drafts ticket summaries as well as the hosted API, for less",
            "--replaces",
            "hosted LLM API",
        ],
        True,
    ),
    ("Play 1 starts: its trigger holds", ["play", "start", "1"], True),
    (
        "The trial's verdict (attested here; `inhouse prove` will measure it)",
        [
            "fact",
            "record",
            "trial.verdict",
            "--attest",
            "ran 40 real tickets both ways by hand",
            "--set",
            "trial=ticket-summaries",
            "--set",
            "verdict=proven",
            "--set",
            'proven_on=["cheaper","more-private"]',
            "--set",
            "quality_ok=true",
        ],
        True,
    ),
    (
        "REFUSED: scaling before proving - a pilot user before plays 2 and 3",
        ["person", "add", "pia", "--team", "legal", "--role", "pilot-user"],
        False,
    ),
    (
        "lena hands play 1 on (1 -> 2 is the same person by design)",
        ["handoff", "offer", "1", "--to", "lena", "--comment", "report in trials/"],
        True,
    ),
    (
        "...and accepts it as the receiver",
        ["handoff", "accept", "1", "--comment", "a use case I can standardise"],
        True,
    ),
    (
        "omar asks to get in: play 2's trigger",
        [
            "fact",
            "record",
            "access.request",
            "--attest",
            "asked in #support",
            "--set",
            "person=omar",
        ],
        True,
    ),
    ("Play 2 starts", ["play", "start", "2"], True),
    (
        "The lock (attested here; `inhouse baseline lock` will measure it)",
        [
            "fact",
            "record",
            "baseline.lock",
            "--attest",
            "pinned by hand",
            "--data",
            '{"lock_hash": "demo-lock-1", "rules_hash": "demo-rules",'
            ' "runtime": {"family": "llamacpp", "version": "b4500"},'
            ' "models": [{"name": "tiny-test", "digest": "sha256:demo"}]}',
        ],
        True,
    ),
    (
        "The install script for that lock",
        [
            "fact",
            "record",
            "baseline.install_script",
            "--attest",
            "wrote install.sh",
            "--set",
            "lock_hash=demo-lock-1",
            "--set",
            "sha256=demo",
        ],
        True,
    ),
    (
        "REFUSED: lena cannot hand play 2 to herself: the playbook says the owners differ",
        ["handoff", "offer", "2", "--to", "lena"],
        False,
    ),
    (
        "omar stands the baseline up from the docs",
        [
            "fact",
            "record",
            "baseline.verify",
            "--attest",
            "followed BASELINE.md on my laptop",
            "--set",
            "lock_hash=demo-lock-1",
            "--set",
            "passed=true",
            "--as",
            "omar",
        ],
        True,
    ),
    ("lena offers play 2 to omar", ["handoff", "offer", "2", "--to", "omar"], True),
    ("REFUSED: lena cannot accept for omar", ["handoff", "accept", "2", "--as", "lena"], False),
    (
        "omar, the receiver, accepts",
        ["handoff", "accept", "2", "--as", "omar", "--comment", "stood it up cold from the docs"],
        True,
    ),
    (
        "REFUSED: calendar-driven advance - play 3 with no recurring task named",
        ["play", "start", "3", "--as", "omar"],
        False,
    ),
    ("Where the program stands", ["status"], True),
    ("The log is hash-chained and untampered", ["audit", "verify"], True),
]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")}
    env.pop("INHOUSE_PROGRAM", None)
    env.pop("INHOUSE_USER", None)
    return subprocess.run(
        [sys.executable, "-m", "inhouse", *args], cwd=cwd, env=env, text=True, capture_output=True
    )


def _shown(args: list[str]) -> str:
    import shlex

    return "inhouse " + " ".join(shlex.quote(a) for a in args)


def main(folder: str = "demo-program") -> int:
    root = Path(folder).resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    print(f"inhouse demo: a sample program in {root}\n")
    for title, args, should_pass in _STEPS:
        print(f"# {title}\n$ {_shown(args)}")
        result = _run(args, root)
        output = (result.stdout + result.stderr).rstrip()
        if output:
            print(output)
        print()
        if should_pass and result.returncode != 0:
            print(f"demo failed: the step above should have worked (exit {result.returncode})")
            return 1
        if not should_pass and result.returncode == 0:
            print("demo failed: the step above should have been refused")
            return 1
    print(
        "Demo done: two handoffs accepted by their receivers; two anti-patterns refused (on the\n"
        "record, see `inhouse audit log`) and two identity rules enforced.\n"
        f"Look around: cd {folder} && inhouse status"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
