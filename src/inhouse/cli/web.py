"""inhouse web: the dashboard — serve it, and sign in to it with your own key."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Annotated

import typer

from inhouse.cli._common import (
    ProgramOpt,
    Typer,
    ask_before_signing,
    err_console,
    literal,
    out_console,
    state,
)

if TYPE_CHECKING:
    import socket

app = Typer()

UrlOpt = Annotated[str, typer.Option("--url", help="The dashboard's address.")]


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8077,
    session_minutes: Annotated[
        int, typer.Option(help="How long a sign-in lasts (at most 720 minutes).")
    ] = 120,
    program: ProgramOpt = None,
) -> None:
    """Serve the dashboard in the foreground until Ctrl-C: pages with JSON twins, for the
    people of this program, each signed in with their own key (`inhouse web login`)."""
    import uvicorn

    from inhouse.errors import InvalidInput
    from inhouse.location import find_program
    from inhouse.web.app import create_app

    if not 1 <= session_minutes <= 720:
        raise InvalidInput("--session-minutes is from 1 to 720 (a sign-in lasts at most 12 h)")
    folder = find_program(program or state.program)
    asgi = create_app(folder, session_minutes=session_minutes)
    listening = _listen(host, port)  # before saying where it serves: the port may be taken
    out_console().print(
        f"inhouse web for {literal(folder)} at http://{literal(host)}:{literal(port)}/; sign in "
        f"with `inhouse web login --url http://{literal(host)}:{literal(port)}`. Ctrl-C stops it."
    )
    if _beyond_this_machine(host):
        err_console().print(
            f"Warning: {literal(host)} serves plain http beyond this machine: sign-in links and "
            "session cookies cross the network in clear (whoever sees one acts as its person), and "
            "browsers do not say which site a sign-in link was opened from over plain http. Serve "
            "it on 127.0.0.1 behind an https proxy.",
            soft_wrap=True,
        )
    from inhouse.gctuning import for_a_server

    for_a_server()
    from inhouse.terminal import clean_handlers

    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning")
    clean_handlers()  # after the config set its handlers up: every record passes them
    server = uvicorn.Server(config)
    with listening:
        server.run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or :class:`InvalidInput` saying why none can (the
    port is taken, the address is not this machine's). uvicorn binding it itself printed its
    error after the dashboard had claimed to be serving there."""
    import socket

    from inhouse.errors import InvalidInput

    try:
        (family, kind, proto, _, address), *_ = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as err:
        raise InvalidInput(f"--host {host}: no address to listen on ({err.strerror})") from None
    listening = socket.socket(family, kind, proto)
    try:
        # as uvicorn does: a dashboard restarted at once binds its port again
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(2048)
    except OSError as err:
        listening.close()
        hint = {
            errno.EADDRINUSE: "; another server (an earlier `inhouse web serve`?) listens there: "
            "stop it, or give another --port",
            errno.EADDRNOTAVAIL: "; give an address of this machine with --host",
            errno.EACCES: "; a port below 1024 needs an administrator: give another --port",
        }.get(err.errno or 0, "")
        raise InvalidInput(
            f"cannot serve the dashboard at {host}:{port}: {err.strerror or err}{hint}"
        ) from None
    return listening


def _beyond_this_machine(host: str) -> bool:
    """Whether listening on ``host`` takes connections from other machines: any address but a
    loopback one (``0.0.0.0`` and ``::`` listen on every interface), and any name but
    ``localhost`` (a name is wherever it resolves)."""
    import ipaddress

    name = host.strip().lower().rstrip(".").strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(name).is_loopback
    except ValueError:
        return True


def _program_id(program: str | None, command: str, does: str) -> str:
    """The id of the program whose folder this is (or ``--program``'s): the one a dashboard
    must run before the key signs for it. Outside a program folder nothing says which program
    that is, and a dashboard could name any the key's person belongs to: refused."""
    from inhouse.errors import ProgramNotFound
    from inhouse.location import optional_program
    from inhouse.program.config import read_settings

    folder = optional_program(program or state.program)
    if folder is None:
        raise ProgramNotFound(
            f"`inhouse {command}` {does} the program the dashboard runs, and outside a program "
            "folder nothing says which program that must be: run it in your program's folder "
            "(a checkout with its inhouse.toml), or name it with --program FOLDER"
        )
    program_id = read_settings(folder).program_id
    if not program_id:
        raise ProgramNotFound(
            f"{folder}'s inhouse.toml names no program_id, so the dashboard's program cannot be "
            f"checked against it before your key signs: pull the program's inhouse.toml (it "
            f"has its program_id), then run `inhouse {command}` again"
        )
    return program_id


@app.command("login")
def login(
    url: UrlOpt = "http://127.0.0.1:8077",
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the link; do not open a browser.")
    ] = False,
    program: ProgramOpt = None,
) -> None:
    """Sign in with your own key: sign the dashboard's challenge and open (or print) a one-time
    link, valid for two minutes. Your browser actions are then recorded as yours. Run it in
    your program's folder (or name it with --program): a dashboard running another program is
    refused before your key signs anything."""
    import webbrowser

    from inhouse.identity import load_key
    from inhouse.web.login import sign_in

    program_id = _program_id(program, "web login", "signs you in to")
    link = sign_in(url, load_key(), program_id=program_id)
    out = out_console()
    if print_only or not webbrowser.open(link):
        out.print(f"Open this link within two minutes (once): {literal(link)}", soft_wrap=True)
    else:
        out.print("Opened the sign-in link in your browser (valid once, for two minutes).")


@app.command("approve")
def approve(
    code: Annotated[str, typer.Argument(help="The code the dashboard shows for the decision.")],
    url: UrlOpt = "http://127.0.0.1:8077",
    program: ProgramOpt = None,
) -> None:
    """Approve, with your own key, a decision you made in the dashboard (a handoff accepted or
    rejected, a survey answer): it shows what the event records, asks, signs and sends. The
    dashboard's session alone cannot make such a decision in your name. No flag answers the
    question for you; with no terminal to ask on, nothing is signed."""
    from inhouse.errors import NotAllowed
    from inhouse.identity import load_key
    from inhouse.web.login import approve as send

    program_id = _program_id(program, "web approve", "approves a decision of")
    out = out_console()

    ask = ask_before_signing(
        "The dashboard asks your key to agree to this event:", "Sign it with your key?"
    )

    def confirm(lines: list[str]) -> bool:
        answer = ask(lines)
        if answer is None:
            # no flag answers for them: "just run it with --yes" would have a colleague sign,
            # unread, a decision a dashboard session holds in their name
            raise NotAllowed(
                "not approved, nothing signed: the question got no answer (no terminal to ask "
                "on, or the input ended): run `inhouse web approve CODE` yourself in a "
                "terminal, read the event it shows, and answer y only if it is your decision"
            )
        return answer

    answer = send(url, code, load_key(), confirm=confirm, program_id=program_id)
    out.print(f"Approved and recorded ({literal(answer.get('kind'))}); the dashboard shows it.")
