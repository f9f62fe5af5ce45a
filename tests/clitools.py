"""Running the ``inhouse`` command in a test: one helper, whose failure shows the command, its exit
code and its output."""

from __future__ import annotations

from typer.testing import CliRunner

from inhouse.cli.app import app

runner = CliRunner()


def cli(
    *args: str, env: dict[str, str] | None = None, code: int = 0, input: str | None = None
) -> str:
    """``inhouse ARGS…``'s output (stdout and stderr); it exits with ``code``, without a
    traceback. ``input`` is what is typed at its questions (none: end of input)."""
    result = runner.invoke(app, list(args), env=env, input=input)
    out = result.stdout + result.stderr
    assert result.exit_code == code, f"{args}: exit {result.exit_code}: {out}"
    assert "Traceback" not in out
    return out
