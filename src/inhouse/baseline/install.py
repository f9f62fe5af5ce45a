"""``baseline install-script`` and ``baseline install``: a POSIX shell script a second person
runs on a fresh machine.

Run from a checkout of the program folder, it creates a virtual environment (by default
outside the checkout: :func:`default_venv`), installs the pinned inhouse (with the package extra
the runtime's adapter needs: ``embedded`` for the embedded runtime), fetches or checks every
blessed model file against the lock's SHA-256, starts the runtime where inhouse serves it
itself, and ends with ``inhouse baseline verify``. The script is a function of the manifest,
the lock, the program's name and id (the venv's name) and the install source only:
regenerating it for the same lock writes the same bytes.

That is what ``baseline install`` relies on: a second person runs it with the inhouse they
joined with, which regenerates the script from the checkout's inhouse.toml and inhouse.lock and
runs that text, never the bytes of ``install.sh`` (which its author can edit in git). Nor does
anything else the checkout holds run: Python runs isolated (``-I``: no module lying in the
checkout is imported), the venv lies outside the checkout, out of a ``git pull``'s reach (a
``.pth`` file pulled into its site-packages would run whenever its Python starts, before
inhouse's first line), and a model file is written only as a ``.gguf`` inside the checkout.
Installing inhouse from anything but the pinned release (``--source``, a folder or URL) is a
demo's convenience: outside a demo it would run a build nobody pinned on the second person's
machine, with their key.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from inhouse.baseline.lock import Lock, LockedModel, require_lock
from inhouse.baseline.manifest import BlessedModel, Manifest, read_manifest, runtime_config
from inhouse.errors import ConfigError, InvalidInput
from inhouse.location import DATA_DIR, checkout_of, refuse_tracked_state, untracked
from inhouse.outfiles import write_text
from inhouse.program.config import read_settings
from inhouse.program.engine import Program
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes.capabilities import runtime_capabilities
from inhouse.runtimes.testmodel import is_test_model, names_test_model

__all__ = [
    "COLLECTOR",
    "OLD_VENV",
    "SCRIPT_NAME",
    "InstallPlan",
    "checkout_id",
    "default_venv",
    "install_requirement",
    "install_venv",
    "plan_install",
    "program_venv_name",
    "refuse_source",
    "render_install_script",
    "run_install",
    "shared_venv",
    "venv_name",
    "write_install_script",
]

COLLECTOR = "inhouse baseline install-script"
SCRIPT_NAME = "install.sh"
_MODELS_DIR = f"${{INHOUSE_MODELS_DIR:-{DATA_DIR}/models}}"
#: where earlier install scripts made the venv: in the checkout, where a `git pull` writes
OLD_VENV = f"{DATA_DIR}/venv"
#: the default venvs' folder under the user's data folder (XDG's, as keys use XDG's config)
_VENVS = ("inhouse", "venvs")
#: how many hex digits of its path's SHA-256 tell a checkout's venv from another's
_CHECKOUT_DIGITS = 8

_PRELUDE = """\
set -eu

say() { printf '%s\\n' "inhouse-install: $*"; }
die() { printf '%s\\n' "inhouse-install: error: $*" >&2; exit 1; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    "$VENV/bin/python" -I -c 'import hashlib, sys
digest = hashlib.sha256()
with open(sys.argv[1], "rb") as handle:
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
print(digest.hexdigest())' "$1"
  fi
}

fetch_url() {
  # fetch_url URL DEST: download to DEST.part (place_model moves it into place)
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$2.part" "$1" || die "cannot download $1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2.part" "$1" || die "cannot download $1"
  else
    "$VENV/bin/python" -I -c 'import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1]) as answer, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(answer, out)' "$1" "$2.part" || die "cannot download $1"
  fi
}

place_model() {
  # place_model NAME FILE SHA256: FILE.part, just written, goes into place only where its bytes
  # are the ones the lock pins; else it is removed (a source that is a link to a file of this
  # machine's, a key, would have left that file in the checkout as a "model")
  got=$(sha256_of "$2.part")
  if [ "$got" != "$3" ]; then
    rm -f "$2.part"
    die "model $1: the file written for $2 has SHA-256 $got, but the lock pins $3; \
nothing of it was kept: ask the baseline's owner"
  fi
  mv "$2.part" "$2"
  say "model $1: $2 matches the lock (sha256:$3)"
}

check_model() {
  # check_model NAME FILE SHA256: the file's bytes must be the ones the lock pins
  got=$(sha256_of "$2")
  [ "$got" = "$3" ] || die "model $1: $2 has SHA-256 $got, but the lock pins $3; \
remove the file and run this script again, or ask the baseline's owner"
  say "model $1: $2 matches the lock (sha256:$3)"
}
"""


#: the shell's :func:`checkout_id`: its path's bytes as ``pwd -P`` prints them, hashed by the
#: first tool the machine has (Python's, isolated, where it has neither)
_CHECKOUT_ID = (
    "checkout_id() {",
    "  if command -v sha256sum >/dev/null 2>&1; then",
    f"    printf '%s' \"$1\" | sha256sum | cut -c 1-{_CHECKOUT_DIGITS}",
    "  elif command -v shasum >/dev/null 2>&1; then",
    f"    printf '%s' \"$1\" | shasum -a 256 | cut -c 1-{_CHECKOUT_DIGITS}",
    "  else",
    '    "$PYTHON" -I -c \'import hashlib, os, sys',
    f'print(hashlib.sha256(os.fsencode(sys.argv[1])).hexdigest()[:{_CHECKOUT_DIGITS}])\' "$1"',
    "  fi",
    "}",
)

#: the default venv is made where it will run, never beside it and renamed (a venv's scripts
#: name its folder: renamed, they would run whatever the next install makes there); the one it
#: replaces waits aside, as ``$OLD``, until the new one holds the pinned inhouse (``fail`` puts
#: it back, as Ctrl-C does). A venv an install stopped outright (killed, a power cut) left aside
#: goes back first, so it is the one set aside again.
_SET_ASIDE = (
    "put_back() {",
    "  # renames first: the inhouse that ran this kills it a moment after a Ctrl-C",
    '  [ -n "$OLD" ] && [ -e "$OLD" ] || return 0',
    '  if [ -e "$VENV" ] || [ -L "$VENV" ]; then mv "$VENV" "$VENV.failed"; fi',
    '  mv "$OLD" "$VENV"',
    '  say "your previous virtual environment is back in $VENV, as it was"',
    '  rm -rf "$VENV.failed"',
    "}",
    'fail() { put_back; die "$*"; }',
    'if [ -n "$OLD" ]; then',
    '  rm -rf "$VENV.failed"',
    '  if [ -e "$OLD" ]; then',
    '    say "putting back $OLD, the virtual environment an install that was stopped set aside"',
    '    rm -rf "$VENV"',
    '    mv "$OLD" "$VENV"',
    "  fi",
    '  if [ -e "$VENV" ]; then',
    '    say "keeping $VENV aside as $OLD until the new one holds inhouse $INHOUSE_VERSION"',
    '    mv "$VENV" "$OLD"',
    "    trap 'put_back; exit 129' HUP",
    "    trap 'put_back; exit 130' INT",
    "    trap 'put_back; exit 143' TERM",
    "  fi",
    "fi",
)


def _q(text: str) -> str:
    return shlex.quote(text)


def program_venv_name(folder: Path) -> str:
    """The part of the default venv's folder name that names the program: its name made a file
    name, and the first 12 hex digits of the SHA-256 of its ``program_id`` (of its name, in a
    program that has none). Hashed, not used as it stands: ``inhouse.toml`` is the lead's text,
    and a ``program_id`` such as ``../..`` would point the venv, which the install empties, at
    a folder of the second person's. Installs before venvs were made per checkout named the
    venv this alone, one for every checkout of the program (:func:`shared_venv`)."""
    settings = read_settings(folder)
    slug = re.sub(r"[^a-z0-9]+", "-", settings.name.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256((settings.program_id or settings.name).encode()).hexdigest()[:12]
    return f"{slug or 'program'}-{digest}"


def checkout_id(folder: Path) -> str:
    """The first 8 hex digits of the SHA-256 of the program folder's resolved path (its bytes,
    as ``pwd -P`` prints them in the script): which checkout of the program a venv is for."""
    return hashlib.sha256(os.fsencode(folder.resolve())).hexdigest()[:_CHECKOUT_DIGITS]


def venv_name(folder: Path) -> str:
    """The folder name of the checkout's default venv: ``NAME-ID`` (:func:`program_venv_name`)
    and ``-HERE`` (:func:`checkout_id`). One per checkout: two checkouts of one program on a
    machine (two branches, a lock being tried beside the one in use) install what each one's
    lock pins, and each into a venv of its own; two programs never share one either."""
    return f"{program_venv_name(folder)}-{checkout_id(folder)}"


def _venvs_home() -> Path:
    data = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data) if os.path.isabs(data) else Path.home() / ".local" / "share"
    return base.joinpath(*_VENVS)


def default_venv(folder: Path) -> Path:
    """Where the install makes the checkout's venv unless told otherwise (``--venv``,
    ``INHOUSE_VENV``): ``$XDG_DATA_HOME/inhouse/venvs/NAME-ID-HERE``, or
    ``~/.local/share/inhouse/venvs/NAME-ID-HERE`` (:func:`venv_name`); never in the checkout,
    whose files anyone who can push to it writes. The script computes the same path in shell."""
    return _venvs_home() / venv_name(folder)


def shared_venv(folder: Path) -> Path:
    """Where installs made the program's venv before each checkout had its own: one for every
    checkout of the program on the machine (``.../venvs/NAME-ID``). The install never removes
    it (another checkout, or someone's PATH, may still run it); it says where it is."""
    return _venvs_home() / program_venv_name(folder)


def install_requirement(lock: Lock, *, extra: str | None, source: str | None) -> str:
    """What pip installs: the pinned release, or ``inhouse @ SOURCE`` (a folder or URL), with
    the package ``extra`` the runtime's adapter needs."""
    name = f"inhouse[{extra}]" if extra else "inhouse"
    if source is None:
        return f"{name}=={lock.inhouse}"
    if "://" in source:
        return f"{name} @ {source}"
    folder = Path(source).expanduser().resolve()
    if not folder.exists():
        raise InvalidInput(f"--source {source}: no such folder or file")
    return f"{name} @ {folder.as_uri()}"


def _model_target(blessed: BlessedModel) -> str | None:
    """Where the model's file goes on the machine, as a shell word (relative: the program)."""
    if blessed.path:
        return _q(blessed.path)
    fetch = blessed.fetch
    if fetch is None:
        return None
    return f'"{_MODELS_DIR}"/{_q(fetch.file_name)}'


def _fetched_where_it_runs(blessed: BlessedModel) -> str | None:
    """Why the install may not write ``blessed``'s file where the manifest says, or None. The
    file's bytes are whatever its source serves, checked only against the lock's digest, which
    the baseline's owner pins: named ``x.pth`` in the venv the install just made, it would run
    at the start of the verify that ends the install, with the second person's key (named
    ``.bashrc``, or ``.git/hooks/...``, at their next shell or commit). So a file the install
    fetches is a ``.gguf`` (what every runtime loads, which nothing runs), inside the checkout
    (a relative path that never climbs out of it)."""
    fetch = blessed.fetch
    if fetch is None:
        return None  # nothing is written: a missing file stops the script
    where = blessed.path or fetch.file_name
    if not where.lower().endswith(".gguf"):
        return (
            f"the install would write blessed model {blessed.name}'s file as {where!r}, which "
            "is not a .gguf file: the install writes only model files (*.gguf), whose bytes "
            'nothing runs; name the file\'s path (path = "models/NAME.gguf") in [baseline] '
            "of inhouse.toml"
        )
    if fetch.kind == "file" and not fetch.location.lower().endswith(".gguf"):
        # the copy is read on the second person's machine: their key file, copied into the
        # checkout as a "model", waits there for their next push
        return (
            f"the install would copy blessed model {blessed.name}'s file from {fetch.location!r}, "
            "which is not a .gguf file: a file source names a model file (*.gguf), never "
            "another file of the machine the install runs on"
        )
    parts = PurePosixPath(where).parts
    if blessed.path and (PurePosixPath(where).is_absolute() or ".." in parts):
        return (
            f"the install would write blessed model {blessed.name}'s file at {where!r}, outside "
            "the checkout: it writes model files only inside the program folder (a path "
            "relative to it, without '..'); copy the file there yourself, or name such a path"
        )
    return None


def _model_block(blessed: BlessedModel, pinned: LockedModel, *, test_model: bool) -> list[str]:
    lines = [f"# model {pinned.name} ({pinned.digest})"]
    target = _model_target(blessed)
    if not pinned.digest.startswith("sha256:") or pinned.digest_source not in (
        None,
        "file-sha256",
    ):
        lines.append(
            f"say {_q(f'model {pinned.name}: the runtime provides it; verify checks its digest')}"
        )
        return lines
    if (problem := _fetched_where_it_runs(blessed)) is not None:
        raise ConfigError(problem)
    if target is None:
        message = f"model {pinned.name}: no file named in the manifest; verify checks the digest"
        lines.append(f"say {_q(message)}")
        return lines
    expected = pinned.digest.removeprefix("sha256:")
    lines.append(f"target={target}")
    fetch = blessed.fetch
    # what was just written goes into place only with the locked bytes
    placed = f'place_model {_q(pinned.name)} "$target" {expected}'
    checked = f'check_model {_q(pinned.name)} "$target" {expected}'
    lines.append('if [ ! -f "$target" ]; then')
    lines.append('  mkdir -p "$(dirname "$target")"')
    # the file is written as "$target.part", then moved into place: one the checkout already
    # holds goes first, for cp, curl and Python each write through a link there (committed
    # pointing at a module of the venv just made, her bytes replaced it and passed the digest)
    lines.append('  rm -f "$target.part"')
    name = pinned.name
    if fetch is None and test_model:
        # nobody copies the test model: inhouse makes it (same seed, same bytes; checked here)
        made = " is missing: it is the project's test model, which inhouse makes: "
        again = " (with --seed N where it was made with another seed), then run this again"
        lines.append(
            f'  die {_q(f"model {name}: ")}"$target"{_q(made)}'
            f'{_q("inhouse models make-test-model --output ")}"$target"{_q(again)}'
        )
    elif fetch is None:
        lines.append(
            f'  die {_q(f"model {name}: ")}"$target"'
            f"{_q(' is missing and the manifest names no source; copy the blessed file there')}"
        )
    elif fetch.kind == "url":
        lines.append(f"  say {_q(f'fetching model {name} from {fetch.location}')}")
        lines.append(f'  fetch_url {_q(fetch.location)} "$target"')
        lines.append(f"  {placed}")
    elif fetch.kind == "file":
        lines.append(f"  say {_q(f'copying model {name} from {fetch.location}')}")
        lines.append(
            f'  cp {_q(fetch.location)} "$target.part" || die {_q(f"cannot copy {fetch.location}")}'
        )
        lines.append(f"  {placed}")
    else:
        revision = f" --revision {_q(fetch.revision)}" if fetch.revision else ""
        lines.append(f"  say {_q(f'pulling model {name} from the Hugging Face Hub')}")
        lines.append(
            f'  INHOUSE_MODELS_DIR="{_MODELS_DIR}" "$INHOUSE" --program . models pull '
            f"{_q(fetch.location)} {_q(fetch.filename)}{revision}"
        )
        lines.append(f'  pulled="{_MODELS_DIR}"/{_q(fetch.filename)}')
        lines.append('  if [ "$pulled" = "$target" ]; then')
        lines.append(f"    {checked}")
        lines.append("  else")
        lines.append('    cp "$pulled" "$target.part"')
        lines.append(f"    {placed}")
        lines.append("  fi")
    lines.append("else")
    lines.append(f"  {checked}")
    lines.append("fi")
    lines.append('served_model="${served_model:-$target}"')
    return lines


def _pip_failed(source: str | None) -> str:
    """What the script says where pip installed nothing (pip's own error is just above it): a
    second person with no package index that holds the pinned release was left at a bare pip
    error with no next step (the walk in tests/test_walk56.py). In double quotes in the
    script: ``$REQUIREMENT`` is the script's own variable, and nothing else here expands."""
    if source is not None:
        return (
            "pip could not install $REQUIREMENT, the --source this script was written with "
            "(pip's own error is above): check that folder or URL, then run this again"
        )
    return (
        "pip could not install $REQUIREMENT, the release the lock pins, from your package index "
        "(pip's own error is above): set PIP_INDEX_URL to the index your team publishes inhouse "
        "on, or PIP_FIND_LINKS to a folder holding that release's wheel (ask the baseline's "
        "owner where it is), then run this again; inhouse built from a folder or URL does not "
        "count outside a demo program"
    )


def render_install_script(
    folder: Path, manifest: Manifest, lock: Lock, *, source: str | None = None
) -> str:
    """The script's text for ``lock``."""
    runtime = runtime_config(folder, lock.runtime.name)
    needs = runtime_capabilities(runtime)
    requirement = install_requirement(lock, extra=needs.package_extra, source=source)
    name = program_venv_name(folder)
    header = [
        "#!/bin/sh",
        "# Stand up the inhouse baseline on this machine, then verify it against the lock.",
        f"# Written by `inhouse baseline install-script` for lock {lock.lock_hash}.",
        "# Do not edit: regenerate it after every `inhouse baseline lock`.",
        "#",
        "# Run it from a checkout of the program folder (beside inhouse.toml and inhouse.lock).",
        "# With inhouse installed (the one you joined with), run this instead of this file:",
        "#     inhouse baseline install",
        "# It writes this script again from inhouse.toml and inhouse.lock and runs that, so",
        "# an edit to this file never runs; it tells you when this file differs. Without",
        "# inhouse yet:",
        "#     sh install.sh",
        "# The verify that ends it is signed with your own key (INHOUSE_KEY, or the key",
        "# `inhouse join` made) and recorded in the program's store (INHOUSE_DATABASE_URL for a",
        "# team's shared database), or in this checkout's outbox when there is none.",
        "# Settings: PYTHON (default python3); INHOUSE_VENV, an absolute path outside this",
        f"# checkout (default $XDG_DATA_HOME/{'/'.join(_VENVS)}/{name}-HERE, else",
        f"# ~/.local/share/{'/'.join(_VENVS)}/{name}-HERE, HERE the first {_CHECKOUT_DIGITS} hex",
        "# digits of the SHA-256 of this checkout's path: a venv per checkout); pip reads",
        "# PIP_INDEX_URL and its other PIP_* variables for a private index.",
    ]
    body = [
        "",
        f"LOCK_HASH={_q(lock.lock_hash)}",
        f"INHOUSE_VERSION={_q(lock.inhouse)}",
        f"REQUIREMENT={_q(requirement)}",
        'PYTHON="${PYTHON:-python3}"',
        "",
        "if [ ! -f inhouse.toml ] || [ ! -f inhouse.lock ]; then",
        '  die "run this from the program folder, beside inhouse.toml and inhouse.lock"',
        "fi",
        'grep -q "^lock_hash = \\"$LOCK_HASH\\"" inhouse.lock || \\',
        '  die "inhouse.lock here is not the lock this script was written for ($LOCK_HASH)"',
        "\"$PYTHON\" -I -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \\",
        '  die "inhouse needs Python 3.11 or newer ($PYTHON is older; set PYTHON)"',
        "",
        # Python runs isolated (-I) throughout: run here, in a checkout anyone who can push to
        # it wrote, `python -m venv` and `python -m pip` would import a venv or pip package
        # lying in the checkout before the standard ones, and run its author's code with this
        # person's key. The venv lies outside the checkout: a .pth file a `git pull` wrote into
        # its site-packages would run whenever its Python starts, before inhouse's first line
        # (so before any refusal of tracked state). The default one is made afresh, never
        # through a link; the one it replaces is kept aside (OLD) until the new one holds the
        # pinned inhouse: often it is the very inhouse running this, and a pip that fails (no
        # index, no such release) would otherwise leave the person with none
        "here=$(pwd -P)",
        *_CHECKOUT_ID,
        "SHARED=''",
        'if [ -n "${INHOUSE_VENV:-}" ]; then',
        "  VENV=$INHOUSE_VENV",
        "  OLD=''",
        "else",
        '  case "${XDG_DATA_HOME:-}" in',
        "    /*) data_home=$XDG_DATA_HOME ;;",
        '    *) [ -n "${HOME:-}" ] || die "HOME is not set: set INHOUSE_VENV to where the '
        'virtual environment goes (an absolute path outside this checkout)"',
        "       data_home=$HOME/.local/share ;;",
        "  esac",
        f'  SHARED="$data_home/{"/".join(_VENVS)}/{name}"',
        '  id=$(checkout_id "$here") && [ -n "$id" ] || die "cannot hash this checkout\'s path '
        "(no sha256sum, shasum or $PYTHON): set INHOUSE_VENV to where the virtual environment "
        'goes (an absolute path outside this checkout)"',
        '  VENV="$SHARED-$id"',
        '  [ ! -L "$VENV" ] || die "$VENV is a symbolic link, which inhouse never makes: remove '
        'it, or set INHOUSE_VENV to a virtual environment of your own"',
        '  OLD="$VENV.old"',
        '  for aside in "$OLD" "$VENV.failed"; do',
        '    [ ! -L "$aside" ] || die "$aside is a symbolic link, which inhouse never makes: '
        'remove it"',
        "  done",
        "fi",
        'case "$VENV" in',
        "  /*) ;;",
        '  *) die "the virtual environment $VENV is not an absolute path: set INHOUSE_VENV to one '
        'outside this checkout" ;;',
        "esac",
        'case "$VENV/" in',
        '  "$here"/*|"$PWD"/*) die "the virtual environment $VENV lies in this checkout, where a '
        "git pull writes: a .pth file pulled into it would run at its Python's start; set "
        'INHOUSE_VENV to a folder outside it" ;;',
        "esac",
        'INHOUSE="$VENV/bin/inhouse"',
        f'[ ! -L {DATA_DIR} ] || die "{DATA_DIR} is a symbolic link in this checkout, which '
        'inhouse never makes: remove it"',
        f"mkdir -p {DATA_DIR}",
        f'[ -f {DATA_DIR}/.gitignore ] || echo "*" > {DATA_DIR}/.gitignore',
        # earlier install scripts made the venv in the checkout: in a pull's reach, and still
        # holding an inhouse its docs said to run. It was made afresh each time, so nothing of
        # the person's is in it; a link there is removed, never followed
        f"if [ -e {OLD_VENV} ] || [ -L {OLD_VENV} ]; then",
        f'  say "removing {OLD_VENV}, the virtual environment earlier installs made in this '
        'checkout (a git pull writes there); it is now $VENV"',
        f"  rm -rf {OLD_VENV}",
        "fi",
        # earlier installs made one venv for every checkout of the program on this machine:
        # another checkout, or someone's PATH, may still run it, so it stays where it is, said
        'for shared in "$SHARED" "$SHARED.old"; do',
        '  if [ -n "$SHARED" ] && [ -e "$shared" ]; then',
        '    say "$shared is the virtual environment earlier installs made for every checkout '
        "of this program on this machine; this checkout gets its own, $VENV. It is kept as "
        "it was (another checkout, or your PATH, may still run it): once none does, remove it "
        '(rm -rf \\"$shared\\")"',
        "  fi",
        "done",
        *_SET_ASIDE,
        'say "creating the virtual environment $VENV"',
        '"$PYTHON" -I -m venv "$VENV" || fail "cannot create the virtual environment $VENV"',
        'say "installing $REQUIREMENT"',
        '"$VENV/bin/python" -I -m pip install --quiet --disable-pip-version-check \\',
        '  "$REQUIREMENT" || \\',
        f'  fail "{_pip_failed(source)}"',
        'found=$("$INHOUSE" --version) || fail "$INHOUSE --version failed"',
        '[ "$found" = "inhouse $INHOUSE_VERSION" ] || \\',
        '  fail "pip installed $found, but the lock pins inhouse $INHOUSE_VERSION"',
        'if [ -n "$OLD" ] && [ -e "$OLD" ]; then',
        "  trap - HUP INT TERM",
        '  rm -rf "$OLD"',
        "fi",
        'say "installed $found"',
        "",
    ]
    for pinned in lock.models:
        blessed = manifest.model(pinned.name)
        if blessed is None:
            raise ConfigError(
                f"the lock pins {pinned.name}, which inhouse.toml no longer blesses: re-lock"
            )
        # the test model however its file is named: the lead's copy of it read by content
        here = folder / blessed.path if blessed.path else None
        test = names_test_model(pinned.name, blessed.path) or (
            here is not None and is_test_model(here)
        )
        body.extend([*_model_block(blessed, pinned, test_model=test), ""])
    if needs.served_by_inhouse:
        body.extend(
            [
                f"# the baseline's runtime is {runtime.family}: start it on the blessed model",
                'if ! "$INHOUSE" --program . runtime status --json | grep -q \'"answering": true\''
                "; then",
                '  [ -n "${served_model:-}" ] || die "no blessed model file to serve"',
                '  say "starting the embedded runtime on $served_model"',
                '  "$INHOUSE" --program . runtime serve "$served_model"',
                "fi",
                "",
            ]
        )
    body.extend(
        [
            'say "inhouse is in $VENV: run $INHOUSE (or put $VENV/bin on PATH)"',
            'say "verifying this machine against lock $LOCK_HASH"',
            'exec "$INHOUSE" --program . baseline verify',
        ]
    )
    return "\n".join([*header, "", _PRELUDE.rstrip("\n"), *body]) + "\n"


def _shown_path(folder: Path, path: Path) -> str:
    try:
        return str(PurePosixPath(path.resolve().relative_to(folder.resolve())))
    except ValueError:
        return str(path.resolve())


def write_install_script(
    program: Program, actor: str | None, out: Path, *, source: str | None = None
) -> tuple[Path, Fact]:
    """Write the script to ``out`` (executable) and record a ``baseline.install_script`` fact."""
    refuse_source(program, source)
    folder = program.folder
    lock = require_lock(folder)
    text = render_install_script(folder, read_manifest(folder), lock, source=source)
    program.actor(actor)  # fail on an unknown person before writing anything
    write_text(out, text, option="--out")
    out.chmod(0o755)
    payload = {
        "lock_hash": lock.lock_hash,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "path": _shown_path(folder, out),
    }
    fact = program.record_fact(
        actor,
        "baseline.install_script",
        payload,
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
    return out, fact


def refuse_source(program: Program, source: str | None) -> None:
    """Refuse ``source`` (inhouse from a folder or URL, not the release the lock pins) outside a
    demo program: a build nobody pinned would run on the second person's machine, with their
    key, and a verify run by it says whatever its author wrote. Raises :class:`InvalidInput`."""
    if source is None:
        return
    if not program.detached() and program.state().demo:
        return
    where = (
        "this checkout has no program log to tell a demo by"
        if program.detached()
        else "this program is not a demo"
    )
    raise InvalidInput(
        f"--source {source}: installing inhouse from a folder or URL instead of the release "
        "the lock pins is for demo programs only, and "
        f"{where}: it would run a build nobody pinned on the second person's machine, with "
        "their key. Leave --source out: the script installs the pinned inhouse from the "
        "second person's own package index (PIP_INDEX_URL)"
    )


@dataclass(frozen=True)
class InstallPlan:
    """What ``baseline install`` runs: the script regenerated for the checkout's lock, and how
    the folder's ``install.sh`` compares with it (``"same"``, ``"differs"`` or ``"absent"``)."""

    folder: Path
    lock: Lock
    requirement: str
    text: str
    script: str
    #: where ``script`` is ``"differs"``: the program's ``baseline.install_script`` fact that
    #: recorded install.sh's very bytes for this lock (written by another inhouse release's
    #: ``install-script``, whose header differs: not an edit since), or None
    recorded: Fact | None = None

    @property
    def models(self) -> list[str]:
        return [f"{m.name} ({m.digest})" for m in self.lock.models]


def plan_install(program: Program, *, source: str | None = None) -> InstallPlan:
    """Regenerate the install script from the checkout's inhouse.toml and inhouse.lock, and
    compare it with the folder's ``install.sh`` (read only to compare, never to run)."""
    refuse_source(program, source)
    folder = program.folder
    lock = require_lock(folder)
    text = render_install_script(folder, read_manifest(folder), lock, source=source)
    needs = runtime_capabilities(runtime_config(folder, lock.runtime.name))
    requirement = install_requirement(lock, extra=needs.package_extra, source=source)
    existing = folder / SCRIPT_NAME
    recorded = None
    if not existing.is_file():
        script = "absent"
    else:
        found = existing.read_bytes()
        script = "same" if found == text.encode() else "differs"
        if script == "differs" and not program.detached():
            digest = hashlib.sha256(found).hexdigest()
            recorded = next(
                (
                    f
                    for f in reversed(program.state().facts)
                    if f.kind == "baseline.install_script"
                    and f.payload.get("lock_hash") == lock.lock_hash
                    and f.payload.get("sha256") == digest
                ),
                None,
            )
    return InstallPlan(folder, lock, requirement, text, script, recorded)


def _path_into(folder: Path, path: str) -> str | None:
    """The first entry of ``path`` (a PATH) that reaches into ``folder``'s checkout once a
    process runs in ``folder``: an empty or relative one (resolved against the folder), or one
    inside the git checkout that holds it (:func:`~inhouse.location.checkout_of`); or None."""
    checkout = checkout_of(folder)
    own = _own_commands(folder, checkout)
    for entry in path.split(os.pathsep):
        where = folder / entry if entry else folder  # an empty entry is the current folder
        resolved = where.expanduser().resolve()
        if not Path(entry).is_absolute() or (resolved.is_relative_to(checkout) and resolved != own):
            return entry
    return None


def _own_commands(folder: Path, checkout: Path) -> Path | None:
    """The folder of the running Python's commands (a venv's ``bin/``, where this ``inhouse``
    lies) where it is in ``checkout`` and git tracks nothing in it: a source install's
    ``.venv`` at the top of the repository, activated. What it holds runs as you already (this
    inhouse does), and no pull writes into it. Not ``.inhouse/`` (an old install's venv, which
    the next install removes). None otherwise."""
    scripts = Path(sysconfig.get_path("scripts")).resolve()
    if not scripts.is_relative_to(checkout) or scripts.is_relative_to(folder.resolve() / DATA_DIR):
        return None
    return scripts if untracked(folder, scripts) else None


def install_venv(folder: Path, venv: Path | None = None) -> Path:
    """The venv the install makes or uses: ``venv`` (``--venv``), else ``$INHOUSE_VENV``, else
    :func:`default_venv`. One inside the git checkout holding ``folder``
    (:func:`~inhouse.location.checkout_of`) is refused (:class:`InvalidInput`): a ``git pull``
    writes there, and a ``.pth`` file it wrote into the venv's site-packages would run whenever
    that Python starts, before anything of inhouse could refuse it."""
    chosen = venv if venv is not None else os.environ.get("INHOUSE_VENV") or None
    if chosen is None:
        return default_venv(folder)
    where = Path(chosen).expanduser().resolve()
    checkout = checkout_of(folder)
    if where.is_relative_to(checkout):
        option = "--venv" if venv is not None else "INHOUSE_VENV"
        raise InvalidInput(
            f"{option} {chosen}: the virtual environment would lie in the checkout {checkout}, "
            "where a `git pull` writes whatever whoever pushes there committed: a .pth file in "
            "its site-packages runs whenever its Python starts, with your key at hand. Name a "
            f"folder outside the checkout, or leave {option} out (default: "
            f"{default_venv(folder)})"
        )
    return where


#: how long an interrupted install's script may take to put the previous venv back
_PUT_BACK_SECONDS = 30


def run_install(plan: InstallPlan, *, venv: Path | None = None) -> int:
    """Run the regenerated script (its text, handed to ``sh``; no file is run) in the program
    folder, with this process's environment; return its exit status. Refused, before anything
    runs, where PATH reaches into the folder: ``sh`` itself and each program the script names
    (``python3``, ``curl``, ``sha256sum``) would be whatever the checkout holds there; where
    the checkout's git tracks a file under ``.inhouse/`` (:func:`refuse_tracked_state`); and
    where the venv would lie in the checkout (:func:`install_venv`)."""
    env = dict(os.environ)
    refuse_tracked_state(plan.folder, "inhouse baseline install")
    chosen = install_venv(plan.folder, venv)
    entry = _path_into(plan.folder, env.get("PATH", os.defpath))
    if entry is not None:
        raise InvalidInput(
            f"your PATH holds {entry or '(an empty entry)'!r}, which the install script, run in "
            f"{plan.folder}, would look programs up in: a `sh`, `python3` or `curl` the "
            "checkout holds there would run as you, with your key. Take it off PATH (a "
            "program folder's own tools never belong on it) and run `inhouse baseline install` "
            "again"
        )
    if venv is not None or env.get("INHOUSE_VENV"):
        env["INHOUSE_VENV"] = str(chosen)
    script = subprocess.Popen(
        ["sh", "-c", plan.text, "inhouse-baseline-install"], cwd=plan.folder, env=env
    )
    try:
        return script.wait()
    except KeyboardInterrupt:
        # a Ctrl-C reaches the script too (the terminal signals the whole foreground group),
        # whose trap puts the previous venv back: give it the time to (subprocess.run would
        # kill it a quarter of a second later, mid-way on a loaded machine)
        try:
            script.wait(timeout=_PUT_BACK_SECONDS)
        except subprocess.TimeoutExpired:
            script.kill()
            script.wait()
        raise
