"""The outsider, a first week: a new engineer walks the README's tour by hand in a demo program
on SQLite, as the lead (lena) and as two colleagues (omar, vic), each with a HOME, a config
folder and a machine id of their own and a ``git clone`` of the program folder, carrying what
they sign to lena with ``evidence export`` as the README says. What cost them time, each pinned
here:

- omar's ``join`` in his clone made ``.inhouse/`` (his store, his outbox) with no
  ``.gitignore``: ``git status`` showed it untracked beside his work, and a ``git add -A``
  committed his store and outbox for a pull to write onto every other machine (``init`` writes
  the ``.gitignore``, but git carries nothing under ``.inhouse/``);
- ``inhouse whoami`` right after ``join`` there (the README: "`inhouse whoami` says who that
  is") failed with "cannot tell whose key … is here" and said nothing of the key he held or
  the enrolment waiting in his outbox (it still exits 2: nobody is known without the log);
- ``sign-in login`` there told him nothing he signed counts until he signs in where the log is,
  which a demo does not need (the README: "A demo needs no sign-in");
- his ``prove tickets --rerun`` there said only that play 2's check compares it "with the
  verdict there": that it counts only with his ``--confirm-minutes``, ``--confirm-outputs`` and
  ``--confirm-costs`` he learnt once lena had imported it and read ``status``, and ran, exported
  and she imported it all again (where the log is, the rerun says so at once);
- ``handoff accept`` showed "judged by rules 34": a number nothing on the way had explained.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clitools import cli
from tests.engine import needs_engine
from tests.test_cli import invite, ok, own_machine
from tests.trials.test_rerun import EASY, reproduced, write_trial
from tests.trials.test_rerun import omar as omar
from tests.trials.test_rerun import program as program


def _clone(lead: Path, to: Path) -> Path:
    """A colleague's ``git clone`` of the lead's program folder: what git carries of it."""
    git = ["git", "-c", "user.name=lena", "-c", "user.email=lena@example.com"]
    subprocess.run([*git, "-C", str(lead), "init", "-q"], check=True)
    subprocess.run([*git, "-C", str(lead), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(lead), "commit", "-qm", "program", "--allow-empty"], check=True)
    subprocess.run(["git", "clone", "-q", str(lead), str(to)], check=True)
    return to


def _untracked(folder: Path) -> list[str]:
    done = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line[3:] for line in done.stdout.splitlines()]


def _demo_and_a_clone(work: Path, tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    ok("init", "Acme", "--lead", "lena", "--demo")
    invitation = invite("omar", "--team", "support")
    assert (work / ".inhouse" / ".gitignore").read_text(encoding="utf-8") == "*\n"
    clone = _clone(work, tmp_path / "omar-laptop" / "acme")
    assert not (clone / ".inhouse").exists()  # git carried nothing of it
    return clone, own_machine("omar", tmp_path / "keys"), invitation


def test_join_in_a_clone_keeps_its_state_out_of_git(_isolated: Path, tmp_path: Path) -> None:
    """omar joins in his clone: his store and outbox are his machine's, and git says nothing of
    them (a ``git add -A`` would have committed them for every pull to write elsewhere)."""
    clone, env, invitation = _demo_and_a_clone(_isolated, tmp_path)
    ok("join", invitation, "--program", str(clone), env=env)
    assert list((clone / ".inhouse" / "outbox").glob("*-enrolment.json"))
    assert _untracked(clone) == []
    # the test model's file, which his checkout lacks (the README: `models make-test-model`)
    other = _clone(_isolated, tmp_path / "vic-laptop" / "acme")
    ok("models", "make-test-model", "--program", str(other))
    assert (other / ".inhouse" / "models" / "inhouse-test-model.gguf").is_file()
    assert _untracked(other) == []


def test_a_gitignore_of_ones_own_is_kept(_isolated: Path, tmp_path: Path) -> None:
    """Where ``.inhouse/.gitignore`` exists (the lead's, or one its owner wrote), it is left as
    it is: only a missing one is written."""
    clone, env, invitation = _demo_and_a_clone(_isolated, tmp_path)
    (clone / ".inhouse").mkdir()
    (clone / ".inhouse" / ".gitignore").write_text("*\n!notes.txt\n", encoding="utf-8")
    ok("join", invitation, "--program", str(clone), env=env)
    assert (clone / ".inhouse" / ".gitignore").read_text(encoding="utf-8") == "*\n!notes.txt\n"


def test_the_gitignore_is_never_written_through_a_link(tmp_path: Path) -> None:
    """Whoever pushes to the checkout chooses what a pull writes under ``.inhouse/``: a
    ``.gitignore`` there that is a link to a file not there yet was followed, and the first
    command run there (``whoami``, ``status``: every one that opens the program) wrote the
    file it names, outside the program, and a ``.inhouse`` that is a link (``-> ..``) had its
    ``.gitignore`` written into the folder it names (the checkout's own: ``*`` ignored all of
    it). Neither is followed: git reads no ``.gitignore`` inside a linked folder anyway."""
    from inhouse.location import state_folder

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    pulled = tmp_path / "pulled"
    (pulled / ".inhouse").mkdir(parents=True)
    (pulled / ".inhouse" / ".gitignore").symlink_to(outside / "written-by-inhouse")
    assert state_folder(pulled) == pulled / ".inhouse"
    assert list(outside.iterdir()) == []
    assert (pulled / ".inhouse" / ".gitignore").is_symlink()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".inhouse").symlink_to(outside)
    assert state_folder(linked) == linked / ".inhouse"
    assert list(outside.iterdir()) == []
    # the honest folder: made, with its .gitignore
    plain = tmp_path / "plain"
    plain.mkdir()
    state_folder(plain)
    assert (plain / ".inhouse" / ".gitignore").read_text(encoding="utf-8") == "*\n"


def test_whoami_in_a_clone_says_the_key_and_the_enrolment_waiting(
    _isolated: Path, tmp_path: Path
) -> None:
    """The README's "`inhouse whoami` says who that is", right after ``join`` in a clone: still
    refused (exit 2: nobody is known without the log), but first the key this shell holds, the
    name it joined under there, and what to do with the outbox."""
    clone, env, invitation = _demo_and_a_clone(_isolated, tmp_path)
    ok("join", invitation, "--program", str(clone), env=env)
    one = " ".join(cli("whoami", "--program", str(clone), env=env, code=2).split())
    assert "1 signed envelope in .inhouse/outbox/" in one and "carries it," in one, one
    ok("access", "request", "--program", str(clone), env=env)
    said = " ".join(cli("whoami", "--program", str(clone), env=env, code=2).split())
    key = json.loads(cli("whoami", "--program", str(clone), "--json", env=env, code=2))
    assert f"key {key['key_id']}" in said, said
    assert "This key joined here as omar" in said, said
    assert "2 signed envelopes in .inhouse/outbox/" in said and "carries them," in said, said
    assert "inhouse evidence export -o FILE" in said, said
    assert "has the program's settings but not its log" in said, said
    assert key["name"] is None and key["roles"] == [], key  # nothing said as the program's
    assert (key["in_log"], key["joined_here_as"], key["outbox"]) == (False, "omar", 2), key
    # where the log is, once imported: the program's own answer
    export = tmp_path / "omar.json"
    ok("evidence", "export", "-o", str(export), "--program", str(clone), env=env)
    ok("evidence", "import", str(export))
    here = json.loads(cli("whoami", "--json", env=env))
    assert (here["name"], here["in_log"], here["key_id"]) == ("omar", True, key["key_id"]), here


def test_whoami_in_a_clone_says_no_name_another_key_joined_under(
    _isolated: Path, tmp_path: Path
) -> None:
    """The name shown is the one *this* key joined under there: vic (enrolled where the log
    is) in omar's clone is told his key has not joined there, not that it is omar."""
    clone, env, invitation = _demo_and_a_clone(_isolated, tmp_path)
    ok("join", invitation, "--program", str(clone), env=env)
    vic = own_machine("vic", tmp_path / "keys")
    ok("join", invite("vic"), env=vic)
    said = " ".join(cli("whoami", "--program", str(clone), env=vic, code=2).split())
    assert "joined here as" not in said and "has not joined here" in said, said
    assert "inhouse join INVITATION" in said, said
    shown = json.loads(cli("whoami", "--program", str(clone), "--json", env=vic, code=2))
    assert shown["joined_here_as"] is None, shown


def test_sign_in_in_a_clone_of_a_demo_says_a_demo_needs_none(
    _isolated: Path, tmp_path: Path
) -> None:
    """A clone cannot tell a demo (that is in the log), so the refusal says both: where sign-in
    happens, and that a demo skips it."""
    clone, env, invitation = _demo_and_a_clone(_isolated, tmp_path)
    ok("join", invitation, "--program", str(clone), env=env)
    said = " ".join(cli("sign-in", "login", "--program", str(clone), env=env, code=2).split())
    assert "cannot sign in here" in said, said
    assert "In a demo program (`inhouse init --demo`), skip this" in said, said


@needs_engine
@pytest.mark.parametrize("given", [(), ("--confirm-minutes", "I do these by hand, 3-7 min")])
def test_a_rerun_in_a_clone_names_the_confirmations_it_lacks(
    program: Path,
    omar: dict[str, str],
    tmp_path: Path,
    given: tuple[str, ...],
) -> None:
    """A manual status quo with typed outputs, "cheaper" cleared: the rerun in omar's clone
    names every confirmation play 2's check will ask of it, and only those he did not give;
    imported, the check names the same ones."""
    write_trial(program, EASY)
    ok("prove", "tickets")
    clone = _clone(program, tmp_path / "omar-laptop" / "acme")
    said = " ".join(
        cli("prove", "tickets", "--rerun", *given, "--program", str(clone), env=omar,
            input="y\n").split()
    )  # fmt: skip
    wanted = [f for f in ("--confirm-minutes", "--confirm-outputs") if f not in given]
    certain = " ".join(f"{f} COMMENT" for f in wanted)
    # the costs only where the verdict claimed "cheaper", which the clone cannot see: his
    # rerun clearing it is no claim the verdict made
    assert f"rerun it with `inhouse prove tickets --rerun {certain}`, with --confirm-costs " \
        "COMMENT too where the verdict there claimed 'cheaper' (which this checkout cannot " \
        "tell" in said, said  # fmt: skip
    flags = f"{certain} --confirm-costs COMMENT"  # lena's verdict claimed it: the check asks
    export = tmp_path / "omar.json"
    ok("evidence", "export", "-o", str(export), "--program", str(clone), env=omar)
    ok("evidence", "import", str(export))
    reason = " ".join(reproduced(program).reason.split())
    assert f"`inhouse prove tickets --rerun {flags}`" in reason, reason


@needs_engine
def test_a_rerun_in_a_clone_with_every_confirmation_asks_for_none(
    program: Path,
    omar: dict[str, str],
    tmp_path: Path,
) -> None:
    write_trial(program, EASY)
    ok("prove", "tickets")
    clone = _clone(program, tmp_path / "omar-laptop" / "acme")
    words = ("--confirm-minutes", "by hand", "--confirm-outputs", "ours", "--confirm-costs",
             "our invoice")  # fmt: skip
    said = " ".join(
        cli("prove", "tickets", "--rerun", *words, "--program", str(clone), env=omar,
            input="y\n").split()
    )  # fmt: skip
    assert "Signed into this checkout's outbox" in said, said
    assert "It counts there only with your word" not in said, said


@needs_engine
def test_an_acceptance_says_what_its_rules_number_is(program: Path) -> None:
    """The handoff's question names the rules by what they are, and where they are explained."""
    write_trial(program, EASY)
    ok("prove", "tickets")
    ok("handoff", "offer", "1", "--to", "lena")
    said = " ".join(cli("handoff", "accept", "1", input="n\n", code=3).split())
    assert "judged by exit rules " in said, said
    assert "(the version of inhouse's checks: an exit keeps the rules it was judged by" in said
    assert 'docs/concepts.md, "Plays, handoffs, staleness"' in said, said


@needs_engine
def test_demo_files_says_the_serve_command_the_readme_runs_and_it_serves(
    _isolated: Path,
) -> None:
    """The README serves `inhouse runtime serve inhouse-test-model`; `demo files` said to serve
    the file by its path, and "added to inhouse.toml: …, in inhouse.toml". The command it names
    now is the README's, and, run as printed, it serves the trial `prove` then runs."""
    import re
    import shlex

    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    ok("play", "start", "1")
    ok("models", "make-test-model")
    said = " ".join(ok("demo", "files").split())
    assert "added to inhouse.toml: The runtime, the baseline's manifest and its data-handling " \
        "rules " in said, said  # fmt: skip
    assert "in inhouse.toml in" not in said and "rules, in inhouse.toml" not in said, said
    found = re.search(r"serve it by that name, `(inhouse runtime serve [^`]+)`", said)
    assert found is not None and found.group(1) == "inhouse runtime serve inhouse-test-model", said
    ok(*shlex.split(found.group(1))[1:])
    try:
        proved = " ".join(ok("prove", "tickets").split())
        assert "Recorded fact #" in proved and "(trial.verdict)" in proved, proved
    finally:
        ok("runtime", "stop")


def test_a_command_that_needs_the_log_says_where_a_sqlite_log_is(
    _isolated: Path, tmp_path: Path
) -> None:
    """omar, in his clone, runs `workflow test` and `handoff accept` as the README shows them
    on his machine: "Run it where the log is" named only PostgreSQL, and a demo on SQLite keeps
    its log in the lead's folder, which `--program DIR` reaches on that machine."""
    clone, env, invitation = _demo_and_a_clone(_isolated, tmp_path)
    ok("join", invitation, "--program", str(clone), env=env)
    for command in (["handoff", "accept", "2"], ["workflow", "test", "ticket-summary"]):
        said = " ".join(cli(*command, "--program", str(clone), env=env, code=2).split())
        assert "Run it where the log is (on SQLite, the program folder `inhouse init` made: " \
            "there, or with `--program DIR` naming it, on that machine)" in said, said  # fmt: skip


def test_a_workflow_input_outside_the_program_folder_says_what_to_do(
    _isolated: Path, tmp_path: Path
) -> None:
    """docs/workflows.md's `workflow run summary --input tickets.jsonl`, with the file kept
    beside the program rather than in it: refused (the commands keep to the program folder),
    and the refusal and `--help` say so, and what to do."""
    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("demo", "files")
    outside = tmp_path / "tickets.jsonl"
    outside.write_text('{"ticket": "VPN down"}\n', encoding="utf-8")
    said = " ".join(
        cli("workflow", "run", "ticket-summary", "--input", str(outside), code=2).split()
    )
    assert "points outside the program folder" in said, said
    assert "inside the program folder only; copy the file there (e.g. into data/)" in said, said
    shown = " ".join(cli("workflow", "run", "--help").split())
    assert "A JSONL file inside the program folder" in shown, shown


def test_a_clone_on_the_programs_postgresql_keeps_its_state_out_of_git(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With INHOUSE_DATABASE_URL naming the log's PostgreSQL (the README's team setup), no
    SQLite file makes ``.inhouse/`` in a colleague's clone: what later writes there (reports,
    the outbox, a service's key) found no ``.gitignore``. Any command that opens the program
    makes it. (SQLite stands in for the shared database here: what counts is that the log is
    not in the clone's folder.)"""
    shared = tmp_path / "shared.db"
    monkeypatch.setenv("INHOUSE_DATABASE_URL", f"sqlite:///{shared}")
    ok("init", "Acme", "--lead", "lena", "--demo")
    invitation = invite("omar")
    clone = _clone(_isolated, tmp_path / "omar-laptop" / "acme")
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invitation, "--program", str(clone), env=env)
    assert (clone / ".inhouse" / ".gitignore").read_text(encoding="utf-8") == "*\n"
    (clone / ".inhouse" / "reports").mkdir()
    (clone / ".inhouse" / "reports" / "tickets.html").write_text("<p>report</p>\n")
    assert _untracked(clone) == []
