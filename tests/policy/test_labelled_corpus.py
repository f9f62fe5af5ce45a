"""The scanner's own labelled corpus (``benchmarks/scanner.py`` generates it; the benchmark
prints speed and precision/recall on it): a small slice of it, sparse and dense, is found
exactly — every planted value of every class, nothing that was not planted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from inhouse.policy import Scanner

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "scanner.py"


@pytest.fixture(scope="module")
def corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scanner_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dense", [False, True], ids=["sparse", "dense"])
def test_the_labelled_corpus_is_found_exactly(corpus_module: ModuleType, dense: bool) -> None:
    documents = corpus_module.make_corpus(
        0.3 if dense else 1.0,
        doc_kb=4,
        seed=16,
        pii_per_kb=0.25,
        decoys_per_kb=0.25,
        dense=dense,
    )
    tally = corpus_module._score(Scanner.build(), documents)
    # every class the issue names is planted, the new ip-address class included
    assert {"email", "phone", "card", "iban", "national-id", "secret", "ip-address"} <= set(tally)
    missed = {name: t["fn"] for name, t in tally.items() if t["fn"]}
    wrong = {name: t["fp"] for name, t in tally.items() if t["fp"]}
    assert (missed, wrong) == ({}, {})
    _, precision, recall = corpus_module.score_table(tally)
    assert (precision, recall) == (1.0, 1.0)


def test_the_corpus_carries_the_real_prompt_shapes(corpus_module: ModuleType) -> None:
    documents = corpus_module.make_corpus(
        0.3, doc_kb=4, seed=16, pii_per_kb=0, decoys_per_kb=0, dense=True
    )
    text = "".join(doc.text for doc in documents)
    for shape in (
        "Passwort: ",
        "mot de passe : ",
        "wachtwoord: ",
        "contraseña: ",
        "aws_secret_access_key = ",
        "postgres://app:",
        "mysql -u root -p'",
        "PGPASSWORD=",
        "Llámame al ",
        "0033 1 ",
        "order 00",
        "SSN format: 123-45-6789",
        "AKIAIOSFODNN7EXAMPLE",
        "xoxb-your-bot-token",
    ):
        assert shape in text, shape
