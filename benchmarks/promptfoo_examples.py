"""Run the promptfoo importer over a folder of promptfoo configs and say what it kept.

    .venv/bin/python benchmarks/promptfoo_examples.py /tmp/promptfoo-examples

Every ``promptfooconfig*.yaml`` under the folder is imported (each relative to its own folder).
The configs are promptfoo's public examples, rebuilt locally with the files they reference;
they are not ours to commit. For each config, one line:

* ``kept``: every test case promptfoo would run is a workflow case, and nothing was listed;
* ``kept+listed``: every test case kept, and some things (an assertion type, a provider setting,
  a top-level key) listed as not imported, with the reason;
* ``LISTED``: some test cases were not kept, and the importer listed each with its reason;
* ``refused``: no workflow at all, with a clear error (no prompt it can read, say);
* ``SILENT``: fewer cases than promptfoo runs and nothing listed about tests: a loss without a
  word, which the importer must never do (the script exits 1);
* ``CRASH``: anything but inhouse's own clear errors (the script exits 1).

How many cases promptfoo runs is counted here, independently of the importer: inline tests (a
list var multiplies them, as promptfoo expands it), rows of test files and globs, scenarios'
configs times their tests. Each listed item is sorted into the feature it needs, and the totals
say how many configs each missing feature touches. The share the issue's target speaks of is
among configs whose providers a local model can stand in for (chat and completion models, the
echo provider; not HTTP targets, scripts, agents, browsers or red teams).
"""

from __future__ import annotations

import csv
import glob
import io
import itertools
import json
import re
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from inhouse.errors import InhouseError
from inhouse.workflows import import_promptfoo

#: a provider a local model can stand in for: chat/completion models, not agents, browsers,
#: HTTP targets or media generators
_NOT_LOCAL = ("http", "https", "websocket", "exec:", "python:", "file://", "browser",
              "agent", "assistant", "realtime", "image", "video", "audio", "sagemaker",
              "webhook", "sequence", "simulated-user", "mcp")  # fmt: skip


def _local(config: Path) -> bool:
    lowered = config.read_text(encoding="utf-8", errors="replace").lower()
    return "redteam:" not in lowered and not any(f"id: {m}" in lowered for m in _NOT_LOCAL)


# -- what promptfoo runs ---------------------------------------------------------------------


def _files(base: Path, reference: str) -> list[Path]:
    relative = reference.removeprefix("file://")
    if re.search(r"[*?\[]", relative):
        return sorted(Path(p) for p in glob.glob(str(base / relative)) if Path(p).is_file())
    path = base / relative
    return [path] if path.is_file() else []


def _rows(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text)))
    if suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    return data if isinstance(data, list) else [data]


def _expansion(base: Path, test: Any) -> int:
    """How many tests promptfoo makes of one entry: a list var (or a glob of var files)
    multiplies it."""
    if not isinstance(test, dict) or not isinstance(test.get("vars"), dict):
        return 1
    sizes = []
    for value in test["vars"].values():
        if isinstance(value, list):
            sizes.append(len(value))
        elif isinstance(value, str) and value.startswith("file://") and "*" in value:
            sizes.append(len(_files(base, value)))
    return max(1, len(list(itertools.product(*(range(n) for n in sizes))))) if sizes else 1


def promptfoo_cases(config_path: Path) -> tuple[int, list[str]]:
    """(how many test cases promptfoo runs for the config, references it cannot count)."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    base = config_path.parent
    raw = config.get("tests")
    entries = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    total, uncounted = 0, []
    for entry in entries:
        if isinstance(entry, dict):
            total += _expansion(base, entry)
        elif isinstance(entry, str) and entry.lower().endswith((".csv", ".jsonl", ".json",
                                                                ".yaml", ".yml", "*")):  # fmt: skip
            paths = _files(base, entry)
            if not paths:
                uncounted.append(entry)
            total += sum(_expansion(base, row) for path in paths for row in _rows(path))
        else:
            uncounted.append(str(entry))
    for scenario in config.get("scenarios") or []:
        if isinstance(scenario, dict):
            total += len(scenario.get("config") or [{}]) * len(scenario.get("tests") or [])
    return total, uncounted


# -- what each listed item needs -------------------------------------------------------------

_FEATURES: list[tuple[str, str]] = [
    (r"assertion type '([^']+)'", "assertion type {0}"),
    (r"cost not imported", "cost assertion (an API's price)"),
    (r"providers\[0\]\.config\.(\w+)", "provider setting {0}"),
    (r"providers\[\d+\]\.prompts", "prompts per provider"),
    (r"prompts\[\d+\]\.config", "per-prompt provider config"),
    (r"kept by a service \((\w+)://", "prompts from a service ({0}://)"),
    (r"made by a script", "prompts made by scripts"),
    (r"No filter named '(\w+)'", "custom nunjucks filters"),
    (r"python with inline code", "inline python assertions"),
    (r"only JavaScript transforms are run", "script files not in JavaScript (.ts, .py)"),
    (r"(hf|huggingface)://", "tests from a hosted dataset (hf://)"),
    (r"a script that makes tests", "tests made by scripts"),
    (r"\$ref", "$ref to something other than assertionTemplates"),
    (r"no such file|matches no file", "a referenced file missing"),
    (r"^(\w+): not imported", "top-level {0}"),
]


def feature(item: str) -> str:
    for pattern, label in _FEATURES:
        match = re.search(pattern, item)
        if match:
            return label.format(*match.groups())
    return item[:70]


def _test_loss(item: str) -> bool:
    """A listed item that says test cases themselves were not imported."""
    head = item.split(":")[0]
    return ("tests were not imported" in item
            or (head.startswith("tests") and "not imported" in item and ".assert" not in head
                and "assert" not in head))  # fmt: skip


# -- the run ---------------------------------------------------------------------------------


def main(folder: Path) -> int:
    if not folder.is_dir():
        raise SystemExit(f"{folder}: no such folder (give the folder of promptfoo's examples)")
    configs = sorted(folder.rglob("promptfooconfig*.yaml"))
    if not configs:  # a wrong folder would otherwise read as "0 configs, nothing lost"
        raise SystemExit(f"{folder}: no promptfooconfig*.yaml under it, nothing to import")
    status: Counter[str] = Counter()
    features: Counter[str] = Counter()
    local = local_kept = 0
    print(f"{'config':<58} {'result':<11} {'cases':>7}  {'listed'}")
    for config in configs:
        name = str(config.relative_to(folder))
        is_local = _local(config)
        local += is_local
        try:
            expected, uncounted = promptfoo_cases(config)
        except (OSError, ValueError, yaml.YAMLError) as err:
            expected, uncounted = 0, [f"uncountable: {err}"]
        try:
            result = import_promptfoo(config, owner="o", frequency="f", model="m")
        except InhouseError as err:
            status["refused"] += 1
            features[feature(str(err))] += 1
            print(f"{name:<58} {'refused':<11} {'-':>7}  {str(err)[:150]}")
            continue
        except Exception:  # a crash is what this script is here to find
            status["CRASH"] += 1
            print(f"{name:<58} CRASH\n{traceback.format_exc()}")
            continue
        cases = len(result.workflow.cases)
        listed = result.unsupported
        lost = [item for item in listed if _test_loss(item)]
        needs = sorted({feature(item) for item in listed})
        features.update(needs)
        if cases >= expected and not lost and not uncounted:
            verdict = "kept+listed" if listed else "kept"
            local_kept += is_local
        elif lost or (uncounted and listed):
            verdict = "LISTED"
        else:
            verdict = "SILENT"
        status[verdict] += 1
        shown = f"{cases}/{expected}" + ("+?" if uncounted else "")
        print(f"{name:<58} {verdict:<11} {shown:>7}  {len(listed)}: {'; '.join(needs)[:150]}")
    total = len(configs)
    print(
        f"\n{total} configs: {status['kept'] + status['kept+listed']} keep every test case "
        f"({status['kept']} with nothing listed, {status['kept+listed']} listing what they left "
        f"out), {status['LISTED']} left test cases out and listed each, {status['refused']} "
        f"refused with a clear error, {status['SILENT']} lost cases without a word, "
        f"{status['CRASH']} crashed"
    )
    if local:
        print(f"{local} whose providers can be local: {local_kept} keep every test case "
              f"({local_kept / local:.0%}; target 80%)")  # fmt: skip
    print("\nwhat the listed items need, by how many configs each touches:")
    for label, count in features.most_common():
        print(f"  {count:>3}  {label}")
    return 1 if status["CRASH"] or status["SILENT"] else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/promptfoo-examples")))
