"""inhouse sign-in: who each person is, vouched for by the organisation's identity provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from inhouse import figures
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    ask_before_signing,
    literal,
    open_program,
    out_console,
    print_json,
    print_rows,
)

if TYPE_CHECKING:
    from inhouse.program.state import SignIn

app = Typer()

#: the longest `sign-in login` waits for the browser: a day
_MAX_WAIT = 86400


@app.command("setup")
def setup(
    issuer: Annotated[
        str,
        typer.Option(
            help="The identity provider's issuer URL (https), e.g. "
            "https://login.microsoftonline.com/TENANT/v2.0 or https://accounts.google.com.",
        ),
    ],
    client_id: Annotated[
        str,
        typer.Option(
            help="The client id inhouse is registered under at the provider, as a native app "
            "(public client) with the redirect URI http://127.0.0.1 (any port).",
        ),
    ],
    email_domain: Annotated[
        str | None,
        typer.Option(
            help="Count only identities with a verified e-mail address at this domain: needed "
            "where the provider gives anyone an account (accounts.google.com, Entra's common "
            "endpoint).",
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Set up the organisation's sign-in (rollout leads). Reads the issuer's discovery
    document and pins its signing keys in the log. From then on a person counts as someone
    (a second person's verify, a pilot member, a handoff's receiver...) once they signed in
    with it: `inhouse sign-in login` where the log is (on their machine, with a PostgreSQL
    log; a SQLite log is a file on one machine, signed in to there only). Until the first
    person signs in, run it again with another issuer, client id or domain to correct it (the
    earlier set-up and its keys are dropped); after that it can no longer be changed. Outside a
    demo, a provider on this machine is refused (a loopback address, or a name that resolves to
    an address of this machine's own): whoever runs it could vouch for anyone."""
    from inhouse.program.state import sign_in_login

    opened = open_program(program)
    before = opened.state().sign_in
    found = opened.set_up_sign_in(issuer, client_id, domain=email_domain)
    console = out_console()
    if before is not None and before.seq != found.seq:
        console.print(
            f"Replaced the sign-in {literal(before.set_by)} set up: {literal(_named(before))} -> "
            f"{literal(_named(found))}."
        )
    console.print(
        f"Sign-in set up: {literal(_named(found))}, "
        f"{figures.count(len(found.keys), 'signing keys')} pinned. Each person now runs "
        f"{literal(sign_in_login(opened.log_file))}; what they sign counts once they have."
    )


def _named(config: SignIn) -> str:
    only = f", addresses at {config.domain} only" if config.domain else ""
    return f"{config.issuer} (client {config.client_id}{only})"


@app.command("login")
def login(
    no_browser: Annotated[
        bool,
        typer.Option(
            "--no-browser",
            help="Do not open a browser: open the printed address yourself, in a browser on "
            "this machine (the provider sends it back to a loopback address here).",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the browser to come back.")
    ] = 300.0,
    program: ProgramOpt = None,
) -> None:
    """Sign in with your organisation's identity provider and bind your key to who it says
    you are. The provider signs a token naming your key and this program; it goes into the
    log, where everyone's inhouse checks it. Env INHOUSE_SIGN_IN_CLIENT_SECRET for a provider
    that gives native apps a client secret."""
    import math
    import webbrowser

    from inhouse.errors import InvalidInput

    # an infinite wait overflowed the clock (a traceback, after the address was shown)
    if not (math.isfinite(timeout) and 1 <= timeout <= _MAX_WAIT):
        raise InvalidInput(f"--timeout is seconds from 1 to {_MAX_WAIT}, not {timeout:g}")
    opened = open_program(program)
    console = out_console()

    def say(text: str) -> None:
        console.print(text, soft_wrap=True, markup=False)

    bound = opened.sign_in(
        open_browser=None if no_browser else webbrowser.open, say=say, timeout=timeout
    )
    # the subject and e-mail are the provider's words
    email = f" ({bound.email})" if bound.email else ""
    console.print(
        f"Signed in: {literal(bound.person)} is {literal(bound.subject)}{literal(email)}."
    )


@app.command("list")
def list_people(json: JsonOpt = False, program: ProgramOpt = None) -> None:
    """Who signed in with the organisation's sign-in, and who has not (what they sign does not
    count until they do)."""
    state = open_program(program).state()
    config = state.sign_in
    if config is None:
        out_console().print(
            "No sign-in is set up: inhouse tells nobody apart without one (a key and the "
            "machine it reports are anyone's to make), so no check that needs someone else "
            "passes outside a demo (`inhouse sign-in setup`)."
        )
        return
    rows: list[dict[str, Any]] = []
    for name, person in sorted(state.people.items()):
        if person.service:
            continue
        bound = state.signed_in.get(name)
        rows.append(
            {
                "person": name,
                # every key they hold signed in (a key joined later has to, itself)
                "signed_in": state.vouched(name),
                "subject": bound.subject if bound else None,
                "email": bound.email if bound else None,
                "at": bound.at.isoformat() if bound else None,
                # every key that signed in with it was revoked: it binds nobody now
                "released": bound is not None and not state.holds(bound),
                # their latest sign-in the fold bound nobody with: why (status says it too)
                "set_aside": state.set_aside[name][1] if name in state.set_aside else None,
            }
        )
    if not json:
        out_console().print(
            f"Sign-in: {literal(config.issuer)} (client {literal(config.client_id)}, "
            f"{literal('addresses at ' + config.domain if config.domain else 'any account')}), set "
            f"up by {literal(config.set_by)} on {config.set_at:%Y-%m-%d}; "
            f"{figures.count(len(config.keys), 'keys')} pinned."
        )
    print_rows(
        rows,
        json=json,
        columns=("person", "signed in as", "e-mail", "at"),
        cells=lambda r: (
            r["person"],
            (r["subject"] or "not signed in")
            + (
                " (released: its keys were revoked)"
                if r["released"]
                else ""
                if r["signed_in"] or not r["subject"]
                else " (a key of theirs has not)"
            )
            + (f"; their sign-in was set aside: {r['set_aside']}" if r["set_aside"] else ""),
            r["email"] or "",
            (r["at"] or "")[:16],
        ),
    )


@app.command("release-mailbox")
def release_mailbox(
    address: Annotated[
        str, typer.Argument(help="An address at the mailbox, e.g. anna@acme.example.")
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The person given the address, by their name in the program (enrolled, "
            "signed in with no other mailbox): only they may sign in at it.",
        ),
    ],
    reason: Annotated[
        str, typer.Option(help="Why: who had the address, and who was given it since.")
    ],
    program: ProgramOpt = None,
) -> None:
    """Let the person named by --to sign in at a mailbox, or with an account at it, that someone
    else signed in with before (an address the organisation gave a new hire after its holder
    left, or an account bound to the wrong name by mistake); anyone else who signs in at it
    binds nobody. Recorded by a colleague signed in who is not a rollout lead, once every key
    that signed in at the mailbox is revoked. It shows what your key signs (the mailbox, whom
    it goes to, who signed in at it before, the reason) and asks; no answer records nothing."""
    agree = ask_before_signing(
        "Your key signs that this mailbox is now this person's:",
        "Did the organisation give this mailbox to this person?",
    )
    box = open_program(program).release_mailbox(address, to=to, reason=reason, agree=agree)
    out_console().print(
        f"Released {literal(box)} to {literal(to)}: only they may sign in at it now; whoever "
        "signed in at it before does not keep it from them, and anyone else binds nobody."
    )


@app.command("release-account")
def release_account(
    subject: Annotated[
        str,
        typer.Argument(
            help="The account's subject, as `inhouse sign-in list` shows it (one signed in at "
            "no e-mail address)."
        ),
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The person the account is, by their name in the program (enrolled, signed "
            "in with no other account): only they may sign in with it.",
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why: whose the account was, and whose it is since.")],
    program: ProgramOpt = None,
) -> None:
    """Let the person named by --to sign in with an account someone else signed in with before,
    where its issuer named no e-mail address for it (so release-mailbox cannot name it): a
    binding made by mistake, in someone else's browser, or an account given a new hire.
    Recorded by a colleague signed in who is not a rollout lead, once every key that signed in
    with it is revoked. It shows what your key signs and asks; no answer records nothing."""
    agree = ask_before_signing(
        "Your key signs that this account is now this person's:",
        "Is this account this person's?",
    )
    done = open_program(program).release_account(subject, to=to, reason=reason, agree=agree)
    out_console().print(
        f"Released the account {literal(done)} to {literal(to)}: only they may sign in with it "
        "now, and anyone else binds nobody."
    )


@app.command("dash-names")
def dash_names(
    domain: Annotated[str, typer.Argument(help="The mail domain, e.g. acme.example.")],
    reason: Annotated[
        str,
        typer.Option(help="How you know: e.g. the mail server's sub-address delimiter is '+'."),
    ],
    program: ProgramOpt = None,
) -> None:
    """Say that DOMAIN's mail server keeps '-' in names (anne-marie@ is not anne@'s inbox), so
    an account at an address cut at a '-' binds beside the one before it. Until then a '-' is
    read as a sub-address, as a '+' is. Recorded by a colleague signed in at DOMAIN who is not
    a rollout lead, at neither address of a pair it frees (anne-marie@'s or anne@'s word
    counts for nothing for them). It shows what your key signs and asks; no answer records
    nothing."""
    agree = ask_before_signing(
        "Your key signs that this is how the domain's mail is split:",
        "Do you know its mail server keeps '-' in names?",
    )
    said = open_program(program).say_dash_names(domain, reason=reason, agree=agree)
    out_console().print(
        f"Recorded: {literal(said)}'s mail server keeps '-' in names; an address cut at a '-' "
        "is no other person's mailbox there."
    )


@app.command("keys")
def keys(program: ProgramOpt = None) -> None:
    """Pin the issuer's current signing keys beside the earlier ones (rollout leads), after the
    provider rotated them (a sign-in then says the token's key is not held)."""
    found, new = open_program(program).refresh_sign_in_keys()
    out_console().print(
        f"{figures.count(new, 'new keys')} pinned; {literal(len(found.keys))} in all for "
        f"{literal(found.issuer)}."
    )


@app.command("audit")
def audit(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Compare the pinned keys with those the issuer publishes now, and with what each person's
    machine saw it publish when they signed in. A key that verifies sign-ins, is not published
    now, and was seen published by nobody but the rollout leads is DOUBTFUL (pinned by hand,
    or rotated out before anyone else signed in with it). Exits 1 on one, or on an
    issuer on this machine."""
    report = open_program(program).audit_sign_in()
    if json:
        from dataclasses import asdict

        print_json(
            {
                "issuer": report.issuer,
                "local": report.local,
                "pinned": [{**asdict(k), "doubtful": k.doubtful} for k in report.pinned],
                "published_not_pinned": list(report.published_not_pinned),
            }
        )
        if report.doubtful or report.local:  # a script reading only the exit code sees it
            raise typer.Exit(1)
        return
    console = out_console()
    if report.local:
        console.print(
            f"{literal(report.issuer)} is on this machine (a loopback address, or a name that "
            "resolves to this machine): a local or test provider, which vouches for whoever runs it"
        )
    for key in report.pinned:
        state = "published now" if key.published else "NOT published by the issuer now"
        seen = (
            f"seen published by {', '.join(key.seen_by)}" if key.seen_by else "seen by nobody else"
        )
        rests = f"; verifies {', '.join(key.bindings)}" if key.bindings else ""
        console.print(
            f"  {literal(key.kid or '(no kid)')}  {literal(key.thumbprint)}  {literal(state)}; "
            f"pinned by {literal(key.pinned_by)}, {literal(seen)}{literal(rests)}"
            + ("  <- DOUBTFUL" if key.doubtful else "")
        )
    if report.published_not_pinned:
        console.print(
            f"Published but not pinned: {literal(', '.join(report.published_not_pinned))} "
            "(`inhouse sign-in keys` pins them)"
        )
    if report.doubtful:
        console.print(
            "A DOUBTFUL key verifies sign-ins, is not published by the issuer now, and nobody but "
            "the rollout leads saw the issuer publish it: those identities rest on a lead's word"
        )
    if report.doubtful or report.local:
        raise typer.Exit(1)
    console.print(f"Every pinned key is one {literal(report.issuer)} publishes now.")
