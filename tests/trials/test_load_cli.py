"""``inhouse bench`` through Typer's runner: against the real llama.cpp engine with --json, the
table against a stand-in, and clear errors (never a traceback) for servers that are down or not
OpenAI-compatible and for options that do not go together. No program folder is needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, standin_in_thread
from tests.engine import Engine, needs_engine
from tests.runtimes.standin import StandIn, free_port

runner = CliRunner()


@pytest.fixture
def upstream() -> Iterator[StandinUpstream]:
    with standin_in_thread(StandinTiming(ttft_ms=5, tpot_ms=1, tokens=6), record=True) as up:
        yield up


def refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


@needs_engine
def test_bench_against_the_real_engine_prints_json(engine: Engine) -> None:
    # sequential: llama-cpp-python's server interrupts a running stream when another arrives.
    # Temperature 0: at the server's default the tiny model sometimes draws end-of-stream first,
    # and an answer without a content token is a failed request (docs/bench.md), so a test of
    # what a run prints must not depend on the draw
    result = runner.invoke(
        app,
        ["bench", engine.url, "--model", engine.model.name, "--requests", "4",
         "--max-tokens", "8", "--temperature", "0", "--slo-ttft-ms", "60000", "--json",
         "--samples"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    summary = data["summary"]
    failures = [s.get("error") for s in data["samples"] if not s["ok"]]
    assert (summary["requests"], summary["completed"], summary["failed"]) == (4, 4, 0), failures
    assert data["target"]["temperature"] == 0
    assert len({s["output_text"] for s in data["samples"]}) == 1  # greedy: one answer
    assert data["warmup"] == 1 and data["mode"]["kind"] == "sequential"
    for metric in ("ttft", "tpot", "itl", "e2e"):
        if summary[metric] is not None:
            assert set(summary[metric]) >= {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms"}
    assert summary["ttft"]["count"] == 4
    assert summary["e2e"]["p50_ms"] >= summary["ttft"]["p50_ms"]
    assert summary["request_throughput"] > 0 and summary["output_tokens"] > 0
    # llama-cpp-python's server sends no usage in a stream: tokens are counted by chunk, and
    # the output says they are estimated
    assert summary["output_tokens_estimated"] is True
    assert all(1 <= s["output_tokens"] <= 8 for s in data["samples"])
    assert summary["goodput"] == pytest.approx(summary["request_throughput"])
    assert [s["host"] for s in data["samples"]] == ["127.0.0.1"] * 4
    assert all(s["ok"] and s["bytes_sent"] > 0 for s in data["samples"])


def test_bench_shows_a_table_and_works_without_a_program(
    upstream: StandinUpstream, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["bench", upstream.url, "-m", "standin-model", "-n", "6", "--concurrency", "3",
              "--slo-tpot-ms", "1000"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    for word in ("TTFT", "TPOT", "ITL", "E2E", "p99", "completed   6 of 6", "goodput"):
        assert word in out
    assert not (tmp_path / "work" / "inhouse.toml").exists()


def test_bench_sends_the_temperature_asked_for_and_none_otherwise(
    upstream: StandinUpstream,
) -> None:
    for extra, sent in (([], None), (["--temperature", "0.7"], 0.7)):
        result = runner.invoke(
            app, ["bench", upstream.url, "-m", "m", "-n", "1", "--warmup", "0", "--json", *extra]
        )
        assert result.exit_code == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["target"].get("temperature") == sent
    bodies = [body for _, body in upstream.received]
    assert "temperature" not in bodies[-2] and bodies[-1]["temperature"] == 0.7


def test_bench_reads_prompts_from_a_jsonl_file(upstream: StandinUpstream, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('"one"\n{"prompt": "two"}\n')
    result = runner.invoke(
        app, ["bench", upstream.url, "-m", "m", "-n", "4", "--input", str(prompts), "--json",
              "--warmup", "0", "--rate", "100", "--poisson", "--seed", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == {"kind": "poisson", "rate": 100.0, "seed": 3, "concurrency": 0}
    sent = [body["messages"][0]["content"] for _, body in upstream.received]
    assert sorted(sent) == ["one", "one", "two", "two"]


def test_bench_says_when_the_server_is_down() -> None:
    message = refused("bench", f"http://127.0.0.1:{free_port()}", "--model", "m")
    assert "is the server running" in message


def test_bench_says_when_the_server_is_not_openai_compatible() -> None:
    with StandIn() as stand:
        stand.raw("GET", "/v1/models", b"<html>a web page</html>", "text/html")
        message = refused("bench", stand.url, "--model", "m")
    assert "OpenAI-compatible" in message


def test_bench_fails_clearly_when_every_request_fails() -> None:
    with StandIn() as stand:
        stand.json("GET", "/v1/models", {"data": []})
        stand.json("POST", "/v1/chat/completions", {"error": {"message": "no such model"}}, 404)
        message = refused("bench", stand.url, "--model", "m", "--warmup", "0", "-n", "2")
    assert "all 2 requests" in message and "no such model" in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--concurrency", "2", "--rate", "3"], "not both"),
        (["--poisson"], "--poisson needs --rate"),
        (["--prompt", "x", "--input", "f.jsonl"], "not both"),
        (["--api", "embeddings"], "chat or completions"),
        (["--api-key-env", "INHOUSE_NO_SUCH_VAR"], "INHOUSE_NO_SUCH_VAR"),
        (["--rate", "0"], "positive"),
        (["--temperature", "-1"], "--temperature must be 0 or more"),
        (["--temperature", "nan"], "--temperature must be 0 or more"),
    ],
)
def test_bench_refuses_options_that_do_not_go_together(args: list[str], says: str) -> None:
    assert says in refused("bench", "http://127.0.0.1:1", "--model", "m", *args)


def test_bench_refuses_a_url_that_is_not_one() -> None:
    assert "not a server URL" in refused("bench", "localhost:8080", "--model", "m")
