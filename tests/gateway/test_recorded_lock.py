"""The gateway routes the lock the program's log records, not the file ``inhouse.lock``.

The file is anyone's to rewrite who holds the program folder: a lead who hashes a lock of other
weights into it (the Python API's ``write_lock``, so the file reads as a lock) would otherwise
have the gateway serve weights no second person verified, and their use counted as the
baseline's in plays 4 to 6. The honest ways stay open: a re-lock that ``inhouse baseline lock``
records is routed within the refresh, and a program that records no lock yet (play 1) routes
the file, saying so in ``/healthz``. The runtimes are the stand-in upstream, each naming a real
GGUF file as the weights it serves (its digest is the file's): these tests are about which
weights the gateway lets through, not a model's answers. The lock is re-read every 0.1 s here
(tests/gateway/harness.py)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from inhouse.baseline.lock import (
    COLLECTOR,
    Lock,
    LockedModel,
    LockedRuntime,
    lock_baseline,
    lock_fact_payload,
    write_lock,
)
from inhouse.program import Program, Provenance
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    LEAD,
    auth,
    chat,
    digest_of,
    error_of,
    in_process,
    key_for,
    make_program,
    model_file,
    one_runtime,
    usage_rows,
    weights_root,
)

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=2)
#: several of the gateway's lock refreshes (0.1 s apart here)
REFRESHES = 0.6


def _lock(models: dict[str, str]) -> Lock:
    """A lock of ``models`` (name -> digest), hashed as ``baseline lock`` hashes one: what a
    lead writes into inhouse.lock with the Python API, which reads it as a lock."""
    lock = Lock(
        owner=LEAD,
        runtime=LockedRuntime(name="local", family="openai"),
        models=[LockedModel(name=name, digest=digest) for name, digest in models.items()],
        python="3.11",
        inhouse="0.1.0",
    )
    return lock.model_copy(update={"lock_hash": lock.computed_hash()})


@asynccontextmanager
async def _program(folder: Path, blessed: list[str]) -> AsyncIterator[tuple[Program, Lock]]:
    """Runtime ``local`` serves ``tiny`` (weights.gguf), runtime ``spare`` serves ``spare``
    (other weights); the manifest blesses ``blessed`` and lena records the lock with
    ``inhouse baseline lock`` (her program, and that lock, yielded)."""
    tiny_file, spare_file = model_file(folder), model_file(folder, "spare.gguf", seed=1)
    async with (
        StandinUpstream(FAST, model="tiny", root=weights_root(folder)) as tiny,
        StandinUpstream(FAST, model="spare", root=weights_root(folder, "spare.gguf")) as spare,
    ):
        runtimes = {
            "local": {"family": "openai", "url": tiny.url, "model_path": str(tiny_file)},
            "spare": {"family": "openai", "url": spare.url, "model_path": str(spare_file)},
        }
        manifest = {"owner": LEAD, "runtime": "local", "models": blessed}
        program = make_program(
            folder, runtimes, {"tiny": digest_of(tiny_file)}, extra={"baseline": manifest}
        )
        try:
            result = await asyncio.to_thread(lock_baseline, program, LEAD)
            assert result.fact is not None  # recorded
            yield program, result.lock
        finally:
            program.close()


async def _ask(client: httpx.AsyncClient, key: str, model: str) -> httpx.Response:
    return await client.post("/v1/chat/completions", json=chat(model), headers=auth(key))


async def _health(client: httpx.AsyncClient, key: str | None = None) -> dict[str, Any]:
    """``/healthz``: anyone's answer, or with ``key`` (a rollout lead's own) its details."""
    reply = await client.get("/healthz", headers=auth(key) if key else None)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _forged_problem(message: str, forged: Lock, recorded: Lock) -> None:
    """``message`` names both locks and the way to make the file's the program's."""
    assert f"inhouse.lock ({forged.lock_hash[:19]}) is not the lock this program records " in (
        message
    )
    assert f"({recorded.lock_hash[:19]})" in message
    assert "`inhouse baseline lock`" in message and "`inhouse baseline verify`" in message


@pytest.mark.parametrize("when", ["before the gateway starts", "while it runs"])
def test_a_lock_hashed_into_inhouse_lock_by_hand_is_not_served(
    _isolated: Path, caplog: pytest.LogCaptureFixture, when: str
) -> None:
    """The forgery: the recorded (and verifiable) lock blesses ``tiny``; the lead writes a lock
    that also blesses ``spare`` (other weights, whose digest nobody verified) into inhouse.lock.
    The gateway refuses ``spare`` naming both locks and the fix, keeps serving ``tiny``, and
    says why in /healthz and its log."""

    async def run() -> None:
        async with _program(_isolated, ["tiny"]) as (program, recorded):
            key = key_for(program)
            spare = digest_of(_isolated / "spare.gguf")
            forged = _lock({"tiny": recorded.models[0].digest, "spare": spare})
            if when == "before the gateway starts":
                write_lock(_isolated, forged)
            async with in_process(_isolated) as (_, client):
                if when == "while it runs":
                    assert (await _ask(client, key, "spare")).status_code == 403
                    write_lock(_isolated, forged)
                    await asyncio.sleep(REFRESHES)
                refused = await _ask(client, key, "spare")
                assert refused.status_code == 403, refused.text
                error = error_of(refused)
                assert error["code"] == "model_not_allowed"
                assert (
                    "'spare' is not a blessed model of the lock this program records"
                    in (error["message"])
                )
                _forged_problem(error["message"], forged, recorded)
                assert (await _ask(client, key, "tiny")).status_code == 200
                health = await _health(client, key)
                public = await _health(client)
            assert health["status"] == public["status"] == "degraded"
            # anyone reads the problem's code; its text is the lead's key's
            assert public["lock"]["problem"] == health["lock"]["problem_code"]
            assert public["lock"]["problem"] == "lock-file-differs"
            lock = health["lock"]
            assert lock["source"] == "recorded"
            assert lock["routed"] == lock["recorded"] == recorded.lock_hash
            assert lock["file"] == forged.lock_hash
            _forged_problem(lock["problem"], forged, recorded)
            assert list(health["models"]) == ["tiny"]
        assert {r["model"] for r in usage_rows(program) if r["status"] == 200} == {"tiny"}
        warned = [r.getMessage() for r in caplog.records if r.name == "inhouse.gateway"]
        assert sum(f"({forged.lock_hash[:19]}) is not the lock" in w for w in warned) == 1

    with caplog.at_level(logging.WARNING, logger="inhouse.gateway"):
        asyncio.run(run())


def test_other_weights_swapped_in_under_a_blessed_name_are_refused(_isolated: Path) -> None:
    """The same forgery under the blessed name: the runtime now serves other weights as
    ``tiny`` and inhouse.lock is rewritten to pin their digest. The gateway routes the recorded
    digest, so ``tiny`` is refused as drifted, naming the file's lock too; nothing is answered
    with the weights nobody verified."""

    async def run() -> None:
        async with _program(_isolated, ["tiny"]) as (program, recorded):
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                assert (await _ask(client, key, "tiny")).status_code == 200
                shutil.copyfile(_isolated / "spare.gguf", _isolated / "weights.gguf")
                forged = _lock({"tiny": digest_of(_isolated / "weights.gguf")})
                write_lock(_isolated, forged)
                await asyncio.sleep(REFRESHES)
                await gateway.router.check_digests()  # the digest check, not in 5 minutes
                refused = await _ask(client, key, "tiny")
                assert refused.status_code == 503, refused.text
                message = error_of(refused)["message"]
                assert f"locked {recorded.models[0].digest}" in message
                _forged_problem(message, forged, recorded)
            answered = [r["digest"] for r in usage_rows(program) if r["status"] == 200]
            assert answered == [recorded.models[0].digest]

    asyncio.run(run())


def test_a_re_lock_recorded_by_baseline_lock_is_served_within_the_refresh(
    _isolated: Path,
) -> None:
    """The honest way to bless other weights: the runtime serves them and lena runs `baseline
    lock`, which records the new lock (then writes the file). The gateway routes it within the
    refresh, and /healthz names it as the recorded lock, the file the same."""

    async def run() -> None:
        async with _program(_isolated, ["tiny"]) as (program, first):
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                assert (await _ask(client, key, "tiny")).status_code == 200
                shutil.copyfile(_isolated / "spare.gguf", _isolated / "weights.gguf")
                result = await asyncio.to_thread(lock_baseline, program, LEAD)
                assert result.fact is not None and result.written
                relocked = time.monotonic()
                # routed once the refresh has read it and the digests are checked; a refresh
                # that read the new file before the log's new lock says so (degraded) until
                # the next one, within the same bound
                while (
                    (health := await _health(client))["lock"]["routed"] != result.lock.lock_hash
                    or health["status"] != "ok"
                    or (await _ask(client, key, "tiny")).status_code != 200
                ):
                    assert time.monotonic() - relocked < 3.0, health
                    await asyncio.sleep(0.05)
                health = await _health(client)  # the one above may predate the digest check
            new = result.lock.models[0].digest
            assert new != first.models[0].digest
            assert usage_rows(program)[-1]["digest"] == new
            assert health["status"] == "ok"
            assert health["lock"] == {
                "routed": result.lock.lock_hash,
                "source": "recorded",
                "recorded": result.lock.lock_hash,
                "file": result.lock.lock_hash,
                "problem": None,
                "problem_code": None,
                "notice": None,
            }

    asyncio.run(run())


def test_a_program_that_records_no_lock_yet_routes_inhouse_lock_and_says_so(
    _isolated: Path,
) -> None:
    """Before `baseline lock` has recorded anything (play 1: nothing of plays 4 to 6 can count
    yet), inhouse.lock is what the gateway routes, as before; /healthz says that no lock is
    recorded and what makes one the program's."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as tiny:
            program = one_runtime(_isolated, tiny.url)
            try:
                key = key_for(program)
                async with in_process(_isolated) as (gateway, client):
                    assert (await _ask(client, key, "tiny")).status_code == 200
                    health = await _health(client)
                    file = gateway.router.lock.lock_hash
            finally:
                program.close()
        assert health["status"] == "ok"
        lock = health["lock"]
        assert (lock["source"], lock["routed"], lock["recorded"], lock["file"]) == (
            "inhouse.lock", file, None, file,
        )  # fmt: skip
        assert lock["problem"] is None
        assert "the program records no lock yet" in lock["notice"]
        assert "`inhouse baseline lock`" in lock["notice"]

    asyncio.run(run())


def test_a_gateway_whose_inhouse_lock_was_edited_by_hand_serves_the_recorded_lock(
    _isolated: Path,
) -> None:
    """A file that no longer matches its own hash cannot be trusted, but the recorded lock
    can: the gateway starts, serves it, and says what is wrong with the file."""

    async def run() -> None:
        async with _program(_isolated, ["tiny"]) as (program, recorded):
            key = key_for(program)
            path = _isolated / "inhouse.lock"
            path.write_text(path.read_text().replace('"tiny"', '"spare"'))
            async with in_process(_isolated) as (_, client):
                assert (await _ask(client, key, "tiny")).status_code == 200
                health = await _health(client, key)
                public = await _health(client)
        assert health["status"] == public["status"] == "degraded"
        assert health["lock"]["routed"] == recorded.lock_hash and health["lock"]["file"] is None
        # the error of reading the file names where it is and what it holds: a lead's to read;
        # anyone else reads a code
        assert public["lock"]["problem"] == "lock-file-unreadable"
        assert str(path) not in str(public) and "changed by hand" not in str(public)
        assert "was changed by hand" in health["lock"]["problem"]
        # and `inhouse gateway status` prints each as it got it
        from inhouse.cli.gateway import _health_lines

        said = " ".join(_health_lines(public, "http://gateway") or [])
        assert "lock: lock-file-unreadable[/]: a rollout lead's own key shows why" in said
        said = " ".join(_health_lines(health, "http://gateway") or [])
        assert "was changed by hand" in said and "shows why" not in said
        assert (
            f"routes the lock this program records ({recorded.lock_hash[:19]})"
            in (health["lock"]["problem"])
        )

    asyncio.run(run())


def test_a_program_whose_lock_facts_do_not_count_routes_inhouse_lock_and_says_why(
    _isolated: Path,
) -> None:
    """A lock fact from before lock facts carried their body counts for nothing, so no lock
    is recorded: the gateway keeps serving inhouse.lock (no outage on an upgrade), but
    /healthz is degraded and says why, and that a re-lock fixes it."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as tiny:
            program = one_runtime(_isolated, tiny.url)
            weights = _isolated / "weights.gguf"
            try:
                old = {**lock_fact_payload(_lock({"tiny": digest_of(weights)}))}
                del old["body"]
                program.record_fact(None, "baseline.lock", old, provenance=Provenance.MEASURED,
                                    collector=COLLECTOR)  # fmt: skip
                key = key_for(program)
                async with in_process(_isolated) as (_, client):
                    assert (await _ask(client, key, "tiny")).status_code == 200
                    health = await _health(client, key)
                    public = await _health(client)
            finally:
                program.close()
        assert health["status"] == "degraded"
        assert public["lock"]["problem"] == "lock-not-counted"
        assert (health["lock"]["source"], health["lock"]["recorded"]) == ("inhouse.lock", None)
        problem = health["lock"]["problem"]
        assert "the program records no lock that counts" in problem
        assert "recorded before lock facts carried the lock's body" in problem
        assert "`inhouse baseline lock`" in problem

    asyncio.run(run())


def test_usage_on_weights_no_recorded_lock_blessed_is_not_signed(_isolated: Path) -> None:
    """Before any lock is recorded the gateway routes inhouse.lock, which nobody verified: lena
    uses ``tiny`` and ``spare`` through it, then records a lock blessing ``tiny`` alone. The
    rollup signs her ``tiny`` request (the weights the recorded lock blessed) and sets the
    ``spare`` one aside, naming it: usage on weights no second person verified is not the
    baseline's use in plays 4 to 6 (``pilot-independent-use``, ``use-beyond-pilot``, the
    indicators)."""
    from inhouse.gateway.rollup import rollup_usage

    async def run() -> tuple[Program, str]:
        tiny_file, spare_file = model_file(_isolated), model_file(_isolated, "spare.gguf", seed=1)
        async with (
            StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as tiny,
            StandinUpstream(
                FAST, model="spare", root=weights_root(_isolated, "spare.gguf")
            ) as spare,
        ):
            runtimes = {
                "local": {"family": "openai", "url": tiny.url, "model_path": str(tiny_file)},
                "spare": {"family": "openai", "url": spare.url, "model_path": str(spare_file)},
            }
            manifest = {"owner": LEAD, "runtime": "local", "models": ["tiny"]}
            unverified = digest_of(spare_file)
            program = make_program(
                _isolated, runtimes, {"tiny": digest_of(tiny_file), "spare": unverified},
                extra={"baseline": manifest},
            )  # fmt: skip
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                for model in ("tiny", "spare"):
                    assert (await _ask(client, key, model)).status_code == 200
            await asyncio.to_thread(lock_baseline, program, LEAD)
            return program, unverified

    program, unverified = asyncio.run(run())
    try:
        assert {row["digest"] for row in usage_rows(program)} == {
            digest_of(_isolated / "weights.gguf"),
            unverified,
        }
        rollup = rollup_usage(program, LEAD)
        assert [(r["person"], r["requests"]) for r in rollup.recorded] == [(LEAD, 1)]
        (note,) = [n for n in rollup.notes() if "no recorded lock blessed" in n]
        assert "1 answered request on weights no recorded lock blessed" in note
        assert f"{LEAD} on {unverified[:19]}" in note
        assert "`inhouse baseline lock`" in note and "`inhouse baseline verify`" in note
        # and a rollup again signs nothing new, nor counts it later
        assert rollup_usage(program, LEAD).recorded == []
    finally:
        program.close()


def test_a_lock_recorded_by_someone_with_no_charge_is_not_routed(_isolated: Path) -> None:
    """The forgery: bob, enrolled with no role (a lead gave him no charge of the program's parts),
    re-locks the program to weights nobody verified. `baseline lock` refuses him before it
    measures anything; the same lock recorded through the Python API does not count: the
    gateway keeps routing lena's, refuses `spare`, and the log says why bob's was set aside."""
    from inhouse.errors import NotAllowed
    from inhouse.program.counting import build_context
    from tests.people import enrol

    async def run() -> None:
        async with _program(_isolated, ["tiny"]) as (program, recorded):
            key = key_for(program)
            bob = enrol(program, "bob")
            with pytest.raises(NotAllowed, match="bob cannot pin the baseline"):
                await asyncio.to_thread(lock_baseline, bob, None)
            spare = digest_of(_isolated / "spare.gguf")
            forged = _lock({"tiny": recorded.models[0].digest, "spare": spare})
            bob.record_fact(None, "baseline.lock", lock_fact_payload(forged),
                            provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
            context = build_context(program.state(), program.clock())
            latest = context.facts.latest("baseline.lock")
            assert latest is not None and latest.payload["lock_hash"] == recorded.lock_hash
            [aside] = context.uncounted_of(["baseline.lock"])
            assert aside.fact.by == "bob" and "recorded by bob, who held none of the roles" in (
                aside.why
            )
            async with in_process(_isolated) as (_, client):
                assert (await _ask(client, key, "spare")).status_code == 403
                assert (await _ask(client, key, "tiny")).status_code == 200
                health = await _health(client)
            assert health["lock"]["recorded"] == recorded.lock_hash

    asyncio.run(run())
