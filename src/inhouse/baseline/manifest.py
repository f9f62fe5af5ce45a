"""The baseline's manifest: the ``[baseline]`` table of ``inhouse.toml``.

The owner names one runtime (a ``[runtimes.NAME]`` table) and one or two blessed models, each by
the name the runtime lists it under, optionally with where its file lives (``path``) and where a
fresh machine fetches it from (``source``)::

    [baseline]
    owner = "lena"
    runtime = "local"                   # the [runtimes.local] table
    version = "llama-cpp-python 0.3.36" # optional: the runtime version or build it must report
    models = [
      { name = "qwen2.5-0.5b", path = "models/qwen2.5-0.5b.gguf",
        source = "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf" },
    ]

This module owns the shape of that table and how it points at its runtime; nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import ConfigError, validation_problems
from inhouse.location import CONFIG_NAME
from inhouse.program.config import read_config
from inhouse.runtimes.config import RuntimeConfig, named_runtime

__all__ = [
    "MAX_MODELS",
    "BlessedModel",
    "Manifest",
    "ModelSource",
    "baseline_runtime",
    "read_manifest",
    "runtime_config",
]

#: the play says "one or two blessed models"; more is how fragmentation starts
MAX_MODELS = 2

#: no control characters (a newline in a name would break the install script's lines)
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
_HF = re.compile(r"hf://(?P<repo>[^/@\s]+/[^/@\s]+)/(?P<file>[^@\s]+?)(?:@(?P<revision>\S+))?")


class ModelSource(BaseModel):
    """Where a fresh machine gets a blessed model's file from."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["hf", "url", "file"]
    #: hf: the repo id; url: the URL; file: the path as written
    location: str
    #: hf only: the file inside the repo, and the revision (None: main)
    filename: str = ""
    revision: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelSource:
        text = text.strip()
        if text.startswith("hf://"):
            match = _HF.fullmatch(text)
            if match is None:
                raise ValueError(
                    f"{text!r} is not hf://ORG/REPO/FILE.gguf[@REVISION], "
                    "e.g. hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"
                )
            return cls(
                kind="hf",
                location=match["repo"],
                filename=match["file"],
                revision=match["revision"],
            )
        if text.startswith(("http://", "https://")):
            return cls(kind="url", location=text)
        if "://" in text and not text.startswith("file://"):
            raise ValueError(f"{text!r}: a source is hf://…, http(s)://… or a file path")
        return cls(kind="file", location=text.removeprefix("file://"))

    @property
    def file_name(self) -> str:
        """The file's own name, where the source says it."""
        if self.kind == "hf":
            return self.filename.rsplit("/", 1)[-1]
        return self.location.rstrip("/").rsplit("/", 1)[-1]


class BlessedModel(BaseModel):
    """One blessed model: its name as the runtime lists it, and where its file is or comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=_PRINTABLE)
    #: where the file lives on a machine running the baseline (relative: to the program folder)
    path: str | None = Field(None, min_length=1, pattern=_PRINTABLE)
    #: where a fresh machine fetches it: ``hf://ORG/REPO/FILE[@REV]``, ``https://…`` or a path
    source: str | None = Field(None, min_length=1, pattern=_PRINTABLE)

    @field_validator("source")
    @classmethod
    def _source_parses(cls, value: str | None) -> str | None:
        if value is not None:
            ModelSource.parse(value)
        return value

    @property
    def fetch(self) -> ModelSource | None:
        return ModelSource.parse(self.source) if self.source else None


class Manifest(BaseModel):
    """The ``[baseline]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str = Field(min_length=1, description="the person who owns the baseline's standards")
    runtime: str = Field(min_length=1, description="the name of a [runtimes.NAME] table")
    #: the runtime version or build it must report (optional; the lock records what it reports)
    version: str | None = None
    models: list[BlessedModel]

    @field_validator("models", mode="before")
    @classmethod
    def _names_are_models(cls, value: Any) -> Any:
        """``models = ["a"]`` is short for ``models = [{name = "a"}]``."""
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("models")
    @classmethod
    def _one_or_two(cls, value: list[BlessedModel]) -> list[BlessedModel]:
        if not value:
            raise ValueError("name one or two blessed models (the play: one or two)")
        if len(value) > MAX_MODELS:
            names = ", ".join(m.name for m in value)
            raise ValueError(
                f"{len(value)} blessed models ({names}); the play says one or two: "
                "bless at most two, and keep the others out of the baseline"
            )
        given = [m.name for m in value]
        if len(set(given)) != len(given):
            raise ValueError(f"a model is named twice: {', '.join(given)}")
        return value

    def model(self, name: str) -> BlessedModel | None:
        return next((m for m in self.models if m.name == name), None)


def read_manifest(folder: Path, config: dict[str, Any] | None = None) -> Manifest:
    """The validated ``[baseline]`` table; a :class:`ConfigError` naming the field otherwise."""
    data = read_config(folder) if config is None else config
    table = data.get("baseline")
    where = folder / CONFIG_NAME
    if table is None:
        raise ConfigError(
            f"{where} has no [baseline] table: name the owner, the runtime and one or two "
            'blessed models, e.g. [baseline] owner = "lena", runtime = "local", '
            'models = ["inhouse-test-model"] (see docs/baseline.md)'
        )
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: baseline must be a table")
    try:
        manifest = Manifest.model_validate(table)
    except ValidationError as err:
        raise ConfigError(f"{where}: {validation_problems(err, 'baseline.')}") from None
    runtime_config(folder, manifest.runtime, data)  # the named runtime must exist and be valid
    return manifest


def runtime_config(folder: Path, name: str, config: dict[str, Any] | None = None) -> RuntimeConfig:
    """The ``[runtimes.NAME]`` table the baseline names, as a :class:`RuntimeConfig`."""
    data = read_config(folder) if config is None else config
    return named_runtime(folder, name, data, referrer="baseline.runtime")


def baseline_runtime(folder: Path) -> RuntimeConfig:
    """The runtime the baseline's manifest names."""
    config = read_config(folder)
    return runtime_config(folder, read_manifest(folder, config).runtime, config)
