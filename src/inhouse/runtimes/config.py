"""How a program names one runtime: the ``[runtimes.NAME]`` table of ``inhouse.toml``.

The program's config loader owns the file; this module owns the shape of one table, so every
adapter reads the same fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import ConfigError, validation_problems
from inhouse.location import CONFIG_NAME
from inhouse.urls import hidden_host

__all__ = ["RuntimeConfig", "named_runtime", "refuse_gateway_key"]


class RuntimeConfig(BaseModel):
    """One runtime.

    ``family`` picks the adapter from the registry: built-ins are ``openai`` (any
    OpenAI-compatible server: vLLM, llama-cpp-python's server), ``ollama``, ``lmstudio``
    (LM Studio, with its REST API's model list), ``llamacpp`` (llama.cpp's ``llama-server``)
    and ``embedded`` (llama-cpp-python run by inhouse on loopback); a plugin may add more
    through the ``inhouse.runtimes`` entry point.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    family: str
    #: base URL (``http://127.0.0.1:11434``); a trailing ``/v1`` is accepted and dropped.
    #: ``None`` only for ``embedded``, which then finds the server inhouse started.
    url: str | None = None
    #: model name sent when a request names none (Ollama and vLLM need one)
    model: str | None = None
    #: the GGUF file the runtime serves, where it is on this machine: its SHA-256 pins it
    model_path: Path | None = None
    #: seconds to wait for an answer (for a stream: between two chunks)
    timeout: float = Field(default=120.0, gt=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    #: name of the environment variable that holds an API key, never the key itself
    api_key_env: str | None = None

    @field_validator("url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"runtime url must start with http:// or https://, got {value!r}")
        # whoever reads it (a colleague confirming a trial's status quo) reads the host
        # inhouse reaches, not a look-alike of another
        if (why := hidden_host(url)) is not None:
            raise ValueError(f"runtime url {url!r}: {why}")
        return url.removesuffix("/v1")

    def api_key(self) -> str | None:
        """The API key from the named environment variable, if any. Never a person's inhouse
        gateway key (:func:`refuse_gateway_key`)."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        refuse_gateway_key(self.api_key_env, value, f"runtime {self.name}", self.url)
        return value


def refuse_gateway_key(variable: str, value: str | None, what: str, url: str | None) -> None:
    """Refuse to send ``variable``'s ``value`` to ``what`` at ``url`` where it is, or is kept
    as, a person's own inhouse gateway key (``ih_…``, or any variable named ``INHOUSE_…``, where
    the pilot guide has people keep theirs). ``api_key_env`` is read from ``inhouse.toml``, a
    file whoever can push to the program wrote, and the key goes to whatever url the same file
    names, before anything judges where that is: a colleague's honest ``baseline verify``,
    ``prove --rerun`` or ``workflow test`` would hand their gateway key to its author, who could
    then use the gateway as them (their pilot use, their confirmations)."""
    if not variable.upper().startswith("INHOUSE_") and not (value or "").startswith("ih_"):
        return
    raise ConfigError(
        f"{what}: api_key_env names {variable}, which holds "
        + ("an inhouse gateway key" if (value or "").startswith("ih_") else "inhouse's own setting")
        + f"; inhouse never sends a person's gateway key to a runtime or API that inhouse.toml "
        f"names ({url or 'no url'}): whoever wrote the file could use the gateway as you. Name "
        "a variable holding that runtime's own API key, and ask the program's owner why the file "
        "names this one"
    )


def named_runtime(
    folder: Path, name: str, config: Mapping[str, Any], *, referrer: str
) -> RuntimeConfig:
    """The ``[runtimes.NAME]`` table of a program's ``inhouse.toml`` (already read into
    ``config``) as a :class:`RuntimeConfig`. ``referrer`` names the setting that pointed here,
    for the error. A relative ``model_path`` is taken from the program folder, so every command
    reads the same file wherever it runs."""
    where = folder / CONFIG_NAME
    tables = config.get("runtimes") or {}
    table = tables.get(name) if isinstance(tables, Mapping) else None
    if not isinstance(table, Mapping):
        known = ", ".join(sorted(tables)) if isinstance(tables, Mapping) and tables else "none"
        raise ConfigError(
            f"{where}: {referrer} names [runtimes.{name}], which is not there "
            f"(runtimes defined: {known}): add a [runtimes.{name}] table to {CONFIG_NAME} "
            "(docs/runtimes.md, 'Configuring a runtime')"
        )
    try:
        runtime = RuntimeConfig.model_validate({**table, "name": name})
    except ValidationError as err:
        raise ConfigError(f"{where}: {validation_problems(err, f'runtimes.{name}.')}") from None
    if runtime.model_path is not None:
        runtime = runtime.model_copy(
            update={"model_path": folder / runtime.model_path.expanduser()}
        )
    return runtime
