"""The data rules decide only about texts the scanner found something in (issue 16): a request
whose texts hold nothing passes with no decision made, and one that holds a class the rules act
on is still redacted or refused as before."""

from __future__ import annotations

from typing import Any

import pytest

from inhouse.errors import DataClassBlocked
from inhouse.gateway import policies
from inhouse.gateway.policies import RequestPolicy
from inhouse.policy.rules import Decision

_CONFIG = {"data_rules": {"default": "allow", "classes": {"email": "redact", "card": "block"}}}


def _body(*texts: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text} for text in texts]}


def _decisions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decided: list[str] = []
    original = policies.decide

    def spy(*args: Any, **kwargs: Any) -> Decision:
        decided.append(args[3])
        return original(*args, **kwargs)

    monkeypatch.setattr(policies, "decide", spy)
    return decided


def test_texts_with_nothing_in_them_are_not_decided(monkeypatch: pytest.MonkeyPatch) -> None:
    decided = _decisions(monkeypatch)
    policy = RequestPolicy.from_config(_CONFIG)
    body = _body("Say hi", "What is the capital of France?")
    assert policy.apply("chat/completions", "m", body, None) == []
    assert decided == []
    assert body == _body("Say hi", "What is the capital of France?")


def test_a_text_with_a_finding_is_still_redacted_or_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decided = _decisions(monkeypatch)
    policy = RequestPolicy.from_config(_CONFIG)
    body = _body("Say hi", "mail lena@example.org please")
    assert policy.apply("chat/completions", "m", body, None) == ["redact:email"]
    assert decided == ["mail lena@example.org please"]
    assert "lena@example.org" not in body["messages"][1]["content"]
    with pytest.raises(DataClassBlocked):
        policy.apply("chat/completions", "m", _body("card 4111 1111 1111 1111"), None)
