"""Run the promptfoo importer over a folder of promptfoo configs and print what it kept.

    .venv/bin/python benchmarks/promptfoo_examples.py /tmp/promptfoo-examples

Every ``promptfooconfig*.yaml`` under the folder is imported (each relative to its own folder);
one line per config: whether it imported, how many test cases the spec kept, how many items
were listed as not imported, and the first of them. A config that raises anything but inhouse's
own clear errors is a crash, and the script exits 1. The configs are promptfoo's public examples,
rebuilt locally with the files they reference; they are not ours to commit.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

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


def main(folder: Path) -> int:
    configs = sorted(folder.rglob("promptfooconfig*.yaml"))
    crashed = 0
    kept_all = listed_only = refused = local = local_kept = 0
    print(f"{'example':<48} {'result':<9} {'cases':>5} {'listed':>6}  first listed")
    for config in configs:
        name = str(config.relative_to(folder))
        is_local = _local(config)
        local += is_local
        try:
            result = import_promptfoo(config, owner="o", frequency="f", model="m")
        except InhouseError as err:
            refused += 1
            print(f"{name:<48} {'refused':<9} {'-':>5} {'-':>6}  {str(err)[:90]}")
            continue
        except Exception:  # a crash is what this script is here to find
            crashed += 1
            print(f"{name:<48} CRASH\n{traceback.format_exc()}")
            continue
        lost = [item for item in result.unsupported if "test" in item.split(":")[0].lower()
                and "not imported" in item and "assert" not in item.split(":")[0]]  # fmt: skip
        if not lost:
            kept_all += 1
            local_kept += is_local
            listed_only += bool(result.unsupported)
        status = "kept" if not lost else "LOST"
        first = result.unsupported[0][:90] if result.unsupported else ""
        print(f"{name:<48} {status:<9} {len(result.workflow.cases):>5} "
              f"{len(result.unsupported):>6}  {first}")  # fmt: skip
    total = len(configs)
    print(
        f"\n{total} configs: {kept_all} keep every test case ({listed_only} of them list "
        f"something not imported), {refused} refused with a clear error, {crashed} crashed"
    )
    if local:
        print(
            f"{local} whose providers can be local: {local_kept} keep every test case "
            f"({local_kept / local:.0%})"
        )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/promptfoo-examples")))
