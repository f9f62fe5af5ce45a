"""The folded state a command keeps for the next one on this machine (inhouse.program.foldcache):
the next command's state equals a full fold; a kept file nobody signed with this user's key,
one from other engine code, and one for a log rewritten or cut back are never used; an event
forged after the kept head still stops the fold; a tampered state is never kept."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from inhouse.identity import SigningKey
from inhouse.program import Program, foldcache
from inhouse.program.state import ProgramState
from tests.test_identity import _edit_and_rechain, _insert, _walk, lena  # noqa: F401


@pytest.fixture(autouse=True)
def _short_logs_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep states of logs of 20 events and more, rewritten every 5 (a test's logs are short)."""
    monkeypatch.setattr(foldcache, "MIN_EVENTS", 20)
    monkeypatch.setattr(foldcache, "REWRITE_AFTER", 5)


def _grow(program: Program, count: int) -> None:
    for n in range(count):
        program.log_event("test.tick", {"n": n})


def _same(one: ProgramState, other: ProgramState) -> None:
    """Equal as a fold sees them: every field, and the verifier's place in the chain."""
    for name in ProgramState.__dataclass_fields__:
        if name != "verifier":
            assert getattr(one, name) == getattr(other, name), name
    for name in ("prev", "checked", "signed", "unsigned", "lead_key", "program_id"):
        assert getattr(one.verifier, name) == getattr(other.verifier, name), name


def _kept(home: Path) -> list[Path]:
    return sorted((home / ".cache/inhouse/fold").glob("*.state"))


def _open(folder: Path, program: Program) -> Program:
    return Program.open(folder, key=program.key)


def _from_kept(program: Program, folder: Path, tmp_path: Path) -> tuple[Program, ProgramState]:
    """Keep the state at a head, grow the log past it, and open a command that starts from the
    kept state (asserting it did): that command and its state."""
    _grow(program, 25)
    _open(folder, program).state()
    assert len(_kept(tmp_path / "home")) == 1
    _grow(program, 3)
    second = _open(folder, program)
    state = second.state()
    assert second.full_folds == 0, "the kept state was not used"
    return second, state


def test_the_next_command_starts_from_the_kept_state_and_equals_a_full_fold(
    lena: Program,  # noqa: F811
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _walk(lena)
    _grow(lena, 25)
    first = _open(_isolated, lena)
    first.state()
    assert first.full_folds == 1
    (kept,) = _kept(tmp_path / "home")
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    _grow(lena, 3)  # events after the kept head: folded on top of it
    second = _open(_isolated, lena)
    state = second.state()
    assert second.full_folds == 0, "the kept state was not used"
    for path in _kept(tmp_path / "home"):
        path.unlink()  # nothing kept: a full fold
    monkeypatch.setattr(foldcache, "MIN_EVENTS", 10**9)
    full = _open(_isolated, lena)
    _same(state, full.state())
    assert full.full_folds == 1


def test_a_role_taken_away_before_the_kept_head_is_still_remembered(
    lena: Program,  # noqa: F811
    _isolated: Path,
    tmp_path: Path,
) -> None:
    """Who ever held a role is state the checks read ("beyond the pilot" never counts them): a
    command that starts from the kept state knows it as a full fold does."""
    _walk(lena)
    lena.change_roles(None, "omar", add=["champion"])
    lena.change_roles(None, "omar", remove=["champion"])
    _, state = _from_kept(lena, _isolated, tmp_path)
    assert "champion" not in state.people["omar"].roles
    assert "champion" in state.roles_held["omar"]


def test_a_gateway_key_fetched_before_the_kept_head_is_still_vouched_for(
    lena: Program,  # noqa: F811
    _isolated: Path,
    tmp_path: Path,
) -> None:
    """The gateway serves a key only when the log's verified key events vouch for it
    (``ProgramState.package_events``): a gateway that starts from the kept state knows them
    as a full fold does, and still serves the key."""
    from inhouse.gateway.keys import issue_key, load_key_table

    _walk(lena)
    _, key = issue_key(lena, None, "lena")
    second, state = _from_kept(lena, _isolated, tmp_path)
    assert [e.by for e in state.package_events["gateway.key.issued"]] == ["lena"]
    table = load_key_table(second.store, state)
    assert table.refused == () and table.verify(key) is not None


def _forge(path: Path, change: Any) -> None:
    """Rewrite a kept state's pickle without this user's key (its HMAC left as it was)."""
    blob = path.read_bytes()
    head = len(b"inhouse-fold-1\n") + 32
    state = pickle.loads(blob[head:])
    change(state)
    path.write_bytes(blob[:head] + pickle.dumps(state))


def test_a_kept_file_not_signed_with_this_user_s_key_is_never_used(
    lena: Program,  # noqa: F811
    _isolated: Path,
    tmp_path: Path,
) -> None:
    """Someone who can write the cache folder (or swaps the file) makes omar a play owner in
    the kept state: its HMAC does not verify, the log is folded in full, omar is no owner."""
    _walk(lena)
    _grow(lena, 25)
    _open(_isolated, lena).state()
    (kept,) = _kept(tmp_path / "home")

    def promote(state: ProgramState) -> None:
        state.plays["prove-value"] = replace(state.plays["prove-value"], owner="omar")

    _forge(kept, promote)
    fresh = _open(_isolated, lena)
    assert fresh.state().plays["prove-value"].owner == "lena"
    assert fresh.full_folds == 1


def test_other_engine_code_folds_anew(
    lena: Program,  # noqa: F811
    _isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _grow(lena, 25)
    _open(_isolated, lena).state()
    monkeypatch.setattr(foldcache, "_fingerprint", lambda: b"an upgraded engine")
    fresh = _open(_isolated, lena)
    fresh.state()
    assert fresh.full_folds == 1


def test_a_log_rewritten_before_the_kept_head_is_folded_in_full_and_caught(
    lena: Program,  # noqa: F811
    _isolated: Path,
) -> None:
    """A re-chained rewrite of an event the kept state already holds changes the head's hash:
    the kept state is not used, and the full fold stops at the rewritten event."""
    seq = _walk(lena)
    _grow(lena, 25)
    _open(_isolated, lena).state()
    _edit_and_rechain(
        lena,
        seq,
        "UPDATE events SET payload = replace(payload, '\"attested\"', '\"measured\"') "
        "WHERE seq = :s",
    )
    fresh = _open(_isolated, lena)
    state = fresh.state()
    assert fresh.full_folds == 1
    assert state.tampered is not None and state.tampered[1] == seq


@pytest.mark.parametrize("kept_under", ["no program_id", "the log's own"])
def test_a_state_kept_for_another_program_id_is_not_used(
    lena: Program,  # noqa: F811
    _isolated: Path,
    kept_under: str,
) -> None:
    """The kept state is named for the log's event 1, not for the ``program_id`` inhouse.toml
    names: a state kept while inhouse.toml named none (or named the log's own) is not used
    once it names another program. The full fold stops at event 1, which is not that one."""
    toml = _isolated / "inhouse.toml"
    honest = toml.read_text(encoding="utf-8")
    if kept_under == "no program_id":
        toml.write_text(re.sub(r"(?m)^program_id = .*\n", "", honest), encoding="utf-8")
    _grow(lena, 25)
    assert _open(_isolated, lena).state().tampered is None
    other = re.sub(r"(?m)^program_id = .*$", f'program_id = "{"f" * 64}"', honest)
    toml.write_text(other, encoding="utf-8")
    fresh = _open(_isolated, lena)
    state = fresh.state()
    assert fresh.full_folds == 1
    assert state.tampered is not None and state.tampered[1] == 1, state.tampered
    assert "is not the first event of the program inhouse.toml names" in state.tampered[0]


def test_a_log_cut_back_below_the_kept_head_is_folded_in_full(
    lena: Program,  # noqa: F811
    _isolated: Path,
) -> None:
    _grow(lena, 30)
    head = _open(_isolated, lena).state().head_seq
    with lena.store.engine.begin() as conn:  # a restore from an older backup
        conn.execute(text("DELETE FROM events WHERE seq > :s"), {"s": head - 3})
    fresh = _open(_isolated, lena)
    assert fresh.state().head_seq == head - 3
    assert fresh.full_folds == 1


def test_an_event_forged_after_the_kept_head_still_stops_the_fold(
    lena: Program,  # noqa: F811
    _isolated: Path,
    tmp_path: Path,
) -> None:
    """Events after the kept head are checked as every event is: a well-chained event whose
    signature does not hold for the enrolled key it names stops the state there; and a tampered
    state is never kept."""
    _grow(lena, 25)
    _open(_isolated, lena).state()
    (kept,) = _kept(tmp_path / "home")
    before = kept.read_bytes()
    _grow(lena, 6)
    forged = lena.state().head_seq + 1
    _insert(lena, "test.tick", "lena", {"n": -1}, lena.key)
    with lena.store.engine.begin() as conn:
        junk = SigningKey.generate().sign(b"not this event")
        conn.execute(
            text("UPDATE events SET signature = :g WHERE seq = :s"), {"g": junk, "s": forged}
        )
    fresh = _open(_isolated, lena)
    state = fresh.state()
    assert fresh.full_folds == 0
    assert state.tampered is not None and state.tampered[1] == forged
    assert kept.read_bytes() == before  # not rewritten with the tampered state


def test_a_short_log_of_large_payloads_is_kept_too(
    lena: Program,  # noqa: F811
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A day's usage fact holds every person's totals: few events, much to parse. Such a log
    is kept by the size of its payloads; a short light one is not."""
    monkeypatch.setattr(foldcache, "MIN_EVENTS", 10**6)
    monkeypatch.setattr(foldcache, "MIN_BYTES", 50_000)
    _grow(lena, 3)
    _open(_isolated, lena).state()
    assert _kept(tmp_path / "home") == []
    lena.log_event("test.bulk", {"people": {f"p{n}": {"requests": n} for n in range(3000)}})
    _open(_isolated, lena).state()
    assert len(_kept(tmp_path / "home")) == 1
    fresh = _open(_isolated, lena)
    fresh.state()
    assert fresh.full_folds == 0


def test_a_state_kept_under_another_playbook_is_not_used(
    lena: Program,  # noqa: F811
    _isolated: Path,
) -> None:
    """A kept state judged its guarded actions by the playbook it was folded with: opened with
    another one (an edited custom playbook), the log is folded anew."""
    _grow(lena, 25)
    _open(_isolated, lena).state()
    other = _open(_isolated, lena)
    other.playbook = other.playbook.model_copy(update={"version": other.playbook.version + 1})
    other.state()
    assert other.full_folds == 1
    same = _open(_isolated, lena)
    same.state()
    assert same.full_folds == 0
