"""Where a program's data lives: the one place that resolves it.

A *program folder* holds ``inhouse.toml`` (kept in git) and ``.inhouse/`` (the store, reports;
not kept in git). Commands find it by walking up from the current directory, like git; the
``--program`` option or ``INHOUSE_PROGRAM`` overrides the walk. The database is SQLite at
``.inhouse/inhouse.db`` unless ``INHOUSE_DATABASE_URL`` names another (PostgreSQL for teams).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from inhouse.errors import InvalidInput, ProgramNotFound, Refused

__all__ = [
    "CONFIG_NAME",
    "DATA_DIR",
    "checkout_of",
    "database_url",
    "find_program",
    "inside_program",
    "models_dir",
    "optional_program",
    "refuse_tracked_state",
    "run_dir",
    "safe_join",
    "state_folder",
    "tracked_state",
    "untracked",
]

CONFIG_NAME = "inhouse.toml"
DATA_DIR = ".inhouse"


def _is_program(folder: Path) -> bool:
    return (folder / CONFIG_NAME).is_file()


def inside_program(start: Path) -> Path | None:
    """The program folder containing ``start`` (itself or an ancestor), or None."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if _is_program(folder):
            return folder
    return None


def checkout_of(folder: Path) -> Path:
    """The git checkout holding the program folder ``folder``: the nearest folder at or above
    it with a ``.git``, else ``folder`` itself. A program is often one folder of a team's
    repository, all of it written by whoever can push there: what runs from a checkout (a
    plugin, a tool on PATH) is refused from anywhere in it, not only from the program folder.
    A repository at the home folder or above it (one's dotfiles) is no team's checkout: it
    would take ``~/.local/bin`` and every folder of one's own in with it. A ``.git`` that is a
    file (a submodule's, or a linked work tree's) makes no checkout of its own where a
    repository holds it: the folder is the one that repository checks out, written by whoever
    pushes there (who may have put the program in a submodule), so the walk goes on above it."""
    folder = folder.resolve()
    try:
        home: Path | None = Path.home().resolve()
    except RuntimeError:  # no HOME and no entry in the password file (a bare service account)
        home = None
    found = folder
    for top in (folder, *folder.parents):
        if home is not None and (top == home or home.is_relative_to(top)):
            break
        mark = top / ".git"
        if mark.exists():
            found = top
            if not mark.is_file():
                break
    return found


def find_program(explicit: str | Path | None = None, *, cwd: Path | None = None) -> Path:
    """Resolve the program folder: ``explicit``, else ``$INHOUSE_PROGRAM``, else walk up."""
    chosen = explicit if explicit is not None else os.environ.get("INHOUSE_PROGRAM") or None
    if chosen is not None:
        folder = Path(chosen).expanduser().resolve()
        if not _is_program(folder):
            raise ProgramNotFound(
                f"{folder} is not an inhouse program folder (no {CONFIG_NAME}). "
                "Run `inhouse init NAME --lead PERSON` there first."
            )
        return folder
    here = (cwd or Path.cwd()).resolve()
    found = inside_program(here)
    if found is None:
        raise ProgramNotFound(
            f"no inhouse program in {here} or any folder above it. "
            "Run `inhouse init NAME --lead PERSON`, or point at one with --program DIR "
            "or INHOUSE_PROGRAM."
        )
    return found


def database_url(program: Path) -> str:
    """The store's SQLAlchemy URL: ``$INHOUSE_DATABASE_URL`` or the program's SQLite file (in
    ``.inhouse/``, made with its ``.gitignore``: :func:`state_folder`)."""
    override = os.environ.get("INHOUSE_DATABASE_URL")
    if override:
        return override
    return f"sqlite:///{state_folder(program) / 'inhouse.db'}"


def state_folder(program: Path) -> Path:
    """``<program>/.inhouse``, this machine's own state, made where it is missing, with a
    ``.gitignore`` that says ``*`` wherever it has none. ``init`` writes one, but git carries
    neither: in a colleague's checkout the first command that wrote there (``join``'s outbox
    and store, ``models make-test-model``) left ``.inhouse/`` untracked beside his work, and a
    ``git add -A`` committed his store and outbox for a pull to write onto every machine
    (:func:`tracked_state`). A folder it cannot write (a read-only checkout) is left as it is:
    whatever writes there next says why. Nothing is written through a link (a pull writes
    whatever link was pushed): not into the folder a ``.inhouse`` link names (git reads no
    ``.gitignore`` there; ``.inhouse -> ..`` would ignore the whole checkout), nor the file a
    ``.gitignore`` link names."""
    folder = program / DATA_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if folder.is_symlink():
            return folder
        made = os.open(
            folder / ".gitignore",
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o644,
        )  # O_EXCL: one there, a dangling link too, is left as it is
        with os.fdopen(made, "w", encoding="utf-8") as ignore:
            ignore.write("*\n")
    except OSError:
        pass
    return folder


def safe_join(program: Path, relative: str | Path) -> Path:
    """Join a user-supplied path onto the program folder, refusing any escape from it."""
    root = program.resolve()
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise InvalidInput(f"path {relative!s} points outside the program folder {root}")
    return target


def _data_folder(env: str, program: Path | None, name: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override).expanduser().resolve()
    if program is not None:
        return state_folder(program) / name
    return Path.home() / ".cache" / "inhouse" / name


def models_dir(program: Path | None) -> Path:
    """Where model files live: ``$INHOUSE_MODELS_DIR``, else ``<program>/.inhouse/models``,
    else (outside any program) ``~/.cache/inhouse/models``."""
    return _data_folder("INHOUSE_MODELS_DIR", program, "models")


def run_dir(program: Path | None) -> Path:
    """Where the embedded runtime keeps its PID, state and log files: ``$INHOUSE_RUN_DIR``,
    else ``<program>/.inhouse/run``, else ``~/.cache/inhouse/run``."""
    return _data_folder("INHOUSE_RUN_DIR", program, "run")


def optional_program(explicit: str | Path | None) -> Path | None:
    """The program folder when there is one: ``explicit`` or ``$INHOUSE_PROGRAM`` must name a
    program (an error otherwise); without either, the folder we are in, or None. Models and
    runtimes work outside any program too."""
    if explicit is not None or os.environ.get("INHOUSE_PROGRAM"):
        return find_program(explicit)
    return inside_program(Path.cwd())


def _git(folder: Path) -> str | None:
    """The ``git`` on PATH, looked up only in absolute entries outside the git checkout holding
    ``folder`` (:func:`checkout_of`): a relative entry (``.``) or one anywhere in the checkout,
    not only in the program folder, would run a ``git`` whoever pushes there committed."""
    root = checkout_of(folder)
    entries = [
        entry
        for entry in os.environ.get("PATH", os.defpath).split(os.pathsep)
        if entry
        and Path(entry).is_absolute()
        and not Path(entry).expanduser().resolve().is_relative_to(root)
    ]
    return shutil.which("git", path=os.pathsep.join(entries)) if entries else None


def tracked_state(folder: Path, under: str = "", *, refused: str = "refused") -> list[str]:
    """The files under ``.inhouse/`` (in any case: ``.INHOUSE/`` is the same folder where file
    names ignore case), or under ``.inhouse/UNDER`` (a file or folder in it), that the git
    index of the work tree ``folder`` lies in tracks (``git ls-files``), paths relative to
    ``folder``; [] where ``folder`` is no git work tree (no ``.git`` at or above it: no pull
    writes there).
    ``.inhouse/`` is this machine's own state (the runtime's run folder, the store, models,
    keys, the outbox; an old install's venv) and its ``.gitignore`` says ``*``, but ``git add
    -f`` tracks a file there anyway, and a ``git pull`` then writes it onto every machine that
    checked the folder out.

    Where ``folder`` lies in a work tree (a ``.git`` at or above it) but git will not answer
    (most often a checkout another user owns: git's "dubious ownership", a service run as its
    own user), or no ``git`` runs here to ask (none on PATH outside the checkout: a copied
    checkout, a container without git), nobody can tell what a pull wrote there:
    :class:`Refused`, its message starting with ``refused`` (what is refused) and naming the
    fix (git's, or installing git)."""
    # icase: on a case-insensitive file system (macOS's, Windows') a pull writes a tracked
    # `.INHOUSE/venv/…` into `.inhouse/venv/`
    found = _ls_files(folder, folder, f":(icase){DATA_DIR}/{under}".rstrip("/"))
    if isinstance(found, _GitRefused):
        raise Refused(_unreadable(folder, found, refused, f"{DATA_DIR}/{under}"))
    return found or []


@dataclass(frozen=True)
class _GitRefused:
    """A work tree holds the folder, but git would not say what it tracks: ``said`` is git's
    own message; ``missing``: no git on PATH (outside the checkout) to ask."""

    said: str
    missing: bool = False


def _ls_files(folder: Path, where: Path, pathspec: str) -> list[str] | _GitRefused | None:
    """What the git index of the work tree ``where`` lies in tracks under ``pathspec`` (from
    ``where``), asked of the ``git`` :func:`_git` finds for ``folder``'s checkout; None where
    there is nothing to ask (no work tree); :class:`_GitRefused` where a ``.git`` lies at or
    above ``where`` and git will not answer, or no git is there to ask."""
    resolved = where.resolve()
    in_tree = any((p / ".git").exists() for p in (resolved, *resolved.parents))
    git = _git(folder)
    if git is None:
        # a work tree nobody can ask is not one that tracks nothing: a pull (by a git
        # elsewhere, or before it was copied here) wrote whatever was pushed
        return _GitRefused("no git on PATH", missing=True) if in_tree else None
    # git's messages in English, to tell "no work tree" from a refusal whatever the locale
    env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "C"}
    try:
        done = subprocess.run(
            # no fsmonitor: a command a repository's config names is not run to answer this
            [git, "-c", "core.fsmonitor=false", "-C", str(where), "ls-files", "-z", "--",
             pathspec],
            capture_output=True, timeout=60, check=False, env=env,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as err:
        done = subprocess.CompletedProcess([], 1, b"", str(err).encode())
    if done.returncode == 0:
        names = done.stdout.decode("utf-8", errors="replace").split("\0")
        return sorted(name for name in names if name)
    said = done.stderr.decode("utf-8", errors="replace").strip()
    # a `.git` git itself takes for none (a submodule never initialised, an empty folder): no
    # pull writes through it either
    if not in_tree or "not a git repository" in said.lower():
        return None
    return _GitRefused(said or f"git ls-files exited with status {done.returncode}")


def _unreadable(folder: Path, refusal: _GitRefused, refused: str, what: str) -> str:
    """The message for a checkout git will not read: what is refused, git's words, the fix."""
    if refusal.missing:
        return (
            f"{refused}: the program folder {folder} lies in a git checkout (a .git at or above "
            "it), and no `git` runs here to ask it (none on PATH, outside the checkout: a git "
            "the checkout holds is not run), so inhouse cannot tell whether it tracks a file "
            f"under {what.rstrip('/')}, this machine's own state, which a `git pull` writes "
            "from whatever whoever pushes there committed. Nothing was run, signed or recorded. "
            "Install git (or put its folder on PATH) and run this again; a folder that is no "
            "checkout (a copy nobody pulls into) has no .git"
        )
    lines = [line.strip() for line in refusal.said.splitlines() if line.strip()]
    first = lines[0] if lines else refusal.said
    fix = next((line for line in lines if "safe.directory" in line), None)
    if fix is not None:
        way = (
            f"git refuses a repository another user owns: run `{fix}` as the user running "
            "inhouse here (or run inhouse as the checkout's owner), then run this again"
        )
    else:
        way = f"fix what git says (`git -C {folder} status` shows it), then run this again"
    return (
        f"{refused}: git will not read the git checkout holding {folder} ({first}), so inhouse "
        f"cannot tell whether it tracks a file under {what.rstrip('/')}, this machine's own "
        "state, which a `git pull` writes from whatever whoever pushes there committed. "
        f"Nothing was run, signed or recorded. {way}"
    )


def untracked(folder: Path, path: Path) -> bool:
    """Whether no git index tracks a file under ``path`` (a folder in ``folder``'s checkout),
    so that no ``git pull`` writes what someone else pushed there: True where no ``.git``
    lies at or above it, else as ``git ls-files`` says, from the top of the work tree that
    holds it (so a tracked ``.VENV/`` counts where file names ignore case); False where git
    cannot say."""
    path = path.resolve()
    top = next((p for p in (path, *path.parents) if (p / ".git").exists()), None)
    if top is None:
        return True
    inside = path.relative_to(top).as_posix()
    return _ls_files(folder, top, f":(icase,literal){inside}") == []  # a refusal: False


def refuse_tracked_state(folder: Path, command: str) -> None:
    """Refuse ``command`` (one that records this machine's own measurement, signed with the
    key of whoever runs it) where the checkout's git tracks any file under ``.inhouse/``:
    whoever can push to the checkout chose that file, and what it holds (a ``.pth`` in the
    venv's site-packages, the runtime's state, a store, a model) would become what this
    machine measured; and where git will not say (:func:`tracked_state`)."""
    tracked = tracked_state(folder, refused=f"{command} is refused")
    if not tracked:
        return
    shown = ", ".join(tracked[:10]) + (
        f" and {len(tracked) - 10} more" if len(tracked) > 10 else ""
    )
    raise Refused(
        f"{command} is refused: the git checkout {folder} tracks {shown} under {DATA_DIR}/, "
        "this machine's own state, which whoever pushed them chose (a `git pull` writes them "
        "here, into the venv, the runtime's run folder or the store). Nothing was run or "
        f"recorded. Ask the program's lead to untrack them (`git rm -r --cached {DATA_DIR}`), "
        "pull, and run `inhouse baseline install` again (it removes an old "
        f"{DATA_DIR}/venv and makes its venv outside the checkout)"
    )
