"""The checkout a second person runs inhouse in is the lead's: neither a file the lead tracks
under ``.inhouse/`` (this machine's own state, written by a ``git pull``) nor an ``inhouse``
package the lead committed to the folder may shape what inhouse records in that person's name.
(docs/baseline.md, "Nothing else the checkout holds runs either".)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from inhouse import demo
from inhouse.baseline.install import plan_install, run_install
from inhouse.errors import Refused
from inhouse.location import tracked_state
from inhouse.program import Program
from tests.baseline.test_install_own import locked_program, run

PTH = ".inhouse/venv/lib/python3.11/site-packages/zz_lead.pth"


def git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=lena", "-c", "user.email=lena@example.org", *args],
        cwd=folder, check=True, capture_output=True,
    )  # fmt: skip


def lead_commits(folder: Path, name: str = PTH, text: str = "import os\n") -> None:
    """The lead forces a file under .inhouse/ into the checkout (its .gitignore says `*`)."""
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(folder, "init", "-q")
    git(folder, "add", "inhouse.toml", "inhouse.lock")
    git(folder, "add", "-f", name)
    git(folder, "commit", "-q", "-m", "program")


def verifies() -> int:
    return len(json.loads(run("fact", "list", "--kind", "baseline.verify", "--json")))


def test_a_verify_is_refused_while_the_checkout_tracks_a_file_under_inhouse(
    _isolated: Path,
) -> None:
    locked_program(_isolated)
    lead_commits(_isolated)
    out = run("baseline", "verify", code=3)
    assert "inhouse baseline verify is refused" in out
    assert PTH in out
    assert verifies() == 0  # nothing recorded in the colleague's name


def test_the_runtimes_state_tracked_by_git_is_refused_too(_isolated: Path) -> None:
    locked_program(_isolated)
    lead_commits(_isolated, ".inhouse/run/state.json", json.dumps({"url": "http://x"}))
    out = run("baseline", "verify", code=3)
    assert ".inhouse/run/state.json" in out


def test_an_honest_checkout_verifies_as_before(_isolated: Path) -> None:
    locked_program(_isolated)
    lead_commits(_isolated, "README.md", "the program\n")  # tracked, but not under .inhouse/
    assert tracked_state(_isolated) == []
    out = run("baseline", "verify", code=1)  # nothing answers at the runtime: a failed verify
    assert "refused" not in out
    assert verifies() == 1


def test_a_folder_no_git_holds_has_nothing_tracked(_isolated: Path) -> None:
    locked_program(_isolated)
    (_isolated / PTH).parent.mkdir(parents=True)
    (_isolated / PTH).write_text("import os\n")
    assert tracked_state(_isolated) == []


def test_a_rerun_and_a_workflow_test_are_refused_before_anything_runs(_isolated: Path) -> None:
    locked_program(_isolated)
    lead_commits(_isolated)
    out = run("prove", "summarise", "--rerun", code=3)
    assert "inhouse prove summarise --rerun is refused" in out and PTH in out
    out = run("workflow", "test", "summarise", code=3)
    assert "inhouse workflow test summarise is refused" in out and PTH in out


def test_the_install_is_refused_before_its_script_runs(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked_program(_isolated)
    lead_commits(_isolated)
    ran: list[Any] = []
    fake = SimpleNamespace(run=lambda *a, **k: ran.append(a) or SimpleNamespace(returncode=0))
    monkeypatch.setattr("inhouse.baseline.install.subprocess", fake)
    with pytest.raises(Refused, match=r"zz_lead\.pth"):
        run_install(plan_install(Program.open(_isolated)))
    assert ran == []


def test_a_git_the_checkout_holds_is_not_the_one_asked(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked_program(_isolated)
    lead_commits(_isolated)
    tools = _isolated / "tools"
    tools.mkdir()
    marker = _isolated.parent / "ran"
    (tools / "git").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (tools / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"tools{os.pathsep}{tools}{os.pathsep}{os.environ['PATH']}")
    assert tracked_state(_isolated) == [PTH]  # the real git answered
    assert not marker.exists()


def test_a_git_elsewhere_in_the_checkout_is_not_the_one_asked_either(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the program is one folder of the team's repository; a `git` committed beside it, in a
    # folder of the repository a colleague keeps on PATH, is the pushers' as much as one in
    # the program folder (the install refuses such a PATH, but only after asking git)
    repo = _isolated / "repo"
    program = repo / "program"
    program.mkdir(parents=True)
    monkeypatch.chdir(program)
    locked_program(program)
    (program / PTH).parent.mkdir(parents=True, exist_ok=True)
    (program / PTH).write_text("import os\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "add", "-f", f"program/{PTH}")
    git(repo, "commit", "-q", "-m", "the team's repository, the program in one folder")
    tools = repo / "tools"
    tools.mkdir()
    marker = _isolated.parent / "ran"
    (tools / "git").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (tools / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    assert tracked_state(program) == [PTH]  # the real git answered
    assert not marker.exists()
    with pytest.raises(Refused):
        run_install(plan_install(Program.open(program)))
    assert not marker.exists()


def test_a_file_tracked_under_the_state_folder_in_another_case_is_refused(
    _isolated: Path,
) -> None:
    # where file names ignore case (macOS, Windows), a pull writes `.INHOUSE/venv/…` into the
    # colleague's own `.inhouse/venv/`
    locked_program(_isolated)
    forged = PTH.replace(".inhouse/", ".INHOUSE/", 1)
    lead_commits(_isolated, forged)
    assert tracked_state(_isolated) == [forged]
    out = run("baseline", "verify", code=3)
    assert "inhouse baseline verify is refused" in out and forged in out
    assert verifies() == 0


def test_the_demos_python_m_inhouse_runs_no_package_in_the_program_folder(
    _isolated: Path,
) -> None:
    forged = _isolated / "inhouse"
    forged.mkdir()
    (forged / "__init__.py").write_text("")
    (forged / "__main__.py").write_text("print('FORGED')\n")
    done = demo._run(["--version"], _isolated)
    assert done.returncode == 0, done.stderr
    assert "FORGED" not in done.stdout


@pytest.mark.xfail(
    strict=True,
    reason="hole left: a .pth file a `git pull` wrote into the checkout's own venv "
    "(.inhouse/venv) runs when that venv's Python starts, before inhouse's first line, so the "
    "refusal it would meet is already in its author's hands (here it takes git off PATH). "
    "Closing it needs the venv outside the checkout (out of a pull's reach); until then "
    "docs/baseline.md says to verify with an inhouse installed elsewhere, or install afresh",
)
def test_a_pth_pulled_into_the_venv_cannot_get_past_the_refusal(_isolated: Path) -> None:
    locked_program(_isolated)
    venv = _isolated / ".inhouse" / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    pth = site.relative_to(_isolated) / "zz_lead.pth"
    lead_commits(_isolated, str(pth), "import os; os.environ['PATH'] = '/nowhere'\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-P", "-m", "inhouse", "baseline", "verify"],
        cwd=_isolated, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr  # refused, as a sound venv is


def test_the_standin_started_in_a_checkout_runs_no_package_lying_there(_isolated: Path) -> None:
    from inhouse.testing.standin_upstream.running import spawn_standin

    forged = _isolated / "inhouse"
    forged.mkdir()
    (forged / "__init__.py").write_text("raise SystemExit('FORGED')\n")
    with spawn_standin() as standin:  # in the folder the test runs in, the checkout
        assert standin.url.startswith("http://127.0.0.1:")
