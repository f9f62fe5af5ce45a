"""The checksums behind the detectors, on published test values and their near misses."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from inhouse.policy import validators as v


def test_luhn() -> None:
    assert v.luhn_ok("4111111111111111")
    assert v.luhn_ok("79927398713")
    assert not v.luhn_ok("79927398710")
    assert not v.luhn_ok("")
    assert not v.luhn_ok("4111x11111111111")


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("NL91ABNA0417164300", True),
        ("NL91 ABNA 0417 1643 00", True),
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765432", True),
        ("BE68539007547034", True),
        ("NL91ABNA0417164301", False),  # checksum
        ("NL92ABNA0417164300", False),  # check digits
        ("NL91ABNA041716430", False),  # length for NL
        ("XX91ABNA0417164300", False),  # no such country
    ],
)
def test_iban_mod97(iban: str, ok: bool) -> None:
    assert v.iban_ok(iban) is ok


@pytest.mark.parametrize(
    ("ssn", "ok"),
    [
        ("536-22-4817", True),
        ("001-01-0001", True),
        ("123-45-6789", False),  # the documentation example, printed everywhere
        ("457-55-5462", False),  # the LifeLock advertisement's number
        ("000-45-6789", False),
        ("666-45-6789", False),
        ("900-45-6789", False),
        ("999-45-6789", False),
        ("123-00-6789", False),
        ("123-45-0000", False),
        ("078-05-1120", False),  # the Woolworth wallet number
    ],
)
def test_ssn_ranges(ssn: str, ok: bool) -> None:
    assert v.ssn_ok(ssn) is ok


def test_bsn_eleven_proof() -> None:
    assert v.bsn_ok("111222333")
    assert v.bsn_ok("1112.22.333")
    assert v.bsn_ok("12345672")  # eight digits: an old number missing its leading zero
    assert not v.bsn_ok("111222334")
    assert not v.bsn_ok("000000000")


def test_nino_and_dni() -> None:
    assert v.nino_ok("AB123456C")
    assert not v.nino_ok("GB123456A")
    assert not v.nino_ok("DA123456A")  # D never first
    assert not v.nino_ok("AO123456A")  # O never second
    assert v.dni_ok("12345678Z")
    assert v.dni_ok("X1234567L")
    assert not v.dni_ok("12345678A")


def test_card_needs_a_scheme_and_a_printed_grouping() -> None:
    assert v.card_ok("4111 1111 1111 1111")
    assert v.card_ok("3782 822463 10005")
    assert not v.card_ok("1111 1111 1111 1117")  # Luhn-valid, but no scheme starts with 1
    assert not v.card_ok("41 1111 1111 1111 11")  # a grouping cards are not printed in
    assert not v.card_ok("4111 1111-1111 1111")


# -- the placeholder check without regexes, against the regexes it stands in for ------------

#: what placeholder values are made of: the marks and lookups in pieces, and the characters
#: around them, so generated values hit every branch and its near misses
_PIECES = st.sampled_from(
    ["x", "X", "*", ".", "<", ">", "{", "}", "$", "%", "(", ")", "[", "_", "-", "'", '"', " ",
     "\n", "e", "a", "1", "Z", "your", "YOUR", "you", "example", "ExAmPlE", "placeholder",
     "redacted", "change", "me", "dummy", "environ", "getenv", "env", "config", "none", "null",
     "nil", "true", "false", "undefined", "password", "secret", "os", "get", "\u2026", "é",
     "\u212a", "\u017f", "\u0131", "db", "k", "Q", "a.b", "q("]
)  # fmt: skip
_VALUES = st.lists(_PIECES, max_size=8).map("".join)


def _by_regex(value: str) -> bool:
    return bool(v._PLACEHOLDER.match(value) or v._PLACEHOLDER_MARKS.search(value))


@settings(max_examples=4000, deadline=None)
@given(_VALUES)
@example("db.password")  # the attribute branch, first letter in no other branch
@example("get_key()")  # the call branch
@example("Q.x\n")  # Python's $ before a final newline
@example("my_envvar")
def test_the_placeholder_check_answers_as_its_regexes_do(value: str) -> None:
    assert v.looks_placeholder(value) == _by_regex(value.strip("\"'"))
    assert v._has_mark(value) == bool(v._PLACEHOLDER_MARKS.search(value))


@pytest.mark.parametrize(
    "value",
    ["AKIAIOSFODNN7EXAMPLE", "xoxb-your-bot-token", "ghp_XXXXXXXXXXXXXXXXXXXX", "REDACTED",
     "<your-token>", "changeme", "${SECRET}", "{{ token }}", "os.environ['KEY']",
     "settings.API_KEY", "db.password", "get_secret()", "k(1)", "your_key_here", "****",
     "abc...", "Change-Me-Now"],
)  # fmt: skip
def test_placeholders_are_placeholders(value: str) -> None:
    assert v.looks_placeholder(value)


@pytest.mark.parametrize("value", ["Welkom123!", "hunter2hunter2", "s3cr3tP@ssw0rd", "Otono79"])
def test_passwords_are_not_placeholders(value: str) -> None:
    assert not v.looks_placeholder(value)
