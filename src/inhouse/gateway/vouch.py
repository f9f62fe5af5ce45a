"""``inhouse gateway vouch``: someone who uses the gateway vouches for the host its key is on.

The gateway's measurements (usage, adoption, prompt use, drift reviews) are signed by its own
service key. Once the organisation's sign-in is set up they count only when someone other than
the lead who enrolled that key has vouched for it (:mod:`inhouse.identity.hosts`): from their
own machine, they ask the gateway they use to sign a fresh nonce, check the answer against the
key the log holds for the gateway, and record it, signed with their own key. A lead who ran a
"gateway" on a machine of her own, holding its key, can no longer make its figures count alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from inhouse.errors import InvalidInput, NotAllowed
from inhouse.identity.hosts import NONCE_HEADER, host_challenge
from inhouse.identity.keys import verify_signature
from inhouse.program.counting import lead_account, unsigned_signer
from inhouse.program.facts import Fact, Provenance
from inhouse.program.state import sign_in_login
from inhouse.terminal import shown
from inhouse.tls import certificate_hint, client_context
from inhouse.urls import http_url

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["COLLECTOR", "default_url", "vouch_for_gateway"]

COLLECTOR = "inhouse gateway vouch"


def default_url(program: Program) -> str:
    """The gateway ``inhouse.toml`` says this program serves from."""
    from inhouse.gateway.config import read_gateway_settings
    from inhouse.program.config import read_config

    settings = read_gateway_settings(program.folder, read_config(program.folder))
    return f"http://{settings.host}:{settings.port}"


def vouch_for_gateway(
    program: Program,
    url: str,
    *,
    timeout: float = 10.0,
    agree: Callable[[list[str]], bool | None] | None = None,
) -> Fact:
    """Ask the gateway at ``url`` to sign a fresh nonce; where its key is the one the log holds
    for the gateway service, and someone other than the lead who enrolled it asks, record a
    ``service.vouched`` fact signed with the asker's key. ``agree`` (the command's question)
    is shown what the vouch signs (the address, the key, who enrolled it where) and nothing is
    recorded unless it answers yes; None is the caller's own word (a program). The address
    may be ``inhouse.toml``'s, which its lead writes: "just run `inhouse gateway vouch`" would
    have a colleague vouch for a host they never saw."""
    from inhouse.gateway.rollup import SERVICE

    who = program.actor(None)
    if who.service:
        raise NotAllowed(f"{who.name} is a service: a person vouches for a service's host")
    if program._delegation is not None:
        raise NotAllowed(
            "a dashboard session does not vouch for a host: its key lives on the dashboard's "
            "host, not your machine; run `inhouse gateway vouch` on your own machine"
        )
    state = program.state()
    if "rollout-lead" in state.roles_held.get(who.name, frozenset()) | who.roles:
        raise NotAllowed(
            f"{who.name} is (or was) a rollout lead, and leads enrol the gateway's key: its host "
            "is vouched for by someone who uses the gateway and never led the program"
        )
    if state.sign_in is None and not state.demo:
        raise NotAllowed(
            "the organisation's sign-in is not set up, so nobody is told apart from the lead "
            "who enrolled the gateway's key and a vouch would count for nothing: a rollout lead "
            f"runs `inhouse sign-in setup`, you {sign_in_login(state.log_file, '')}, then vouch"
        )
    # what the counting would never count is refused here, nothing recorded: a vouch is
    # someone else's, signed in with an account of their own (inhouse.program.counting)
    if (why := unsigned_signer(state, who.name, program.key.key_id)) is not None:
        raise NotAllowed(
            f"a vouch {who.name} signs with this key would count for nothing: {why}; then vouch"
        )
    if (lent := lead_account(state, program.key.key_id)) is not None:
        account, lead = lent
        raise NotAllowed(
            f"{who.name}'s key signed in with the account {account}, which {lead}, a rollout "
            "lead, held: one account is one person to the sign-in, so this vouch would be a "
            "lead's and count for nothing. Someone who uses the gateway vouches, signed in "
            "with their own account on their own machine"
        )
    nonce = secrets.token_hex(16)
    base = http_url(url, what="the gateway's address").rstrip("/")
    try:
        reply = httpx.get(
            f"{base}/inhouse/identity",
            headers={NONCE_HEADER: nonce},
            timeout=timeout,
            verify=client_context(),
        )
    except httpx.HTTPError as err:
        # a certificate refused: the address is right where its authority is not trusted here
        # or it expired, and "give the address you use it at" sent the voucher the wrong way
        why = certificate_hint(err, "the gateway") or "; give the address you use it at (`--url`)"
        raise InvalidInput(f"could not reach the gateway at {base}: {err}{why}") from None
    try:
        answer = reply.json()
        key_id, signature = str(answer["key_id"]), str(answer["signature"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            f"{base} answered {reply.status_code} without an inhouse gateway's identity: is it "
            "the gateway (`inhouse gateway serve`), at the address you use it at?"
        ) from None
    record = state.keys.get(key_id)
    if record is None or record.person != SERVICE or record.revoked_at is not None:
        raise InvalidInput(
            f"the gateway at {base} signs with key {key_id}, which this program's log does not "
            f"hold for the {SERVICE} service (or holds revoked): it is not this program's gateway"
        )
    if not verify_signature(record.public_key, host_challenge(state.program_id, SERVICE, nonce),
                            signature):  # fmt: skip
        raise InvalidInput(
            f"the gateway at {base} answered with a signature that does not verify with key "
            f"{key_id} for this program: it does not hold that key, or serves another program"
        )
    if record.invited_by == who.name:
        raise NotAllowed(
            f"{who.name} enrolled the {SERVICE}'s key {key_id}: its host is vouched for by "
            "someone else who uses the gateway, from their own machine"
        )
    if agree is not None:
        answer = agree(
            [
                f"the gateway you use answers at {shown(base)}",
                f"it holds the {SERVICE}'s key {key_id}, enrolled by {record.invited_by} from "
                f"machine {shown(record.machine)} at {record.enrolled_at:%Y-%m-%d %H:%M} UTC",
                "its figures (usage, adoption, prompt use, drift reviews) count on your word "
                "that this is the gateway you use",
            ]
        )
        if not answer:
            why = (
                "the question got no answer (no terminal to ask on, or the input ended): run "
                "`inhouse gateway vouch --url ADDRESS` yourself in a terminal, with the address "
                "you use the gateway at, and answer y only if it is that gateway"
                if answer is None
                else "vouch only for the gateway you use yourself, at the address you use it at"
            )
            raise NotAllowed(f"not vouched, nothing recorded for {who.name}: {why}")
    return program.record_fact(
        None,
        "service.vouched",
        {
            "service": SERVICE,
            "key_id": key_id,
            "url": base,
            "nonce": nonce,
            "signature": signature,
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
