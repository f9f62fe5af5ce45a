"""Stage timings inside a gateway process, for ``one_stream.py`` (never on in a real gateway).

Python imports ``sitecustomize`` at start-up from ``sys.path``; ``one_stream.py`` puts this
folder on the gateway's ``PYTHONPATH`` and sets ``INHOUSE_STAGE_FILE``. Each of the request's
steps is then wrapped to time its calls, and the medians are written to that file every 50
answers and as the gateway stops. Without the variable nothing is changed.
"""

from __future__ import annotations

import atexit
import inspect
import json
import os
import statistics
import time
from typing import Any

_FILE = os.environ.get("INHOUSE_STAGE_FILE")

if _FILE:
    from inhouse.gateway import app, calls, edge, limits, metrics, upstream, usage
    from inhouse.gateway.policies import RequestPolicy
    from inhouse.gateway.prompts import PromptSource
    from inhouse.gateway.routing import Router

    _clock = time.perf_counter
    _times: dict[str, list[float]] = {}
    _answers = [0]

    def _timed(owner: Any, name: str, label: str, *, static: bool = False) -> None:
        original = getattr(owner, name)
        if inspect.iscoroutinefunction(original):

            async def timed(*args: Any, **kwargs: Any) -> Any:
                start = _clock()
                try:
                    return await original(*args, **kwargs)
                finally:
                    _times.setdefault(label, []).append(_clock() - start)

        else:

            def timed(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                start = _clock()
                try:
                    return original(*args, **kwargs)
                finally:
                    _times.setdefault(label, []).append(_clock() - start)

        setattr(owner, name, staticmethod(timed) if static else timed)

    # before the request goes upstream
    for _name in ("authenticate", "parse_body", "validate_request", "prompt_bound",
                  "request_tool_calls"):  # fmt: skip
        _timed(app, _name, f"before: {_name}")
    _timed(Router, "route_for", "before: route")
    _timed(RequestPolicy, "apply", "before: data rules")
    _timed(RequestPolicy, "argument_filter", "before: argument filter")
    _timed(PromptSource, "prepare", "before: library prompt")
    _timed(limits.Limiter, "aadmit", "before: limits admit")
    _timed(limits.Limiter, "areserve", "before: limits reserve")
    _timed(upstream, "json_bytes", "before: body encoded")
    # after the runtime's [DONE], before the client's last bytes
    _timed(calls.Recorder, "spool", "end: record (all)")
    _timed(calls.Call, "record", "end:   record built")
    _timed(usage.UsageRecord, "now", "end:   record time", static=True)
    _timed(usage.UsageRecord, "seal", "end:   record sealed (HMAC)")
    _timed(usage.Spool, "append", "end:   spooled (line + write)")
    _timed(edge.Reply, "end", "end: last bytes written")
    # right after them, in the same callback: off the answer's critical path
    _timed(calls.Recorder, "close", "after: settle + metrics")
    _timed(limits.Limiter, "settle", "after:   limits settle")
    _timed(metrics.Metrics, "observe", "after:   metrics")
    _timed(app.Gateway, "_proxy", "whole request")

    _end = edge.Reply.end

    def _dump() -> None:
        if not _answers[0]:
            return
        medians = {k: statistics.median(v[20:] or v) * 1e6 for k, v in _times.items()}
        with open(str(_FILE), "w", encoding="utf-8") as handle:
            json.dump({"answers": _answers[0], "median_us": medians}, handle)

    def _counted_end(self: edge.Reply, data: bytes = b"") -> None:
        _end(self, data)
        _answers[0] += 1
        if _answers[0] % 50 == 0:
            _dump()

    edge.Reply.end = _counted_end  # type: ignore[method-assign]
    # and once more as the gateway stops (SIGTERM: it shuts down in order), so a short run of
    # fewer than 50 answers (the test suite's) has its medians too
    atexit.register(_dump)
