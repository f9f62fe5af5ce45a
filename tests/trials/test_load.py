"""The load generator against stand-ins: every mode sends what it should, warm-up is left out,
samples keep their input index, text, bytes and host, errors are kept with their message, and
servers that are down or not OpenAI-compatible give clear errors."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput, RuntimeBadResponse, RuntimeUnavailable
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, standin_in_thread
from inhouse.trials.load import (
    LoadMode,
    Target,
    poisson_schedule,
    read_prompts,
    run_in_fast_loop,
    run_load,
)
from tests.runtimes.standin import StandIn, free_port, send_bytes, start_events, write_event

ANSWER = "tok0 tok1 tok2 tok3 "


@pytest.fixture
def upstream() -> Iterator[StandinUpstream]:
    with standin_in_thread(StandinTiming(ttft_ms=5, tpot_ms=1, tokens=4), record=True) as up:
        yield up


def run(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    """run_load in a fresh event loop, as ``inhouse bench`` runs it (uvloop where installed)."""
    return run_in_fast_loop(run_load(*args, **kwargs))  # type: ignore[arg-type]


def sse(*payloads: object) -> bytes:
    return b"".join(
        f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n".encode() for p in payloads
    )


def delta(text: str) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


def models_route(stand: StandIn) -> None:
    stand.json("GET", "/v1/models", {"object": "list", "data": [{"id": "m"}]})


def test_sequential_run_measures_every_request(upstream: StandinUpstream) -> None:
    prompts = ["first prompt", "second prompt here", "third"]
    result = run(Target(upstream.url, "m", max_tokens=8), prompts, LoadMode.sequential())
    assert [s.index for s in result.samples] == [0, 1, 2]
    assert all(s.ok and s.output_text == ANSWER for s in result.samples)
    s = result.samples[0]
    assert s.output_tokens == 4 and not s.output_tokens_estimated
    assert s.input_tokens == 2 and not s.input_tokens_estimated
    assert s.host == "127.0.0.1"
    sent = [body for path, body in upstream.received if path == "/v1/chat/completions"]
    assert s.bytes_sent == len(json.dumps(sent[0], separators=(",", ":")).encode())
    assert sent[0]["stream"] is True and sent[0]["stream_options"] == {"include_usage": True}
    assert sent[0]["max_tokens"] == 8
    assert s.ttft is not None and s.e2e is not None and s.e2e >= s.ttft
    assert len(s.itl) == 3
    # sequential: each request starts after the previous one ended
    assert all(b.start >= a.end for a, b in zip(result.samples, result.samples[1:], strict=False))


def test_warm_up_requests_are_sent_but_not_measured(upstream: StandinUpstream) -> None:
    result = run(Target(upstream.url, "m"), ["a", "b"], LoadMode.fixed(2), warmup=3, requests=5)
    assert len(result.samples) == 5
    chats = [path for path, _ in upstream.received if path == "/v1/chat/completions"]
    assert len(chats) == 3 + 5
    assert sorted(s.index for s in result.samples) == [0, 0, 0, 1, 1]  # cycled through inputs
    assert result.summary.requests == 5


def test_fixed_concurrency_keeps_that_many_in_flight(upstream: StandinUpstream) -> None:
    result = run(Target(upstream.url, "m"), ["x"], LoadMode.fixed(4), requests=12)
    assert len(result.samples) == 12 and result.summary.completed == 12
    # the first four started together, before any had finished
    first = sorted(result.samples, key=lambda s: s.start)[:4]
    assert max(s.start for s in first) < min(s.end for s in first)


@pytest.mark.parametrize("loop", ["fast", "asyncio"])
def test_rate_modes_never_send_before_the_schedule(upstream: StandinUpstream, loop: str) -> None:
    in_loop = run_in_fast_loop if loop == "fast" else asyncio.run
    for mode in (LoadMode.constant_rate(200), LoadMode.poisson(200, seed=3)):
        result = in_loop(run_load(Target(upstream.url, "m"), ["x"], mode, requests=10))
        schedule = mode.schedule(10)
        starts = sorted(s.start for s in result.samples)
        assert all(start >= due for start, due in zip(starts, schedule, strict=True))
        assert result.summary.completed == 10


def test_poisson_schedule_is_reproducible_from_its_seed() -> None:
    first = poisson_schedule(10, 2000, seed=7)
    assert first == poisson_schedule(10, 2000, seed=7)
    assert first != poisson_schedule(10, 2000, seed=8)
    assert first[0] == 0.0 and first == sorted(first)
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert sum(gaps) / len(gaps) == pytest.approx(0.1, rel=0.1)  # mean gap 1/rate
    assert LoadMode.constant_rate(4).schedule(3) == [0.0, 0.25, 0.5]


def test_progress_reports_each_measured_request(upstream: StandinUpstream) -> None:
    seen: list[tuple[int, int]] = []
    run(Target(upstream.url, "m"), ["x"], LoadMode.fixed(2), warmup=2, requests=4,
        progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_completions_api_and_chat_message_prompts(upstream: StandinUpstream) -> None:
    result = run(Target(upstream.url + "/v1", "m", api="completions"), ["x"], LoadMode.sequential())
    assert result.samples[0].output_text == ANSWER
    assert upstream.received[-1][0] == "/v1/completions"
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    run(Target(upstream.url, "m"), [messages], LoadMode.sequential())
    assert upstream.received[-1][1]["messages"] == messages
    with pytest.raises(InvalidInput, match="text prompts"):
        run(Target(upstream.url, "m", api="completions"), [messages], LoadMode.sequential())


def test_output_tokens_are_estimated_by_chunks_when_the_server_reports_no_usage() -> None:
    with StandIn() as stand:
        models_route(stand)
        body = sse({"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
                   delta("Hello"), delta(" world"), delta("!"), "[DONE]")  # fmt: skip
        stand.raw("POST", "/v1/chat/completions", body, "text/event-stream")
        result = run(Target(stand.url, "m"), ["some words to send"], LoadMode.sequential())
    s = result.samples[0]
    assert s.ok and s.output_text == "Hello world!"
    assert s.output_tokens == 3 and s.output_tokens_estimated
    assert s.input_tokens_estimated
    assert result.summary.output_tokens_estimated


def test_usage_from_the_server_wins_over_the_chunk_count() -> None:
    with StandIn() as stand:
        models_route(stand)
        usage = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 9}}
        stand.raw("POST", "/v1/chat/completions", sse(delta("two tokens"), usage, "[DONE]"),
                  "text/event-stream")  # fmt: skip
        result = run(Target(stand.url, "m"), ["x"], LoadMode.sequential())
    s = result.samples[0]
    assert (s.output_tokens, s.output_tokens_estimated) == (9, False)
    assert (s.input_tokens, s.input_tokens_estimated) == (7, False)


def test_reasoning_counts_as_generated_but_is_not_answer_text() -> None:
    reasoning = {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]}
    with StandIn() as stand:
        models_route(stand)
        stand.raw("POST", "/v1/chat/completions", sse(reasoning, delta("yes"), "[DONE]"),
                  "text/event-stream")  # fmt: skip
        s = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
    assert s.output_text == "yes" and s.output_tokens == 2 and len(s.itl) == 1


def test_errors_are_counted_and_kept_with_their_message() -> None:
    with StandIn() as stand:
        models_route(stand)
        stand.json("POST", "/v1/chat/completions",
                   {"error": {"message": "model 'm' not found"}}, status=404)  # fmt: skip
        result = run(Target(stand.url, "m"), ["a", "b"], LoadMode.fixed(2))
    assert result.summary.failed == 2 and result.summary.completed == 0
    assert all(s.error == "HTTP 404: model 'm' not found" for s in result.samples)
    assert sorted(i for i, _ in result.summary.errors) == [0, 1]


def test_an_error_mid_stream_and_an_empty_answer_are_failures() -> None:
    with StandIn() as stand:
        models_route(stand)
        stand.raw(
            "POST",
            "/v1/chat/completions",
            sse(delta("a"), {"error": {"message": "out of memory"}}),
            "text/event-stream",
        )
        mid = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
        stand.raw("POST", "/v1/chat/completions", sse("[DONE]"), "text/event-stream")
        empty = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
    assert not mid.ok and mid.error == "reported an error mid-stream: out of memory"
    assert not empty.ok and empty.error == "the answer carried no content token"  # fmt: skip


def test_a_server_that_does_not_stream_is_a_clear_failure() -> None:
    with StandIn() as stand:
        models_route(stand)
        stand.json("POST", "/v1/chat/completions", {"choices": [{"message": {"content": "x"}}]})
        s = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
    assert not s.ok and "instead of an event stream" in (s.error or "")


def test_warm_up_that_all_fails_stops_the_run_with_the_reason() -> None:
    with StandIn() as stand:
        models_route(stand)
        stand.json("POST", "/v1/chat/completions", {"error": {"message": "bad key"}}, status=400)
        with pytest.raises(RuntimeBadResponse, match=r"every warm-up request .* bad key"):
            run(Target(stand.url, "m"), ["x"], LoadMode.sequential(), warmup=1)


def test_an_unreachable_server_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RuntimeUnavailable, match="is the server running"):
        run(Target(url, "m"), ["x"], LoadMode.sequential())


def test_a_server_that_is_not_openai_compatible_is_a_clear_error() -> None:
    with StandIn() as stand:
        stand.raw("GET", "/v1/models", b"<html>hello</html>", "text/html")
        with pytest.raises(RuntimeBadResponse, match="not an OpenAI model list"):
            run(Target(stand.url, "m"), ["x"], LoadMode.sequential())
        stand.json("GET", "/v1/models", {"detail": "no"}, status=401)
        with pytest.raises(RuntimeBadResponse, match="HTTP 401"):
            run(Target(stand.url, "m"), ["x"], LoadMode.sequential())


def test_the_api_key_is_sent_as_a_bearer_token() -> None:
    seen: list[str | None] = []

    def answer(h: BaseHTTPRequestHandler) -> None:
        seen.append(h.headers.get("authorization"))
        send_bytes(h, 200, sse(delta("a"), "[DONE]"), "text/event-stream")

    with StandIn() as stand:
        models_route(stand)
        stand.routes[("POST", "/v1/chat/completions")] = answer
        run(Target(stand.url, "m", api_key="sk-test"), ["x"], LoadMode.sequential())
        run(Target(stand.url, "m"), ["x"], LoadMode.sequential())
    assert seen == ["Bearer sk-test", None]


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("http://h:1", "http://h:1/v1/chat/completions"),
        ("http://h:1/", "http://h:1/v1/chat/completions"),
        ("http://h:1/v1", "http://h:1/v1/chat/completions"),
        ("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions"),
        ("https://api.example.com/v1/", "https://api.example.com/v1/chat/completions"),
    ],
)
def test_target_urls_are_normalised(url: str, endpoint: str) -> None:
    assert Target(url, "m").endpoint == endpoint


def test_bad_modes_and_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput, match="concurrency"):
        LoadMode.fixed(0)
    with pytest.raises(InvalidInput, match="rate"):
        LoadMode.poisson(0)
    with pytest.raises(InvalidInput, match="no prompts"):
        run(Target("http://127.0.0.1:1", "m"), [], LoadMode.sequential())
    with pytest.raises(InvalidInput, match="at least 1"):
        run(Target("http://127.0.0.1:1", "m"), ["x"], LoadMode.sequential(), requests=0)


def test_read_prompts_takes_strings_prompts_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '"plain"\n\n{"prompt": "from a field"}\n{"messages": [{"role": "user", "content": "hi"}]}\n'
    )
    assert read_prompts(path) == ["plain", "from a field", [{"role": "user", "content": "hi"}]]
    path.write_text('"ok"\n{"nothing": 1}\n')
    with pytest.raises(InvalidInput, match=r"in.jsonl:2"):
        read_prompts(path)
    path.write_text("not json\n")
    with pytest.raises(InvalidInput, match=r"in.jsonl:1: not JSON"):
        read_prompts(path)
    with pytest.raises(InvalidInput, match=r"no file .*missing\.jsonl"):
        read_prompts(tmp_path / "missing.jsonl")


def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    def answer_then_hang_up(h: BaseHTTPRequestHandler) -> None:
        send_bytes(h, 200, sse(delta("a"), "[DONE]"), "text/event-stream")
        h.close_connection = True  # closes without saying "connection: close"

    with StandIn() as stand:
        models_route(stand)
        stand.routes[("POST", "/v1/chat/completions")] = answer_then_hang_up
        result = run(Target(stand.url, "m"), ["x"], LoadMode.sequential(), requests=4)
    assert [s.ok for s in result.samples] == [True] * 4, result.summary.errors


def test_a_stream_cut_off_midway_is_a_failure_with_the_reason() -> None:
    def cut(h: BaseHTTPRequestHandler) -> None:
        start_events(h)
        write_event(h, json.dumps(delta("partial")))
        h.close_connection = True  # no terminating chunk, no [DONE]

    with StandIn() as stand:
        models_route(stand)
        stand.routes[("POST", "/v1/chat/completions")] = cut
        s = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
    assert not s.ok
    assert s.error == "the server closed the connection before the answer ended"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_servers_are_measured_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust it, as a system CA store would
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    stand = StandIn()
    stand.server.socket = tls.wrap_socket(stand.server.socket, server_side=True)
    with stand:
        models_route(stand)
        stand.raw("POST", "/v1/chat/completions", sse(delta("secure"), "[DONE]"),
                  "text/event-stream")  # fmt: skip
        url = stand.url.replace("http://127.0.0.1", "https://localhost")
        s = run(Target(url, "m"), ["x"], LoadMode.sequential()).samples[0]
    assert s.ok and s.output_text == "secure" and s.host == "localhost"


def test_close_delimited_and_compressed_answers_are_read() -> None:
    events = sse(delta("plain"), "[DONE]")

    def until_close(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        h.wfile.write(events)
        h.close_connection = True  # no length, not chunked: the body ends with the connection

    def gzipped(h: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(sse(delta("squeezed"), "[DONE]"))
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    with StandIn() as stand:
        models_route(stand)
        stand.routes[("POST", "/v1/chat/completions")] = until_close
        first = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
        stand.routes[("POST", "/v1/chat/completions")] = gzipped
        second = run(Target(stand.url, "m"), ["x"], LoadMode.sequential()).samples[0]
    assert first.ok and first.output_text == "plain", first.error
    assert second.ok and second.output_text == "squeezed", second.error
