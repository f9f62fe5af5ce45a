"""inhouse agents: local agents' gateway keys, their tool boundaries, and a dry run of a
proposed boundary over the tool calls the gateway recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from inhouse import figures
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    print_json,
    print_rows,
)

app = Typer()


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Every gateway key bound to an agent: its person, its boundary (policy.agents.NAME in
    inhouse.toml: tools, argument constraints, on_disallowed_tool), whether that boundary is
    enforced (the key is active and the tools granted match today's allowlist) and its recorded
    tool calls."""
    from dataclasses import asdict

    from inhouse.support.agents import agent_keys

    rows = [asdict(view) for view in agent_keys(open_program(program))]
    columns = ("agent", "key", "person", "tools", "enforced", "tool calls")
    print_rows(
        rows,
        json=json,
        columns=columns,
        cells=_agent_row,
        empty="No agent keys yet: a lead binds a gateway key to an agent with `inhouse keys "
        "issue PERSON --agent NAME`, its boundary [policy.agents.NAME] in inhouse.toml.",
    )


def _agent_row(row: dict[str, Any]) -> tuple[str, ...]:
    boundary = row["boundary"]
    tools = "(none)"
    if boundary is not None:
        tools = (
            ", ".join(
                name + (f" ({', '.join(rules)})" if rules else "")
                for name, rules in boundary["tools"].items()
            )
            or "(no tools)"
        )
        tools += f"; other tools: {boundary['on_disallowed_tool']}"
    enforced = ("yes, " if row["enforced"] else "no: ") + row["why"]
    calls = str(row["tool_calls"])
    if row["tool_calls_source"] != "sealed":
        calls += " (unsigned: the usage log's word, the gateway's key is not here)"
    elif row["tool_calls_unsealed"]:
        calls += f" ({row['tool_calls_unsealed']} more in rows the gateway did not seal)"
    return (row["agent"], row["key_id"], row["person"], tools, enforced, calls)


@app.command("dry-run")
def dry_run(
    agent: Annotated[str, typer.Argument(help="The agent (policy.agents.NAME in inhouse.toml).")],
    boundary: Annotated[
        Path,
        typer.Option(
            "--boundary",
            help="A TOML file: the proposed boundary in the shape of policy.agents.NAME "
            "(tools, on_disallowed_tool), or an inhouse.toml holding it.",
        ),
    ],
    since: Annotated[
        str | None, typer.Option(help="Only calls on or after this UTC day (YYYY-MM-DD).")
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Replay every tool call recorded for AGENT against a proposed boundary, with the gateway's
    own checker: which calls it would block (and why) and which it would allow, before anyone
    enforces it. Nothing is recorded; nothing changes."""
    from dataclasses import asdict

    from inhouse.support.agents import dry_run as run
    from inhouse.support.agents import load_proposed_boundary

    opened = open_program(program)
    report = run(opened, agent, load_proposed_boundary(boundary, agent), since=since)
    if json:
        print_json(report.to_dict())
        return
    console = out_console()
    window = f" since {since}" if since else ""
    if report.not_sealed:
        console.print(
            f"{figures.count(len(report.not_sealed), 'requests')} left out: their rows are not "
            "sealed by the gateway as they stand (written or edited by someone else): "
            f"{literal(', '.join(report.not_sealed[:10]))}"
            + (
                f", and {literal(len(report.not_sealed) - 10)} more"
                if len(report.not_sealed) > 10
                else ""
            )
        )
    elif report.source != "sealed":
        console.print(
            "Replayed from the usage log as it stands, unsigned: the gateway's key is not on "
            "this host to check its seal, and anyone with database access can write those rows."
        )
    if not report.requests:
        console.print(
            f"No tool calls recorded for agent {literal(agent)}{literal(window)}: nothing to "
            "replay."
        )
        return
    console.print(
        f"Agent {literal(agent)}{literal(window)}: {figures.count(report.requests, 'requests')} "
        "replayed; the "
        "proposed boundary "
        f"would block {figures.count(len(report.blocked), 'calls')} and allow "
        f"{literal(len(report.allowed))}"
        + (f"; {literal(len(report.undecided))} undecided" if report.undecided else "")
        + "."
    )
    for title, calls in (
        ("Would block", report.blocked),
        ("Undecided", report.undecided),
        ("Would allow", report.allowed),
    ):
        if calls:
            console.print(f"\n{literal(title)}:")
            print_rows(
                [asdict(c) for c in calls],
                json=False,
                columns=("request", "at", "where", "tool", "arguments", "verdict", "why"),
                cells=_call_row,
            )
    for why, count in report.names_only.items():
        console.print(
            f"\n{figures.count(count, 'calls')} judged on tool and argument names only: "
            f"{literal(why)}."
        )
    if report.not_replayed:
        console.print(
            f"{figures.count(report.not_replayed, 'calls')} carried back from earlier answers "
            "were not replayed "
            "(the gateway judges a call when the model makes it)."
        )


def _call_row(row: dict[str, Any]) -> tuple[str, ...]:
    if row["arguments"] is not None:
        arguments = row["arguments"]
    elif row["argument_names"] is not None:
        arguments = "names: " + ", ".join(row["argument_names"])
    else:
        arguments = ""
    why = row["reason"] or ""
    if row["argument"]:
        why = f"{row['argument']}: {why}"
    return (row["request_id"], row["at"][:19], row["where"], row["tool"], arguments,
            row["verdict"], why)  # fmt: skip
