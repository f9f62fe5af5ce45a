"""A trial made ready to run (:class:`TrialPlan`): its spec read and validated, its quality checks
parsed, its real task inputs read and each one rendered into the messages both sides are sent.
Nothing here sends a request; every mistake in the trial's files is found before any side runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from inhouse.checks import CheckSpec, parse_checks
from inhouse.checks.measured import timed
from inhouse.errors import InvalidInput
from inhouse.plaintext import reading
from inhouse.program.config import read_config
from inhouse.program.events import canonical_json
from inhouse.trials.modes import LoadMode
from inhouse.trials.spec import (
    TRIALS_DIR,
    ManualStatusQuo,
    TaskInput,
    TrialSpec,
    load_trial,
    read_inputs,
    read_minutes,
    render_prompt,
)

__all__ = ["Messages", "TrialPlan", "plan_trial"]


#: one task input as chat messages: [{"role": …, "content": …}, …]
Messages = list[dict[str, str]]


@dataclass(frozen=True)
class TrialPlan:
    """Everything a trial's sides need to answer its task inputs, in input order."""

    folder: Path
    name: str
    spec: TrialSpec
    #: the program's inhouse.toml (named runtimes, data-class rules)
    config: dict[str, Any]
    checks: list[CheckSpec]
    inputs: list[TaskInput]
    #: per input: the messages sent, and their text (what privacy scans)
    prompts: list[Messages]
    texts: list[str]
    mode: LoadMode
    #: the seed a rerun drew for itself (:func:`inhouse.trials.rerun.fresh_seed`), sent to both
    #: sides in place of ``generation.seed`` where the spec samples; None: the spec's own
    drawn_seed: int | None = None

    @property
    def samples(self) -> bool:
        """Whether the spec's answers are a draw: a ``generation.temperature`` above 0, or none
        (the server's default, above 0 on llama.cpp's and OpenAI's). At 0 each answer is the
        model's most likely one, whatever the seed: there is no lottery to pick a seed from."""
        temperature = self.spec.generation.temperature
        return temperature is None or temperature > 0

    @property
    def generation(self) -> dict[str, Any]:
        """The generation settings each side's requests carry: the spec's, with
        :attr:`drawn_seed` in place of its seed where a rerun drew one (the spec's hash is
        the spec's, whatever a rerun sends)."""
        settings = self.spec.generation.model_dump(exclude_none=True)
        if self.drawn_seed is not None:
            settings["seed"] = self.drawn_seed
        return settings

    @property
    def seed_sent(self) -> dict[str, Any]:
        """What a verdict or a rerun records of its seed (exit rule 33): the one its requests
        carried, the spec's, the spec's temperature, and whether this run drew its own."""
        generation = self.spec.generation
        return {
            "sent": self.generation.get("seed"),
            "spec": generation.seed,
            "temperature": generation.temperature,
            "drawn": self.drawn_seed is not None,
        }

    @property
    def shown(self) -> str:
        """The trial's file as a person names it in the program folder."""
        return f"{TRIALS_DIR}/{self.name}.yaml"

    @property
    def spec_hash(self) -> str:
        """``sha256:…`` of what defines the candidate side's measurement: the prompt, every
        task input as read (not the file's name), how answers are generated, the quality checks,
        their threshold and the quality floor. A rerun elsewhere must hash the same to compare
        its pass rate with the verdict's; the endpoint, the costs and the status quo are left
        out (each machine names its own runtime), and so are comments and layout."""
        spec = self.spec
        data = {
            "prompt": spec.task.prompt,
            "system": spec.task.system,
            "inputs": [item.fields for item in self.inputs],
            "generation": spec.generation.model_dump(mode="json"),
            "checks": spec.checks,
            "threshold": spec.threshold,
            "quality_floor": spec.quality_floor,
        }
        return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()

    @property
    def timed_checks(self) -> list[str]:
        """The quality checks that judge how long an answer took or what it cost (``latency``,
        ``cost``), as a person reads them: in a head-to-head those are the trial's dimensions
        (``meaningful.faster``, ``meaningful.cheaper``), and as quality checks they fail a slow
        or dear status quo's answers whatever they say, so a weak candidate's quality looks
        acceptable beside them (an answer given for nothing, instantly and free, passes them,
        so the decoys do not show it). A ``python`` check may read both too; whether it does is
        seen only when the answers are judged (:attr:`TrialOutcome.timed_checks
        <inhouse.trials.headtohead.TrialOutcome.timed_checks>`, which play 1 and play 2's rerun
        read)."""
        return [check.describe() for check in timed(self.checks)]

    @cached_property
    def repeated(self) -> list[tuple[TaskInput, TaskInput]]:
        """Each task input that asks what an earlier one asks, with that earlier input: their
        messages are the same words once case, spacing and punctuation are set aside (an
        ``id`` or any field the prompt does not show tells nothing apart). Such a copy is the
        same task counted again: five copies of one ticket clear :data:`MIN_INPUTS
        <inhouse.trials.verdict.MIN_INPUTS>` and narrow every interval while the trial rests
        on one ticket, and a colleague's rerun of the same files reproduces that."""
        first: dict[tuple[tuple[str, str], ...], TaskInput] = {}
        repeats: list[tuple[TaskInput, TaskInput]] = []
        for item, messages in zip(self.inputs, self.prompts, strict=True):
            said = tuple((m["role"], _words(m["content"])) for m in messages)
            earlier = first.setdefault(said, item)
            if earlier is not item:
                repeats.append((item, earlier))
        return repeats

    def refuse_repeats(self, command: str, *, then: str = "") -> None:
        """Refuse to run ``command`` on a trial whose task inputs repeat (:attr:`repeated`),
        naming the copies, before any request is sent; ``then`` says what follows the fix."""
        if not self.repeated:
            return
        shown = ", ".join(f"{item.id} asks what {earlier.id} asks" for item, earlier in
                          self.repeated[:5])  # fmt: skip
        more = f" (and {len(self.repeated) - 5} more)" if len(self.repeated) > 5 else ""
        raise InvalidInput(
            f"{self.shown}: task.inputs: {shown}{more}: {len(self.inputs)} inputs hold only "
            f"{len(self.inputs) - len(self.repeated)} distinct tasks, and a copy counts the same "
            f"task again in every figure `{command}` measures; keep each real task once in "
            f"{self.spec.task.inputs} (add more real tasks where too few are left){then}"
        )

    @cached_property
    def claim_hash(self) -> str:
        """``sha256:…`` of what the claimed advantage is measured against
        (:func:`claim_hash`); read when asked, since a manual status quo's CSV is read for it."""
        return claim_hash(self.folder, self.spec, len(self.inputs))


def plan_trial(folder: Path, name: str) -> TrialPlan:
    """Read ``trials/NAME.yaml``, its checks and its inputs; render every input's prompt."""
    spec = load_trial(folder, name)
    shown = f"{TRIALS_DIR}/{name}.yaml"
    config = read_config(folder)
    checks = parse_checks(spec.checks, where=f"{shown}: checks")
    if not checks:
        raise InvalidInput(
            f"{shown}: checks: a trial needs at least one quality check, or quality is not "
            "measured and no verdict can say 'at acceptable quality'"
        )
    inputs = read_inputs(folder, spec.task.inputs, where=f"{shown}: task.inputs")
    prompts = [_messages(spec, item, shown) for item in inputs]
    return TrialPlan(
        folder=folder,
        name=name,
        spec=spec,
        config=config,
        checks=checks,
        inputs=inputs,
        prompts=prompts,
        texts=[_text_of(p) for p in prompts],
        mode=LoadMode.sequential() if spec.concurrency == 1 else LoadMode.fixed(spec.concurrency),
    )


def claim_hash(folder: Path, spec: TrialSpec, count: int) -> str:
    """``sha256:…`` of what the trial's faster / cheaper / more-private figures are measured
    against, beyond the measurement itself: the status quo (its endpoint and prices, or the
    manual process's hourly cost, stated pass rate and the minutes and outputs its CSV holds,
    as read), the candidate's cost inputs, the thresholds, and how the load is run. A rerun
    elsewhere must hash the same for its figures to reproduce the verdict's claim; the
    candidate's endpoint and the status quo's key are left out (each machine names its own)."""
    status_quo: dict[str, Any] = spec.status_quo.model_dump(
        mode="json", exclude={"api_key_env", "timeout"}
    )
    if isinstance(spec.status_quo, ManualStatusQuo):
        record = read_minutes(folder, spec.status_quo.minutes, count)
        status_quo["minutes"] = record.minutes
        status_quo["outputs"] = record.outputs
    data = {
        "status_quo": status_quo,
        "candidate_cost": spec.candidate.cost.model_dump(mode="json"),
        "meaningful": spec.meaningful.model_dump(mode="json"),
        "warmup": spec.warmup,
        "concurrency": spec.concurrency,
        "resamples": spec.resamples,
        "seed": spec.seed,
    }
    return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _messages(spec: TrialSpec, item: TaskInput, shown: str) -> Messages:
    messages = []
    if spec.task.system:
        messages.append(
            {
                "role": "system",
                "content": render_prompt(spec.task.system, item, where=f"{shown}: task.system"),
            }
        )
    user = render_prompt(spec.task.prompt, item, where=f"{shown}: task.prompt")
    messages.append({"role": "user", "content": user})
    return messages


def _words(text: str) -> str:
    """``text`` as the words it says: case, spacing and punctuation set aside, and read as a
    person reads it (:func:`reading`): a copy with a zero-width space inside a word, fullwidth
    letters or a Cyrillic letter that looks Latin says what the ticket says."""
    return " ".join(re.findall(r"\w+", reading(text)))


def _text_of(messages: Sequence[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages)
