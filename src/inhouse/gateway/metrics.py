"""Prometheus metrics for ``/metrics``, labelled by model and person.

Each app has its own registry (tests build many apps in one process). Gateway overhead is the
time a request spends in the gateway itself: everything but waiting on the runtime.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_OVERHEAD = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("model", "person")
        self.requests = Counter(
            "inhouse_gateway_requests",
            "Requests answered, by status.",
            (*labels, "status"),
            registry=self.registry,
        )
        self.tokens = Counter(
            "inhouse_gateway_tokens",
            "Tokens in (prompt) and out (completion).",
            (*labels, "direction"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "inhouse_gateway_request_seconds",
            "Total request latency as the client sees it.",
            labels,
            buckets=_LATENCY,
            registry=self.registry,
        )
        self.ttft = Histogram(
            "inhouse_gateway_ttft_seconds",
            "Time to first token of streamed answers.",
            labels,
            buckets=_LATENCY,
            registry=self.registry,
        )
        self.overhead = Histogram(
            "inhouse_gateway_overhead_seconds",
            "Time spent in the gateway itself (everything but waiting on the runtime).",
            labels,
            buckets=_OVERHEAD,
            registry=self.registry,
        )
        self.policy = Counter(
            "inhouse_gateway_policy_actions",
            "Policy actions taken (redact, block, strip-tools, tool-call-blocked).",
            (*labels, "action"),
            registry=self.registry,
        )
        self.limits_mode = Gauge(
            "inhouse_gateway_limits_mode",
            "How per-key limits are enforced (1 for the current mode): local (one process), "
            "shared (through Redis, every replica together), share (each replica its share of "
            "the limit: Redis unreachable, or several replicas without it).",
            ("mode",),
            registry=self.registry,
        )
        #: each model and person's labelled metrics, looked up once (this runs per request)
        self._children: dict[tuple[str, str], dict[Any, Any]] = {}
        self.spool_backlog = Gauge(
            "inhouse_gateway_usage_backlog",
            "Usage records spooled but not yet in the database.",
            registry=self.registry,
        )

    def observe(
        self,
        *,
        model: str,
        person: str,
        status: int,
        latency: float,
        overhead: float,
        ttft: float | None,
        tokens_in: int,
        tokens_out: int,
        actions: list[str],
    ) -> None:
        children = self._children.get((model, person))
        if children is None:  # labels() validates and locks: once per series, not per request
            children = self._children[(model, person)] = {}
        counted = children.get(status)
        if counted is None:
            counted = children[status] = self.requests.labels(model, person, str(status))
        counted.inc()
        self._child(children, "latency", self.latency, model, person).observe(latency)
        self._child(children, "overhead", self.overhead, model, person).observe(overhead)
        if ttft is not None:
            self._child(children, "ttft", self.ttft, model, person).observe(ttft)
        if tokens_in:
            self._child(children, "in", self.tokens, model, person, "in").inc(tokens_in)
        if tokens_out:
            self._child(children, "out", self.tokens, model, person, "out").inc(tokens_out)
        for action in actions:
            self.policy.labels(model, person, action.split(":", 1)[0]).inc()

    @staticmethod
    def _child(children: dict[Any, Any], name: str, metric: Any, *labels: str) -> Any:
        """``metric``'s series for ``labels``, made the first time it is used (a series appears
        in /metrics only once something was observed in it, as with ``labels()`` each time)."""
        child = children.get(name)
        if child is None:
            child = children[name] = metric.labels(*labels)
        return child

    def set_limits_mode(self, mode: str) -> None:
        for each in ("local", "shared", "share"):
            self.limits_mode.labels(each).set(1 if each == mode else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
