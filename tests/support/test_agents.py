"""Agent boundaries as governance (play 5): the gateway records an agent key's tool calls (the
real gateway in-process, in front of a stand-in upstream that answers with tool calls), `inhouse
agents list` shows each agent key and whether its boundary is enforced, `inhouse agents dry-run`
replays the recorded calls against a proposed boundary with the gateway's own checker, and the
`agent-boundaries` check counts only boundaries measured at grant time."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.gateway.toolcalls import NAMES_ONLY
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.program import Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from tests.gateway.harness import (
    LEAD,
    auth,
    chat,
    digest_of,
    in_process,
    key_for,
    make_program,
    model_file,
    usage_rows,
    weights_root,
)
from tests.gateway.toolcall_standin import ToolCallStandin
from tests.people import enrol, vouch_for_gateway_host

runner = CliRunner()
CARD = "4111 1111 1111 1111"
READ = {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
SEARCH = {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}
BOUNDARIES = {
    "reader": {
        "tools": {"read_file": {"path": {"path_prefix": ["/srv/docs"]}}, "search": {}},
    },
    "idle": {"tools": ["search"]},
}


def _config(store_bodies: bool) -> dict[str, Any]:
    return {
        "data_rules": {
            "default": "allow",
            "classes": {"card": "block"},
            "models": {"tiny": {"store_bodies": store_bodies, "retention_days": 30}},
        },
        "policy": {"agents": BOUNDARIES},
    }


def _program(folder: Path, url: str, *, store_bodies: bool = True) -> Any:
    weights = model_file(folder)
    runtimes = {"local": {"family": "openai", "url": url, "model_path": str(weights)}}
    return make_program(folder, runtimes, {"tiny": digest_of(weights)}, extra=_config(store_bodies))


async def _agent_traffic(folder: Path, upstream: ToolCallStandin, key: str) -> list[int]:
    """Three requests of the reader agent: one answered with an allowed call (the request also
    carries an earlier call back), one streamed whose call leaves the boundary (blocked), one
    whose call's arguments hold a card number."""
    search = {"name": "search", "arguments": '{"query": "release notes"}'}
    earlier = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_0", "type": "function", "function": search}],
    }
    statuses = []
    async with in_process(folder) as (_, client):
        upstream.tool, upstream.arguments = "read_file", json.dumps({"path": "/srv/docs/a.md"})
        body = chat("tiny", tools=[READ, SEARCH])
        body["messages"] += [earlier, {"role": "tool", "tool_call_id": "call_0", "content": "ok"}]
        reply = await client.post("/v1/chat/completions", json=body, headers=auth(key))
        statuses.append(reply.status_code)
        upstream.arguments = json.dumps({"path": "/etc/passwd"})
        reply = await client.post(
            "/v1/chat/completions", json=chat("tiny", tools=[READ], stream=True), headers=auth(key)
        )
        statuses.append(reply.status_code)
        assert "tool_call_blocked" in reply.text  # the guard's error event ended the stream
        upstream.tool, upstream.arguments = "search", json.dumps({"query": f"card {CARD}"})
        reply = await client.post(
            "/v1/chat/completions", json=chat("tiny", tools=[SEARCH]), headers=auth(key)
        )
        statuses.append(reply.status_code)
    return statuses


def _calls(program: Any) -> list[list[dict[str, Any]]]:
    return [json.loads(r["tool_calls"]) for r in usage_rows(program) if r["tool_calls"]]


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_the_gateway_records_an_agents_tool_calls_with_arguments_where_bodies_are_stored(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with ToolCallStandin("read_file", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, agent="reader")
            person_key = key_for(program)
            assert await _agent_traffic(_isolated, upstream, key) == [200, 200, 200]
            async with in_process(_isolated) as (_, client):
                await client.post(
                    "/v1/chat/completions", json=chat("tiny", tools=[READ]),
                    headers=auth(person_key),
                )  # fmt: skip
            rows = usage_rows(program)
            # a key bound to no agent: the tools it offered and its answer called, by name only
            # (the answer's arguments carried a card: nothing of them is kept, not even names)
            assert rows[-1]["agent"] is None
            assert json.loads(rows[-1]["tool_calls"]) == [
                _entry("declared", "read_file"),
                _entry("answer", "search", withheld=NAMES_ONLY),
            ]
            assert CARD not in rows[-1]["tool_calls"]
            first, second, third, _ = _calls(program)
            assert first == [
                _entry("declared", "read_file"),
                _entry("declared", "search"),
                _entry("history", "search", '{"query": "release notes"}', ["query"], "call_0"),
                _entry("answer", "read_file", '{"path": "/srv/docs/a.md"}', ["path"], "call_1"),
            ]
            # the streamed call was blocked, and recorded: it is what a dry run replays
            assert second[-1] == _entry(
                "answer", "read_file", '{"path": "/etc/passwd"}', ["path"], "call_1"
            )
            # cut off before the runtime's usage arrived, its token counts are labelled estimates
            assert json.loads(rows[1]["policy"]) == ["tool-call-blocked", "estimated:tokens"]
            # a card in the arguments: the rules block cards, so only the names are kept
            assert third[-1]["arguments"] is None and third[-1]["argument_names"] == ["query"]
            assert "card" in third[-1]["withheld"]
            assert CARD not in json.dumps(rows)

    asyncio.run(run())


def _entry(
    where: str,
    tool: str,
    arguments: str | None = None,
    names: list[str] | None = None,
    call_id: str | None = None,
    withheld: str | None = None,
) -> dict[str, Any]:
    return {"where": where, "id": call_id, "tool": tool, "arguments": arguments,
            "argument_names": names, "withheld": withheld}  # fmt: skip


def test_without_stored_bodies_only_tool_and_argument_names_are_kept(_isolated: Path) -> None:
    async def run() -> None:
        async with ToolCallStandin("read_file", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, store_bodies=False)
            key = key_for(program, agent="reader")
            assert await _agent_traffic(_isolated, upstream, key) == [200, 200, 200]
            calls = [c for request in _calls(program) for c in request]
            assert "/srv/docs" not in json.dumps(calls) and "release" not in json.dumps(calls)
            answered = [c for c in calls if c["where"] == "answer"]
            assert [(c["tool"], c["argument_names"]) for c in answered] == [
                ("read_file", ["path"]), ("read_file", ["path"]), ("search", ["query"]),
            ]  # fmt: skip
            assert all("store no bodies for model 'tiny'" in c["withheld"] for c in answered)
            # the dry run says it judged on names only, and never guesses a value
            proposal = _isolated / "proposal.toml"
            proposal.write_text(tomli_w.dumps(
                {"tools": {"read_file": {"path": {"path_prefix": ["/srv/docs"]}}}}))  # fmt: skip
            result = _cli("agents", "dry-run", "reader", "--boundary", str(proposal),
                          "--program", str(_isolated), "--json")  # fmt: skip
            assert result.exit_code == 0, result.output
            report = json.loads(result.output)
            assert [(c["tool"], c["verdict"]) for c in report["undecided"]] == [
                ("read_file", "undecided"), ("read_file", "undecided"),
            ]  # fmt: skip
            assert [(c["where"], c["tool"], c["reason"]) for c in report["blocked"]] == [
                ("declared", "search", "declared: not on the tool allowlist of agent 'reader' "
                 "(the request refused)"),
                ("declared", "search", "declared: not on the tool allowlist of agent 'reader' "
                 "(the request refused)"),
                ("answer", "search", "not on the tool allowlist of agent 'reader'"),
            ]  # fmt: skip
            assert all(c["judged_on"] == "names" for c in report["blocked"][2:])
            (why,) = report["names_only"]
            assert "store no bodies" in why and report["names_only"][why] == 3
            text = _cli("agents", "dry-run", "reader", "--boundary", str(proposal),
                        "--program", str(_isolated))  # fmt: skip
            assert "judged on tool and argument names only" in text.output

    asyncio.run(run())


def test_agents_list_shows_each_agent_key_its_boundary_and_whether_it_is_enforced(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with ToolCallStandin("read_file", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, agent="reader")
            key_for(program)  # a person's own key is no agent key
            await _agent_traffic(_isolated, upstream, key)
            result = _cli("agents", "list", "--program", str(_isolated), "--json")
            assert result.exit_code == 0, result.output
            (row,) = json.loads(result.output)
            assert (row["agent"], row["person"], row["enforced"]) == ("reader", LEAD, True)
            assert row["boundary"] == {
                "tools": {"read_file": {"path": {"path_prefix": ["/srv/docs"]}}, "search": {}},
                "on_disallowed_tool": "refuse",
            }
            assert row["granted_tools"] == ["read_file", "search"]
            assert row["tool_calls"] == 4 + 2 + 2  # declared, carried back and answered
            # the allowlist edited after the grant: nobody granted it, so it is not enforced
            config = _isolated / "inhouse.toml"
            settings = tomllib.loads(config.read_text())
            settings["policy"]["agents"]["reader"]["tools"]["fetch"] = {}
            config.write_text(tomli_w.dumps(settings))
            result = _cli("agents", "list", "--program", str(_isolated), "--json")
            (row,) = json.loads(result.output)
            assert not row["enforced"]
            assert row["why"] == "changed since the key was granted: re-grant"
            text = _cli("agents", "list", "--program", str(_isolated))
            assert "re-grant" in text.output and "reader" in text.output

    asyncio.run(run())


def test_a_dry_run_lists_exactly_the_calls_a_proposed_boundary_would_block(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with ToolCallStandin("read_file", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, agent="reader")
            await _agent_traffic(_isolated, upstream, key)
            before = len(program.events())
            rows_before = usage_rows(program)
            proposal = _isolated / "proposal.toml"
            proposal.write_text(tomli_w.dumps({
                "on_disallowed_tool": "strip",
                "tools": {"read_file": {"path": {"path_prefix": ["/srv/docs/public"]}},
                          "search": {"query": {"regex": "[a-z ]+"}}},
            }))  # fmt: skip
            result = _cli("agents", "dry-run", "reader", "--boundary", str(proposal),
                          "--program", str(_isolated), "--json")  # fmt: skip
            assert result.exit_code == 0, result.output
            report = json.loads(result.output)
            assert report["requests"] == 3 and report["not_replayed"] == 1
            blocked = [(c["tool"], c["arguments"], c["argument"], c["reason"])
                       for c in report["blocked"]]  # fmt: skip
            assert blocked == [
                ("read_file", '{"path": "/srv/docs/a.md"}', "path",
                 "'/srv/docs/a.md' is outside '/srv/docs/public'"),
                ("read_file", '{"path": "/etc/passwd"}', "path",
                 "'/etc/passwd' is outside '/srv/docs/public'"),
            ]  # fmt: skip
            assert all(c["verdict"] == "block" and c["where"] == "answer"
                       for c in report["blocked"])  # fmt: skip
            allowed = [(c["where"], c["tool"]) for c in report["allowed"]]
            assert allowed == [("declared", "read_file"), ("declared", "search"),
                               ("declared", "read_file"), ("declared", "search")]  # fmt: skip
            # the card search's arguments were never stored: its constrained query is undecided
            (undecided,) = report["undecided"]
            assert (undecided["tool"], undecided["argument"]) == ("search", "query")
            assert [c["request_id"] for c in report["blocked"]] == [
                r["request_id"] for r in rows_before[:2]
            ]
            # a boundary without search: the declared search is stripped, its answer blocked
            proposal.write_text(tomli_w.dumps({"tools": ["read_file"]}))
            report = json.loads(_cli("agents", "dry-run", "reader", "--boundary", str(proposal),
                                     "--program", str(_isolated), "--json").output)  # fmt: skip
            assert [(c["where"], c["tool"], c["verdict"]) for c in report["blocked"]] == [
                ("declared", "search", "refuse"), ("declared", "search", "refuse"),
                ("answer", "search", "block"),
            ]  # fmt: skip
            # nothing recorded, nothing changed
            assert len(program.events()) == before and usage_rows(program) == rows_before
            # --since: a later day has nothing to replay
            late = _cli("agents", "dry-run", "reader", "--boundary", str(proposal),
                        "--since", "2999-01-01", "--program", str(_isolated))  # fmt: skip
            assert late.exit_code == 0 and "No tool calls recorded" in late.output

    asyncio.run(run())


def test_a_dry_run_on_an_agent_without_calls_and_the_refusals(_isolated: Path) -> None:
    async def run() -> None:
        async with ToolCallStandin("search", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key_for(program, agent="idle")
            proposal = _isolated / "proposal.toml"
            proposal.write_text(tomli_w.dumps({"tools": ["search"]}))
            where = ("--program", str(_isolated))
            result = _cli("agents", "dry-run", "idle", "--boundary", str(proposal), *where,
                          "--json")  # fmt: skip
            assert result.exit_code == 0, result.output
            report = json.loads(result.output)
            assert (report["requests"], report["blocked"], report["allowed"]) == (0, [], [])
            text = _cli("agents", "dry-run", "idle", "--boundary", str(proposal), *where)
            assert "No tool calls recorded for agent idle" in text.output
            unknown = _cli("agents", "dry-run", "ghost", "--boundary", str(proposal), *where)
            assert unknown.exit_code != 0
            assert "no gateway key was ever bound to agent 'ghost'" in unknown.output
            proposal.write_text(tomli_w.dumps({"tools": {"search": {"q": {"regex": "("}}}}))
            bad = _cli("agents", "dry-run", "idle", "--boundary", str(proposal), *where)
            assert bad.exit_code != 0 and "not a valid RE2 pattern" in bad.output
            day = _cli("agents", "dry-run", "idle", "--boundary", str(proposal), "--since",
                       "yesterday", *where)  # fmt: skip
            assert day.exit_code != 0

    asyncio.run(run())


def _check(program: Any) -> Any:
    return evaluate("agent-boundaries", build_context(program.state(), program.clock()))


def test_agent_boundaries_counts_only_boundaries_measured_at_grant(_isolated: Path) -> None:
    async def run() -> None:
        async with ToolCallStandin("search", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            assert _check(program).outcome is Outcome.NOT_APPLICABLE
            key_for(program, agent="reader")
            result = _check(program)
            assert result.outcome is Outcome.PASS, result.reason
            assert "reader: read_file, search (granted by lena)" in result.reason
            # forgery: an agent registered, then a hand-typed boundary for it (a person's word)
            bob = enrol(program, "bob", team="ops")
            bob.record_fact(None, "agent.registered", {"agent": "rogue"},
                            provenance=Provenance.MEASURED, collector="inhouse keys")  # fmt: skip
            bob.record_fact(None, "agent.boundary", {"agent": "rogue", "tools": ["search"]},
                            provenance=Provenance.ATTESTED, comment="it only searches")  # fmt: skip
            result = _check(program)
            assert result.outcome is Outcome.FAIL
            assert "no enforced boundary for agent rogue" in result.reason
            assert "reader" not in result.reason.split(":")[0]

    asyncio.run(run())


def widen_reader_and_review(program: Any, folder: Path) -> None:
    """The lead widens ``[policy.agents.reader]`` with a shell after its key was granted; the
    gateway's own drift review records the allowlists it now serves, and vic (who uses the
    gateway and never led) vouched for its host, so what it signs counts with the sign-in."""
    from inhouse.gateway.rollup import service_program
    from inhouse.support.drift import COLLECTOR

    config = folder / "inhouse.toml"
    tables = tomllib.loads(config.read_text(encoding="utf-8"))
    tables["policy"]["agents"]["reader"]["tools"]["shell"] = {}
    config.write_text(tomli_w.dumps(tables), encoding="utf-8")
    served = {"reader": ["read_file", "search", "shell"], "idle": ["search"]}
    service_program(program).record_fact(
        None, "drift.review", {"lock_hash": "sha256:" + "0" * 64, "passed": True,
                               "agents": served},
        provenance=Provenance.MEASURED, collector=COLLECTOR,
    )  # fmt: skip
    vouch_for_gateway_host(enrol(program, "vic", team="ops"))


def test_a_boundary_widened_after_its_grant_fails_once_the_gateway_reviews_what_it_serves(
    _isolated: Path,
) -> None:
    """The boundary on record is the one measured when the agent's key was granted; the lead
    then widens ``[policy.agents.reader]`` in inhouse.toml, and the gateway enforces that.
    The gateway's drift review, signed by its own key, records the allowlists it serves: the
    check fails on the difference until the key is granted again."""

    async def run() -> None:
        async with ToolCallStandin("search", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key_for(program, agent="reader")
            assert _check(program).outcome is Outcome.PASS
            widen_reader_and_review(program, _isolated)
            result = _check(program)
            assert result.outcome is Outcome.FAIL
            assert "reader: it serves read_file, search, shell, granted read_file, search" in (
                result.reason
            )
            key_for(program, agent="reader")  # granted again: the boundary on record is it
            assert _check(program).outcome is Outcome.PASS

    asyncio.run(run())


def test_a_second_gateway_keys_review_hides_no_widened_boundary(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each active gateway key's latest review counts, each against the grants it came after:
    a review a second key (a lead's VM) signs with the granted allowlist does not hide the
    real gateway's review of the widened one; an agent granted after the latest review is
    not called unserved."""
    from inhouse.gateway.rollup import service_program
    from inhouse.identity import SigningKey
    from inhouse.support.drift import COLLECTOR
    from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER

    def review(program: Any, agents: dict[str, list[str]]) -> None:
        program.record_fact(None, "drift.review", {"lock_hash": "sha256:" + "0" * 64,
                                                   "passed": True, "agents": agents},
                            provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip

    async def run() -> None:
        async with ToolCallStandin("search", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key_for(program, agent="reader")
            review(service_program(program), {"reader": ["read_file", "search"]})
            vic = enrol(program, "vic", team="ops")  # uses the gateway, never led
            vouch_for_gateway_host(vic)  # what the gateway signs counts from then on
            key_for(program, agent="idle")  # granted after the review: not "unserved"
            assert _check(program).outcome is Outcome.PASS
            review(service_program(program), {"reader": ["read_file", "search", "shell"],
                                              "idle": ["search"]})  # fmt: skip
            monkeypatch.setenv(OTHER_COMPUTER, "lena-vm-1")
            second = SigningKey.generate()
            ENROL_SERVICE_HERE(program, "gateway", second)
            monkeypatch.delenv(OTHER_COMPUTER)
            vouch_for_gateway_host(vic, second)  # vic uses both, and vouches for both
            review(program.using(second), {"reader": ["read_file", "search"], "idle": ["search"]})
            result = _check(program)
            assert result.outcome is Outcome.FAIL and "it serves read_file, search, shell" in (
                result.reason
            )

    asyncio.run(run())


def test_tool_calls_typed_into_the_usage_log_are_shown_as_not_sealed(_isolated: Path) -> None:
    """The forgery: someone with the database's password types an agent's row into the usage
    log, a call the proposed boundary would block. Neither `agents list` (nor the governance
    page) nor `agents dry-run` decides a check, but each shows what it reads for what it is:
    where the gateway's key is on this host, the row is left out and named as not sealed; where
    it is not, the figures say they are the usage log's unsigned word."""

    async def run() -> None:
        async with ToolCallStandin("read_file", {}, root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, agent="reader")
            await _agent_traffic(_isolated, upstream, key)
            (row, *_) = usage_rows(program)
            typed = UsageRecord(
                request_id=new_request_id(), at=row["at"], person=row["person"],
                key_id=row["key_id"], endpoint="chat/completions", model="tiny", status=200,
                agent="reader",
                tool_calls=[{"where": "answer", "id": "call_9", "tool": "read_file",
                             "arguments": '{"path": "/etc/shadow"}'}],
            )  # fmt: skip
            insert_usage(program.store, [typed])
            (listed,) = json.loads(_cli("agents", "list", "--program", str(_isolated),
                                        "--json").output)  # fmt: skip
            assert listed["tool_calls"] == 8  # the gateway's rows only
            assert listed["tool_calls_source"] == "sealed"
            assert listed["tool_calls_unsealed"] == 1
            text = " ".join(_cli("agents", "list", "--program", str(_isolated)).output.split())
            assert "1 more in rows the gateway did not seal" in text
            proposal = _isolated / "proposal.toml"
            proposal.write_text(tomli_w.dumps({"tools": {"read_file": {}, "search": {}}}))
            args = ("agents", "dry-run", "reader", "--boundary", str(proposal),
                    "--program", str(_isolated))  # fmt: skip
            report = json.loads(_cli(*args, "--json").output)
            assert report["source"] == "sealed" and report["not_sealed"] == [typed.request_id]
            assert report["blocked"] == [] and report["requests"] == 3  # the typed one: none
            said = " ".join(_cli(*args).output.split())
            assert "1 request left out: their rows are not sealed by the gateway" in said
            # where the gateway's key is not on this host, what is read says it is unsigned
            keyfile = _isolated / ".inhouse" / "keys" / "gateway.key"
            keyfile.rename(keyfile.with_suffix(".aside"))
            (listed,) = json.loads(_cli("agents", "list", "--program", str(_isolated),
                                        "--json").output)  # fmt: skip
            assert (listed["tool_calls"], listed["tool_calls_source"]) == (9, "unsigned")
            assert listed["tool_calls_unsealed"] is None
            text = " ".join(_cli("agents", "list", "--program", str(_isolated)).output.split())
            assert "(unsigned: the usage log's word" in text
            report = json.loads(_cli(*args, "--json").output)
            assert report["source"] == "unsigned" and report["requests"] == 4
            assert "Replayed from the usage log as it stands, unsigned" in " ".join(
                _cli(*args).output.split()
            )

    asyncio.run(run())


def test_a_missing_boundary_file_says_what_to_write_there(tmp_path: Path) -> None:
    """The README's `inhouse agents dry-run release-bot --boundary proposed.toml`, run as
    written, said only "no boundary file at proposed.toml": it now says what the file holds,
    with an example that loads."""
    from inhouse.errors import InvalidInput
    from inhouse.support.agents import load_proposed_boundary

    proposal = tmp_path / "proposed.toml"
    with pytest.raises(InvalidInput) as refused:
        load_proposed_boundary(proposal, "release-bot")
    said = str(refused.value)
    assert "in the shape of [policy.agents.release-bot]" in said
    assert 'docs/policy.md, "Agent tool boundaries"' in said
    example = said.split("e.g. ")[1].split(" (docs/")[0].replace(" and ", "\n")
    proposal.write_text(example + "\n", encoding="utf-8")
    assert sorted(load_proposed_boundary(proposal, "release-bot").tools) == ["search"]
