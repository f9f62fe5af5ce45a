"""A gateway knows the revoked keys by their hash only to tell whoever presents one that it was
revoked (not to try again in a few seconds). Every revoked row stays in ``gateway_keys``, and
each key refresh (every 5 s) read them all into memory: a gateway's memory grew with every key
ever revoked. Now it holds the last :data:`~inhouse.gateway.keys.REVOKED_TOLD` revoked; one
revoked before them is refused all the same, and so is one whose row a writer of the database
"un-revoked": what is served is what the log vouches for, never the revoked list."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import update

from inhouse.db.schema import gateway_keys
from inhouse.gateway import keys as gateway_keys_module
from inhouse.gateway import limits as limits_module
from inhouse.gateway import revoke_key
from inhouse.gateway.keys import GatewayKey, KeyLimits
from inhouse.gateway.limits import Limiter
from tests.gateway.harness import auth, chat, error_of, in_process, key_for, one_runtime
from tests.runtimes.standin import free_port


def test_the_revoked_keys_a_gateway_holds_are_bounded(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_keys_module, "REVOKED_TOLD", 2)
    program = one_runtime(_isolated, f"http://127.0.0.1:{free_port()}")
    keys = [key_for(program) for _ in range(4)]
    for key in keys:
        revoke_key(program, "lena", key[:11])

    async def run() -> None:
        async with in_process(_isolated) as (gateway, client):

            async def said(key: str) -> str:
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                )
                assert reply.status_code == 401, reply.text
                return str(error_of(reply)["message"])

            for _ in range(3):  # refreshes read no more than the bound
                await gateway.reload_keys()
                assert sum(len(h) for h in gateway.keys._revoked.values()) == 2
            # the last two revoked are told so; the earlier ones hear the unknown key's answer
            for key in keys[2:]:
                assert (await said(key)).startswith("this gateway key was revoked")
            for key in keys[:2]:
                assert (await said(key)).startswith("invalid or revoked gateway key")
            # a writer of the database clears the oldest one's revoked column: still refused,
            # the log revoked it (and the revoked list never let anything in)
            with program.store.engine.begin() as conn:
                conn.execute(
                    update(gateway_keys)
                    .where(gateway_keys.c.prefix == keys[0][:11])
                    .values(revoked=None)
                )
            await gateway.reload_keys()
            assert (await said(keys[0])).startswith("this gateway key (")
            assert gateway.keys.verify(keys[0]) is None

    try:
        asyncio.run(run())
    finally:
        program.close()


def test_the_limiter_forgets_windows_with_nothing_in_the_last_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each key's per-minute window stayed for the process's life, one per key ever used (a
    revoked key's too). Pruned (at each key refresh), a window with nothing in its minute goes;
    one still counting stays, so its key is refused as before."""
    now = [1000.0]
    monkeypatch.setattr(limits_module.time, "monotonic", lambda: now[0])
    limiter = Limiter()

    def key(n: int) -> GatewayKey:
        return GatewayKey(id=f"k_{n}", person="lena", agent=None, prefix=f"ih_{n}",
                          created="", revoked=None, limits=KeyLimits(rpm=1))  # fmt: skip

    for n in range(50):
        limiter.admit(key(n))
    now[0] += 61.0
    limiter.admit(key(99))  # within its minute at the prune
    limiter.prune()
    assert set(limiter._recent) == {"k_99"}
    with pytest.raises(limits_module.RateLimited):
        limiter.admit(key(99))  # its window kept: its limit still holds
    limiter.admit(key(0))  # a minute on: let through, as it was before the prune
