"""Writing the files a person names on the command line (``--out``, ``--junit``, ``--report``):
a target that cannot be written is refused by name, before the work that fills it where the
caller checks first (:func:`check_target`), never as an ``OSError`` traceback after it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inhouse.errors import InvalidInput

__all__ = ["check_replaceable", "check_target", "write_text"]


def check_target(path: Path, *, option: str) -> None:
    """Refuse ``path`` if no file can be written there: it is a folder, or a file stands where
    one of its folders would be. ``option`` is how the error names it (``--out``)."""
    if path.is_dir():
        raise InvalidInput(f"{option} {path} is a folder: give the file to write")
    blocked = next((parent for parent in path.parents if parent.exists()), None)
    if blocked is not None and not blocked.is_dir():
        raise InvalidInput(f"{option} {path}: {blocked} is a file, not a folder")


def check_replaceable(path: Path, *, option: str, what: str, ours: Callable[[Path], bool]) -> None:
    """:func:`check_target`, and refuse a file already at ``path`` unless ``ours`` says it is
    ``what`` the command writes (an earlier one, rewritten): anything else there is someone's,
    and never worth losing."""
    check_target(path, option=option)
    if path.exists() and not ours(path):
        raise InvalidInput(
            f"{path} is there and is not {what}: nothing overwritten; give another {option}, "
            "or move it away"
        )


def write_text(path: Path, text: str, *, option: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, creating its folders."""
    check_target(path, option=option)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot write {option} {path}: {err.strerror or err}") from None
