"""The sample program's files for ``make demo``: the runtime and baseline in inhouse.toml,
twelve tickets, the minutes a person recorded doing them by hand, the trial and the workflow.

``make demo`` writes them as it walks; ``inhouse demo files`` (:func:`write_into`) writes the
same ones into a program folder of one's own, for walking the README by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Write", "files", "model", "write_into"]


@dataclass(frozen=True)
class Write:
    title: str
    path: str
    text: str
    append: bool = False


_TICKETS = [
    "The printer on floor 2 jams on every duplex job.",
    "VPN drops every 20 minutes since the update; please help, reach me at ana@example.com.",
    "Laptop battery swells; the case no longer closes.",
    "Shared drive is read-only for the finance team since this morning.",
    "Outlook asks for my password every hour.",
    "New starter needs access to the CRM by Monday.",
    "Monitor flickers when connected through the dock.",
    "Wi-Fi in meeting room B keeps dropping calls.",
    "Expense tool rejects receipts larger than 2 MB.",
    "Keyboard shortcut for screenshots stopped working after the OS update.",
    "Calendar invites from partners arrive an hour late.",
    "The badge reader at the side entrance does not accept my card.",
]
# The manual status quo: minutes a person recorded spending on each ticket, and what they wrote.
#: the workflow's answer: the ticket's queue and a one-line summary, short enough that the
#: model's answer ends inside max_tokens
_TRIAGE = (
    "{type: object, required: [queue, summary], properties: {queue: {enum: [hardware, "
    "network, accounts, other]}, summary: {type: string, maxLength: 40}}}"
)


def _queue(queue: str) -> str:
    """The workflow's schema with ``queue`` its one queue: what a case holds its answer to."""
    return _TRIAGE.replace("enum: [hardware, network, accounts, other]", f"enum: [{queue}]")


_MINUTES = [4.5, 6.0, 3.5, 5.0, 4.0, 3.0, 5.5, 4.0, 3.5, 4.5, 5.0, 3.0]


#: the queue each workflow case's ticket belongs in, which its checks hold the answer to: for the
#: test model, the queue it files each ticket under at the workflow's seed (random weights: wrong,
#: but a different answer to each ticket, which is what a check can hold nonsense to); for a real
#: model, the right one
_QUEUES = {True: ("network", "hardware"), False: ("hardware", "network")}


def files(model_name: str, model_path: str) -> list[Write]:
    import json

    from inhouse.runtimes.testmodel import TEST_MODEL_NAME

    test_model = model_name == TEST_MODEL_NAME
    printer, vpn = _QUEUES[test_model]
    said = (
        "as the test model files them\n# (random weights: the printer under network, the VPN "
        "under hardware; wrong, but a\n# different answer to each ticket)"
        if test_model
        else "the queue it belongs in"
    )

    tickets = "".join(
        json.dumps({"id": f"T{i + 1}", "ticket": t}) + "\n" for i, t in enumerate(_TICKETS)
    )
    minutes = "minutes,output\n" + "".join(
        f'{m},"{t.split(";")[0].split(",")[0].rstrip(".")}"\n'
        for m, t in zip(_MINUTES, _TICKETS, strict=True)
    )
    return [
        Write(
            "The runtime, the baseline's manifest and its data-handling rules, in inhouse.toml",
            "inhouse.toml",
            f"""
[runtimes.local]
family = "embedded"

[baseline]
owner = "lena"
runtime = "local"
models = [{{ name = "{model_name}", path = "{model_path}" }}]

[data_rules]
default = "block"             # a class not named below never reaches a model
store_bodies = false
classes = {{ email = "redact", phone = "redact" }}
""",
            append=True,
        ),
        Write("Twelve real tickets", "data/tickets.jsonl", tickets),
        Write("How long each took by hand, and what the person wrote", "data/minutes.csv", minutes),
        Write(
            "The trial: the local model against the manual process",
            "trials/tickets.yaml",
            """description: one-line summaries of support tickets
task:
  prompt: "Summarise this ticket in one line: {{ ticket }}"
  inputs: data/tickets.jsonl
candidate:
  runtime: local
  cost: {watts: 65, price_per_kwh: 0.30, hardware_price: 1800, lifetime_hours: 26280,
         utilisation: 0.4, currency: EUR}
status_quo:
  kind: manual
  minutes: data/minutes.csv
  hourly_cost: 48
  currency: EUR
checks:                      # the test model writes nonsense: only sanity checks here
  - {type: length, min: 1, max: 2000}
meaningful: {faster: 30, cheaper: 30, more_private: true}
quality_floor: 5
generation: {temperature: 0, max_tokens: 24, seed: 0}
warmup: 1
""",
        ),
        Write(
            "omar's recurring task as a workflow (he does it most)",
            "workflows/ticket-summary.yaml",
            f"""name: ticket-summary
description: Summarise a support ticket in one line, with the queue it belongs in
owner: omar
frequency: daily
model: {model_name}
# the answer is JSON in this schema: the runtime holds the model's sampling to it
parameters:
  max_tokens: 80
  temperature: 0.7
  seed: 12
  response_format: {{type: json_object, schema: {_TRIAGE}}}
variables:
  ticket: {{type: string, description: the ticket's text}}
prompt:
  system: You summarise support tickets in one line, as JSON, with their queue.
  user: "Ticket: {{{{ ticket }}}}"
# each case checks its ticket's queue, {said}:
# a shape alone (JSON in the schema) is in every answer, the other ticket's too, and judges
# nothing of this one
tests:
  - name: printer
    vars: {{ticket: The printer on floor 2 jams on every duplex job.}}
    checks:
      - {{type: is-json, value: {_queue(printer)}}}
      - {{type: not-contains, value: "BEGIN PRIVATE KEY"}}
  - name: vpn
    vars: {{ticket: VPN drops every 20 minutes since the update.}}
    checks:
      - {{type: is-json, value: {_queue(vpn)}}}
      - {{type: length, max: 2000}}
""",
        ),
    ]


def model(gguf: str | None) -> tuple[str, str]:
    """(the name the runtime lists the model by, its path as inhouse.toml names it): the test
    model, made where ``inhouse models make-test-model --output`` puts it, without ``gguf``."""
    if gguf is None:
        from inhouse.runtimes.testmodel import TEST_MODEL_NAME

        return TEST_MODEL_NAME, f"models/{TEST_MODEL_NAME}.gguf"
    resolved = Path(gguf).expanduser().resolve()
    return resolved.stem, str(resolved)


def _tables(data: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted names of the tables in ``data`` that hold a value of their own (their
    headers: a table inside one that does, inline or not, goes with it)."""
    names: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            if any(not isinstance(v, dict) for v in value.values()) or not value:
                names.add(f"{prefix}{key}")
            else:
                names |= _tables(value, f"{prefix}{key}.")
    return names


def _toml(text: str, where: Path) -> dict[str, Any]:
    import tomllib

    from inhouse.errors import ConfigError
    from inhouse.jsonfiles import toml_loads

    try:
        return toml_loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{where} is not valid TOML: {err}; nothing written") from None


def _clashes(folder: Path, writes: list[Write]) -> list[str]:
    """What writing ``writes`` into ``folder`` would replace: each file that exists, and each
    table an addition to one (inhouse.toml) would give twice."""
    found: list[str] = []
    for write in writes:
        target = folder / write.path
        if not write.append:
            if target.exists():
                found.append(write.path)
            continue
        have = _tables(_toml(target.read_text(encoding="utf-8"), target))
        found += [
            f"[{t}] in {write.path}" for t in sorted(have & _tables(_toml(write.text, target)))
        ]
    return found


def _without(text: str, tables: set[str]) -> str:
    """``text`` (TOML) less the tables named in ``tables``, each up to the next table's header."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        header = line.strip()
        if header.startswith("[") and not header.startswith("[["):
            skipping = header.strip("[]").strip() in tables
        if not skipping:
            kept.append(line)
    return "".join(kept).rstrip("\n") + "\n"


def write_into(folder: Path, writes: list[Write], *, force: bool = False) -> list[Write]:
    """Write ``writes`` into the program ``folder``; what was written, in order.

    A file that exists is refused, naming it, unless ``force``; so is a table inhouse.toml
    already holds, which ``force`` replaces (the rest of the file is kept as it was). Nothing is
    written before every clash is known."""
    import tomllib

    from inhouse.errors import ConfigError
    from inhouse.jsonfiles import toml_loads
    from inhouse.location import CONFIG_NAME

    if not (folder / CONFIG_NAME).is_file():
        raise ConfigError(
            f"{folder} has no {CONFIG_NAME}: start the program first "
            "(`inhouse init NAME --lead PERSON --demo`), then write its files."
        )
    clashes = _clashes(folder, writes)
    if clashes and not force:
        raise ConfigError(
            "refused, nothing written: "
            + ", ".join(clashes)
            + (" exists" if len(clashes) == 1 else " exist")
            + " already. --force replaces them."
        )
    texts: dict[Path, str] = {}
    for write in writes:
        target = folder / write.path
        if write.append:
            before = target.read_text(encoding="utf-8")
            drop = _tables(_toml(before, target)) & _tables(_toml(write.text, target))
            text = (_without(before, drop) if drop else before) + write.text
            try:  # still one valid file (a table written in a way _without does not find,
                # twice, is not), or nothing written at all
                toml_loads(text)
            except tomllib.TOMLDecodeError:
                raise ConfigError(
                    f"cannot replace {', '.join(f'[{t}]' for t in sorted(drop))} in {target}: "
                    "written there in a way this command does not edit (dotted keys, an inline "
                    "table); remove it yourself and run it again. Nothing written."
                ) from None
            texts[target] = text
        else:
            texts[target] = write.text
    for target, text in texts.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return writes
