"""Cold-start time of `inhouse --help` and `inhouse status` (targets: < 0.3 s and < 0.5 s).

Each run is a fresh process, as a person typing the command gets. Prints the median and the best
of N runs. Usage: python benchmarks/cli_startup.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(args: list[str], cwd: Path, runs: int) -> list[float]:
    command = [sys.executable, "-m", "inhouse", *args]
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)  # warm the OS file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main(runs: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env_clean = {k: v for k, v in os.environ.items() if not k.startswith("INHOUSE_")}
        os.environ.clear()
        os.environ.update(env_clean)
        init = [sys.executable, "-m", "inhouse", "init", "Bench", "--lead", "lena"]
        subprocess.run(init, cwd=folder, check=True, capture_output=True)
        for label, args, target in (
            ("inhouse --help", ["--help"], 0.3),
            ("inhouse status", ["status"], 0.5),
        ):
            times = _time(args, folder, runs)
            median = statistics.median(times)
            verdict = "met" if median < target else "MISSED"
            print(
                f"{label:16} median {median * 1000:6.1f} ms  best {min(times) * 1000:6.1f} ms  "
                f"(n={runs}, target < {target * 1000:.0f} ms: {verdict})"
            )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
