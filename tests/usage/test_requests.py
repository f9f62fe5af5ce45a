"""Single requests the data rules acted on, read from the usage log on real SQLite and
PostgreSQL: a person's redacted requests, newest first; refused requests and agent keys left
out unless asked for; the policy JSON decides, not a text match."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inhouse.db import Store, open_store
from inhouse.gateway.usage import UsageRecord, insert_usage
from inhouse.usage.requests import policy_requests


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        opened.close()


def _record(n: int, person: str, policy: list[str], **extra: object) -> UsageRecord:
    fields: dict[str, object] = {
        "request_id": f"req_{n}", "at": f"2026-11-0{n}T10:00:00+00:00", "person": person,
        "key_id": f"k_{person}", "endpoint": "chat/completions", "model": "tiny", "status": 200,
        "policy": policy, **extra,
    }  # fmt: skip
    return UsageRecord(**fields)  # type: ignore[arg-type]


def test_redacted_requests_of_a_person_newest_first(store: Store) -> None:
    insert_usage(store, [
        _record(1, "bob", ["redact:email"]),
        _record(2, "bob", []),
        _record(3, "bob", ["strip-tools:run_shell", "redact:card", "redact:email"]),
        _record(4, "bob", ["block:data_class_blocked"], status=451),
        _record(5, "bob", ["redact:email"], agent="reader"),
        _record(6, "pia", ["redact:email"]),
        _record(7, "bob", ["not-redact:x_y%"]),
    ])  # fmt: skip
    found = policy_requests(store, person="bob")
    assert [(r.request_id, r.actions) for r in found] == [
        ("req_3", ("redact:card", "redact:email")),
        ("req_1", ("redact:email",)),
    ]
    assert found[0].day == "2026-11-03" and found[0].model == "tiny"
    with_agents = policy_requests(store, person="bob", agents=True)
    assert [r.request_id for r in with_agents] == ["req_5", "req_3", "req_1"]
    blocked = policy_requests(store, person="bob", action="block:", answered_only=False)
    assert [(r.request_id, r.status) for r in blocked] == [("req_4", 451)]
    assert [r.person for r in policy_requests(store, request_id="req_6")] == ["pia"]
    assert policy_requests(store, person="nobody") == []
