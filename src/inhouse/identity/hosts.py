"""A service's host, vouched for: the challenge a service signs to show its key answers there.

The gateway's facts (usage, adoption, drift reviews) are signed by the gateway's own key, which
a rollout lead enrolls on the gateway's host. Nothing in the log tells that host from a virtual
machine of the lead's own, where she would hold the key and measure whatever she liked. So a
service's key counts, once the organisation's sign-in is set up, only when someone else, who
uses the service, vouched for it: their CLI sends a fresh nonce to the service where they reach
it, the service signs :func:`host_challenge` with its key, and they record the answer, signed
with their own key (``inhouse gateway vouch``). Anyone can check the signature later against the
key the log holds.
"""

from __future__ import annotations

__all__ = ["NONCE_HEADER", "host_challenge"]

#: the request header that carries the voucher's nonce
NONCE_HEADER = "x-inhouse-nonce"


def host_challenge(program_id: str, service: str, nonce: str) -> bytes:
    """What a service signs to show its key answers for ``program_id`` where it was asked."""
    return f"inhouse service host v1\n{program_id}\n{service}\n{nonce}".encode()
