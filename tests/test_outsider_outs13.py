"""The outsider, round outs13: a new rollout lead walks plays 1 to 3 on one machine from the
README and docs alone. What stopped her, each pinned here:

- in a program made without ``--demo`` she gave omar ``INHOUSE_MACHINE_ID=omar-laptop``, as the
  README's tour does; ``join`` warned that omar enrolled from her machine and said nothing of the
  variable she had set, so she could not tell a typo from a rule (it counts only in a demo).
"""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_a_trial_naming_a_missing_runtime_says_which_file_to_fix(_isolated: Path) -> None:
    """lena's trial names `candidate.runtime: local`, as docs/trials.md shows, before she added
    the table to inhouse.toml. The refusal named inhouse.toml and the field `candidate.runtime`
    as if it were that file's, and said nothing of what to add: it now names the trial's file
    for the field, and the table to add where."""
    ok("init", "Acme", "--lead", "lena", "--demo")
    (_isolated / "trials").mkdir()
    (_isolated / "data").mkdir()
    (_isolated / "data" / "t.jsonl").write_text('{"text": "printer jams"}\n')
    (_isolated / "trials" / "tickets.yaml").write_text(
        "description: d\n"
        "task: {prompt: 'Summarise: {{ text }}', inputs: data/t.jsonl}\n"
        "candidate: {runtime: local, cost: {watts: 65, price_per_kwh: 0.3, hardware_price: 1800,"
        " lifetime_hours: 26280, utilisation: 0.4}}\n"
        "status_quo: {kind: api, url: 'https://api.example.com', model: m,"
        " price_input_per_mtok: 1, price_output_per_mtok: 1}\n"
        "checks: [{type: length, min: 1}]\n"
        "meaningful: {faster: 30}\n"
    )
    out = " ".join(cli("prove", "tickets", code=2).split())
    assert "candidate.runtime in trials/tickets.yaml names [runtimes.local]" in out, out
    assert "add a [runtimes.local] table to inhouse.toml" in out, out


def test_list_tables_fold_on_an_80_column_terminal_never_cut(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an 80-column terminal `fact list` cut each fact's time to "2026-12-07T10:17…" and
    `audit log` its keys and machines; `models list` cut the digest it exists to show. Folded
    over lines, every character is still there."""

    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("hypothesis", "A local model drafts ticket summaries for less", "--replaces", "hosted API")
    ok("models", "make-test-model")
    monkeypatch.setenv("COLUMNS", "80")
    for words in (("fact", "list"), ("audit", "log"), ("models", "list")):
        out = cli(*words)
        assert "…" not in out, (words, out)
        assert max(len(line) for line in out.splitlines()) <= 80, (words, out)


def test_the_next_step_to_offer_a_handoff_says_whom_to_offer_it_to(
    _isolated: Path, tmp_path: Path
) -> None:
    """omar's next step once play 3's exit was met read `inhouse handoff offer 3 --to PERSON`,
    and nothing said who PERSON is. It now says whom play 4 asks for (a rollout lead, not omar)
    and who holds that role; where the next play keeps the owner (play 1 to 2), it names them."""
    from inhouse.next_steps import next_steps
    from inhouse.program import Program

    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("join", invite("omar", "--role", "play-owner"), env=own_machine("omar", tmp_path / "k"))
    program = Program.open(_isolated)
    try:
        status = program.status()
        for number, owner in ((1, "lena"), (3, "omar")):
            status["plays"][number - 1]["state"] = "exit-met"
            status["plays"][number - 1]["owner"] = owner
        steps = {s["person"]: [x["text"] for x in s["steps"]] for s in next_steps(program, status)}
    finally:
        program.close()
    [lena] = [t for t in steps["lena"] if "offer the handoff" in t]
    assert "`inhouse handoff offer 1 --to lena`" in lena, lena
    [omar] = steps["omar"]
    assert "`inhouse handoff offer 3 --to PERSON`: PERSON owns play 4" in omar, omar
    assert "not omar; rollout-lead: lena" in omar, omar


def test_the_demo_never_removes_a_folder_it_did_not_make(
    _isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m inhouse.demo FOLDER` removed FOLDER whole before making the demo there: an
    outsider who named their work folder lost it. A folder that is not an earlier demo's (no
    `.demo-keys/`) is refused, untouched."""
    from inhouse import demo

    work = _isolated / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    assert demo.main(str(work)) == 2
    assert (work / "notes.txt").read_text() == "mine"
    assert "is not a demo program an earlier run made" in capsys.readouterr().err


def test_joining_in_the_lead_s_shell_says_whose_key_it_holds_and_what_to_do(
    _isolated: Path, tmp_path: Path
) -> None:
    """Walking the tour on one computer, lena ran omar's `join` in her own shell: refused with
    "the key … is already enrolled in this program", nothing said whose, or what to do. It
    now says it is lena's, how omar gets a key of his own, and the invitation still works."""
    ok("init", "Acme", "--lead", "lena", "--demo")
    invitation = invite("omar")
    out = " ".join(cli("join", invitation, env={"INHOUSE_MACHINE_ID": "omar-laptop"}, code=2)
                   .split())  # fmt: skip
    assert "already enrolled in this program, as lena's: this shell acts as lena" in out, out
    assert "point INHOUSE_KEY at a file that does not exist yet" in out, out
    assert "Enrolled omar" in ok("join", invitation, env=own_machine("omar", tmp_path / "k"))
