"""One proxied request as the gateway measures it, and where its measurements go when it ends.

:class:`Call` gathers what a request did (who, which model and node, tokens, timings, the policy
actions taken); :class:`Recorder` closes it: the usage record (spooled before the answer's last
bytes are sent), then the key's token spend and the Prometheus metrics (right after them).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from inhouse.errors import (
    AgentWithoutBoundary,
    DataClassBlocked,
    InhouseError,
    ToolCallBlocked,
    ToolNotAllowed,
)
from inhouse.gateway.keys import GatewayKey
from inhouse.gateway.limits import Limiter, prompt_token_bound
from inhouse.gateway.metrics import Metrics
from inhouse.gateway.policies import request_texts
from inhouse.gateway.routing import Node
from inhouse.gateway.toolcalls import ArgumentFilter
from inhouse.gateway.usage import Clock, UsageRecord, UsageWriter, new_request_id, utcnow
from inhouse.policy.tools import ToolBoundary

__all__ = [
    "ESTIMATED_TOKENS",
    "NOT_BLESSED",
    "Call",
    "Recorder",
    "count_tokens",
    "estimate_tokens",
    "policy_action",
    "prompt_bound",
]

log = logging.getLogger("inhouse.gateway")

#: an event or answer that carries generated text (for counting streamed tokens)
CONTENT = re.compile(rb'"content"\s*:\s*"(?!")')
PROMPT_TOKENS = re.compile(rb'"prompt_tokens"\s*:\s*(\d+)')
COMPLETION_TOKENS = re.compile(rb'"completion_tokens"\s*:\s*(\d+)')
#: the usage record's label (in its ``policy`` list) for token counts the runtime did not report
ESTIMATED_TOKENS = "estimated:tokens"
#: the metrics' ``model`` label for a request naming no model the gateway routes
NOT_BLESSED = "(not blessed)"


@dataclass
class Call:
    """What one proxied request measured, for its usage record and metrics."""

    started: float
    endpoint: str
    key: GatewayKey
    #: the key's agent's tool boundary (``None``: the key is bound to no agent)
    boundary: ToolBoundary | None = None
    model: str = ""
    #: ``model`` names a model the gateway routes: only such a name labels the metrics (any
    #: other would add series without end, one for every name a client sends)
    blessed: bool = False
    prompt_id: str | None = None
    #: the gateway sent the version ``prompt_id`` names (:meth:`PromptSource.prepare`)
    prompt_sent: bool | None = None
    workflow_id: str | None = None
    stream: bool = False
    #: the answer's headers are sent: an error can only travel as a last event
    answering: bool = False
    status: int = 200
    actions: list[str] = field(default_factory=list)
    node: Node | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    ttft: float | None = None
    upstream_wait: float = 0.0
    body: str | None = None
    #: the tool calls the request and its answer carried (a key bound to no agent: the names
    #: only, None where it offered none), and which of an agent key's arguments may be stored
    #: (:mod:`inhouse.gateway.toolcalls`)
    tool_calls: list[dict[str, Any]] | None = None
    keep_arguments: ArgumentFilter | None = None
    request_id: str = field(default_factory=new_request_id)
    #: tokens reserved against the key's daily limit until the call settles
    reserved: int = 0
    #: the token counts are the runtime's own (its ``usage``), not the gateway's estimate
    reported: bool = False
    #: the call's usage record is made (a call is recorded once, whatever happens after)
    recorded: bool = False
    #: its spend is settled against the key's limits and its metrics observed (once, after
    #: the record: :meth:`Recorder.close`)
    closed: bool = False
    #: seconds from its start to its record, and the gateway's own share of them
    elapsed: float = 0.0
    overhead: float = 0.0

    def labels(self) -> list[str]:
        """What the usage record says about its own figures: ``estimated:tokens`` when it
        carries token counts the runtime did not report (the prompt estimated at four
        characters a token, a stream's answer counted an event a token)."""
        counted = self.tokens_in or self.tokens_out
        return [ESTIMATED_TOKENS] if counted and not self.reported else []

    def record(self, elapsed: float, overhead: float, at: str) -> UsageRecord:
        key = self.key
        return UsageRecord(
            request_id=self.request_id,
            at=at,
            person=key.person,
            key_id=key.id,
            agent=key.agent,
            endpoint=self.endpoint,
            model=self.model,
            status=self.status,
            digest=self.node.digest if self.node else None,
            prompt_id=self.prompt_id,
            prompt_sent=self.prompt_sent,
            workflow_id=self.workflow_id,
            stream=self.stream,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            ttft_ms=None if self.ttft is None else _ms(self.ttft),
            latency_ms=_ms(elapsed),
            overhead_ms=_ms(overhead),
            policy=self.actions + self.labels(),
            upstream=self.node.url if self.node else None,
            body=self.body,
            tool_calls=self.tool_calls,
        )


def _ms(seconds: float) -> float:
    """``seconds`` in milliseconds to the microsecond (three decimals). ``round(x, 3)``
    rounds through a decimal conversion (~2,700 instructions a call, three a request); a whole
    number of microseconds over 1000 is the same figure, but for which way an exact tie at a
    nanosecond's thousandth goes."""
    return round(seconds * 1_000_000) / 1000


class Recorder:
    """Closes each call: token spend against its key's limit, usage log, metrics. The usage
    record's time and day are ``clock``'s."""

    def __init__(
        self, usage: UsageWriter, limiter: Limiter, metrics: Metrics, *, clock: Clock = utcnow
    ) -> None:
        self.usage = usage
        self.limiter = limiter
        self.metrics = metrics
        self.clock = clock

    def finish(self, call: Call) -> None:
        """Spool the call's usage record, then settle its spend and observe its metrics: what
        an answer that ends with an error does (a second call does nothing)."""
        self.spool(call)
        self.close(call)

    def spool(self, call: Call) -> None:
        """Make and spool the call's usage record, once: before the answer's last bytes (an
        answered request is never missing from the usage log, even after ``kill -9``). Only
        this stands between the runtime's last event and the client's last bytes; the rest
        (:meth:`close`) waits until they are written."""
        if call.recorded:
            return
        call.recorded = True
        elapsed = time.perf_counter() - call.started
        overhead = max(elapsed - call.upstream_wait, 0.0)
        call.elapsed, call.overhead = elapsed, overhead
        self.usage.record(call.record(elapsed, overhead, UsageRecord.now(self.clock)))

    def close(self, call: Call) -> None:
        """Settle a recorded call's token spend against its key and observe its metrics, once.
        Runs right after the answer's last bytes are written, in the same callback, so no
        other request is admitted in between: the key's limits read the same as when this
        ran before them."""
        if call.closed or not call.recorded:
            return
        call.closed = True
        # an answer cut short still cost what the client received
        spent = call.tokens_in + call.tokens_out if call.status < 400 or call.answering else 0
        try:
            self.limiter.settle(call.key.id, call.reserved, spent, call.request_id)
            self.metrics.observe(
                model=call.model if call.blessed else NOT_BLESSED,
                person=call.key.person,
                status=call.status,
                latency=call.elapsed,
                overhead=call.overhead,
                ttft=call.ttft,
                tokens_in=call.tokens_in,
                tokens_out=call.tokens_out,
                actions=call.actions,
            )
        except Exception:  # the answer has ended: nothing may be written after it
            log.exception("the gateway failed settling request %s after its answer ended",
                          call.request_id)  # fmt: skip


def policy_action(err: InhouseError) -> str | None:
    """The policy action a refusal goes into the usage log as, if it is a policy refusal."""
    if isinstance(err, ToolCallBlocked):
        return "tool-call-blocked"
    if isinstance(err, DataClassBlocked | ToolNotAllowed | AgentWithoutBoundary):
        return f"block:{err.code}"
    return None


def count_tokens(call: Call, data: bytes) -> None:
    """Take the token counts a whole answer (or a stream's usage event) reports, its
    ``usage``; an embeddings answer reports its prompt's only (it generates none)."""
    prompt = PROMPT_TOKENS.search(data)
    if prompt:
        call.tokens_in = int(prompt.group(1))
    completion = COMPLETION_TOKENS.search(data)
    if completion:
        call.tokens_out = int(completion.group(1))
    if prompt and (completion or call.endpoint == "embeddings"):
        call.reported = True


def estimate_tokens(endpoint: str, body: dict[str, Any]) -> int:
    """Prompt tokens as ~4 characters each, until the runtime reports the real count."""
    chars = sum(len(str(container[key])) for container, key in request_texts(endpoint, body))
    return max(1, chars // 4) if chars else 0


def prompt_bound(endpoint: str, body: dict[str, Any]) -> tuple[int, int]:
    """The request's prompt tokens two ways, from one walk over its texts: estimated (as
    :func:`estimate_tokens`), and an upper bound for reserving against a daily limit: every
    text it sends at one token per byte, token ids one each, plus template overhead."""
    texts = [str(container[key]) for container, key in request_texts(endpoint, body)]
    chars = sum(map(len, texts))
    estimate = max(1, chars // 4) if chars else 0
    messages = body.get("messages")
    count = len(messages) if isinstance(messages, list) else 1
    given = body.get("prompt" if endpoint == "completions" else "input")
    ids = 0
    for item in given if isinstance(given, list) else []:
        if isinstance(item, int):
            ids += 1
        elif isinstance(item, list):
            ids += len(item)
    return estimate, prompt_token_bound(texts, count) + ids
