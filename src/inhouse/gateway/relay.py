"""Passing a runtime's answer on to the client: whole, or event by event as it arrives.

Either way the answer names the blessed model (not the runtime's id for it), its tokens are
counted, tool calls are checked against the key's agent boundary, and the call is recorded
*before* the last bytes go out (the body, or a stream's ``[DONE]``). Stream events are never
buffered, except the tool-call deltas a boundary must see whole before they may pass.

A refusal raised here reaches the gateway's error handler; once a stream's headers are sent
(``call.answering``) it can only travel as the stream's last event.
"""

from __future__ import annotations

import json
import time

import aiohttp

from inhouse.errors import InhouseError
from inhouse.gateway import sse
from inhouse.gateway.asgi import JSON, Send, body_part, respond
from inhouse.gateway.calls import (
    COMPLETION_TOKENS,
    CONTENT,
    PROMPT_TOKENS,
    Call,
    Recorder,
    count_tokens,
)
from inhouse.gateway.policies import StreamToolGuard, check_answer
from inhouse.gateway.routing import Route
from inhouse.gateway.toolcalls import answer_tool_calls, streamed_tool_calls
from inhouse.gateway.upstream import Upstream

__all__ = ["relay"]


async def relay(
    call: Call,
    route: Route,
    response: aiohttp.ClientResponse,
    upstream: Upstream,
    recorder: Recorder,
    send: Send,
) -> None:
    """Pass the runtime's answer on: event by event when the client asked for a stream, else
    read whole, checked and sent as one body."""
    node = call.node
    assert node is not None
    if call.stream:
        done = await _stream(call, _renames(node.model_id, route.name), response, upstream, send)
        recorder.finish(call)  # spooled before the last bytes ([DONE]) are sent
        await send({"type": "http.response.body", "body": done or sse.DONE, "more_body": False})
        return
    data = await upstream.read(call, response)
    if call.boundary is not None and call.endpoint == "chat/completions":
        if call.tool_calls is not None and call.keep_arguments is not None:
            call.tool_calls.extend(answer_tool_calls(data, call.keep_arguments))
        check_answer(call.boundary, call.key.agent or "", data)
    data = _rename_model(data, node.model_id, route.name)
    count_tokens(call, data)
    recorder.finish(call)  # spooled before the answer is sent
    await respond(send, 200, data, JSON, call.request_id)


async def _stream(
    call: Call,
    renames: list[tuple[bytes, bytes]],
    response: aiohttp.ClientResponse,
    upstream: Upstream,
    send: Send,
) -> bytes | None:
    """Send the answer's events as they arrive (the events of one upstream read go out in one
    ASGI message), all but the runtime's ``[DONE]``, which it returns (None when it sent none)."""
    node = call.node
    assert node is not None
    guard = (
        StreamToolGuard(call.boundary, call.key.agent or "") if call.boundary is not None else None
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*sse.HEADERS, (b"x-inhouse-request-id", call.request_id.encode())],
        }
    )
    call.answering = True
    buffer = b""
    done: bytes | None = None
    counted_out = 0
    reported_out: int | None = None
    try:
        try:
            with upstream.faults(node):
                waited = time.perf_counter()
                async for chunk in response.content.iter_any():
                    now = time.perf_counter()
                    call.upstream_wait += now - waited
                    buffer += chunk
                    out: list[bytes] = []
                    while (end := sse.event_end(buffer)) >= 0:
                        event, buffer = buffer[:end], buffer[end:]
                        if sse.is_done(event):
                            done = event
                            continue
                        if CONTENT.search(event):
                            counted_out += 1
                            if call.ttft is None:
                                call.ttft = now - call.started
                        if b'"usage"' in event:
                            match = COMPLETION_TOKENS.search(event)
                            reported_out = int(match.group(1)) if match else reported_out
                            match = PROMPT_TOKENS.search(event)
                            call.tokens_in = int(match.group(1)) if match else call.tokens_in
                        for seen, wanted in renames:
                            event = event.replace(seen, wanted)
                        if guard is not None and guard.wants(event):
                            if out:  # content before a tool call is never held back
                                await send(body_part(b"".join(out)))
                                out = []
                            out.extend(guard.feed(event))
                        else:
                            out.append(event)
                    if out:
                        await send(body_part(b"".join(out)))
                    waited = time.perf_counter()
        finally:
            response.release()
        if guard is not None and (held := guard.finish()):
            await send(body_part(b"".join(held)))
        if buffer.strip():
            await send(body_part(buffer))
    except InhouseError:
        call.tokens_out = reported_out if reported_out is not None else counted_out
        raise
    finally:  # a blocked call is recorded too: it is what a dry run replays
        if guard is not None and call.tool_calls is not None and call.keep_arguments is not None:
            call.tool_calls.extend(streamed_tool_calls(guard.seen, call.keep_arguments))
    call.tokens_out = reported_out if reported_out is not None else counted_out
    return done


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
