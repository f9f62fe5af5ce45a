"""``inhouse gateway serve`` says where clients reach it: the base URL, once the port is open.
It said only "Ctrl-C stops it", so whoever started it on port 0, or on the [gateway] table's
port, had to guess the address the README tells clients to use (``…/v1``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from tests.gateway.harness import (
    digest_of,
    make_program,
    model_file,
    one_runtime,
    served,
    wait_for,
    weights_root,
)
from tests.runtimes.standin import free_port

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def test_serve_prints_the_base_url_clients_use(_isolated: Path) -> None:
    weights = model_file(_isolated)
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        make_program(_isolated, runtimes, {"tiny": digest_of(weights)}).close()
        log = _isolated / "gateway.log"
        with served(_isolated, log) as gateway:
            said = lambda: " ".join(log.read_text().split())  # noqa: E731 - read as it grows
            wait_for(
                lambda: "clients use base_url" in said(), what="the gateway to say where it listens"
            )
            assert f"clients use base_url {gateway.url}/v1 " in said(), said()


def test_a_configuration_it_cannot_start_with_is_said_alone(_isolated: Path) -> None:
    """No "Ctrl-C stops it" for a gateway that never started: the error is all it says."""
    one_runtime(_isolated, "http://127.0.0.1:9").close()
    with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as toml:
        toml.write("\n[gateway\n")  # cut short
    result = CliRunner().invoke(app, ["gateway", "serve", "--program", str(_isolated)])
    assert result.exit_code != 0
    assert "Ctrl-C" not in result.output and "base_url" not in result.output
    assert "inhouse.toml is not valid TOML" in result.output


def test_a_spool_folder_that_is_a_file_is_named(_isolated: Path) -> None:
    """`--spool-dir notes.txt` (a file): the spool's mkdir raised FileExistsError, a traceback
    from the gateway's start-up; now the error names the spool and the setting to change, and
    the file is left as it was."""
    one_runtime(_isolated, "http://127.0.0.1:9").close()
    (_isolated / "notes.txt").write_text("mine\n")
    result = CliRunner().invoke(
        app, ["gateway", "serve", "--port", "0", "--spool-dir", "notes.txt"]
    )
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "Traceback" not in said, said
    assert result.exception is None or isinstance(result.exception, SystemExit), said
    assert f"cannot keep the usage spool at {_isolated / 'notes.txt'}" in said, said
    assert (_isolated / "notes.txt").read_text() == "mine\n"


def _serve_workers(folder: Path, *args: str) -> tuple[int, str]:
    """``inhouse gateway serve --workers 2 --port 0 ARGS`` in a process of its own: its exit
    code and what it said, or a failure when it is still running after a minute (a whole
    interpreter per worker starting, on a busy box)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "INHOUSE_PROGRAM": str(folder)}
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "inhouse", "gateway", "serve", "--workers", "2",
             "--port", "0", *args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    try:
        code = process.wait(60)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait(30)
        raise AssertionError(f"still running:\n{log.read_text()[-3000:]}") from None
    return code, " ".join(log.read_text().split())


def test_workers_that_cannot_start_are_said_once_and_serve_ends(_isolated: Path) -> None:
    """`serve --workers 2` whose workers cannot start (here `[gateway] runtimes` names a table
    inhouse.toml lacks): the supervisor said "Listening", then each worker's traceback, and
    started them again, a traceback a second for ever. Now it ends, with the worker's error
    once, its exit code, and no address clients would be sent to."""
    one_runtime(_isolated, "http://127.0.0.1:9", gateway={"runtimes": ["gpu-box"]}).close()
    code, said = _serve_workers(_isolated)
    assert code == 2, said
    assert "Traceback" not in said and "base_url" not in said and "Ctrl-C" not in said, said
    assert "gateway.runtimes names gpu-box, which has no [runtimes.NAME] table" in said, said
    assert said.count("gpu-box") == 1, said
    assert "starting it again" not in said, said


def test_workers_without_a_lock_say_to_lock_and_end(_isolated: Path) -> None:
    """No lock recorded and no inhouse.lock: one process said to run `inhouse baseline lock`;
    two workers looped on the same error's traceback."""
    one_runtime(_isolated, "http://127.0.0.1:9").close()
    (_isolated / "inhouse.lock").unlink()
    code, said = _serve_workers(_isolated)
    assert code == 2 and "Traceback" not in said and "base_url" not in said, said
    assert "run `inhouse baseline lock`" in said, said


def test_the_log_dates_a_runtime_going_down_and_coming_back(_isolated: Path) -> None:
    """The gateway's log wrote bare messages ("runtime local at … is down ConnectFailed: …"):
    no time, no level, no process, and nothing at all when the runtime came back. Now each
    line is dated in UTC with its level and pid, and the node's return is said too."""
    weights = model_file(_isolated)
    port = free_port()
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated), port=port) as first:
        runtimes = {"local": {"family": "openai", "url": first.url, "model_path": str(weights)}}
        make_program(_isolated, runtimes, {"tiny": digest_of(weights)}).close()
        log = _isolated / "gateway.log"
        with served(_isolated, log) as gateway:
            first.process.terminate()
            first.process.wait(30)
            said = log.read_text  # read as it grows
            wait_for(lambda: "is down" in said(), timeout=30, what="the runtime said down")
            time.sleep(1.5)  # health checks, every 0.2 s here, while it stays down
            down = said()
            # a node kept, marked down, is not said to be back
            assert "is served by" not in down[down.index("is down") :], down
            with spawn_standin(FAST, model="tiny", root=weights_root(_isolated), port=port):
                wait_for(lambda: "is served by" in said(), timeout=30, what="its return said")
            pid = gateway.process.pid if gateway.process is not None else 0
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARNING \[pid " + str(pid) + r"\] "
    url = re.escape(first.url)
    assert re.search(stamp + rf"runtime local at {url} is down \(ConnectFailed: ", said()), said()
    assert re.search(stamp + rf"model tiny is served by runtime local at {url} now", said())


def test_one_worker_that_cannot_start_takes_the_others_down_and_frees_the_port(
    _isolated: Path,
) -> None:
    """Worker 1's spool is a file, worker 0 starts and serves: `serve` ends with worker 1's
    error and stops worker 0, so nothing is left listening on the port (a worker left behind
    would have held it, and served, with nobody to stop it)."""
    import socket

    one_runtime(_isolated, "http://127.0.0.1:9").close()
    spool = _isolated / ".inhouse" / "gateway" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    (spool / "worker-1").write_text("mine\n")
    port = free_port()
    code, said = _serve_workers(_isolated, "--port", str(port))
    assert code != 0 and "Traceback" not in said and "base_url" not in said, said
    assert "cannot keep the usage spool" in said and "worker-1" in said, said
    assert (spool / "worker-1").read_text() == "mine\n"
    with socket.socket() as probe:  # no SO_REUSEPORT: any listener left there refuses it
        probe.bind(("127.0.0.1", port))
