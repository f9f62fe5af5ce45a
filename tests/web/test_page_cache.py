"""Kept pages (inhouse.web.cache): the prompt library page is served again only while nothing
it reads changed; new usage (from another process too), a new event or an edited
``inhouse.toml`` shows at once, and a database that cannot tell keeps nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text
from starlette.testclient import TestClient

from inhouse.db import open_store
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.library import add_prompt, new_version
from inhouse.program import Program
from inhouse.web import pages
from inhouse.web.app import create_app
from inhouse.web.cache import DatabaseVersion
from tests.pilot.gateway_days import Pilot
from tests.web.world import signed_in

TRIAGE = """\
description: Sort a support ticket into a queue
template: "Sort this ticket: {{ ticket }}"
variables: {ticket: string}
"""


def _use(program: Program, person: str, prompt: str, day: int) -> None:
    record = UsageRecord(request_id=new_request_id(), at=f"2026-11-{day:02d}T10:00:00+00:00",
                         person=person, key_id=f"k_{person}", endpoint="chat/completions",
                         model="tiny", status=200, prompt_id=prompt)  # fmt: skip
    insert_usage(program.store, [record])


def _uses(client: TestClient) -> dict[str, tuple[int, int]]:
    data = client.get("/prompts.json").json()
    return {
        f"{u['prompt']}@{u['version']}": (u["uses"], u["uses_by_others"]) for u in data["usage"]
    }


def _versions(client: TestClient) -> list[int]:
    (row,) = client.get("/prompts.json").json()["prompts"]
    return [v["version"] for v in row["history"]]


def test_the_prompt_page_is_kept_until_usage_events_or_settings_change(
    world: Pilot, served: Program
) -> None:
    add_prompt(world.lead, "triage", TRIAGE, where="triage.yaml")
    _use(world.lead, "bob", "triage@1", 3)
    app = create_app(program=served)
    cache = app.state.cache
    with TestClient(app, follow_redirects=False) as client, signed_in(client, world, "lena"):
        assert _uses(client) == {"triage@1": (1, 1)}
        builds = cache.builds
        assert client.get("/prompts").status_code == 200
        assert _uses(client) == {"triage@1": (1, 1)}
        assert (cache.builds, cache.hits) == (builds, 2)  # nothing changed: kept

        # the gateway's process writes usage through a connection of its own
        gateway = Program.open(world.folder, clock=world.clock)
        _use(gateway, "pia", "triage@1", 4)
        _use(gateway, "lena", "triage@1", 5)
        gateway.close()
        assert _uses(client) == {"triage@1": (3, 2)}

        # an event: lena shares version 2 (this server's program did not write it)
        new_version(world.lead, "triage", TRIAGE.replace("Sort this", "Sort"), where="t.yaml")
        assert _versions(client) == [1, 2]
        _use(world.lead, "bob", "triage@2", 6)
        assert _uses(client) == {"triage@1": (3, 2), "triage@2": (1, 1)}

        # the settings file: the same bytes keep the page, other bytes rebuild it
        builds = cache.builds
        config = world.folder / "inhouse.toml"
        config.write_text(config.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        client.get("/prompts.json")
        assert cache.builds == builds + 1

        # whatever it kept is what a build from scratch shows
        kept = client.get("/prompts.json").json()
        fresh = Program.open(world.folder, clock=world.clock)
        try:
            built: dict[str, Any] = pages.prompts_page(fresh)
        finally:
            fresh.close()
        assert {k: kept[k] for k in built} == built


def test_the_database_version_changes_with_every_commit_on_sqlite_and_postgresql(
    database_url: str,
) -> None:
    store = open_store(database_url)
    other = open_store(database_url)  # another process's connections
    version = DatabaseVersion(store)
    try:
        first = version()
        assert first is not None
        assert version() == first  # reading changes nothing
        with other.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM events")).scalar()
        assert version() == first  # nor does another reader
        insert_usage(other, [_record()])
        second = version()
        assert second != first
        insert_usage(store, [_record()])
        assert version() not in (first, second)  # this process's own writes too
    finally:
        version.close()
        other.close()
        store.close()


def _record() -> UsageRecord:
    return UsageRecord(
        request_id=new_request_id(),
        at="2026-11-03T10:00:00+00:00",
        person="bob",
        key_id="k_bob",
        endpoint="chat/completions",
        model="tiny",
        status=200,
    )


def test_a_database_that_cannot_tell_keeps_nothing(tmp_path: Path) -> None:
    memory = open_store("sqlite://")
    gone = open_store(f"sqlite:///{tmp_path / 'gone.db'}")
    try:
        assert DatabaseVersion(memory)() is None
        (tmp_path / "gone.db").unlink()
        assert DatabaseVersion(gone)() is None
    finally:
        memory.close()
        gone.close()
