"""promptfoo's shapes, read the way promptfoo reads them: its YAML (strings stay strings), its
file references and globs, its test files (CSV with ``__expected``, ``__expectedN``,
``__description``, ``__metadata:*``; JSONL; JSON; YAML) and its test entries (``vars``,
``assert``, ``options``, ``threshold``, ``metadata``), converted into workflow cases.

The importer (:mod:`inhouse.workflows.promptfoo`) and the workflow spec's ``tests: file://…``
(:mod:`inhouse.workflows.spec`) share this, so a test file means the same thing to both. Nothing
is dropped without a word: each conversion returns the problems it met, and the caller either
lists them (the importer) or refuses the spec with them (a workflow).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from inhouse.checks import SUPPORTED_TYPES, check_type, parse_check
from inhouse.errors import InvalidInput
from inhouse.jsonfiles import loads, yaml_with
from inhouse.workflows.template import render

__all__ = [
    "TEST_FILE_SUFFIXES",
    "Converted",
    "Defaults",
    "Files",
    "assertion_from_text",
    "convert_tests",
    "is_reference",
    "load_yaml_as_promptfoo",
    "read_test_file",
    "read_vars",
]

#: promptfoo assertion fields carried over as they are
_CARRIED = ("type", "value", "threshold", "weight", "metric", "transform", "rubric_prompt")
#: promptfoo fields of a model-backed assertion that pick its model: ours is the baseline's
_MODEL_FIELDS = {"provider"}
_LISTS = ("contains-all", "contains-any", "icontains-all", "icontains-any")
_GLOB = re.compile(r"[*?\[]")
TEST_FILE_SUFFIXES = (".csv", ".jsonl", ".json", ".yaml", ".yml")
_SLUG = re.compile(r"[^a-z0-9]+")


class _PromptfooYaml(yaml.SafeLoader):
    """YAML as promptfoo reads it (js-yaml, the 1.2 core schema): only ``true``/``false`` are
    booleans (``body: Yes`` is the text "Yes"), and a date stays text."""


_PromptfooYaml.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}  # fmt: skip
_PromptfooYaml.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml_as_promptfoo(text: str, *, where: str) -> Any:
    """YAML ``text`` the way promptfoo reads it; an error names ``where`` and the line."""
    return yaml_with(_PromptfooYaml, text, where=where)


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("file://")


def _slug(text: str, fallback: str) -> str:
    slug = _SLUG.sub("-", text.lower()).strip("-")[:48].strip("-")
    return slug or fallback


@dataclass
class Files:
    """Where references resolve (``base``: the folder of the file that names them) and the
    folder they must stay inside (``root``); every file read is hashed into ``read``, by its
    path relative to ``root``."""

    base: Path
    root: Path
    read: dict[str, str] = field(default_factory=dict)

    def at(self, base: Path) -> Files:
        """The same root and record, resolving from another folder."""
        child = Files(base, self.root)
        child.read = self.read
        return child

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def resolve(self, reference: str, where: str) -> list[Path]:
        """The files ``reference`` (``file://x``, a bare path, a glob) names, sorted; an
        :class:`InvalidInput` when it points outside the root or names nothing."""
        relative = reference.removeprefix("file://")
        relative = relative.split(":", 1)[0] if re.search(r"\.(py|js|cjs|mjs|ts):", relative) \
            else relative  # fmt: skip
        root = self.root.resolve()
        if _GLOB.search(relative):
            pattern = str(self.base / relative)
            found = sorted(Path(p).resolve() for p in glob.glob(pattern, recursive=True))
            found = [p for p in found if p.is_file()]
            outside = [p for p in found if root not in p.parents]
            if outside:
                raise InvalidInput(f"{where}: {reference} reaches outside {root}")
            if not found:
                raise InvalidInput(f"{where}: {reference} matches no file")
            return found
        path = (self.base / relative).resolve()
        if root not in path.parents:
            raise InvalidInput(f"{where}: {reference} points outside the folder {root}")
        if not path.is_file():
            raise InvalidInput(f"{where}: {reference}: no such file")
        return [path]

    def text(self, path: Path, where: str) -> str:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise InvalidInput(f"{where}: cannot read {path.name}: {err.strerror}") from None
        self.read[self.relative(path)] = "sha256:" + hashlib.sha256(data).hexdigest()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(f"{where}: {path.name} is not UTF-8 text") from None

    def hashes(self) -> dict[str, str]:
        return dict(sorted(self.read.items()))


# -- test files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One test entry as promptfoo writes it, and where it came from (``tests.csv row 3``)."""

    where: str
    data: dict[str, Any]
    #: the folder its own references resolve from
    base: Path


def read_test_file(files: Files, reference: str, where: str) -> list[Row]:
    """The test entries of every file ``reference`` names (CSV, JSONL, JSON, YAML)."""
    rows: list[Row] = []
    for path in files.resolve(reference, where):
        shown = files.relative(path)
        if path.suffix.lower() not in TEST_FILE_SUFFIXES:
            raise InvalidInput(
                f"{where}: {shown}: tests are read from {', '.join(TEST_FILE_SUFFIXES)} files"
            )
        text = files.text(path, where)
        # promptfoo reads a row's own file references from the config's folder, not the file's
        rows.extend(_rows(path, shown, text, files.base))
    return rows


def _rows(path: Path, shown: str, text: str, base: Path) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for number, record in enumerate(reader, start=2):  # line 1 is the header
            yield Row(f"{shown} row {number}", _csv_test(record, f"{shown} row {number}"), base)
        return
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = loads(line)
            except ValueError as err:
                raise InvalidInput(f"{shown}:{number}: not JSON ({err})") from None
            yield Row(f"{shown} line {number}", _entry(value, f"{shown}:{number}"), base)
        return
    if suffix == ".json":
        try:
            data = loads(text)
        except ValueError as err:
            raise InvalidInput(f"{shown}: not JSON ({err})") from None
    else:
        data = load_yaml_as_promptfoo(text, where=shown)
    entries = data if isinstance(data, list) else [data]
    for index, value in enumerate(entries):
        yield Row(f"{shown}[{index}]", _entry(value, f"{shown}[{index}]"), base)


def _entry(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: a test is a mapping (vars, assert, …), got {value!r:.60}")
    return value


def _csv_test(record: Mapping[str, str | None], where: str) -> dict[str, Any]:
    """A CSV row as a test: plain columns are vars; ``__expected``/``__expectedN`` are
    assertions; ``__description``, ``__metadata:KEY`` (``KEY[]``: a list, ``\\,`` a comma
    inside an item), ``__threshold`` and ``__config:__expectedN:KEY`` (a field of that
    assertion, ``threshold`` say) as promptfoo reads them. An empty cell gives nothing."""
    test: dict[str, Any] = {"vars": {}}
    asserts: list[Any] = []
    by_column: dict[str, dict[str, Any]] = {}
    configs: list[tuple[str, str, str]] = []
    metadata: dict[str, Any] = {}
    for raw_key, raw_value in record.items():
        if raw_key is None:
            raise InvalidInput(f"{where}: more values than the header has columns")
        key, value = raw_key.strip(), (raw_value or "")
        if key.startswith("__expected"):
            if value.strip():
                asserts.append(assertion_from_text(value))
                by_column[key] = asserts[-1]
        elif key == "__description":
            test["description"] = value
        elif key.startswith("__metadata"):
            name = key.removeprefix("__metadata").lstrip(":")
            if name.endswith("[]"):
                metadata[name[:-2]] = _csv_list(value)
            elif name:
                metadata[name] = value
        elif key == "__threshold":
            if value.strip():
                test["threshold"] = _csv_number(value, f"{where}: __threshold")
        elif key.startswith("__config:"):
            target, _, field_name = key.removeprefix("__config:").partition(":")
            if not target.startswith("__expected") or not field_name or ":" in field_name:
                test.setdefault("__unknown", []).append(key)
            elif value.strip():
                configs.append((target, field_name, value))
        elif key.startswith("__"):
            test.setdefault("__unknown", []).append(key)
        else:
            test["vars"][key] = value
    for target, field_name, value in configs:
        # promptfoo's __expected and __expected1 are the same first assertion
        assertion = by_column.get(target) or (
            by_column.get("__expected1") if target == "__expected" else
            by_column.get("__expected") if target == "__expected1" else None)  # fmt: skip
        if assertion is None:
            test.setdefault("__unconfigured", []).append(f"__config:{target}:{field_name}")
            continue
        assertion[field_name] = (
            _csv_number(value, f"{where}: __config:{target}:{field_name}")
            if field_name in ("threshold", "weight")
            else value
        )
    if asserts:
        test["assert"] = asserts
    if metadata:
        test["metadata"] = metadata
    return test


def _csv_number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{where} {text!r} is not a number") from None


def _csv_list(text: str) -> list[str]:
    """promptfoo's ``__metadata:KEY[]`` cell: items split by commas, ``\\,`` a comma kept."""
    parts = re.split(r"(?<!\\),", text)
    return [part.replace("\\,", ",").strip() for part in parts if part.strip()]


_PREFIXED = re.compile(r"^(not-)?([a-z][a-z0-9-]*)(?:\(([0-9.]+)\))?(?::([\s\S]*))?$")
_SCRIPT_PREFIXES = {
    "javascript:": "javascript",
    "fn:": "javascript",
    "eval:": "javascript",
    "python:": "python",
    "grade:": "llm-rubric",
    "llm-rubric:": "llm-rubric",
}


def assertion_from_text(text: str) -> dict[str, Any]:
    """A CSV ``__expected`` cell as an assertion, as promptfoo reads it: ``type:value``,
    ``type(threshold):value``, ``not-type:…``, script prefixes (``fn:``, ``javascript:``,
    ``python:``, ``grade:``), and anything else means the output equals the text."""
    stripped = text.strip()
    for prefix, kind in _SCRIPT_PREFIXES.items():
        if stripped.startswith(prefix):
            return {"type": kind, "value": stripped[len(prefix) :].strip()}
    match = _PREFIXED.match(stripped)
    if match and f"{match.group(1) or ''}{match.group(2)}" in _KNOWN_PREFIX_TYPES:
        negate, kind, threshold, value = match.groups()
        assertion: dict[str, Any] = {"type": f"{negate or ''}{kind}"}
        if value is not None and value.strip():
            value = value.strip()
            assertion["value"] = (
                [part.strip() for part in value.split(",")] if kind in _LISTS else value
            )
        if threshold:
            assertion["threshold"] = float(threshold)
        return assertion
    return {"type": "equals", "value": text}


#: the types a ``type:value`` cell may name: ours and promptfoo's (so an unsupported one is
#: listed by name rather than read as text to equal)
_KNOWN_PREFIX_TYPES = set(SUPPORTED_TYPES) | {
    f"{negate}{name}"
    for negate in ("", "not-")
    for name in ("rouge-n", "bleu", "gleu", "meteor", "perplexity", "perplexity-score",
                 "classifier", "moderation", "webhook", "is-xml", "contains-xml", "is-sql",
                 "contains-sql", "is-html", "contains-html", "g-eval", "model-graded-factuality",
                 "answer-relevance", "context-relevance", "context-recall",
                 "context-faithfulness", "select-best", "is-refusal", "cost", "latency",
                 "starts-with", "regex", "is-json", "contains-json")
}  # fmt: skip


# -- converting tests ----------------------------------------------------------------------


@dataclass
class Converted:
    """Cases (the spec's shape) and every problem met on the way, by where it was met."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Defaults:
    """promptfoo's ``defaultTest``: vars, assertions, threshold and options every test gets."""

    vars: dict[str, Any] = field(default_factory=dict)
    asserts: list[Any] = field(default_factory=list)
    threshold: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: the config's ``assertionTemplates``, which an assertion names with ``$ref``
    templates: dict[str, Any] = field(default_factory=dict)


_TEST_KEYS = {"description", "vars", "assert", "threshold", "options", "metadata", "checks",
              "name", "repeat", "min-pass", "transform", "__unknown", "__unconfigured"}  # fmt: skip
_OPTION_KEYS = {"transform", "postprocess", "provider", "rubricPrompt"}


def convert_tests(
    rows: list[Row], files: Files, defaults: Defaults, *, python_root: str = ""
) -> Converted:
    """Every row as workflow cases: defaults merged, list vars expanded (one case per
    combination, as promptfoo does), ``file://`` vars read, assertions converted; the names
    made unique."""
    out = Converted()
    for row in rows:
        _convert(row, files.at(row.base), defaults, out, python_root)
    seen: dict[str, int] = {}
    for case in out.cases:
        name = case["name"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            case["name"] = f"{name}-{seen[name]}"
    return out


def _convert(row: Row, files: Files, defaults: Defaults, out: Converted, python_root: str) -> None:
    data, where = row.data, row.where
    for key in sorted(set(data) - _TEST_KEYS):
        out.problems.append(f"{where}.{key}: not imported (a workflow case has no such field)")
    for key in data.get("__unknown", []):
        out.problems.append(f"{where}: column {key} is not a promptfoo column inhouse reads")
    for key in data.get("__unconfigured", []):
        out.problems.append(f"{where}: column {key} names an assertion the row does not have")
    if "checks" in data:  # a workflow case written in the spec's own shape
        own = {k: v for k, v in data.items() if k not in ("__unknown", "__unconfigured")}
        own.setdefault("name", _slug(str(data.get("description") or ""), _row_name(where)))
        own["vars"] = read_vars(data.get("vars"), files, f"{where}.vars", out)
        out.cases.append(own)
        return
    options = {**defaults.options, **(data.get("options") or {})}
    for key in sorted(set(options) - _OPTION_KEYS):
        out.problems.append(f"{where}.options.{key}: not imported")
    transform = options.get("transform", options.get("postprocess"))
    transform_ref = _script(transform, files, f"{where}.options.transform", out)
    if "provider" in options:
        said = where if "provider" in (data.get("options") or {}) else "defaultTest"
        out.notes.append(
            f"{said}.options.provider: the grader is the workflow's judge (a blessed model)"
        )
    given = {**defaults.vars, **read_vars(data.get("vars"), files, f"{where}.vars", out)}
    lists = [name for name, value in given.items() if isinstance(value, list)]
    combos: list[tuple[Any, ...]] = (
        list(itertools.product(*(given[name] for name in lists))) if lists else [()]
    )
    description = str(data.get("description") or "")
    name = _slug(description, _row_name(where))
    raw = [*defaults.asserts, *(data.get("assert") or [])]
    shared = len(defaults.asserts)
    labels = [
        *(f"defaultTest.assert[{i}]" for i in range(shared)),
        *(f"{where}.assert[{i}]" for i in range(len(raw) - shared)),
    ]
    raw = [_deref(r, label, defaults.templates, out) for r, label in zip(raw, labels, strict=True)]
    for number, combo in enumerate(combos):
        values = {**given, **dict(zip(lists, combo, strict=True))}
        checks = [
            _check(r, label, values, files, options, out, python_root)
            for r, label in zip(raw, labels, strict=True)
        ]
        kept = [check for check in checks if check is not None]
        case: dict[str, Any] = {"name": name if not lists else f"{name}-{number + 1}"}
        if description:
            case["description"] = description
        case["vars"] = values
        threshold = data.get("threshold", defaults.threshold)
        if threshold is not None:
            case["threshold"] = threshold
        if transform_ref is not None:
            case["transform"] = transform_ref
        metadata = {**defaults.metadata, **(data.get("metadata") or {})}
        if metadata:
            case["metadata"] = metadata
        case["checks"] = kept
        if raw and not kept and number == 0:
            out.notes.append(
                f"{where}: kept as a comparison case (its outputs shown, counted neither pass "
                "nor fail): none of its assertions could be imported"
            )
        out.cases.append(case)
    if lists and len(combos) > 1:
        out.notes.append(f"{where}: list vars {', '.join(lists)} expanded to {len(combos)} tests")


_TEMPLATE_REF = re.compile(r"^#/assertionTemplates/([^/]+)$")


def _deref(raw: Any, where: str, templates: Mapping[str, Any], out: Converted) -> Any:
    """An assertion written as ``$ref: '#/assertionTemplates/NAME'`` is that template (with any
    field the reference adds); a reference to anything else is left for :func:`_check` to list."""
    if not isinstance(raw, dict) or "$ref" not in raw:
        return raw
    match = _TEMPLATE_REF.match(str(raw["$ref"]))
    if match is None or not isinstance(templates.get(match.group(1)), dict):
        out.problems.append(
            f"{where}: $ref {raw['$ref']!r} names no assertion template in assertionTemplates"
        )
        return None
    return {**templates[match.group(1)], **{k: v for k, v in raw.items() if k != "$ref"}}


def _row_name(where: str) -> str:
    return _slug(where.replace("[", "-").replace("]", ""), "case")


def read_vars(raw: Any, files: Files, where: str, out: Converted) -> dict[str, Any]:
    if raw is None:
        return {}
    if is_reference(raw) or isinstance(raw, list):
        merged: dict[str, Any] = {}
        for reference in raw if isinstance(raw, list) else [raw]:
            if not is_reference(reference) and not isinstance(reference, str):
                out.problems.append(f"{where}: {reference!r:.60} is not a vars file")
                continue
            try:
                for path in files.resolve(str(reference), where):
                    loaded = _structured(files.text(path, where), path, where)
                    if not isinstance(loaded, dict):
                        out.problems.append(f"{where}: {files.relative(path)} holds no mapping")
                        continue
                    merged.update(read_vars(loaded, files.at(path.parent), where, out))
            except InvalidInput as err:
                out.problems.append(str(err))
        return merged
    if not isinstance(raw, dict):
        out.problems.append(f"{where}: vars are a mapping or a file, got {raw!r:.60}")
        return {}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[str(name)] = _var_value(value, files, f"{where}.{name}", out)
    return values


def _var_value(value: Any, files: Files, where: str, out: Converted) -> Any:
    """promptfoo reads a ``file://`` var: text files as text, JSON/YAML as their data (scripts
    and images are not read)."""
    if isinstance(value, list):
        return [_var_value(item, files, where, out) for item in value]
    if not is_reference(value):
        return value
    suffix = PurePosixPath(str(value).removeprefix("file://")).suffix.lower()
    if suffix in (".py", ".js", ".ts", ".mjs", ".cjs"):
        out.problems.append(f"{where}: {value}: a var computed by a script is not run")
        return value
    if suffix in (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".mp3", ".wav", ".mp4"):
        out.problems.append(f"{where}: {value}: a binary file (image, audio, PDF) as a var")
        return value
    try:
        paths = files.resolve(str(value), where)
        texts = [files.text(path, where) for path in paths]
    except InvalidInput as err:
        out.problems.append(str(err))
        return value
    if len(paths) == 1 and suffix in (".json", ".yaml", ".yml"):
        return _structured(texts[0], paths[0], where)
    return texts[0] if len(texts) == 1 else texts


def _structured(text: str, path: Path, where: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return loads(text)
        except ValueError as err:
            raise InvalidInput(f"{where}: {path.name}: not JSON ({err})") from None
    return load_yaml_as_promptfoo(text, where=f"{where}: {path.name}")


def _script(value: Any, files: Files, where: str, out: Converted) -> str | None:
    """A transform or JavaScript reference: inline code as is, ``file://x.js`` kept as a
    reference relative to the root (read when the workflow loads, and hashed)."""
    if value is None:
        return None
    if not isinstance(value, str):
        out.problems.append(f"{where}: {value!r:.60} is not a script")
        return None
    if is_reference(value):
        reference = value.removeprefix("file://")
        file, _, function = reference.partition(":")
        if not file.endswith((".js", ".cjs")):
            out.problems.append(f"{where}: {value}: only JavaScript transforms are run")
            return None
        try:
            [path] = files.resolve(file, where)
        except (InvalidInput, ValueError) as err:
            out.problems.append(str(err))
            return None
        rewritten = "file://" + files.relative(path) + (f":{function}" if function else "")
        files.text(path, where)
        return rewritten
    return value


def _check(
    raw: Any,
    where: str,
    values: Mapping[str, Any],
    files: Files,
    options: Mapping[str, Any],
    out: Converted,
    python_root: str,
) -> dict[str, Any] | None:
    if raw is None:  # a $ref already listed
        return None
    if isinstance(raw, str):
        raw = assertion_from_text(raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        out.problems.append(f"{where}: not an assertion with a type: {raw!r:.80}")
        return None
    kind: str = raw["type"]
    base = kind.removeprefix("not-")
    if base == "assert-set":
        out.problems.append(f"{where}: assert-set (a nested group of assertions) is not supported")
        return None
    if base == "cost":
        out.problems.append(
            f"{where}: cost not imported: promptfoo's cost is an API's price per token, and a "
            "workflow measures cost only from the trial's local cost model (give the spec "
            "cost: inputs and write the check by hand)"
        )
        return None
    if kind not in SUPPORTED_TYPES:
        why = _WHY_NOT.get(base, "inhouse has no check of that type")
        out.problems.append(f"{where}: assertion type {kind!r} is not supported ({why})")
        return None
    raw = dict(raw)
    if "rubricPrompt" in raw:
        raw["rubric_prompt"] = raw.pop("rubricPrompt")
    ignored = sorted(set(raw) - set(_CARRIED) - _MODEL_FIELDS)
    if ignored:
        out.problems.append(
            f"{where}: {kind} with {', '.join(ignored)} (not supported) was not imported"
        )
        return None
    if "provider" in raw:
        out.notes.append(f"{where}: provider dropped: the baseline's judge model grades it")
    check = {key: raw[key] for key in _CARRIED if key in raw}
    if base in _GRADED and "rubricPrompt" in options and "rubric_prompt" not in check:
        prompt = options["rubricPrompt"]
        check["rubric_prompt"] = prompt if isinstance(prompt, str) else json.dumps(prompt)
    if "transform" in check:
        script = _script(check["transform"], files, f"{where}.transform", out)
        if script is None:
            return None
        check["transform"] = script
    if base == "python" and not _python(check, where, files, out, python_root):
        return None
    if base == "javascript" and is_reference(check.get("value")):
        script = _script(check["value"], files, f"{where}.value", out)
        if script is None:
            return None
        check["value"] = script
    if base in _LISTS and isinstance(check.get("value"), str):
        check["value"] = [part.strip() for part in check["value"].split(",")]
    if base in ("latency", "cost") and "threshold" not in check and "value" in check:
        check["threshold"] = check.pop("value")
    kind_of = check_type(base)
    if (
        "threshold" in check
        and kind_of is not None
        and "threshold" not in kind_of.params.model_fields
    ):
        out.notes.append(
            f"{where}: threshold {check.pop('threshold')} dropped: {base} passes or fails "
            "without a score (promptfoo ignores it too)"
        )
    if base == "javascript" and "value" in check and not isinstance(check["value"], str):
        check["value"] = json.dumps(check["value"])
    check["value"] = _fill(check.get("value"), values, where, out)
    if check["value"] is None:
        check.pop("value")
    try:
        parse_check(_loadable(check), where=where)
    except InvalidInput as err:
        out.problems.append(f"{where}: {kind} does not convert: {err}")
        return None
    return check


def _loadable(check: dict[str, Any]) -> dict[str, Any]:
    """The check as ``parse_check`` takes it before its file references are read."""
    out = dict(check)
    if is_reference(out.get("value")) and out["type"].removeprefix("not-") == "javascript":
        out["value"] = "true"
    return out


_GRADED = {
    "llm-rubric",
    "factuality",
    "answer-relevance",
    "context-faithfulness",
    "context-recall",
    "context-relevance",
    "select-best",
    "model-graded-closedqa",
}
_WHY_NOT = {
    "rouge-n": "an n-gram overlap score inhouse does not compute",
    "bleu": "an n-gram overlap score inhouse does not compute",
    "gleu": "an n-gram overlap score inhouse does not compute",
    "meteor": "an n-gram overlap score inhouse does not compute",
    "webhook": "it sends the output to a URL; checks stay on this machine",
    "moderation": "it calls a hosted moderation API",
    "classifier": "it runs a Hugging Face classifier model inhouse does not host",
    "perplexity": "it needs token log-probabilities",
    "perplexity-score": "it needs token log-probabilities",
    "g-eval": "a multi-step grader inhouse does not run; llm-rubric is the nearest",
    "model-graded-factuality": "write it as factuality",
    "trace-span-count": "tracing is not collected",
    "trace-span-duration": "tracing is not collected",
    "is-xml": "no XML check yet",
    "contains-xml": "no XML check yet",
    "is-sql": "no SQL parser",
    "contains-sql": "no SQL parser",
    "is-html": "no HTML check yet",
    "contains-html": "no HTML check yet",
}


def _python(
    check: dict[str, Any], where: str, files: Files, out: Converted, python_root: str
) -> bool:
    value = check.get("value")
    if not is_reference(value):
        out.problems.append(
            f"{where}: python with inline code (inhouse calls a function by dotted path; "
            "move the code into a module and name it)"
        )
        return False
    reference = str(value).removeprefix("file://")
    file, _, function = reference.partition(":")
    path = PurePosixPath(file)
    if path.suffix != ".py" or path.is_absolute() or ".." in path.parts:
        out.problems.append(f"{where}: python file {value} is not a module path")
        return False
    dotted = ".".join(path.with_suffix("").parts)
    check["value"] = f"{dotted}:{function or 'get_assert'}"
    folder = python_root or "."
    out.notes.append(
        f"{where}: python {value} → {check['value']} (the module must be importable: run "
        f"with PYTHONPATH={folder}; it is called as fn(output, context))"
    )
    return True


def _fill(value: Any, values: Mapping[str, Any], where: str, out: Converted) -> Any:
    """promptfoo renders ``{{var}}`` in assertion values with the test's vars: do it now."""
    if isinstance(value, str) and "{{" in value and not value.startswith("file://"):
        try:
            return render(value, values, where=where)
        except InvalidInput as err:
            out.notes.append(f"{where}: value kept as written ({err})")
            return value
    if isinstance(value, list):
        return [_fill(item, values, where, out) for item in value]
    return value
