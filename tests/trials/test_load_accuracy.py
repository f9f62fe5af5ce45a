"""Acceptance: the load generator measures a stand-in upstream with KNOWN injected latency
(TTFT 200 ms, then a token every 20 ms, 16 tokens) within ±5 % at 1, 32 and 256 concurrent
streams. The stand-in runs in its own process so the two do not share a GIL; each level first
runs one warm-up round (opening the pool's connections), then one measured round.

This is the one place the suite asserts timings, because the issue asks for exactly this
tolerance. ``benchmarks/load_accuracy.py`` prints the figures (target ±2 % at 256).

A busy machine (the suite beside other work) makes streams genuinely late: the stand-in and the
generator both wake late, and the generator rightly reports it. So while a round runs, a probe in
a process of its own sleeps 2 ms at a time and notes how late it wakes: the machine's own
lateness, measured in the same run. A round that reads off the tolerance while the probe woke
later than :data:`DISTURBED_MS` (half the tolerance on TTFT) was disturbed, and is measured again,
up to :data:`ROUNDS` in all; a round off on a machine that was not disturbed fails. When every
round was disturbed, the least disturbed must still be within the tolerance plus the lateness
the probe measured in it (TTFT and the last token up to that much later, TPOT, their difference
over 15 gaps, up to twice that over 15), or the test fails naming that; and where it is, the
test fails all the same, saying the machine could not measure ±5 % that time (never a skip:
CI runs the suite alone on its machine, where a round is rarely disturbed, let alone five).

Some readings no load explains, and fail at once, disturbed or not: no load makes the first or
the last token come *early* (the stand-in keeps an absolute schedule, token k due at arrival +
TTFT + k * TPOT, so load delays them, and at most shortens the gaps between as it catches up).
A generator off the same way every round (a lost token, a clock read at the wrong place, a TPOT
over the wrong count) fails on the first undisturbed round. The tolerance is not widened.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from inhouse.testing.standin_upstream import StandinProcess, StandinTiming, spawn_standin
from inhouse.trials.load import LoadMode, Target, run_in_fast_loop, run_load

TIMING = StandinTiming(ttft_ms=200, tpot_ms=20, tokens=16)
TOLERANCE = 0.05
#: measured rounds a level may take: a round the machine disturbed is measured again
ROUNDS = 5
#: a probe waking this late means the machine alone could push a median out of the tolerance
DISTURBED_MS = TIMING.ttft_ms * TOLERANCE / 2
#: the probe: sleeps 2 ms at a time until its stdin closes, then prints its latest wake-up, ms
_PROBE = """
import sys, threading, time
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
print("ready", flush=True)
worst = 0.0
while not done.is_set():
    start = time.perf_counter()
    time.sleep(0.002)
    worst = max(worst, time.perf_counter() - start - 0.002)
print(worst * 1000, flush=True)
"""
#: what the last token's median must be: the injected TTFT, then a token every TPOT
E2E_MS = TIMING.ttft_ms + (TIMING.tokens - 1) * TIMING.tpot_ms


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinProcess]:
    with spawn_standin(TIMING) as process:
        yield process


def _medians(standin: StandinProcess, concurrency: int) -> tuple[float, float, float]:
    """One warm-up round and one measured round: the TTFT, TPOT and end-to-end medians, in
    ms."""
    mode = LoadMode.sequential() if concurrency == 1 else LoadMode.fixed(concurrency)
    # one stream at a time measures five streams: a median of one is whatever the machine did
    # to that one (a busy host once put its TTFT at 214 ms)
    requests = 5 if concurrency == 1 else concurrency
    result = run_in_fast_loop(
        run_load(
            Target(standin.url, "standin-model"),
            ["How accurate is the load generator?"],
            mode,
            warmup=concurrency,
            requests=requests,
        )
    )
    summary = result.summary
    assert summary.completed == requests, summary.errors[:3]
    assert not summary.output_tokens_estimated  # the stand-in reports usage when asked
    assert summary.output_tokens == requests * TIMING.tokens
    assert summary.ttft is not None and summary.tpot is not None and summary.e2e is not None
    return summary.ttft.p50 * 1000, summary.tpot.p50 * 1000, summary.e2e.p50 * 1000


def _judge(ttft_ms: float, tpot_ms: float, e2e_ms: float, *, late_ms: float = 0) -> str | None:
    """Why a round fails: ``"early: …"`` (never the machine's doing: the generator's error),
    ``"off: …"`` (late, or a TPOT the catch-up shortened: possibly load), or None when the TTFT
    and TPOT medians are within the tolerance; ``late_ms``: lateness the machine is known to
    have added, allowed on top of it."""
    for what, measured, injected in (("TTFT", ttft_ms, TIMING.ttft_ms), ("E2E", e2e_ms, E2E_MS)):
        if measured < injected * (1 - TOLERANCE):
            return f"early: {what} p50 {measured:.2f} ms, injected {injected} ms"
    gaps = TIMING.tokens - 1
    problems = [
        f"{what} p50 {measured:.2f} ms, injected {injected} ms"
        for what, measured, injected, low, high in (
            ("TTFT", ttft_ms, TIMING.ttft_ms, 0, late_ms),
            ("TPOT", tpot_ms, TIMING.tpot_ms, 2 * late_ms / gaps, 2 * late_ms / gaps),
        )
        if not injected * (1 - TOLERANCE) - low <= measured <= injected * (1 + TOLERANCE) + high
    ]
    return f"off: {'; '.join(problems)}" if problems else None


@contextmanager
def _lateness() -> Iterator[list[float]]:
    """While the block runs, the machine's lateness: the list holds, after it, how late (ms) a
    sleeping process woke at worst."""
    probe = subprocess.Popen(
        [sys.executable, "-c", _PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert probe.stdout is not None and probe.stdout.readline() == "ready\n"
    worst: list[float] = []
    try:
        yield worst
    finally:
        out, _ = probe.communicate(timeout=30)
    worst.append(float(out))


@pytest.mark.parametrize("concurrency", [1, 32, 256])
def test_ttft_and_tpot_medians_are_within_5_percent(
    standin: StandinProcess, concurrency: int
) -> None:
    rounds = []
    for _ in range(ROUNDS):
        with _lateness() as late:
            medians = _medians(standin, concurrency)
        problem = _judge(*medians)
        if problem is None:
            return
        assert not problem.startswith("early"), problem
        assert late[0] > DISTURBED_MS, f"{problem} (the machine woke at most {late[0]:.1f} ms late)"
        rounds.append((late[0], medians, problem))
    late_ms, medians, _ = min(rounds)
    widened = _judge(*medians, late_ms=late_ms)
    assert widened is None, f"{widened}, even for a machine {late_ms:.1f} ms late"
    said = [f"{problem}, the machine {late:.1f} ms late" for late, _, problem in rounds]
    # never a skip: a suite that cannot measure what it claims says so by failing
    pytest.fail(f"the machine was too busy to measure ±5 %, every round of {ROUNDS}: {said}")


def test_an_early_reading_fails_at_once_and_a_late_one_is_measured_again() -> None:
    """The judge the rounds rest on: a first or last token earlier than injected is the
    generator's own error; a late one, or a TPOT the catch-up shortened, is measured again;
    within the tolerance passes."""
    assert _judge(200.0 * 1.04, 20.0 * 0.96, 500.0) is None
    assert (_judge(200.0 * 0.94, 20.0, 500.0) or "").startswith("early: TTFT")
    assert (_judge(200.0, 20.0 * 0.9, 470.0) or "").startswith("early: E2E")
    late = "off: TTFT p50 222.10 ms, injected 200 ms; TPOT p50 18.55 ms, injected 20 ms"
    assert _judge(222.1, 18.55, 500.5) == late  # a late start, caught up by the schedule
    # a TPOT over the wrong count (16 gaps for 16 tokens) is off every round, and fails
    assert (_judge(200.0, 20.0 * 15 / 16, 500.0) or "").startswith("off: TPOT")
    # a machine known to be 40 ms late excuses as much, and no more
    assert _judge(240.0 + 9.9, 20.0 - 1 - 80 / 15 + 0.01, 500.0, late_ms=40) is None
    assert (_judge(250.1, 20.0, 500.0, late_ms=40) or "").startswith("off: TTFT")
    assert (_judge(210.0, 20.0 * 2, 500.0, late_ms=40) or "").startswith("off: TPOT")
