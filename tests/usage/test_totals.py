"""Usage totals: the gateway's usage log summed per person, day, key, prompt and workflow by the
database, on real SQLite and PostgreSQL; refused requests do not count unless asked for; day
windows include both ends; ``inhouse.usage`` stays below the packages that read it."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect

import inhouse.usage
from inhouse.db import Store, open_store
from inhouse.db.schema import gateway_usage
from inhouse.db.store import migrate
from inhouse.errors import InvalidInput
from inhouse.gateway.usage import UsageRecord, insert_usage
from inhouse.usage import UsageTotals, totals


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        opened.close()


def _row(n: int, day: str, person: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "request_id": f"req_{n}",
        "at": f"{day}T10:00:{n:02d}+00:00",
        "day": day,
        "person": person,
        "key_id": f"k_{person}",
        "agent": None,
        "endpoint": "chat/completions",
        "model": "tiny",
        "digest": None,
        "prompt_id": None,
        "workflow_id": None,
        "stream": 0,
        "tokens_in": 10,
        "tokens_out": 5,
        "ttft_ms": None,
        "latency_ms": 12.5,
        "overhead_ms": 0.5,
        "status": 200,
        "policy": "[]",
        "upstream": None,
        "body": None,
    }
    row.update(extra)
    return row


def _insert(store: Store, rows: list[dict[str, object]]) -> None:
    """Through the gateway's own writer, so the daily rollups the totals read are kept too."""
    records = [
        UsageRecord(
            **{
                **{name: value for name, value in row.items() if name != "day"},
                "stream": bool(row["stream"]),
                "policy": json.loads(str(row["policy"])),
            }  # type: ignore[arg-type]
        )
        for row in rows
    ]
    insert_usage(store, records)


@pytest.fixture
def used(store: Store) -> Store:
    """Three people over three days; one refused and one failed request; prompts and workflows."""
    _insert(
        store,
        [
            _row(1, "2026-11-01", "lena", prompt_id="summarise", tokens_in=100, tokens_out=20),
            _row(2, "2026-11-01", "lena", prompt_id="summarise", tokens_in=50, tokens_out=10),
            _row(3, "2026-11-01", "omar", workflow_id="triage", tokens_in=7, tokens_out=3),
            _row(4, "2026-11-01", "omar", status=429),  # rate limited: not use
            _row(5, "2026-11-02", "lena", key_id="k_lena_agent", workflow_id="triage"),
            _row(6, "2026-11-02", "pia", prompt_id="translate", status=502),  # upstream failed
            _row(7, "2026-11-03", "pia", prompt_id="translate", tokens_in=1, tokens_out=1),
        ],
    )
    return store


def test_totals_per_day_and_person_count_answered_requests_and_their_tokens(used: Store) -> None:
    assert totals(used, ("day", "person")) == [
        UsageTotals(day="2026-11-01", person="lena", requests=2, tokens_in=150, tokens_out=30,
                    busy_ms=25.0),
        UsageTotals(day="2026-11-01", person="omar", requests=1, tokens_in=7, tokens_out=3,
                    busy_ms=12.5),
        UsageTotals(day="2026-11-02", person="lena", requests=1, tokens_in=10, tokens_out=5,
                    busy_ms=12.5),
        UsageTotals(day="2026-11-03", person="pia", requests=1, tokens_in=1, tokens_out=1,
                    busy_ms=12.5),
    ]  # fmt: skip


def test_totals_per_single_dimension(used: Store) -> None:
    assert [(t.person, t.requests, t.tokens) for t in totals(used, "person")] == [
        ("lena", 3, 195),
        ("omar", 1, 10),
        ("pia", 1, 2),
    ]
    assert [(t.day, t.requests) for t in totals(used, "day")] == [
        ("2026-11-01", 3),
        ("2026-11-02", 1),
        ("2026-11-03", 1),
    ]
    assert [(t.key, t.requests) for t in totals(used, ["key"])] == [
        ("k_lena", 2),
        ("k_lena_agent", 1),
        ("k_omar", 1),
        ("k_pia", 1),
    ]
    # requests that named no prompt are a group of their own, listed first
    assert [(t.prompt, t.requests, t.tokens_in) for t in totals(used, "prompt")] == [
        (None, 2, 17),
        ("summarise", 2, 150),
        ("translate", 1, 1),
    ]
    assert [(t.workflow, t.requests) for t in totals(used, "workflow")] == [
        (None, 3),
        ("triage", 2),
    ]
    # dimensions not grouped by stay empty
    lena = totals(used, "person")[0]
    assert (lena.day, lena.key, lena.prompt, lena.workflow) == (None, None, None, None)


def test_totals_group_in_the_order_asked(used: Store) -> None:
    assert [(t.workflow, t.person, t.requests) for t in totals(used, ("workflow", "person"))] == [
        (None, "lena", 2),
        (None, "pia", 1),
        ("triage", "lena", 1),
        ("triage", "omar", 1),
    ]


def test_refused_and_failed_requests_count_only_when_asked(used: Store) -> None:
    answered = {t.person: t.requests for t in totals(used, "person")}
    everything = {t.person: t.requests for t in totals(used, "person", answered_only=False)}
    assert answered == {"lena": 3, "omar": 1, "pia": 1}
    assert everything == {"lena": 3, "omar": 2, "pia": 2}
    (all_of_it,) = totals(used, (), answered_only=False)
    assert (all_of_it.requests, all_of_it.tokens_in) == (7, 188)


def test_a_day_window_includes_both_ends(used: Store) -> None:
    window = totals(used, "day", since="2026-11-02", until="2026-11-03")
    assert [t.day for t in window] == ["2026-11-02", "2026-11-03"]
    assert [t.day for t in totals(used, "day", until=date(2026, 11, 1))] == ["2026-11-01"]
    assert [t.day for t in totals(used, "day", since=datetime(2026, 11, 3, 23, 59))] == [
        "2026-11-03"
    ]
    (one_day,) = totals(used, "person", since="2026-11-02", until="2026-11-02")
    assert (one_day.person, one_day.requests) == ("lena", 1)


def test_nothing_used_is_no_rows_and_a_grand_total_of_zero(used: Store) -> None:
    assert totals(used, ("day", "person"), since="2026-12-01") == []
    assert totals(used, "person", since="2026-11-04", until="2026-11-03") == []
    assert totals(used, ()) == [UsageTotals(requests=5, tokens_in=168, tokens_out=39, busy_ms=62.5)]
    assert totals(used, (), since="2027-01-01") == [
        UsageTotals(requests=0, tokens_in=0, tokens_out=0)
    ]


def test_an_empty_log_has_no_totals(store: Store) -> None:
    assert totals(store, "person") == []
    assert totals(store, ()) == [UsageTotals(requests=0, tokens_in=0, tokens_out=0)]


def test_bad_dimensions_and_days_are_named(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"by 'model': use day, person, key, prompt, workflow"):
        totals(store, "model")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="name 'day' twice"):
        totals(store, ("day", "day"))
    with pytest.raises(InvalidInput, match=r"since '2026-11' is not a day \(YYYY-MM-DD\)"):
        totals(store, "day", since="2026-11")
    with pytest.raises(InvalidInput, match=r"until '2026-13-01' is not a day"):
        totals(store, "day", until="2026-13-01")


def test_the_usage_package_imports_only_the_floors_below_it() -> None:
    package = Path(inhouse.usage.__file__).parent
    imported: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name.split(".")[1] for name in imported if name.startswith("inhouse.")}
    assert ours <= {"db", "errors", "usage"}, f"inhouse.usage imports from above: {ours}"


def test_a_store_from_before_the_totals_index_upgrades_and_keeps_its_usage(
    database_url: str,
) -> None:
    old = open_store(database_url, upgrade=False)
    try:
        migrate(old.engine, "0003_signed_events")
        with old.engine.begin() as conn:
            conn.execute(insert(gateway_usage), [_row(1, "2026-11-01", "lena")])
    finally:
        old.close()
    store = open_store(database_url)
    try:
        with store.engine.connect() as conn:
            indexes = {i["name"] for i in inspect(conn).get_indexes("gateway_usage")}
        assert indexes == {
            "ix_gateway_usage_totals",
            "ix_gateway_usage_person_day",
            "ix_gateway_usage_agent_tool_calls",
        }
        assert totals(store, "person") == [
            UsageTotals(person="lena", requests=1, tokens_in=10, tokens_out=5, busy_ms=12.5)
        ]
    finally:
        store.close()


def test_the_agents_tool_call_count_reads_only_their_rows(tmp_path: Path) -> None:
    """Governance counts each agent key's tool calls: through the partial index of the agents'
    rows that carried some (migration 0009), not a scan of every usage row. Read from
    SQLite's own query plan of the query the count runs (PostgreSQL's planner picks by table
    size, and a test's tables are small)."""
    from sqlalchemy.dialects import sqlite

    from inhouse.usage import toolcalls

    store = open_store(f"sqlite:///{tmp_path / 'u.db'}")
    try:
        calls = [{"name": "search", "arguments": "{}"}]
        _insert(store, [
            _row(1, "2026-11-01", "lena", agent="nightly", key_id="k_bot", tool_calls=calls),
            _row(2, "2026-11-01", "lena"),
        ])  # fmt: skip
        query = toolcalls.agent_tool_calls_query()
        sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in rows)
        assert "ix_gateway_usage_agent_tool_calls" in plan, plan
        assert toolcalls.tool_calls_per_key(store) == {"k_bot": 1}
    finally:
        store.close()
