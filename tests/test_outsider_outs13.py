"""The outsider, round outs13: a new rollout lead walks plays 1 to 3 on one machine from the
README and docs alone. What stopped her, each pinned here:

- in a program made without ``--demo`` she gave omar ``INHOUSE_MACHINE_ID=omar-laptop``, as the
  README's tour does; ``join`` warned that omar enrolled from her machine and said nothing of the
  variable she had set, so she could not tell a typo from a rule (it counts only in a demo).
"""

from __future__ import annotations

from pathlib import Path

from tests.clitools import cli
from tests.test_cli import invite, ok, own_machine


def test_machine_id_in_a_real_program_says_it_counts_only_in_a_demo(
    _isolated: Path, tmp_path: Path
) -> None:
    """omar joins a real program with INHOUSE_MACHINE_ID set: the warning says the variable
    was set and tells people apart only in a demo; tom, who set none, is not told of it."""
    ok("init", "Acme", "--lead", "lena")
    out = " ".join(cli("join", invite("omar"), env=own_machine("omar", tmp_path / "keys")).split())
    assert "warning: omar enrolled from the same machine as lena" in out, out
    assert "INHOUSE_MACHINE_ID was set when omar enrolled" in out, out
    assert "only in a demo program (`inhouse init --demo`)" in out, out
    tom = {"INHOUSE_KEY": str(tmp_path / "keys" / "tom.key")}
    out = " ".join(cli("join", invite("tom"), env=tom).split())
    assert "warning: tom enrolled from the same machine as lena" in out, out
    assert "INHOUSE_MACHINE_ID" not in out, out
