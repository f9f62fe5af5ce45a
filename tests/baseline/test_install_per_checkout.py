"""Each checkout of a program installs into a venv of its own.

The default venv was named for the program alone (``venvs/NAME-ID``): two checkouts of one
program on a machine (two branches, a lock being tried beside the one in use) installed into
the same venv, each replacing what the other's lock pinned. It is now named for the checkout
too (``NAME-ID-HERE``, HERE from the checkout's path), computed alike by inhouse and by the
script, which runs without inhouse; the venv earlier installs shared is left where it is,
and the install says where."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inhouse.baseline.install import default_venv, plan_install, run_install
from inhouse.program import Program
from tests.baseline.test_install_own import locked_program


def _install(folder: Path, capfd: pytest.CaptureFixture[str]) -> str:
    """``inhouse baseline install`` in ``folder``, pip finding no index (it stops there)."""
    capfd.readouterr()
    program = Program.open(folder)
    try:
        assert run_install(plan_install(program)) != 0
    finally:
        program.close()
    return capfd.readouterr().out


def _made(said: str) -> Path:
    line = next((x for x in said.splitlines() if "creating the virtual environment " in x), None)
    assert line is not None, said
    return Path(line.split("creating the virtual environment ", 1)[1].strip())


def _earlier_venv(folder: Path) -> Path:
    """Where installs before this one made the program's venv, for every checkout: named for
    the program alone (its name, and 12 hex digits of its program_id's SHA-256)."""
    from inhouse.program.config import read_settings

    settings = read_settings(folder)
    digest = hashlib.sha256(settings.program_id.encode()).hexdigest()[:12]
    return Path.home() / ".local" / "share" / "inhouse" / "venvs" / f"acme-{digest}"


@pytest.fixture
def no_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.mark.usefixtures("no_index")
def test_two_checkouts_of_one_program_install_into_venvs_of_their_own(
    _isolated: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    locked_program(_isolated)
    branch = _isolated.parent / "acme on a branch é"  # a space, a non-ASCII letter
    shutil.copytree(_isolated, branch)
    first, second = default_venv(_isolated), default_venv(branch)
    assert first != second
    from inhouse.baseline.install import checkout_id, program_venv_name, shared_venv

    assert first.parent == second.parent == _earlier_venv(_isolated).parent
    assert shared_venv(_isolated) == _earlier_venv(_isolated)
    assert first.name.startswith(program_venv_name(_isolated) + "-")
    assert second.name == f"{program_venv_name(branch)}-{checkout_id(branch)}"
    # the script, which runs without inhouse, makes the very venv inhouse names for each
    assert _made(_install(_isolated, capfd)) == first
    assert _made(_install(branch, capfd)) == second
    # the script's text is the same for both: nothing of a checkout's path is written in it
    texts = []
    for folder in (_isolated, branch):
        program = Program.open(folder)
        texts.append(plan_install(program).text)
        program.close()
    assert texts[0] == texts[1]


@pytest.mark.parametrize("tools", ["sha256sum", "python"])
def test_the_scripts_checkout_id_is_inhouses(tmp_path: Path, tools: str) -> None:
    """With sha256sum, and with neither sha256sum nor shasum (Python's, isolated, instead)."""
    from inhouse.baseline.install import _CHECKOUT_ID, checkout_id

    folder = tmp_path / "a checkout ü"
    folder.mkdir()
    script = "\n".join([*_CHECKOUT_ID, 'checkout_id "$(pwd -P)"'])
    env = {"PYTHON": sys.executable, "PATH": os.environ["PATH"]}
    if tools == "python":
        env["PATH"] = str(tmp_path / "empty")  # printf is the shell's own
    done = subprocess.run(["/bin/sh", "-c", script], cwd=folder, env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stdout.strip() == checkout_id(folder)


@pytest.mark.usefixtures("no_index")
def test_the_venv_earlier_installs_shared_is_kept_and_named(
    _isolated: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The venv every checkout shared before, which another checkout or someone's PATH may
    still run, is neither emptied nor silently forgotten: the install says where it is."""
    locked_program(_isolated)
    shared = _earlier_venv(_isolated)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(shared)], check=True)
    (shared / "mine.txt").write_text("the venv every checkout used")
    raw = _install(_isolated, capfd)
    said = " ".join(raw.split())
    assert (
        f"{shared} is the virtual environment earlier installs made for every checkout of "
        f"this program on this machine; this checkout gets its own, {default_venv(_isolated)}"
    ) in said
    assert f'remove it (rm -rf "{shared}")' in said
    assert (shared / "mine.txt").read_text() == "the venv every checkout used"
    assert _made(raw) == default_venv(_isolated) != shared
