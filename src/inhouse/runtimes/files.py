"""The models folder: which GGUF files are there, where each came from, and whether its bytes
still match the SHA-256 recorded when it arrived.

The record is ``models.json`` in the folder, written whenever inhouse puts a file there (``pull``,
``make-test-model``) or is asked to adopt one (``record_model``). ``verify`` rehashes every file,
ignoring any cache, and reports drift: a changed digest, a recorded file gone, a file never
recorded. Only GGUF model files are recorded (``digests.gguf_problem``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from inhouse.errors import InvalidInput
from inhouse.jsonfiles import read_json
from inhouse.outfiles import check_replaceable
from inhouse.runtimes.digests import gguf_problem, sha256_digest
from inhouse.runtimes.testmodel import TEST_MODEL_FILENAME, is_test_model, make_test_model

__all__ = [
    "MANIFEST_NAME",
    "ModelFile",
    "ModelRecord",
    "VerifyEntry",
    "VerifyReport",
    "create_test_model",
    "list_models",
    "record_model",
    "resolve_model",
    "verify_models",
]

MANIFEST_NAME = "models.json"
_MANIFEST_VERSION = 1


class ModelRecord(BaseModel):
    """What inhouse recorded about one file when it arrived."""

    digest: str
    size: int
    source: dict[str, Any] = Field(default_factory=dict)
    recorded_at: str = ""


class ModelFile(BaseModel):
    """A model file in the folder, with its record where there is one."""

    name: str
    path: str
    size: int
    record: ModelRecord | None = None
    is_test_model: bool = False


VerifyStatus = Literal["ok", "drift", "missing", "unrecorded"]


class VerifyEntry(BaseModel):
    name: str
    status: VerifyStatus
    recorded: str | None = None
    actual: str | None = None


class VerifyReport(BaseModel):
    folder: str
    entries: list[VerifyEntry]

    @property
    def ok(self) -> bool:
        """True when every recorded file is present with its recorded digest."""
        return all(entry.status in ("ok", "unrecorded") for entry in self.entries)


def resolve_model(folder: Path, model: str | Path) -> Path:
    """A model named by path, or by its name in the models folder (``inhouse-test-model.gguf``,
    or without the suffix)."""
    given = Path(model).expanduser()
    for candidate in (given, folder / given, folder / f"{given}.gguf"):
        if candidate.is_file():
            return candidate.resolve()
    raise InvalidInput(
        f"no model file {str(model)!r} (looked at it as a path and in {folder}); "
        "`inhouse models list` shows what is there"
    )


def _read_manifest(folder: Path) -> dict[str, ModelRecord]:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        raw = read_json(path)
    except InvalidInput as err:
        raise InvalidInput(f"{err}; fix or remove it") from None
    models = raw.get("models", {}) if isinstance(raw, dict) else {}
    return {name: ModelRecord.model_validate(record) for name, record in models.items()}


def _write_manifest(folder: Path, records: dict[str, ModelRecord]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "version": _MANIFEST_VERSION,
        "models": {name: records[name].model_dump() for name in sorted(records)},
    }
    tmp = folder / f".{MANIFEST_NAME}.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, folder / MANIFEST_NAME)


def _model_paths(folder: Path) -> dict[str, Path]:
    """GGUF files under ``folder`` by name relative to it (hub downloads may sit in
    sub-folders), skipping the hub's own ``.cache``."""
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.gguf")):
        relative = path.relative_to(folder)
        if relative.parts[0].startswith(".") or not path.is_file():
            continue
        found[relative.as_posix()] = path
    return found


def list_models(folder: Path) -> list[ModelFile]:
    """The GGUF files in the folder with their records. Cheap: hashes nothing."""
    records = _read_manifest(folder)
    return [
        ModelFile(
            name=name,
            path=str(path),
            size=path.stat().st_size,
            record=records.get(name),
            is_test_model=is_test_model(path),
        )
        for name, path in _model_paths(folder).items()
    ]


def record_model(
    folder: Path, path: Path, source: dict[str, Any], *, digest: str | None = None
) -> ModelFile:
    """Record ``path`` (a file inside ``folder``) with where it came from. ``digest``, when the
    caller has just computed it, saves hashing a large file twice."""
    folder = folder.resolve()
    path = path.resolve()
    if folder not in path.parents:
        raise InvalidInput(f"{path} is not inside the models folder {folder}")
    name = path.relative_to(folder).as_posix()
    problem = gguf_problem(path)
    if problem is not None:
        raise InvalidInput(f"{problem}: only a model's weights are recorded as one")
    records = _read_manifest(folder)
    record = ModelRecord(
        digest=digest or sha256_digest(path, cached=False),
        size=path.stat().st_size,
        source=source,
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    records[name] = record
    _write_manifest(folder, records)
    return ModelFile(
        name=name,
        path=str(path),
        size=record.size,
        record=record,
        is_test_model=is_test_model(path),
    )


def create_test_model(folder: Path, *, seed: int = 0, output: Path | None = None) -> ModelFile:
    """Write the test model into the models folder (or to ``output``) and record it there."""
    target = output if output is not None else folder / TEST_MODEL_FILENAME
    # a real model or someone's file: making the test model is never worth losing it
    check_replaceable(target, option="--output", what="the test model", ours=is_test_model)
    try:
        make_test_model(target, seed=seed)
    except (FileExistsError, NotADirectoryError):
        raise InvalidInput(f"cannot write {target}: a file in its path is not a folder") from None
    source = {"kind": "test-model", "seed": seed}
    if folder.resolve() in target.resolve().parents:
        return record_model(folder, target, source)
    return ModelFile(
        name=target.name,
        path=str(target.resolve()),
        size=target.stat().st_size,
        record=ModelRecord(
            digest=sha256_digest(target, cached=False), size=target.stat().st_size, source=source
        ),
        is_test_model=True,
    )


def verify_models(folder: Path, names: list[str] | None = None) -> VerifyReport:
    """Rehash files (all, or ``names``) and compare with the record."""
    records = _read_manifest(folder)
    present = _model_paths(folder)
    wanted = sorted(set(records) | set(present)) if not names else list(names)
    entries: list[VerifyEntry] = []
    for name in wanted:
        record = records.get(name)
        path = present.get(name)
        if path is None:
            if record is None:
                raise InvalidInput(f"no model {name!r} in {folder}")
            entries.append(VerifyEntry(name=name, status="missing", recorded=record.digest))
            continue
        actual = sha256_digest(path, cached=False)
        if record is None:
            entries.append(VerifyEntry(name=name, status="unrecorded", actual=actual))
        else:
            status: VerifyStatus = "ok" if actual == record.digest else "drift"
            entries.append(
                VerifyEntry(name=name, status=status, recorded=record.digest, actual=actual)
            )
    return VerifyReport(folder=str(folder), entries=entries)
