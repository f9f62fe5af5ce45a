"""The outsider, round 123: lena alone through plays 1 to 3, on paths the earlier rounds do not
try.

Play 2's rerun of lena's trial set aside a rerun by an older inhouse (one that does not say
what its quality checks did on an answer given for nothing, or whether they judge time or cost)
only where an earlier trial fact said it. lena's verdict is hers to record: proved with the
older release she pins in the lock (or typed through the Python API), it says none of it, and
omar's honest rerun with the install script's older inhouse counted "as before" on checks that
pass any answer. Closed: a rerun that does not say it is set aside whatever the verdict says; a
play 2 that exited on one keeps its exit, said. Play 3 had the same hole: a workflow run that
judged no decoy answers (or not each of today's) counted where no earlier run judged them, and
every run before it is the author's to make with that release. Closed the same way.

A colleague's verify, rerun and workflow run count only where their runtime answered on their
own machine, judged by the address each answer came from. A relay on the colleague's loopback
(``ssh -L``, ``socat``, a few lines of Python: what the "start the runtime" step of the
checkout's docs, which lena writes, can be) answers from 127.0.0.1 whatever host stands behind
it. Closed for the runtime inhouse serves itself (relaycheck): the process holding the other
end of each answer's connection must be the colleague's own llama_cpp.server on a blessed file,
for a verify, a workflow run and a trial's rerun alike; a relay started as the server, or named
as it in a forged serve state, is refused and named. Left, a strict xfail, for runtimes inhouse
does not serve: no address tells a relay apart, and no process can be required of them.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.local import answered_here
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import OTHER_COMPUTER, Clock
from tests.engine import Engine, needs_engine
from tests.locks import HERE
from tests.people import enrol_cli, lead_env
from tests.test_engine import (
    DIGEST,
    LOCK,
    OLDER_RERUN,
    cast,  # noqa: F401
    lock_baseline,
    measured,
    omar,  # noqa: F401
    play,
    program,  # noqa: F401
    prove,
    reproduce,
    through_play_one,
)
from tests.test_outsider import _alias, clock, lena  # noqa: F401
from tests.test_outsider_16 import _test_run
from tests.test_outsider_more import _judge
from tests.test_sign_in import _judge as _judge_play
from tests.test_sign_in import _sign_in
from tests.workflows.test_author_flip import _play_three

runner = CliRunner()
NAME = "inhouse-test-model"

#: a TCP relay, as ``socat TCP-LISTEN:PORT,fork TCP:HOST:PORT`` or ``ssh -L`` would be: it
#: listens on loopback, prints its port and carries every connection on to ``argv[1]:argv[2]``
_RELAY = """
import asyncio, sys

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()

async def carry(reader, writer):
    up_reader, up_writer = await asyncio.open_connection(sys.argv[1], int(sys.argv[2]))
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

async def main():
    server = await asyncio.start_server(carry, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


@contextmanager
def relay_to(url: str) -> Iterator[str]:
    """A relay on this machine's loopback to the server at ``url``; yields the relay's url."""
    host, _, port = url.removeprefix("http://").partition(":")
    relay = subprocess.Popen(
        [sys.executable, "-c", _RELAY, host, port],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert relay.stdout is not None
        yield f"http://127.0.0.1:{relay.stdout.readline().strip()}"
    finally:
        relay.terminate()
        relay.wait(10)
        if relay.stdout is not None:
            relay.stdout.close()


# -- play 2: a verdict that says nothing of its checks, and an older inhouse's rerun ---------------


@pytest.mark.own_sign_in
def test_a_verdict_that_says_nothing_of_its_checks_lets_no_older_rerun_hold(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena proves her trial with the older release she pins in the lock (or types the verdict
    through the Python API without the fields): it says nothing of what her checks did on an
    empty answer or off-topic prose, nor whether they judge time. omar, a real colleague signed
    in with his own account, runs the install script, which gives him that release, and reruns
    her trial honestly: his rerun says none of it either. Before, with no trial fact saying it,
    his rerun counted "as before", on checks that pass whatever his model answers. Now it
    reproduces nothing until he upgrades; his rerun with today's inhouse counts."""
    prove(lena)  # a verdict that says none of proved, on_topic, timed_checks
    said = lena.state().facts[-1].payload
    assert [said.get(f) for f in ("proved", "on_topic", "timed_checks")] == [None] * 3
    colleague = _alias(lena, "omar", "support")
    _sign_in(colleague, idp, "u-omar")
    reproduce(colleague, **OLDER_RERUN)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert (
        "omar's rerun of trial triage (fact #" in reason
        and "was made by an inhouse older than this one: it did not judge its checks on an "
        "empty answer"
        in reason
        and "omar upgrades inhouse and reruns it (`inhouse prove triage --rerun`)" in reason
    ), reason
    # each field alone: a rerun that judged decoys but says nothing of timed checks is older too
    reproduce(colleague, timed_checks=None)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail" and "did not say whether its checks judge how long" in reason, reason
    reproduce(colleague)  # today's inhouse
    assert _judge(lena, "trial-reproduced")[0] == "pass"


def test_a_play_two_that_exited_on_an_older_rerun_no_fact_outdated_keeps_its_exit(
    program: Program,  # noqa: F811
    omar: Program,  # noqa: F811
) -> None:
    """Programs already running: play 2 exited on omar's rerun by an older inhouse, beside a
    verdict that said nothing either (the rule before counted it). The exit keeps its pass on
    the same evidence, said, and the handoff its acceptance; a rerun by today's inhouse since
    is the evidence as in any program."""
    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    older = reproduce(omar, **OLDER_RERUN)
    # offered and accepted under the rule before (it counted): the acceptance hashes that
    from inhouse.program.playchecks import baseline as checks

    with pytest.MonkeyPatch.context() as before_the_rule:
        before_the_rule.setattr(checks, "_older_rerun", lambda ctx, rerun: None)
        before = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
        assert before["outcome"] == "pass", before
        program.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
    row = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    assert row["outcome"] == "pass" and row["evidence"] == before["evidence"], row
    assert "note: play 2 exited before a rerun had to say what its quality checks did on an " \
        "answer given for nothing" in row["reason"]  # fmt: skip
    assert [e["fact"] for e in row["evidence"] if e["kind"] == "trial.rerun"] == [older.id]
    assert play(program, 2)["state"] == "exited"
    assert play(program, 2)["handoff"]["stale"] is False


# -- play 3: the author's runs on an older release, and a colleague's run on it ------------------


def test_a_workflow_whose_runs_never_judged_decoys_is_no_one_else_s_pass(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """omar writes triage v1 with cases any non-empty answer passes (`length min 1`) and tests
    it with the release the lock pins, from before runs judged decoy answers: his run says it
    was answered on his machine and that an empty answer fails a case (``proved``), nothing of
    any other decoy. vic, a real colleague signed in with his own account, runs the install
    script (that release) and the tests, honestly. No run before vic's judged decoys, so his
    counted "as before": play 3's "someone other than its author ran it and passed" held on
    tests that need no model. Now a run that judged no decoys is older than the inhouse judging
    it, whatever ran before; vic's run with today's inhouse counts, once omar's own pass is
    today's inhouse's too."""
    people = _play_three(_isolated, clock, idp)
    author, vic = people["omar"], people["vic"]
    try:
        measured(author, "workflow.spec", workflow="triage", content_hash="v1", author="omar",
                 model="m0", model_digest=DIGEST)  # fmt: skip
        older = {"workflow": "triage", "content_hash": "v1", "lock_hash": LOCK, "passed": True,
                 "pass_rate": 1.0, "cases": 3, "proved": 3, "inputs": 3, **HERE}  # fmt: skip
        measured(author, "workflow.run", **older, machine="omar-laptop")
        stale = measured(vic, "workflow.run", **older, machine="vic-laptop")
        result = _judge_play(author, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
        assert (
            f"vic's run (fact #{stale.id}) was made by an inhouse older than this one: it judged "
            "no decoy answers, so it cannot show its tests need the model; upgrade inhouse and "
            "run `inhouse workflow test triage` again"
        ) in result.reason, result.reason
        # the author's own older run proves nothing of the tests either
        tests = _judge_play(author, "workflow", "workflow-tests-pass")
        assert tests.outcome is Outcome.FAIL and "older than this one" in tests.reason
        _test_run(vic, LOCK)  # vic upgrades: today's runner, judged on every decoy
        # the author's own pass on that release says nothing of the test model either: beside
        # another's, it counts for nothing under rule 14 (tests/test_review1n_author.py)
        still = _judge_play(author, "workflow", "workflow-run-by-other")
        assert still.outcome is Outcome.FAIL, still.reason
        assert "was made by an inhouse too old to say" in still.reason, still.reason
        _test_run(author, LOCK)  # omar upgrades too, and runs his version once more
        assert _judge_play(author, "workflow", "workflow-run-by-other").outcome is Outcome.PASS
    finally:
        people["lena"].close()


# -- plays 2 and 3: a relay on the colleague's loopback --------------------------------------------


def cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    return result.exit_code, " ".join(out.split())


def configure(folder: Path, url: str | None, model_path: str, family: str = "llamacpp") -> None:
    config = folder / "inhouse.toml"
    text = config.read_text().split("\n[runtimes.local]")[0]
    where = f'url = "{url}"\n' if url is not None else ""
    config.write_text(
        text
        + f'\n[runtimes.local]\nfamily = "{family}"\n{where}'
        + f'model_path = "{model_path}"\n\n'
        + f'[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["{NAME}"]\n\n'
        + '[data_rules]\ndefault = "redact"\n'
    )


@needs_engine
@pytest.mark.xfail(
    strict=True,
    reason="hole left for runtimes inhouse does not serve (llama.cpp's own server, Ollama, "
    "vLLM, LM Studio): a verify (and a trial's rerun, a workflow's run) counts as answered on "
    "the colleague's machine when every answer came from a loopback or own address, and a "
    "relay there (ssh -L, socat, a few lines of Python the checkout's docs start as 'the "
    "runtime') answers from 127.0.0.1 for a server on the lead's host. inhouse's own runtime "
    "is looked behind (the process holding the connection must be it: see the embedded tests "
    "below); these run as whatever their installers make them (a service user's, root's, a "
    "container's, the app's own), so no process can be required of them, and their HTTP APIs "
    "offer no challenge only a process on this machine could answer",
)
def test_a_relay_on_the_colleague_s_loopback_to_her_server_is_no_install_of_theirs(
    _isolated: Path, engine: Engine
) -> None:
    """lena's llama.cpp server (the engine, standing for her own host) serves the blessed
    file; she locks it. The checkout's docs, hers to write, start "the runtime" on bob's
    machine as a relay to her server. bob, a real colleague with his own key and laptop, runs
    the install's verify: every answer came from 127.0.0.1, the digest is his downloaded
    copy's, and play 2's "a second person stood the environment up" passes though bob
    installed no runtime and loaded no model."""
    lead = Program.init(_isolated, "Acme", "lena")
    try:
        configure(_isolated, engine.url, str(engine.model))
        code, out = cli("baseline", "lock", env=lead_env(lead))
        assert code == 0, out
        # the install script downloads the blessed file into bob's checkout; only its name
        # ties it to what the server at the other end of the relay loaded
        (_isolated / "models").mkdir()
        shutil.copyfile(engine.model, _isolated / "models" / f"{NAME}.gguf")
        digest = sha256_digest(_isolated / "models" / f"{NAME}.gguf", cached=False)
        bob = {**enrol_cli(lead, "bob", _isolated.parent / "keys"), OTHER_COMPUTER: "bob-laptop"}
        with relay_to(engine.url) as relayed:
            configure(_isolated, relayed, f"models/{NAME}.gguf")
            code, out = cli("baseline", "verify", env=bob)
        ctx = build_context(lead.state(), lead.clock())
        verify = ctx.facts.latest("baseline.verify")
        assert verify.by == "bob"
        # what the hole rests on, measured: bob's verify passed, "answered on his machine"
        assert code == 0 and verify.payload["passed"], out
        assert verify.payload["models"] == [{"name": NAME, "digest": digest}]
        # what should hold: a relay to another host is not bob's install
        assert verify.payload["runtime_local"] is not True
        assert evaluate("second-person-verified", ctx).outcome is not Outcome.PASS
    finally:
        lead.close()


#: a relay as above on a port it is given, with whatever more arguments it is started with:
#: a command line is anyone's to type, the server's own included
_NAMED_RELAY = _RELAY.replace(
    'asyncio.start_server(carry, "127.0.0.1", 0)',
    'asyncio.start_server(carry, "127.0.0.1", int(sys.argv[3]))',
)


@contextmanager
def relay_named(url: str, port: int, *argv: str) -> Iterator[subprocess.Popen[str]]:
    """A relay listening at 127.0.0.1:``port`` to the server at ``url``, ``argv`` on its
    command line after the script's own arguments."""
    host, _, upstream = url.removeprefix("http://").partition(":")
    relay = subprocess.Popen(
        [sys.executable, "-c", _NAMED_RELAY, host, upstream, str(port), *argv],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert relay.stdout is not None
        assert relay.stdout.readline().strip() == str(port)
        yield relay
    finally:
        relay.terminate()
        relay.wait(10)
        if relay.stdout is not None:
            relay.stdout.close()


def _bob_downloads(folder: Path, engine: Engine) -> str:
    """What the install script leaves in bob's checkout: the blessed file, his own copy."""
    (folder / "models").mkdir()
    shutil.copyfile(engine.model, folder / "models" / f"{NAME}.gguf")
    return sha256_digest(folder / "models" / f"{NAME}.gguf", cached=False)


@needs_engine
def test_a_relay_named_as_inhouse_s_runtime_on_the_colleague_s_loopback_is_no_install_of_theirs(
    _isolated: Path, engine: Engine
) -> None:
    """The embedded runtime (the one inhouse serves itself). bob's checkout's docs, lena's to
    write, start "the runtime" as a relay to her server, and the url in inhouse.toml points at
    it: every answer comes from 127.0.0.1, and the model list names a file bob has a copy of.
    What holds the connection at the other end is no llama_cpp.server of his: refused, named."""
    lead = Program.init(_isolated, "Acme", "lena")
    try:
        configure(_isolated, engine.url, str(engine.model), family="embedded")
        code, out = cli("baseline", "lock", env=lead_env(lead))
        assert code == 0, out
        _bob_downloads(_isolated, engine)
        bob = {**enrol_cli(lead, "bob", _isolated.parent / "keys"), OTHER_COMPUTER: "bob-laptop"}
        with relay_to(engine.url) as relayed:
            configure(_isolated, relayed, f"models/{NAME}.gguf", family="embedded")
            code, out = cli("baseline", "verify", env=bob)
        verify = build_context(lead.state(), lead.clock()).facts.latest("baseline.verify")
        assert verify.by == "bob"
        assert verify.payload["runtime_local"] is False
        assert code != 0 and not verify.payload["passed"]
        # the reason names what was seen behind the port, and what to do
        assert "not inhouse's runtime" in out and "is held by python" in out, out
        assert "inhouse runtime serve MODEL.gguf" in out
        ctx = build_context(lead.state(), lead.clock())
        check = evaluate("second-person-verified", ctx)
        assert check.outcome is not Outcome.PASS
    finally:
        lead.close()


@needs_engine
def test_a_forged_serve_state_for_a_relay_named_as_the_server_is_no_install_of_theirs(
    _isolated: Path, engine: Engine
) -> None:
    """bob (or the docs he follows) writes the state file `inhouse runtime serve` writes,
    naming a relay started with the server's arguments on its command line and listening on
    the port it names: the recorded process runs "llama_cpp.server --model <his copy>" and
    listens there, his copy's digest is the recorded one. The process at the other end of the
    connection runs no llama_cpp.server module: refused."""
    from inhouse.location import run_dir
    from inhouse.runtimes.embedded import EmbeddedState, _free_port

    lead = Program.init(_isolated, "Acme", "lena")
    try:
        configure(_isolated, engine.url, str(engine.model), family="embedded")
        code, out = cli("baseline", "lock", env=lead_env(lead))
        assert code == 0, out
        digest = _bob_downloads(_isolated, engine)
        copy = str((_isolated / "models" / f"{NAME}.gguf").resolve())
        bob = {**enrol_cli(lead, "bob", _isolated.parent / "keys"), OTHER_COMPUTER: "bob-laptop"}
        port = _free_port("127.0.0.1")
        named = ("llama_cpp.server", "--model", copy, "--model_alias", str(engine.model))
        with relay_named(engine.url, port, *named, "--port", str(port)) as relay:
            folder = run_dir(_isolated)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "embedded.json").write_text(
                EmbeddedState(
                    pid=relay.pid, url=f"http://127.0.0.1:{port}", host="127.0.0.1",
                    port=port, model_id=str(engine.model), model_path=copy,
                    model_digest=digest, is_test_model=True, engine="llama-cpp-python 0.3",
                    python=sys.executable, started_at="2026-01-01T00:00:00+00:00",
                    log_path=str(folder / "embedded.log"),
                ).model_dump_json()
            )  # fmt: skip
            configure(_isolated, None, f"models/{NAME}.gguf", family="embedded")
            code, out = cli("baseline", "verify", env=bob)
        verify = build_context(lead.state(), lead.clock()).facts.latest("baseline.verify")
        assert verify.by == "bob"
        assert verify.payload["runtime_local"] is False, out
        assert f"(pid {relay.pid}), not inhouse's runtime" in out, out
        ctx = build_context(lead.state(), lead.clock())
        assert evaluate("second-person-verified", ctx).outcome is not Outcome.PASS
    finally:
        lead.close()


@needs_engine
def test_inhouse_s_runtime_is_found_behind_its_own_connection_and_a_relay_is_not(
    engine: Engine,
) -> None:
    """The look behind the port, on real sockets: a connection to the llama_cpp.server process
    finds it and its model file; one to a relay in front of it finds the relay."""
    import httpx

    from inhouse.runtimes.local import PeerRecorder

    async def ask(url: str) -> PeerRecorder:
        recorder = PeerRecorder(look_behind=True)
        async with httpx.AsyncClient(transport=recorder) as client:
            assert (await client.get(f"{url}/v1/models")).status_code == 200
            assert (await client.get(f"{url}/v1/models")).status_code == 200
        return recorder

    direct = asyncio.run(ask(engine.url))
    assert direct.peers == {"127.0.0.1"}
    assert direct.served_files == {str(engine.model)}
    with relay_to(engine.url) as relayed:
        relay = asyncio.run(ask(relayed))
    (peer,) = relay.peers
    assert peer.startswith("127.0.0.1 (") and "not inhouse's runtime" in peer
    assert not answered_here(relay.peers) and relay.served_files == frozenset()


@needs_engine
def test_a_trial_s_answers_through_a_relay_are_not_inhouse_s_runtime_answering_here(
    engine: Engine,
) -> None:
    """The trial's own client (a rerun's answers come through it) looks behind the same way:
    a request answered by the llama_cpp.server process keeps its address; one answered
    through a relay in front of it is recorded with what held the connection, which
    :func:`answered_here` does not count (and the privacy account still reads as loopback)."""
    from inhouse.trials.load import run_load
    from inhouse.trials.modes import LoadMode
    from inhouse.trials.privacy import _scope_of
    from inhouse.trials.target import Target

    def peers(url: str) -> set[str | None]:
        # temperature 0: a sample whose answer is only the end-of-turn token is no `ok` one
        # (NO_CONTENT), and an unseeded draw hangs on what the server answered before
        target = Target(url, model=str(engine.model), max_tokens=2, look_behind=True,
                        extra_body={"temperature": 0})  # fmt: skip
        result = asyncio.run(run_load(target, ["hi", "there"], LoadMode.fixed(1), warmup=1))
        assert all(s.ok for s in result.samples)
        return {s.peer for s in [*result.warmup_samples, *result.samples]}

    assert peers(engine.url) == {"127.0.0.1"}
    with relay_to(engine.url) as relayed:
        (peer,) = peers(relayed)
    assert peer is not None and "not inhouse's runtime" in peer
    assert not answered_here([peer]) and _scope_of(peer) == "loopback"


@needs_engine
def test_a_workflow_s_answers_from_a_relay_named_as_inhouse_s_runtime_are_not_here(
    _isolated: Path, engine: Engine
) -> None:
    """What a workflow run records (``peers_of`` the embedded runtime it ran on, the chats
    included): through a relay, not this machine's; from the llama_cpp.server itself, here."""
    from inhouse.runtimes.config import RuntimeConfig
    from inhouse.runtimes.embedded import EmbeddedRuntime
    from inhouse.runtimes.local import peers_of
    from inhouse.runtimes.protocol import ChatMessage, ChatRequest

    async def chat(url: str) -> frozenset[str]:
        config = RuntimeConfig(name="local", family="embedded", url=url)
        async with EmbeddedRuntime(config, program=_isolated) as runtime:
            request = ChatRequest(messages=[ChatMessage(role="user", content="hi")], max_tokens=2)
            await runtime.chat(request)
            return peers_of(runtime)

    assert answered_here(asyncio.run(chat(engine.url)))
    with relay_to(engine.url) as relayed:
        peers = asyncio.run(chat(relayed))
    assert not answered_here(peers)
    assert any("not inhouse's runtime" in peer for peer in peers), peers
