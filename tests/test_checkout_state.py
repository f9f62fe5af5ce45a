"""The checkout a second person runs inhouse in is the lead's: neither a file the lead tracks
under ``.inhouse/`` (this machine's own state, written by a ``git pull``) nor an ``inhouse``
package the lead committed to the folder may shape what inhouse records in that person's name.
(docs/baseline.md, "Nothing else the checkout holds runs either".)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from inhouse import demo
from inhouse.baseline.install import plan_install, run_install
from inhouse.errors import InvalidInput, Refused
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


def _venv_made(said: str, folder: Path) -> Path:
    """The venv the install script said it made (relative: in the program folder)."""
    found = re.search(r"inhouse-install: creating the virtual environment (.+)", said)
    assert found, said
    return folder / found.group(1).strip()


def test_a_pth_pulled_into_the_checkout_never_runs_in_the_installed_inhouse(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """omar installs the baseline from an honest checkout; the lead then commits a ``.pth``
    file where the venv used to be (``.inhouse/venv/lib/python3.X/site-packages``), and his
    pull writes it. Run by the venv's Python at its start, before inhouse's first line, it
    would take git off PATH, and the refusal of tracked state with it. The install made its
    venv outside the checkout, out of the pull's reach: his next verify is refused."""
    locked_program(_isolated)
    git(_isolated, "init", "-q")
    git(_isolated, "add", "inhouse.toml", "inhouse.lock")
    git(_isolated, "commit", "-q", "-m", "program")
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # no index here: the venv is made, pip then stops
    capfd.readouterr()
    assert run_install(plan_install(Program.open(_isolated))) != 0
    venv = _venv_made(capfd.readouterr().out, _isolated)
    assert (venv / "bin" / "python").exists()
    assert not venv.resolve().is_relative_to(_isolated.resolve())

    site = next(venv.glob("lib/python*/site-packages"))
    minor = site.parent.name
    marker = _isolated.parent / "lead-ran"
    lead_commits(
        _isolated,
        f".inhouse/venv/lib/{minor}/site-packages/zz_lead.pth",
        f"import os, pathlib; os.environ['PATH'] = '/nowhere'; pathlib.Path({str(marker)!r})"
        ".write_text('ran')\n",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-P", "-m", "inhouse", "baseline", "verify"],
        cwd=_isolated, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr  # refused, as a sound venv is
    assert "zz_lead.pth" in done.stdout + done.stderr
    assert not marker.exists()


def test_the_install_removes_the_venv_earlier_installs_made_in_the_checkout(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A program installed before the venv moved out of the checkout holds ``.inhouse/venv``,
    which its BASELINE.md said to run: the next install removes it, saying so."""
    from inhouse.baseline.install import default_venv

    locked_program(_isolated)
    old = _isolated / ".inhouse" / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(old)], check=True)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    capfd.readouterr()
    assert run_install(plan_install(Program.open(_isolated))) != 0
    said = capfd.readouterr().out
    assert "removing .inhouse/venv, the virtual environment earlier installs made" in said
    assert not old.exists()
    assert _venv_made(said, _isolated) == default_venv(_isolated)


def test_a_venv_named_inside_the_checkout_is_refused(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked_program(_isolated)
    ran: list[Any] = []
    fake = SimpleNamespace(run=lambda *a, **k: ran.append(a) or SimpleNamespace(returncode=0))
    monkeypatch.setattr("inhouse.baseline.install.subprocess", fake)
    plan = plan_install(Program.open(_isolated))
    with pytest.raises(InvalidInput, match=r"--venv \.venv: the virtual environment would lie"):
        run_install(plan, venv=Path(".venv"))
    monkeypatch.setenv("INHOUSE_VENV", str(_isolated / "tools" / "venv"))
    with pytest.raises(InvalidInput, match=r"INHOUSE_VENV .*a `git pull` writes"):
        run_install(plan)
    assert ran == []


def test_the_standin_started_in_a_checkout_runs_no_package_lying_there(_isolated: Path) -> None:
    from inhouse.testing.standin_upstream.running import spawn_standin

    forged = _isolated / "inhouse"
    forged.mkdir()
    (forged / "__init__.py").write_text("raise SystemExit('FORGED')\n")
    with spawn_standin() as standin:  # in the folder the test runs in, the checkout
        assert standin.url.startswith("http://127.0.0.1:")


KEY = ".inhouse/keys/gateway.key"


def _tracked_gateway_key(folder: Path, name: str = KEY) -> None:
    """The gateway's host made its key (a rollup), and it was committed (`git add -f`): anyone
    with the repository holds it, or the one who pushed it chose it."""
    from inhouse.program.core import service_key

    locked_program(folder)
    service_key(folder, "gateway")
    if name != KEY:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / KEY).rename(folder / name)
    git(folder, "init", "-q")
    git(folder, "add", "inhouse.toml", "inhouse.lock")
    git(folder, "add", "-f", name)
    git(folder, "commit", "-q", "-m", "program")


def _never_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serving itself stands in: a gateway that got past the refusal says so, not blocks."""

    def served(*args: object, **kwargs: object) -> None:
        raise SystemExit("served")

    monkeypatch.setattr("inhouse.gateway.server._serve_one", served)
    monkeypatch.setattr("inhouse.gateway.server._supervise", served)


def test_the_gateway_will_not_serve_with_a_key_the_checkout_tracks(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tracked_gateway_key(_isolated)
    _never_served(monkeypatch)
    out = " ".join(run("gateway", "serve", "--port", "0", code=3).split())
    assert f"the gateway service's key {KEY} is tracked by the git checkout" in out
    assert f"git rm --cached {KEY}" in out and "inhouse person revoke-key" in out
    assert "Listening" not in out


def test_a_key_tracked_in_another_case_is_refused_too(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = KEY.replace(".inhouse/", ".INHOUSE/", 1)
    _tracked_gateway_key(_isolated, forged)
    _never_served(monkeypatch)
    out = " ".join(run("gateway", "serve", "--port", "0", code=3).split())
    assert f"the gateway service's key {forged} is tracked" in out


def test_nothing_signs_or_seals_with_a_tracked_gateway_key(_isolated: Path) -> None:
    """The rollup (signed by the gateway's key) and the adoption report (rows sealed with it)
    read the same file: refused the same way, nothing recorded."""
    _tracked_gateway_key(_isolated)
    out = " ".join(run("gateway", "rollup", code=3).split())
    assert f"the gateway service's key {KEY} is tracked" in out
    out = " ".join(run("pilot", "adoption", "--record", code=3).split())
    assert f"the gateway service's key {KEY} is tracked" in out
    assert json.loads(run("fact", "list", "--kind", "usage.daily", "--json")) == []


def test_a_gateway_key_git_ignores_is_used_as_before(_isolated: Path) -> None:
    from inhouse.program.core import read_service_key

    locked_program(_isolated)
    lead_commits(_isolated, "README.md", "the program\n")
    run("gateway", "rollup")  # the lead's first rollup makes and enrols the key
    assert read_service_key(_isolated, "gateway") is not None
    assert tracked_state(_isolated) == []


def _git_will_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkout is another user's, to git (a service run as a user of its own; a colleague's
    shared checkout): git's own test switch makes it see so, and the HOME's git config names
    no ``safe.directory``."""
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")


def _the_fix(message: str) -> list[str]:
    """The `git config … safe.directory PATH` the refusal names, as a command."""
    found = re.search(r"`(git config --global --add safe\.directory [^`]+)`", message)
    assert found, message
    return found.group(1).split(" ", 5)


def test_a_checkout_git_will_not_read_refuses_what_records_a_measurement(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, git's "dubious ownership" read as "nothing tracked": whatever a pull wrote under
    .inhouse/ shaped a verify, a rerun, a workflow test and an install unchecked."""
    locked_program(_isolated)
    lead_commits(_isolated)  # a .pth tracked under .inhouse/: what git would have named
    _git_will_not_read(monkeypatch)
    out = " ".join(run("baseline", "verify", code=3).split())
    assert "inhouse baseline verify is refused: git will not read the git checkout" in out
    assert "dubious ownership" in out and "git config --global --add safe.directory" in out
    assert "or run inhouse as the checkout's owner" in out
    assert verifies() == 0
    out = " ".join(run("prove", "summarise", "--rerun", code=3).split())
    assert "inhouse prove summarise --rerun is refused: git will not read" in out
    out = " ".join(run("workflow", "test", "summarise", code=3).split())
    assert "inhouse workflow test summarise is refused: git will not read" in out
    ran: list[Any] = []
    fake = SimpleNamespace(run=lambda *a, **k: ran.append(a) or SimpleNamespace(returncode=0))
    monkeypatch.setattr("inhouse.baseline.install.subprocess", fake)
    with pytest.raises(Refused, match=r"inhouse baseline install is refused: git will not"):
        run_install(plan_install(Program.open(_isolated)))
    assert ran == []

    # the fix it names, run: git reads the checkout again, and names the tracked file
    subprocess.run(_the_fix(out), check=True, capture_output=True)
    assert tracked_state(_isolated) == [PTH]


def test_a_folder_no_git_holds_is_not_refused_for_git_s_ownership_rule(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked_program(_isolated)
    _git_will_not_read(monkeypatch)
    assert tracked_state(_isolated) == []
    run("baseline", "verify", code=1)  # nothing answers at the runtime: a failed verify
    assert verifies() == 1


def test_the_gateway_will_not_serve_where_git_will_not_say_whether_its_key_is_tracked(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway run as a service user on a checkout another user owns: git will not read it,
    so nobody can tell whether the key a pull wrote is everyone's. Before, it served with it."""
    locked_program(_isolated)
    lead_commits(_isolated, "README.md", "the program\n")
    run("gateway", "rollup")  # the lead's first rollup makes and enrols the key, untracked
    _never_served(monkeypatch)
    _git_will_not_read(monkeypatch)
    out = " ".join(run("gateway", "serve", "--port", "0", code=3).split())
    assert f"the gateway service's key {KEY} is not used: git will not read" in out
    assert "dubious ownership" in out and "Listening" not in out
    out = " ".join(run("gateway", "rollup", code=3).split())
    assert f"the gateway service's key {KEY} is not used" in out

    # the fix it names, run: the key is used as before
    subprocess.run(_the_fix(out), check=True, capture_output=True)
    run("gateway", "rollup")


# -- no git to ask: a checkout nobody can read is not one that tracks nothing ------------------


def _no_git(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    """This machine has no git on PATH (a checkout copied onto a box, a container without git):
    PATH is a folder of its own that holds none."""
    where.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(where))


def test_a_checkout_no_git_can_read_refuses_what_records_a_measurement(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, with no git on PATH a checkout read as "nothing tracked": the .pth a pull wrote
    under .inhouse/ shaped the verify unchecked, signed with the colleague's key. Refused now,
    naming git and what to do, nothing recorded."""
    locked_program(_isolated)
    lead_commits(_isolated)  # a .pth tracked under .inhouse/: what git would have named
    path = os.environ["PATH"]
    _no_git(monkeypatch, tmp_path / "bin")
    out = " ".join(run("baseline", "verify", code=3).split())
    assert "inhouse baseline verify is refused: the program folder" in out
    assert "lies in a git checkout" in out and "no `git` runs here to ask it" in out
    assert "Install git (or put its folder on PATH) and run this again" in out
    assert verifies() == 0
    out = " ".join(run("workflow", "test", "summarise", code=3).split())
    assert "inhouse workflow test summarise is refused" in out and "no `git`" in out
    with pytest.raises(Refused, match=r"inhouse baseline install is refused: .* no `git`"):
        run_install(plan_install(Program.open(_isolated)))

    # git back on PATH: it names the tracked file, as before
    monkeypatch.setenv("PATH", path)
    assert tracked_state(_isolated) == [PTH]


def test_a_git_only_the_checkout_holds_is_no_git_to_ask(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The only `git` on PATH is one the checkout holds (a pusher's, answering "nothing
    tracked"): it is not run, and there is none other to ask, so nothing is measured."""
    locked_program(_isolated)
    lead_commits(_isolated)
    tools = _isolated / "tools"
    tools.mkdir()
    marker = _isolated.parent / "ran"
    (tools / "git").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (tools / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    with pytest.raises(Refused, match="no `git` runs here to ask it"):
        tracked_state(_isolated)
    assert not marker.exists()


def test_the_gateway_will_not_serve_where_no_git_can_say_whether_its_key_is_tracked(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway's host has the checkout but no git: nobody can tell whether the key a pull
    wrote there is everyone's. Before, it served and signed with it."""
    _tracked_gateway_key(_isolated)
    _never_served(monkeypatch)
    _no_git(monkeypatch, tmp_path / "bin")
    out = " ".join(run("gateway", "serve", "--port", "0", code=3).split())
    assert f"the gateway service's key {KEY} is not used: the program folder" in out
    assert "no `git` runs here" in out and "Listening" not in out


def test_a_folder_no_git_holds_needs_no_git(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No .git at or above the program: no pull writes there, and nothing needs asking."""
    locked_program(_isolated)
    _no_git(monkeypatch, tmp_path / "bin")
    assert tracked_state(_isolated) == []
    run("baseline", "verify", code=1)  # nothing answers at the runtime: a failed verify
    assert verifies() == 1
