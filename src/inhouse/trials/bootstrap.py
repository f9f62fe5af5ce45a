"""The paired bootstrap a trial's verdict rests on: a statistic of the candidate against the
status quo over the task inputs, and its percentile interval from resampling whole inputs (both
sides of a pair move together; numpy, seeded, so the same seed gives the same interval)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt

__all__ = ["Interval", "IntervalData", "paired_bootstrap"]

_CHUNK = 1000  # resamples drawn at a time, to keep memory flat for many inputs
_FLOOR = -1e6  # an improvement below -1 000 000 % (the status quo costs nothing) is clipped


class IntervalData(TypedDict):
    point: float
    low: float
    high: float


@dataclass(frozen=True)
class Interval:
    point: float
    low: float
    high: float

    def to_dict(self) -> IntervalData:
        return {"point": self.point, "low": self.low, "high": self.high}


def _improvement(cand: npt.NDArray[np.float64], quo: npt.NDArray[np.float64]) -> Any:
    """``(1 - cand ÷ quo) x 100`` along the last axis of means; a status quo of zero gives 0
    when the candidate is zero too, else the clipped floor."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (1.0 - cand / quo) * 100.0
    value = np.where(quo == 0, np.where(cand == 0, 0.0, _FLOOR), value)
    return np.clip(value, _FLOOR, 100.0)


def paired_bootstrap(
    candidate: Sequence[float],
    status_quo: Sequence[float],
    *,
    statistic: Literal["improvement", "difference"],
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Interval:
    """The statistic on the full sample, and its percentile bootstrap interval from resampling
    input indices with replacement (pairs stay together). ``improvement`` is the relative
    improvement of the candidate's mean, in %; ``difference`` is mean(candidate) -
    mean(status quo), x100 (pass rates → points)."""
    cand = np.asarray(candidate, dtype=np.float64)
    quo = np.asarray(status_quo, dtype=np.float64)
    if cand.shape != quo.shape or cand.ndim != 1 or cand.size == 0:
        raise ValueError("paired_bootstrap needs two equally long, non-empty sequences")

    def stat(c: Any, q: Any) -> Any:
        if statistic == "improvement":
            return _improvement(c, q)
        return (c - q) * 100.0

    point = float(stat(cand.mean(), quo.mean()))
    rng = np.random.default_rng(seed)
    n = cand.size
    values = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        values[start : start + size] = stat(cand[idx].mean(axis=1), quo[idx].mean(axis=1))
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return Interval(point=point, low=float(low), high=float(high))
