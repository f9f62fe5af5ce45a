"""A stand-in OpenAI-compatible upstream with injected, exact latency. It is not a model.

It answers ``/v1/chat/completions`` and ``/v1/completions`` (streamed and not), ``/v1/embeddings``,
``/v1/models`` and ``/healthz`` with made-up text, and takes exactly the time it is told to: the
first content token ``ttft_ms`` after the request arrived, then one token every ``tpot_ms``.
The load generator's accuracy test and the gateway benchmark measure against it.

Why it is built this way:

* **Absolute deadlines.** Token *i* is due at ``arrival + ttft + i * tpot``, each scheduled with
  ``loop.call_at`` from the request's arrival time, so a late wake-up never pushes the later
  tokens back (delays do not accumulate).
* **Arrival is the kernel's receive time.** Each connection reads with ``recvmsg`` and
  ``SO_TIMESTAMPNS`` (Linux), so a request that arrives while the stand-in is busy with others
  is still timed from when it reached the machine; elsewhere it is stamped on reading.
* **Lean.** Raw non-blocking sockets on the event loop's ``add_reader``, a minimal HTTP/1.1
  parser (keep-alive, ``Content-Length`` bodies, chunked responses) and timer callbacks instead
  of a coroutine per token: it holds its timing under 256 concurrent streams on a small machine
  (measured, see ``docs/bench.md``). It needs a selector event loop (asyncio's default on
  Linux and macOS, or uvloop).
* The first streamed event is a role-only chunk sent at once, as real servers do; it carries no
  content, so a client that measured "first byte" instead of "first content token" is caught.

Usage reported (``usage`` in replies; in streams only with ``stream_options.include_usage``):
``completion_tokens`` is the number of tokens sent; ``prompt_tokens`` counts whitespace-separated
words of the input — the stand-in has no tokenizer, and says so here.

Its ``/v1/models`` lists the one model it is told to (``model``). Given ``root`` (``--root``),
the entry names the file it says it serves, as vLLM's does (``"root"``) and as a real server
that names its weights does: that is what ties a model to a file, so that inhouse takes the
file's digest (a ``model_path`` in inhouse.toml alone ties nothing, see ``docs/runtimes.md``).
Without it the model names no file and has no digest. It is the stand-in's word, not a
measurement: the file is never opened here.

Run it on its own (another process, so it does not share a GIL with a load generator)::

    python -m inhouse.testing.standin_upstream --port 8099 --ttft-ms 200 --tpot-ms 20 --tokens 16
    python -m inhouse.testing.standin_upstream --model tiny --root /models/tiny.gguf

or from Python: :class:`StandinUpstream` (in this event loop), :func:`standin_in_thread`
(in a background thread) or :func:`spawn_standin` (in a subprocess).
"""

from inhouse.testing.standin_upstream.running import (
    StandinProcess,
    main,
    spawn_standin,
    standin_in_thread,
)
from inhouse.testing.standin_upstream.server import StandinTiming, StandinUpstream

__all__ = [
    "StandinProcess",
    "StandinTiming",
    "StandinUpstream",
    "main",
    "spawn_standin",
    "standin_in_thread",
]
