"""Passing a runtime's answer on to the client: whole, or event by event as it arrives.

Either way the answer names the blessed model (not the runtime's id for it), its tokens are
counted, tool calls are checked against the key's agent boundary, and the call is recorded
*before* the last bytes go out (the body, or a stream's ``[DONE]``); its spend and metrics
right after them. A stream ends inside the read that brought the runtime's ``[DONE]``. Stream
events are never buffered, except the tool-call deltas a boundary must see whole before they may
pass.

A refusal raised here reaches the gateway's error handler; once a stream's headers are sent
(``call.answering``) it can only travel as the stream's last event.

An answer is passed on as complete only when it is: a whole answer must be a JSON object of the
endpoint's shape (``choices`` or ``data``), and a stream must be ``text/event-stream`` whose
events are JSON and which ends with the runtime's own ``[DONE]``. Anything else (an HTML page
with status 200, an event that is not JSON, a stream cut short by a clean EOF) is a
:class:`~inhouse.errors.RuntimeBadResponse` naming the runtime: a 502 before the headers, or the
stream's last event (never a ``[DONE]`` of the gateway's own) after them, and the usage log
records 502 either way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson

from inhouse.errors import ClientGone, RuntimeBadResponse
from inhouse.gateway import sse
from inhouse.gateway.answers import JSON
from inhouse.gateway.calls import (
    COMPLETION_TOKENS,
    CONTENT,
    Call,
    Recorder,
    count_tokens,
)
from inhouse.gateway.edge import Reply
from inhouse.gateway.policies import StreamToolGuard, check_answer
from inhouse.gateway.routing import Node, Route
from inhouse.gateway.toolcalls import (
    WITHHOLD_ALL,
    answer_tool_calls,
    names_only,
    streamed_tool_calls,
)
from inhouse.gateway.upstream import CONNECTION_FAULTS, Upstream
from inhouse.gateway.wire import Answer
from inhouse.runtimes.error_body import error_message, snippet

__all__ = ["relay"]


async def relay(
    call: Call,
    route: Route,
    response: Answer,
    upstream: Upstream,
    recorder: Recorder,
    reply: Reply,
) -> None:
    """Pass the runtime's answer on: event by event when the client asked for a stream, else
    read whole, checked and sent as one body."""
    node = call.node
    assert node is not None
    if call.stream:
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("text/event-stream"):
            data = await upstream.read(call, response)
            raise _bad(node, f"answered a stream request with {content_type or 'no content type'}"
                       f" instead of events: {snippet(data)}")  # fmt: skip
        events = _Events(call, _renames(node.model_id, route.name), reply)

        def end(done: bytes) -> None:
            """The stream's end: its held events out, the call recorded, then its last bytes
            (the runtime's ``[DONE]``, or nothing after its own error event)."""
            events.close()
            _still_there(reply)
            recorder.spool(call)  # spooled before the last bytes ([DONE]) are sent
            reply.end(done)
            recorder.close(call)

        # the runtime's [DONE] ends the answer inside the read that brought it: no wait for
        # this task to wake up stands between that read and the client's last bytes
        events.on_done = end
        # what follows was _stream(), inline: a coroutine layer fewer per request (issue 16).
        # The answer's events are sent as they arrive, each read's events in one write; the
        # runtime's [DONE] goes to events.on_done, which ends the answer. A stream that ends
        # without one, or carries an event that is not JSON, raises RuntimeBadResponse; one
        # that ends with the runtime's own error event is recorded as a 502 and ended below. A
        # client that stops reading pauses the runtime's connection; one that goes away closes
        # it at once.
        try:
            try:
                reply.start_stream(b"%bx-inhouse-request-id: %b\r\n"
                                   % (sse.HEADER_LINES, call.request_id.encode()))  # fmt: skip
                call.answering = True
                reply.on_pause = response.pause
                reply.on_lost = lambda: response.abort(ClientGone("the client went away"))
                if reply.paused:  # the client was not reading before the stream began
                    response.pause(True)
                events.piped = time.perf_counter()
                try:
                    await response.pipe(events)
                except (TimeoutError, *CONNECTION_FAULTS) as err:
                    raise upstream.fault(node, err) from None
            finally:  # at its [DONE] the answer is read: the runtime's last bytes may still come
                reply.on_pause = reply.on_lost = None
                events.waited()
                response.release(read_all=events.done is not None)
            if events.done is None and call.status < 400:
                buffer = events.buffer
                cut = f" (it ended inside an event: {snippet(buffer)})" if buffer.strip() else ""
                raise _bad(node, f"ended the stream without [DONE]: the answer is incomplete{cut}")
        except BaseException:
            events.count()
            raise
        if not events.ended:  # it ended with the runtime's own error event, no [DONE]
            end(b"")
        return
    data = await upstream.read(call, response)
    answer = _check_whole(node, call.endpoint, data)
    if call.boundary is not None and call.endpoint == "chat/completions":
        if call.tool_calls is not None and call.keep_arguments is not None:
            call.tool_calls.extend(answer_tool_calls(answer, call.keep_arguments))
        check_answer(call.boundary, call.key.agent or "", data)
    elif call.endpoint == "chat/completions" and b'"tool_calls"' in data:
        # a key bound to no agent: the tools its answer called, by name (none of the answer)
        answered = names_only(answer_tool_calls(answer, WITHHOLD_ALL)) or []
        if answered:
            call.tool_calls = [*(call.tool_calls or []), *answered]
    data = _rename_model(data, node.model_id, route.name)
    count_tokens(call, data)
    _still_there(reply)
    recorder.spool(call)  # spooled before the answer is sent
    reply.whole(200, data, [*JSON, (b"x-inhouse-request-id", call.request_id.encode())])
    recorder.close(call)


def _still_there(reply: Reply) -> None:
    """Raise :class:`ClientGone` when the client left before its answer's end was written: the
    call is then recorded once, as 499, not as answered."""
    if reply.lost:
        raise ClientGone("the client went away before its answer ended")


def _bad(node: Node, what: str) -> RuntimeBadResponse:
    return RuntimeBadResponse(f"runtime {node.runtime} at {node.url} {what}")


#: what a whole answer of each endpoint must carry: a list under this key
_WHOLE_SHAPE = {"chat/completions": "choices", "completions": "choices", "embeddings": "data"}


def _check_whole(node: Node, endpoint: str, data: bytes) -> dict[str, Any]:
    """Refuse a whole answer that is not a JSON object of the endpoint's shape (an HTML page,
    an error object sent with status 200); the answer, parsed."""
    try:
        answer: Any = json.loads(data)
    except ValueError:
        raise _bad(node, f"answered 200 with a body that is not JSON: {snippet(data)}") from None
    wanted = _WHOLE_SHAPE[endpoint]
    if not isinstance(answer, dict) or not isinstance(answer.get(wanted), list):
        said = error_message(answer)
        detail = f"an error: {said}" if said else f"no {wanted!r} list: {snippet(data)}"
        raise _bad(node, f"answered 200 with a body that is not a {endpoint} answer ({detail})")
    return answer


def _event_text(event: bytes) -> bytes | None:
    """An event's data (its ``data:`` lines joined), or ``None`` for one without data (a
    comment such as ``: ping``)."""
    body = event.rstrip()
    if body.startswith(b"data:") and body.find(b"\n") < 0 and body.find(b"\r") < 0:
        return body[5:].strip()  # the usual event: one data line
    lines = [line[5:].strip() for line in body.splitlines() if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def _json_loads(node: Node, text: bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _bad(node, f"sent an event that is not JSON: {snippet(text)}") from None


class _Events:
    """A streamed answer passing through: each read from the runtime is split into its events,
    checked and counted, and written to the client within the read's own callback (the sink of
    :meth:`~inhouse.gateway.wire.Answer.pipe`), all but the runtime's ``[DONE]``, which it
    hands to ``on_done`` in the same callback, to be sent once the call is recorded."""

    __slots__ = (
        "buffer",
        "busy",
        "call",
        "closed",
        "counted_out",
        "done",
        "ended",
        "guard",
        "node",
        "on_done",
        "piped",
        "renames",
        "reply",
        "reported_out",
    )  # fmt: skip

    def __init__(self, call: Call, renames: list[tuple[bytes, bytes]], reply: Reply) -> None:
        node = call.node
        assert node is not None  # the stream's runtime answered
        self.call = call
        self.node: Node = node
        self.renames = renames
        self.reply = reply
        self.guard = (
            StreamToolGuard(call.boundary, call.key.agent or "")
            if call.boundary is not None
            else None
        )
        self.buffer = b""
        self.done: bytes | None = None
        self.counted_out = 0
        self.reported_out: int | None = None
        #: seconds spent here (the gateway's own time, not the runtime's)
        self.busy = 0.0
        #: when the piping began (the runtime's time is counted from there)
        self.piped = 0.0
        #: called with the runtime's ``[DONE]`` within the read that brought it: the answer
        #: ends there (:func:`relay`'s ``end``), ``ended`` says it did
        self.on_done: Callable[[bytes], None] | None = None
        self.ended = False
        #: what the stream carried is in the call (:meth:`close`)
        self.closed = False

    def __call__(self, chunk: bytes) -> bool:
        """Take one read; ``True`` once the runtime's ``[DONE]`` is in (nothing after it is
        part of the answer)."""
        now = time.perf_counter()
        out: list[bytes] = []
        try:
            # bytes.find, never ``in``, on the hot path: on CPython 3.11 ``needle in data``
            # first tries the needle as a byte value and raises (and clears) a TypeError each
            # time, ~1,000 instructions (benchmarks/gateway/count_instructions.py)
            if (
                not self.buffer
                and chunk.find(b"\n") == len(chunk) - 2
                and chunk.endswith(b"\n")
                and chunk.startswith(b"data:")
                and chunk.find(b"\r") < 0
            ):  # the usual read: one whole event of one data line
                text = chunk[5:-2].strip()
                if text == b"[DONE]":
                    self.done = chunk
                else:
                    self._take(chunk, text, now, out)
            else:
                self._split(self.buffer + chunk, now, out)
        except RuntimeBadResponse:
            self.reply.part(b"".join(out))  # the good events before it still go out
            raise
        finally:
            spent = time.perf_counter() - now
            self.busy += spent
        if out:
            self.reply.part(out[0] if len(out) == 1 else b"".join(out))
        if self.done is None:
            return False
        if self.on_done is not None and not self.ended:
            # the runtime's time ends with this read (the rest of it is the gateway's)
            self.call.upstream_wait += now - self.piped - (self.busy - spent)
            self.ended = True
            self.on_done(self.done)
        return True

    def waited(self) -> None:
        """Count the runtime's time into the call, where the answer did not end at its
        ``[DONE]`` (a fault, its own error event, the client gone)."""
        if not self.ended:
            self.call.upstream_wait += time.perf_counter() - self.piped - self.busy

    def close(self) -> None:
        """The stream is over: send the events a tool boundary held (or raise its
        violation), then :meth:`count`."""
        guard = self.guard
        try:
            if not self.closed and guard is not None and (held := guard.finish()):
                self.reply.part(b"".join(held))
        finally:
            self.count()

    def count(self) -> None:
        """Put what the stream carried into the call (its tokens, its tool calls), once,
        whether or not it ended well: an answer cut short (an error, the client gone, the
        deadline) cost what was sent, and a blocked call is recorded too (it is what a dry run
        replays)."""
        if self.closed:
            return
        self.closed = True
        call = self.call
        call.tokens_out = _tokens_out(self)
        guard = self.guard
        if guard is not None and call.tool_calls is not None and call.keep_arguments is not None:
            call.tool_calls.extend(streamed_tool_calls(guard.seen, call.keep_arguments))

    def _split(self, buffer: bytes, now: float, out: list[bytes]) -> None:
        """Take every whole event in ``buffer``; keep the rest for the next read."""
        start = 0
        while (end := sse.event_end(buffer, start)) >= 0:
            event, start = buffer[start:end], end
            if sse.is_done(event):
                self.done = event
                break  # nothing the runtime sends after its [DONE] is part of the answer
            self._take(event, _event_text(event), now, out)
        self.buffer = buffer[start:] if start else buffer

    def _take(self, event: bytes, text: bytes | None, now: float, out: list[bytes]) -> None:
        """Check and count one event (``text``: its data, ``None`` for a comment), and add it
        to ``out``, or hold it (a tool call the boundary must see whole)."""
        call = self.call
        if text is not None:  # the integrity check, inline: this runs for every event
            try:  # orjson, ~4x json.loads here
                data = orjson.loads(text)
            except orjson.JSONDecodeError:
                data = _json_loads(self.node, text)  # what only json reads (an int over 64 bits)
            if not isinstance(data, dict):
                raise _bad(self.node, f"sent an event that is not a JSON object: {snippet(text)}")
            if "error" in data:  # the runtime's own error event
                call.status = RuntimeBadResponse.http_status
        if CONTENT.search(event):
            self.counted_out += 1
            if call.ttft is None:
                call.ttft = now - call.started
        if event.find(b'"usage"') >= 0 and COMPLETION_TOKENS.search(event):
            count_tokens(call, event)
            self.reported_out = call.tokens_out
        for seen, wanted in self.renames:
            event = event.replace(seen, wanted)
        guard = self.guard
        if guard is not None and guard.wants(event):
            if out:  # content before a tool call is never held back
                self.reply.part(b"".join(out))
                out.clear()
            out.extend(guard.feed(event))
        else:
            out.append(event)


def _tokens_out(events: _Events) -> int:
    return events.reported_out if events.reported_out is not None else events.counted_out


def _renames(upstream_id: str, name: str) -> list[tuple[bytes, bytes]]:
    """Byte replacements that make an answer name the blessed model, not the runtime's id
    (often a file path); none when they are the same."""
    if upstream_id == name:
        return []
    seen, wanted = json.dumps(upstream_id).encode(), json.dumps(name).encode()
    return [
        (b'"model":' + seen, b'"model":' + wanted),
        (b'"model": ' + seen, b'"model": ' + wanted),
    ]


def _rename_model(data: bytes, upstream_id: str, name: str) -> bytes:
    for seen, wanted in _renames(upstream_id, name):
        data = data.replace(seen, wanted)
    return data
