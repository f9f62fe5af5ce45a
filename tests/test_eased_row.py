"""A playbook of the program's own may judge a check with other parameters than the shipped one
(a rule a lead can ease): the check's own row says so, beside its outcome, not only the
program's warnings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from inhouse.program import Program
from tests.conftest import Clock
from tests.test_engine import through_play_one


def test_a_check_judged_with_eased_parameters_says_so_on_its_row(
    _isolated: Path, clock: Clock
) -> None:
    text = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    book = yaml.safe_load(text)
    book["name"] = "acme-rollout"
    for play in book["plays"]:
        for ref in play.get("trigger") or []:
            if ref["check"] == "access-requested":
                ref["params"] = {"min_people": 0}
    (_isolated / "acme.yaml").write_text(yaml.safe_dump(book, sort_keys=False))
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock,
                        playbook="acme.yaml")  # fmt: skip
    try:
        lena.change_roles(None, "lena", add=["play-owner"])
        through_play_one(lena)
        lena.start_play(None, 2)  # nobody asked for access: the eased trigger lets it through
        plays = lena.status()["plays"]
        (row,) = [r for r in plays[1]["trigger"] if r["check"] == "access-requested"]
        assert row["outcome"] == "pass"
        assert "judged with this playbook's parameters {'min_people': 0}" in row["reason"]
        assert "not the shipped {'min_people': 1}" in row["reason"]
        # a check with the shipped parameters says nothing of the kind
        assert all("judged with this playbook" not in r["reason"] for r in plays[0]["exit"])
    finally:
        lena.close()
