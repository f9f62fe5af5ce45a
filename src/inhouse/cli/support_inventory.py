"""``inhouse support inventory`` and ``inhouse support drift-review``: what every runtime node
serves, against the lock. ``cli/support.py`` adds them to its group with :func:`register`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    literal,
    open_program,
    out_console,
    print_json,
    telling_service_enrolment,
)

if TYPE_CHECKING:
    from inhouse.support.inventory import InventoryReport

__all__ = ["register"]


def _render(report: InventoryReport) -> None:
    from rich.markup import escape

    console = out_console()
    for node in report.nodes:
        if not node.up:
            console.print(f"[bold]{escape(node.node)}[/] ({literal(node.family)}): [red]down[/]: "
                          f"{escape(node.error)}")  # fmt: skip
            continue
        version = node.version or node.build or "version unreported"
        console.print(f"[bold]{escape(node.node)}[/] ({literal(node.family)} {escape(version)})")
        for model in node.models:
            loaded = {True: ", loaded", False: "", None: ""}[model.loaded]
            console.print(
                f"  {escape(model.id)}  {literal(model.digest or 'no digest')}{literal(loaded)}"
            )
    pinning = "enforced" if report.pinning_enforced else "NOT enforced"
    console.print(f"pinning: {literal(pinning)} ({escape(report.pinning)})")
    if report.passed:
        console.print(f"[green]no drift[/] against lock {literal(report.lock_hash[:19])}")
        return
    console.print(f"[red]drift[/] against lock {literal(report.lock_hash[:19])}:")
    for finding in report.findings:
        console.print(f"  - {escape(str(finding))}")


def register(app: typer.Typer) -> None:
    """Add ``inventory`` and ``drift-review`` to the ``support`` group."""

    @app.command("inventory")
    def inventory(json: JsonOpt = False, program: ProgramOpt = None) -> None:
        """Ask every runtime node what it serves (Ollama, llama.cpp, vLLM, LM Studio, the
        embedded runtime) and compare with inhouse.lock: missing, digest mismatch, runtime
        version drift, unpinned extras, per node. Records nothing."""
        from inhouse.support.drift import inventory as take

        report = take(open_program(program))
        if json:
            print_json(report.to_dict())
        else:
            _render(report)
        if not report.passed:
            raise typer.Exit(1)

    @app.command("drift-review")
    def drift_review(json: JsonOpt = False, program: ProgramOpt = None) -> None:
        """Take the inventory and record it as a measured drift.review, signed by the gateway's
        own key: what play 5's versions-pinned check reads. Run it on the gateway's host, where
        .inhouse/keys/gateway.key lives (a rollout lead's first run there enrols that key); a
        review signed by anyone else, or by a gateway key enrolled from the lead's own
        machine, does not count."""
        from rich.markup import escape

        from inhouse.support.drift import record_drift_review

        opened = open_program(program)
        with telling_service_enrolment(opened):
            done = record_drift_review(opened)
        if json:
            print_json({**done.report.to_dict(), "fact": done.fact.id})
            return
        _render(done.report)
        verdict = "passed" if done.report.passed else "did not pass"
        out_console().print(
            f"Recorded drift review fact #{literal(done.fact.id)} (signed by "
            f"{literal(done.fact.by)}): it {literal(verdict)}."
        )
        if not done.report.pinning_enforced:
            # a review that passed with pinning off is no pass for play 5: said here, where the
            # operator ran it, not first in the status a lead reads later
            out_console().print(
                "Play 5's versions-pinned check does not count it: the gateway's pinning was "
                f"not on ({escape(done.report.pinning)})."
            )
