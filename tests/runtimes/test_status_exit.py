"""``inhouse runtime status`` tells a script whether the embedded runtime serves: exit status 0
only where it runs and answers, 1 where it is not running, its process is gone, or it does not
answer (the report is printed either way, as text or ``--json``). It exited 0 on every one, so
a health check or a CI step that waited on it went on to send requests nothing would answer."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.location import run_dir
from tests.runtimes.standin import free_port

runner = CliRunner()


def _recorded(pid: int, port: int) -> None:
    """A state file as ``serve`` writes it, for process ``pid`` listening on ``port``."""
    folder = run_dir(None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "embedded.pid").write_text(f"{pid}\n")
    (folder / "embedded.json").write_text(json.dumps({
        "pid": pid, "url": f"http://127.0.0.1:{port}", "host": "127.0.0.1", "port": port,
        "model_id": "m", "model_path": "/nowhere/m.gguf", "model_digest": "sha256:00",
        "is_test_model": False, "engine": "llama-cpp-python 0", "python": sys.executable,
        "started_at": "2026-01-01T00:00:00+00:00", "log_path": "/nowhere/log",
    }))  # fmt: skip


def _status(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["runtime", "status", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def test_nothing_started_exits_one_and_says_so() -> None:
    code, out = _status()
    assert (code, "the embedded runtime is not running" in out) == (1, True)
    code, out = _status("--json")
    assert code == 1
    assert json.loads(out)["running"] is False  # the report is still there for a script


def test_a_gone_process_exits_one() -> None:
    _recorded(2**22 + 12345, 9)  # above the default pid_max: no such process
    code, out = _status()
    assert code == 1 and "not running: process" in out and "is gone" in out


def test_a_process_that_does_not_answer_exits_one() -> None:
    """The recorded process runs (this test's own), but nothing listens where it was recorded:
    running, not answering, which no request would get past."""
    _recorded(os.getpid(), free_port())
    code, out = _status("--json")
    report = json.loads(out)
    assert (report["running"], report["answering"], code) == (True, False, 1)
    code, out = _status()
    assert code == 1 and "not answering" in out


def test_stop_still_exits_zero_when_nothing_runs(tmp_path: Path) -> None:
    """Stopping what is not running did what was asked: only status reports a failure."""
    result = runner.invoke(app, ["runtime", "stop"])
    assert result.exit_code == 0 and "not running" in result.output
