"""``inhouse.toml``: the program's settings, kept in git. This module reads and writes the
``[program]`` table; later packages add their own tables (runtimes, gateway, data rules) and
validate them with their own models, leaving unknown tables alone."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse.errors import ConfigError, validation_problems
from inhouse.jsonfiles import toml_loads
from inhouse.location import CONFIG_NAME

__all__ = ["ProgramSettings", "read_config", "read_settings", "write_new_config"]


class ProgramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    lead: str = Field(min_length=1)
    playbook: str = Field("local-model-program", description="shipped name or a path")
    default_user: str | None = Field(
        None, description="ignored since identities: whoever holds the signing key acts"
    )
    program_id: str | None = Field(
        None, description="the hash of the program's first event: names it in envelopes"
    )
    lead_key: str | None = Field(
        None,
        description="the key id that created the program: the audit's root of trust, kept in git",
    )


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_NAME
    try:
        with path.open("rb") as handle:
            return toml_loads(handle.read().decode())
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: not UTF-8 text ({err.reason})") from None


def read_settings(folder: Path) -> ProgramSettings:
    data = read_config(folder)
    try:
        return ProgramSettings.model_validate(data.get("program", {}))
    except ValidationError as err:
        problems = validation_problems(err, "program.")
        raise ConfigError(f"{folder / CONFIG_NAME}: {problems}") from None


def write_new_config(folder: Path, settings: ProgramSettings) -> Path:
    """Write a fresh ``inhouse.toml``; never overwrites one that exists."""
    path = folder / CONFIG_NAME
    body = tomli_w.dumps({"program": settings.model_dump(exclude_none=True)})
    header = (
        "# inhouse program settings: keep this file in git.\n"
        "# Later sections configure runtimes, the baseline, the gateway and data rules.\n\n"
    )
    with path.open("x", encoding="utf-8") as handle:
        handle.write(header + body)
    return path
