"""The stand-in upstream: what it answers on each endpoint, that it honours the injected delays
(one request, loose bounds: the precise check is the load generator's accuracy test), and that it
starts and stops cleanly in a thread and in a subprocess."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from inhouse.testing.standin_upstream import (
    StandinTiming,
    StandinUpstream,
    spawn_standin,
    standin_in_thread,
)


@pytest.fixture
def upstream() -> Iterator[StandinUpstream]:
    with standin_in_thread(StandinTiming(ttft_ms=30, tpot_ms=5, tokens=4), record=True) as up:
        yield up


def events(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n") if line.startswith("data: ")]


def test_models_and_health(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        models = client.get("/v1/models").json()
        assert [m["id"] for m in models["data"]] == ["standin-model"]
        assert client.get("/healthz").json()["standin"] is True
        missing = client.get("/v1/nothing")
        assert missing.status_code == 404
        assert "standin" in missing.json()["error"]["message"]


def test_chat_without_streaming_answers_with_usage(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        reply = client.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "three words here"}]},
        ).json()
    assert reply["choices"][0]["message"]["content"] == "tok0 tok1 tok2 tok3 "
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert reply["model"] == "m"


def test_streamed_chat_sends_a_role_chunk_then_tokens_then_usage_on_request(
    upstream: StandinUpstream,
) -> None:
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        response = client.post("/v1/chat/completions", json=body)
    assert response.headers["content-type"] == "text/event-stream"
    data = events(response.text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = [c["choices"][0]["delta"].get("content") for c in chunks[1:5]]
    assert content == ["tok0 ", "tok1 ", "tok2 ", "tok3 "]
    assert chunks[5]["choices"][0]["finish_reason"] == "stop"
    assert chunks[6]["choices"] == [] and chunks[6]["usage"]["completion_tokens"] == 4


@pytest.mark.parametrize("stream", [False, True])
def test_a_stop_sequence_ends_the_answer_before_it_and_says_stop(
    upstream: StandinUpstream, stream: bool
) -> None:
    """As the OpenAI API does: the answer ends before the first stop sequence it holds, which
    is kept out, and the server says `stop`, as for an answer that ended on its own (only
    `max_tokens` says `length`); a sequence it opens with leaves an empty answer."""

    def ask(stop: object, **more: object) -> tuple[str, str, int]:
        body = {"messages": [{"role": "user", "content": "hi"}], "stop": stop, "stream": stream,
                "stream_options": {"include_usage": True}, **more}  # fmt: skip
        with httpx.Client(base_url=upstream.url, trust_env=False) as client:
            response = client.post("/v1/chat/completions", json=body)
        if not stream:
            reply = response.json()
            choice = reply["choices"][0]
            return (
                choice["message"]["content"],
                choice["finish_reason"],
                reply["usage"]["completion_tokens"],
            )
        chunks = [json.loads(d) for d in events(response.text)[:-1]]
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
        finish = next(c["choices"][0]["finish_reason"] for c in chunks
                      if c["choices"] and c["choices"][0]["finish_reason"])  # fmt: skip
        return text, finish, chunks[-1]["usage"]["completion_tokens"]

    assert ask(["nothing", "tok2"]) == ("tok0 tok1 ", "stop", 2)
    assert ask("tok1") == ("tok0 ", "stop", 1)
    assert ask(["tok0"]) == ("", "stop", 0)
    assert ask(["tok3"], max_tokens=2) == ("tok0 tok1 ", "length", 2)


def test_usage_is_left_out_of_a_stream_unless_asked(upstream: StandinUpstream) -> None:
    body = {"stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        text = client.post("/v1/chat/completions", json=body).text
    assert "usage" not in text


def test_max_tokens_caps_the_answer(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        reply = client.post("/v1/completions", json={"prompt": "x", "max_tokens": 2}).json()
    assert reply["choices"][0]["text"] == "tok0 tok1 "
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 2


def test_streamed_completions(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        text = client.post("/v1/completions", json={"prompt": "x", "stream": True}).text
    chunks = [json.loads(d) for d in events(text) if d != "[DONE]"]
    assert "".join(c["choices"][0]["text"] for c in chunks) == "tok0 tok1 tok2 tok3 "


def test_embeddings_are_deterministic_unit_vectors(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        first = client.post("/v1/embeddings", json={"input": ["a b", "c"]}).json()
        again = client.post("/v1/embeddings", json={"input": "a b"}).json()
    assert len(first["data"]) == 2
    vector = first["data"][0]["embedding"]
    assert vector == again["data"][0]["embedding"]
    assert sum(x * x for x in vector) == pytest.approx(1.0)
    assert first["usage"]["prompt_tokens"] == 3


def test_bad_requests_get_openai_shaped_errors(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        not_json = client.post("/v1/chat/completions", content=b"{nope")
        no_messages = client.post("/v1/chat/completions", json={"model": "m"})
        wrong_method = client.get("/v1/chat/completions")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]["message"]
    assert no_messages.status_code == 400
    assert wrong_method.status_code == 405


def test_it_records_what_it_received_and_keeps_connections_alive(
    upstream: StandinUpstream,
) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        for word in ("one", "two", "three"):
            client.post("/v1/chat/completions",
                        json={"messages": [{"role": "user", "content": word}]})  # fmt: skip
    assert [body["messages"][0]["content"] for _, body in upstream.received] == [
        "one", "two", "three",
    ]  # fmt: skip
    assert upstream.requests_served == 3


def test_one_request_takes_at_least_the_injected_time(upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url, trust_env=False) as client:
        client.get("/healthz")  # connect first
        start = time.perf_counter()
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
        took = time.perf_counter() - start
    assert took >= (30 + 3 * 5) / 1000  # never early: ttft + (tokens - 1) * tpot


def test_the_thread_stops_and_frees_the_port() -> None:
    with standin_in_thread(StandinTiming(0, 0, 1)) as up:
        port = up.port
        assert httpx.get(f"{up.url}/healthz", trust_env=False).status_code == 200
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_subprocess_stand_in_starts_on_a_free_port_and_stops() -> None:
    timing = StandinTiming(ttft_ms=1, tpot_ms=1, tokens=2)
    with spawn_standin(timing, model="other", root="/models/other.gguf") as proc:
        assert proc.url.startswith("http://127.0.0.1:")
        models = httpx.get(f"{proc.url}/v1/models", trust_env=False).json()
        assert models["data"][0]["id"] == "other"
        assert models["data"][0]["root"] == "/models/other.gguf"
    assert proc.process.poll() is not None


def test_the_model_names_a_file_only_when_told_which() -> None:
    """Without ``root`` the stand-in names no weights (no digest can be taken from its word);
    with it, its model list names the file as vLLM's does."""
    with standin_in_thread(StandinTiming(0, 0, 1), model="tiny") as bare:
        (entry,) = httpx.get(f"{bare.url}/v1/models", trust_env=False).json()["data"]
        assert entry["id"] == "tiny" and "root" not in entry
    with standin_in_thread(StandinTiming(0, 0, 1), model="tiny", root="/m/tiny.gguf") as named:
        (entry,) = httpx.get(f"{named.url}/v1/models", trust_env=False).json()["data"]
        assert (entry["id"], entry["root"]) == ("tiny", "/m/tiny.gguf")


def test_timings_must_make_sense() -> None:
    with pytest.raises(ValueError, match="tokens"):
        StandinTiming(tokens=0)
    with pytest.raises(ValueError, match="ttft_ms"):
        StandinTiming(ttft_ms=-1)
