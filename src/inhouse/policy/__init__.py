"""Data classes, data-handling rules and agent tool boundaries, shared by the gateway, the
baseline, trials and workflows.

    from inhouse.policy import Scanner, decide, load_rules, redact

    scanner = Scanner.from_config(config)          # built-in detectors + [policy.classes]
    scanner.scan("mail anna@example.com")          # [Match(data_class='email', start=5, ...)]
    rules = load_rules(config)                     # [data_rules]
    decision = decide(scanner, rules, "qwen2-7b", text)   # action, classes, redacted text

Built-in data classes: ``email``, ``phone``, ``card`` (Luhn), ``iban`` (mod-97),
``national-id`` (US SSN, UK NINO, NL BSN, ES DNI/NIE), ``secret`` (API keys, tokens,
passwords in 13 languages, in URLs and command lines, private keys) and ``ip-address``
(public IPv4/IPv6 addresses only). Detectors are a registry
(:mod:`inhouse.policy.detectors`); the scan is one RE2 pass over the text
(:mod:`inhouse.policy.scanner`). Tool boundaries for agents live in
:mod:`inhouse.policy.tools`.
"""

from inhouse.policy.classes import CustomClass
from inhouse.policy.detectors import (
    BUILTIN_CLASSES,
    Detector,
    known_classes,
    register_detector,
    unregister_detector,
)
from inhouse.policy.rules import ACTIONS, Action, DataRules, Decision, decide, load_rules
from inhouse.policy.scanner import Match, Scanner, redact

__all__ = [
    "ACTIONS",
    "BUILTIN_CLASSES",
    "Action",
    "CustomClass",
    "DataRules",
    "Decision",
    "Detector",
    "Match",
    "Scanner",
    "decide",
    "known_classes",
    "load_rules",
    "redact",
    "register_detector",
    "unregister_detector",
]
