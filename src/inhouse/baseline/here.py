"""What this machine measures of the blessed models' files: whether its own copy of a pinned
file is the project's test model (:func:`local_test_models`).

Play 2's ``trial-reproduced`` reads a colleague's rerun that says the proven weights are the
test model as that colleague's word (exit rule
:data:`~inhouse.program.checks.TEST_MODEL_SAY`), unless they had a say over play 2; whoever holds
the file reads it here, which is a measurement, not a word: ``inhouse status`` fills
:attr:`~inhouse.program.checks.CheckContext.test_model_here` with it.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from inhouse.errors import ConfigError
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.testmodel import is_test_model

__all__ = ["local_test_models"]


def local_test_models(folder: Path) -> frozenset[str]:
    """The digests (``sha256:<hex>``) of the program's blessed model files on this machine
    (``path`` in ``[baseline]``, inside ``folder``) that :func:`is_test_model` reads as the
    test model, by their content. A program without a readable ``[baseline]`` table, or a
    file that is missing, written outside the folder (absolute, or through '..', as the
    install refuses to write it) or unreadable, measures nothing. A file in the folder that is
    a link to a model kept elsewhere on this machine (a large model is often kept once) is
    read where it leads: the pinned file is this machine's copy either way."""
    from inhouse.baseline.manifest import read_manifest

    root = folder.resolve()
    try:
        manifest = read_manifest(root)
    except (ConfigError, OSError):
        return frozenset()
    found = set()
    for blessed in manifest.models:
        if not blessed.path:
            continue
        written = PurePath(blessed.path)
        if written.is_absolute() or ".." in written.parts:
            continue  # a path as written may not reach out of the program folder
        path = (root / written).resolve()
        if not path.is_file():
            continue
        try:
            if is_test_model(path):
                found.add(sha256_digest(path))
        except OSError:
            continue
    return frozenset(found)
