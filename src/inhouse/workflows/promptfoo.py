"""Import a promptfoo config (``promptfooconfig.yaml``) as a workflow spec.

What converts: the first prompt (text, a chat-format JSON list of messages, or a ``file://``
text/JSON file beside the config) as the system and user templates; ``defaultTest`` and every
test's ``vars``, ``assert``, ``threshold`` and ``description``; variables whose values are lists
expand into one test per combination, as promptfoo does; the first provider's ``temperature``,
``max_tokens``, ``top_p``, ``seed`` and ``stop``. Assertion types map one to one onto
:mod:`inhouse.checks` where a check of that name exists (with ``not-`` negations); a
``python`` assertion that names a file (``file://checks/grade.py:fn``) becomes a dotted path.

What does not is never dropped silently: each unsupported item (``javascript`` and other
assertion types we do not run, inline Python, transforms, extra prompts and providers, file
references) is listed in the result and in a comment at the top of the written spec.

:func:`write_imported` is ``inhouse workflow import-promptfoo``: it picks the defaults (the
lock's first model, the acting person as owner), names the file and refuses to overwrite one.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from inhouse.checks import SUPPORTED_TYPES, parse_check
from inhouse.errors import InvalidInput
from inhouse.workflows.spec import WORKFLOWS_DIR, Workflow, parse_workflow, workflow_path
from inhouse.workflows.template import render, template_names

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["ImportResult", "import_promptfoo", "spec_text", "write_imported"]

#: promptfoo assertion fields we carry over; the rest are listed as unsupported
_CARRIED = {"type", "value", "threshold", "weight", "metric"}
#: promptfoo fields of a model-backed assertion that pick its model: ours is the baseline's
_MODEL_FIELDS = {"provider", "rubricPrompt"}
_PARAMETERS = ("temperature", "max_tokens", "top_p", "seed", "stop")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class ImportResult:
    """The spec (as data and as the text to write) and what could not be carried over."""

    spec: dict[str, Any]
    workflow: Workflow
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text: str = ""
    #: where :func:`write_imported` wrote the spec (None: not written)
    path: Path | None = None


def _slug(text: str, fallback: str) -> str:
    slug = _SLUG.sub("-", text.lower()).strip("-")[:48].strip("-")
    return slug or fallback


class _Importer:
    def __init__(self, config: Mapping[str, Any], base: Path, source: str) -> None:
        self.config = config
        self.base = base
        self.source = source
        self.unsupported: list[str] = []
        self.notes: list[str] = []

    # -- prompts --------------------------------------------------------------------------------

    def _read_file(self, reference: str, where: str) -> str | None:
        relative = reference.removeprefix("file://")
        path = (self.base / relative).resolve()
        if self.base.resolve() not in path.parents:
            self.unsupported.append(f"{where}: {reference} points outside the config's folder")
            return None
        if "*" in relative or not path.is_file():
            self.unsupported.append(f"{where}: {reference} is not a file beside the config")
            return None
        return path.read_text(encoding="utf-8")

    def prompt(self) -> dict[str, str]:
        prompts = self.config.get("prompts")
        if isinstance(prompts, str | dict):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts:
            raise InvalidInput(f"{self.source}: prompts: a promptfoo config needs a prompt")
        for index in range(1, len(prompts)):
            self.unsupported.append(
                f"prompts[{index}]: a workflow has one prompt; only prompts[0] was imported"
            )
        first = prompts[0]
        if isinstance(first, dict):
            extra = sorted(set(first) - {"raw", "id", "label"})
            if extra:
                self.unsupported.append(f"prompts[0]: fields {', '.join(extra)} not imported")
            first = first.get("raw", first.get("id", ""))
        if not isinstance(first, str) or not first.strip():
            raise InvalidInput(f"{self.source}: prompts[0]: expected the prompt's text")
        if first.startswith("file://"):
            text = self._read_file(first, "prompts[0]")
            if text is None:
                raise InvalidInput(f"{self.source}: prompts[0]: cannot read {first}")
            first = text
        return self._messages(first)

    def _messages(self, text: str) -> dict[str, str]:
        try:
            chat = json.loads(text)
        except ValueError:
            return {"user": text}
        if not isinstance(chat, list) or not all(
            isinstance(m, dict) and "role" in m and "content" in m for m in chat
        ):
            return {"user": text}
        system = [str(m["content"]) for m in chat if m["role"] == "system"]
        user = [str(m["content"]) for m in chat if m["role"] == "user"]
        others = [str(m["role"]) for m in chat if m["role"] not in ("system", "user")]
        if others:
            self.unsupported.append(
                f"prompts[0]: chat messages with roles {', '.join(others)} (a workflow prompt is "
                "one system and one user message)"
            )
        if len(user) > 1 or len(system) > 1:
            self.notes.append("prompts[0]: several system/user messages were joined into one each")
        prompt = {"user": "\n\n".join(user)}
        if system:
            prompt["system"] = "\n\n".join(system)
        return prompt

    # -- assertions -----------------------------------------------------------------------------

    def check(self, raw: Any, where: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            self.unsupported.append(f"{where}: not an assertion with a type: {raw!r}")
            return None
        kind: str = raw["type"]
        if kind not in SUPPORTED_TYPES:
            self.unsupported.append(f"{where}: assertion type {kind!r} is not supported")
            return None
        ignored = sorted(set(raw) - _CARRIED - _MODEL_FIELDS)
        if ignored:
            # transform/config change what is checked: running without them would mislead
            self.unsupported.append(
                f"{where}: {kind} with {', '.join(ignored)} (not supported) was not imported"
            )
            return None
        for name in sorted(set(raw) & _MODEL_FIELDS):
            self.notes.append(f"{where}: {name} dropped: the baseline's model judges and embeds")
        check = {key: raw[key] for key in ("type", "value", "threshold", "weight", "metric")
                 if key in raw}  # fmt: skip
        base = kind.removeprefix("not-")
        if base == "python" and not self._python(check, where):
            return None
        lists = ("contains-all", "contains-any", "icontains-all", "icontains-any")
        if base in lists and isinstance(check.get("value"), str):
            check["value"] = [part.strip() for part in check["value"].split(",")]
        if base in ("latency", "cost") and "threshold" not in check and "value" in check:
            check["threshold"] = check.pop("value")
        check["value"] = self._fill(check.get("value"), values, where)
        if check["value"] is None:
            check.pop("value")
        try:
            parse_check(check, where=where)
        except InvalidInput as err:
            self.unsupported.append(f"{where}: {kind} does not convert: {err}")
            return None
        return check

    def _python(self, check: dict[str, Any], where: str) -> bool:
        value = check.get("value")
        if not isinstance(value, str) or not value.startswith("file://"):
            self.unsupported.append(
                f"{where}: python with inline code (inhouse calls a function by dotted path; "
                "move the code into a module and name it)"
            )
            return False
        reference = value.removeprefix("file://")
        file, _, function = reference.partition(":")
        path = PurePosixPath(file)
        if path.suffix != ".py" or path.is_absolute() or ".." in path.parts:
            self.unsupported.append(f"{where}: python file {value} is not a module path")
            return False
        dotted = ".".join(path.with_suffix("").parts)
        check["value"] = f"{dotted}:{function or 'get_assert'}"
        self.notes.append(
            f"{where}: python {value} → {check['value']} (the module must be importable, e.g. "
            "run with PYTHONPATH=.; it is called as fn(output, context))"
        )
        return True

    def _fill(self, value: Any, values: Mapping[str, Any], where: str) -> Any:
        """promptfoo renders ``{{var}}`` in assertion values with the test's vars: do it now."""
        if isinstance(value, str) and "{{" in value:
            try:
                return render(value, values, where=where)
            except InvalidInput as err:
                self.notes.append(f"{where}: value kept as written ({err})")
                return value
        if isinstance(value, list):
            return [self._fill(item, values, where) for item in value]
        return value

    # -- tests ----------------------------------------------------------------------------------

    def _vars(self, raw: Any, where: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.unsupported.append(f"{where}: vars from {raw!r} (only inline vars import)")
            return {}
        for name, value in raw.items():
            if isinstance(value, str) and value.startswith("file://"):
                self.unsupported.append(
                    f"{where}.{name}: {value} is a file reference; imported as literal text"
                )
        return dict(raw)

    def tests(self) -> list[dict[str, Any]]:
        default = self.config.get("defaultTest") or {}
        if isinstance(default, str):
            self.unsupported.append(f"defaultTest: {default} (a file reference) not imported")
            default = {}
        for key in sorted(set(default) - {"vars", "assert", "threshold"}):
            self.unsupported.append(f"defaultTest.{key} not imported")
        shared_vars = self._vars(default.get("vars"), "defaultTest.vars")
        shared_checks = default.get("assert") or []
        tests = self.config.get("tests") or []
        if isinstance(tests, str):
            self.unsupported.append(f"tests: {tests} (tests from a file) not imported")
            tests = []
        for key in ("scenarios", "derivedMetrics", "extensions"):
            if key in self.config:
                self.unsupported.append(f"{key}: not imported")
        converted: list[dict[str, Any]] = []
        for index, test in enumerate(tests):
            converted.extend(self._test(index, test, shared_vars, shared_checks, default))
        return converted

    def _test(
        self,
        index: int,
        test: Any,
        shared_vars: dict[str, Any],
        shared_checks: list[Any],
        default: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            self.unsupported.append(f"{where}: {test!r} (tests from a file) not imported")
            return []
        for key in sorted(set(test) - {"description", "vars", "assert", "threshold"}):
            self.unsupported.append(f"{where}.{key} not imported")
        given = {**shared_vars, **self._vars(test.get("vars"), f"{where}.vars")}
        lists = [name for name, value in given.items() if isinstance(value, list)]
        combos = itertools.product(*(given[name] for name in lists)) if lists else [()]
        name = _slug(str(test.get("description") or ""), f"case-{index + 1}")
        out: list[dict[str, Any]] = []
        for number, combo in enumerate(combos):
            values = {**given, **dict(zip(lists, combo, strict=True))}
            raw = [*shared_checks, *(test.get("assert") or [])]
            labels = [
                *(f"defaultTest.assert[{i}]" for i in range(len(shared_checks))),
                *(f"{where}.assert[{i}]" for i in range(len(raw) - len(shared_checks))),
            ]
            checks = [self.check(r, label, values) for r, label in zip(raw, labels, strict=True)]
            kept = [check for check in checks if check is not None]
            if not kept:
                self.unsupported.append(
                    f"{where}: no assertion it makes could be imported, so the test was not"
                )
                return out
            case: dict[str, Any] = {"name": name if not lists else f"{name}-{number + 1}"}
            if test.get("description"):
                case["description"] = str(test["description"])
            case["vars"] = values
            threshold = test.get("threshold", default.get("threshold"))
            if threshold is not None:
                case["threshold"] = threshold
            case["checks"] = kept
            out.append(case)
        if lists and len(out) > 1:
            self.notes.append(f"{where}: list vars {', '.join(lists)} expanded to {len(out)} tests")
        return out

    # -- providers ------------------------------------------------------------------------------

    def parameters(self) -> dict[str, Any]:
        providers = self.config.get("providers") or []
        if isinstance(providers, str | dict):
            providers = [providers]
        if not providers:
            return {}
        named = [p if isinstance(p, str) else str(p.get("id", p)) for p in providers]
        self.notes.append(
            f"providers ({', '.join(named)}) replaced by the baseline's blessed model"
        )
        first = providers[0]
        config = first.get("config", {}) if isinstance(first, dict) else {}
        return {key: config[key] for key in _PARAMETERS if key in config}


def _variables(prompt: Mapping[str, str], tests: list[dict[str, Any]]) -> dict[str, Any]:
    """Declared variables: every name the prompt uses, typed from the tests' values."""
    used: set[str] = set()
    for field_name, source in prompt.items():
        used |= template_names(source, where=f"prompts[0] ({field_name})")
    given: dict[str, Any] = {}
    for test in tests:
        for name, value in test["vars"].items():
            given.setdefault(name, value)
    kinds = {bool: "boolean", int: "integer", float: "number", list: "list", dict: "object"}
    return {name: {"type": kinds.get(type(given.get(name)), "string")} for name in sorted(used)}


def spec_text(result: ImportResult, source: str) -> str:
    """The spec as YAML, with what was not imported in a comment at the top."""
    lines = [f"# Imported from {source} by `inhouse workflow import-promptfoo`."]
    if result.unsupported:
        lines.append("# NOT IMPORTED (unsupported) — review before relying on this workflow:")
        lines.extend(f"#   - {item}" for item in result.unsupported)
    if result.notes:
        lines.append("# Notes:")
        lines.extend(f"#   - {item}" for item in result.notes)
    body = yaml.safe_dump(result.spec, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body


def import_promptfoo(
    config_path: Path,
    *,
    name: str | None = None,
    owner: str,
    frequency: str,
    model: str,
) -> ImportResult:
    """Convert the promptfoo config at ``config_path`` into a workflow spec (validated)."""
    source = config_path.name
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"no promptfoo config at {config_path}") from None
    except yaml.YAMLError as err:
        raise InvalidInput(f"{source}: not valid YAML: {err}") from None
    if not isinstance(config, dict):
        raise InvalidInput(f"{source}: a promptfoo config is a YAML mapping")
    importer = _Importer(config, config_path.parent, source)
    prompt = importer.prompt()
    parameters = importer.parameters()
    tests = importer.tests()
    description = str(config.get("description") or "")
    chosen = name or _slug(description, "imported")
    spec: dict[str, Any] = {
        "name": chosen,
        "description": description or f"imported from {source}",
        "owner": owner,
        "frequency": frequency,
        "model": model,
    }
    if parameters:
        spec["parameters"] = parameters
    spec["variables"] = _variables(prompt, tests)
    spec["prompt"] = prompt
    spec["tests"] = tests
    text = yaml.safe_dump(spec, sort_keys=False)
    workflow = parse_workflow(text, where=f"{chosen}.yaml (imported from {source})")
    # a list var expands one test into several: say each thing once
    unsupported, notes = (
        list(dict.fromkeys(importer.unsupported)),
        list(dict.fromkeys(importer.notes)),
    )
    result = ImportResult(spec, workflow, unsupported, notes)
    result.text = spec_text(result, source)
    return result


def write_imported(
    program: Program,
    actor: str | None,
    config_path: Path,
    *,
    out: Path | None = None,
    name: str | None = None,
    owner: str | None = None,
    frequency: str = "unspecified",
    model: str | None = None,
    force: bool = False,
) -> ImportResult:
    """``inhouse workflow import-promptfoo``: convert the config and write the spec to ``out``
    (default ``workflows/NAME.yaml``). The model defaults to the lock's first blessed model, the
    owner to the acting person, the name to ``out``'s stem; an existing file is overwritten only
    with ``force``, and a spec in ``workflows/`` must be named for its workflow."""
    from inhouse.baseline import read_lock

    folder = program.folder
    if model is None:
        lock = read_lock(folder)
        if lock is None:
            raise InvalidInput("no baseline lock to take a model from: give --model NAME")
        model = lock.models[0].name
    result = import_promptfoo(
        config_path,
        name=out.stem if out is not None and name is None else name,
        owner=owner or program.actor(actor).name,
        frequency=frequency,
        model=model,
    )
    target = out if out is not None else workflow_path(folder, result.workflow.name)
    if target.exists() and not force:
        raise InvalidInput(f"{target} exists: pass --force to overwrite it")
    if target.parent == folder / WORKFLOWS_DIR and target.stem != result.workflow.name:
        raise InvalidInput(
            f"{target.name}: a spec in {WORKFLOWS_DIR}/ must be named NAME.yaml for its name "
            f"{result.workflow.name!r}; use --name {target.stem}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(result.text, encoding="utf-8")
    result.path = target
    return result
