"""The MAC proves a row's columns, not that it is the only copy: anyone holding the database's
password (every enrolled CLI writes the shared store) can drop the request-id key and copy the
gateway's own sealed rows. Each request id counts once; every copy is left out and named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from inhouse.gateway.rollup import gateway_mac_key, rollup_usage
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.program import Program
from inhouse.program.facts import daily_usage
from tests.conftest import Clock
from tests.people import enrol

pytestmark = pytest.mark.usefixtures("on_database")


def test_copied_sealed_rows_count_once(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, on_database: str
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    enrol(lena, "zoe", team="sales")
    lena.as_service("gateway")  # enrolled from 'gateway-host' (harness)
    key = gateway_mac_key(lena.folder)

    # the real gateway answers zoe twice on 2026-10-05 and seals each row
    records = []
    for _ in range(2):
        record = UsageRecord(request_id=new_request_id(), at="2026-10-05T10:00:00+00:00",
                             person="zoe", key_id="k_zoe", endpoint="chat", model="m",
                             status=200, tokens_in=100, tokens_out=10, latency_ms=50.0)  # fmt: skip
        record.seal(key)
        records.append(record)
    insert_usage(lena.store, records)

    # the forger, with the database's password: drop the key, copy the sealed rows 50 times
    with lena.store.engine.begin() as conn:
        if not on_database.startswith("sqlite"):
            conn.execute(text("ALTER TABLE gateway_usage DROP CONSTRAINT gateway_usage_pkey"))
            conn.execute(text("CREATE TEMP TABLE copy AS SELECT * FROM gateway_usage"))
            for _ in range(49):
                conn.execute(text("INSERT INTO gateway_usage SELECT * FROM copy"))
        else:  # SQLite drops a key by rebuilding the table
            cols = [r[1] for r in conn.execute(text("PRAGMA table_info(gateway_usage)"))]
            listed = ", ".join(cols)
            conn.execute(text(f"CREATE TABLE copy AS SELECT {listed} FROM gateway_usage"))
            conn.execute(text("DROP TABLE gateway_usage"))
            conn.execute(text(f"CREATE TABLE gateway_usage AS SELECT {listed} FROM copy WHERE 0"))
            for _ in range(50):
                conn.execute(text(f"INSERT INTO gateway_usage SELECT {listed} FROM copy"))
            conn.execute(text("DROP TABLE copy"))
        # nudge the summary table so the rollup looks at the day (summary figures are no
        # evidence; anyone may edit them)
        conn.execute(text("DELETE FROM usage_daily"))
        conn.execute(
            text(
                "INSERT INTO usage_daily (day, person, key_id, agent, model, prompt_id,"
                " workflow_id, answered, requests, tokens_in, tokens_out, busy_ms, last_at) VALUES"
                " ('2026-10-05','zoe','k_zoe','','m','','',1,100,10000,1000,0,'x')"
            )
        )

    done = rollup_usage(lena)
    assert {r.why for r in done.left_out} == {"duplicate request id"}
    assert len(done.left_out) == 98  # each copy beyond the first, named
    [fact] = [f for f in lena.state().facts if f.kind == "usage.daily"]
    assert fact.by == "gateway"
    totals = daily_usage(fact)["zoe"]
    assert totals == {"requests": 2, "tokens_in": 200, "tokens_out": 20}  # what was answered
