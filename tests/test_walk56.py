"""Walk 56: a new team follows README.md and docs/ from an empty folder through plays 1 to 4,
lena on her laptop and omar on his (each with a HOME and a machine of their own), on the
project's test model and the real llama.cpp engine. What an honest team met that refused it
wrongly, misled it, or left it without a next step, each pinned here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.people import PeopleMixin
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock, _enrol_service_on_its_host
from tests.engine import Engine, needs_engine
from tests.people import enrol_cli

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout + result.stderr


@needs_engine
def test_an_install_whose_pip_finds_no_pinned_release_says_what_to_do(
    _isolated: Path,
    tmp_path: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """omar runs `inhouse baseline install` in his checkout as the README says; pip finds no
    inhouse==0.1.0 on his index (the team never published one). Before, the script stopped on
    pip's own error and inhouse exited 1 saying nothing more: no next step. Now the script
    names the release the lock pins and where pip looks for it (PIP_INDEX_URL, or
    PIP_FIND_LINKS to a folder with its wheel, which pip installs as from an index)."""
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    run("init", "Acme", "--lead", "lena")
    opened = Program.open(_isolated)
    omar = enrol_cli(opened, "omar", tmp_path / "keys", team="support")
    opened.close()
    # lena has the blessed file where the manifest names it (a lock refuses a path with none)
    (_isolated / "models").mkdir()
    shutil.copyfile(engine.model, _isolated / "models" / "inhouse-test-model.gguf")
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text()
        + f'\n[runtimes.local]\nfamily = "openai"\nurl = "{engine.url}"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\n'
        + 'models = [{ name = "inhouse-test-model", path = "models/inhouse-test-model.gguf" }]\n'
        + '\n[data_rules]\ndefault = "redact"\n'
    )
    run("baseline", "lock")
    run("baseline", "install-script")

    # omar's checkout, on his machine; his package index holds no inhouse at all
    fresh = tmp_path / "omar-checkout"
    fresh.mkdir()
    for name in ("inhouse.toml", "inhouse.lock", "install.sh"):
        shutil.copy(_isolated / name, fresh / name)
    index = tmp_path / "empty-index"
    index.mkdir()
    env = {
        **omar,
        OTHER_COMPUTER: "omar-laptop",
        "PYTHON": sys.executable,
        "PIP_INDEX_URL": index.as_uri(),
        "PIP_NO_CACHE_DIR": "1",
        "VIRTUAL_ENV": None,
        "PATH": os.pathsep.join(
            p
            for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and Path(sys.executable).parent != Path(p)
        ),
    }
    capfd.readouterr()
    done = runner.invoke(app, ["--program", str(fresh), "baseline", "install"], env=env)
    captured = capfd.readouterr()
    said = " ".join((done.stdout + done.stderr + captured.out + captured.err).split())
    assert done.exit_code != 0, said
    assert "Traceback" not in said
    assert (
        "inhouse-install: error: pip could not install inhouse==0.1.0, the release the lock "
        "pins, from your package index"
    ) in said
    assert "set PIP_INDEX_URL to the index your team publishes inhouse on" in said
    assert "or PIP_FIND_LINKS to a folder holding that release's wheel" in said
    assert "then run this again" in said


def _warnings() -> list[str]:
    return [str(w) for w in json.loads(run("status", "--json"))["warnings"]]


def test_a_gateway_enrolled_on_the_leads_laptop_says_its_figures_count_for_nothing_and_the_way_on(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's tour ran `inhouse gateway serve` and `gateway rollup` in lena's block, "on
    lena's machine": the gateway's key is then enrolled from her laptop, and outside a demo
    nothing it signs ever counts (docs/pilot.md). `status` warned only "the checks that need
    someone other than lena ... do not count gateway from that machine", a person's warning
    that names neither the cost nor the next step. It now says both; a gateway on a host of its
    own is not warned about."""
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    run("init", "Acme", "--lead", "lena")
    lena = Program.open(_isolated)
    try:
        # on a host of its own (tests/conftest.py's enrolment): no warning about it
        monkeypatch.setattr(PeopleMixin, "enrol_service", _enrol_service_on_its_host)
        first = lena.as_service("gateway").key.key_id
        assert not [w for w in _warnings() if "enrolled from the same machine" in w]

        # a gateway key enrolled where lena runs inhouse, as the tour had her do: the gateway's
        # first key revoked (a second beside it is refused: tests/test_followups57b.py)
        lena.revoke_key(first)
        (_isolated / ".inhouse" / "keys" / "gateway.key").unlink()
        monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
        here = lena.as_service("gateway").key.key_id
    finally:
        lena.close()
    said = " ".join(" ".join(_warnings()).split())
    assert (f"the gateway service's key {here} was enrolled from the same machine as lena") in said
    assert "a rollout lead's: nothing it signs counts (usage, adoption, prompt use, drift " in said
    assert "Run the gateway on a host of its own, where a lead's first `inhouse gateway " in said
    assert "`inhouse gateway vouch`" in said
    assert f"`inhouse person revoke-key {here}`" in said


def test_make_test_model_says_at_once_that_a_real_programs_plays_do_not_pass_on_it(
    _isolated: Path,
) -> None:
    """A team following the README's tour on a real program (no `--demo`) made the test model
    and heard only "random weights: it writes nonsense"; that plays 1-3 do not pass on it was
    said first at `runtime serve`, after the trial was written. `make-test-model` says it now;
    a demo program, whose plays count it, is not told."""
    run("init", "Acme", "--lead", "lena")
    said = " ".join(run("models", "make-test-model").split())
    assert "a real program's plays 1-3 do not pass on it" in said
    assert "bless and serve a real model for those" in said

    demo = _isolated.parent / "demo"
    demo.mkdir()
    run("init", "Demo", "--lead", "lena", "--demo", "--dir", str(demo))
    said = " ".join(run("--program", str(demo), "models", "make-test-model").split())
    assert "writes nonsense" in said
    assert "do not pass on it" not in said


@pytest.mark.usefixtures("on_database")
def test_a_member_whose_key_the_gateway_holds_back_is_told_why_not_invalid_or_revoked(
    _isolated: Path, clock: Clock
) -> None:
    """In the walk, every pilot member's `openai` client got 401 "invalid or revoked gateway
    key" for a key that was neither: the gateway held it back (its log said why; the member,
    who holds the key, heard nothing of it). Here the honest upgrade path: bob's key was fetched
    with an older inhouse, whose issued event named no hash; the gateway refuses it and now
    tells bob why and what to do. A key nobody was ever given is still just "invalid". Through
    the real gateway in-process, to a **stand-in upstream**; SQLite and PostgreSQL."""
    import asyncio
    import secrets

    from sqlalchemy import insert

    from inhouse.db.schema import gateway_keys
    from inhouse.gateway.keys import KEY_ISSUED, grant_key, hash_key
    from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
    from tests.gateway.harness import auth, chat, in_process, weights_root
    from tests.pilot.gateway_days import start_pilot

    pilot = start_pilot(_isolated, clock, {"bob": ("support", "support")})
    try:
        bob = pilot.people["bob"]
        grant = grant_key(pilot.lead, None, "bob")
        old = "ih_" + secrets.token_urlsafe(32)
        bob.log_event(KEY_ISSUED, {"key": "k_old", "grant": grant, "prefix": old[:11],
                                   "person": "bob", "agent": None, "limits": {}})  # fmt: skip
        with pilot.lead.store.engine.begin() as conn:  # the row an older inhouse wrote
            conn.execute(insert(gateway_keys).values(
                id="k_old", person="bob", agent=None, hash=hash_key(old), prefix=old[:11],
                created="2026-11-02T00:00:00+00:00", revoked=None, limits="{}"))  # fmt: skip

        async def ask(key: str) -> tuple[int, str]:
            standin = StandinUpstream(StandinTiming(0, 0, 2), model="tiny", port=pilot.port,
                                      root=weights_root(pilot.folder))  # fmt: skip
            async with standin, in_process(pilot.folder, clock=pilot.clock) as (_, client):
                reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(key))  # fmt: skip
            return reply.status_code, str(reply.json()["error"]["message"])

        status, said = asyncio.run(ask(old))
        assert status == 401
        assert "this gateway key (k_old, bob's) is not served" in said
        assert "fetched before the log recorded key hashes" in said
        assert "`inhouse keys issue bob`" in said
        assert "invalid or revoked" not in said

        # a key of nobody's: told nothing of any key, only when a key just fetched is served
        # (in the walk of plays 4-6, every member's first request, sent at once after `keys
        # fetch`, heard "invalid or revoked" and nothing else)
        status, said = asyncio.run(ask(old[:11] + "x" * (len(old) - 11)))
        assert status == 401 and said.startswith("invalid or revoked gateway key (")
        assert "from the gateway's next key refresh" in said and "try again" in said
        assert "bob" not in said and "k_old" not in said
    finally:
        pilot.lead.close()


def test_init_on_sqlite_says_where_colleagues_will_sign_in(on_database: str) -> None:
    """The walk's omar, in a checkout of a program on the default SQLite store with no way to
    reach lena's file, could join and ask for access into his outbox, but `sign-in login`
    needs the log and has no outbox: nothing he signed could ever count, and docs/storage.md
    named PostgreSQL only for gateway replicas. `init` on SQLite now says where colleagues sign
    in and that a team on machines of their own starts on PostgreSQL; a program started on
    PostgreSQL is not told."""
    said = " ".join(run("init", "Acme", "--lead", "lena").split())
    assert "Created program Acme" in said
    if on_database.startswith("sqlite"):
        log = Path.cwd() / ".inhouse" / "inhouse.db"
        assert (
            "Each colleague signs in with `inhouse sign-in login` where the log is, on this "
            f"machine: this program's log is SQLite, a file on this machine ({log})"
        ) in said
        assert "sign-in has no outbox" in said
        assert "needs its log on a PostgreSQL they all reach, named by INHOUSE_DATABASE_URL" in said
    else:
        assert "SQLite" not in said


def test_status_on_sqlite_does_not_send_colleagues_to_sign_in_on_their_machines(
    on_database: str, _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """lena's program on the default SQLite store, the sign-in set up, bob not signed in yet:
    `inhouse status` told her to have bob run `inhouse sign-in login` on his machine, which
    cannot reach her file (sign-in needs the log and has no outbox). On SQLite it now says what
    is true and what to do; on PostgreSQL, which bob's machine reaches, it says as before."""
    from tests.people import lead_env
    from tests.test_sign_in import signed_in_team

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    try:
        signed_in_team(lena, idp, {"bob": "ops"}, later=("bob",))
        said = " ".join(run("status", env=lead_env(lena)).split())
        waiting = [w for w in lena.status()["warnings"] if w.startswith("not signed in with")]
    finally:
        lena.close()
    assert len(waiting) == 1 and waiting[0].startswith(f"not signed in with {idp.issuer}: bob")
    if on_database.startswith("sqlite"):
        log = str(_isolated / ".inhouse" / "inhouse.db")
        assert "sign-in login` on their machine" not in waiting[0]
        for part in (
            "with `inhouse sign-in login` where the log is",
            f"This program's log is SQLite, a file on this machine ({log})",
            "a colleague on a machine of their own cannot sign in to it",
            "needs its log on a PostgreSQL they all reach, named by INHOUSE_DATABASE_URL before "
            "`inhouse init`",
            "their other evidence can travel as `inhouse evidence export` files",
        ):
            assert part in waiting[0], waiting[0]
        assert "This program's log is SQLite, a file on this machine" in said
    else:
        assert waiting[0].endswith("(`inhouse sign-in login` on their machine)"), waiting[0]
        assert "SQLite" not in said


def test_a_leads_adoption_record_on_her_laptop_does_not_enrol_a_second_gateway_key(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    run("init", "Acme", "--lead", "lena")
    lena = Program.open(_isolated)
    try:
        first = lena.as_service("gateway").key.key_id  # on its host (tests/conftest.py)
    finally:
        lena.close()
    (_isolated / ".inhouse" / "keys" / "gateway.key").unlink()  # lena's own checkout
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    done = runner.invoke(app, ["pilot", "adoption", "--record"])
    said = " ".join((done.stdout + done.stderr).split())
    lena = Program.open(_isolated)
    try:
        gateways = [k.key_id for k in lena.state().keys.values() if k.person == "gateway"]
    finally:
        lena.close()
    assert gateways == [first], said
    assert done.exit_code != 0 and "the gateway's host" in said, said
