"""Each command prints at the width of its own environment. Rich reads ``COLUMNS`` once, when
a console is made, and the CLI kept its consoles for the process: a test that set a narrow
``COLUMNS`` narrowed every later command on the same xdist worker (and a wide one widened the
next narrow test), so what a test saw hung on the order tests ran in."""

from __future__ import annotations

from typer.testing import CliRunner

from inhouse.cli.app import app

runner = CliRunner()


def _said(columns: int) -> list[str]:
    """``inhouse status`` where there is no program (an error of over 200 characters), its
    lines as printed at ``columns``."""
    result = runner.invoke(app, ["status"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 2, result.output
    return result.stderr.splitlines()


def test_a_narrow_command_then_a_wide_one_then_a_narrow_one_each_at_its_own_width() -> None:
    """In either order, in one process: whichever ran first used to set the width for both."""
    for columns in (40, 200, 40, 200):
        lines = _said(columns)
        assert lines[0].startswith("error: no inhouse program in"), lines
        assert all(len(line) <= columns for line in lines), (columns, lines)
        if columns == 40:
            assert len(lines) > 4, lines  # wrapped to the narrow terminal
        else:
            assert len(lines[0]) > 150, lines  # not wrapped at a narrower width before it


def test_a_group_of_its_own_prints_at_its_own_width_too() -> None:
    """A command group mounted on its own (a plugin's, a test's stand-in root) reads the width
    as it starts, as `inhouse` does: the console is the one every command prints on."""
    from inhouse.cli._common import Typer, out_console

    group = Typer()

    @group.callback()
    def _root() -> None:
        """A stand-in root."""

    @group.command()
    def width() -> None:
        """Print the width the CLI's console has."""
        out_console().print(out_console().width)

    for columns in (40, 200, 40):
        said = runner.invoke(group, ["width"], env={"COLUMNS": str(columns)})
        assert said.exit_code == 0 and said.stdout.strip() == str(columns), said.output
