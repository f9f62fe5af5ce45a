"""SLOW (a minute or more): the install script, run for real on a "fresh machine".

A fresh temporary folder holds only what a second person checks out (inhouse.toml,
inhouse.lock, install.sh); the second person's own inhouse (this process's) regenerates the
script there (``inhouse baseline install``) and runs it: it creates a new venv, pip-installs
inhouse from this checkout (``--source``, which only a demo program takes), downloads the
blessed model from a local HTTP server, checks its SHA-256, and ends with ``inhouse baseline
verify`` against the real llama.cpp engine. The runtime is the ``openai`` family pointed at
the session's engine, so the fresh venv does not need to build llama-cpp-python. The verify is
signed with the second person's own key (INHOUSE_KEY, on a machine of their own) and recorded
in the owner's store through INHOUSE_DATABASE_URL, as a team's shared database would be.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import inhouse
from inhouse.baseline.install import default_venv
from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.runtimes.digests import file_sha256
from tests.conftest import OTHER_COMPUTER
from tests.engine import Engine, needs_engine
from tests.people import enrol_cli

pytestmark = [needs_engine, pytest.mark.slow]
runner = CliRunner()
CHECKOUT = Path(inhouse.__file__).resolve().parents[2]
#: the suite's stand-in identity provider runs on loopback, standing for the organisation's
#: provider elsewhere, and tests/conftest.py lifts the loopback rule for it in the tests' own
#: process; the fresh machine's inhouse runs in processes of its own, which lift it the same way
#: (on PYTHONPATH; before inhouse is installed there, it does nothing)
STAND_IN_SITECUSTOMIZE = """\
try:
    from inhouse.identity import signin as _signin
    from inhouse.program import state as _state
except Exception:
    pass
else:
    _state.vouches_for_nobody = lambda issuer, demo: False
    _signin.provider_here = lambda issuer: None
"""


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def model_server(engine: Engine) -> Iterator[str]:
    """The test model's folder over HTTP on loopback: where the script downloads it from."""
    handler = functools.partial(_Quiet, directory=str(engine.model.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{engine.model.name}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_install_script_stands_up_a_fresh_machine(
    _isolated: Path,
    tmp_path: Path,
    engine: Engine,
    model_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # the owner's machine: a program, a baseline on the engine, a lock and the script; in this
    # process it stands in for lena's laptop, so the install below runs on another computer
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    # a demo: only a demo installs inhouse from a checkout (--source) rather than an index
    run("init", "Acme", "--lead", "lena", "--demo")
    opened = Program.open(_isolated)
    omar = enrol_cli(opened, "omar", tmp_path / "keys", team="support")
    opened.close()
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text()
        + f'\n[runtimes.local]\nfamily = "openai"\nurl = "{engine.url}"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [{ name = "inhouse-test-model",'
        + f' path = "models/inhouse-test-model.gguf", source = "{model_server}" }}]\n'
        + '\n[data_rules]\ndefault = "redact"\n'
    )
    run("baseline", "lock")
    run("baseline", "install-script", "--source", str(CHECKOUT))
    lock_hash = json.loads(run("baseline", "show", "--json"))["lock_hash"]

    # the second person's machine: only what they check out
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for name in ("inhouse.toml", "inhouse.lock", "install.sh"):
        shutil.copy(_isolated / name, fresh / name)
    gone = ("VIRTUAL_ENV", "INHOUSE_PROGRAM", OTHER_COMPUTER)
    env = {k: v for k, v in os.environ.items() if k not in gone}
    stand_in = tmp_path / "stand-in"
    stand_in.mkdir()
    (stand_in / "sitecustomize.py").write_text(STAND_IN_SITECUSTOMIZE)
    env.update(
        **omar,  # the verify is signed with omar's own key, on his own machine (signed in)
        PYTHONPATH=str(stand_in),
        INHOUSE_DATABASE_URL=f"sqlite:///{_isolated / '.inhouse' / 'inhouse.db'}",
        PYTHON=sys.executable,
        # the tests' HOME is a temporary folder; pip may still use this machine's cache
        PIP_CACHE_DIR=str(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "pip"),
        PATH=os.pathsep.join(
            p
            for p in env.get("PATH", "").split(os.pathsep)
            if Path(sys.executable).parent != Path(p)
        ),
    )
    # the second person's own inhouse (this process) regenerates the script and runs it; the
    # script's processes are the fresh machine's
    capfd.readouterr()
    done = runner.invoke(
        app,
        ["--program", str(fresh), "baseline", "install", "--source", str(CHECKOUT)],
        env={**env, **dict.fromkeys(gone)},
    )
    said = done.stdout + done.stderr
    captured = capfd.readouterr()
    output = said + captured.out + captured.err
    assert done.exit_code == 0, output
    assert f"install.sh here is the script for lock {lock_hash}, byte for byte" in said
    # the venv lies outside the checkout (out of a pull's reach), under the data folder
    assert (default_venv(fresh) / "bin" / "inhouse").is_file()
    assert not (fresh / ".inhouse" / "venv").exists()
    downloaded = fresh / "models" / "inhouse-test-model.gguf"
    assert file_sha256(downloaded, cached=False) == file_sha256(engine.model, cached=False)
    assert "model inhouse-test-model: models/inhouse-test-model.gguf matches the lock" in output
    assert "Verify passed" in output
    assert "it counts: omar is not the baseline's owner" in output

    # the verify ran in the fresh venv and is in the program's store, against the current lock
    verifies = json.loads(run("fact", "list", "--kind", "baseline.verify", "--json"))
    assert [(f["by"], f["payload"]["passed"], f["payload"]["lock_hash"]) for f in verifies] == [
        ("omar", True, lock_hash)
    ]
    # and it names the inhouse that ran it: pip installed it from this checkout, not an index
    assert verifies[0]["payload"]["inhouse"] == {
        "version": inhouse.__version__,
        "installed_from": "url",
        "url": CHECKOUT.as_uri(),
    }
