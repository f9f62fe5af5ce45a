"""Data-handling rules: validation, lookups, the lock hash, plain words, decisions."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from inhouse.errors import ConfigError
from inhouse.policy import Scanner, decide, load_rules

TOML = """
[policy.classes.project-falcon]
description = "the merger's codename"
keywords = ["Project Falcon"]

[data_rules]
default = "block"
store_bodies = false
classes = { email = "redact", secret = "block" }

[data_rules.models.qwen2-7b]
default = "redact"
classes = { email = "allow", phone = "allow", project-falcon = "block" }
store_bodies = true
retention_days = 30

[data_rules.models.tiny]
store_bodies = false
"""


def config(text: str = TOML) -> dict[str, Any]:
    return tomllib.loads(text)


def test_actions_are_looked_up_model_first_then_every_model_then_defaults() -> None:
    rules = load_rules(config())
    assert rules.action("qwen2-7b", "email") == "allow"  # the model's own rule
    assert rules.action("qwen2-7b", "secret") == "block"  # the rule for every model
    assert rules.action("qwen2-7b", "card") == "redact"  # the model's default
    assert rules.action("qwen2-7b", "project-falcon") == "block"
    assert rules.action("tiny", "email") == "redact"
    assert rules.action("tiny", "card") == "block"  # the top-level default
    assert rules.action("unknown-model", "iban") == "block"


def test_body_storage_and_retention() -> None:
    rules = load_rules(config())
    assert rules.store_bodies("qwen2-7b") and rules.retention_days("qwen2-7b") == 30
    assert not rules.store_bodies("tiny") and rules.retention_days("tiny") is None
    assert not rules.store_bodies("other")


def test_no_table_means_block_everything_store_nothing() -> None:
    rules = load_rules({})
    assert rules.action("any", "email") == "block"
    assert not rules.store_bodies("any")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ('[data_rules]\nclasses = { emial = "redact" }', "data_rules.classes.emial: unknown data"),
        (
            '[data_rules.models.m]\nclasses = { cards = "block" }',
            "data_rules.models.m.classes.cards: unknown data class 'cards'; known: email",
        ),
        ('[data_rules]\ndefault = "maybe"', "data_rules.default"),
        ("[data_rules]\nstore_bodies = true", "data_rules: store_bodies = true needs retention"),
        (
            "[data_rules.models.m]\nstore_bodies = true",
            "data_rules.models.m: store_bodies = true needs retention_days",
        ),
        ("[data_rules]\nretention_days = 0", "data_rules.retention_days"),
        ("[data_rules]\nkeep = 1", "data_rules.keep"),
        ('[data_rules.models.m]\ndefault = "allow"\ncolour = 1', "data_rules.models.m.colour"),
    ],
)
def test_invalid_rules_name_the_field(patch: str, message: str) -> None:
    """The error names the file to fix first, then the field in it: "data_rules.keep" alone
    left a user looking for which file holds it."""
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as raised:
        load_rules(config(patch))
    assert str(raised.value).startswith(f"inhouse.toml: {message}")


def test_an_unquoted_dotted_model_name_gets_a_hint() -> None:
    with pytest.raises(
        ConfigError, match=r'must be quoted, e.g. \[data_rules.models."llama-3.2-3b"\]'
    ):
        load_rules(config("[data_rules.models.llama-3.2-3b]\nstore_bodies = false"))


def test_a_custom_class_can_be_named_only_once_defined() -> None:
    with pytest.raises(ConfigError, match="unknown data class 'project-falcon'"):
        load_rules(config('[data_rules]\nclasses = { project-falcon = "block" }'))


def test_rules_hash_ignores_layout_and_spelled_out_defaults() -> None:
    first = load_rules(config()).rules_hash()
    reordered = """
[data_rules.models.tiny]
store_bodies = false

[data_rules.models.qwen2-7b]
retention_days = 30
store_bodies = true
classes = { project-falcon = "block", phone = "allow", email = "allow" }
default = "redact"

[data_rules]
classes = { secret = "block", email = "redact" }

[policy.classes.project-falcon]
keywords = ["Project Falcon"]
description = "the merger's codename"
"""
    assert load_rules(config(reordered)).rules_hash() == first
    assert len(first) == 64 and int(first, 16) >= 0
    # the same again from a fresh load: stable across calls
    assert load_rules(config()).rules_hash() == first


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('email = "allow", phone', 'email = "redact", phone'),
        ("retention_days = 30", "retention_days = 31"),
        ('keywords = ["Project Falcon"]', 'keywords = ["Project Falcon", "Falcon"]'),
    ],
)
def test_rules_hash_changes_with_the_rules(old: str, new: str) -> None:
    assert TOML.count(old) == 1
    assert load_rules(config(TOML.replace(old, new))).rules_hash() != (
        load_rules(config()).rules_hash()
    )


def test_plain_words() -> None:
    words = load_rules(config()).plain_words()
    assert words[0] == (
        "Unless a rule below says otherwise, a request containing any data class is blocked."
    )
    assert (
        "For every model, unless its own rules below name the class: e-mail addresses are "
        "redacted; secrets (API keys, tokens, passwords, private keys) are blocked." in words
    )
    assert (
        "For model qwen2-7b: e-mail addresses are allowed; phone numbers are allowed; "
        "project-falcon data is blocked; any other data class is redacted." in words
    )
    assert (
        "Prompt and response bodies for model qwen2-7b are stored for 30 days, then deleted."
        in words
    )
    assert "Prompt and response bodies for every model are not stored." in words
    assert (
        "The data class project-falcon is the merger's codename (defined in inhouse.toml)." in words
    )


def test_decide_applies_the_strictest_action_and_redacts() -> None:
    cfg = config()
    scanner, rules = Scanner.from_config(cfg), load_rules(cfg)
    text = "mail anna@example.com, phone +31 6 1234 5678, card 4111 1111 1111 1111"

    allowed = decide(scanner, rules, "qwen2-7b", "mail anna@example.com")
    assert allowed.action == "allow" and allowed.text == "mail anna@example.com"
    assert allowed.classes == ("email",) and allowed.allowed

    redacted = decide(scanner, rules, "qwen2-7b", text)
    assert redacted.action == "redact" and redacted.redacted == ("card",)
    assert redacted.text == ("mail anna@example.com, phone +31 6 1234 5678, card [REDACTED:card]")

    blocked = decide(scanner, rules, "tiny", text)
    assert blocked.action == "block" and not blocked.allowed
    assert blocked.blocked == ("card", "phone") and blocked.classes == ("card", "email", "phone")
    assert "4111" not in blocked.text and "anna@" not in blocked.text  # safe to log
    assert blocked.reason() == "blocked: the text contains card, phone"

    falcon = decide(scanner, rules, "qwen2-7b", "About Project Falcon.")
    assert falcon.action == "block" and falcon.blocked == ("project-falcon",)

    clean = decide(scanner, rules, "tiny", "nothing to see")
    assert clean.action == "allow" and clean.classes == () and clean.reason() == "allowed"
