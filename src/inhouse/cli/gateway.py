"""inhouse gateway: serve the OpenAI-compatible gateway, show its status, roll up usage, vouch
for its host."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from inhouse import figures
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
    state,
    telling_service_enrolment,
)

app = Typer()


@app.command("serve")
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: the \\[gateway] table's host)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="Port (default: the \\[gateway] table's port, 8400; 0: any free one).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes sharing the port, each with a spool of its own (default: the "
            "\\[gateway] table's workers, 1); with several, set redis_url so they share limits.",
            show_default=False,
        ),
    ] = None,
    spool_dir: Annotated[
        str | None,
        typer.Option(
            help="Usage spool folder, relative to the program folder (default: the \\[gateway] "
            "table's spool_dir); each gateway process on a host needs its own.",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Serve the gateway in the foreground until Ctrl-C; usage is spooled, then flushed."""
    from inhouse.gateway import serve as run
    from inhouse.location import find_program

    folder = find_program(program or state.program)

    def listening(base_url: str) -> None:
        # said once it serves: a configuration it cannot start with is said alone
        out_console().print(
            f"inhouse gateway for {literal(folder)}; Ctrl-C stops it.\nListening: clients use "
            f"base_url {literal(base_url)} with their gateway key."
        )

    run(folder, host=host, port=port, workers=workers, spool_dir=spool_dir, announce=listening)


@app.command("status")
def status(
    context: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            help="A running gateway's base URL (default: the \\[gateway] table's host and "
            "port; your key is sent there only where they name this machine)."
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            envvar="INHOUSE_GATEWAY_KEY",
            help="Your own gateway key, as a rollout lead: the gateway then shows its details "
            "too (each node's address and why it is down, drift problems, why inhouse.lock is "
            "not what it routes, Redis's host). "
            "Without one, its public health (so too where INHOUSE_GATEWAY_KEY holds a key that "
            "is not a rollout lead's own: the pilot guide has everyone keep theirs there).",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Ask a running gateway for its health: models, nodes, drift, usage backlog, and how many
    keys it refuses to serve (inhouse keys list names them, with why). Its details (nodes'
    addresses, runtimes' errors, the lock's problem, Redis's host) are shown to a rollout
    lead's own key only."""
    import httpx

    from inhouse.errors import NotAllowed, RuntimeUnavailable
    from inhouse.gateway.config import names_this_machine, read_gateway_settings
    from inhouse.location import find_program
    from inhouse.program.config import read_config
    from inhouse.tls import certificate_hint, client_context
    from inhouse.urls import http_url

    # where the address came from, for the error: a gateway served with --port (as the README's
    # tour does) is not at the [gateway] table's port, and the error named only that port
    where = ""
    if url is None:
        folder = find_program(program or state.program)
        settings = read_gateway_settings(folder, read_config(folder))
        url = f"http://{settings.host}:{settings.port}"
        where = (
            ", the [gateway] table's host and port; for a gateway served with another --host "
            "or --port, give its address with --url"
        )
        if key and not names_this_machine(settings.host):
            # inhouse.toml is whoever can push to the program's: a table naming her machine
            # would collect the key of every lead who asked it for the details
            err_console().print(
                f"inhouse.toml's [gateway] names {settings.host}, another machine: your gateway "
                "key is sent to no address the file names (whoever can push it could name a "
                "machine of theirs and use the gateway as you); its public health follows. "
                "Give the gateway's address with --url for its details",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            key = None
    url = http_url(url, what="the gateway's address")
    # INHOUSE_GATEWAY_KEY is where the pilot guide has everyone put their own client key: a
    # member's, a champion's or the support owner's is no rollout lead's, and its refusal
    # left them no health at all, where asking with no key shows the public one
    source = context.get_parameter_source("key")
    from_env = key is not None and getattr(source, "name", None) == "ENVIRONMENT"

    def ask(key: str | None) -> tuple[Any, Any]:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        try:
            # the authorities `inhouse gateway vouch` trusts the same gateway with
            answer = httpx.get(f"{url.rstrip('/')}/healthz", headers=headers, timeout=5,
                               trust_env=False, verify=client_context())  # fmt: skip
            return answer, answer.json()
        except (httpx.HTTPError, ValueError) as err:
            # a gateway that answered with a certificate refused here is there: said as the
            # vouch says it, which trusts it with the same authorities ("no gateway answers")
            if (hint := certificate_hint(err, "the gateway")) is not None:
                raise RuntimeUnavailable(
                    f"the gateway at {url} could not be reached: {err}{hint}"
                ) from None
            raise RuntimeUnavailable(f"no gateway answers at {url} ({err}{where})") from None

    answer, report = ask(key)
    if key and answer.status_code in (401, 403):  # the key is not a rollout lead's own
        error = report.get("error") if isinstance(report, dict) else None
        said = error.get("message") if isinstance(error, dict) else None
        if not from_env:
            raise NotAllowed(f"the gateway at {url} refused the key: {said or answer.status_code}")
        why = literal(said or answer.status_code)
        err_console().print(
            f"the gateway refused INHOUSE_GATEWAY_KEY's details ({why}): its public health follows"
        )
        answer, report = ask(None)
    if json:
        print_json(report)
        return
    lines = _health_lines(report, url)
    if lines is None:
        # a server that is no inhouse gateway (the dashboard's 404, another service's health)
        # answered: a KeyError traceback said nothing of which
        raise RuntimeUnavailable(
            f"{url} answers /healthz, but not as an inhouse gateway does (its status, keys, "
            f"models and usage){where}; `--json` prints what it said"
        )
    out = out_console()
    for line in lines:
        out.print(line)


def _health_lines(report: Any, url: str) -> list[str] | None:
    """A gateway's ``/healthz`` ``report`` as `gateway status` prints it, each word of it the
    gateway's (printed as itself, never as markup or escape codes); None where it is not the
    shape a gateway answers."""
    try:
        return _health_text(report, url)
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _health_text(report: Any, url: str) -> list[str]:
    lines: list[str] = []
    refused = report.get("keys_refused", 0)
    if isinstance(refused, list):  # an older gateway listed them, people and reasons
        refused = len(refused)
    more = (
        f", {literal(refused)} refused (inhouse keys list names them, with why)" if refused else ""
    )
    lines.append(
        f"gateway at {literal(url)}: {literal(report['status'])}, "
        f"{literal(_counted(report['keys'], 'active keys'))}{more}"
    )
    own = report.get("service_key") or {}
    if revoked := own.get("revoked"):
        # anyone's answer carries the code; a rollout lead's key, the log's words
        why = (
            ": a rollout lead's own key shows who revoked it (--key, or INHOUSE_GATEWAY_KEY)"
            if revoked == own.get("problem_code")
            else f" ({literal(revoked)})"
        )
        from inhouse.gateway.rollup import SERVICE
        from inhouse.program.core import rotation_words

        rotate = literal(rotation_words(SERVICE))
        lines.append(
            f"  [red]refusing every request (503): its own key {literal(own.get('key_id'))} was "
            f"revoked in the program's log[/]{why}. To rotate it, {rotate}"
        )
    if unenrolled := own.get("unenrolled"):
        # anyone's answer carries the code; a rollout lead's key, the words and the command
        why = (
            ": a rollout lead's own key shows which key is enrolled and the command that "
            "copies its file here (--key, or INHOUSE_GATEWAY_KEY)"
            if unenrolled == own.get("unenrolled_code")
            else f" ({literal(unenrolled)})"
        )
        lines.append(
            f"  [red]its own key {literal(own.get('key_id'))} is not the one the program's log "
            f"enrolled: every usage row it seals counts for nothing[/]{why}"
        )
    lock = report.get("lock") or {}
    if problem := lock.get("problem"):
        # anyone's answer carries the problem's code; a rollout lead's key, its text
        why = (
            ": a rollout lead's own key shows why (--key, or INHOUSE_GATEWAY_KEY)"
            if problem == lock.get("problem_code")
            else ""
        )
        lines.append(f"  [red]lock: {literal(problem)}[/]{why}")
    for name, route in report["models"].items():
        nodes = ", ".join(
            f"{literal(n['runtime'])} {'up' if n['healthy'] else 'DOWN'}" for n in route["nodes"]
        )
        lines.append(f"  {literal(name)} ({literal(route['digest'][:19])}): {nodes or 'no node'}")
        lines += [  # a rollout lead's key reads where each node is, and why one is down
            f"    {literal(n['runtime'])} at {literal(n['url'])}: "
            f"{'up' if n['healthy'] else literal(n.get('detail') or 'down')}"
            for n in route["nodes"]
            if "url" in n
        ]
        if "problems" in route:
            lines += [f"    [red]{literal(problem)}[/]" for problem in route["problems"]]
        elif route["problem_count"]:
            lines.append(
                f"    [red]{literal(_counted(route['problem_count'], 'problems'))}[/]: a rollout "
                "lead's own "
                "key shows them (--key, or INHOUSE_GATEWAY_KEY)"
            )
    lines += _degraded_lines(report)
    usage = report["usage"]
    # /healthz says that the writer fails, never why (an older gateway gave the text)
    failing = (
        ", writing to the database FAILS (the gateway's log says why)"
        if usage.get("failing", usage.get("last_error"))
        else ""
    )
    lines.append(
        f"  usage log: {literal(usage['written'])} written, "
        f"{literal(usage['backlog'])} waiting{failing}"
    )
    return lines


def _degraded_lines(report: Any) -> list[str]:
    """What makes a gateway ``degraded`` besides its nodes, said in words: a lock file that is
    not the recorded one, and limits kept per replica while Redis cannot be reached (an
    operator who read only "degraded" had /healthz's JSON to dig through); and, for several
    workers, that limits are shares and which worker answered (its figures are its own)."""
    lines: list[str] = []
    lock = report.get("lock") or {}
    if not lock.get("problem") and lock.get("notice"):  # a problem is said above, with why
        lines.append(f"  lock: {literal(lock['notice'])}")
    limits = report.get("limits") or {}
    share = literal(limits.get("share") or "a share")
    if limits.get("mode") == "share" and limits.get("last_error"):
        redis = f" at {literal(limits['redis'])}" if limits.get("redis") else ""
        lines.append(
            f"  limits: [red]Redis{redis} cannot be reached ({literal(limits['last_error'])})"
            f"[/]: each replica enforces its share ({share}) of every limit until it answers "
            "(the gateway's log says why)"
        )
    elif limits.get("mode") == "share":  # by configuration: several replicas, no redis_url
        lines.append(
            f"  limits: each of {literal(limits.get('replicas'))} replicas enforces its share "
            f"({share}) of every limit (no redis_url to share them)"
        )
    replica = report.get("replica") or {}
    if replica.get("worker") is not None:  # the figures below are this worker's own
        lines.append(
            f"  answered by worker {literal(replica['worker'])} (pid {literal(replica.get('pid'))})"
            ": the usage log's figures are its own"
        )
    return lines


@app.command("rollup")
def rollup(
    since: Annotated[
        str | None, typer.Option(help="Only days from this one (YYYY-MM-DD).", show_default=False)
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
    json: JsonOpt = False,
) -> None:
    """Turn the usage log into usage.daily facts (one a day, with every person's totals) for
    plays 4 and 6's checks, drop stored bodies past their retention, and compact request rows
    past the data rules' request_rows_days (their totals stay in the daily rollups)."""
    from rich.markup import escape

    from inhouse.gateway.rollup import compact_rows, purge_bodies, rollup_usage

    opened = open_program(program)
    with telling_service_enrolment(opened):
        rollup = rollup_usage(opened, as_, since=since)
    recorded = rollup.recorded
    for note in rollup.notes():
        err_console().print(f"[yellow]not signed:[/yellow] {escape(note)}")
    purge_bodies(opened)
    compacted = compact_rows(opened)
    if compacted and not json:
        out_console().print(f"Compacted {literal(compacted)} request rows past their retention.")
    if json:
        print_json(recorded)
        return
    if not recorded and not rollup.unbound_tools:
        out_console().print("Nothing new to roll up.")
    for offered in rollup.unbound_tools:  # play 5's agent-boundaries fails on these
        err_console().print(
            f"[yellow]no boundary:[/yellow] {escape(offered['person'])} offered the model "
            f"{escape(', '.join(offered['tools']))} on {literal(offered['day'])} through a key "
            f"bound to no agent ({escape(_counted(offered['requests'], 'requests'))}): run it as a "
            "registered agent (`inhouse keys issue PERSON --agent NAME`)"
        )
    for totals in recorded:
        out_console().print(
            f"usage.daily {literal(totals['day'])} {literal(totals['person'])}: "
            f"{escape(_counted(totals['requests'], 'requests'))}, "
            f"{escape(_counted(totals['tokens_in'], 'tokens'))} in, "
            f"{escape(_counted(totals['tokens_out'], '').strip())} out"
        )


@app.command("vouch")
def vouch(
    url: Annotated[
        str | None,
        typer.Option(
            help="The gateway's address as you use it (default: the \\[gateway] table's).",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Vouch, from your own machine, for the host the gateway's key is on: your CLI asks the
    gateway you use to sign a fresh nonce, checks it against the key the log holds for it, and
    records that, signed with your key. Once the organisation's sign-in is set up, what the
    gateway measures counts only when someone other than the lead who enrolled its key has
    vouched for it. It shows the address and the key it vouches for and asks before it signs;
    no answer records nothing."""
    from rich.markup import escape

    from inhouse.gateway.vouch import default_url, vouch_for_gateway

    opened = open_program(program)
    agree = ask_before_signing(
        "Your key signs that this is the gateway you use:",
        "Is this the gateway you use yourself, at the address you use it at?",
    )
    fact = vouch_for_gateway(opened, url or default_url(opened), agree=agree)
    if json:
        print_json({"fact": fact.id, "key_id": fact.payload["key_id"], "url": fact.payload["url"]})
        return
    out_console().print(
        f"Vouched for the gateway's key {escape(str(fact.payload['key_id']))} answering at "
        f"{escape(str(fact.payload['url']))} (fact #{literal(fact.id)})."
    )


def _counted(value: Any, unit: str) -> str:
    """A count the gateway's health answer gave, with its unit: a number as `figures` writes
    one, anything else (an older or foreign gateway's answer) as it came."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return figures.count(value, unit)
    return f"{value} {unit}"
