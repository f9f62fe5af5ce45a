"""``baseline install-script`` and ``baseline install``: a POSIX shell script a second person
runs on a fresh machine.

Run from a checkout of the program folder, it creates a virtual environment, installs the
pinned inhouse (with the package extra the runtime's adapter needs: ``embedded`` for the
embedded runtime), fetches or checks every blessed model file against the lock's SHA-256, starts
the runtime where inhouse serves it itself, and ends with ``inhouse baseline verify``. The
script is a function of the manifest, the lock and the install source only: regenerating it for
the same lock writes the same bytes.

That is what ``baseline install`` relies on: a second person runs it with the inhouse they
joined with, which regenerates the script from the checkout's inhouse.toml and inhouse.lock and
runs that text, never the bytes of ``install.sh`` (which its author can edit in git). Nor does
anything else the checkout holds run: Python runs isolated (``-I``: no module lying in the
checkout is imported), the checkout's own venv is made afresh, and a model file is written only
as a ``.gguf`` inside the checkout (never a ``.pth`` the venv's Python would run). Installing
inhouse from anything but the pinned release (``--source``, a folder or URL) is a demo's
convenience: outside a demo it would run a build nobody pinned on the second person's machine,
with their key.
"""

from __future__ import annotations

import hashlib
import os
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
from inhouse.program.engine import Program
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes.capabilities import runtime_capabilities
from inhouse.runtimes.testmodel import names_test_model

__all__ = [
    "COLLECTOR",
    "SCRIPT_NAME",
    "InstallPlan",
    "install_requirement",
    "plan_install",
    "refuse_source",
    "render_install_script",
    "run_install",
    "write_install_script",
]

COLLECTOR = "inhouse baseline install-script"
SCRIPT_NAME = "install.sh"
_MODELS_DIR = f"${{INHOUSE_MODELS_DIR:-{DATA_DIR}/models}}"

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


def _q(text: str) -> str:
    return shlex.quote(text)


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


def _model_block(blessed: BlessedModel, pinned: LockedModel) -> list[str]:
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
    if fetch is None and names_test_model(name, blessed.path):
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
        "# Settings: PYTHON (default python3), INHOUSE_VENV (default .inhouse/venv); pip reads",
        "# PIP_INDEX_URL and its other PIP_* variables for a private index.",
    ]
    body = [
        "",
        f"LOCK_HASH={_q(lock.lock_hash)}",
        f"INHOUSE_VERSION={_q(lock.inhouse)}",
        f"REQUIREMENT={_q(requirement)}",
        'PYTHON="${PYTHON:-python3}"',
        f'VENV="${{INHOUSE_VENV:-{DATA_DIR}/venv}}"',
        'INHOUSE="$VENV/bin/inhouse"',
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
        # person's key. The environment the checkout holds by default is made afresh (--clear):
        # one it already held could run code at pip's start (a .pth file) or pick its index (a
        # pip.conf). Never through a link out of the checkout: --clear would empty its target
        'if [ -n "${INHOUSE_VENV:-}" ]; then',
        "  FRESH=''",
        f'elif [ -L {DATA_DIR} ] || [ -L "$VENV" ]; then',
        '  die "$VENV is a symbolic link in this checkout, which inhouse never makes: remove '
        'it, or set INHOUSE_VENV to a virtual environment of your own"',
        "else",
        "  FRESH=--clear",
        "fi",
        f"mkdir -p {DATA_DIR}",
        f'[ -f {DATA_DIR}/.gitignore ] || echo "*" > {DATA_DIR}/.gitignore',
        'say "creating the virtual environment $VENV"',
        '"$PYTHON" -I -m venv $FRESH "$VENV"',
        'say "installing $REQUIREMENT"',
        '"$VENV/bin/python" -I -m pip install --quiet --disable-pip-version-check \\',
        '  "$REQUIREMENT" || \\',
        f'  die "{_pip_failed(source)}"',
        'found=$("$INHOUSE" --version)',
        '[ "$found" = "inhouse $INHOUSE_VERSION" ] || \\',
        '  die "pip installed $found, but the lock pins inhouse $INHOUSE_VERSION"',
        'say "installed $found"',
        "",
    ]
    for pinned in lock.models:
        blessed = manifest.model(pinned.name)
        if blessed is None:
            raise ConfigError(
                f"the lock pins {pinned.name}, which inhouse.toml no longer blesses: re-lock"
            )
        body.extend([*_model_block(blessed, pinned), ""])
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
    inhouse does), and no pull writes into it. Not ``.inhouse/``, whose venv the script makes
    afresh. None otherwise."""
    scripts = Path(sysconfig.get_path("scripts")).resolve()
    if not scripts.is_relative_to(checkout) or scripts.is_relative_to(folder.resolve() / DATA_DIR):
        return None
    return scripts if untracked(folder, scripts) else None


def run_install(plan: InstallPlan, *, venv: Path | None = None) -> int:
    """Run the regenerated script (its text, handed to ``sh``; no file is run) in the program
    folder, with this process's environment; return its exit status. Refused, before anything
    runs, where PATH reaches into the folder: ``sh`` itself and each program the script names
    (``python3``, ``curl``, ``sha256sum``) would be whatever the checkout holds there; and
    where the checkout's git tracks a file under ``.inhouse/`` (:func:`refuse_tracked_state`)."""
    env = dict(os.environ)
    refuse_tracked_state(plan.folder, "inhouse baseline install")
    entry = _path_into(plan.folder, env.get("PATH", os.defpath))
    if entry is not None:
        raise InvalidInput(
            f"your PATH holds {entry or '(an empty entry)'!r}, which the install script, run in "
            f"{plan.folder}, would look programs up in: a `sh`, `python3` or `curl` the "
            "checkout holds there would run as you, with your key. Take it off PATH (a "
            "program folder's own tools never belong on it) and run `inhouse baseline install` "
            "again"
        )
    if venv is not None:
        env["INHOUSE_VENV"] = str(venv.expanduser().resolve())
    done = subprocess.run(
        ["sh", "-c", plan.text, "inhouse-baseline-install"], cwd=plan.folder, env=env, check=False
    )
    return done.returncode
