"""The gateway's per-request metrics are kept as plain numbers and handed to prometheus_client
as a collector (inhouse.gateway.metrics): what ``/metrics`` shows must be, line for line, what
prometheus_client's own ``Counter`` and ``Histogram`` write for the same requests (the
reference below is built with them), ``_created`` series included (their times aside)."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from inhouse.gateway import metrics as gateway_metrics
from inhouse.gateway.metrics import Metrics


def _reference() -> tuple[CollectorRegistry, dict[str, Any]]:
    """prometheus_client's own metrics, as the gateway declared them before."""
    registry = CollectorRegistry()
    labels = ("model", "person")
    made: dict[str, Any] = {
        "requests": Counter("inhouse_gateway_requests", "Requests answered, by status.",
                            (*labels, "status"), registry=registry),
        "tokens": Counter("inhouse_gateway_tokens", "Tokens in (prompt) and out (completion).",
                          (*labels, "direction"), registry=registry),
        "latency": Histogram("inhouse_gateway_request_seconds",
                             "Total request latency as the client sees it.", labels,
                             buckets=gateway_metrics._LATENCY, registry=registry),
        "ttft": Histogram("inhouse_gateway_ttft_seconds",
                          "Time to first token of streamed answers.", labels,
                          buckets=gateway_metrics._LATENCY, registry=registry),
        "overhead": Histogram("inhouse_gateway_overhead_seconds",
                              "Time spent in the gateway itself (everything but waiting on the "
                              "runtime).", labels, buckets=gateway_metrics._OVERHEAD,
                              registry=registry),
        "policy": Counter("inhouse_gateway_policy_actions",
                          "Policy actions taken (redact, block, strip-tools, tool-call-blocked).",
                          (*labels, "action"), registry=registry),
    }  # fmt: skip
    mode = Gauge(
        "inhouse_gateway_limits_mode",
        "How per-key limits are enforced (1 for the current mode): local (one process), "
        "shared (through Redis, every replica together), share (each replica its share of "
        "the limit: Redis unreachable, or several replicas without it).",
        ("mode",),
        registry=registry,
    )
    for each in ("local", "shared", "share"):
        mode.labels(each).set(1 if each == "local" else 0)
    Gauge(
        "inhouse_gateway_usage_backlog",
        "Usage records spooled but not yet in the database.",
        registry=registry,
    ).set(0)
    Gauge(
        "inhouse_gateway_service_key_unenrolled",
        "1 while this gateway's own key is not the one the program's log enrolled for it "
        "(another is): every usage row it seals counts for nothing (/healthz says why).",
        registry=registry,
    ).set(0)
    return registry, made


def _observe_reference(made: dict[str, Any], request: dict[str, Any]) -> None:
    model, person = request["model"], request["person"]
    made["requests"].labels(model, person, str(request["status"])).inc()
    made["latency"].labels(model, person).observe(request["latency"])
    made["overhead"].labels(model, person).observe(request["overhead"])
    if request["ttft"] is not None:
        made["ttft"].labels(model, person).observe(request["ttft"])
    if request["tokens_in"]:
        made["tokens"].labels(model, person, "in").inc(request["tokens_in"])
    if request["tokens_out"]:
        made["tokens"].labels(model, person, "out").inc(request["tokens_out"])
    for action in request["actions"]:
        made["policy"].labels(model, person, action.split(":", 1)[0]).inc()


def _requests(count: int) -> list[dict[str, Any]]:
    """Requests of every kind, with times on and between the buckets' bounds."""
    rng = random.Random(42)
    bounds = [*gateway_metrics._LATENCY, *gateway_metrics._OVERHEAD]
    made = []
    for _ in range(count):

        def a_time() -> float:
            pick = rng.random()
            if pick < 0.3:
                return float(rng.choice(bounds))  # exactly on a bound: counted in it
            if pick < 0.35:
                return rng.choice([0.0, 500.0])  # nothing, and past the last bound
            if pick < 0.36:
                return float("nan")  # in no bucket, and in the sum
            return rng.uniform(0, 3) ** 3

        made.append({
            "model": rng.choice(["tiny", "big"]),
            "person": rng.choice(["lena", "omar", "ines"]),
            "status": rng.choice([200, 200, 200, 429, 499, 502]),
            "latency": a_time(),
            "overhead": a_time() / 100,
            "ttft": rng.choice([None, a_time()]),
            "tokens_in": rng.choice([0, rng.randint(1, 900)]),
            "tokens_out": rng.choice([0, rng.randint(1, 900)]),
            "actions": rng.sample(["redact:email", "block:card", "strip-tools",
                                   "tool-call-blocked"], rng.randint(0, 2)),
        })  # fmt: skip
    return made


def _without_times(text: bytes) -> str:
    return re.sub(r"(_created(\{[^}]*\})?) \S+", r"\1 T", text.decode())


def test_metrics_write_what_prometheus_clients_own_metrics_write() -> None:
    registry, made = _reference()
    ours = Metrics()
    ours.set_limits_mode("local")
    ours.spool_backlog.set(0)
    for request in _requests(600):
        _observe_reference(made, request)
        ours.observe(**request)
    expected = _without_times(generate_latest(registry))
    assert "inhouse_gateway_ttft_seconds_bucket" in expected  # the reference is not empty
    assert _without_times(ours.render(people=True)) == expected


def test_a_series_appears_only_once_something_was_observed_in_it() -> None:
    ours = Metrics()
    assert b"inhouse_gateway_requests_total{" not in ours.render()
    ours.observe(model="tiny", person="lena", status=200, latency=0.1, overhead=0.001, ttft=None,
                 tokens_in=3, tokens_out=0, actions=[])  # fmt: skip
    text = ours.render(people=True).decode()
    assert 'inhouse_gateway_requests_total{model="tiny",person="lena",status="200"} 1.0' in text
    assert 'inhouse_gateway_tokens_total{direction="in",model="tiny",person="lena"} 3.0' in text
    assert 'direction="out"' not in text and "inhouse_gateway_ttft_seconds_bucket" not in text


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_without_people_each_model_s_series_are_summed_over_people() -> None:
    """What anyone reads on /metrics: every series prometheus_client writes for the same
    requests all sent by one person, with no person label; nobody is named."""
    registry, made = _reference()
    ours = Metrics()
    ours.set_limits_mode("local")
    ours.spool_backlog.set(0)
    for request in _requests(600):
        _observe_reference(made, {**request, "person": "everyone"})
        ours.observe(**request)
    expected = {
        (name, tuple(label for label in labels if label[0] != "person")): value
        for (name, labels), value in _samples(generate_latest(registry)).items()
    }
    text = ours.render()
    assert b"person=" not in text and b"lena" not in text
    assert _samples(text) == pytest.approx(expected, nan_ok=True)
    # the lead's view is unchanged by a public one read before it
    assert b'person="lena"' in ours.render(people=True)
