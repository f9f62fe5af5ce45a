"""Build the gateway for a program folder and serve it with uvicorn (uvloop + httptools)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from inhouse.errors import ConfigError
from inhouse.gateway.app import Gateway
from inhouse.gateway.config import GatewaySettings, read_gateway_settings
from inhouse.gateway.limits import Limiter
from inhouse.gateway.policies import RequestPolicy
from inhouse.gateway.prompts import PromptSource
from inhouse.gateway.routing import Router
from inhouse.gateway.usage import Clock, Spool, UsageWriter, tokens_today, utcnow
from inhouse.location import CONFIG_NAME, database_url, safe_join

__all__ = ["build_gateway", "gateway_runtimes", "serve"]


def gateway_runtimes(folder: Path, config: dict[str, Any], settings: GatewaySettings) -> list[Any]:
    """The runtimes that serve blessed models: ``[gateway] runtimes``, or every
    ``[runtimes.NAME]`` table."""
    from inhouse.baseline.manifest import runtime_config

    tables = config.get("runtimes") or {}
    names = settings.runtimes if settings.runtimes is not None else sorted(tables)
    if not names:
        raise ConfigError(
            f"{folder / CONFIG_NAME}: no runtime to send requests to: add a [runtimes.NAME] "
            "table (and list it in [gateway] runtimes)"
        )
    missing = [n for n in names if n not in tables]
    if missing:
        raise ConfigError(
            f"{folder / CONFIG_NAME}: gateway.runtimes names {', '.join(missing)}, which has no "
            f"[runtimes.NAME] table (defined: {', '.join(sorted(tables)) or 'none'})"
        )
    return [runtime_config(folder, name, config) for name in names]


def build_gateway(
    folder: Path, *, settings: GatewaySettings | None = None, clock: Clock = utcnow
) -> Gateway:
    """The gateway for the program at ``folder``: its lock, runtimes, rules, keys and store.
    ``clock`` dates its usage records (``serve`` keeps the real UTC clock)."""
    from inhouse.baseline import read_lock
    from inhouse.db import open_store
    from inhouse.pilot.library import library_settings
    from inhouse.program.config import read_config

    config = read_config(folder)
    settings = settings or read_gateway_settings(folder, config)
    lock = read_lock(folder)
    if lock is None:
        raise ConfigError(
            f"no inhouse.lock in {folder}: the gateway routes only blessed models, and none are "
            "pinned yet (run `inhouse baseline lock`)"
        )
    runtimes = gateway_runtimes(folder, config, settings)
    policy = RequestPolicy.from_config(config)
    store = open_store(database_url(folder))
    spool = Spool(safe_join(folder, settings.spool_dir), sync_each=settings.spool_sync == "request")
    usage = UsageWriter(
        store, spool, flush_seconds=settings.flush_seconds, batch_size=settings.batch_size
    )
    today = clock().astimezone(UTC).strftime("%Y-%m-%d")
    limiter = Limiter(tokens_today(store, today), clock=clock)
    return Gateway(
        store=store,
        router=Router(lock, runtimes, program=folder),
        policy=policy,
        settings=settings,
        usage=usage,
        limiter=limiter,
        clock=clock,
        prompts=PromptSource(
            store, second_person=library_settings(config).promote_needs_second_person
        ),
    )


def serve(folder: Path, *, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), then flush the usage log."""
    import uvicorn

    from inhouse.program.config import read_config

    settings = read_gateway_settings(folder, read_config(folder))
    updates: dict[str, Any] = {}
    if host is not None:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    settings = settings.model_copy(update=updates)
    gateway = build_gateway(folder, settings=settings)
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - Windows
        loop = "asyncio"
    config = uvicorn.Config(
        gateway,
        host=settings.host,
        port=settings.port,
        loop=loop,
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
        backlog=4096,
    )
    uvicorn.Server(config).run()
