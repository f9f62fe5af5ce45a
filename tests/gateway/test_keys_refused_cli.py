"""An admin sees the gateway keys the gateway refuses to serve (the program's log does not vouch
for them) in the CLI, with why and what to do, without reading the gateway's log: `inhouse keys
list` marks them (and `--json` gives each row its ``refused`` reason), `inhouse gateway status`
counts them from the running gateway's ``/healthz``, which names nobody (anyone who reaches the
gateway may read it) and points to ``inhouse keys list``. The refused key here is one fetched before
the log recorded key hashes (an older inhouse): its person must fetch a new one. The gateway
runs in-process on loopback in front of a **stand-in upstream** (no model needed: this is about
keys)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.db.schema import gateway_keys
from inhouse.gateway.keys import KEY_ISSUED, grant_key, hash_key
from inhouse.program import Program
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    LEAD,
    auth,
    chat,
    digest_of,
    in_process,
    key_for,
    make_program,
    model_file,
    weights_root,
)
from tests.runtimes.standin import free_port

runner = CliRunner()

#: what the refusal of a key fetched before the log recorded key hashes says, and its remedy
WHY = "fetched before the log recorded key hashes (older inhouse)"
REMEDY = f"`inhouse keys issue {LEAD}`) and {LEAD} fetches it (`inhouse keys fetch`)"


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def program(_isolated: Path) -> Iterator[tuple[Program, int]]:
    """lena's program, with a runtime (the stand-in's port) and a lock; and that port."""
    port = free_port()
    weights = model_file(_isolated)
    runtimes = {"local": {"family": "openai", "url": f"http://127.0.0.1:{port}",
                          "model_path": str(weights)}}  # fmt: skip
    opened = make_program(_isolated, runtimes, {"tiny": digest_of(weights)})
    yield opened, port
    opened.close()


def _old_key(program: Program) -> str:
    """A key lena fetched with an older inhouse: a lead's grant, her own issued event naming
    no hash, and its row. Returns the key."""
    grant = grant_key(program, None, LEAD)
    key = "ih_" + secrets.token_urlsafe(32)
    program.log_event(KEY_ISSUED, {"key": "k_old", "grant": grant, "prefix": key[:11],
                                   "person": LEAD, "agent": None, "limits": {}})  # fmt: skip
    with program.store.engine.begin() as conn:
        conn.execute(insert(gateway_keys).values(
            id="k_old", person=LEAD, agent=None, hash=hash_key(key), prefix=key[:11],
            created="2026-11-02T00:00:00+00:00", revoked=None, limits="{}"))  # fmt: skip
    return key


def test_keys_list_marks_a_refused_key_with_why_and_the_remedy(
    program: tuple[Program, int],
) -> None:
    opened, _ = program
    key_for(opened)
    (served,) = json.loads(ok("keys", "list", "--json"))
    assert served["refused"] is None
    assert "refused" not in ok("keys", "list")  # served keys only: nothing marked
    _old_key(opened)
    table, footer = ok("keys", "list").split("Refused by the gateway")
    rows = {line.split()[0]: line.strip() for line in table.splitlines()[1:]}
    assert "(refused)" not in rows[served["id"]]
    assert rows["k_old"].startswith("k_old (refused)  lena")
    (why,) = [line for line in footer.splitlines() if "k_old" in line]
    assert why.startswith(f"  k_old ({LEAD}, prefix ih_") and WHY in why and REMEDY in why
    entries = {e["id"]: e for e in json.loads(ok("keys", "list", "--json"))}
    assert entries[served["id"]]["refused"] is None
    assert WHY in entries["k_old"]["refused"] and REMEDY in entries["k_old"]["refused"]


def test_gateway_status_counts_the_refused_keys_and_names_nobody(
    program: tuple[Program, int], _isolated: Path
) -> None:
    opened, port = program
    served = key_for(opened)
    old = _old_key(opened)

    async def run() -> tuple[int, int, str, str]:
        standin = StandinUpstream(StandinTiming(0, 0, 2), model="tiny", port=port,
                                  root=weights_root(_isolated))  # fmt: skip
        async with standin, in_process(_isolated) as (_, client):
            good = await client.post("/v1/chat/completions", json=chat("tiny"),
                                     headers=auth(served))  # fmt: skip
            bad = await client.post("/v1/chat/completions", json=chat("tiny"), headers=auth(old))
            url = str(client.base_url)
            # the CLI's blocking client, off this loop, which serves the gateway meanwhile
            text = await asyncio.to_thread(runner.invoke, app, ["gateway", "status", "--url", url])
            raw = await asyncio.to_thread(
                runner.invoke, app, ["gateway", "status", "--url", url, "--json"]
            )
        assert text.exit_code == 0 and raw.exit_code == 0, text.stdout + text.stderr
        return good.status_code, bad.status_code, text.stdout, raw.stdout

    good, bad, text, raw = asyncio.run(run())
    assert (good, bad) == (200, 401)
    # /healthz answers whoever reaches the gateway: a count, and where an admin reads who and why
    assert ": ok, 1 active key, 1 refused (inhouse keys list names them, with why)" in text
    assert "k_old" not in text and LEAD not in text and WHY not in text
    assert json.loads(raw)["keys_refused"] == 1
    assert "k_old" not in raw and LEAD not in raw and WHY not in raw
