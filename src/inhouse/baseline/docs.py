"""``baseline docs``: the one-page ``BASELINE.md`` a second person follows, written from the
manifest and the lock: what is supported, how to install it, and the data rules in plain words.
No timestamps: the page changes only when the baseline does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inhouse.baseline.install import program_venv_name
from inhouse.baseline.lock import Lock, require_lock, rules_hash
from inhouse.baseline.manifest import Manifest, read_manifest, runtime_config
from inhouse.errors import ConfigError
from inhouse.outfiles import write_text
from inhouse.program.config import read_config
from inhouse.runtimes.capabilities import runtime_capabilities

__all__ = ["DOCS_NAME", "render_docs", "rules_in_plain_words", "write_docs"]

DOCS_NAME = "BASELINE.md"


def rules_in_plain_words(config: dict[str, Any]) -> list[str]:
    """The data-handling rules as sentences ([] when inhouse.toml writes none)."""
    if "data_rules" not in config:
        return []
    from inhouse.policy import load_rules

    return list(load_rules(config).plain_words())


def _size(size: int | None) -> str:
    return "unknown" if size is None else f"{size:,} bytes"


def render_docs(folder: Path, manifest: Manifest, lock: Lock, config: dict[str, Any]) -> str:
    runtime = runtime_config(folder, lock.runtime.name, config)
    served_by_inhouse = runtime_capabilities(runtime).served_by_inhouse
    where = "run by inhouse on loopback" if served_by_inhouse else f"at {runtime.url}"
    lines = [
        "# The baseline",
        "",
        "What this organisation supports for local models. Written by `inhouse baseline docs` "
        "from `inhouse.toml` and `inhouse.lock`; do not edit: change those and regenerate.",
        "",
        f"- **Owner:** {lock.owner}",
        f"- **Lock:** `{lock.lock_hash}`",
        f"- **Runtime:** {lock.runtime.name}, family `{lock.runtime.family}`, {where}; "
        f"version {lock.runtime.label}",
        f"- **inhouse:** {lock.inhouse} (locked on Python {lock.python})",
        "",
        "## Blessed models",
        "",
        "Only these models, with exactly these weights, are supported. Anything else is "
        "refused by workflows and the gateway.",
        "",
        "| model | digest | size | comes from |",
        "|---|---|---|---|",
    ]
    for pinned in lock.models:
        blessed = manifest.model(pinned.name)
        origin = (blessed.source or blessed.path) if blessed else None
        lines.append(
            f"| {pinned.name} | `{pinned.digest}` | {_size(pinned.size)} | "
            f"{f'`{origin}`' if origin else 'the runtime'} |"
        )
    lines += [
        "",
        "## Install it on your machine",
        "",
        "1. Get the program folder (it holds `inhouse.toml`, `inhouse.lock` and `install.sh`), "
        "and point `INHOUSE_DATABASE_URL` at the team's database if it has one.",
        "2. From that folder, with your own inhouse and key (the one `inhouse join` made, or "
        "`INHOUSE_KEY`), run `inhouse baseline install` (`--dry-run` first shows what it will "
        "run). It writes the install script again from `inhouse.toml` and `inhouse.lock` and "
        "runs that, never `install.sh`'s bytes, and says so when `install.sh` differs. Only "
        "where inhouse is not installed yet, run `sh install.sh`. "
        "It creates a virtual environment outside the checkout, out of a `git pull`'s reach, "
        "one for each checkout "
        f"(`~/.local/share/inhouse/venvs/{program_venv_name(folder)}-HERE`, HERE a short "
        "hash of the checkout's path, or under `$XDG_DATA_HOME`; the install says which; "
        f"`--venv PATH` elsewhere), installs inhouse {lock.inhouse}, fetches each blessed "
        "model file and checks its SHA-256"
        + (f", starts the {runtime.family} runtime" if served_by_inhouse else "")
        + ", and ends with `inhouse baseline verify`.",
        "3. The verify prints every check, with the fix for any that fails. When it passes as "
        "someone other than the owner, the baseline is proven reproducible (play 2's exit).",
        "",
        "To check a machine again later, run `baseline verify` with the inhouse the install "
        f"said it put in that venv (`~/.local/share/inhouse/venvs/{program_venv_name(folder)}"
        "-HERE/bin/inhouse baseline verify`; an earlier install's `.inhouse/venv` is removed "
        "by the next install: a pull writes there).",
        "",
        "## Data-handling rules",
        "",
    ]
    words = rules_in_plain_words(config)
    if words:
        lines.append(f"Rules hash `{lock.rules_hash}` (part of the lock).")
        lines.append("")
        lines += [f"- {sentence}" for sentence in words]
    else:
        lines.append(
            "**No data-handling rules are written yet.** Add a `[data_rules]` table to "
            "`inhouse.toml` and re-lock: play 2 is not done without them."
        )
    return "\n".join(lines) + "\n"


def write_docs(folder: Path, out: Path | None = None) -> Path:
    """Write ``BASELINE.md`` (or ``out``) from the manifest and the current lock."""
    lock = require_lock(folder)
    config = read_config(folder)
    if rules_hash(config) != lock.rules_hash:
        raise ConfigError(
            "the [data_rules] in inhouse.toml changed since the lock: re-lock first "
            "(`inhouse baseline lock`), so the page describes the locked rules"
        )
    text = render_docs(folder, read_manifest(folder, config), lock, config)
    path = out or folder / DOCS_NAME
    write_text(path, text, option="--out")
    return path
