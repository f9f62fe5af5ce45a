"""The ``[gateway]`` table of ``inhouse.toml``: where the gateway listens and how it behaves.

The program's config loader owns the file; this module validates only its own table and leaves
the others (``[runtimes.*]``, ``[policy.*]``, ``[data_rules]``) to their packages.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import ConfigError, validation_problems
from inhouse.location import CONFIG_NAME, DATA_DIR

__all__ = ["GatewaySettings", "cannot_listen", "names_this_machine", "read_gateway_settings"]


class GatewaySettings(BaseModel):
    """How the gateway runs. Every field has a default, so an empty table is valid."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8400, ge=0, le=65535)
    #: the ``[runtimes.NAME]`` tables that serve blessed models (default: all of them);
    #: several runtimes serving one blessed model are used round-robin
    runtimes: list[str] | None = None
    #: re-check the runtimes' model digests against the lock this often
    digest_check_seconds: float = Field(300.0, gt=0)
    #: probe each runtime this often; a node that fails is skipped until it answers again with
    #: its locked digest, and a runtime that moved (a new port in ``inhouse runtime serve``'s
    #: state file) or came up after the gateway is routed to at the next probe
    health_check_seconds: float = Field(2.0, gt=0)
    #: seconds a health probe may wait; a node whose probe is this slow three times in a row,
    #: with no request of the gateway's in flight on it, is skipped until it answers again
    health_probe_timeout: float = Field(2.0, gt=0)
    #: reload keys (issued, revoked) from the store this often
    keys_refresh_seconds: float = Field(5.0, gt=0)
    #: spool durability: ``batch`` fsyncs once per flush (a record is written before the
    #: answer's last bytes, so a killed process loses nothing; a power cut may lose the last
    #: flush interval); ``request`` fsyncs every record before the answer's last bytes
    spool_sync: Literal["batch", "request"] = "batch"
    #: write usage from the spool to the database this often, or at this many records
    flush_seconds: float = Field(0.5, gt=0)
    batch_size: int = Field(500, ge=1)
    #: seconds a runtime may take for a whole answer (a stream included, to its last event)
    upstream_timeout: float = Field(300.0, gt=0)
    #: seconds a runtime may stay silent: before its answer starts and between two chunks; a
    #: runtime frozen mid-answer ends the request this long after its last bytes
    read_timeout: float = Field(60.0, gt=0)
    #: the largest request body, in bytes (a 413 beyond it)
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    #: the most messages (chat), prompts (completions) or inputs (embeddings) one request may
    #: carry (a 400 beyond it)
    max_items: int = Field(1000, ge=1)
    #: the most prompt tokens one request may carry, estimated at four characters each (a 400
    #: beyond it); set it to the blessed models' context
    max_request_tokens: int = Field(32768, ge=1)
    #: the most requests one key may have in flight at once (a 429 beyond it), so one key cannot
    #: hold every slot of a runtime
    key_concurrency: int = Field(4, ge=1)
    #: folder of the usage spool, relative to the program folder (with ``workers`` above 1,
    #: worker N spools under ``worker-N`` in it: a spool is owned by one process)
    spool_dir: str = f"{DATA_DIR}/gateway/spool"
    #: worker processes sharing the port (SO_REUSEPORT), each a whole gateway
    workers: int = Field(1, ge=1, le=64)
    #: where replicas share rate limits and token budgets, and hear of revoked keys at once:
    #: a Redis URL (``redis://127.0.0.1:6379/0``); none: each process keeps its own limits
    redis_url: str | None = None
    #: the names of this gateway's keys and channel in Redis (several programs may share one)
    redis_prefix: str = Field("inhouse:gateway", min_length=1)
    #: seconds a Redis call may take before the replica falls back to its share of the limits
    redis_timeout: float = Field(0.5, gt=0)
    #: gateway processes sharing the limits, on every host together (default: ``workers``);
    #: while Redis cannot be reached each enforces its share: the limit divided by this
    replicas: int | None = Field(None, ge=1)

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, url: str | None) -> str | None:
        """A URL redis-py reads, checked here: the gateway met a bad one only when it first
        connected, with a traceback (the message never repeats the URL, which may hold a
        password)."""
        if url is None:
            return None
        from urllib.parse import urlsplit

        from redis.connection import parse_url

        example = "e.g. redis://127.0.0.1:6379/0 (rediss:// for TLS, unix:///path/redis.sock)"
        try:
            parse_url(url)  # type: ignore[no-untyped-call]
            split = urlsplit(url)
        except ValueError as err:
            raise ValueError(f"not a Redis URL ({err}): {example}") from None
        database = split.path.strip("/")
        if split.scheme != "unix" and database and not database.isdigit():
            raise ValueError(
                f"not a Redis URL: its path names database {database!r}, which is not a "
                f"number: {example}"
            )
        return url

    @property
    def replica_count(self) -> int:
        """How many processes share the limits (each one's share is the limit divided by it)."""
        return self.replicas if self.replicas is not None else self.workers


def read_gateway_settings(folder: Path, config: dict[str, Any]) -> GatewaySettings:
    """Validate ``[gateway]`` from a parsed ``inhouse.toml``."""
    try:
        return GatewaySettings.model_validate(config.get("gateway", {}))
    except ValidationError as err:
        problems = validation_problems(err, "gateway.")
        raise ConfigError(f"{folder / CONFIG_NAME}: {problems}") from None


def names_this_machine(host: str) -> bool:
    """Whether ``[gateway]``'s ``host`` names this machine as written: a loopback or
    unspecified address (the gateway listening on every interface, this one's among them), or
    ``localhost``. A name is not resolved: whoever wrote it may point it anywhere. A command
    sends a person's own gateway key to the table's address only where this holds:
    ``inhouse.toml`` is whoever can push to the program's, and a table naming her machine would
    collect the keys sent there."""
    import ipaddress

    name = host.strip().lower().rstrip(".")
    if not re.fullmatch(r"[0-9a-z.:%\[\]-]*", name):
        # "gw.example#.localhost" ends as a loopback name does, and its URL reaches gw.example
        return False
    if name in ("", "localhost") or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def cannot_listen(host: str | None, port: int | None, err: OSError) -> ConfigError:
    """The error for a port the gateway could not bind (in use, a privileged port, an address
    not on this host), naming the setting that moves it: it was a traceback from the event
    loop."""
    reason = os.strerror(err.errno) if err.errno else str(err)
    fix = "serve"
    if err.errno == errno.EADDRINUSE:
        reason += " (another gateway, or another server, holds it)"
        fix = "stop what holds it, or serve"
    return ConfigError(
        f"the gateway cannot listen on {host}:{port}: {reason}; {fix} on another address "
        "(gateway.host and gateway.port in inhouse.toml, or --host and --port)"
    )
