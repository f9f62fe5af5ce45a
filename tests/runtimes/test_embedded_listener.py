"""The embedded runtime's launch check asks which process listens on its port.

``launch_problem`` took a process with the right command line (``llama_cpp.server --model F
--model_alias M --port P``) as the server that answers at port P. A command line is anyone's to
type: a sleeping process named like the server, with another server (another model) listening
on P, made the file it names "what the runtime serves". The port's listening socket must be
that process's own."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.runtimes.embedded import EmbeddedState, launch_problem

_SLEEP = "import sys, time; time.sleep(60)"
_LISTEN = (
    "import socket, sys, time; s = socket.socket(); "
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    "s.bind((sys.argv[1], int(sys.argv[-1]))); s.listen(); print('ready', flush=True); "
    "time.sleep(60)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def named_like_the_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], EmbeddedState]]:
    port = _free_port()
    model = tmp_path / "blessed.gguf"
    args = [
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        "blessed",
        "--port",
        str(port),
    ]
    process = subprocess.Popen([sys.executable, "-c", _SLEEP, *args], text=True)
    state = EmbeddedState(
        pid=process.pid, url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port,
        model_id="blessed", model_path=str(model), model_digest="", is_test_model=False,
        engine="llama-cpp-python", python=sys.executable, started_at="", log_path="",
    )  # fmt: skip
    time.sleep(0.2)  # its command line is in /proc once it has started
    yield process, state
    process.kill()
    process.wait()


def test_a_process_named_like_the_server_that_does_not_listen_is_not_it(
    named_like_the_server: tuple[subprocess.Popen[str], EmbeddedState],
) -> None:
    _, state = named_like_the_server
    with socket.socket() as other:  # another server answers at the port
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", state.port))
        other.listen()
        problem = launch_problem(state)
    assert problem is not None and f"does not listen at 127.0.0.1:{state.port}" in problem, problem


@pytest.mark.parametrize("bound", ["127.0.0.1", "127.0.0.2"])
def test_the_process_that_listens_at_the_address_with_that_command_line_is_it(
    tmp_path: Path, bound: str
) -> None:
    """It counts listening at the recorded address; the same port on another loopback address
    (while another server answers at the recorded one) does not."""
    port = _free_port()
    model = tmp_path / "blessed.gguf"
    args = [
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        "blessed",
        "--port",
        str(port),
    ]
    process = subprocess.Popen([sys.executable, "-c", _LISTEN, bound, *args], text=True,
                               stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        state = EmbeddedState(
            pid=process.pid, url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port,
            model_id="blessed", model_path=str(model), model_digest="", is_test_model=False,
            engine="llama-cpp-python", python=sys.executable, started_at="", log_path="",
        )  # fmt: skip
        problem = launch_problem(state)
        if bound == "127.0.0.1":
            assert problem is None
        else:
            assert problem is not None and f"does not listen at 127.0.0.1:{port}" in problem
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
