"""Exit rule TEST_MODEL_SAY: after play 2 exited, a colleague's rerun saying the proven weights
are the project's test model un-does the exit only from someone with a say over play 2, or where
the judging machine reads its own copy of the pinned file as the test model.

Forgeries: pia (a pilot user) alone, typing ``test_model`` through the Python API, un-did play 2
for everyone; the lead must not use the "after the exit" window to pass play 2 on the test model
(an exit recorded over a finding made before it). Honest paths: play 2's owner's finding after
the exit un-does it; so does a lead's own look at the pinned file; a play 2 that exited under
the rules before is not left to pia's word either (the rule only takes un-doing away), and its
handoff does not turn stale on a colleague's later rerun that holds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from inhouse.baseline.here import local_test_models
from inhouse.program import Program
from inhouse.program.checks import TEST_MODEL_SAY, CheckContext, Outcome, evaluate
from inhouse.program.facts import Fact, FactSet
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.testmodel import make_test_model
from tests.people import enrol
from tests.test_engine import DIGEST as ENGINE_DIGEST
from tests.test_engine import cast, measured, reproduce, through_play_two  # noqa: F401
from tests.test_engine import play as engine_play
from tests.test_playchecks import (
    DIGEST,
    ISSUER,
    NOW,
    ROSTER,
    person,
    reproducible,
    rerun,
    signed_in,
)

PEOPLE = {
    **ROSTER,
    "pia": person("pia", "legal", "pilot-user"),
    "bea": person("bea", "data"),  # play 2's owner, no role of her own
}
#: play 1 is lena's (she wrote the verdict); play 2 bea's, started at event 1
OWNERS = {"prove-value": "lena", "baseline": "bea"}


def judge(
    *facts: Fact,
    exit_mark: int | None = None,
    rules: int = TEST_MODEL_SAY,
    here: frozenset[str] = frozenset(),
    people: dict[str, Any] | None = None,
    spans: dict[str, Any] | None = None,
) -> Any:
    """``trial-reproduced`` on ``facts``; play 2 exited at event ``exit_mark`` judged by
    ``rules`` (None: it has not exited); ``here``: what the judging machine read."""
    roster = PEOPLE if people is None else people
    exited = {} if exit_mark is None else {"baseline": (NOW - timedelta(days=2), exit_mark)}
    context = CheckContext(
        facts=FactSet(facts),
        people=roster,
        owners=OWNERS,
        now=NOW,
        machines={who: frozenset({f"{who}-laptop"}) for who in roster},
        owner_since={"prove-value": 1, "baseline": 1},
        exited=exited,
        exit_rules={play: rules for play in exited},
        signed_in=signed_in(roster),
        sign_in_issuer=ISSUER,
        test_model_here=here,
        role_spans=spans or {},
    )
    return evaluate("trial-reproduced", context)


def test_pia_alone_cannot_undo_play_two() -> None:
    verdict, honest = reproducible(), rerun()
    forged = rerun(by="pia", test_model=True)
    result = judge(verdict, honest, forged, exit_mark=honest.id)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"pia's rerun (fact #{forged.id}) says" in result.reason
    assert "pia's word" in result.reason, result.reason


def test_before_the_exit_anyone_s_finding_still_blocks() -> None:
    verdict, honest = reproducible(), rerun()
    found = rerun(by="pia", test_model=True)
    result = judge(verdict, honest, found)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"pia's rerun (fact #{found.id}) found the weights" in result.reason
    # the same finding made after the exit is her word
    assert judge(verdict, honest, found, exit_mark=honest.id).outcome is Outcome.PASS


def test_the_lead_cannot_exit_over_a_finding_made_before_the_exit() -> None:
    """The exit recorded after pia's finding (through the API, or as the rerun made before
    anyone could look) does not make it an "after the exit" word."""
    verdict, honest = reproducible(), rerun()
    found = rerun(by="pia", test_model=True)
    result = judge(verdict, honest, found, exit_mark=found.id + 1)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"pia's rerun (fact #{found.id}) found the weights" in result.reason


def test_the_lead_cannot_hide_the_test_model_on_her_own_machine() -> None:
    """Exited on a rerun made before any colleague could look: nobody with a say finds it, but
    the machine that holds the pinned file reads it as the test model."""
    verdict, honest = reproducible(), rerun()
    result = judge(verdict, honest, exit_mark=honest.id, here=frozenset({DIGEST}))
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("this machine's own copy of the pinned file shows"), (
        result.reason
    )
    # pia's word, checked on a machine holding the file, counts as the machine's measurement
    said = rerun(by="pia", test_model=True)
    result = judge(verdict, honest, said, exit_mark=honest.id, here=frozenset({DIGEST}))
    assert result.outcome is Outcome.FAIL, result.reason
    # another file read as the test model says nothing of these weights
    other = frozenset({"sha256:" + "c" * 64})
    assert judge(verdict, honest, said, exit_mark=honest.id, here=other).outcome is Outcome.PASS


def test_play_two_s_owner_s_finding_after_the_exit_undoes_it() -> None:
    verdict, honest = reproducible(), rerun()
    found = rerun(by="bea", test_model=True)
    result = judge(verdict, honest, found, exit_mark=honest.id)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"bea's rerun (fact #{found.id}) found the weights" in result.reason
    # her say decides it: the same finding by pia, who has none, does not
    word = rerun(by="pia", test_model=True)
    assert judge(verdict, honest, word, exit_mark=honest.id).outcome is Outcome.PASS


def test_a_play_owner_s_finding_after_the_exit_undoes_it() -> None:
    verdict, honest = reproducible(), rerun()
    found = rerun(by="omar", test_model=True)  # omar holds play-owner: a lead put him in charge
    result = judge(verdict, honest, found, exit_mark=honest.id)
    assert result.outcome is Outcome.FAIL, result.reason
    # as he was then: the role given him after his rerun does not reach back over it
    later = {"omar": {"play-owner": [(found.id + 1, None)]}}
    word = judge(verdict, honest, found, exit_mark=honest.id, spans=later)
    assert word.outcome is Outcome.PASS, word.reason


def test_an_exit_under_the_rules_before_is_not_undone_by_pia_alone() -> None:
    """The rule only takes un-doing away: a program whose play 2 exited before the upgrade is
    not left to pia's word (she un-did every such exit alone). Someone with a say still un-does
    it, and the machine's own reading does not reach back over it."""
    verdict, honest = reproducible(), rerun()
    found = rerun(by="pia", test_model=True)
    before = TEST_MODEL_SAY - 1
    result = judge(verdict, honest, found, exit_mark=honest.id, rules=before)
    assert result.outcome is Outcome.PASS, result.reason
    assert "pia's word" in result.reason, result.reason
    bea = rerun(by="bea", test_model=True)
    result = judge(verdict, honest, bea, exit_mark=honest.id, rules=before)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"bea's rerun (fact #{bea.id}) found the weights" in result.reason
    # nor does the judging machine's reading reach back over it
    kept = judge(verdict, honest, exit_mark=honest.id, rules=before, here=frozenset({DIGEST}))
    assert kept.outcome is Outcome.PASS, kept.reason


def test_this_machine_reads_its_own_copy_of_the_pinned_file(tmp_path: Path) -> None:
    """The measurement status passes on: the blessed file's content, whatever it is called."""
    make_test_model(tmp_path / "models" / "renamed.gguf")
    (tmp_path / "models" / "real.gguf").write_bytes(b"GGUF not the test model")
    (tmp_path / "inhouse.toml").write_text(
        '[runtimes.local]\nfamily = "llamacpp"\nurl = "http://127.0.0.1:8080"\n\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\n'
        'models = [{name = "m0", path = "models/renamed.gguf"}, '
        '{name = "m1", path = "models/real.gguf"}]\n',
        encoding="utf-8",
    )
    found = local_test_models(tmp_path)
    assert found == frozenset({sha256_digest(tmp_path / "models" / "renamed.gguf")})
    # a path reaching out of the program folder measures nothing
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "inhouse.toml").write_text(
        '[runtimes.local]\nfamily = "llamacpp"\nurl = "http://127.0.0.1:8080"\n\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\n'
        'models = [{name = "m0", path = "../models/renamed.gguf"}]\n',
        encoding="utf-8",
    )
    assert local_test_models(outside) == frozenset()


def test_status_shows_a_colleague_s_word_and_reads_the_file_here(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """Through the real engine: play 2 exited on omar's rerun; a colleague with no say (pia)
    then records a rerun saying the proven weights are the test model. Status shows it as her
    word and play 2 stays exited; the same log judged on a machine whose copy of the pinned
    file reads as the test model fails the check."""
    from inhouse.program.status import build_status

    lena, omar = cast["lena"], cast["omar"]
    through_play_two(lena, omar)
    pia = enrol(lena, "pia", team="legal")
    found = reproduce(pia, test_model=True)
    rows = {row["check"]: row for row in engine_play(lena, 2)["exit"]}
    reproduced = rows["trial-reproduced"]
    assert reproduced["outcome"] == "pass", reproduced["reason"]
    assert f"pia's rerun (fact #{found.id}) says the weights" in reproduced["reason"]
    assert "pia's word" in reproduced["reason"]
    assert engine_play(lena, 2)["state"] == "exited"
    # nor does her word become the exit's evidence: the acceptance does not turn stale on it
    assert not engine_play(lena, 2)["handoff"]["stale"]
    # a test model in the program folder whose digest is not the proven one changes nothing
    other = lena.folder / "models" / "other.gguf"
    make_test_model(other)
    assert local_test_models(lena.folder) == frozenset()  # no [baseline] blesses it yet
    with (lena.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[runtimes.local]\nfamily = "llamacpp"\nurl = "http://127.0.0.1:8080"\n\n'
            '[baseline]\nowner = "lena"\nruntime = "local"\n'
            'models = [{name = "m0", path = "models/other.gguf"}]\n'
        )
    assert local_test_models(lena.folder) == frozenset({sha256_digest(other)})
    rows = {row["check"]: row for row in engine_play(lena, 2)["exit"]}
    assert rows["trial-reproduced"]["outcome"] == "pass", rows["trial-reproduced"]["reason"]
    # judged where the pinned file (the proven digest) reads as the test model
    status = build_status(
        lena.playbook, lena.state(), lena.clock(), here=frozenset({ENGINE_DIGEST})
    )
    rows = {row["check"]: row for row in status["plays"][1]["exit"]}
    assert rows["trial-reproduced"]["outcome"] == "fail", rows["trial-reproduced"]
    assert "this machine's own copy of the pinned file shows" in rows["trial-reproduced"]["reason"]


def test_a_colleague_s_later_holding_rerun_does_not_turn_play_two_stale(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    lena, omar = cast["lena"], cast["omar"]
    through_play_two(lena, omar)
    pia = enrol(lena, "pia", team="legal")
    reproduce(pia)
    measured(omar, "task.named", task="triage", frequency="daily")
    assert not engine_play(lena, 2)["handoff"]["stale"]
    omar.start_play(None, 3)  # was refused: "play 2's accepted handoff is stale"


def test_the_exit_s_pool_stays_the_evidence_while_it_holds() -> None:
    """pia's later rerun that holds does not displace omar's, which play 2 exited on; before the
    exit the latest holding pool is the evidence, and once omar's pool no longer holds, pia's
    is (the exit's evidence changed: its handoff is stale, as it should be)."""
    verdict, honest = reproducible(), rerun()
    later = rerun(by="pia")
    exited = judge(verdict, honest, later, exit_mark=honest.id)
    assert exited.outcome is Outcome.PASS, exited.reason
    assert honest in exited.evidence and later not in exited.evidence, exited.reason
    open_ = judge(verdict, honest, later)
    assert later in open_.evidence and honest not in open_.evidence


def test_a_blessed_file_linked_to_a_model_kept_elsewhere_is_read(tmp_path: Path) -> None:
    """The honest lead keeps the large model once, outside the checkout, and links it into
    models/: status reads the file the link leads to (it measured nothing, and a colleague told
    to check it there was told nothing). A path written outside the folder still measures
    nothing."""
    kept = tmp_path / "store" / "m.gguf"
    kept.parent.mkdir()
    make_test_model(kept)
    folder = tmp_path / "program"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "m.gguf").symlink_to(kept)
    (folder / "inhouse.toml").write_text(
        '[runtimes.local]\nfamily = "llamacpp"\nurl = "http://127.0.0.1:8080"\n\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\n'
        'models = [{name = "m0", path = "models/m.gguf"}]\n',
        encoding="utf-8",
    )
    assert local_test_models(folder) == frozenset({sha256_digest(kept)})
    (folder / "inhouse.toml").write_text(
        '[runtimes.local]\nfamily = "llamacpp"\nurl = "http://127.0.0.1:8080"\n\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\n'
        f'models = [{{name = "m0", path = "{kept}"}}]\n',
        encoding="utf-8",
    )
    assert local_test_models(folder) == frozenset()
