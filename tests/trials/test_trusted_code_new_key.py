"""A key that ran another's code cannot hand its mark on, and the way out still works.

Exit rule 36 (:data:`~inhouse.program.checks.RAN_OTHERS_CODE`) sets aside what omar's key signs
after it ran the Python check code of lena's trial; its way out is a new key. But the new key
of the way out was one his old key could make alone: his key invites "a new machine of his"
(anyone may invite themselves) and a key joins with that invitation. lena's code, running in his
inhouse with his key at hand, does the same in a few lines: it invites omar, joins with a key it
writes where lena can read it, and from then on signs as omar with a key that never ran
anything, every fact of it his own. So a key enrolled through an invitation that a marked key
signed after its mark is marked too (its mark is the same ``code.trusted``), and the way out is
the other one the roster already has: omar revokes the key, and a rollout lead invites him again.

Real parts: SQLite, the llama.cpp engine serving the test model, each person's own key, the CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from inhouse.identity import SigningKey, create_key
from inhouse.program import Program, Provenance
from inhouse.program.checks import MARKED_SERVICE, RAN_OTHERS_CODE
from tests.engine import needs_engine
from tests.people import sign_in_as
from tests.trials.lenas_code import (  # noqa: F401
    HONEST,
    _forget_the_checks_module,
    facts,
    lenas_trial,
    omar_reruns,
    set_aside,
    with_check,
)
from tests.trials.test_rerun import (  # noqa: F401
    omar,
    program,
    run,
)

pytestmark = needs_engine


#: lena's check: once, in whatever inhouse runs it, it invites the key's holder onto "a new
#: machine of theirs", joins with a key it writes beside the checkout (where lena reads it
#: later), and signs an access request with that new key
LENDS_A_KEY = """\
from pathlib import Path

done = []


def looks_fine(output, context):
    from inhouse.identity import create_key
    from inhouse.program import Program, Provenance
    # the organisation's sign-in as the suite stands it in (a program without one has none to
    # pass; with one, a browser session of omar's on his own laptop)
    from tests.people import sign_in_as as sign_in

    if not done:
        done.append(1)
        opened = Program.open(Path.cwd())
        try:
            who = opened.whoami().name
            text = opened.invite(who)
            key = create_key(Path.cwd().parent / "lenas-copy.key")
            opened.join(text, key, at_machine="omar-laptop")
            sign_in(opened.using(key))
            opened.using(key).record_fact(
                None, "access.request", {"person": who, "reason": "let me in"},
                provenance=Provenance.MEASURED, collector="inhouse access")
        finally:
            opened.close()
    return bool(output.strip())
"""


def _key_of(folder: Path, name: str) -> list[str]:
    opened = Program.open(folder)
    try:
        return [k.key_id for k in opened.state().keys_of(name) if k.revoked_at is None]
    finally:
        opened.close()


def _joins_and_asks(folder: Path, invited: str, key: SigningKey, person: str) -> None:
    """``person`` joins with the invitation ``inhouse person invite`` said (``invited``) and
    ``key`` on their own laptop, signs in, and asks for access with that key."""
    invitation = invited.split("inhouse join ")[-1].strip()
    opened = Program.open(folder)
    try:
        opened.join(invitation, key, at_machine=f"{person}-laptop")
        sign_in_as(opened.using(key))
        opened.using(key).record_fact(
            None, "access.request", {"person": person, "reason": "mine"},
            provenance=Provenance.MEASURED, collector="inhouse access",
        )  # fmt: skip
    finally:
        opened.close()


def test_a_key_her_code_enrolled_with_his_key_is_marked_too(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lenas_trial(program, LENDS_A_KEY, monkeypatch)
    omar_reruns(omar)
    assert (program.parent / "lenas-copy.key").exists()  # the forgery held: a key of "his"
    [asked] = [f for f in facts("access.request") if f["by"] == "omar"]
    why = set_aside(program).get(int(asked["id"]))  # type: ignore[call-overload]
    assert why is not None, "what a key her code enrolled in omar's name signed counts as his"
    assert f"exit rule {RAN_OTHERS_CODE}" in why and "lenas_checks:looks_fine" in why, why
    # the way out it names is one her code cannot take: a rollout lead's invitation
    assert "revoke" in why and "rollout lead" in why, why


def test_the_way_out_counts_a_lead_invites_him_again(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """omar ran lena's (honest) code: his key is marked. He revokes it, lena (a rollout lead)
    invites him again, and he joins with a new key on his laptop: what it signs is his."""
    lenas_trial(program, HONEST, monkeypatch)
    omar_reruns(omar)
    [old] = _key_of(program, "omar")
    run("person", "revoke-key", old, env=omar)
    out = run("person", "invite", "omar")  # lena, a rollout lead
    _joins_and_asks(program, out, create_key(program.parent / "omar-new.key"), "omar")
    [asked] = [f for f in facts("access.request") if f["by"] == "omar"]
    assert int(asked["id"]) not in set_aside(program)  # type: ignore[call-overload]


def test_proving_her_proven_trial_again_is_running_her_code(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not only ``--rerun``: omar asked to "prove tickets on your machine" runs the same code of
    lena's on his --trust-python, with his key at hand; what it signs with his key is not his."""
    from tests.trials.test_rerun_trusted_code import SIGNS_FOR_HIM

    lenas_trial(program, SIGNS_FOR_HIM, monkeypatch)
    run("prove", "tickets", "--trust-python", env=omar)
    [trusted] = [f for f in facts("code.trusted") if f["by"] == "omar"]
    assert trusted["payload"]["calls"] == ["lenas_checks:looks_fine"]  # type: ignore[index]
    [asked] = [f for f in facts("access.request") if f["by"] == "omar"]
    why = set_aside(program).get(int(asked["id"]))  # type: ignore[call-overload]
    assert why is not None, "an access request her code signed while he proved counts as his"
    assert f"exit rule {RAN_OTHERS_CODE}" in why, why


def test_lena_proving_her_own_trial_again_records_nothing(
    program: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lenas_trial(program, HONEST, monkeypatch)
    run("prove", "tickets", "--trust-python")
    assert not facts("code.trusted")


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (exit rule 36 reads whose code it is from the log, which cannot "
    "say): a trial nobody proved yet is the first prover's, so omar proving a spec lena wrote, "
    "its check module hers, records no code.trusted, and her code signs as him (a workflow "
    "version nobody published is the same: its first runner becomes its author; and a "
    "module lena edits under omar's own spec runs on his own proof, since the module is no "
    "part of the spec). Closing it marks every key that runs a python check on "
    "--trust-python, its author's own included (a new key per version for anyone using "
    "python checks), or hashes the modules into the spec and its author's signature: the "
    "lead's product decision",
)
def test_proving_first_a_trial_she_wrote_is_running_her_code(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.trials.test_rerun_trusted_code import SIGNS_FOR_HIM

    with_check(program, SIGNS_FOR_HIM, monkeypatch)
    run("prove", "tickets", "--trust-python", env=omar)  # "could you prove it? I'm busy"
    [asked] = [f for f in facts("access.request") if f["by"] == "omar"]
    assert int(asked["id"]) in set_aside(program)  # type: ignore[call-overload]


def test_status_tells_him_his_key_no_longer_signs_for_him(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """lena lures omar into running her (here honest) code: from then on nothing his key signs
    counts as his (his verifies, confirmations, later reruns). ``status`` says so, whoever asks,
    with the way out, until the key is revoked."""
    lenas_trial(program, HONEST, monkeypatch)
    omar_reruns(omar)
    [old] = _key_of(program, "omar")
    said = run("status", env=omar)
    assert f"omar's key {old} ran Python check code" in said, said
    assert f"exit rule {RAN_OTHERS_CODE}" in said and "lenas_checks:looks_fine" in said, said
    assert f"inhouse person revoke-key {old}" in said and "rollout lead" in said, said
    run("person", "revoke-key", old, env=omar)
    assert "ran Python check code" not in run("status")


def test_someone_a_marked_lead_invites_is_not_marked(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mark passes to a new machine of the same person, not to a colleague the marked key
    invites as a rollout lead: zed's key never ran anything, and what zed signs is zed's."""
    run("person", "role", "omar", "--add", "rollout-lead")
    lenas_trial(program, HONEST, monkeypatch)
    omar_reruns(omar)
    out = run("person", "invite", "zed", "--team", "support", env=omar)
    _joins_and_asks(program, out, create_key(program.parent / "zed.key"), "zed")
    [asked] = [f for f in facts("access.request") if f["by"] == "zed"]
    assert int(asked["id"]) not in set_aside(program)  # type: ignore[call-overload]


def test_proving_his_trial_after_him_does_not_make_it_hers(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The trial is its first prover's: lena proving omar's trial after him (to mark his key the
    next time he proves his own) leaves his own proving his own code."""
    with_check(program, HONEST, monkeypatch)
    run("prove", "tickets", "--trust-python", env=omar)
    run("prove", "tickets", "--trust-python")  # lena
    run("prove", "tickets", "--trust-python", env=omar)
    assert not [f for f in facts("code.trusted") if f["by"] == "omar"]


def test_a_later_mark_of_its_own_does_not_lift_the_one_it_joined_with(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key lena's code enrolled in omar's name is marked from its join. Were its own later
    ``code.trusted`` its mark instead, lena could sign as omar with it, then sign a
    ``code.trusted`` with it (hers to sign: she holds the key), and everything it signed before
    that would count as omar's again."""
    from inhouse.checks.function import record_trusted
    from inhouse.identity import load_key

    lenas_trial(program, LENDS_A_KEY, monkeypatch)
    omar_reruns(omar)
    copy = program.parent / "lenas-copy.key"
    [asked] = [f for f in facts("access.request") if f["by"] == "omar"]
    assert int(asked["id"]) in set_aside(program)  # type: ignore[call-overload]
    opened = Program.open(program)
    try:  # lena, with the key she kept: a mark of "its own", after what she signed
        record_trusted(
            opened.using(load_key(copy)), "omar", ["x:y"], "trials/x.yaml", "inhouse prove x"
        )
    finally:
        opened.close()
    why = set_aside(program).get(int(asked["id"]))  # type: ignore[call-overload]
    assert why is not None, "a later code.trusted of the key she kept lifted its mark"
    assert f"exit rule {RAN_OTHERS_CODE}" in why and "lenas_checks:looks_fine" in why, why


def test_a_long_lived_status_names_a_key_that_joins_with_a_marked_invitation(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """A dashboard folds the log into one state as it grows: a key that joins with an invitation
    omar's marked key signed is marked at once, not only once someone records a fact."""
    from inhouse.checks.function import record_trusted
    from inhouse.identity import load_key
    from inhouse.program.counting import marked_keys

    opened = Program.open(program)
    try:
        his = opened.using(load_key(Path(omar["INHOUSE_KEY"])))
        record_trusted(his, "omar", ["x:y"], "trials/x.yaml", "inhouse prove x")
        [before] = marked_keys(opened.state())
        assert "omar's key" in before
        text = his.invite("omar")
        kept = create_key(program.parent / "kept.key")
        his.join(text, kept, at_machine="omar-laptop")
        now = marked_keys(opened.state())
        new = [k for k in _key_of(program, "omar") if k not in before]
        assert len(new) == 1
        assert any(new[0] in line for line in now), now
    finally:
        opened.close()


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (exit rule 36 reads whose code it is from the log, which cannot "
    "say): a trial is its first prover's, so lena proving the trial she wrote after omar "
    "proved it first (at her request; his verdict counting for nothing) marks her key, the "
    "lead's, as having run his code, and sets her own verdict aside (her prove says so); "
    "the other side of the hole above, closed by the same product decision",
)
def test_proving_her_own_trial_after_he_proved_it_first_marks_nothing(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """lena wrote the trial and its check; omar, asked to, proves it first; then lena proves
    her own trial."""
    with_check(program, HONEST, monkeypatch)
    run("prove", "tickets", "--trust-python", env=omar)
    run("prove", "tickets", "--trust-python")
    assert not [f for f in facts("code.trusted") if f["by"] == "lena"]


def test_a_service_a_marked_lead_enrols_after_its_mark_is_marked(
    program: Path,  # noqa: F811
) -> None:
    """Exit rule 39: lena, a rollout lead, ran omar's code; the code enrols "a gateway" with
    lena's key at hand and keeps its key. The service is marked, and what it signs as the
    gateway does not count."""
    from inhouse.checks.function import record_trusted
    from inhouse.program.counting import marked_keys

    opened = Program.open(program)
    try:  # lena, a rollout lead, ran omar's code: the code enrols "a gateway" and keeps its key
        record_trusted(opened, "lena", ["x:y"], "trials/x.yaml", "inhouse prove x")
        kept = create_key(program.parent / "service.key")
        opened.enrol_service("gateway-2", kept)
        assert any(kept.key_id in line for line in marked_keys(opened.state()))
        day = _gateway_day(opened.using(kept))
    finally:
        opened.close()
    why = set_aside(program).get(day)
    assert why is not None, "what the service a marked key enrolled signs counts"
    assert f"exit rule {MARKED_SERVICE}" in why and "lena's key" in why, why


#: omar's check: once, in whatever inhouse runs it (a rollout lead's), it enrols "a gateway"
#: with a key it writes beside the checkout, where omar reads it later
ENROLS_A_GATEWAY = """\
from pathlib import Path

done = []


def looks_fine(output, context):
    from inhouse.identity import create_key
    from inhouse.program import Program

    if not done:
        done.append(1)
        opened = Program.open(Path.cwd())
        try:
            opened.enrol_service("gateway", create_key(Path.cwd().parent / "omars-gateway.key"))
        finally:
            opened.close()
    return bool(output.strip())
"""


def _gateway_day(service: Program) -> int:
    """``service`` (acting with a gateway's key) signs today's usage; returns the fact's id."""
    from datetime import UTC, datetime

    return service.record_fact(
        None, "usage.daily",
        {"day": datetime.now(UTC).date().isoformat(), "people": {}},
        provenance=Provenance.MEASURED, collector="inhouse gateway rollup",
    ).id  # fmt: skip


def test_omars_code_lena_runs_enrols_a_gateway_whose_usage_counts_for_nothing(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The forgery, end to end: omar proves his trial first (his code); lena, the rollout
    lead, proves it after him on her --trust-python, and his code, running in her inhouse
    with her key at hand, enrols "the gateway" with a key it writes where omar reads it.
    What omar signs with it as the gateway (a day's usage, which plays 4-6 count) is set
    aside, naming rule 39 and the way out; ``status`` names the key."""
    from inhouse.identity import load_key

    with_check(program, HONEST, monkeypatch)
    run("prove", "tickets", "--trust-python", env=omar)
    (program / "lenas_checks.py").write_text(ENROLS_A_GATEWAY, encoding="utf-8")
    monkeypatch.delitem(sys.modules, "lenas_checks", raising=False)
    run("prove", "tickets", "--trust-python")  # lena
    kept = program.parent / "omars-gateway.key"
    assert kept.exists()  # the forgery held: a gateway key omar keeps
    [trusted] = [f for f in facts("code.trusted") if f["by"] == "lena"]
    opened = Program.open(program)
    try:
        day = _gateway_day(opened.using(load_key(kept)))
    finally:
        opened.close()
    why = set_aside(program).get(day)
    assert why is not None, "what omar signs with the gateway key his code enrolled counts"
    assert f"exit rule {MARKED_SERVICE}" in why and f"fact #{trusted['id']}" in why, why
    key_id = load_key(kept).key_id
    assert f"`inhouse person revoke-key {key_id}`" in why and "inhouse gateway rollup" in why
    said = " ".join(run("status").split())
    assert f"the gateway service's key {key_id} was enrolled by lena's key" in said, said


def test_a_service_enrolled_before_the_mark_or_by_an_unmarked_lead_counts(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """The honest paths: the gateway lena enrolled before her key ran anything, and one omar
    (a co-lead whose key never ran it) enrols after her mark, sign what counts."""
    from inhouse.checks.function import record_trusted
    from inhouse.identity import load_key
    from inhouse.program.counting import marked_keys

    run("person", "role", "omar", "--add", "rollout-lead")
    before, after = create_key(program.parent / "g1.key"), create_key(program.parent / "g2.key")
    opened = Program.open(program)
    try:
        opened.enrol_service("gateway", before)
        record_trusted(opened, "lena", ["x:y"], "trials/x.yaml", "inhouse prove x")
        opened.using(load_key(Path(omar["INHOUSE_KEY"]))).enrol_service("gateway-2", after)
        days = [_gateway_day(opened.using(before)), _gateway_day(opened.using(after))]
        lines = marked_keys(opened.state())
    finally:
        opened.close()
    assert not [line for line in lines if "service's key" in line], lines
    aside = set_aside(program)
    assert not [aside[d] for d in days if d in aside]


def test_the_way_out_an_unmarked_lead_enrols_the_gateway_again(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """The way out the words name: omar, a rollout lead whose key never ran the code, revokes
    the marked gateway key and enrols a new one for it (what `inhouse gateway rollup` does on
    the gateway's host once its key file is gone): what the new key signs counts, and
    ``status`` no longer names the gateway."""
    from inhouse.checks.function import record_trusted
    from inhouse.identity import load_key

    run("person", "role", "omar", "--add", "rollout-lead")
    marked = create_key(program.parent / "g1.key")
    opened = Program.open(program)
    try:
        record_trusted(opened, "lena", ["x:y"], "trials/x.yaml", "inhouse prove x")
        opened.enrol_service("gateway", marked)
        old = _gateway_day(opened.using(marked))
    finally:
        opened.close()
    said = " ".join(run("status", env=omar).split())
    assert f"the gateway service's key {marked.key_id} was enrolled" in said, said
    assert f"`inhouse person revoke-key {marked.key_id}`" in said, said
    run("person", "revoke-key", marked.key_id, env=omar)
    new = create_key(program.parent / "g2.key")
    opened = Program.open(program)
    try:
        opened.using(load_key(Path(omar["INHOUSE_KEY"]))).enrol_service("gateway", new)
        day = _gateway_day(opened.using(new))
    finally:
        opened.close()
    aside = set_aside(program)
    assert day not in aside, aside.get(day)
    assert old in aside  # what the marked key signed stays set aside
    said = " ".join(run("status").split())
    assert f"the gateway service's key {marked.key_id} was enrolled" not in said, said
    assert f"the gateway service's key {new.key_id} was enrolled" not in said, said


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (exit rule 36's, above, reaching the gateway through rule 39): a "
    "trial is its first prover's, so omar, a member, proving lena's own trial first, unasked, "
    "marks her key when she proves it herself, and the gateway she enrols after (the real "
    "one, on its host) signs nothing that counts until a lead the mark never reached (none, "
    "where she leads alone) enrols it again: a member delays plays 4-6. Closed by the same "
    "product decision as the two above",
)
def test_a_member_proving_her_trial_first_leaves_her_gateway_counting(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """lena wrote the trial and its check; omar proves it first, unasked; lena proves her own
    trial, then enrols the gateway (its key made for it) and the gateway signs a day's usage."""
    with_check(program, HONEST, monkeypatch)
    run("prove", "tickets", "--trust-python", env=omar)
    run("prove", "tickets", "--trust-python")
    gateway = create_key(program.parent / "gateway.key")
    opened = Program.open(program)
    try:
        opened.enrol_service("gateway", gateway)
        day = _gateway_day(opened.using(gateway))
    finally:
        opened.close()
    why = set_aside(program).get(day)
    assert why is None or f"exit rule {MARKED_SERVICE}" not in why, why
