"""Importing tickets from where the team keeps them: the GitHub and Zammad stand-ins (named so:
they serve the documented shapes on loopback, they are not the services) through the real
importers, the real engine and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app as inhouse
from inhouse.errors import ConfigError, NotAllowed
from inhouse.program import Program
from inhouse.program.facts import Fact
from inhouse.support.importers import import_github, import_zammad
from inhouse.testing.standin_tickets import (
    StandInGitHub,
    StandInZammad,
    standin_github,
    standin_zammad,
)
from tests.people import enrol, lead_env

GH_TOKEN = "ghp_standin0secret0token0never0shown"
ZAMMAD_TOKEN = "zammad-standin-secret-token-never-shown"
IMPORT = "inhouse support import"

LOGINS = """
[support.import.github.logins]
alice-gh = "alice"

[support.import.zammad.logins]
"carol.agent" = "carol"

[support.import.zammad.groups]
"Local AI" = "gateway"
"""


@pytest.fixture
def program(_isolated: Path) -> Iterator[Program]:
    """lena leads; alice, bob and carol are enrolled with their roster e-mails."""
    lena = Program.init(_isolated, "Acme", "lena")
    enrol(lena, "alice", team="ml", email="alice@acme.test")
    enrol(lena, "bob", team="ml", email="Bob@Acme.test")
    enrol(lena, "carol", team="ops", email="carol@acme.test")
    enrol(lena, "dave", team="ops", email="dave@acme.test")
    config = _isolated / "inhouse.toml"
    config.write_text(config.read_text() + LOGINS)
    yield lena
    lena.close()  # on PostgreSQL an open connection left to the collector is a warning


def _github(gh: StandInGitHub) -> None:
    day1, day2 = "2026-10-01T", "2026-10-02T"
    gh.issue(
        1,
        "Gateway answers 502",
        by="alice-gh",
        at=day1 + "09:00:00Z",
        labels=["support", "it-broke", "component:gateway"],
        body="since this morning",
    )
    gh.event(1, "labeled", by="alice-gh", at=day1 + "09:01:00Z")
    gh.event(1, "assigned", by="carol-gh", assignee="carol-gh", at=day1 + "10:00:00Z")
    gh.event(1, "commented", by="carol-gh", body="restarted the node", at=day1 + "10:30:00Z")
    gh.event(1, "closed", by="carol-gh", state_reason="completed", at=day1 + "11:00:00Z")
    gh.event(1, "reopened", by="alice-gh", at=day2 + "09:00:00Z")
    gh.event(1, "commented", by="mallory", body="same here", at=day2 + "09:30:00Z")
    gh.event(1, "closed", by="carol-gh", state_reason="completed", at=day2 + "12:00:00Z")
    gh.issue(
        2,
        "Bump llama.cpp",
        by="alice-gh",
        at=day1 + "12:00:00Z",
        labels=["support", "it-broke", "component:baseline"],
        pull_request=True,
    )
    gh.issue(
        3,
        "How do I verify the baseline?",
        by="bob-gh",
        at=day1 + "13:00:00Z",
        labels=["support", "how-to", "component:baseline"],
    )
    gh.issue(
        4, "Something is odd", by="bob-gh", at=day1 + "14:00:00Z", labels=["support", "it-broke"]
    )
    gh.issue(
        5,
        "Summaries for legal",
        by="zed",
        at=day1 + "15:00:00Z",
        labels=["support", "component:workflow:summaries"],
    )
    gh.issue(6, "Typo in the docs", by="bob-gh", at=day1 + "16:00:00Z", labels=["docs"])
    gh.emails = {"carol-gh": "carol@acme.test", "bob-gh": "bob@acme.test"}  # fmt: skip


def _zammad(zm: StandInZammad) -> None:
    zm.user(10, "dave.customer", "dave@acme.test")
    zm.user(11, "carol.agent", "c.agent@support.example")
    zm.user(12, "ext@vendor.example", "ext@vendor.example")
    zm.ticket(
        34,
        "Model answers gibberish",
        by=10,
        group="Local AI",
        tags=["it-broke"],
        at="2026-10-05T08:00:00Z",
        body="the answers are random",
    )
    zm.change(34, "owner", by=11, before="-", after="Carol", id_to=11, at="2026-10-05T08:10:00Z")
    zm.article(34, by=11, body="swapping the model file back", at="2026-10-05T08:20:00Z")
    zm.change(34, "state", by=11, before="open", after="closed", at="2026-10-05T09:00:00Z")
    zm.change(34, "state", by=10, before="closed", after="open", at="2026-10-06T09:00:00Z")
    zm.change(34, "state", by=11, before="open", after="closed", at="2026-10-06T10:00:00Z")
    zm.ticket(
        35,
        "Where is the install script?",
        by=12,
        group="Users",
        tags=["how-to", "component:baseline"],
        at="2026-10-05T11:00:00Z",
        body="?",
    )
    zm.ticket(36, "Invoice question", by=10, group="Sales", tags=[],
              at="2026-10-05T12:00:00Z", body="billing")  # fmt: skip


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInGitHub]:
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    with standin_github(GH_TOKEN) as gh:
        _github(gh)
        yield gh


@pytest.fixture
def zammad(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInZammad]:
    monkeypatch.setenv("ZAMMAD_TOKEN", ZAMMAD_TOKEN)
    with standin_zammad(ZAMMAD_TOKEN) as zm:
        _zammad(zm)
        yield zm


def _imported(program: Program, ticket: str | None = None) -> list[Fact]:
    return [
        f
        for f in program.state().facts
        if f.collector == IMPORT and (ticket is None or f.payload["ticket"] == ticket)
    ]


def _steps(program: Program, ticket: str) -> list[tuple[str, str | None]]:
    return [(f.kind, f.payload["actor"]) for f in _imported(program, ticket)]


def test_github_import_maps_actors_by_login_and_email_and_follows_pages(
    program: Program, github: StandInGitHub
) -> None:
    report = import_github(program, "acme/help", label="support", api_url=github.url)

    assert _steps(program, "gh:acme/help#1") == [
        ("ticket.opened", "alice"),  # the login table
        ("ticket.assigned", "carol"),  # carol-gh's public e-mail is carol's roster e-mail
        ("ticket.commented", "carol"),
        ("ticket.resolved", "carol"),
        ("ticket.reopened", "alice"),
        ("ticket.commented", None),  # mallory: nobody enrolled, not guessed
        ("ticket.resolved", "carol"),
    ]
    opened, assigned, *_ = _imported(program, "gh:acme/help#1")
    assert opened.payload["external"] == "https://github.com/acme/help/issues/1"
    assert opened.payload["category"] == "it-broke"
    assert opened.payload["component"] == "gateway"
    assert opened.payload["at"] == "2026-10-01T09:00:00Z"
    assert assigned.payload["to"] == "carol"
    assert {f.by for f in _imported(program)} == {"lena"}  # signed by whoever imported
    assert _steps(program, "gh:acme/help#3") == [("ticket.opened", "bob")]  # e-mail, any case
    # pull requests and issues without a component are reported, not imported
    assert not _imported(program, "gh:acme/help#2")
    assert not _imported(program, "gh:acme/help#4")
    assert not _imported(program, "gh:acme/help#6")  # not labelled support
    skipped = dict(report.skipped)
    assert "pull request" in skipped["gh:acme/help#2"]
    assert "component" in skipped["gh:acme/help#4"]
    # no category label: a request, said so
    assert _imported(program, "gh:acme/help#5")[0].payload["category"] == "request"
    assert report.defaulted_category == ["gh:acme/help#5"]
    assert set(report.unmapped) == {"mallory", "zed"}
    # five labelled issues at two a page: three pages, and the long timeline's pages too
    pages = [path for path, _ in github.requests if path.startswith("/repos/acme/help/issues?")]
    assert len(pages) == 3 and "page=3" in pages[-1]
    assert any("/issues/1/timeline?" in p and "page=4" in p for p, _ in github.requests)


def test_zammad_import_maps_actors_and_follows_a_reopened_then_resolved_ticket(
    program: Program, zammad: StandInZammad
) -> None:
    report = import_zammad(program, zammad.url, per_page=2)

    host = zammad.url.removeprefix("http://")
    ticket = f"zammad:{host}#20034"
    assert _steps(program, ticket) == [
        ("ticket.opened", "dave"),  # by e-mail
        ("ticket.assigned", "carol"),  # by the login table
        ("ticket.commented", "carol"),
        ("ticket.resolved", "carol"),
        ("ticket.reopened", "dave"),
        ("ticket.resolved", "carol"),
    ]
    opened = _imported(program, ticket)[0]
    assert opened.payload["component"] == "gateway"  # the group, through the groups table
    assert opened.payload["category"] == "it-broke"
    assert opened.payload["description"] == "the answers are random"
    assert opened.payload["external"] == f"{zammad.url}/#ticket/zoom/34"
    assert _steps(program, f"zammad:{host}#20035") == [("ticket.opened", None)]
    assert report.unmapped == {"ext@vendor.example <ext@vendor.example>": 1}
    assert dict(report.skipped)[f"zammad:{host}#20036"].startswith("no component")
    assert any("page=2" in path for path, _ in zammad.requests)  # three tickets, two a page


def test_importing_twice_changes_nothing_and_a_reopen_at_the_source_comes_in(
    on_database: str,
    _isolated: Path,
    github: StandInGitHub,
    zammad: StandInZammad,
    request: pytest.FixtureRequest,
) -> None:
    program = Program.init(_isolated, "Acme", "lena")
    request.addfinalizer(program.close)  # PostgreSQL: no connection left to the collector
    enrol(program, "alice", email="alice@acme.test")
    enrol(program, "carol", email="carol@acme.test")
    config = _isolated / "inhouse.toml"
    config.write_text(config.read_text() + LOGINS.replace('"carol"', '"alice"'))

    import_github(program, "acme/help", label="support", api_url=github.url)
    import_zammad(program, zammad.url, per_page=2)
    count = len(program.state().facts)
    again = import_github(program, "acme/help", label="support", api_url=github.url)
    assert again.recorded == [] and again.already == 9
    assert import_zammad(program, zammad.url, per_page=2).recorded == []
    assert len(program.state().facts) == count

    github.event(1, "reopened", by="alice-gh", at="2026-10-09T09:00:00Z")
    zammad.change(34, "state", by=10, before="closed", after="open", at="2026-10-09T10:00:00Z")
    new = import_github(program, "acme/help", label="support", api_url=github.url).recorded
    new += import_zammad(program, zammad.url, per_page=2).recorded
    assert [(f.kind, f.payload["at"]) for f in new] == [
        ("ticket.reopened", "2026-10-09T09:00:00Z"),
        ("ticket.reopened", "2026-10-09T10:00:00Z"),
    ]
    assert len(program.state().facts) == count + 2


def test_the_token_reaches_no_fact_no_log_and_no_output(
    program: Program, github: StandInGitHub, zammad: StandInZammad
) -> None:
    runner = CliRunner()
    env = lead_env(program)
    args = ["support", "import", "github", "acme/help", "--label", "support"]
    first = runner.invoke(inhouse, [*args, "--api-url", github.url], env=env)
    assert first.exit_code == 0, first.output
    assert "gh:acme/help#2: a pull request" in first.output
    assert "mallory: 1 step" in first.output
    second = runner.invoke(inhouse, ["support", "import", "zammad", zammad.url, "--json"], env=env)
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["tickets"] == 3
    # the token went to the services, in their own auth headers …
    assert ("Bearer " + GH_TOKEN) in {auth for _, auth in github.requests}
    assert ("Token token=" + ZAMMAD_TOKEN) in {auth for _, auth in zammad.requests}
    # … and nowhere else
    log = runner.invoke(inhouse, ["audit", "log", "--json"], env=env)
    assert log.exit_code == 0 and "ticket.opened" in log.output
    facts = json.dumps([f.payload for f in program.state().facts])
    for text in (facts, log.output, first.output, second.output):
        assert GH_TOKEN not in text and ZAMMAD_TOKEN not in text


def test_a_wrong_token_is_a_clear_error_and_records_nothing(
    program: Program, github: StandInGitHub, zammad: StandInZammad, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(program.state().facts)
    runner = CliRunner()
    env = {**lead_env(program), "GITHUB_TOKEN": "ghp_wrong0token", "ZAMMAD_TOKEN": "wrong-z"}
    args = ["support", "import", "github", "acme/help", "--label", "support"]
    result = runner.invoke(inhouse, [*args, "--api-url", github.url], env=env)
    assert result.exit_code != 0
    assert "GitHub answered 401 Unauthorized" in result.output
    assert "nothing was recorded" in result.output and "ghp_wrong0token" not in result.output
    result = runner.invoke(inhouse, ["support", "import", "zammad", zammad.url], env=env)
    assert result.exit_code != 0 and "Zammad answered 401" in result.output
    assert "wrong-z" not in result.output
    assert len(program.state().facts) == before

    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(ConfigError, match="GITHUB_TOKEN is not set"):
        import_github(program, "acme/help", label="support", api_url=github.url)
    assert len(program.state().facts) == before


def test_only_the_support_owner_or_a_lead_imports_and_the_login_table_names_enrolled_people(
    program: Program, github: StandInGitHub, _isolated: Path
) -> None:
    # the cheapest dishonest way: a pilot user importing steps in other people's names
    mallory = enrol(program, "mallory", email="mallory@acme.test")
    with pytest.raises(NotAllowed, match="neither a support owner nor a rollout lead"):
        import_github(mallory, "acme/help", label="support", api_url=github.url)
    assert not _imported(program)
    # a support owner may
    owner = enrol(program, "sam", roles=["support-owner"])
    assert import_github(owner, "acme/help", label="support", api_url=github.url).recorded

    # the login table cannot map a source account to someone who is not enrolled
    config = _isolated / "inhouse.toml"
    config.write_text(config.read_text().replace('alice-gh = "alice"', 'alice-gh = "zoe"'))
    with pytest.raises(ConfigError, match=r"support\.import\.github\.logins\.alice-gh: 'zoe'"):
        import_github(program, "acme/help", label="support", api_url=github.url)
    config.write_text(config.read_text() + '\n[support.import.github]\nlabel = "x"\n')
    with pytest.raises(ConfigError, match=r"support\.import\.github\.label"):
        import_github(program, "acme/help", label="support", api_url=github.url)
