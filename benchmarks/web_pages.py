"""The dashboard's server time per page on a big program: N events in the log (default 100,000)
and M usage rows (default 1,000,000) — the figures issue #15 asks for (target < 100 ms a page).

Builds play 4's benchmark pilot (benchmarks/pilot_adoption.py), bulk-loads the usage rows
(benchmarks/usage_totals.py) and appends signed events up to N (benchmarks/status_events.py's
way: real hashes and signatures, one transaction); signs lena in with her own key, then times
each page and JSON twin through the ASGI app in-process (httpx; no network), after one warm-up
request that folds the log once, as a running server has. Usage:

    python benchmarks/web_pages.py [--events N] [--rows M] [--runs R] [--data DIR]
        [--pages PAGE ...] [--profile PAGE]

``--data DIR`` keeps the built program in DIR and, when DIR already holds one, times it again
without building; ``--profile PAGE`` prints cProfile's top entries for one warm request of PAGE.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from pilot_adoption import AS_OF, _Clock, _pilot
from signed_rows import append_signed
from starlette.applications import Starlette
from starlette.testclient import TestClient
from usage_totals import _fill

from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.identity.keys import SigningKey, default_key_path
from inhouse.program import Program
from inhouse.program.events import (
    EventKind,
    format_time,
)
from inhouse.web.app import create_app
from inhouse.web.login import sign_in

PAGES = ("/", "/index.json", "/plays/1", "/pilot", "/pilot.json", "/prompts", "/prompts.json",
         "/support", "/governance", "/governance.json", "/indicators", "/indicators.json",
         "/audit", "/audit.json")  # fmt: skip


#: the pages the dashboard keeps until the database sees a commit (inhouse.web.cache): timed
#: kept, and built again after one more usage row
KEPT = ("/prompts",)


def _grow(program: Program, count: int) -> None:
    """Append signed review facts by the lead until the log holds ``count`` events."""
    state = program.state()
    seq, prev = state.head_seq, program.events()[-1].hash
    key, start = program.key, datetime(2026, 1, 1, tzinfo=UTC)
    entries = [("lena", key, str(EventKind.FACT_RECORDED),
                {"kind": "review.held", "version": 1, "payload": {"notes": f"review {n}"},
                 "provenance": "attested", "comment": "we met"})
               for n in range(count - seq)]  # fmt: skip
    append_signed(program.store, (seq, prev), entries, start)


def _pilot_clock() -> _Clock:
    """The clock ``_pilot`` leaves its program at (the evening of the last usage day)."""
    return _Clock(datetime.combine(AS_OF, datetime.min.time(), UTC) + timedelta(hours=18))


def _keep_key(key: SigningKey) -> None:
    """Save the lead's key where ``Program.open`` looks for it, so ``--data`` can reopen."""
    target = default_key_path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.write_bytes(
        key.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    target.chmod(0o600)


def _profile(app: Starlette, client: TestClient, path: str) -> None:
    """One warm request of ``path`` under cProfile, in this thread (the test client serves from
    a thread of its own, which the profiler would not see)."""

    async def get() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url),
                                     cookies=dict(client.cookies)) as local:  # fmt: skip
            assert (await local.get(path)).status_code == 200, path  # warm
            profile = cProfile.Profile()
            profile.enable()
            status = (await local.get(path)).status_code
            profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        return status

    assert asyncio.run(get()) == 200, path


def _use(program: Program) -> None:
    """One more answered request in the usage log (a commit: kept pages are rebuilt)."""
    at = format_time(program.clock())
    record = UsageRecord(request_id=new_request_id(), at=at, person="person000", key_id="k_000",
                         endpoint="chat/completions", model="tiny", status=200)  # fmt: skip
    insert_usage(program.store, [record])


def _time(client: TestClient, path: str, runs: int, before: Callable[[], None], how: str) -> None:
    times = []
    for _ in range(runs):
        before()
        began = time.perf_counter()
        reply = client.get(path)
        times.append(time.perf_counter() - began)
        assert reply.status_code == 200, path
    print(f"{path:<16} median {statistics.median(times) * 1000:7.1f} ms, best "
          f"{min(times) * 1000:7.1f} ms ({runs} runs) {how}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, help="keep (or reuse) the built program here")
    parser.add_argument("--pages", nargs="+", default=PAGES, help="time only these pages")
    parser.add_argument("--profile", metavar="PAGE", help="profile one warm request of PAGE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.data.resolve() if args.data else Path(scratch)
        folder = tmp / "program"
        os.environ["HOME"] = str(tmp)
        if (folder / "inhouse.toml").exists():
            lead = Program.open(folder, clock=_pilot_clock())
            print(f"reusing the program in {folder}", flush=True)
        else:
            folder.mkdir(parents=True)
            began = time.perf_counter()
            lead = _pilot(folder)
            _fill(lead.store, args.rows)
            _grow(lead, args.events)
            if args.data:
                _keep_key(lead.key)
            print(f"built {args.events:,} events and {args.rows:,} usage rows in "
                  f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
        served = Program.open(folder, clock=lead.clock)
        app = create_app(program=served)
        with TestClient(app, follow_redirects=False) as client:
            began = time.perf_counter()
            # the world's clock signs in: its days are fixed, and the real clock is not theirs
            client.get(sign_in(str(client.base_url), lead.key, client=client, now=lead.clock()))
            print(f"sign-in (the first fold of the log): {time.perf_counter() - began:.2f} s")
            if args.profile:
                _profile(app, client, args.profile)
            for path in () if args.profile else args.pages:
                assert client.get(path).status_code == 200, path  # warm
                _time(client, path, args.runs, lambda: None, "")
                if path.removesuffix(".json") in KEPT:
                    _time(client, path, args.runs, lambda: _use(served), "after new usage")
        served.close()
        lead.close()


if __name__ == "__main__":
    main()
