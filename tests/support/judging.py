"""Judging play 5's `ticket-resolved-without-builder` as the check sees a program now, or as the
reach guards see it once play 5 has exited (its earlier rules then apply)."""

from __future__ import annotations

import dataclasses

from inhouse.program import Program
from inhouse.program.checks import Result, evaluate
from inhouse.program.evaluation import context_for


def judge_ticket(program: Program, *, exited: bool = False) -> Result:
    """The check's result now; with ``exited``, as judged for a grant made after play 5's
    exit (``support`` among the exited plays)."""
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    if exited:
        mark = (program.clock(), program.state().head_seq)
        ctx = dataclasses.replace(ctx, exited={**ctx.exited, "support": mark})
    return evaluate("ticket-resolved-without-builder", ctx)
