"""``make demo``: walk a sample program through plays one to three with the real CLI and the
real llama.cpp engine, every exit measured by inhouse itself.

Every step is a real ``inhouse`` command run in a fresh ``demo-program/`` folder, printed as a
person would type it. Each person acts with a key of their own: lena creates the program (her key
is made for her), invites omar, and omar joins with his own key. For the show, the demo holds
both keys (``.demo-keys/``, one file per person) and runs omar's steps as if on his laptop
(``INHOUSE_MACHINE_ID``); in real life each key stays on its owner's machine. omar's verify of
the baseline runs in a checkout of the program folder with no access to its log, and travels
back to lena as a signed envelope (``evidence export`` / ``evidence import``), with his rerun of
play 1's trial.

The embedded runtime serves the project's tiny test model (random weights: it writes nonsense,
and is labelled so; the program is created with ``--demo``, the only kind that accepts a trial
of it) or a GGUF you pass. Play 1's verdict comes from ``inhouse prove`` (the model against the
minutes a person recorded doing the task by hand), play 2's from
``inhouse baseline lock`` and a second person's ``verify`` and rerun of the proven trial on his
laptop (``prove tickets --rerun``), play 3's from workflow tests lena wrote, rerun by omar:
someone other than the author, and no rollout lead. The facts that are a person's word are
the hypothesis (what a local model should replace is a judgement, not a measurement) and the
manual minutes the trial runs against, with what the person wrote (its quality is judged on
it) and the costs its "cheaper" rests on, which omar confirms when he reruns it
(``--confirm-minutes``, ``--confirm-outputs``, ``--confirm-costs``), each shown as whose word
it is.

Steps marked *refused* must be refused (an anti-pattern the engine stops); if one is let
through, or a normal step fails, the demo stops with an error, so it cannot quietly rot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from inhouse.demo_files import Write as _Write
from inhouse.demo_files import files as _files
from inhouse.demo_files import model as _named

__all__ = ["main"]


@dataclass(frozen=True)
class _Step:
    title: str
    args: list[str]
    should_pass: bool = True
    who: str = "lena"
    where: str = "."  # a folder under the demo root (omar's laptop checkout)
    #: what its person types at the question a command asks before their key signs (they read
    #: what it shows, in the demo's output, and answer)
    answer: str | None = None


_PLAYS: list[_Step | _Write | str] = [
    _Step(
        "Start the program; lena leads it (a demo: it accepts the test model, and says so)",
        ["init", "Acme local LLMs", "--lead", "lena", "--demo"],
    ),
    _Step("lena also owns plays 1 and 2", ["person", "role", "lena", "--add", "play-owner"]),
    "invite-omar",
    _Step("omar joins on his laptop, with a key of his own", ["join", "INVITATION"], who="omar"),
    _Step("Who omar's shell acts as", ["whoami"], who="omar"),
    _Step(
        "A credible hypothesis is play 1's trigger",
        [
            "hypothesis",
            "A local model drafts ticket summaries faster and cheaper than we do by hand",
            "--replaces",
            "manual ticket summaries",
        ],
    ),
    _Step("Play 1 starts: its trigger holds", ["play", "start", "1"]),
    "files",
    "serve",
    _Step(
        "The head-to-head trial, measured (the report lands in .inhouse/reports/)",
        ["prove", "tickets"],
    ),
    _Step(
        "REFUSED: scaling before proving - a pilot user before plays 2 and 3",
        ["person", "invite", "pia", "--team", "legal", "--role", "pilot-user"],
        should_pass=False,
    ),
    _Step(
        "lena hands play 1 on (1 -> 2 is the same person by design)",
        ["handoff", "offer", "1", "--to", "lena", "--comment", "report in .inhouse/reports/"],
    ),
    _Step(
        "...and accepts it as the receiver",
        ["handoff", "accept", "1", "--comment", "a use case I can standardise"],
        answer="y",
    ),
    _Step("omar asks to get in, signed with his own key", ["access", "request"], who="omar"),
    _Step("Play 2 starts", ["play", "start", "2"]),
    _Step("Pin the runtime and the model by digest", ["baseline", "lock"]),
    _Step("The install script a second person runs", ["baseline", "install-script"]),
    _Step("BASELINE.md: what is supported, how to install, the data rules", ["baseline", "docs"]),
    _Step(
        "REFUSED: lena cannot hand play 2 to herself: the playbook says the owners differ",
        ["handoff", "offer", "2", "--to", "lena"],
        should_pass=False,
    ),
    _Step("The owner's own verify does not count", ["baseline", "verify"]),
    _Step(
        "FORGERY, not counted: lena's word that omar verified (shown, labelled, inconclusive)",
        [
            "fact",
            "record",
            "baseline.verify",
            "--attest",
            "omar told me it worked",
            "--on-behalf-of",
            "omar",
            "--set",
            "lock_hash=LOCK",
            "--set",
            "passed=true",
        ],
    ),
    "laptop",
    _Step(
        "omar serves the model on his laptop, as the install script does",
        ["runtime", "serve", "MODEL"],
        who="omar",
        where="omar-laptop",
    ),
    _Step(
        "omar verifies the baseline in his own checkout (no access to the program's log)",
        ["baseline", "verify"],
        who="omar",
        where="omar-laptop",
    ),
    _Step(
        "omar reruns play 1's proven trial there: the same spec, checks and weights, his pass "
        "rate and advantage against the verdict's; the manual minutes, the answers written "
        "by hand (the status quo's quality), and the costs behind 'cheaper' (the hourly cost, "
        "the laptop's price and power) are lena's word, which nothing measures, so he confirms "
        "them with his own",
        [
            "prove",
            "tickets",
            "--rerun",
            "--confirm-minutes",
            "I do these tickets by hand too: 3 to 6 minutes each is right",
            "--confirm-outputs",
            "these are the first lines we wrote back on these tickets; I checked the tracker",
            "--confirm-costs",
            "we pay 48 an hour loaded; the laptop cost 1800 and draws about 65 W",
        ],
        who="omar",
        where="omar-laptop",
        answer="y",
    ),
    _Step("omar stops his runtime", ["runtime", "stop"], who="omar", where="omar-laptop"),
    _Step(
        "...and exports his signed evidence (his enrolment is already in; the verify and the "
        "rerun travel)",
        ["evidence", "export", "-o", "../omar-evidence.json"],
        who="omar",
        where="omar-laptop",
    ),
    _Step(
        "lena imports it: the signature, not the channel, says omar made it",
        ["evidence", "import", "omar-evidence.json"],
    ),
    _Step("lena offers play 2 to omar", ["handoff", "offer", "2", "--to", "omar"]),
    _Step(
        "REFUSED: lena cannot accept for omar (her key is not his)",
        ["handoff", "accept", "2"],
        should_pass=False,
    ),
    _Step(
        "omar, the receiver, accepts with his own key",
        ["handoff", "accept", "2", "--comment", "stood it up from the docs"],
        who="omar",
        answer="y",
    ),
    _Step(
        "REFUSED: calendar-driven advance - play 3 with no recurring task named",
        ["play", "start", "3"],
        should_pass=False,
        who="omar",
    ),
    _Step(
        "The workflow spec names the task and its frequency: play 3's trigger",
        ["workflow", "validate", "ticket-summary"],
        who="omar",
    ),
    _Step("Play 3 starts", ["play", "start", "3"], who="omar"),
    _Step(
        "lena wrote the workflow and runs its tests first: she publishes this version (its "
        "author), so her run alone does not exit play 3",
        ["workflow", "test", "ticket-summary"],
    ),
    _Step(
        "omar reruns them on his machine: someone other than the author, and no rollout lead "
        "(a lead's rerun of a version an owner she put in charge published checks her own work)",
        ["workflow", "test", "ticket-summary"],
        who="omar",
    ),
    _Step("Where the program stands", ["status"]),
    _Step("The log is hash-chained and every event signed by its actor's key", ["audit", "verify"]),
    _Step("Anchor its head in a file meant for git", ["audit", "anchor"]),
]


_KEYS = ".demo-keys"


def _run(
    args: list[str],
    cwd: Path,
    who: str = "lena",
    keys: Path | None = None,
    answer: str | None = None,
) -> subprocess.CompletedProcess[str]:
    keys = keys or cwd / _KEYS
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")}
    env.pop("INHOUSE_PROGRAM", None)
    env.pop("INHOUSE_USER", None)
    env["INHOUSE_KEY"] = str(keys / f"{who}.key")
    env["INHOUSE_MACHINE_ID"] = f"{who}-laptop"  # the show: each person on their own machine
    # `-m` puts the current folder (the program's) first on sys.path: an `inhouse` package
    # lying there would run in place of this one, with each person's key
    env["PYTHONSAFEPATH"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "inhouse", *args],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        input=None if answer is None else answer + "\n",
    )


def _exits_met(root: Path) -> bool:
    """Whether plays 1 to 3's exits are met, as the demo says they are at its end; where one is
    not (every step ran, but a check no longer counts what the demo shows), which, and why."""
    import json

    status = json.loads(_run(["status", "--json"], root).stdout)
    for play in status["plays"][:3]:
        if not play["exit_met"]:
            why = "; ".join(
                f"{row['check']}: {row['reason']}"
                for row in play["exit"]
                if row["outcome"] != "pass"
            )
            print(f"inhouse demo: play {play['id']}'s exit is not met ({why})", file=sys.stderr)
            return False
    return True


def _shown(args: list[str]) -> str:
    import shlex

    return "inhouse " + " ".join(shlex.quote(a) for a in args)


def _model(root: Path, model: str | None) -> tuple[str, str] | None:
    """(the name the runtime lists the model by, its path as inhouse.toml names it); None where
    making the test model failed."""
    made = _named(model)
    if model is None:
        # a command, printed as the others are: made through the Python API, the step showed
        # a title and nothing a reader walking the demo by hand could type
        make = _Step(
            "Make the project's tiny test model (random weights: it writes nonsense)",
            ["models", "make-test-model", "--output", made[1]],
        )
        if not _command(make, root):
            return None
    return made


def _write(step: _Write, root: Path) -> None:
    target = root / step.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a" if step.append else "w", encoding="utf-8") as handle:
        handle.write(step.text)
    # the text too, as a here-document: "prints every command" means one a reader can replay
    # (a bare `cat > trials/tickets.yaml` showed nothing of the trial it wrote)
    text = step.text if step.text.endswith("\n") else step.text + "\n"
    redirect = "cat >>" if step.append else "cat >"
    print(f"# {step.title}\n$ {redirect} {step.path} <<'EOF'\n{text}EOF\n")


def _command(step: _Step, root: Path) -> bool:
    print(f"# {step.title}\n$ {_shown(step.args)}" + (f"   [as {step.who}]" if step.who else ""))
    result = _run(step.args, root / step.where, step.who, root / _KEYS, step.answer)
    output = (result.stdout + result.stderr).rstrip()
    if output:
        # its person's answer, where the terminal would echo it, after the question
        print(
            output
            if step.answer is None
            else output.replace("[y/N]: ", f"[y/N]: {step.answer}\n", 1)
        )
    print()
    if step.should_pass and result.returncode != 0:
        print(f"demo failed: the step above should have worked (exit {result.returncode})")
        return False
    if not step.should_pass and result.returncode == 0:
        print("demo failed: the step above should have been refused")
        return False
    return True


def _invite(root: Path) -> str:
    """lena invites omar; the one-time invitation is what omar joins with."""
    from inhouse.identity import create_key

    create_key(root / _KEYS / "omar.key")
    args = ["person", "invite", "omar", "--team", "support", "--role", "play-owner"]
    print(f"# omar does ticket triage most: lena invites him\n$ {_shown(args)}   [as lena]")
    result = _run(args, root)
    print((result.stdout + result.stderr).rstrip() + "\n")
    text = next((w for w in result.stdout.split() if w.startswith("inhouse-invite:")), "")
    if result.returncode != 0 or not text:
        print("demo failed: the invitation was not printed")
    return text


def _lock_hash(root: Path) -> str:
    import tomllib

    return str(tomllib.loads((root / "inhouse.lock").read_text())["lock_hash"])


def _laptop(root: Path) -> None:
    """omar's laptop: a checkout of the program folder (what git would give him) and the model
    the install script fetches; no store, so what he measures goes to his outbox."""
    laptop = root / "omar-laptop"
    laptop.mkdir()
    for name in ("inhouse.toml", "inhouse.lock", "BASELINE.md", "install.sh"):
        if (root / name).exists():
            shutil.copy2(root / name, laptop / name)
    for folder in ("trials", "data"):  # play 1's trial and its task inputs, kept in git
        shutil.copytree(root / folder, laptop / folder)
    shutil.copytree(root / "models", laptop / "models")
    print("# omar's laptop: a checkout of the program folder (inhouse.toml, inhouse.lock,")
    print("# BASELINE.md, install.sh, trials/ and data/) and the model the install script")
    print("# fetches\n")


def _stop_runtimes(root: Path, *, lena: bool = True) -> None:
    """Stop the embedded runtimes the demo's people serve (lena's in the program folder, omar's
    on his laptop), where one is running; quietly where none is."""
    if lena:
        _run(["runtime", "stop"], root)
    laptop = root / "omar-laptop"
    if laptop.exists():
        _run(["runtime", "stop"], laptop, "omar", root / _KEYS)


def _earlier_demo(root: Path) -> bool:
    """Whether ``root`` is a folder to replace: empty, or a demo program an earlier run made."""
    return root.is_dir() and (not any(root.iterdir()) or (root / _KEYS).is_dir())


def main(folder: str = "demo-program", model: str | None = None) -> int:
    root = Path(folder).resolve()
    if root.exists() and not _earlier_demo(root):
        # `python -m inhouse.demo ~/work` removed ~/work whole: only a folder an earlier demo
        # made (its keys folder says so) is the demo's to replace
        print(
            f"inhouse demo: {root} exists and is not a demo program an earlier run made (it "
            f"has no {_KEYS}/); nothing removed. Name a new folder, or remove it yourself.",
            file=sys.stderr,
        )
        return 2
    if root.exists():
        _stop_runtimes(root)  # servers an interrupted demo left behind
        shutil.rmtree(root)
    root.mkdir(parents=True)
    from inhouse.identity import create_key

    create_key(root / _KEYS / "lena.key")
    print(f"inhouse demo: a sample program in {root}\n")
    print(
        f"# For the show, this demo holds every person's key in {_KEYS}/ and runs each step\n"
        "# with the key of the person named beside it; in real life each key stays on its\n"
        "# owner's machine and nobody else ever sees it.\n"
    )
    serving = False
    invitation = ""
    path = ""
    try:
        for step in _PLAYS:
            if step == "invite-omar":
                invitation = _invite(root)
                if not invitation:
                    return 1
            elif step == "laptop":
                _laptop(root)
            elif isinstance(step, _Step) and step.args[0] == "init" and model is not None:
                args = [a for a in step.args if a != "--demo"]  # a real model: a real program
                if not _command(_Step(step.title, args), root):
                    return 1
            elif isinstance(step, _Step) and step.args[:2] == ["join", "INVITATION"]:
                if not _command(_Step(step.title, ["join", invitation], who=step.who), root):
                    return 1
            elif isinstance(step, _Step) and step.args[-1:] == ["MODEL"]:
                args = [*step.args[:-1], path]
                if not _command(_Step(step.title, args, who=step.who, where=step.where), root):
                    return 1
            elif isinstance(step, _Step) and "lock_hash=LOCK" in step.args:
                lock = _lock_hash(root)
                args = [a.replace("LOCK", lock) for a in step.args]
                if not _command(_Step(step.title, args, step.should_pass, step.who), root):
                    return 1
            elif step == "files":
                made = _model(root, model)
                if made is None:
                    return 1
                name, path = made
                for write in _files(name, path):
                    _write(write, root)
            elif step == "serve":
                serve = _Step(
                    "Serve it with the embedded llama.cpp runtime on loopback",
                    ["runtime", "serve", path],
                )
                if not _command(serve, root):
                    return 1
                serving = True
            elif isinstance(step, _Write):
                _write(step, root)
            elif isinstance(step, _Step) and not _command(step, root):
                return 1
    finally:
        if serving:
            _command(_Step("Stop the runtime", ["runtime", "stop"]), root)
        # omar's, where a step between his serve and his stop failed
        _stop_runtimes(root, lena=False)
    if not _exits_met(root):
        return 1
    done = (
        "Demo done: plays 1 and 2 exited and play 3's exit is met (omar offers its handoff "
        "next), each on evidence inhouse measured itself, signed by the key of the person who "
        "made it (a trial, a second person's verify of the lock and rerun of the trial carried "
        "from his laptop as a signed envelope, workflow tests rerun by someone other than the "
        "author); anti-patterns and identity rules refused, a forged word shown but not "
        "counted, all on the record (`inhouse audit log`). This is a demo program, and says "
        "so: one machine plays every part, and each pass only a demo gives names what a real "
        "program needs instead (the organisation's sign-in, a real model)."
    )
    print(textwrap.fill(done, width=min(100, shutil.get_terminal_size().columns)))
    print(f"Look around: cd {folder} && inhouse status; the trial report is in .inhouse/reports/")
    # without these, the next step (omar's offer of play 3) fails for want of a key: the demo's
    # keys are in .demo-keys/, not where `inhouse` looks for yours
    print("Go on as one of them, with their key and from their machine, as the demo did:")
    for who, args in _NEXT:
        print(f"  {_as(who)} {_shown(args)}")
    return 0


# what the demo leaves waiting, in the order its people do it: omar offers play 3, lena accepts
_NEXT = [
    ("omar", ["handoff", "offer", "3", "--to", "lena"]),
    ("lena", ["handoff", "accept", "3"]),
]


def _as(who: str) -> str:
    """The environment a shell in the demo's program folder acts as ``who`` with."""
    return f"INHOUSE_KEY={_KEYS}/{who}.key INHOUSE_MACHINE_ID={who}-laptop"


def _cli() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m inhouse.demo", description=__doc__)
    parser.add_argument("folder", nargs="?", default="demo-program", help="where to create it")
    parser.add_argument("--model", help="a GGUF file to serve instead of the test model")
    args = parser.parse_args()
    return main(args.folder, args.model)


if __name__ == "__main__":
    raise SystemExit(_cli())
