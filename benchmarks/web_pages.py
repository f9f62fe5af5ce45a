"""The dashboard's server time per page on a big program: N events in the log (default 100,000)
and M usage rows (default 1,000,000) — the figures issue #15 asks for (target < 100 ms a page).

Builds play 4's benchmark pilot (benchmarks/pilot_adoption.py), bulk-loads the usage rows
(benchmarks/usage_totals.py) and appends signed events up to N (benchmarks/status_events.py's
way: real hashes and signatures, one transaction); signs lena in with her own key, then times
each page and JSON twin through the ASGI app in-process (httpx; no network), after one warm-up
request that folds the log once, as a running server has. Usage:

    python benchmarks/web_pages.py [--events N] [--rows M] [--runs R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pilot_adoption import _pilot
from sqlalchemy import insert
from starlette.testclient import TestClient
from usage_totals import _fill

from inhouse.db import events
from inhouse.program import Program
from inhouse.program.events import (
    EventKind,
    canonical_json,
    event_hash,
    format_time,
    signed_material,
)
from inhouse.web.app import create_app
from inhouse.web.login import sign_in

PAGES = ("/", "/index.json", "/plays/1", "/pilot", "/pilot.json", "/prompts", "/support",
         "/governance", "/indicators", "/audit", "/audit.json")  # fmt: skip


def _grow(program: Program, count: int) -> None:
    """Append signed review facts by the lead until the log holds ``count`` events."""
    state = program.state()
    seq, prev = state.head_seq, program.events()[-1].hash
    key, start = program.key, datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count - seq):
        payload = {"kind": "review.held", "version": 1, "payload": {"notes": f"review {n}"},
                   "provenance": "attested", "comment": "we met"}  # fmt: skip
        seq += 1
        at = format_time(start + timedelta(seconds=n))
        body = canonical_json(payload)
        digest = event_hash(seq, at, "lena", EventKind.FACT_RECORDED, body, prev, key.key_id)
        rows.append({"seq": seq, "at": at, "actor": "lena", "kind": str(EventKind.FACT_RECORDED),
                     "payload": body, "prev_hash": prev, "hash": digest, "signer": key.key_id,
                     "signature": key.sign(signed_material(digest))})  # fmt: skip
        prev = digest
    with program.store.engine.begin() as conn:
        conn.execute(insert(events), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "program"
        folder.mkdir()
        os.environ["HOME"] = tmp
        began = time.perf_counter()
        lead = _pilot(folder)
        _fill(lead.store, args.rows)
        _grow(lead, args.events)
        print(f"built {args.events:,} events and {args.rows:,} usage rows in "
              f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
        served = Program.open(folder, clock=lead.clock)
        with TestClient(create_app(program=served), follow_redirects=False) as client:
            began = time.perf_counter()
            client.get(sign_in(str(client.base_url), lead.key, client=client))
            print(f"sign-in (the first fold of the log): {time.perf_counter() - began:.2f} s")
            for path in PAGES:
                assert client.get(path).status_code == 200, path  # warm
                times = []
                for _ in range(args.runs):
                    began = time.perf_counter()
                    reply = client.get(path)
                    times.append(time.perf_counter() - began)
                    assert reply.status_code == 200, path
                print(f"{path:<14} median {statistics.median(times) * 1000:7.1f} ms, best "
                      f"{min(times) * 1000:7.1f} ms ({args.runs} runs)", flush=True)  # fmt: skip
        served.close()
        lead.close()


if __name__ == "__main__":
    main()
