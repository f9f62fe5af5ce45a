"""How the load generator sends its requests (:class:`LoadMode`): **sequential**, at a **fixed
concurrency**, or on an arrival schedule decided up front at a **constant rate** (evenly spaced)
or a **Poisson rate** (exponential gaps from a seeded generator: same seed, same schedule).

    LoadMode.fixed(32).describe()        # "32 concurrent"
    LoadMode.poisson(2.0, seed=1).schedule(5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from inhouse.errors import InvalidInput

__all__ = ["LoadMode", "poisson_schedule"]


@dataclass(frozen=True)
class LoadMode:
    """How requests are sent. Build one with the class methods."""

    kind: Literal["sequential", "concurrency", "rate", "poisson"]
    #: requests in flight (concurrency modes); the cap in rate modes (0 = no cap)
    concurrency: int = 1
    #: requests per second (rate modes)
    rate: float = 0.0
    #: seed of the Poisson arrival schedule
    seed: int = 0

    @classmethod
    def sequential(cls) -> LoadMode:
        return cls("sequential", concurrency=1)

    @classmethod
    def fixed(cls, concurrency: int) -> LoadMode:
        if concurrency < 1:
            raise InvalidInput(f"concurrency must be at least 1, not {concurrency}")
        return cls("concurrency", concurrency=concurrency)

    @classmethod
    def constant_rate(cls, rate: float, *, max_concurrency: int = 0) -> LoadMode:
        return cls._rated("rate", rate, max_concurrency, 0)

    @classmethod
    def poisson(cls, rate: float, *, seed: int = 0, max_concurrency: int = 0) -> LoadMode:
        return cls._rated("poisson", rate, max_concurrency, seed)

    @classmethod
    def _rated(cls, kind: Literal["rate", "poisson"], rate: float, cap: int, seed: int) -> LoadMode:
        if not (rate > 0 and math.isfinite(rate)):
            raise InvalidInput(f"the request rate must be a positive number, not {rate}")
        if cap < 0:
            raise InvalidInput(f"the concurrency cap must be >= 0, not {cap}")
        return cls(kind, concurrency=cap, rate=rate, seed=seed)

    @property
    def rated(self) -> bool:
        return self.kind in ("rate", "poisson")

    def schedule(self, count: int) -> list[float]:
        """Send times (seconds from the start) of ``count`` requests in a rate mode."""
        if self.kind == "rate":
            return [i / self.rate for i in range(count)]
        if self.kind == "poisson":
            return poisson_schedule(self.rate, count, seed=self.seed)
        raise ValueError(f"{self.kind} mode has no arrival schedule")

    def pool_size(self, count: int) -> int:
        if self.rated:
            return min(self.concurrency or count, count)
        return min(self.concurrency, count)

    def describe(self) -> str:
        if self.kind == "sequential":
            return "sequential"
        if self.kind == "concurrency":
            return f"{self.concurrency} concurrent"
        cap = f", at most {self.concurrency} in flight" if self.concurrency else ""
        spacing = f"Poisson, seed {self.seed}" if self.kind == "poisson" else "evenly spaced"
        return f"{self.rate:g} requests/s ({spacing}{cap})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "concurrency": self.concurrency, "rate": self.rate,
                "seed": self.seed}  # fmt: skip


def poisson_schedule(rate: float, count: int, *, seed: int = 0) -> list[float]:
    """Arrival times of a Poisson process at ``rate``/s: the first at 0, then exponential gaps
    with mean ``1/rate`` drawn from a generator seeded with ``seed`` (same seed, same times)."""
    gaps = np.random.default_rng(seed).exponential(1 / rate, size=max(count - 1, 0))
    return [0.0, *np.cumsum(gaps).tolist()][:count]
