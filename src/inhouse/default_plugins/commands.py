"""The built-in command groups of ``inhouse``.

Each group lives in its own module under :mod:`inhouse.cli`, named for it; those modules import
only Typer at the top and pull the engine in inside the command, so ``inhouse --help`` stays
fast. Add a group by adding a line.
"""

from __future__ import annotations

from inhouse.hookspecs import CommandGroup, hookimpl

BUILTIN_GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("inhouse.cli.program:app"),
    CommandGroup("inhouse.cli.prove:app"),
    CommandGroup("inhouse.cli.bench:app"),
    CommandGroup(
        "inhouse.cli.people:app", "person", "Who takes part: invitations, roles and keys."
    ),
    CommandGroup(
        "inhouse.cli.signin:app",
        "sign-in",
        "Who you are, vouched for by your organisation's sign-in (OpenID Connect).",
    ),
    CommandGroup("inhouse.cli.access:app", "access", "Ask to get in, in your own name."),
    CommandGroup(
        "inhouse.cli.evidence:app",
        "evidence",
        "Carry signed evidence between machines (DSSE envelopes).",
    ),
    CommandGroup(
        "inhouse.cli.facts:app",
        "fact",
        "Evidence: list facts, or attest one where nothing measures it.",
    ),
    CommandGroup(
        "inhouse.cli.plays:app",
        "play",
        "Start a play once its trigger holds and its handoff is accepted.",
    ),
    CommandGroup(
        "inhouse.cli.handoffs:app",
        "handoff",
        "Hand a play's artifact to the next owner, who confirms it.",
    ),
    CommandGroup(
        "inhouse.cli.waivers:app", "waiver", "Let a refused anti-pattern through, on the record."
    ),
    CommandGroup("inhouse.cli.audit:app", "audit", "Prove the event log untampered; read it."),
    CommandGroup("inhouse.cli.playbook:app", "playbook", "Show or validate playbook files."),
    CommandGroup(
        "inhouse.cli.runtime:app", "runtime", "The embedded model runtime: serve, status, stop."
    ),
    CommandGroup(
        "inhouse.cli.models:app", "models", "Model files: list, pull, verify, make the test model."
    ),
    CommandGroup(
        "inhouse.cli.gateway:app",
        "gateway",
        "The OpenAI-compatible gateway: serve, status, rollup, vouch.",
    ),
    CommandGroup(
        "inhouse.cli.keys:app",
        "keys",
        "Gateway keys: a lead grants, the person fetches (shown once); revoke, list.",
    ),
    CommandGroup(
        "inhouse.cli.baseline:app", "baseline", "Play 2: lock, install script, docs, verify."
    ),
    CommandGroup(
        "inhouse.cli.workflow:app", "workflow", "Play 3: workflows — run, test, import promptfoo."
    ),
    CommandGroup(
        "inhouse.cli.survey:app",
        "survey",
        "Play 4: the survey, would you miss it? (Sean Ellis) — open, answer, results.",
    ),
    CommandGroup(
        "inhouse.cli.usage:app",
        "usage",
        "Your own word on your use of the gateway: confirm the days its figures give you.",
    ),
    CommandGroup(
        "inhouse.cli.pilot:app",
        "pilot",
        "Play 4: the pilot — roster, enablement, guides, adoption, champions, findings.",
    ),
    CommandGroup(
        "inhouse.cli.indicators:app",
        "indicators",
        "Play 6: leading and lagging indicators per period, reference prices, minutes saved.",
    ),
    CommandGroup(
        "inhouse.cli.finding:app",
        "finding",
        "Play 6: findings to feed back, closed only by a change that names them.",
    ),
    CommandGroup(
        "inhouse.cli.prompts:app",
        "prompts",
        "Play 4's shared prompt library: versions, labels, export to git, measured use.",
    ),
    CommandGroup(
        "inhouse.cli.support:app",
        "support",
        "Play 5: the support queue, imports, inventory and drift.",
    ),
    CommandGroup(
        "inhouse.cli.agents:app",
        "agents",
        "Play 5: local agents — their keys, boundaries and a dry run of a proposed one.",
    ),
    CommandGroup(
        "inhouse.cli.review:app", "review", "Play 5: the periodic review — schedule, hold, status."
    ),
    CommandGroup(
        "inhouse.cli.demo:app",
        "demo",
        "The sample program's files (trial, data, workflow), as `make demo` writes them.",
    ),
    CommandGroup(
        "inhouse.cli.web:app",
        "web",
        "The dashboard: serve it; sign in to it with your own key.",
    ),
)


@hookimpl
def inhouse_commands() -> tuple[CommandGroup, ...]:
    return BUILTIN_GROUPS
