"""A failed install leaves the inhouse that ran it: the default venv (outside the checkout) is
the one BASELINE.md says to run, so a second person runs ``inhouse baseline install`` with that
very venv's inhouse. The script made it afresh over itself (``venv --clear``) before pip ran:
where pip then failed (no index reachable, the pinned release missing), the person was left
with no inhouse at all. It now sets the old one aside until the new one holds the pinned
inhouse, and puts it back, saying so, when anything before that fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

import inhouse
from inhouse.baseline.install import default_venv
from tests.baseline.test_install_own import locked_program

#: what pip writes as a venv's ``bin/inhouse`` (the console script of inhouse's entry point)
SCRIPT = """#!{python}
import sys
from inhouse.cli.app import main
if __name__ == '__main__':
    sys.exit(main())
"""


def _interruptible() -> None:
    """Run in the started child: a Ctrl-C does what it does at a terminal. A command started in
    the background by a shell without job control (as a CI runner starts the suite) begins
    with SIGINT ignored, every process under it inherits that, and ``sh`` cannot trap a signal
    ignored when it started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _installed_venv(venv: Path) -> None:
    """A venv holding a working inhouse, as an earlier install left it: made by ``venv``, with
    inhouse importable (this checkout's, and the suite's packages: a ``.pth`` in its
    site-packages stands in for pip's copy) and its console script."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    paths = [str(Path(inhouse.__file__).resolve().parents[1]), sysconfig.get_paths()["purelib"]]
    (site / "inhouse-here.pth").write_text("\n".join(paths) + "\n")
    script = venv / "bin" / "inhouse"
    script.write_text(SCRIPT.format(python=venv / "bin" / "python"))
    script.chmod(0o755)


def _inhouse(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHON=sys.executable, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        [str(venv / "bin" / "inhouse"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_a_failed_pip_leaves_the_venv_whose_inhouse_ran_the_install(_isolated: Path) -> None:
    locked_program(_isolated)
    venv = default_venv(_isolated)
    _installed_venv(venv)
    (venv / "mine.txt").write_text("the venv that ran the install")
    assert _inhouse(venv, "--version", cwd=_isolated).stdout.strip().startswith("inhouse ")

    # no index here: the venv's own inhouse runs the install, and pip installs nothing
    done = _inhouse(venv, "baseline", "install", cwd=_isolated)
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert "pip could not install inhouse==" in said

    # the person still has the inhouse they ran, working, and nothing is left aside
    again = _inhouse(venv, "--version", cwd=_isolated)
    assert again.returncode == 0 and again.stdout.strip() == f"inhouse {inhouse.__version__}"
    assert (venv / "mine.txt").read_text() == "the venv that ran the install"
    assert not Path(f"{venv}.old").exists() and not Path(f"{venv}.failed").exists()
    assert f"your previous virtual environment is back in {venv}, as it was" in said


def test_a_venv_an_install_stopped_outright_set_aside_goes_back_first(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """An install killed while the new venv was made (a half-made one at the venv's path, the
    old one aside): the next install puts the old one back first, then sets it aside again,
    and back again when pip fails."""
    from inhouse.baseline.install import plan_install, run_install
    from inhouse.program import Program

    locked_program(_isolated)
    venv = default_venv(_isolated)
    old = Path(f"{venv}.old")
    _installed_venv(old)
    (old / "mine.txt").write_text("the venv before the killed install")
    (venv / "bin").mkdir(parents=True)  # the half-made one
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    capfd.readouterr()
    assert run_install(plan_install(Program.open(_isolated))) != 0
    said = capfd.readouterr().out
    assert f"putting back {old}, the virtual environment an install that was stopped" in said
    assert (venv / "mine.txt").read_text() == "the venv before the killed install"
    assert not old.exists()


def test_a_link_where_the_old_venv_waits_is_refused(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The install empties what it set aside: ``NAME.old`` a link (inhouse never makes one)
    would empty its target, so the script stops before anything is made or moved."""
    from inhouse.baseline.install import plan_install, run_install
    from inhouse.program import Program

    locked_program(_isolated)
    venv = default_venv(_isolated)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("four years")
    venv.parent.mkdir(parents=True)
    Path(f"{venv}.old").symlink_to(precious, target_is_directory=True)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert run_install(plan_install(Program.open(_isolated))) != 0
    assert (precious / "thesis.txt").read_text() == "four years"
    assert not venv.exists()


def test_a_ctrl_c_while_pip_runs_puts_the_old_venv_back(_isolated: Path) -> None:
    """Ctrl-C reaches the whole foreground group (the inhouse that ran the install, the script,
    pip): the script puts the old venv back before the inhouse that waits on it kills it. The
    index is a stand-in that never answers (a listening socket nobody accepts on), so pip is
    surely running when the Ctrl-C comes."""
    locked_program(_isolated)
    venv = default_venv(_isolated)
    _installed_venv(venv)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(
            PYTHON=sys.executable,
            PIP_INDEX_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/simple",
            PIP_TIMEOUT="120",
            PIP_RETRIES="0",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
        )
        running = subprocess.Popen(
            [str(venv / "bin" / "inhouse"), "baseline", "install"],
            cwd=_isolated, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True, preexec_fn=_interruptible,
        )  # fmt: skip
        assert running.stdout is not None
        said = ""
        for line in running.stdout:
            said += line
            if "installing inhouse==" in line:
                break
        time.sleep(2)  # pip is waiting on the index
        os.killpg(running.pid, signal.SIGINT)
        said += running.communicate(timeout=60)[0]
    assert running.returncode != 0, said
    again = _inhouse(venv, "--version", cwd=_isolated)
    assert again.returncode == 0 and again.stdout.strip() == f"inhouse {inhouse.__version__}"
    assert not Path(f"{venv}.old").exists()
    assert f"your previous virtual environment is back in {venv}" in said


#: a child Python that runs ``run_install`` on a plan whose script stands in for one that takes
#: its time to put things back: on a Ctrl-C its trap waits a second, then writes ``put-back``
_INTERRUPTED = """
import sys
from dataclasses import replace
from pathlib import Path
from inhouse.baseline.install import plan_install, run_install
from inhouse.program import Program

folder = Path(sys.argv[1])
script = (
    "trap 'sleep 1; echo yes > put-back; exit 130' INT\\n"
    "echo started > started\\n"
    "sleep 30 & wait\\n"
)
run_install(replace(plan_install(Program.open(folder)), text=script))
"""


def test_an_interrupted_install_gives_its_script_the_time_to_put_things_back(
    _isolated: Path,
) -> None:
    """A Ctrl-C reaches the inhouse that runs the install and its script alike; the script's
    trap puts the previous venv back. ``subprocess.run`` killed the script a quarter of a second
    after the Ctrl-C, so on a loaded machine (pip slow to stop, the renames slow to start) the
    trap never ran and the person was left with no inhouse: inhouse now waits for it."""
    locked_program(_isolated)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    running = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, str(_isolated)],
        cwd=_isolated, env=env, start_new_session=True, preexec_fn=_interruptible,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (_isolated / "started").exists():
        assert running.poll() is None and time.monotonic() < deadline, "the script never started"
        time.sleep(0.05)
    os.killpg(running.pid, signal.SIGINT)
    running.wait(timeout=60)
    assert (_isolated / "put-back").read_text() == "yes\n"
