"""The outsider, round 25: a platform engineer's first week, plays 1 to 4 by the README.

A platform engineer new to inhouse walks the README's tour by hand in a demo program on
PostgreSQL, with two colleagues (their own HOME, config folder, key and machine id) and a
checkout of the program folder each from git, then three pilot users and a gateway on a host of
its own. What cost them time, each pinned here:

- omar's fresh checkout had no model file (``.inhouse/`` stays out of git): ``runtime serve
  inhouse-test-model`` said "put it there" and nothing of how, and ``baseline verify`` told
  him to serve ``MODEL.gguf``, a placeholder he typed;
- the command ``prove --rerun`` told him to run with his confirmations had its flags outside
  the backticks: copied, it dropped them;
- ``--help`` of ``pilot guide --base-url`` read "from  host and port" and ``keys issue --agent``
  "its  boundary": Rich took ``[gateway]`` and ``[policy.agents.NAME]`` for markup and ate
  them; and the guide named a port nothing listened on (the gateway served with ``--port``, no
  ``[gateway]`` table), and said nothing of it;
- ``gateway rollup`` said "1 requests";
- ``pilot adoption --record`` on her laptop named the gateway's host by a fingerprint nothing
  showed her for any machine (``whoami`` now does), and called the key a first, refused ``gateway
  serve`` had left on her laptop "another key" (a gateway with no lock makes none now);
- the embedded runtime not started said to serve ``MODEL.gguf``; a blessed model's name serves;
- play 4's trigger said "no workflow defined: write workflows/NAME.yaml" of a workflow written and
  validated: its first ``workflow test`` publishes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import typer.main
from rich.text import Text

from inhouse.cli.app import app
from tests.clitools import cli
from tests.conftest import OTHER_COMPUTER
from tests.test_cli import ok


def _helps(command: Any, ctx: Any, path: str) -> list[tuple[str, str]]:
    """Every help text of ``command`` and the commands under it, by where it is shown (typer
    carries click of its own: its classes, not an installed click's)."""
    found = [(path, command.help or "")]
    found += [(f"{path} {p.name}", getattr(p, "help", None) or "") for p in command.params]
    for name in command.list_commands(ctx) if hasattr(command, "list_commands") else []:
        sub = command.get_command(ctx, name)
        if sub is not None:
            inner = sub.context_class(sub, parent=ctx, info_name=name)
            found += _helps(sub, inner, f"{path} {name}")
    return found


def test_no_help_text_loses_a_bracketed_table_to_rich_markup() -> None:
    """`--help` renders help as Rich markup: an unescaped ``[gateway]`` is read as a style tag
    and vanishes ("default: from  host and port"). Every help says every table it names."""
    root = typer.main.get_command(app)
    helps = _helps(root, root.context_class(root, info_name="inhouse"), "inhouse")
    assert len(helps) > 200  # every command group was walked, the lazy ones too
    eaten = [
        (where, text)
        for where, text in helps
        if Text.from_markup(text).plain != text.replace("\\[", "[")
    ]
    assert eaten == [], eaten
    shown = " ".join(cli("pilot", "guide", "--help").split())
    assert "from the [gateway] host and port in inhouse.toml" in shown, shown


def _demo_with_blessed(folder: Path, model: str) -> None:
    ok("init", "Acme", "--lead", "lena", "--demo")
    with (folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write(
            f'\n[runtimes.local]\nfamily = "embedded"\n\n[baseline]\nowner = "lena"\n'
            f'runtime = "local"\nmodels = [{model}]\n'
        )


def test_serving_the_test_model_in_a_fresh_checkout_says_how_to_make_it(_isolated: Path) -> None:
    """omar's checkout from git has no `.inhouse/models/`: the refusal names the command that
    writes the test model there, not only "put it there"."""
    _demo_with_blessed(
        _isolated,
        '{ name = "inhouse-test-model", path = ".inhouse/models/inhouse-test-model.gguf" }',
    )
    out = " ".join(cli("runtime", "serve", "inhouse-test-model", code=2).split())
    assert "there is no file there (it is kept out of git)" in out, out
    assert "`inhouse models make-test-model` writes it there" in out, out


def test_a_blessed_model_with_a_source_is_fetched_by_baseline_install(_isolated: Path) -> None:
    _demo_with_blessed(
        _isolated,
        '{ name = "qwen", path = "models/qwen.gguf", source = "hf://org/Qwen-GGUF/q.gguf" }',
    )
    out = " ".join(cli("runtime", "serve", "qwen", code=2).split())
    assert "`inhouse baseline install` fetches it from hf://org/Qwen-GGUF/q.gguf" in out, out


def test_a_blessed_model_with_no_source_is_copied(_isolated: Path) -> None:
    _demo_with_blessed(_isolated, '{ name = "qwen", path = "models/qwen.gguf" }')
    out = " ".join(cli("runtime", "serve", "qwen", code=2).split())
    assert "copy it there from the machine that locked the baseline" in out, out


def test_verify_names_the_blessed_model_to_serve() -> None:
    """`baseline verify` on a machine whose embedded runtime is not running: its fix names the
    blessed model as `runtime serve` takes it, not a placeholder file."""
    from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime
    from inhouse.baseline.verify import _runtime_fix
    from inhouse.runtimes.config import RuntimeConfig

    lock = Lock(
        owner="lena",
        runtime=LockedRuntime(name="local", family="embedded"),
        models=[LockedModel(name="inhouse-test-model", digest="sha256:" + "9" * 64)],
        python="3.11.7",
        inhouse="0.1.0",
    )
    fix = _runtime_fix(RuntimeConfig(name="local", family="embedded"), lock)
    assert "`inhouse runtime serve inhouse-test-model`" in fix, fix


def test_pilot_guide_without_a_gateway_table_says_its_url_is_the_default(
    _isolated: Path,
) -> None:
    """The gateway served with `--port 8088`, no `[gateway]` table: the guide cannot know the
    port, and says where its URL came from; given --base-url, it says nothing."""
    ok("init", "Acme", "--lead", "lena", "--demo")
    (_isolated / "enablement").mkdir()
    (_isolated / "enablement" / "legal.yaml").write_text(
        "title: Legal\nrole: legal\nsteps:\n  - {id: first, type: first-answered-request}\n",
        encoding="utf-8",
    )
    said = cli("pilot", "guide", "legal")
    assert "http://127.0.0.1:8400/v1" in said
    assert "inhouse.toml has no [gateway] table" in " ".join(said.split()), said
    given = cli("pilot", "guide", "legal", "--base-url", "http://gw.acme:8088/v1")
    assert "http://gw.acme:8088/v1" in given and "no [gateway] table" not in given, given


def test_rollup_says_one_request_in_the_singular(_isolated: Path) -> None:
    from inhouse.program import Program
    from tests.gateway.test_rollup import _use

    ok("init", "Acme", "--lead", "lena")
    program = Program.open(_isolated)
    _use(program, "lena", "2026-11-01T10:00:00+00:00")
    program.close()
    out = ok("gateway", "rollup")
    assert "usage.daily 2026-11-01 lena: 1 request, 10 tokens in, 5 out" in out, out


def test_the_gateway_s_host_is_named_as_whoami_names_a_machine(_isolated: Path) -> None:
    """`pilot adoption --record` on the lead's laptop is refused: run it on the gateway's host
    (machine 4197…~e159…). Nothing told her which of her machines that was: `inhouse whoami`
    there now names it, and the refusal says so."""
    import json

    ok("init", "Acme", "--lead", "lena", "--demo")
    host = {"INHOUSE_MACHINE_ID": "gw-host"}
    ok("gateway", "rollup", env=host)  # the lead's first rollup there enrols the gateway's key
    (_isolated / ".inhouse" / "keys" / "gateway.key").rename(_isolated / "gateway.key.moved")
    refused = " ".join(
        cli("gateway", "rollup", env={"INHOUSE_MACHINE_ID": "lena-laptop"}, code=3).split()
    )
    # the suite enrols a service on a computer of its own (tests/conftest.py): that one's shell
    there_env = {**host, OTHER_COMPUTER: "gateway-host"}
    there = json.loads(ok("whoami", "--json", env=there_env))["machine"]
    assert f"Run this on the gateway's host (machine {there}, as `inhouse whoami` there" in (
        refused
    ), refused
    assert f"this machine: {there}" in ok("whoami", env=there_env)
    here = json.loads(ok("whoami", "--json", env={"INHOUSE_MACHINE_ID": "lena-laptop"}))
    assert here["machine"] != there


def test_a_runtime_not_started_is_served_by_the_blessed_model_s_name(_isolated: Path) -> None:
    """`baseline lock` (and `prove`, `workflow test`) before `runtime serve`: the error said
    to serve `MODEL.gguf`; it says a blessed model's name serves too, as the README does."""
    _demo_with_blessed(
        _isolated,
        '{ name = "inhouse-test-model", path = ".inhouse/models/inhouse-test-model.gguf" }',
    )
    ok("models", "make-test-model")
    out = " ".join(cli("baseline", "lock", code=1).split())
    assert "the embedded runtime is not running" in out, out
    assert "`inhouse runtime serve MODEL` (a GGUF file, or a blessed model by its name" in out, out


def test_a_gateway_refused_for_want_of_a_lock_makes_no_key(_isolated: Path) -> None:
    """lena's first `gateway serve`, before any lock, was refused and left
    `.inhouse/keys/gateway.key` on her laptop: refusals there named it "another key" since. A
    gateway with nothing to route makes none."""
    _demo_with_blessed(
        _isolated,
        '{ name = "inhouse-test-model", path = ".inhouse/models/inhouse-test-model.gguf" }',
    )
    out = " ".join(cli("gateway", "serve", code=2).split())
    assert "no inhouse.lock" in out, out
    assert not (_isolated / ".inhouse" / "keys" / "gateway.key").exists()


def test_a_workflow_written_and_validated_is_not_called_undefined(_isolated: Path) -> None:
    """omar wrote workflows/summary.yaml and validated it; play 4's trigger still said "no
    workflow defined: write workflows/NAME.yaml", the file he had written. It is defined once
    its first `workflow test` publishes it, and the reason says that command."""
    import json

    from tests.workflows.conftest import SUMMARY

    ok("init", "Acme", "--lead", "lena", "--demo")
    (_isolated / "workflows").mkdir()
    (_isolated / "workflows" / "summary.yaml").write_text(SUMMARY, encoding="utf-8")
    ok("workflow", "validate", "summary")
    status = json.loads(ok("status", "--json"))
    said = json.dumps(status)
    assert "no workflow defined" not in said
    assert "run `inhouse workflow test NAME` (its first run publishes it)" in said
