"""``baseline install``: a second person's own inhouse regenerates the install script from the
checkout's inhouse.toml and inhouse.lock and runs that, never the bytes of install.sh; and
``--source`` (inhouse from a folder or URL, not the pinned release) is a demo's alone.
(The real install, end to end, is in test_install_run.py.)"""

from __future__ import annotations

import hashlib
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.baseline.install import render_install_script
from inhouse.baseline.lock import build_lock, require_lock, write_lock
from inhouse.baseline.manifest import read_manifest
from inhouse.cli.app import app
from inhouse.runtimes.protocol import Inventory, ModelInfo

runner = CliRunner()
A = "a" * 64


def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == code, f"{args}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout + result.stderr


def locked_program(folder: Path, *, demo: bool = False) -> str:
    """A program with a baseline locked on an openai runtime (nothing needs to answer: the
    lock is built from a stated inventory); the lock hash."""
    run("init", "Acme", "--lead", "lena", *(["--demo"] if demo else []))
    config = folder / "inhouse.toml"
    config.write_text(
        config.read_text()
        + '\n[runtimes.local]\nfamily = "openai"\nurl = "http://127.0.0.1:9"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [{ name = "m",'
        + ' path = "models/m.gguf", source = "https://files.example/m.gguf" }]\n'
    )
    served = Inventory(
        runtime="local", family="openai", url="http://127.0.0.1:9",
        models=[ModelInfo(id="m", digest=f"sha256:{A}", digest_source="file-sha256", size=5)],
    )  # fmt: skip
    lock = build_lock(read_manifest(folder), served, runtime_family="openai", rules="")
    write_lock(folder, lock)
    return lock.lock_hash


def test_a_dry_run_shows_the_regenerated_script_and_runs_nothing(_isolated: Path) -> None:
    lock_hash = locked_program(_isolated)
    run("baseline", "install-script")
    written = (_isolated / "install.sh").read_text()
    out = run("baseline", "install", "--dry-run")
    assert f"install.sh here is the script for lock {lock_hash}, byte for byte" in out
    assert "pip installs inhouse==0.1.0 (your PIP_INDEX_URL)" in out
    assert f"model    m (sha256:{A}), fetched where missing" in out
    assert written in out  # the whole script, as `sh install.sh` would run it
    assert not (_isolated / ".inhouse" / "venv").exists()


def test_an_edited_install_sh_is_named_and_never_run(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    lock_hash = locked_program(_isolated)
    run("baseline", "install-script")
    script = _isolated / "install.sh"
    # the author's edit: her own command, slipped in before anything the lock checks
    script.write_text(script.read_text().replace("set -eu\n", "set -eu\ntouch edited-ran\n", 1))
    # the regenerated script stops at its Python check, before any venv or download: enough to
    # see which script ran
    monkeypatch.setenv("PYTHON", "false")
    out = run("baseline", "install", code=1)
    assert f"install.sh here differs from the install script for lock {lock_hash}" in out
    assert "It is not run" in out
    # the regenerated script ran (in a process of its own: its output is on the real stderr)
    assert "inhouse needs Python 3.11 or newer" in capfd.readouterr().err
    assert not (_isolated / "edited-ran").exists()


def test_install_without_an_install_sh_regenerates_it(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    locked_program(_isolated)
    monkeypatch.setenv("PYTHON", "false")
    run("baseline", "install", code=1)
    assert "inhouse needs Python 3.11 or newer" in capfd.readouterr().err
    assert not (_isolated / "install.sh").exists()  # nothing written: the text runs


@pytest.mark.parametrize("command", [("install-script",), ("install", "--dry-run")])
def test_source_is_refused_outside_a_demo(_isolated: Path, command: tuple[str, ...]) -> None:
    locked_program(_isolated)
    out = " ".join(run("baseline", *command, "--source", str(_isolated), code=2).split())
    assert "is for demo programs only, and this program is not a demo" in out
    assert "second person's own package index" in out
    assert not (_isolated / "install.sh").exists()


def test_a_demo_may_install_from_a_source(_isolated: Path) -> None:
    lock_hash = locked_program(_isolated, demo=True)
    run("baseline", "install-script", "--source", str(_isolated))
    requirement = f"inhouse @ {_isolated.resolve().as_uri()}"
    assert f"REQUIREMENT='{requirement}'" in (_isolated / "install.sh").read_text()
    out = run("baseline", "install", "--dry-run", "--source", str(_isolated))
    assert f"install.sh here is the script for lock {lock_hash}, byte for byte" in out
    assert f"pip installs {requirement}" in out
    # the same second person without --source regenerates the pinned install: the file differs
    out = run("baseline", "install", "--dry-run")
    assert f"install.sh here differs from the install script for lock {lock_hash}" in out
    assert "pip installs inhouse==0.1.0" in out


def test_what_a_second_person_is_told_to_run_names_install_first(_isolated: Path) -> None:
    locked_program(_isolated)
    out = run("baseline", "install-script")
    assert "A second person runs `inhouse baseline install`" in " ".join(out.split())
    text = (_isolated / "install.sh").read_text()
    assert text.index("#     inhouse baseline install\n") < text.index("#     sh install.sh\n")
    run("baseline", "docs")
    page = (_isolated / "BASELINE.md").read_text()
    assert page.index("run `inhouse baseline install`") < page.index("`sh install.sh`")


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, {"version": "0.1.0", "installed_from": "index"}),
        ('{"url": "https://lena.example/ih.whl", "archive_info": {}}',
         {"version": "0.1.0", "installed_from": "url", "url": "https://lena.example/ih.whl"}),
    ],
)  # fmt: skip
def test_verify_names_where_its_inhouse_came_from(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    direct_url: str | None,
    expected: dict[str, str],
) -> None:
    """What pip left in the running inhouse's dist-info says how it was installed: no
    direct_url.json, from an index; one, from the folder or URL it names."""
    from importlib import metadata

    import inhouse
    from inhouse.baseline.verify import inhouse_origin

    site = tmp_path / "site-packages"
    (site / "inhouse").mkdir(parents=True)
    (site / "inhouse" / "__init__.py").write_text("")
    info = site / "inhouse-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: inhouse\nVersion: 0.1.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(direct_url)
    monkeypatch.setattr(metadata, "distribution", lambda name: metadata.PathDistribution(info))
    monkeypatch.setattr(inhouse, "__file__", str(site / "inhouse" / "__init__.py"))
    assert inhouse_origin() == expected


def test_an_inhouse_no_installed_distribution_holds_runs_from_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import inhouse
    from inhouse.baseline.verify import inhouse_origin

    elsewhere = tmp_path / "src" / "inhouse" / "__init__.py"  # a source tree on sys.path
    monkeypatch.setattr(inhouse, "__file__", str(elsewhere))
    assert inhouse_origin() == {"version": inhouse.__version__, "installed_from": "checkout"}


def test_an_install_sh_another_release_wrote_for_the_lock_is_no_edit(
    _isolated: Path,
) -> None:
    """Every install.sh written before this release's header (or by the owner's inhouse of
    another release) differs from the script the second person's inhouse regenerates, though
    nobody edited it: it was "differs ... edited ... ask the baseline's owner why". Where the
    program recorded those very bytes for this lock (`install-script`'s own fact), that is
    said instead; the regenerated script still runs, never the file. An edit since still
    warns."""
    from inhouse.baseline.install import COLLECTOR
    from inhouse.program import Program, Provenance

    lock_hash = locked_program(_isolated)
    script = _isolated / "install.sh"
    # what an earlier release's install-script wrote and recorded: other comments, same steps
    older = render_install_script(_isolated, read_manifest(_isolated), require_lock(_isolated))
    older = older.replace("# Do not edit:", "# Do not edit (an earlier release's words):", 1)
    script.write_text(older)
    program = Program.open(_isolated)
    try:
        program.record_fact(
            None,
            "baseline.install_script",
            {"lock_hash": lock_hash, "sha256": hashlib.sha256(older.encode()).hexdigest(),
             "path": "install.sh"},
            provenance=Provenance.MEASURED,
            collector=COLLECTOR,
        )  # fmt: skip
    finally:
        program.close()
    out = " ".join(run("baseline", "install", "--dry-run").split())
    assert "but is the one recorded for it (fact #" in out, out
    assert "ask the baseline's owner why it differs" not in out, out
    script.write_text(older.replace("set -eu\n", "set -eu\ntouch edited-ran\n", 1))
    out = " ".join(run("baseline", "install", "--dry-run").split())
    assert "ask the baseline's owner why it differs" in out, out


@pytest.mark.parametrize("entry", ["tools", "", "{folder}/tools"])
def test_a_path_into_the_checkout_is_refused_before_the_script_runs(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    """The checkout's docs tell the colleague to put its tools on PATH (or their PATH holds
    `.`): the regenerated script, run in the checkout, would run the lead's `python3` there as
    them, whatever the lock says. Refused, naming the entry, before anything runs."""
    locked_program(_isolated)
    tools = _isolated / "tools"
    tools.mkdir()
    for name in ("python3", "sh"):
        fake = tools / name
        fake.write_text(f"#!/bin/sh\ntouch {_isolated / 'lead-ran'}\nexit 0\n")
        fake.chmod(0o755)
    (_isolated / "python3").write_bytes((tools / "python3").read_bytes())
    (_isolated / "python3").chmod(0o755)
    monkeypatch.delenv("PYTHON", raising=False)
    path = entry.format(folder=_isolated)
    monkeypatch.setenv("PATH", f"{path}:/usr/bin:/bin")
    out = " ".join(run("baseline", "install", code=2).split())
    assert f"your PATH holds {path or '(an empty entry)'!r}" in out, out
    assert "Take it off PATH" in out
    assert not (_isolated / "lead-ran").exists()


def test_a_path_into_the_checkout_beside_the_program_folder_is_refused(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program is one folder (``ai/``) of the team's repository, whose docs (or a committed
    ``.envrc``) put the repository's ``bin/`` on PATH: a `python3` the lead committed there ran
    as the colleague, since only the program folder was looked at. Anywhere in the checkout
    that holds it is the pushers' too."""
    (_isolated / ".git").mkdir()
    program = _isolated / "ai"
    program.mkdir()
    monkeypatch.chdir(program)
    locked_program(program)
    tools = _isolated / "bin"
    tools.mkdir()
    for name in ("python3", "sh"):
        fake = tools / name
        fake.write_text(f"#!/bin/sh\ntouch {_isolated / 'lead-ran'}\nexit 0\n")
        fake.chmod(0o755)
    monkeypatch.delenv("PYTHON", raising=False)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    out = " ".join(run("baseline", "install", code=2).split())
    assert f"your PATH holds {str(tools)!r}" in out, out
    assert not (_isolated / "lead-ran").exists()


def test_the_venv_running_inhouse_at_the_checkouts_top_is_no_path_into_it(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The honest source install (review56): the team's repository keeps a git-ignored
    ``.venv`` at its top, inhouse pip-installed there and activated (``. .venv/bin/activate``,
    as the README says of a source tree), the program one folder of it. Its ``bin/`` was
    refused as a PATH into the checkout, though what it holds runs as her already (this
    inhouse does) and no pull writes there. Once git tracks a file in it (a ``python3`` pushed
    beside the ``python`` inhouse runs on), it is refused as before. (``sysconfig``'s scripts
    folder is stood in for: the suite's Python is not in a checkout.)"""
    subprocess.run(["git", "init", "-q", str(_isolated)], check=True)
    (_isolated / ".gitignore").write_text(".venv/\n")
    program = _isolated / "ai"
    program.mkdir()
    monkeypatch.chdir(program)
    locked_program(program)
    scripts = _isolated / ".venv" / "bin"
    scripts.mkdir(parents=True)
    real = sysconfig.get_path

    def get_path(name: str, *args: Any, **kwargs: Any) -> str:
        return str(scripts) if name == "scripts" else real(name, *args, **kwargs)

    monkeypatch.setattr(sysconfig, "get_path", get_path)
    # the regenerated script stops at its Python check: enough to see that it ran
    monkeypatch.setenv("PYTHON", "false")
    monkeypatch.setenv("PATH", f"{scripts}:/usr/bin:/bin")
    out = " ".join(run("baseline", "install", code=1).split())
    assert "your PATH holds" not in out, out
    assert "inhouse needs Python 3.11 or newer" in capfd.readouterr().err
    # the forgery: a python3 the lead pushed into it (`git add -f`), which a pull writes there
    fake = scripts / "python3"
    fake.write_text(f"#!/bin/sh\ntouch {_isolated / 'lead-ran'}\nexit 0\n")
    fake.chmod(0o755)
    subprocess.run(["git", "-C", str(_isolated), "add", "-f", str(fake)], check=True)
    monkeypatch.delenv("PYTHON")
    out = " ".join(run("baseline", "install", code=2).split())
    assert f"your PATH holds {str(scripts)!r}" in out, out
    assert not (_isolated / "lead-ran").exists()
    # and another folder of the checkout is refused, whatever git tracks there
    subprocess.run(["git", "-C", str(_isolated), "rm", "-q", "--cached", str(fake)], check=True)
    tools = _isolated / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", f"{scripts}:{tools}:/usr/bin:/bin")
    out = " ".join(run("baseline", "install", code=2).split())
    assert f"your PATH holds {str(tools)!r}" in out, out


def test_a_repository_at_the_home_folder_is_no_checkout_of_the_program(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest side: one's dotfiles kept in git at the home folder put no PATH entry under
    it (``~/.local/bin``) inside the program's checkout."""
    from inhouse.location import checkout_of

    home = _isolated / "home"
    program = home / "work" / "ai"
    program.mkdir(parents=True)
    (home / ".git").mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert checkout_of(program) == program.resolve()
    (home / "work" / ".git").mkdir()
    assert checkout_of(program) == (home / "work").resolve()


def test_a_process_without_a_home_folder_still_finds_the_checkout(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service account with no HOME and no entry in the password file (Path.home() raises):
    every command in a program asks for its checkout (the plugin check), which must not crash."""
    from inhouse.location import checkout_of

    def nowhere() -> Path:
        raise RuntimeError("Could not determine home directory.")

    program = _isolated / "work" / "ai"
    program.mkdir(parents=True)
    (_isolated / "work" / ".git").mkdir()
    monkeypatch.setattr(Path, "home", staticmethod(nowhere))
    assert checkout_of(program) == (_isolated / "work").resolve()


def test_a_program_in_a_submodule_is_in_the_checkout_that_holds_the_submodule(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lead puts the program folder in a submodule of the team's repository (its ``.git`` a
    file): the repository's ``bin/`` on PATH was taken for outside the checkout, and a
    ``python3`` committed there ran as the colleague. A linked work tree with no repository
    above it is its own checkout, as before."""
    from inhouse.location import checkout_of

    (_isolated / ".git").mkdir()
    program = _isolated / "ai"
    program.mkdir()
    (program / ".git").write_text("gitdir: ../.git/modules/ai\n")
    assert checkout_of(program) == _isolated.resolve()
    alone = _isolated.parent / "elsewhere" / "ai"
    alone.mkdir(parents=True)
    (alone / ".git").write_text(f"gitdir: {_isolated / '.git' / 'worktrees' / 'ai'}\n")
    assert checkout_of(alone) == alone.resolve()
    monkeypatch.chdir(program)
    locked_program(program)
    tools = _isolated / "bin"
    tools.mkdir()
    for name in ("python3", "sh"):
        fake = tools / name
        fake.write_text(f"#!/bin/sh\ntouch {_isolated / 'lead-ran'}\nexit 0\n")
        fake.chmod(0o755)
    monkeypatch.delenv("PYTHON", raising=False)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    out = " ".join(run("baseline", "install", code=2).split())
    assert f"your PATH holds {str(tools)!r}" in out, out
    assert not (_isolated / "lead-ran").exists()
