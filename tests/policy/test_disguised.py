# ruff: noqa: RUF001  (full-width characters are what these tests are about)
"""Values disguised from the detectors but not from a model: full-width digits and letters,
zero-width characters inside a number, other scripts' digits (issue 17, case 3). Found where
they are in the text as given; a text without findings is never changed."""

from __future__ import annotations

import pytest

from inhouse.policy import Scanner, decide, load_rules, redact

CARD = "4111 1111 1111 1111"
FULL_WIDTH = CARD.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
ZERO_WIDTH = "\u200b".join(CARD.replace(" ", ""))


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner.build()


@pytest.mark.parametrize(
    ("disguised", "data_class"),
    [
        (FULL_WIDTH, "card"),
        (ZERO_WIDTH, "card"),
        ("4111\u20601111\u00ad1111\ufeff1111", "card"),  # word joiner, soft hyphen, BOM
        ("\u0664" + "\u0661" * 15, "card"),  # Arabic-Indic digits
        ("\U0001d7d2" + "\U0001d7cf" * 15, "card"),  # mathematical bold digits
        ("ａｎｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email"),
        ("anna\u200b@\u200cexample.com", "email"),
    ],
)
def test_a_disguised_value_is_found_where_it_stands(
    scanner: Scanner, disguised: str, data_class: str
) -> None:
    text = f"Müller paid with {disguised} yesterday."
    [match] = scanner.scan(text)
    assert match.data_class == data_class
    assert text[match.start : match.end] == match.text == disguised
    assert redact(text, [match]) == f"Müller paid with [REDACTED:{data_class}] yesterday."


def test_the_plain_forms_are_still_found_and_decoys_still_refused(scanner: Scanner) -> None:
    assert [m.text for m in scanner.scan(f"card {CARD} café")] == [CARD]
    bad_luhn = "４１１１ １１１１ １１１１ １１１２"
    assert scanner.scan(f"Größe {bad_luhn}") == []


def test_a_text_without_findings_is_decided_unchanged(scanner: Scanner) -> None:
    rules = load_rules({"data_rules": {"default": "redact"}})
    text = "Ｆｕｌｌ－ｗｉｄｔｈ ｔｅｘｔ, zero\u200bwidth, ١٢٣ and café: nothing to hide"
    decision = decide(scanner, rules, "tiny", text)
    assert decision.classes == [] or not decision.classes
    assert decision.text == text


def test_redaction_replaces_only_the_disguised_value(scanner: Scanner) -> None:
    rules = load_rules({"data_rules": {"default": "redact"}})
    text = f"ｎｏｔｅ: {FULL_WIDTH} and {ZERO_WIDTH}\u200b!"
    decision = decide(scanner, rules, "tiny", text)
    assert decision.text == "ｎｏｔｅ: [REDACTED:card] and [REDACTED:card]\u200b!"
