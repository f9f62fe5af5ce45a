"""Render a playbook as Markdown: the plays, each check's rule (its docstring) and parameters,
and the fact kinds the checks read. ``docs/playbook.md`` is this output for the shipped
playbook; a test keeps it current."""

from __future__ import annotations

from inhouse.program.checks import registry
from inhouse.program.facts import FACT_KINDS
from inhouse.program.playbook import CheckRef, Playbook

__all__ = ["playbook_markdown"]


def _ref(ref: CheckRef) -> str:
    check = registry[ref.check]
    params = ", ".join(f"{k}={v}" for k, v in ref.params.items())
    reads = ", ".join(f"`{kind}`" for kind in check.reads) or "the roster"
    extra = f" Parameters: {params}." if params else ""
    return f"- **{ref.title}** — `{ref.check}`: {check.doc} Reads {reads}.{extra}"


def playbook_markdown(book: Playbook) -> str:
    lines = [
        f"# {book.title} (`{book.name}` v{book.version})",
        "",
        "Generated from the playbook file and the checks' own docstrings by "
        "`inhouse playbook show --markdown`; do not edit by hand.",
        "",
    ]
    for number, play in enumerate(book.plays, 1):
        rule = {"same": "the same person as", "different": "a different person from"}.get(
            play.owner.previous
        )
        owner = f"{play.owner.who} (role `{play.owner.role.value}`)"
        if rule:
            owner += f"; {rule} play {number - 1}'s owner"
        lines += [
            f"## {number}. {play.title} (`{play.id}`)",
            "",
            play.purpose,
            "",
            f"Owner: {owner}.",
            "",
        ]
        lines += ["Trigger:", "", *[_ref(ref) for ref in play.trigger], ""]
        label = "Healthy period (ongoing):" if play.ongoing else "Exit (deliverables):"
        lines += [label, "", *[_ref(ref) for ref in play.exit], ""]
        if play.hands_on:
            lines += [f"Hands on: {play.hands_on}.", ""]
    lines += ["## Reach guards", ""]
    for reach, gate in book.reach.items():
        lines.append(
            f"- widening access to **{reach.value}** needs play {book.number(gate)} (`{gate}`) "
            "and every play before it to have exited"
        )
    kinds = ", ".join(f"`{k}`" for k in book.governance_facts)
    lines += ["", f"Governance facts flagged before real usage: {kinds}.", "", "## Fact kinds", ""]
    lines += ["| kind | fields | measured by | what |", "|---|---|---|---|"]
    for spec in FACT_KINDS.values():
        fields = ", ".join(spec.fields)
        lines.append(
            f"| `{spec.name}` v{spec.version} | {fields} | {spec.produced_by} "
            f"| {spec.description} |"
        )
    return "\n".join(lines) + "\n"
