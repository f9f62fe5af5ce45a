"""Running a workflow: pin its model against the lock (refusing drift), produce outputs, run its
test cases (repeats, concurrency, progress) and record what the run proved as facts.

``workflow run`` only produces outputs; with ``--gateway`` its requests go through the program's
gateway on the runner's own gateway key, each naming the workflow (``X-Inhouse-Workflow``), so
the gateway signs them as the workflow's runs (exit rule 22, ``SIGNED_RUNS``). ``workflow
test`` never does: a test run is not the work the workflow changes, and it asks the lock's
runtime directly. ``workflow test`` records a ``workflow.run`` fact (who
ran it, the spec's content hash, the lock hash, the pass rate) and, when this version of the
spec is new to the program, a ``workflow.spec`` fact naming its author (whoever signs it: the
first to test this version, never the YAML's ``owner:``), model and locked digest, which the
run then names (its ``nonce``): a spec publishes its version only beside its own run. Play 3's
exit reads both: a passing run by someone other than the author, on the current version; the
report carries the engine's own result for the second, so nobody works out "the author's run
does not count" a second time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from inhouse.baseline import Lock, LockedModel, baseline_runtime, find_model, program_lock
from inhouse.baseline.drift import drifts
from inhouse.checks import HttpEmbedder, QualityContext, evaluate
from inhouse.checks.function import (
    python_calls,
    python_checks_allowed,
    record_trusted,
    refuse_untrusted,
)
from inhouse.checks.javascript import Script, transform_output
from inhouse.errors import ConfigError, InvalidInput, NotAllowed, Refused, RuntimeFault
from inhouse.identity.machine import machine_fingerprint
from inhouse.location import refuse_tracked_state
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from inhouse.program.facts import Fact
from inhouse.program.playchecks._shared import published_specs, recurrence_problem
from inhouse.runtimes import ChatMessage, ChatRequest, Runtime, RuntimeConfig, open_runtime
from inhouse.runtimes.local import PeerRecorder, answered_here, peers_of
from inhouse.runtimes.testmodel import serves_test_model
from inhouse.trials.cost import local_cost
from inhouse.workflows.decoys import DECOYS, judge_cases
from inhouse.workflows.report import Attempt, CaseReport, ExitCheck, RunReport, VariantReport
from inhouse.workflows.spec import Case, Workflow, load_workflow

__all__ = [
    "COLLECTOR",
    "RUN_BY_OTHER",
    "TASK_COLLECTOR",
    "WORKFLOW_HEADER",
    "GatewayAccess",
    "Generation",
    "Pinned",
    "Progress",
    "exit_check",
    "gateway_runtime",
    "name_task",
    "pinned_runtime",
    "record_test_facts",
    "run_cases",
    "run_workflow",
    "run_workflow_tests",
    "seed_for",
]

COLLECTOR = "inhouse workflow test"
TASK_COLLECTOR = "inhouse workflow validate"
#: the play exit check that reads these facts: a passing run by someone other than the author
RUN_BY_OTHER = "workflow-run-by-other"

#: the header that names the workflow a request through the gateway runs (what its rollup
#: signs as the workflow's runs)
WORKFLOW_HEADER = "X-Inhouse-Workflow"

#: called after each attempt: (attempts done, attempts in all, the case's name)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Pinned:
    """The workflow's model, checked against the lock on the runtime that serves it."""

    lock: Lock
    model: LockedModel
    #: the id the runtime lists the model under (what requests name)
    served_id: str
    judge: LockedModel
    judge_id: str
    runtime: RuntimeConfig
    #: the address the runtime answered at
    url: str = ""
    #: the IP address of each server whose answers the run received (``"unknown"``: a
    #: connection that did not say), read as they arrived; filled in once the run's requests
    #: are done. Whether the run was answered on this machine rests on these, not on ``url``
    peers: frozenset[str] = frozenset()
    #: the model served is the project's test model (random weights): its answers are nonsense,
    #: and what shows them says so (the GGUF's own marker where the runtime read it, else the
    #: name it is served under)
    test_model: bool = False


@dataclass(frozen=True)
class Generation:
    """One output: the text, how long it took, or the runtime fault that stopped it."""

    vars: dict[str, Any]
    output: str | None
    latency_ms: float | None
    error: str | None = None
    #: the text sent (the prompt's messages, joined)
    prompt: str = ""


@dataclass(frozen=True)
class GatewayAccess:
    """Where ``workflow run --gateway`` sends its requests: the gateway's base URL and the
    runner's own gateway key (never one ``inhouse.toml`` names: see
    :func:`~inhouse.runtimes.config.refuse_gateway_key`)."""

    url: str
    key: str = field(repr=False)


def seed_for(program: Program, runner: str, workflow: Workflow) -> dict[str, Any]:
    """The seed ``runner``'s test run of ``workflow`` sends, as its ``workflow.run`` records it
    (:class:`~inhouse.program.payloads.SeedSent`: the one sent, the version's, its temperature,
    and whether it was drawn for this run). Where the version samples (a ``temperature`` above
    0, or none: the server's default) and someone other than its author runs it, a seed drawn
    for the run (exit rule 35, :data:`~inhouse.program.checks.WORKFLOW_FRESH_SEED`): the
    version's is one its author may have picked among many private tries for a draw that
    passes, and sending it again would replay that draw. Its author's own run (and the run that
    publishes a version, whose runner becomes its author) sends the seed as written, and so
    does every run at temperature 0, where each answer is the model's most likely one whatever
    the seed, and every run in a demo program (``inhouse init --demo``, whose pass counts for
    nothing real): its walkthrough runs on the test model, whose nonsense a case holds to what it
    answers at the seed the demo's workflow was written for."""
    from inhouse.trials.rerun import fresh_seed  # which imports this package (its decoys)

    parameters = workflow.spec.parameters
    temperature, written = parameters.temperature, parameters.seed
    author = version_author(program, workflow)
    samples = temperature is None or temperature > 0
    drawn = samples and author is not None and author != runner and not program.state().demo
    return {
        "sent": fresh_seed(written) if drawn else written,
        "spec": written,
        "temperature": temperature,
        "drawn": drawn,
    }


#: the seeds a repetition draws from: those every OpenAI-compatible server takes (as a rerun's,
#: :func:`~inhouse.trials.rerun.fresh_seed`)
_SEEDS = 2**31 - 1


def seeds_each_attempt(workflow: Workflow, sent: int | None) -> bool:
    """Whether each attempt of a case (``repeat``) sends a seed of its own
    (:func:`attempt_seed`), where the run sends ``sent``: where the version samples (a
    ``temperature`` above 0, or none) and a seed is sent. Sending one seed N times would ask
    the model for one draw N times, and "passes 3 of 3" would be one sample repeated. At
    temperature 0 each answer is the model's most likely one whatever the seed; with no seed,
    the server draws each request's own."""
    return draws_each_attempt(workflow.spec.parameters.temperature, sent)


def draws_each_attempt(temperature: float | None, sent: int | None) -> bool:
    """:func:`seeds_each_attempt` for a version at ``temperature`` (None: the server's
    default) whose run sends ``sent``."""
    return sent is not None and (temperature is None or temperature > 0)


def attempt_seed(sent: int, attempt: int) -> int:
    """The seed attempt ``attempt`` (0 for the first) of a case sends, where the run sends
    ``sent`` and each attempt draws its own (:func:`seeds_each_attempt`): the first sends
    ``sent`` itself (so a case run once sends what the run records, as before), each later one
    a seed derived from ``sent`` and its index (SHA-256 of ``"SENT:ATTEMPT"``, its first 8
    bytes, modulo 2**31 - 1), which anyone can work out again from the run's recorded seed."""
    if attempt == 0:
        return sent
    digest = hashlib.sha256(f"{sent}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _SEEDS


def seed_of_attempt(workflow: Workflow, seed: int | None, attempt: int) -> int | None:
    """The seed attempt ``attempt`` of a case sends in a run of ``workflow`` that sends ``seed``
    (None: the version's own, as written): its own (:func:`attempt_seed`) where the version
    samples at a seed sent (:func:`seeds_each_attempt`), else ``seed`` (None: the version's
    parameters as written go)."""
    sent = seed if seed is not None else workflow.spec.parameters.seed
    if sent is not None and seeds_each_attempt(workflow, sent):
        return attempt_seed(sent, attempt)
    return seed


def _blessed(lock: Lock, name: str, where: str) -> LockedModel:
    try:
        return lock.model(name)
    except NotAllowed as err:
        raise NotAllowed(f"{where}: {err}") from None


def _locked_models(program: Program, workflow: Workflow) -> tuple[Lock, LockedModel, LockedModel]:
    """The lock the program's log records, and ``workflow``'s model and judge as it blesses them
    (refused, naming the way, where there is no lock or either is not blessed)."""
    lock = program_lock(program)
    if lock is None:
        raise Refused(
            f"workflow {workflow.name} runs on the baseline, and the program records no lock "
            "(nor is there an inhouse.lock): lock it first (`inhouse baseline lock`)",
            missing=["baseline.lock"],
        )
    model = _blessed(lock, workflow.spec.model, f"{workflow.where}: model")
    judge = _blessed(lock, workflow.spec.judge or workflow.spec.model, f"{workflow.where}: judge")
    return lock, model, judge


@asynccontextmanager
async def pinned_runtime(
    program: Program, workflow: Workflow
) -> AsyncIterator[tuple[Runtime, Pinned]]:
    """Open the baseline's runtime for ``workflow``, refusing a model that is not blessed by the
    current lock or that the runtime serves with other weights than the lock pinned. The current
    lock is the one the program's log records (:func:`~inhouse.baseline.program_lock`), not
    ``inhouse.lock``: a run is play 3's, a pilot step's and a confirmation's evidence, and the
    file is anyone's to rewrite to bless weights no second person verified."""
    folder = program.folder
    lock, model, judge = _locked_models(program, workflow)
    config = baseline_runtime(folder)
    async with open_runtime(config, program=folder) as runtime:
        served = await runtime.models()
        where = f"runtime {runtime.name} at {runtime.url}"
        for drift in drifts(lock, served, where=where):
            if drift.model in (model.name, judge.name):
                raise Refused(
                    f"refusing to run workflow {workflow.name}: model {drift.model} has drifted "
                    f"from the lock the program records ({drift}). If the new weights are "
                    "intended, re-lock (`inhouse baseline lock`), have a second person run "
                    "`inhouse baseline verify`, and rerun the workflow's tests",
                    missing=[f"{drift.model} served with the locked digest {drift.locked}"],
                )
        served_model = find_model(served, model.name)
        served_judge = find_model(served, judge.name)
        if served_model is None or served_judge is None:  # drifts() reports these; be sure
            raise ConfigError(f"{where} does not serve {model.name}")
        test = serves_test_model(served_model)
        yield (
            runtime,
            Pinned(
                lock,
                model,
                served_model.id,
                judge,
                served_judge.id,
                config,
                str(runtime.url),
                test_model=test,
            ),
        )


@asynccontextmanager
async def gateway_runtime(
    program: Program, workflow: Workflow, access: GatewayAccess
) -> AsyncIterator[tuple[Runtime, Pinned]]:
    """The program's gateway as ``workflow``'s runtime, on the runner's own key, every request
    naming the workflow: its model must be blessed by the lock the program records, and the
    gateway serve it to this key. Which weights answer is the gateway's to hold to that lock
    (it routes a blessed model only to nodes serving the locked digest, and seals each row
    with the digest that answered): its ``/v1/models`` names no digest to compare here."""
    lock, model, judge = _locked_models(program, workflow)
    from inhouse.runtimes.openai_compat import OpenAICompatRuntime

    config = RuntimeConfig(name="gateway", family="openai", url=access.url)
    headers = {"Authorization": f"Bearer {access.key}", WORKFLOW_HEADER: workflow.name}
    async with OpenAICompatRuntime(config, program=program.folder, headers=headers) as runtime:
        served = await runtime.models()
        served_model = find_model(served, model.name)
        if served_model is None:
            listed = ", ".join(sorted(m.id for m in served)) or "nothing"
            raise Refused(
                f"the gateway at {runtime.url} does not serve {model.name} to your key (it "
                f"lists: {listed}); ask a rollout lead for a key that may use it",
                missing=[f"{model.name} served by the gateway to this key"],
            )
        yield (
            runtime,
            Pinned(
                lock,
                model,
                served_model.id,
                judge,
                judge.name,
                config,
                str(runtime.url),
                test_model=serves_test_model(served_model),
            ),
        )


async def _generate(
    runtime: Runtime,
    pinned: Pinned,
    workflow: Workflow,
    values: dict[str, Any],
    variant: str | None = None,
    *,
    seed: int | None = None,
) -> Generation:
    """One answer to ``values``; ``seed``: sent in place of the version's own (a test run by
    someone other than its author, :func:`seed_for`), None: the version's parameters as
    written."""
    messages = [ChatMessage(**m) for m in workflow.messages(values, variant)]
    fields = workflow.spec.parameters.request_fields()
    if seed is not None:
        fields["seed"] = seed
    request = ChatRequest(model=pinned.served_id, messages=messages, **fields)
    prompt = "\n\n".join(str(m.content) for m in messages)
    started = time.perf_counter()
    try:
        reply = await runtime.chat(request)
    except RuntimeFault as fault:
        return Generation(values, None, None, str(fault), prompt=prompt)
    latency = (time.perf_counter() - started) * 1000
    output = reply.text
    calls = reply.choices[0].message.tool_calls
    if calls and not output:  # an answer of tool calls is their JSON, as promptfoo shows it
        output = json.dumps([call.model_dump(exclude_none=True) for call in calls])
    return Generation(values, output, latency, prompt=prompt)


async def run_workflow(
    program: Program,
    name: str,
    inputs: Sequence[Mapping[str, Any]],
    *,
    from_text: bool = False,
    concurrency: int = 1,
    progress: Progress | None = None,
    gateway: GatewayAccess | None = None,
) -> tuple[Workflow, Pinned, list[Generation]]:
    """Produce an output for each set of variables in ``inputs`` (all checked first): from
    the lock's runtime, or through the program's gateway (``gateway``), each request naming
    the workflow, which the gateway signs as its runs."""
    workflow = load_workflow(program.folder, name)
    bound = [
        workflow.bind(given, where=f"input[{index}]", from_text=from_text)
        for index, given in enumerate(inputs)
    ]
    limit = asyncio.Semaphore(max(1, concurrency))
    done = 0
    opened = (
        pinned_runtime(program, workflow)
        if gateway is None
        else gateway_runtime(program, workflow, gateway)
    )
    async with opened as (runtime, pinned):

        async def one(values: dict[str, Any]) -> Generation:
            nonlocal done
            async with limit:
                generation = await _generate(runtime, pinned, workflow, values)
            done += 1
            if progress is not None:
                progress(done, len(bound), workflow.name)
            return generation

        generations = list(await asyncio.gather(*(one(values) for values in bound)))
        pinned = replace(pinned, peers=peers_of(runtime))
    return workflow, pinned, generations


async def run_cases(
    program: Program,
    workflow: Workflow,
    *,
    concurrency: int = 1,
    progress: Progress | None = None,
    seed: int | None = None,
) -> tuple[Pinned, list[VariantReport]]:
    """Run every test case ``repeat`` times against each prompt variant and judge each output
    with its checks (a comparison case's outputs are kept, not judged). The variants' outputs
    for one case and attempt are judged together, so ``select-best`` can compare them.
    ``seed``: sent in place of the version's own (:func:`seed_for`); where the version samples,
    each attempt of a case sends its own seed derived from the one the run sends
    (:func:`attempt_seed`), so its ``repeat`` attempts are as many draws, not one."""
    if not workflow.cases:
        raise ConfigError(
            f"{workflow.where}: tests: workflow {workflow.name} has no test cases to run"
        )
    variants = [variant.label for variant in workflow.variants]
    groups = [(case, attempt) for case in workflow.cases for attempt in range(case.repeat)]
    total = len(groups) * len(variants)
    limit = asyncio.Semaphore(max(1, concurrency))
    done = 0
    async with pinned_runtime(program, workflow) as (runtime, pinned):
        # the embeddings `similar` judges by are answers too: record where they came from
        embeddings = PeerRecorder(look_behind=runtime.capabilities.served_by_inhouse)
        embedder = HttpEmbedder(
            name=runtime.name,
            url=runtime.url,
            api_key=pinned.runtime.api_key(),
            timeout=pinned.runtime.timeout,
            transport=embeddings,
        )
        async with embedder:

            async def produce(case: Case, variant: str, attempt: int) -> Generation:
                nonlocal done
                own = seed_of_attempt(workflow, seed, attempt)  # a draw of its own each
                async with limit:
                    generation = await _generate(
                        runtime, pinned, workflow, case.vars, variant, seed=own
                    )
                done += 1
                if progress is not None:
                    progress(done, total, case.name)
                return generation

            async def group(case: Case, attempt: int) -> list[Attempt]:
                outputs = await asyncio.gather(
                    *(produce(case, label, attempt) for label in variants)
                )
                peers = [g.output or "" for g in outputs]
                shared: dict[Any, Any] = {}
                return list(
                    await asyncio.gather(
                        *(
                            _judge(workflow, case, generation, index, peers, shared, runtime,
                                   pinned, embedder)
                            for index, generation in enumerate(outputs)
                        )
                    )
                )  # fmt: skip

            judged = await asyncio.gather(*(group(case, attempt) for case, attempt in groups))
            # each case judged on answers the model never gave for it, too: a case that
            # passes one does not need the model (judged here, nothing generated)
            in_use = variants.index(workflow.in_use)
            given = {
                id(case): [row[in_use] for (c, _), row in zip(groups, judged, strict=True)
                           if c is case]
                for case in workflow.cases
            }  # fmt: skip
            # and on the model's answers to the other cases it passed: a case whose checks
            # cannot tell its answer from the answer to another input judges nothing of its own
            decoys = await judge_cases(
                workflow,
                [(case, [a.output for a in given[id(case)]],
                  [(a.latency_ms, a.cost) for a in given[id(case)]],
                  not case.comparison and CaseReport(case, given[id(case)]).passed)
                 for case in workflow.cases],
                runtime=runtime, judge_model=pinned.judge_id, embedder=embedder,
                embedding_model=pinned.served_id,
            )  # fmt: skip
        pinned = replace(pinned, peers=peers_of(runtime) | embeddings.peers)
    reports = []
    for index, label in enumerate(variants):
        cases = []
        for case, passed in zip(workflow.cases, decoys, strict=True):
            mine = [row[index] for (c, _), row in zip(groups, judged, strict=True) if c is case]
            in_use = label == workflow.in_use
            cases.append(CaseReport(case, mine, passed if in_use else None))
        reports.append(VariantReport(label, label == workflow.in_use, cases))
    return pinned, reports


async def _judge(
    workflow: Workflow,
    case: Case,
    generation: Generation,
    index: int,
    peers: list[str],
    shared: dict[Any, Any],
    runtime: Runtime,
    pinned: Pinned,
    embedder: HttpEmbedder,
) -> Attempt:
    if generation.output is None:
        return Attempt(None, None, None, generation.error)
    cost = _cost(workflow, generation.latency_ms)
    output = generation.output
    if case.transform:
        context = {"vars": case.vars, "prompt": generation.prompt}
        try:
            output = await transform_output(Script(case.transform), output, context)
        except InvalidInput as err:
            return Attempt(generation.output, generation.latency_ms, None,
                           f"transform: {err}", cost=cost)  # fmt: skip
    if case.comparison:
        return Attempt(output, generation.latency_ms, None, None, cost=cost, compared=True)
    ctx = QualityContext(
        vars=case.vars,
        latency_ms=generation.latency_ms,
        cost=cost,
        runtime=runtime,
        judge_model=pinned.judge_id,
        embedder=embedder,
        embedding_model=pinned.served_id,
        prompt=generation.prompt,
        tools=workflow.spec.parameters.tools,
        peers=peers,
        peer_index=index,
        shared=shared,
    )
    judged = await evaluate(case.checks, output, ctx, threshold=case.threshold)
    return Attempt(output, generation.latency_ms, judged, None, cost=cost)


def _cost(workflow: Workflow, latency_ms: float | None) -> float | None:
    """An output's cost from the trial's local cost model: its busy seconds times the energy
    and hardware rates (None: the workflow gives no cost inputs, so none is measured)."""
    inputs = workflow.spec.cost
    if inputs is None or latency_ms is None:
        return None
    return local_cost(inputs, [latency_ms / 1000]).total


def _spec_changed(latest: Fact | None, payload: dict[str, Any]) -> bool:
    if latest is None:
        return True
    return any(latest.payload.get(key) != value for key, value in payload.items())


def _ran_on(pinned: Pinned) -> dict[str, str]:
    """The model and digest a run pinned (its ``model`` and ``model_digest``)."""
    return {"model": pinned.model.name, "model_digest": pinned.model.digest}


def record_test_facts(
    program: Program,
    runner: str,
    workflow: Workflow,
    pinned: Pinned,
    report: RunReport,
    *,
    closes: Sequence[int] = (),
    python_checks: Sequence[str] = (),
    seed: Mapping[str, Any],
) -> list[Fact]:
    """Record the ``workflow.spec`` fact (when this version, model or digest is new) and the
    ``workflow.run`` fact of a test run, which names the spec recorded with it (its
    ``nonce``): a spec publishes its version only beside that run. ``python_checks``: the
    functions its ``python`` checks ran in this process; ``seed``: the seed its requests
    carried (:func:`seed_for`)."""
    from inhouse.baseline.verify import inhouse_origin  # as a verify names its inhouse

    recorded = []
    version = {
        "workflow": workflow.name,
        "content_hash": workflow.content_hash,
        "model": pinned.model.name,
        "model_digest": pinned.model.digest,
    }
    runs = workflow.run_hash
    # the author of a version is whoever published it: the signer of its first workflow.spec
    # fact (never the YAML's owner: field, which anyone can type)
    spec_payload: dict[str, Any] = {
        **version,
        "author": program.actor(runner).name,
        "run_hash": runs,
    }
    if closes:  # findings this new version answers (play 6), checked before the run
        spec_payload["closes"] = list(closes)
    # among the facts that count: a first spec signed by a key that never counts (a second
    # machine never signed in, later revoked) must not leave the version with none that does;
    # and among those that publish: a spec whose own run is missing (dropped from the log's
    # tail, refused, not imported) published nothing, so this run records the version again
    facts = build_context(program.state(), program.clock()).facts
    latest = next(
        (f for f in reversed(published_specs(facts)) if f.payload["workflow"] == workflow.name),
        None,
    )
    nonce = ""
    if _spec_changed(latest, version):
        # the run below names it: the spec publishes the version only beside its own run, so
        # whoever holds the store cannot keep one and drop the other
        nonce = spec_payload["nonce"] = secrets.token_hex(16)
        recorded.append(
            program.record_fact(
                runner,
                "workflow.spec",
                spec_payload,
                provenance=Provenance.MEASURED,
                collector=COLLECTOR,
            )
        )
    recorded.append(
        program.record_fact(
            runner,
            "workflow.run",
            {
                "workflow": workflow.name,
                "content_hash": workflow.content_hash,
                "lock_hash": pinned.lock.lock_hash,
                "passed": report.passed,
                "pass_rate": report.pass_rate,
                "cases": len(report.judged),
                # how many of them passed though every decoy answer (empty, off-topic, their
                # own prompt or input echoed back) fails them, and which passed on one: tests
                # that pass what the model never said prove nothing (play 3 sets such a run
                # aside, and names them). ``decoys`` says the run was judged on these
                "proved": report.proved,
                "decoys": list(DECOYS),
                "untested": report.untested,
                # and how many different prompts they sent: a template that ignores its cases'
                # inputs sends one, and tests nothing of what the task gives it
                "inputs": report.inputs,
                # the variant people use: what passed/pass_rate judge (play 3 reads them)
                "variant": report.variant,
                # where it ran, beside where its signer enrolled: play 3 compares both
                "machine": machine_fingerprint(),
                # and what answered: a rerun served by another host measured that host. Judged
                # by the addresses the answers came from (a name resolved again now could
                # point here though the run's connections went elsewhere)
                "runtime": _without_userinfo(pinned.url),
                "runtime_peers": sorted(pinned.peers),
                "runtime_local": answered_here(pinned.peers),
                "spec": nonce,
                # what the version runs, measured here from its files: a fix that runs what
                # the workflow ran before answers no finding (play 6)
                "run_hash": runs,
                # and which inhouse judged it: a build from a folder or URL (not the release a
                # package index serves) runs its author's runner, decoys and all
                "inhouse": inhouse_origin(),
                # the Python check code the spec names, run in this process on the runner's
                # --trust-python: its writer's code, which play 3 does not take as a rerun's
                "python_checks": list(python_checks),
                # and whether the project's test model answered: its random weights prove
                # nothing of the workflow outside a demo (play 3 says so)
                "test_model": pinned.test_model,
                # and which weights it pinned: the spec's are its signer's word, and play 3
                # judges a version by what its runs ran on
                **_ran_on(pinned),
                # and the seed its requests carried, beside the version's temperature and
                # seed: where the version samples, a colleague's run counts for play 3 on a
                # draw of its own, not its author's pick (exit rule 35)
                "seed": dict(seed),
                # and what the version itself says (the text its content hash covers): play 3
                # reads whether it samples from that, not from any run's word (exit rule 35)
                "hashed": workflow.hashed,
                # and whether each attempt of a case sent its own seed, derived from the one
                # sent: `repeat: 3` at a seed above temperature 0 is three draws, not one
                "attempt_seeds": draws_each_attempt(seed.get("temperature"), seed.get("sent")),
            },
            provenance=Provenance.MEASURED,
            collector=COLLECTOR,
        )
    )
    return recorded


def name_task(program: Program, actor: str | None, workflow: Workflow) -> Fact | None:
    """Record play three's trigger from the spec itself: the recurring task (the workflow's
    name and description) and its frequency, as the file in the program folder states them.

    Returns the new ``task.named`` fact, or ``None`` when this task and frequency are already on
    record. Read from a file the program keeps in git; how often the task really happens is
    the spec's writer's word. A frequency that says no recurrence ("once", "ad hoc") is refused:
    it names no recurring task.
    """
    who = program.actor(actor).name
    task = workflow.spec.description.strip() or workflow.name
    payload = {"task": f"{workflow.name}: {task}" if task != workflow.name else task,
               "frequency": workflow.spec.frequency}  # fmt: skip
    facts = build_context(program.state(), program.clock()).facts  # the ones that count
    if facts.latest("task.named", lambda f: f.payload == payload) is not None:
        return None  # on record already (before the rule below, for a started play 3)
    if why := recurrence_problem(workflow.spec.frequency):
        raise InvalidInput(f"{workflow.where}: frequency: play 3's trigger is not recorded: {why}")
    return program.record_fact(
        who, "task.named", payload, provenance=Provenance.MEASURED, collector=TASK_COLLECTOR
    )


def run_workflow_tests(
    program: Program,
    name: str,
    *,
    actor: str | None = None,
    concurrency: int = 1,
    progress: Progress | None = None,
    closes: Sequence[str | int] = (),
    trust_python: bool = False,
) -> RunReport:
    """``inhouse workflow test``: run the test cases, then record the run (and a new spec
    version) as facts measured by this collector, run by ``actor``. ``closes`` names findings
    about this workflow that its new version answers (play 6): refused, before anything runs,
    when the version is not new.

    A ``python`` check runs someone's code with the runner's rights (their files, their key),
    and its module is not part of the version (it may change under an unchanged spec): it runs
    only with ``trust_python`` (``--trust-python``, said by whoever runs it, each time, having
    read the code); otherwise nothing runs and the refusal names each function."""
    refuse_tracked_state(program.folder, f"inhouse workflow test {name}")  # before it runs
    runner = program.actor(actor).name
    workflow = load_workflow(program.folder, name)
    calls = python_calls(check for case in workflow.cases for check in case.checks)
    command = f"inhouse workflow test {workflow.name}"
    if not trust_python:
        refuse_untrusted(calls, workflow.where, command)
    numbers = _closes(program, workflow, closes) if closes else []
    people = program.state().people
    if workflow.spec.owner not in people:
        raise ConfigError(
            f"{workflow.where}: owner: {workflow.spec.owner!r} is not on the program's roster; "
            f"invite them (`inhouse person invite {workflow.spec.owner}`) or name someone who is"
        )
    # where the version samples and its author is someone else, a draw of this run's own, not
    # the seed its author may have picked among many private tries (exit rule 35)
    seed = seed_for(program, runner, workflow)
    if trust_python and calls:
        author = None if program.detached() else version_author(program, workflow)
        if program.detached() or (author is not None and author != runner):
            # the code its author chose runs here, with this key at hand: said in the log
            # before it runs, since what the key signs from then on may be theirs (exit rule 36)
            record_trusted(program, runner, calls, workflow.where, command)
    started: datetime = program.clock()
    clock = time.perf_counter()
    with python_checks_allowed(trust_python):  # code the runner said they read
        pinned, variants = asyncio.run(
            run_cases(
                program, workflow, concurrency=concurrency, progress=progress, seed=seed["sent"]
            )
        )
    report = RunReport(
        workflow=workflow,
        runner=runner,
        model=pinned.model,
        lock_hash=pinned.lock.lock_hash,
        variants=variants,
        started=started,
        seconds=time.perf_counter() - clock,
        test_model=pinned.test_model,
        seed=seed,
    )
    report.facts = record_test_facts(
        program, runner, workflow, pinned, report, closes=numbers, python_checks=calls, seed=seed
    )
    report.author = version_author(program, workflow)
    report.exit_check = exit_check(program, RUN_BY_OTHER)
    return report


def version_author(program: Program, workflow: Workflow) -> str | None:
    """The author of ``workflow``'s version, as play 3's checks count it: the signer of the
    first ``workflow.spec`` that published it (never the YAML's ``owner:``, which anyone
    types); None where no spec of it counts."""
    from inhouse.program.counting import build_context

    facts = build_context(program.state(), program.clock()).facts
    return next(
        (
            f.by
            for f in published_specs(facts)
            if f.payload["workflow"] == workflow.name
            and f.payload["content_hash"] == workflow.content_hash
        ),
        None,
    )


def _without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part, which must never reach the signed log."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _closes(program: Program, workflow: Workflow, closes: Sequence[str | int]) -> list[int]:
    from inhouse.program.counting import build_context
    from inhouse.program.feedback import ran_before_finding, require_open

    ctx = build_context(program.state(), program.clock())
    facts = ctx.facts
    numbers = require_open(ctx, closes, target=f"workflow:{workflow.name}")
    published = {
        f.payload["content_hash"]
        for f in published_specs(facts)
        if f.payload["workflow"] == workflow.name
    }
    if workflow.content_hash in published:
        raise InvalidInput(
            f"workflow {workflow.name} version {workflow.content_hash[:12]} was published "
            "before: a finding is answered by a new version (change the workflow, then test it "
            "with --closes)"
        )
    for number in numbers:
        if workflow.run_hash in ran_before_finding(ctx, number, workflow.name):
            raise InvalidInput(
                f"workflow {workflow.name} version {workflow.content_hash[:12]} runs what "
                f"workflow {workflow.name} ran before finding #{number} was opened: only what "
                "describes it changed (its description, owner or frequency, a case's name, a "
                "variable's description, a template's comments or whitespace); a fix changes "
                "what the model is sent or how its answers are judged"
            )
    return numbers


def exit_check(program: Program, check: str) -> ExitCheck | None:
    """The engine's result for the exit check ``check`` of the started play that has it, as
    ``inhouse status`` reports it; None where no started play checks it."""
    for play in program.status()["plays"]:
        for row in play["exit"] or []:
            if row["check"] == check:
                # the workflow it judges: with several, not always the one just tested
                specs = {e["fact"] for e in row["evidence"] if e["kind"] == "workflow.spec"}
                found = (f for f in program.state().facts if f.id in specs) if specs else ()
                judged = next((str(f.payload["workflow"]) for f in found), None)
                return ExitCheck(play["number"], check, row["outcome"], row["reason"], judged)
    return None
