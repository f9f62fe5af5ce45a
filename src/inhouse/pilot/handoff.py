"""Play 4's handoff artifact, written to one folder: what the pilot taught (``findings.md``), its
champions and the candidates the measurements suggest (``champions.md``), and the prompt
library's export (``prompts/``, one YAML per prompt, stable diffs). The receiving owner reads
the folder before accepting the handoff (``inhouse handoff accept``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inhouse.location import safe_join
from inhouse.pilot.champions import Suggestions, suggest_champions
from inhouse.pilot.findings import FINDING_KINDS, Finding, list_findings
from inhouse.pilot.library_files import export_prompts
from inhouse.program.state import DEMO_NOTE

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["HANDOFF_DIR", "HandoffPack", "write_handoff_pack"]

HANDOFF_DIR = "pilot-handoff"


@dataclass(frozen=True)
class HandoffPack:
    folder: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _findings_md(program_name: str, findings: list[Finding]) -> str:
    lines = [f"# What the pilot taught — {program_name}", ""]
    if not findings:
        lines.append('No findings recorded yet (`inhouse pilot finding "…" --kind docs`).')
    for kind in FINDING_KINDS:
        mine = [f for f in findings if f.kind == kind]
        if not mine:
            continue
        lines += [f"## {kind}", ""]
        for item in mine:
            note = f" — {item.note}" if item.note else ""
            lines.append(f"- {item.finding}{note} ({item.by}, {item.day}, fact #{item.id})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _champions_md(program_name: str, found: Suggestions) -> str:
    lines = [
        f"# Champions — {program_name}",
        "",
        f"Signals measured from {found.since} to {found.until}: active days through the "
        "gateway, library prompts other people used, help given.",
        "",
    ]
    lines += [f"- note: {note}" for note in found.notes]
    if found.notes:
        lines.append("")
    if not found.teams:
        lines.append("No pilot teams yet.")
    for team in found.teams:
        named = ", ".join(team.champions) or "none named yet"
        lines += [f"## {team.team}", "", f"Champion: {named}", ""]
        lines += ["| person | active days | prompts others use | used by | fixes confirmed |"]
        lines += ["|---|---|---|---|---|"]
        for c in team.candidates:
            tickets = "not measured" if c.tickets is None else str(c.tickets)
            lines.append(
                f"| {c.person}{' (champion)' if c.champion else ''} | {c.active_days} | "
                f"{', '.join(c.prompts) or '-'} | {', '.join(c.reused_by) or '-'} | {tickets} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _demo_said(text: str, demo: bool) -> str:
    """``text`` (a markdown page), saying under its title that the program is a demo."""
    if not demo:
        return text
    title, rest = text.split("\n", 1)
    return f"{title}\n\n> **Demo program.** {DEMO_NOTE}.\n{rest}"


def write_handoff_pack(program: Program, out: str | Path = HANDOFF_DIR) -> HandoffPack:
    """Write findings.md, champions.md and the library's export into ``out`` (inside the
    program folder; default ``pilot-handoff/``)."""
    folder = safe_join(program.folder, out)
    folder.mkdir(parents=True, exist_ok=True)
    state = program.state()
    name = state.name
    now = program.clock()  # the findings and the champions as of one moment
    findings = folder / "findings.md"
    text = _findings_md(name, list_findings(program, now))
    findings.write_text(_demo_said(text, state.demo), encoding="utf-8")
    champions = folder / "champions.md"
    text = _champions_md(name, suggest_champions(program, now))
    champions.write_text(_demo_said(text, state.demo), encoding="utf-8")
    prompts = export_prompts(program, folder / "prompts")
    notes = [] if prompts else ["the prompt library is empty: nothing exported to prompts/"]
    return HandoffPack(folder, [findings, champions, *prompts], notes)
