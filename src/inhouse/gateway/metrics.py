"""Prometheus metrics for ``/metrics``, labelled by model, and by person for a rollout lead's
own key (:meth:`Metrics.render`).

Each app has its own registry (tests build many apps in one process). Gateway overhead is the
time a request spends in the gateway itself: everything but waiting on the runtime.

The per-request series (requests, tokens, latency, time to first token, overhead, policy
actions) are kept as plain numbers by :class:`Metrics` and handed to prometheus_client as a
custom collector when ``/metrics`` is read; prometheus_client's own ``Counter`` and
``Histogram`` took a lock per increment and searched a histogram's buckets in a Python loop,
~42k instructions per request (``benchmarks/gateway/count_instructions.py``). What
``/metrics`` shows is what they showed: the same names, help, labels, buckets and ``_created``
series (``tests/gateway/test_metrics.py`` holds the two to the same text). Requests are
recorded on the event loop's thread, where ``/metrics`` is read too.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "merged"]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_OVERHEAD = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1)


class _Counter:
    """A counter family as plain numbers: label values -> [value, created]."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.series: dict[tuple[str, ...], list[float]] = {}

    def entry(self, values: tuple[str, ...]) -> list[float]:
        """The series for ``values``, made (and shown from then on) the first time."""
        found = self.series.get(values)
        if found is None:
            found = self.series[values] = [0.0, time.time()]
        return found

    def collect(self, people: bool = True) -> Metric:
        """The family; without ``people``, its series summed over the ``person`` label (and
        created when the first of them was)."""
        labels, series = self.labels, list(self.series.items())
        if not people:
            labels, series = _without_person(labels), _summed(labels, series)
        family = CounterMetricFamily(self.name, self.documentation, labels=labels)
        for values, (value, created) in series:
            family.add_metric(values, value, created=created)
        return family


class _Buckets:
    """One histogram series: observations per bucket (not cumulative), their sum, created."""

    __slots__ = ("counts", "created", "total")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.total = 0.0
        self.created = time.time()


class _Histogram:
    """A histogram family as plain numbers; a value falls in the first bucket whose upper
    bound is at least the value, as prometheus_client's ``Histogram`` counts it."""

    def __init__(
        self, name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.bounds = (*(float(b) for b in buckets), float("inf"))
        # the text prometheus_client writes for a bound (it leaves the function unannotated)
        self._les = [floatToGoString(b) for b in self.bounds]  # type: ignore[no-untyped-call]
        self.series: dict[tuple[str, ...], _Buckets] = {}

    def entry(self, values: tuple[str, ...]) -> _Buckets:
        found = self.series.get(values)
        if found is None:
            found = self.series[values] = _Buckets(len(self.bounds))
        return found

    def observe(self, buckets: _Buckets, value: float) -> None:
        if value <= self.bounds[-1]:  # not NaN, which no bucket counts (nor prometheus_client)
            buckets.counts[bisect_left(self.bounds, value)] += 1
        buckets.total += value

    def collect(self, people: bool = True) -> Metric:
        """The family; without ``people``, its series summed over the ``person`` label."""
        labels, found = self.labels, list(self.series.items())
        if not people:
            merged: dict[tuple[str, ...], _Buckets] = {}
            for values, each in found:
                key = _drop_person(self.labels, values)
                into = merged.get(key)
                if into is None:
                    into = merged[key] = _Buckets(len(self.bounds))
                    into.created = each.created
                into.counts = [a + b for a, b in zip(into.counts, each.counts, strict=True)]
                into.total += each.total
                into.created = min(into.created, each.created)
            labels, found = _without_person(labels), list(merged.items())
        family = HistogramMetricFamily(self.name, self.documentation, labels=labels)
        for values, series in found:
            counts = [float(n) for n in accumulate(series.counts)]
            family.add_metric(values, list(zip(self._les, counts, strict=True)), series.total)
            family.add_sample(
                f"{self.name}_created", dict(zip(labels, values, strict=True)), series.created
            )
        return family


def _without_person(labels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(label for label in labels if label != "person")


def _drop_person(labels: tuple[str, ...], values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for label, v in zip(labels, values, strict=True) if label != "person")


def _summed(
    labels: tuple[str, ...], series: list[tuple[tuple[str, ...], list[float]]]
) -> list[tuple[tuple[str, ...], list[float]]]:
    """Counter ``series`` summed over the ``person`` label: [value, first created]."""
    merged: dict[tuple[str, ...], list[float]] = {}
    for values, (value, created) in series:
        key = _drop_person(labels, values)
        into = merged.setdefault(key, [0.0, created])
        into[0] += value
        into[1] = min(into[1], created)
    return list(merged.items())


class _Series:
    """One model and person's entries in every family, looked up once (this runs per
    request)."""

    __slots__ = ("actions", "latency", "overhead", "statuses", "tokens_in", "tokens_out", "ttft")

    def __init__(self) -> None:
        self.statuses: dict[int, list[float]] = {}
        self.actions: dict[str, list[float]] = {}
        self.latency: _Buckets | None = None
        self.overhead: _Buckets | None = None
        self.ttft: _Buckets | None = None
        self.tokens_in: list[float] | None = None
        self.tokens_out: list[float] | None = None


class _Requests(Collector):
    """The per-request families, as one prometheus_client collector, in the order they were
    registered before."""

    def __init__(self, families: list[_Counter | _Histogram]) -> None:
        self.families = families
        #: whether this collection shows each person's series (:meth:`Metrics.render`)
        self.people = False

    def collect(self) -> Iterator[Metric]:
        for family in self.families:
            yield family.collect(self.people)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("model", "person")
        self.requests = _Counter(
            "inhouse_gateway_requests", "Requests answered, by status.", (*labels, "status")
        )
        self.tokens = _Counter(
            "inhouse_gateway_tokens",
            "Tokens in (prompt) and out (completion).",
            (*labels, "direction"),
        )
        self.latency = _Histogram(
            "inhouse_gateway_request_seconds",
            "Total request latency as the client sees it.",
            labels,
            _LATENCY,
        )
        self.ttft = _Histogram(
            "inhouse_gateway_ttft_seconds",
            "Time to first token of streamed answers.",
            labels,
            _LATENCY,
        )
        self.overhead = _Histogram(
            "inhouse_gateway_overhead_seconds",
            "Time spent in the gateway itself (everything but waiting on the runtime).",
            labels,
            _OVERHEAD,
        )
        self.policy = _Counter(
            "inhouse_gateway_policy_actions",
            "Policy actions taken (redact, block, strip-tools, tool-call-blocked).",
            (*labels, "action"),
        )
        families: list[_Counter | _Histogram] = [
            self.requests, self.tokens, self.latency, self.ttft, self.overhead, self.policy
        ]  # fmt: skip
        self._requests = _Requests(families)
        self.registry.register(self._requests)
        self.limits_mode = Gauge(
            "inhouse_gateway_limits_mode",
            "How per-key limits are enforced (1 for the current mode): local (one process), "
            "shared (through Redis, every replica together), share (each replica its share of "
            "the limit: Redis unreachable, or several replicas without it).",
            ("mode",),
            registry=self.registry,
        )
        #: each model and person's entries, looked up once per request
        self._series: dict[tuple[str, str], _Series] = {}
        self.spool_backlog = Gauge(
            "inhouse_gateway_usage_backlog",
            "Usage records spooled but not yet in the database.",
            registry=self.registry,
        )
        self.service_key_unenrolled = Gauge(
            "inhouse_gateway_service_key_unenrolled",
            "1 while this gateway's own key is not the one the program's log enrolled for it "
            "(another is): every usage row it seals counts for nothing (/healthz says why).",
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
        series = self._series.get((model, person))
        if series is None:
            series = self._series[(model, person)] = _Series()
        counted = series.statuses.get(status)
        if counted is None:
            counted = series.statuses[status] = self.requests.entry((model, person, str(status)))
        counted[0] += 1
        took, own = series.latency, series.overhead
        if took is None or own is None:
            took = series.latency = self.latency.entry((model, person))
            own = series.overhead = self.overhead.entry((model, person))
        self.latency.observe(took, latency)
        self.overhead.observe(own, overhead)
        if ttft is not None:
            if series.ttft is None:
                series.ttft = self.ttft.entry((model, person))
            self.ttft.observe(series.ttft, ttft)
        if tokens_in:
            if series.tokens_in is None:
                series.tokens_in = self.tokens.entry((model, person, "in"))
            series.tokens_in[0] += tokens_in
        if tokens_out:
            if series.tokens_out is None:
                series.tokens_out = self.tokens.entry((model, person, "out"))
            series.tokens_out[0] += tokens_out
        for action in actions:
            kind = action.split(":", 1)[0]
            acted = series.actions.get(kind)
            if acted is None:
                acted = series.actions[kind] = self.policy.entry((model, person, kind))
            acted[0] += 1

    def set_limits_mode(self, mode: str) -> None:
        for each in ("local", "shared", "share"):
            self.limits_mode.labels(each).set(1 if each == mode else 0)

    def render(self, *, people: bool = False, worker: int | None = None) -> bytes:
        """The Prometheus text; with ``people``, each person's series (a rollout lead's to
        read: who uses the tool and how much), else each model's, summed over people (what
        anyone who reaches ``/metrics`` may read). Rendered on the event loop's thread, so
        the flag is this collection's alone.

        ``worker``: this process's index among ``serve --workers N``, put on every series as
        ``worker``. Each worker counts its own requests, and the worker a scrape reaches
        answers with every worker's text (:func:`merged`, :mod:`inhouse.gateway.peers`):
        without the label their counters would share one series."""
        self._requests.people = people
        try:
            if worker is None:
                return generate_latest(self.registry)
            return generate_latest(_Labelled(self.registry, {"worker": str(worker)}))
        finally:
            self._requests.people = False


class _Labelled:
    """``registry``'s families with ``labels`` added to every sample (what
    :func:`~prometheus_client.generate_latest` reads: anything with ``collect``)."""

    def __init__(self, registry: CollectorRegistry, labels: dict[str, str]) -> None:
        self.registry = registry
        self.labels = labels

    def collect(self) -> Iterator[Metric]:
        for family in self.registry.collect():
            family.samples = [
                sample._replace(labels={**sample.labels, **self.labels})
                for sample in family.samples
            ]
            yield family


class _Families:
    """Families already collected, as :func:`~prometheus_client.generate_latest` reads them."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def merged(texts: list[bytes], unanswered: int) -> bytes:
    """The Prometheus text of several workers (each :meth:`Metrics.render` with its
    ``worker``) as one exposition: each family once, with every worker's samples (the text
    format allows a family's ``# TYPE`` once, so the texts cannot simply be joined), and
    ``inhouse_gateway_workers_unanswered``, how many workers this scrape lacks. Read with
    prometheus_client's own parser, once per scrape: nothing of it is on the request path."""
    families: dict[str, Metric] = {}
    for text in texts:
        for family in text_string_to_metric_families(text.decode("utf-8")):
            into = families.get(family.name)
            if into is None:
                families[family.name] = family
            else:
                into.samples.extend(family.samples)
    missing = GaugeMetricFamily(
        "inhouse_gateway_workers_unanswered",
        "Workers of this gateway (serve --workers N) whose series this scrape lacks: they did "
        "not answer the worker that took it in time (starting again, or stuck).",
        value=unanswered,
    )
    return generate_latest(_Families([*families.values(), missing]))
