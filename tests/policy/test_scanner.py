"""The scanner as a whole: offsets, redaction, custom classes, the detector registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inhouse.errors import ConfigError, PluginError
from inhouse.policy import (
    BUILTIN_CLASSES,
    Detector,
    Match,
    Scanner,
    known_classes,
    redact,
    register_detector,
    unregister_detector,
)

MIXED = (
    "Hi, I'm Jörg — mail jorg@example.de or call +49 30 1234567.\n"
    "Pay NL91ABNA0417164300 with card 4111-1111-1111-1111; key AKIA2E0A8F3B244C9986.\n"
    "Größe 42, version 1.2.3, 2024-03-05T12:34:56Z, 10.0.0.1."
)


def test_scan_reports_character_offsets_in_non_ascii_text() -> None:
    matches = Scanner.build().scan(MIXED)
    assert [m.data_class for m in matches] == ["email", "phone", "iban", "card", "secret"]
    for match in matches:
        assert MIXED[match.start : match.end] == match.text
    assert Scanner.build().classes(MIXED) == {"email", "phone", "iban", "card", "secret"}


def test_redact_replaces_each_finding_with_its_class() -> None:
    scanner = Scanner.build()
    text = "mail anna@example.com, card 4111 1111 1111 1111, done"
    assert redact(text, scanner.scan(text)) == ("mail [REDACTED:email], card [REDACTED:card], done")
    assert redact(text, []) == text


def test_redact_merges_overlapping_matches() -> None:
    text = "abcdefghij"
    matches = [Match("a", 0, 6, "abcdef"), Match("b", 4, 8, "efgh")]
    assert redact(text, matches) == "[REDACTED:a][REDACTED:b]ij"


def test_text_with_lone_surrogates_or_nothing_scans() -> None:
    scanner = Scanner.build()
    assert scanner.scan("") == []
    assert [m.text for m in scanner.scan("\ud800 anna@example.com")] == ["anna@example.com"]


CUSTOM = {
    "project-falcon": {
        "description": "the merger's codename",
        "keywords": ["Project Falcon", "Falcon deal"],
        "patterns": [r"FAL-\d{6}"],
    },
    "patient-id": {"patterns": [r"PT\d{8}"]},
}


def test_custom_classes_from_config() -> None:
    scanner = Scanner.from_config({"policy": {"classes": CUSTOM}})
    text = "The project falcon files (FAL-123456) and PT12345678; not falconry or FAL-12."
    assert [(m.data_class, m.text) for m in scanner.scan(text)] == [
        ("project-falcon", "project falcon"),
        ("project-falcon", "FAL-123456"),
        ("patient-id", "PT12345678"),
    ]
    assert "project-falcon" in scanner.data_classes


def test_case_sensitive_keywords_and_non_ascii_keywords() -> None:
    scanner = Scanner.build({"codename": {"keywords": ["ORCA", "Übersee"], "case_sensitive": True}})
    assert [m.text for m in scanner.scan("ORCA orca Übersee übersee")] == ["ORCA", "Übersee"]


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({"falcon": {"patterns": ["(?<=x)y"]}}, "policy.classes.falcon.patterns[0]"),
        ({"falcon": {"patterns": ["a*"]}}, "matches empty text"),
        ({"falcon": {}}, "give patterns, keywords or both"),
        ({"falcon": {"keywords": ["x"], "colour": "red"}}, "policy.classes.falcon.colour"),
        ({"email": {"keywords": ["x"]}}, "built-in data class"),
        ({"Bad Name": {"keywords": ["x"]}}, "lower-case words"),
    ],
)
def test_bad_custom_classes_are_config_errors(custom: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Scanner.build(custom)  # type: ignore[arg-type]


@pytest.fixture
def ticket_detector() -> Iterator[Detector]:
    detector = Detector(
        name="test-ticket",
        data_class="ticket-ref",
        anchor=r"\bTCK-\d",
        confirm=r"TCK-(?P<value>\d{5})(?!\d)",
        validate=lambda value: not value.startswith("0"),
    )
    register_detector(detector)
    yield detector
    unregister_detector(detector.name)


def test_a_registered_detector_joins_the_scan(ticket_detector: Detector) -> None:
    assert "ticket-ref" in known_classes()
    scanner = Scanner.build()
    assert [
        (m.data_class, m.text, m.detector) for m in scanner.scan("see TCK-12345, TCK-01234")
    ] == [("ticket-ref", "12345", "test-ticket")]
    with pytest.raises(PluginError, match="'test-ticket' is registered twice"):
        register_detector(ticket_detector)


def test_built_ins_cannot_be_removed_and_come_first() -> None:
    with pytest.raises(ConfigError, match="built-in"):
        unregister_detector("card")
    assert tuple(known_classes()[: len(BUILTIN_CLASSES)]) == BUILTIN_CLASSES


def test_an_explicit_detector_list_builds_a_narrow_scanner() -> None:
    only = Detector(name="only-x", data_class="x", anchor="xyz")
    assert [
        m.data_class for m in Scanner.build(detectors=[only]).scan("abc xyz 4111111111111111")
    ] == ["x"]
    with pytest.raises(ConfigError, match="not a valid RE2 pattern"):
        Scanner([Detector(name="bad", data_class="x", anchor="(")])
