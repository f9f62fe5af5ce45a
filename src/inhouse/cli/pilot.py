"""inhouse pilot: play 4 — the roster, role tracks and their measured enablement, the guide,
champions and findings, and the handoff pack. Thin: each command parses, calls one function of
:mod:`inhouse.pilot`, and renders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from inhouse import figures
from inhouse.cli import pilot_adoption
from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    ask_before_signing,
    err_console,
    literal,
    open_program,
    out_console,
    print_json,
    print_rows,
)

app = Typer()
step_app = Typer(help="Steps of your track that only you can say you did.")
app.add_typer(step_app, name="step")

PersonArg = Annotated[str, typer.Argument(help="An enrolled person (they joined with a key).")]


def _e(text: object) -> str:
    from rich.markup import escape

    return escape(str(text))


def _user_path(folder: Path, text: str) -> Path:
    from inhouse.location import safe_join

    return safe_join(folder, Path(text).expanduser().absolute())


@app.command("add")
def add(
    person: PersonArg,
    track: Annotated[str, typer.Option("--track", help="Their role track: enablement/TRACK.yaml.")],
    program: ProgramOpt = None,
) -> None:
    """Add PERSON to the pilot on TRACK (rollout leads). Gives them the pilot-user role, which
    the scaling-before-proving guard refuses until plays 1-3 have exited and the
    organisation's sign-in is set up (or a waiver is on the record); the playbook's
    pilot-size check sets how many, from how many teams."""
    from inhouse.pilot.roster import add_member

    member = add_member(open_program(program), person, track=track)
    who = _e(member.person)
    out_console().print(
        f"Added {who} to the pilot on track {_e(member.track)} (fact #{literal(member.fact)}). "
        f"Their guide: `inhouse pilot guide {_e(member.track)} --person {who}`. "
        + _team_counts(member.person, member.team, member.says)
    )


def _team_counts(person: str, team: str, says: str | None) -> str:
    """Whether PERSON's team counts toward the pilot's spread yet, and who does what next:
    a roster with no team (invited without ``--team``) waits for a lead's correction, which
    a member's own word alone never meets."""
    from inhouse.program.playchecks.pilot import team_key

    who = _e(person)
    if not team:
        said = f" (they say {_e(says)})" if says is not None else ""
        return (
            f"The roster names no team for {who}{said}: they were invited without `--team`, so "
            f"their team counts toward the pilot's spread once a rollout lead other than them "
            f"sets it (`inhouse pilot correct-team {who} TEAM`) and {who} says the same with "
            "their own key (`inhouse pilot team TEAM`)."
        )
    if says is not None and team_key(says) == team_key(team):
        return f"{who} already says, with their own key, that they work in {_e(team)}: it counts."
    again = f" (they said {_e(says)}: they say it again)" if says is not None else ""
    return (
        f"Their team counts toward the pilot's spread once they say, with their own key, that "
        f"they work in it{again}: `inhouse pilot team {_e(team)}`."
    )


@app.command("remove")
def remove(person: PersonArg, program: ProgramOpt = None) -> None:
    """Take PERSON out of the pilot (rollout leads): the pilot-user role goes, on the record.
    Before play 5 exits (and without an active waiver of skipping play five), their gateway
    keys are revoked and unfetched grants withdrawn too: access beyond the pilot waits for
    play 5. A lead or a play's owner stays inside and keeps theirs."""
    from inhouse.pilot.roster import remove_member

    member, closed = remove_member(open_program(program), person)
    track = f" (track {member.track})" if member is not None else ""
    out_console().print(f"Removed {_e(person)} from the pilot{literal(track)}.")
    if closed:
        out_console().print(
            f"Their gateway access is taken back until play 5 exits: {_e('; '.join(closed))}."
        )


@app.command("team")
def team(
    name: Annotated[str, typer.Argument(help="The team you work in, e.g. 'support'.")],
    program: ProgramOpt = None,
) -> None:
    """Say, with your own key, which team you work in. The pilot-size check counts a member's
    team toward the pilot's spread only where their own word agrees with the team the lead's
    roster names for them: a lead's typing alone is not several teams."""
    from inhouse.pilot.roster import state_team

    fact = state_team(open_program(program), name)
    out_console().print(
        f"Recorded, in your own word: you work in {_e(fact.payload['team'])} (fact "
        f"#{literal(fact.id)})."
    )


@app.command("correct-team")
def correct_team(
    person: PersonArg,
    name: Annotated[str, typer.Argument(help="The team they work in, e.g. 'legal'.")],
    program: ProgramOpt = None,
) -> None:
    """Correct the team the roster names for PERSON (rollout leads; never your own), signed
    and on the record. The pilot's checks read it in place of the team PERSON was added with;
    it counts once PERSON says, with their own key, that they work in it (`inhouse pilot
    team TEAM`): where they said another team before, they say this one."""
    from inhouse.pilot.roster import correct_team as correct
    from inhouse.pilot.roster import team_word

    opened = open_program(program)
    fact = correct(opened, person, name)
    team = str(fact.payload["team"])
    out_console().print(
        f"The roster now names team {_e(team)} for {_e(person)} (fact #{literal(fact.id)}). "
        + _team_counts(person, team, team_word(opened, person))
    )


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """The pilot: each member's team, track, onboarded day and enablement progress."""
    from inhouse.pilot.enablement import pilot_list

    found = pilot_list(open_program(program))
    if json:
        print_json(
            {
                "members": [item.to_dict() for item in found.members],
                "role_only": found.role_only,
                "teams": found.teams,
                "limits": found.limits.__dict__,
            }
        )
        return
    print_rows(
        found.members,
        json=False,
        columns=("person", "team", "track", "onboarded", "enablement"),
        cells=lambda m: (
            m.member.person,
            _team_cell(m.member),
            m.member.track,
            f"{m.member.onboarded:%Y-%m-%d}",
            m.error
            if m.error
            else f"{m.met}/{len(m.steps)}"
            + (" done" if m.done else "")
            + (", not counted (`inhouse pilot enablement`)" if m.not_counted else ""),
        ),
    )
    out_console().print(_e(found.summary()))
    for name in found.role_only:
        out_console().print(
            f"{_e(name)} holds the pilot-user role without a track: not a member until a lead "
            f"runs `inhouse pilot add {_e(name)} --track TRACK`"
        )


def _team_cell(member: Any) -> str:
    """The roster's team, and the member's own word where it does not (yet) agree."""
    team = member.team or "-"
    if member.confirmed:
        return str(team)
    return f"{team} (not yet said)" if member.says is None else f"{team} (says {member.says})"


@app.command("tracks")
def tracks(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """The role tracks in enablement/*.yaml: title, role, steps (or why one does not load)."""
    from inhouse.pilot.tracks import track_summaries

    rows = track_summaries(open_program(program).folder)
    print_rows(
        rows,
        json=json,
        columns=("track", "title", "role", "steps"),
        cells=lambda r: (
            r["name"],
            # a track of words alone loads, but `pilot add` refuses it: say why here
            str(r.get("title") or r.get("error"))
            + (f" (`pilot add` refuses it: {r['refused']})" if r.get("refused") else ""),
            r.get("role", ""),
            ", ".join(r.get("steps", [])),
        ),
    )


@app.command("enablement")
def enablement(
    person: Annotated[
        str | None, typer.Argument(help="One member (default: everyone in the pilot).")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Record your own newly met steps and finished track as measured facts, "
            "signed with your key (only a member's own record counts).",
        ),
    ] = False,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Each member's track, step by step, checked against evidence: the gateway's usage log,
    facts a collector signed, or (for an attested step) the member's own signed word. Anyone
    may look; each member records their own progress with --record and their own key."""
    from inhouse.pilot.enablement import progress, record_enablement

    opened = open_program(program)
    recorded: list[Any] = []
    if record:
        found, recorded = record_enablement(opened, person)
    else:
        found = progress(opened, person)
    if json:
        print_json(
            {
                "members": [item.to_dict() for item in found],
                "recorded": [{"id": f.id, "kind": f.kind, **f.payload} for f in recorded],
            }
        )
        return
    console = out_console()
    if not found:
        console.print("No pilot members yet: `inhouse pilot add PERSON --track TRACK`.")
    for item in found:
        head = f"[bold]{_e(item.member.person)}[/] — track {_e(item.member.track)}"
        if item.error:
            console.print(f"{head}: [red]{_e(item.error)}[/]")
            continue
        state = "[green]done[/]" if item.done else f"{item.met}/{len(item.steps)}"
        if item.not_counted:
            state = "[yellow]done, but it does not count for play 4's pilot-enabled[/]"
        console.print(f"{head}: {state}" + (" (recorded)" if item.completed_recorded else ""))
        if item.not_counted:
            console.print(f"  [yellow]{_e(item.not_counted)}[/]")
        for step in item.steps:
            mark = "[green]✓[/]" if step.met else "[red]✗[/]"
            # a step they acted on says what is left; the step's own how would send them back
            # to do again what they did ("fetch your key and send one request" to a member
            # whose request waits only for their confirmation)
            text = step.detail if step.met or step.acted else f"{step.detail} — {step.how}"
            console.print(f"  {mark} {_e(step.id)}: {_e(step.title)}: {_e(text)}")
    for fact in recorded:
        what = fact.payload.get("step") or "track completed"
        console.print(
            f"Recorded {literal(fact.kind)} #{literal(fact.id)}: {_e(fact.payload['person'])} "
            f"{_e(what)}"
        )


@step_app.command("done")
def step_done(
    step: Annotated[str, typer.Argument(help="The step's id in your track.")],
    comment: Annotated[str, typer.Option(help="What you did, in your words.")] = "",
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Say, with your own key, that you did a step of your track that inhouse cannot measure
    (an attested step), or read why a request of yours was redacted (read-a-redaction: shows
    you). Nobody can say it for you; a measured step is found from the evidence instead."""
    from inhouse.pilot.enablement import step_done as record

    done = record(open_program(program), step, comment=comment, on_behalf_of=as_)
    for line in done.explanation:
        out_console().print(_e(line))
    out_console().print(
        f"Recorded, in your own word: {_e(done.step.id)} (fact #{literal(done.fact.id)}). `inhouse "
        "pilot enablement --record` counts it."
    )


@app.command("guide")
def guide(
    track: Annotated[str, typer.Argument(help="The role track (enablement/TRACK.yaml).")],
    person: Annotated[
        str | None,
        typer.Option("--person", help="For this person: their key's state and their progress."),
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    out: Annotated[
        str | None,
        typer.Option("--out", help="Write it here (inside the program folder) instead of stdout."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help=(
                "The gateway's URL as people reach it (default: from the \\[gateway] host "
                "and port in inhouse.toml; without the table, http://127.0.0.1:8400/v1)."
            ),
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """A one-page guide for a role track (Markdown or self-contained HTML): the gateway's base
    URL, client snippets (openai Python, curl, Continue), the blessed models, the data rules,
    the track's workflows and library prompts, and its steps."""
    from inhouse.errors import InvalidInput
    from inhouse.pilot.guide import write_guide

    if format_ not in ("md", "html"):
        raise InvalidInput(f"--format is md or html, not {format_!r}")
    opened = open_program(program)
    target = _user_path(opened.folder, out) if out else None
    text, path = write_guide(
        opened,
        track,
        person=person,
        fmt="html" if format_ == "html" else "md",
        out=target,
        base_url=base_url,
    )
    if path is None:
        typer.echo(text, nl=False)
    else:
        out_console().print(f"Wrote {_e(path)}.")
    from inhouse.program.config import read_config

    if base_url is None and "gateway" not in read_config(opened.folder):
        # a newcomer served the gateway with `--port` and handed out a guide whose snippets
        # named a port nothing listened on: the guide cannot know a flag given elsewhere
        err_console().print(
            "[yellow]note:[/yellow] inhouse.toml has no \\[gateway] table, so the guide's base "
            "URL is the default, http://127.0.0.1:8400/v1, which only a gateway on this machine "
            "at that port answers: give the gateway's host and port there (docs/gateway.md), "
            "or say where people reach it with --base-url"
        )


@app.command("champions")
def champions(
    name: Annotated[
        str | None, typer.Option("--name", help="Name this person champion (rollout leads).")
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="The team they champion.")] = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="Accept being named champion (the champion).")
    ] = False,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Candidates for champion per pilot team, from measured signals (active days, library
    prompts other people use, help given); with --name and --team, a lead names one; with
    --accept, the person named takes it on (play 5 counts a champion once they have): it shows
    what it signs and asks; no answer records nothing."""
    from inhouse.errors import InvalidInput
    from inhouse.pilot.champions import (
        accept_champion,
        champion_naming,
        lapsed_naming,
        name_champion,
        suggest_champions,
    )

    opened = open_program(program)
    if accept:
        if name is not None or team is not None:
            raise InvalidInput("--accept takes no --name or --team: you accept for yourself")
        agree = ask_before_signing(
            "Your key signs that you take this on:", "Take on the champion's part?"
        )
        fact = accept_champion(opened, agree=agree)
        if json:
            print_json({"id": fact.id, **fact.payload})
            return
        out_console().print(
            f"You accepted: champion of {_e(str(fact.payload['team']))} (fact #{literal(fact.id)})."
        )
        return
    if name is not None or team is not None:
        if name is None or team is None:
            raise InvalidInput("naming a champion needs both --name PERSON and --team TEAM")
        before = champion_naming(opened, name)
        lapsed = lapsed_naming(opened, name)
        fact = name_champion(opened, name, team=team)
        already = before is not None and fact.id == before.id
        renamed = lapsed if not already and lapsed is not None else None
        if json:
            print_json({"id": fact.id, **fact.payload, "already": already,
                        "replaces": None if renamed is None else renamed.id})  # fmt: skip
            return
        if already:
            out_console().print(
                f"{_e(name)} is already a champion of {_e(team)} (fact #{literal(fact.id)}, named "
                f"by {_e(fact.by)}): nothing recorded."
            )
            return
        from inhouse.pilot.roster import team_word
        from inhouse.program.playchecks.pilot import team_key

        said = team_word(opened, name)
        if said is not None and team_key(said) == team_key(team):
            word = f"they already said, with their own key, that they work in {_e(team)}"
        else:
            word = (
                f"have said, with their own key, that they work in {_e(team)} (`inhouse pilot "
                f"team {_e(team)}`" + ("" if said is None else f"; they said {_e(said)}") + ")"
            )
        out_console().print(
            f"Named {_e(name)} champion of {_e(team)} (fact #{literal(fact.id)}). Play 5 counts "
            f"them once they accept (`inhouse pilot champions --accept`); {word}."
        )
        if renamed is not None:
            out_console().print(
                f"Recorded anew: {_e(name)}'s naming by {_e(renamed.by)} (fact "
                f"#{literal(renamed.id)}) "
                f"does not count, as {_e(renamed.by)} held no rollout lead's role when it was "
                "signed (play 5 counts a naming its signer made as a lead)."
            )
        return
    found = suggest_champions(opened)
    if json:
        print_json(found.to_dict())
        return
    console = out_console()
    console.print(f"Signals from {literal(found.since)} to {literal(found.until)}.")
    for note in found.notes:
        console.print(f"[dim]note: {_e(note)}[/]")
    for item in found.teams:
        named = ", ".join(item.champions)
        head = f"champion: {_e(named)}" if named else f"suggested: {_e(item.suggested or '-')}"
        console.print(f"[bold]{_e(item.team)}[/] — {head}")
        for c in item.candidates:
            tickets = (
                ""
                if c.tickets is None
                else f", {figures.count(c.tickets, 'fixes')} confirmed by others"
            )
            reuse = f", prompts used by {_e(', '.join(c.reused_by))}" if c.reused_by else ""
            console.print(
                f"  {_e(c.person)}: {figures.count(c.active_days, 'active days')}{reuse}{tickets}"
            )


@app.command("finding")
def finding(
    text: Annotated[str, typer.Argument(help="What the pilot taught, in a sentence.")],
    kind: Annotated[
        str, typer.Option("--kind", help="docs, prompt, workflow, baseline or other.")
    ] = "other",
    note: Annotated[str, typer.Option(help="More context (optional).")] = "",
    program: ProgramOpt = None,
) -> None:
    """Record a finding, in your own signed word (anyone enrolled)."""
    from inhouse.pilot.findings import record_finding

    fact = record_finding(open_program(program), text, kind=kind, note=note)
    out_console().print(
        f"Recorded finding #{literal(fact.id)} ({_e(kind)}), signed by {_e(fact.by)}."
    )


@app.command("findings")
def findings(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """What the pilot taught, oldest first."""
    from inhouse.pilot.findings import list_findings

    rows = list_findings(open_program(program))
    if json:
        print_json([row.__dict__ for row in rows])
        return
    print_rows(
        rows,
        json=False,
        columns=("id", "day", "by", "kind", "finding"),
        cells=lambda f: (str(f.id), f.day, f.by, f.kind, f.finding),  # cells are data
    )


@app.command("handoff-pack")
def handoff_pack(
    out: Annotated[
        str | None,
        typer.Option("--out", help="Folder to write (inside the program; default pilot-handoff)."),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Write play 4's handoff artifact: findings.md, champions.md and the prompt library's
    export (prompts/)."""
    from inhouse.pilot.handoff import HANDOFF_DIR, write_handoff_pack

    opened = open_program(program)
    target = _user_path(opened.folder, out) if out else HANDOFF_DIR
    pack = write_handoff_pack(opened, target)
    for path in pack.files:
        out_console().print(f"Wrote {_e(path)}")
    for line in pack.notes:
        out_console().print(f"[dim]note: {_e(line)}[/]")


# `inhouse pilot adoption` has a module of its own; it joins this group here.
pilot_adoption.register(app)
