"""``inhouse gateway serve`` says where clients reach it: the base URL, once the port is open.
It said only "Ctrl-C stops it", so whoever started it on port 0, or on the [gateway] table's
port, had to guess the address the README tells clients to use (``…/v1``)."""

from __future__ import annotations

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
