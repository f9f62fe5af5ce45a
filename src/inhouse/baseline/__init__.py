"""Play two, the baseline: the manifest (``[baseline]`` in inhouse.toml), the lock
(``inhouse.lock``: runtime and blessed models pinned by digest, with the data rules' hash), the
install script a second person runs, the one-page BASELINE.md, and ``verify``.

Other packages use five things from here: :func:`read_lock` (``inhouse.lock``, or None),
:func:`recorded_lock` (the lock the program's log records, which the gateway routes),
:func:`program_lock` (that one, else the file while the log records none: what a workflow run,
the pilot guide and the support inventory follow),
:meth:`Lock.model` (a blessed model by name, refusing any other) and :func:`check_models`
(drifted models, to refuse them); :func:`baseline_runtime` names the runtime to reach them on.
"""

from inhouse.baseline.drift import Drift, check_models, find_model
from inhouse.baseline.lock import (
    LOCK_NAME,
    Lock,
    LockedModel,
    LockedRuntime,
    program_lock,
    read_lock,
    recorded_lock,
    rules_hash,
)
from inhouse.baseline.manifest import (
    MAX_MODELS,
    BlessedModel,
    Manifest,
    baseline_runtime,
    read_manifest,
)

__all__ = [
    "LOCK_NAME",
    "MAX_MODELS",
    "BlessedModel",
    "Drift",
    "Lock",
    "LockedModel",
    "LockedRuntime",
    "Manifest",
    "baseline_runtime",
    "check_models",
    "find_model",
    "program_lock",
    "read_lock",
    "read_manifest",
    "recorded_lock",
    "rules_hash",
]
