"""Every machine that saw the log is a witness of it (inhouse.program.witness).

Whoever can write the store can delete its newest events, and the chain up to the new head
still verifies: before, only an anchor kept in git, checked by someone who thought to, told.
The store's host (lena, a rollout lead) drops omar's newest event, say a failing run or a survey
answer of his, and records on top. omar's machine saw his event go in; at his next command
the log no longer holds it, and that command says so, naming the event, and records nothing
on the cut log. Each person here works in a home folder of their own (their own machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from inhouse.errors import LogTampered
from inhouse.program import Program
from inhouse.program.status import build_status
from tests.people import enrol

pytestmark = pytest.mark.usefixtures("on_database")

_TASK = {"task": "triage", "frequency": "daily"}


def _at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, who: str) -> None:
    """Work as on ``who``'s own machine: their home folder."""
    monkeypatch.setenv("HOME", str(tmp_path / f"{who}-home"))


def _cut_tail(program: Program, events: int) -> None:
    """What the store's host can do with write access to it: delete the newest ``events``."""
    with program.store.engine.begin() as conn:  # at the database, not through inhouse
        head = int(conn.execute(text("SELECT max(seq) FROM events")).scalar_one())
        conn.execute(text("DELETE FROM events WHERE seq > :s"), {"s": head - events})


def _two(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Program, Program]:
    """lena's program, and omar, enrolled, who records his word on his own machine (event 5)."""
    _at(monkeypatch, tmp_path, "lena")
    lena = Program.init(_isolated, "Acme", "lena")
    request.addfinalizer(lena.close)  # one store, shared by every program acting on it
    omar = enrol(lena, "omar", team="support", roles=["play-owner"], signed_in=False)
    _at(monkeypatch, tmp_path, "omar")
    omar = omar.using(omar.key)
    omar.attest(None, "task.named", _TASK, "I do it daily")
    assert omar.state().head_seq == 5
    return lena, omar


@pytest.mark.parametrize("then", ["cut", "cut-and-continued"])
def test_a_colleague_s_event_the_store_s_host_cut_is_named_at_his_next_command(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    then: str,
) -> None:
    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _at(monkeypatch, tmp_path, "lena")
    _cut_tail(lena, 1)
    if then == "cut-and-continued":  # as long as before, and longer: a count tells nothing
        lena.using(lena.key).add_person(None, "pia", roles=["support-owner"])
        lena.using(lena.key).add_person(None, "oli", roles=["support-owner"])
    # on lena's own machine the shorter log reads as any other (the chain verifies)
    assert lena.using(lena.key).state().tampered is None
    _at(monkeypatch, tmp_path, "omar")
    mine = omar.using(omar.key)
    state = mine.state()
    assert state.tampered is not None, "omar's machine saw event 5 and was not told it is gone"
    said, seq = state.tampered
    assert seq == 5
    assert "this machine saw event 5 (omar's" in said, said
    if then == "cut":
        assert "the log now ends at event 4: event 5 was cut off" in said, said
    else:
        assert "the log now holds another event 5 (lena's" in said, said
    assert "someone with write access to the store" in said
    status = build_status(mine.playbook, state, mine.clock())
    warnings = status["warnings"]
    assert warnings[0].startswith("TAMPERED: this machine saw event 5 (omar's"), warnings[0]
    assert status["tampered"] == {"seq": 5, "cut": True, "problem": said}  # status --json
    with pytest.raises(LogTampered, match="this machine saw event 5") as refused:
        mine.attest(None, "task.named", _TASK, "I do it daily, as I said")
    # the log verifies, and restoring a backup is what this very message may be about: the
    # refusal names the cut and its way out, not a chain that "does not verify"
    assert "does not verify" not in str(refused.value), refused.value
    assert "restore the store from a backup" not in str(refused.value), refused.value


def test_a_log_that_grew_since_is_the_one_seen(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The honest way: others record after omar's event, and his next commands go on."""
    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _at(monkeypatch, tmp_path, "lena")
    lena.using(lena.key).add_person(None, "pia", roles=["support-owner"])
    _at(monkeypatch, tmp_path, "omar")
    assert omar.using(omar.key).state().tampered is None
    omar.using(omar.key).attest(None, "task.named", {**_TASK, "task": "billing"}, "weekly too")
    again = omar.using(omar.key)
    assert again.state().tampered is None
    assert build_status(again.playbook, again.state(), again.clock())["tampered"] is None


def test_a_store_knowingly_restored_from_a_backup_goes_on_once_the_file_named_is_deleted(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A restore from an older backup loses the same events: omar is told which, and the file
    to delete if he knows of the restore; then his commands go on, and witness again."""
    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _cut_tail(lena, 1)  # the backup was taken before his event
    said, _ = omar.using(omar.key).state().tampered or ("", 0)
    kept = [Path(word) for word in said.split() if word.endswith(".json")]
    assert len(kept) == 1 and kept[0].is_file(), said
    assert kept[0].is_relative_to(tmp_path / "omar-home")
    kept[0].unlink()
    again = omar.using(omar.key)
    assert again.state().tampered is None
    again.attest(None, "task.named", _TASK, "I do it daily (again, after the restore)")
    assert omar.using(omar.key).state().head_seq == 5
    _cut_tail(lena, 1)
    assert omar.using(omar.key).state().tampered is not None


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: the witness tells the machine that saw the events, not the log. "
    "lena, the store's host, cuts omar's newest event and deletes her own machine's file (or "
    "never folded after his event): on her machine the shorter log reads as whole, and what she "
    "records and is judged on there (an exit, a handoff) counts, until omar's next command "
    "names the cut on his. Putting the cut in the log needs omar's inhouse to record what it "
    "witnessed (an event the fold reads as a cut of the log, recorded again each time it is "
    "cut), which is a new exit rule for how logs that hold one are judged: the lead's to weigh",
)
def test_a_cut_the_colleague_s_machine_witnessed_shows_in_the_log(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _at(monkeypatch, tmp_path, "lena")
    _cut_tail(lena, 1)
    _at(monkeypatch, tmp_path, "omar")
    assert omar.using(omar.key).state().tampered is not None  # his machine knows
    _at(monkeypatch, tmp_path, "lena")
    assert lena.using(lena.key).state().tampered is not None  # the log shows nothing of it


def test_the_witness_is_kept_under_xdg_state_home_as_keys_are_under_xdg_config_home(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A person who keeps their state outside their home (a read-only home, one shared by
    test runs) says so with ``$XDG_STATE_HOME``: the witness is kept there, and still tells."""
    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    state_home = tmp_path / "omar-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    (tmp_path / "omar-home").chmod(0o500)  # his home read-only from here on
    request.addfinalizer(lambda: (tmp_path / "omar-home").chmod(0o700))
    assert omar.using(omar.key).state().tampered is None
    kept = list((state_home / "inhouse" / "seen").glob("*.json"))
    assert len(kept) == 1, "omar's witness is not under his $XDG_STATE_HOME"
    _cut_tail(lena, 1)
    said, _ = omar.using(omar.key).state().tampered or ("", 0)
    assert str(kept[0]) in said, said  # the file to delete, where it is
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # not absolute: XDG says ignore it
    from inhouse.program.witness import seen_path

    assert seen_path("p", "u").is_relative_to(tmp_path / "omar-home" / ".local" / "state")


@pytest.mark.parametrize(
    "kept",
    ['{"seq": 36893488147419103232, "hash": "x"}', '{"seq": true, "hash": "x"}', "{not json"],
)
def test_a_witness_file_that_holds_no_event_stops_no_command(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kept: str,
) -> None:
    """A witness file damaged (a seq past any database's integer, a bool, no JSON) is said
    and written over by the next command: it neither stops omar's commands nor names a cut."""
    from inhouse.program.witness import seen_path

    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    path = seen_path(omar.state().program_id or "", omar.store.url)
    assert path.is_file()
    path.write_text(kept, encoding="utf-8")
    again = omar.using(omar.key)
    assert again.state().tampered is None
    again.attest(None, "task.named", {**_TASK, "task": "billing"}, "weekly too")
    assert '"seq": 6' in path.read_text(encoding="utf-8")
    _cut_tail(lena, 1)
    assert omar.using(omar.key).state().tampered is not None  # it witnesses again


def test_commands_keeping_the_witness_at_once_keep_the_newest_whole(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two commands of omar's at once (a gateway's threads, two terminals), one keeping event
    3, the other event 5, both writing at the same moment: the file ends whole, holding event
    5, and neither says it could not keep it. (Each wrote to one file named for the process,
    and the second rename found it gone; or the older event landed last.)"""
    import contextlib
    import json
    import threading

    from inhouse.program import witness

    _, omar = _two(request, _isolated, tmp_path, monkeypatch)
    program_id, url = omar.state().program_id or "", omar.store.url
    path = witness.seen_path(program_id, url)
    path.unlink()
    both = threading.Barrier(2)
    dump = json.dump

    def dump_together(record: object, out: object) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait(timeout=2)  # both writers write at once, where a lock lets them
        dump(record, out)  # type: ignore[arg-type]

    monkeypatch.setattr(json, "dump", dump_together)
    writers = [
        threading.Thread(target=witness.remember, args=(omar.store, program_id, url, seq))
        for seq in (5, 3)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    monkeypatch.setattr(json, "dump", dump)
    assert [r.message for r in caplog.records if r.name == witness.__name__] == []
    assert json.loads(path.read_text(encoding="utf-8"))["seq"] == 5
    assert not list(path.parent.glob("*.partial"))


def test_the_dashboard_says_a_cut_log_was_cut_not_that_it_does_not_verify(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every page of a dashboard served from omar's machine said "The event log does not
    verify at event 5 … restore the store from a backup" of a log that verifies and may just
    have been restored from one: it names the cut, and the file to delete after a restore."""
    from inhouse.web.pages import viewer
    from inhouse.web.render import _environment

    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _cut_tail(lena, 1)
    mine = omar.using(omar.key)
    seen = viewer(mine)
    assert seen["program"]["tampered"]["cut"] is True
    page = " ".join(
        _environment()
        .get_template("base.html")
        .render(data={}, viewer=seen, csrf="", path="/", page="pilot")
        .split()
    )
    assert "The event log was cut" in page and "this machine saw event 5" in page, page
    assert "does not verify at event" not in page and "restore the store" not in page, page


def test_a_process_that_lives_on_stops_at_the_first_event_it_writes_on_a_cut_log(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """omar's long-lived process (a dashboard, a gateway serving on his machine) folded once
    and saw event 5. lena cuts it under the running process: its next event lands as event 5
    again, on the cut log; it now says so, and records nothing more (it went on appending, and
    named the cut only once restarted)."""
    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    living = omar.using(omar.key)
    assert living.state().head_seq == 5 and living.state().tampered is None
    _cut_tail(lena, 1)
    living.attest(None, "task.named", {**_TASK, "task": "billing"}, "weekly too")
    assert living.state().tampered is not None
    with pytest.raises(LogTampered, match="this machine saw event 5"):
        living.attest(None, "task.named", {**_TASK, "task": "refunds"}, "monthly")


def _events(program: Program) -> int:
    with program.store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def test_after_a_knowing_restore_audit_forget_seen_lets_go_of_what_this_machine_saw(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The honest way out of a restore: the TAMPERED message names `inhouse audit
    forget-seen`, which asks, says what it removed, and records nothing; omar's commands then
    go on, and witness again (no file to find and delete by hand)."""
    from tests.clitools import cli

    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _cut_tail(lena, 1)  # the backup was taken before his event
    said, _ = omar.using(omar.key).state().tampered or ("", 0)
    assert "run `inhouse audit forget-seen` on this machine" in said, said
    assert "TAMPERED" in cli("audit", "verify", code=1)
    held = _events(lena)
    # asked, and a no (or no answer: a script without --yes) forgets nothing
    shown = " ".join(cli("audit", "forget-seen", input="n\n", code=1).split())
    assert "keeps event 5 (omar's fact.recorded" in shown, shown
    assert "The log no longer holds it" in shown and "Nothing forgotten" in shown, shown
    cli("audit", "forget-seen", code=1)
    assert omar.using(omar.key).state().tampered is not None
    done = " ".join(cli("audit", "forget-seen", input="y\n").split())
    assert "Set " in done and "(it kept event 5 (omar's fact.recorded" in done, done
    assert "Nothing was recorded in the log" in done
    assert _events(lena) == held  # it recorded nothing
    again = omar.using(omar.key)
    assert again.state().tampered is None
    assert "ok" in cli("audit", "verify")
    again.attest(None, "task.named", _TASK, "I do it daily (again, after the restore)")
    # a log that holds what was seen is said to, before anything is forgotten
    assert "The log still holds it" in " ".join(cli("audit", "forget-seen", "--yes").split())


def test_forgetting_on_one_machine_hides_no_cut_from_another_that_saw_it(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cheapest dishonest use: lena, the store's host, cuts omar's event and runs
    forget-seen herself. It removes only her own machine's file and writes nothing to the log
    that says "restored": omar's machine still names the cut, and its event count is the
    cut log's."""
    from tests.clitools import cli

    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    _at(monkeypatch, tmp_path, "lena")
    assert lena.using(lena.key).state().head_seq == 5  # her machine saw event 5 too
    _cut_tail(lena, 1)
    held = _events(lena)
    cli("audit", "forget-seen", "--yes")
    assert lena.using(lena.key).state().tampered is None  # on her machine, as before
    assert _events(lena) == held
    _at(monkeypatch, tmp_path, "omar")
    state = omar.using(omar.key).state()
    assert state.tampered is not None and "this machine saw event 5" in state.tampered[0]


def test_forget_seen_keeps_what_this_machine_saw_aside_for_whoever_doubts_the_restore(
    request: pytest.FixtureRequest,
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The forgery the command invites: lena, the store's host, cuts omar's event and tells
    him she restored an older backup; he runs forget-seen. His file was the only thing that
    told a cut from a restore, and the command deleted it: when the restore is doubted later,
    nothing on his machine says which event he saw. It is set aside now, renamed beside
    itself, and no command reads it again (his commands go on)."""
    import json

    from tests.clitools import cli

    lena, omar = _two(request, _isolated, tmp_path, monkeypatch)
    seen = {p: p.read_text(encoding="utf-8") for p in (tmp_path / "omar-home").rglob("*.json")}
    assert len(seen) == 1, seen
    ((path, kept_text),) = seen.items()
    _cut_tail(lena, 1)
    done = " ".join(cli("audit", "forget-seen", "--yes").split())
    assert not path.exists()
    aside = list(path.parent.glob(f"{path.stem}.forgotten-*.json"))
    assert len(aside) == 1, sorted(p.name for p in path.parent.iterdir())
    assert aside[0].read_text(encoding="utf-8") == kept_text
    assert json.loads(kept_text)["seq"] == 5
    assert aside[0].name in done and "it is not deleted" in done, done
    assert omar.using(omar.key).state().tampered is None  # his commands go on
