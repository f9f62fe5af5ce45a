"""``make demo``: walk a sample program through the playbook with the real CLI, then start the
embedded runtime (llama.cpp) on the project's tiny test model, or a GGUF you pass, and send it
one chat.

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


def _chat(root: Path, model: str | None) -> int:
    """Serve a model on loopback with the real llama.cpp engine, send one chat, stop it."""
    import asyncio

    from inhouse.errors import InhouseError
    from inhouse.location import models_dir
    from inhouse.runtimes import (
        TEST_MODEL_LABEL,
        ChatRequest,
        connect_embedded,
        create_test_model,
        is_test_model,
        serve_embedded,
        stop_embedded,
    )

    try:
        if model is None:
            print("# Make the project's tiny test model (random weights: it writes nonsense)")
            path = Path(create_test_model(models_dir(root)).path)
        else:
            path = Path(model).expanduser().resolve()
        print(f"# Serve {path.name} with the embedded llama.cpp runtime on loopback")
        state = serve_embedded(path, program=root)
        print(f"serving on {state.url} (pid {state.pid})")
        try:

            async def once() -> str:
                async with connect_embedded(root) as runtime:
                    request = ChatRequest.model_validate(
                        {
                            "messages": [
                                {"role": "user", "content": "Summarise: printer is down."}
                            ],
                            "max_tokens": 32,
                            "seed": 1,
                        }
                    )
                    return (await runtime.chat(request)).text

            reply = asyncio.run(once())
            label = TEST_MODEL_LABEL if is_test_model(path) else path.name
            print(f"[{label}] {reply!r}")
        finally:
            print(stop_embedded(root).detail)
    except InhouseError as err:
        print(f"demo failed at the runtime step: {err}")
        return 1
    return 0


def main(folder: str = "demo-program", model: str | None = None) -> int:
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
    if _chat(root, model) != 0:
        return 1
    print(
        "\nDemo done: two handoffs accepted by their receivers; two anti-patterns refused (on the\n"
        "record, see `inhouse audit log`) and two identity rules enforced.\n"
        f"Look around: cd {folder} && inhouse status"
    )
    return 0


def _cli() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m inhouse.demo", description=__doc__)
    parser.add_argument("folder", nargs="?", default="demo-program", help="where to create it")
    parser.add_argument("--model", help="a GGUF file to serve instead of the test model")
    args = parser.parse_args()
    return main(args.folder, args.model)


if __name__ == "__main__":
    raise SystemExit(_cli())
