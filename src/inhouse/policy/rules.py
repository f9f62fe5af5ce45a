"""Data-handling rules: the ``[data_rules]`` table of ``inhouse.toml``, and decisions under them.

The rules say, per blessed model, what happens to each data class found in a prompt (allow it
through, redact it, or block the request) and whether prompt and response bodies may be stored,
for how many days. ``docs/policy.md`` has the full TOML shape; in short::

    [data_rules]
    default = "block"             # a class nobody named, for a model nobody named
    store_bodies = false
    classes = { email = "redact", secret = "block" }

    [data_rules.models.qwen2-7b-instruct]
    default = "redact"
    classes = { email = "allow", phone = "allow" }
    store_bodies = true
    retention_days = 30

An action is looked up in this order: the model's ``classes``, the top-level ``classes`` (a rule
for every model), the model's ``default``, the top-level ``default``. So a class named at the
top applies to every model unless that model's own ``classes`` names it too. Storage: the
model's setting, else the top-level one. The rules are part of the baseline lock through
:meth:`DataRules.rules_hash`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from inhouse.errors import ConfigError
from inhouse.location import CONFIG_NAME
from inhouse.policy._config import problems
from inhouse.policy.classes import CustomClass, parse_custom_classes
from inhouse.policy.detectors import known_classes
from inhouse.policy.scanner import Match, Scanner, redact

__all__ = ["ACTIONS", "Action", "DataRules", "Decision", "ModelRules", "decide", "load_rules"]

Action = Literal["allow", "redact", "block"]
#: from least to most strict; a text with several classes gets the strictest of their actions
ACTIONS: tuple[Action, ...] = ("allow", "redact", "block")
_HASH_VERSION = 1


class ModelRules(BaseModel):
    """``[data_rules.models.NAME]``: what differs for one blessed model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Action | None = Field(None, description="for classes this model's table omits")
    classes: dict[str, Action] = Field(default_factory=dict)
    store_bodies: bool | None = None
    retention_days: int | None = Field(None, ge=1, le=36500)


class DataRules(BaseModel):
    """The ``[data_rules]`` table. Build it with :func:`load_rules` (which checks class names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Action = Field("block", description="for any class and model not named")
    classes: dict[str, Action] = Field(default_factory=dict)
    # spelled store_bodies / retention_days in TOML; the names are taken by the lookups below
    default_store_bodies: bool = Field(False, alias="store_bodies")
    default_retention_days: int | None = Field(None, alias="retention_days", ge=1, le=36500)
    #: the usage log's request rows older than this many days are compacted away (their totals
    #: stay in the daily rollups); None keeps them
    request_rows_days: int | None = Field(None, ge=1, le=36500)
    models: dict[str, ModelRules] = Field(default_factory=dict)

    _custom: dict[str, CustomClass] = PrivateAttr(default_factory=dict)

    # -- lookups ------------------------------------------------------------------------------

    def action(self, model: str, data_class: str) -> Action:
        """What happens to ``data_class`` in a request for ``model``."""
        own = self.models.get(model)
        if own is not None and data_class in own.classes:
            return own.classes[data_class]
        if data_class in self.classes:
            return self.classes[data_class]
        if own is not None and own.default is not None:
            return own.default
        return self.default

    def store_bodies(self, model: str) -> bool:
        """Whether prompt and response bodies for ``model`` may be stored."""
        own = self.models.get(model)
        if own is not None and own.store_bodies is not None:
            return own.store_bodies
        return self.default_store_bodies

    def retention_days(self, model: str) -> int | None:
        """How many days stored bodies are kept; None when bodies are not stored at all."""
        if not self.store_bodies(model):
            return None
        own = self.models.get(model)
        if own is not None and own.retention_days is not None:
            return own.retention_days
        return self.default_retention_days

    @property
    def custom_classes(self) -> dict[str, CustomClass]:
        """The ``[policy.classes]`` the rules were loaded with (part of the hash)."""
        return dict(self._custom)

    # -- the lock and the docs ----------------------------------------------------------------

    def canonical(self) -> dict[str, Any]:
        """Everything the hash covers, with defaults filled in and keys sorted."""
        return {
            "version": _HASH_VERSION,
            "data_rules": self.model_dump(mode="json", by_alias=True),
            "custom_classes": {
                name: spec.model_dump(mode="json") for name, spec in sorted(self._custom.items())
            },
        }

    def rules_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the rules and the custom classes they use.
        Key order, whitespace and spelling out a default in the TOML do not change it."""
        body = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def plain_words(self) -> list[str]:
        """The rules as sentences a person reads (BASELINE.md)."""
        lines = [
            f"Unless a rule below says otherwise, a request containing any data class is "
            f"{_PAST[self.default]}."
        ]
        if self.classes:
            lines.append(
                f"For every model, unless its own rules below name the class: "
                f"{_class_list(self.classes)}."
            )
        lines.append(
            _storage_words("every model", self.default_store_bodies, self.default_retention_days)
        )
        for name, own in sorted(self.models.items()):
            parts: list[str] = []
            if own.classes:
                parts.append(_class_list(own.classes))
            if own.default is not None:
                parts.append(f"any other data class is {_PAST[own.default]}")
            if parts:
                lines.append(f"For model {name}: {'; '.join(parts)}.")
            if own.store_bodies is not None or own.retention_days is not None:
                lines.append(
                    _storage_words(
                        f"model {name}", self.store_bodies(name), self.retention_days(name)
                    )
                )
        for name, spec in sorted(self._custom.items()):
            what = spec.description or "an organisation-defined class"
            lines.append(f"The data class {name} is {what} (defined in inhouse.toml).")
        return lines

    def models_named(self) -> list[str]:
        """The model names the rules mention (the baseline checks they are blessed)."""
        return sorted(self.models)


_PAST: dict[str, str] = {"allow": "allowed", "redact": "redacted", "block": "blocked"}
_CLASS_WORDS: dict[str, str] = {
    "email": "e-mail addresses",
    "phone": "phone numbers",
    "card": "payment card numbers",
    "iban": "bank account numbers (IBAN)",
    "national-id": "national identity numbers",
    "secret": "secrets (API keys, tokens, passwords, private keys)",
    "ip-address": "public IP addresses",
}


def _class_list(classes: Mapping[str, str]) -> str:
    clauses = []
    for data_class, action in sorted(classes.items()):
        words = _CLASS_WORDS.get(data_class)
        clauses.append(
            f"{words} are {_PAST[action]}" if words else f"{data_class} data is {_PAST[action]}"
        )
    return "; ".join(clauses)


def _storage_words(who: str, store: bool, days: int | None) -> str:
    if not store:
        return f"Prompt and response bodies for {who} are not stored."
    return f"Prompt and response bodies for {who} are stored for {days} days, then deleted."


def load_rules(config: Mapping[str, Any]) -> DataRules:
    """The data rules of a program's ``inhouse.toml`` (as a dict). Errors name the file and
    the field (the file is what a user fixes; the field alone sent them looking); an unknown
    data class names the known ones. No ``[data_rules]`` table: the defaults (block every
    class found, store no bodies)."""
    try:
        return _load_rules(config)
    except ConfigError as err:
        raise ConfigError(f"{CONFIG_NAME}: {err}") from None


def _load_rules(config: Mapping[str, Any]) -> DataRules:
    policy = config.get("policy") or {}
    if not isinstance(policy, Mapping):
        raise ConfigError("policy: must be a table")
    custom = parse_custom_classes(policy.get("classes"))
    raw = config.get("data_rules") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError("data_rules: must be a table")
    try:
        rules = DataRules.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(problems(err, "data_rules")) from None
    known = [*known_classes(), *custom]
    tables: list[tuple[str, Mapping[str, str]]] = [("data_rules.classes", rules.classes)]
    tables += [(f"data_rules.models.{m}.classes", own.classes) for m, own in rules.models.items()]
    for where, classes in tables:
        for data_class in classes:
            if data_class not in known:
                raise ConfigError(
                    f"{where}.{data_class}: unknown data class {data_class!r}; known: "
                    f"{', '.join(known)} (custom classes go in [policy.classes.NAME])"
                )
    for model in [None, *rules.models]:
        name = model or ""
        if rules.store_bodies(name) and rules.retention_days(name) is None:
            where = f"data_rules.models.{model}" if model else "data_rules"
            raise ConfigError(
                f"{where}: store_bodies = true needs retention_days (how long bodies are kept)"
            )
    rules._custom = dict(custom)
    return rules


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one text for one model.

    ``action`` is the strictest action among the classes found (``allow`` when none were).
    ``text`` has every finding whose action is not ``allow`` replaced by ``[REDACTED:<class>]``
    — for a block too, so the text is always safe to log.
    """

    action: Action
    classes: tuple[str, ...]
    text: str
    blocked: tuple[str, ...] = ()
    redacted: tuple[str, ...] = ()
    matches: tuple[Match, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether the request may go on (possibly redacted)."""
        return self.action != "block"

    def reason(self) -> str:
        """One sentence for an error or a log line."""
        if self.blocked:
            return f"blocked: the text contains {', '.join(self.blocked)}"
        if self.redacted:
            return f"redacted: {', '.join(self.redacted)}"
        return "allowed"


def decide(
    scanner: Scanner, rules: DataRules, model: str, text: str,
    matches: list[Match] | None = None,
) -> Decision:  # fmt: skip
    """Scan ``text`` (``matches``: what ``scanner.scan(text)`` found already) and apply
    ``rules`` for ``model``."""
    if matches is None:
        matches = scanner.scan(text)
    if not matches:
        return Decision(action="allow", classes=(), text=text)
    actions = {m.data_class: rules.action(model, m.data_class) for m in matches}
    strictest = max(actions.values(), key=ACTIONS.index)
    hidden = [m for m in matches if actions[m.data_class] != "allow"]
    return Decision(
        action=strictest,
        classes=tuple(sorted(actions)),
        text=redact(text, hidden) if hidden else text,
        blocked=tuple(sorted(c for c, a in actions.items() if a == "block")),
        redacted=tuple(sorted(c for c, a in actions.items() if a == "redact")),
        matches=tuple(matches),
    )
