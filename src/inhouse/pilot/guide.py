"""``pilot guide``: a one-page, role-specific guide for a track, in Markdown or self-contained
HTML (no CDN, no script), written from what the program already holds: the baseline (the lock's
blessed models, the data rules in plain words), the workflows and library prompts the track
uses, the gateway's base URL (``[gateway]``), and, for a named person, their gateway key's state
and their progress on the track. The client snippets (openai Python, curl, and Continue's
``config.yaml`` for VS Code and JetBrains) are exact: built here, once, for both formats.

The templates render in Jinja2's sandbox; the HTML one autoescapes.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from inhouse.errors import InhouseError, InvalidInput
from inhouse.outfiles import check_target, write_text
from inhouse.pilot.enablement import progress
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.roster import enrolled_person
from inhouse.pilot.tracks import Track, load_track

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "GuideFormat",
    "build_guide",
    "gateway_base_url",
    "gateway_url_for_key",
    "render_guide",
    "write_guide",
]

GuideFormat = Literal["md", "html"]
KEY_VARIABLE = "INHOUSE_GATEWAY_KEY"  # where the snippets expect the person's gateway key


def gateway_base_url(folder: Path, config: dict[str, Any]) -> str:
    """The OpenAI base URL of the program's gateway, from ``[gateway]`` (a gateway listening
    on every interface is reached by this machine's name)."""
    from inhouse.gateway.config import read_gateway_settings

    settings = read_gateway_settings(folder, config)
    host = settings.host
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/v1"


def gateway_url_for_key(folder: Path, config: dict[str, Any]) -> str:
    """:func:`gateway_base_url`, for a command that sends a person's own gateway key there
    (``workflow run --gateway``), only where ``[gateway]`` names this machine: a loopback or
    unspecified address, or ``localhost``, read as written (a name is not resolved: its owner
    may point it anywhere). ``inhouse.toml`` is whoever can push to the program's, and a table
    naming her machine collected every key sent to it, to use the gateway as each of them
    (:func:`inhouse.runtimes.config.refuse_gateway_key` keeps the same word for runtimes).
    Another address is a :class:`~inhouse.errors.ConfigError` naming it: the person gives the
    gateway's themselves (``--gateway-url``, as the pilot guide a lead handed them names it)."""
    from inhouse.errors import ConfigError
    from inhouse.gateway.config import names_this_machine, read_gateway_settings

    here = names_this_machine(read_gateway_settings(folder, config).host)
    url = gateway_base_url(folder, config)
    if not here:
        raise ConfigError(
            f"inhouse.toml's [gateway] names {url}, another machine: inhouse sends your gateway "
            "key only to a gateway on this machine, or to the address you give (whoever can "
            "push inhouse.toml could name a machine of theirs and use the gateway as you). "
            "Give the gateway's address with --gateway-url, as the pilot guide a rollout lead "
            "gave you names it"
        )
    return url


@dataclass(frozen=True)
class _Snippets:
    python: str
    curl: str
    continue_yaml: str


def _snippets(base_url: str, model: str, prompt_id: str | None) -> _Snippets:
    header = f'\n    extra_headers={{"X-Inhouse-Prompt": "{prompt_id}"}},' if prompt_id else ""
    python = (
        "import os\n"
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{base_url}", api_key=os.environ["{KEY_VARIABLE}"])\n'
        "answer = client.chat.completions.create(\n"
        f'    model="{model}",\n'
        '    messages=[{"role": "user", "content": "Say hello in one sentence."}],'
        f"{header}\n"
        ")\n"
        "print(answer.choices[0].message.content)\n"
    )
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "Say hello in one sentence."}]}
    )
    curl = (
        f"curl {base_url}/chat/completions \\\n"
        f'  -H "Authorization: Bearer ${KEY_VARIABLE}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        + (f'  -H "X-Inhouse-Prompt: {prompt_id}" \\\n' if prompt_id else "")
        + f"  -d '{body}'\n"
    )
    continue_yaml = (
        "name: inhouse\n"
        "version: 0.0.1\n"
        "schema: v1\n"
        "models:\n"
        f"  - name: {model} (inhouse)\n"
        "    provider: openai\n"
        f"    model: {model}\n"
        f"    apiBase: {base_url}\n"
        f"    apiKey: ${{{{ secrets.{KEY_VARIABLE} }}}}\n"
        "    roles: [chat, edit, apply]\n"
    )
    return _Snippets(python, curl, continue_yaml)


def _workflows(folder: Path, track: Track) -> list[dict[str, Any]]:
    from inhouse.workflows import load_workflow

    found: list[dict[str, Any]] = []
    for name in track.workflows:
        try:
            flow = load_workflow(folder, name)
        except InhouseError as err:
            found.append({"name": name, "error": str(err)})
            continue
        spec = flow.spec
        variables = " ".join(f"--var {v}=…" for v in spec.variables)
        found.append(
            {
                "name": name,
                "description": spec.description,
                "frequency": spec.frequency,
                "model": spec.model,
                "run": f"inhouse workflow run {name} {variables}".strip(),
                "test": f"inhouse workflow test {name}",
                "error": None,
            }
        )
    return found


def _prompts(evidence: PilotEvidence, track: Track) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in track.prompts:
        current = evidence.current(name)
        if current is None:
            found.append({"name": name, "id": None})
            continue
        found.append(
            {
                "name": name,
                "id": current.id,
                "version": current.version,
                "author": current.byline,
                "description": current.description,
                "variables": [
                    f"{var} ({spec.type})" for var, spec in current.body.variables.items()
                ],
                # the body that has the gateway render it server-side (no messages of your own)
                "render": json.dumps(
                    {
                        "prompt": {
                            "name": name,
                            "version": current.version,
                            "variables": dict.fromkeys(current.body.variables, "…"),
                        }
                    },
                    ensure_ascii=False,
                ),
            }
        )
    return found


def _key_state(program: Program, person: str) -> str:
    from inhouse.gateway.keys import list_keys, pending_grants

    mine = [
        k
        for k in list_keys(program.store, include_revoked=False)
        if k.person == person and k.agent is None
    ]
    if mine:
        key = mine[-1]
        return (
            f"your gateway key {key.id} (it starts {key.prefix}…), fetched "
            f"{key.created[:10]}: put it in {KEY_VARIABLE}"
        )
    if pending_grants(program, person):
        return (
            "a gateway key is granted to you: fetch it once with `inhouse keys fetch` (only you "
            f"see it) and put it in {KEY_VARIABLE}"
        )
    return f"no gateway key yet: ask a rollout lead to grant one (`inhouse keys issue {person}`)"


def build_guide(
    program: Program, track_name: str, *, person: str | None = None, base_url: str | None = None
) -> dict[str, Any]:
    """The guide's content for ``track_name`` (and ``person``, when named), as data."""
    from inhouse.baseline.docs import rules_in_plain_words
    from inhouse.baseline.lock import program_lock
    from inhouse.program.config import read_config

    folder = program.folder
    track = load_track(folder, track_name)
    config = read_config(folder)
    evidence = PilotEvidence(program)
    # the weights to use are the recorded lock's, which a second person verifies; not a file
    # anyone holding the folder can rewrite (that one only while no lock is recorded yet)
    lock = program_lock(program, evidence.now)  # one moment for the guide: one context
    models = [{"name": m.name, "digest": m.digest} for m in lock.models] if lock else []
    workflows = _workflows(folder, track)
    blessed = [m["name"] for m in models]
    used = [w["model"] for w in workflows if w.get("model") in blessed]
    model = (used or blessed or ["MODEL"])[0]
    prompts = _prompts(evidence, track)
    prompt_id = next((p["id"] for p in prompts if p["id"]), None)
    url = base_url or gateway_base_url(folder, config)
    snippets = _snippets(url, model, prompt_id)
    who: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = [
        {"title": s.title, "how": s.how, "met": None, "detail": ""} for s in track.steps
    ]
    if person is not None:
        found = enrolled_person(program, person)
        who = {"name": found.name, "team": found.team, "key": _key_state(program, found.name)}
        mine = [p for p in progress(program, now=evidence.now) if p.member.person == found.name]
        if mine and mine[0].member.track == track.name:
            steps = [
                {"title": s.title, "how": s.how, "met": s.met, "detail": s.detail}
                for s in mine[0].steps
            ]
    return {
        "program": program.state().name,
        "track": {
            "name": track.name,
            "title": track.title,
            "role": track.role,
            "description": track.description,
        },
        "person": who,
        "base_url": url,
        "key_variable": KEY_VARIABLE,
        "model": model,
        "lock": {"hash": lock.lock_hash, "owner": lock.owner} if lock else None,
        "models": models,
        "rules": rules_in_plain_words(config),
        "workflows": workflows,
        "prompts": prompts,
        "steps": steps,
        "snippets": {
            "python": snippets.python,
            "curl": snippets.curl,
            "continue": snippets.continue_yaml,
        },
    }


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=PackageLoader("inhouse.pilot", "templates"),
        autoescape=select_autoescape(["html.j2"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_guide(data: dict[str, Any], fmt: GuideFormat = "md") -> str:
    """The guide as Markdown or as one self-contained HTML page."""
    if fmt not in ("md", "html"):
        raise InvalidInput(f"a guide is md or html, not {fmt!r}")
    return _environment().get_template(f"guide.{fmt}.j2").render(g=data)


def write_guide(
    program: Program,
    track_name: str,
    *,
    person: str | None = None,
    fmt: GuideFormat = "md",
    out: Path | None = None,
    base_url: str | None = None,
) -> tuple[str, Path | None]:
    """Render the guide; write it to ``out`` when given. Returns the text and the path."""
    if out is not None:
        check_target(out, option="--out")
    text = render_guide(build_guide(program, track_name, person=person, base_url=base_url), fmt)
    if out is not None:
        write_text(out, text, option="--out")
    return text, out
