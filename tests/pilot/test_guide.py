"""The guide: a one-page, role-specific guide from what the program holds — the gateway's base
URL, exact client snippets (they parse, and point at that URL), the blessed models and data
rules, the track's workflows and library prompts, the person's key and progress; the HTML is
self-contained and escapes what people typed."""

from __future__ import annotations

import ast
import json
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from inhouse.baseline.lock import COLLECTOR, LockedModel, lock_fact_payload, read_lock, write_lock
from inhouse.cli.app import app
from inhouse.errors import InvalidInput, UnknownPerson
from inhouse.pilot.guide import build_guide, render_guide
from inhouse.pilot.roster import add_member
from inhouse.program import Provenance
from tests.conftest import Clock
from tests.gateway.harness import LEAD
from tests.people import vouch_for_gateway_host
from tests.pilot.world import World, make_world

runner = CliRunner()
URL = "http://127.0.0.1:8400/v1"  # [gateway]'s default host and port


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> World:
    world = make_world(_isolated, clock)
    world.waive()
    world.enrol("bob", "support")
    world.enrol("carol", "support")
    world.lead.as_service("gateway")  # its host vouched for by carol, who never led
    vouch_for_gateway_host(world.people["carol"])
    add_member(world.lead, "bob", track="support")
    world.share_prompt("carol", "triage")
    return world


def test_the_guide_carries_the_url_snippets_workflows_prompts_and_the_persons_state(
    world: World,
) -> None:
    text = render_guide(build_guide(world.lead, "support", person="bob"))
    assert text.startswith("# Support engineers: getting started with Acme's local models")
    assert "For **bob** (support), on the support track" in text
    assert f"- **Base URL:** `{URL}`" in text
    assert "no gateway key yet: ask a rollout lead to grant one (`inhouse keys issue bob`)" in text
    # the three snippets, each pointing at the base URL, the blessed model and the prompt
    assert f'client = OpenAI(base_url="{URL}", api_key=os.environ["INHOUSE_GATEWAY_KEY"])' in text
    assert 'extra_headers={"X-Inhouse-Prompt": "triage@1"}' in text
    assert f"curl {URL}/chat/completions" in text
    assert f"    apiBase: {URL}\n" in text and "    provider: openai\n" in text
    # the baseline: the blessed model, the data rules in plain words
    assert "| tiny | `sha256:" in text
    assert "- For every model, unless its own rules below name the class: e-mail addresses are " \
           "redacted." in text  # fmt: skip
    # the track's workflow and prompt
    assert "**ticket-summary**: Summarise a support ticket for the weekly report (daily, " in text
    assert "`inhouse workflow test ticket-summary`" in text
    assert "`inhouse workflow run ticket-summary --var ticket=…`" in text
    assert "- **triage** — use `triage@1` (by carol): Triage a ticket into a queue; variables: " \
           "ticket (string)." in text  # fmt: skip
    # bob's steps, as measured now
    assert "- [ ] **Send your first request through the gateway with your own key**" in text

    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.sign()
    text = render_guide(build_guide(world.lead, "support", person="bob"))
    assert "your gateway key k_" in text and "put it in INHOUSE_GATEWAY_KEY" in text
    assert world.keys["bob"] not in text  # never the key itself
    assert "- [x] **Send your first request through the gateway with your own key** — first " \
           "answered request through the gateway on 2026-11-03" in text  # fmt: skip


def test_the_snippets_are_exact(world: World) -> None:
    snippets = build_guide(world.lead, "support")["snippets"]
    tree = ast.parse(snippets["python"])  # valid Python
    assert any(isinstance(node, ast.Call) for node in ast.walk(tree))
    words = shlex.split(snippets["curl"].replace("\\\n", " "))
    assert words[:2] == ["curl", f"{URL}/chat/completions"]
    body = json.loads(words[words.index("-d") + 1])
    assert body["model"] == "tiny" and body["messages"][0]["role"] == "user"
    assert "X-Inhouse-Prompt: triage@1" in words
    config = yaml.safe_load(snippets["continue"])
    assert config["schema"] == "v1"
    (model,) = config["models"]
    assert (model["provider"], model["model"], model["apiBase"]) == ("openai", "tiny", URL)
    assert model["apiKey"] == "${{ secrets.INHOUSE_GATEWAY_KEY }}"


def test_the_base_url_follows_the_gateway_settings(world: World, _isolated: Path) -> None:
    config = _isolated / "inhouse.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[gateway]\n", '[gateway]\nhost = "10.1.2.3"\nport = 9400\n'
    )
    config.write_text(text, encoding="utf-8")
    guide = build_guide(world.lead, "legal")
    assert guide["base_url"] == "http://10.1.2.3:9400/v1"
    assert 'base_url="http://10.1.2.3:9400/v1"' in guide["snippets"]["python"]
    assert (
        build_guide(world.lead, "legal", base_url="https://ai.acme.example/v1")["base_url"]
        == "https://ai.acme.example/v1"
    )


def test_the_html_is_self_contained_and_escapes_what_people_typed(
    world: World, _isolated: Path
) -> None:
    track = _isolated / "enablement" / "legal.yaml"
    track.write_text(track.read_text().replace("title: Legal", 'title: "Legal <b>team</b>"'))
    page = render_guide(build_guide(world.lead, "legal", person="bob"), "html")
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "Legal &lt;b&gt;team&lt;/b&gt;" in page and "<b>team</b>" not in page
    assert f"<code>{URL}</code>" in page
    assert "os.environ[&#34;INHOUSE_GATEWAY_KEY&#34;]" in page  # the snippet, escaped


def test_the_guide_refuses_unknown_tracks_people_and_formats(world: World) -> None:
    with pytest.raises(InvalidInput, match="no track 'sales'"):
        build_guide(world.lead, "sales")
    with pytest.raises(UnknownPerson, match="'zoe' is not on this program's roster"):
        build_guide(world.lead, "support", person="zoe")
    with pytest.raises(InvalidInput, match="md or html"):
        render_guide(build_guide(world.lead, "support"), "pdf")  # type: ignore[arg-type]


def test_the_cli_writes_the_guide_inside_the_program(world: World, _isolated: Path) -> None:
    env = world.enrol_cli("dora", "legal")
    result = runner.invoke(
        app, ["pilot", "guide", "support", "--person", "bob", "--format", "html",
              "--out", "guides/bob.html"], env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    page = (_isolated / "guides" / "bob.html").read_text(encoding="utf-8")
    assert "Support engineers" in page and URL in page
    stdout = runner.invoke(app, ["pilot", "guide", "legal"], env=env).stdout
    assert stdout.startswith("# Legal: getting started")
    outside = runner.invoke(app, ["pilot", "guide", "legal", "--out", "/tmp/x.md"], env=env)
    assert outside.exit_code == 2 and "outside the program folder" in outside.stderr


def test_the_guide_names_the_recorded_lock_not_a_rewritten_inhouse_lock(
    world: World, _isolated: Path
) -> None:
    """The guide tells pilot users which weights to use: those of the lock the program's log
    records (a second person verifies it), not a file its holder rewrote to bless other weights
    (the Python API's ``write_lock``, hashed so it reads as a lock)."""
    recorded = read_lock(_isolated)  # the world's lock, recorded now as `baseline lock` does
    assert recorded is not None
    world.lead.record_fact(LEAD, "baseline.lock", lock_fact_payload(recorded),
                           provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    spare = LockedModel(name="spare", digest="sha256:" + "1" * 64)
    forged = recorded.model_copy(update={"models": [*recorded.models, spare]})
    write_lock(_isolated, forged.model_copy(update={"lock_hash": forged.computed_hash()}))
    guide = build_guide(world.lead, "support")
    assert guide["lock"]["hash"] == recorded.lock_hash
    assert [m["name"] for m in guide["models"]] == ["tiny"]
    assert "spare" not in render_guide(guide)


def test_a_guide_out_that_cannot_be_written_is_named(world: World, _isolated: Path) -> None:
    """`pilot guide legal --out guides` (a folder) or --out through a file was an
    IsADirectoryError / FileExistsError traceback."""
    env = world.enrol_cli("dora", "legal")
    (_isolated / "guides").mkdir()
    (_isolated / "notes.md").write_text("my notes\n")
    for out, said in (("guides", "is a folder"), ("notes.md/x.md", "is a file, not a folder")):
        result = runner.invoke(app, ["pilot", "guide", "legal", "--out", out], env=env)
        # the message names the whole path, so it wraps where a long temporary folder (an
        # xdist worker's) pushes it: read it with the line breaks as spaces
        assert result.exit_code == 2 and said in " ".join(result.stderr.split()), result.stderr
        assert "Traceback" not in result.output
    assert (_isolated / "notes.md").read_text() == "my notes\n"
