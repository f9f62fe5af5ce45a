"""Play 2, the baseline: someone asked in, the lock, the install script, data rules, a
second person's verify."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from inhouse import figures
from inhouse.figures import share
from inhouse.program.checks import (
    EVERY_ENROLLER,
    FRESH_SEED,
    GATEWAY_HOST,
    RERUN_SERIES,
    SERIES_ORDER,
    TEST_MODEL_SAY,
    CheckContext,
    Outcome,
    Result,
    failed,
    inconclusive,
    not_applicable,
    passed,
    register_check,
)
from inhouse.program.facts import Fact
from inhouse.program.payloads import MAX_QUALITY_FLOOR, MIN_INPUTS, MIN_MEANINGFUL
from inhouse.program.playchecks._shared import (
    NO_DIMENSION,
    NOTHING_PASSED_NEXT,
    Host,
    below_meaningful,
    current_lock,
    early_owners,
    ever_held,
    given,
    hosts_of,
    invited_by_judged,
    kept_from_before,
    names,
    not_counted,
    not_their_measure,
    nothing_passed,
    one_per_machine,
    quality_on_hollow,
    quality_on_time,
    quality_on_unanswered,
    second_person_apart,
    services_enrolled_by,
    split_aside,
    too_few_inputs,
    unpinned_build,
    unsaid_here,
)
from inhouse.program.rerun_series import series_gaps, signer
from inhouse.urls import hidden_host

# the checks are reached through the registry; what else reads the check's judgment imports this
__all__ = ["access_hosts", "costs_confirmation", "reproduced"]


# -- play 2: baseline ------------------------------------------------------------------------------

#: play 1's id in the playbook: its exit lets play 2 start on this trigger
_PROVE = "prove-value"


def access_hosts(ctx: CheckContext, judged: set[str]) -> set[Host]:
    """The services' hosts whose keys :func:`access_requested` counts as ``judged``'s: where
    one of them enrolled its key first (the gateway's). A play 1 that exited under the rule
    before keeps it for the start it let through (and one that exited before every enroller's
    host counted, the first enroller's reading)."""
    if ctx.exited_before(_PROVE, GATEWAY_HOST):
        return set()
    first_only = ctx.exited_before(_PROVE, EVERY_ENROLLER)
    return set(services_enrolled_by(ctx, judged, first_only=first_only))


@register_check("access-requested", reads=("access.request",))
def access_requested(ctx: CheckContext) -> Result:
    """Someone other than the early owners and the rollout leads asked to get in, signed with
    their own key, enrolled from a machine of their own (one laptop with five keys asks once),
    never the gateway's host once one of them enrolled its key there."""
    judged = early_owners(ctx) | ever_held(ctx, "rollout-lead")
    wanted = int(ctx.param("min_people", 1))
    requests = [f for f in ctx.facts.of("access.request") if f.by not in judged]
    # nor is a request whose key was made on the host of a service one of them enrolled there
    # first (the gateway's): whoever runs it holds the key files made there, as plays 4 to 6
    # judge it. A play 1 that exited under the rule before keeps it for the start it let through
    # (and one that exited before every enroller's host counted, the first enroller's reading)
    hosts = access_hosts(ctx, judged)
    counted, aside = one_per_machine(ctx, {f.by for f in requests}, judged, services=hosts)
    aside, unsigned = split_aside(ctx, aside, judged)
    on_hosts = f", or {hosts_of(hosts)}, where one of them enrolled its key" if hosts else ""
    note = not_counted([
        f"{names(aside)}, enrolled from a machine an owner, a lead or another of them "
        f"enrolled from{on_hosts}" if aside else "",
        unsigned,
    ])  # fmt: skip
    if len(counted) >= wanted:
        mine = [f for f in requests if f.by in counted]
        return passed(f"access requested by {names(counted)}{note}", *mine)
    return failed(
        f"access requested by {figures.count(len(counted), 'people')} other than the owners and "
        "leads, need "
        f"{wanted}: the person who wants in runs `inhouse access request` with their own key"
        f"{note}",
        *requests,
    )


@register_check("baseline-pinned", reads=("baseline.lock", "trial.verdict"))
@given(current_lock, "no baseline lock: run `inhouse baseline lock`")
def baseline_pinned(ctx: CheckContext, lock: Fact) -> Result:
    """The lock names one runtime and one or two blessed models, each with a content digest,
    and blesses the weights play 1's trial proved, where the trial could name them (a baseline
    of other weights was never proven; a later proven verdict naming no weights unties
    nothing)."""
    most = int(ctx.param("max_models", 2))
    models = lock.payload["models"]
    if not 1 <= len(models) <= most:
        return failed(f"the lock blesses {len(models)} models; the play allows 1 to {most}", lock)
    runtime = lock.payload["runtime"]
    names = ", ".join(f"{m['name']}@{str(m['digest'])[:19]}" for m in models)
    # a verdict that named the proven weights is what ties the lock to them: a later one that
    # names none (the shape from before trials named them) does not untie it
    proven = _tied_verdict(ctx) or ctx.facts.latest(
        "trial.verdict", lambda f: f.payload["verdict"] == "proven"
    )
    candidate = (proven.payload.get("candidate") or {}) if proven is not None else {}
    if proven is None or not candidate:
        return passed(f"{runtime['family']} {runtime['version']} with {names}", lock)
    trial, digest = proven.payload["trial"], candidate.get("digest")
    if not digest:
        return passed(
            f"{runtime['family']} {runtime['version']} with {names}; note: trial {trial}'s "
            f"runtime did not name the weights it served ({candidate['model']}), so nothing ties "
            "this lock to what play 1 proved",
            lock,
            proven,
        )
    if not any(str(m["digest"]) == digest for m in models):
        return failed(
            f"the lock blesses {names}, but trial {trial}'s verdict names "
            f"{candidate['model']}@{str(digest)[:19]} as proven: lock the weights that were "
            "proven, or prove the ones you lock "
            "(`inhouse prove`)",
            lock,
            proven,
        )
    # the verdict's word, not a proof that counts: play 1's value-proven judges that
    return passed(
        f"{runtime['family']} {runtime['version']} with {names}, the weights trial {trial}'s "
        "verdict names as proven",
        lock,
        proven,
    )


@register_check("install-script-written", reads=("baseline.lock", "baseline.install_script"))
@given(current_lock, "no baseline lock, so no install script for it: run `inhouse baseline lock`")
def install_script_written(ctx: CheckContext, lock: Fact) -> Result:
    """An install script was written for the current lock."""
    lock_hash = lock.payload["lock_hash"]
    script = ctx.facts.latest(
        "baseline.install_script", lambda f: f.payload["lock_hash"] == lock_hash
    )
    if script is None:
        return failed(
            "no install script for the current lock: run `inhouse baseline install-script`", lock
        )
    return passed(f"{script.payload['path']} written for lock {lock_hash[:12]}", lock, script)


@register_check("data-rules-written", reads=("baseline.lock",))
@given(current_lock, "no baseline lock: write data rules in inhouse.toml and lock the baseline")
def data_rules_written(ctx: CheckContext, lock: Fact) -> Result:
    """Data-handling rules are written and part of the lock."""
    if not lock.payload["rules_hash"]:
        return failed(
            "the lock has no data-handling rules: add a [data_rules] table to inhouse.toml and "
            "re-lock (`inhouse baseline lock`)",
            lock,
        )
    return passed(f"rules {lock.payload['rules_hash'][:12]} are in the lock", lock)


@register_check("second-person-verified", reads=("baseline.lock", "baseline.verify"))
@given(current_lock, "no baseline lock to verify against: run `inhouse baseline lock`")
def second_person_verified(ctx: CheckContext, lock: Fact) -> Result:
    """Someone other than the baseline's owner, and no rollout lead (exit rule 17: a lead puts
    the owner in charge, who may type what she dictates), passed `baseline verify` on the
    current lock, and their runtime served the digests the lock pins (a verify from before
    verifies named the digests they found is judged by its lock hash, which a counted lock ties
    to its digests), answered on their own machine by a verify that says so (one from an
    inhouse before verifies checked that says nothing of where it was answered; a play 2 that
    exited keeps its exit).
    Outside a demo, the inhouse that ran it came from a package index (the release the lock
    pins), not from a folder or URL: such a build can report anything."""
    result = _second_person(ctx, lock)
    if _BASELINE not in ctx.exited:
        return result

    # each rule came after programs had exited play 2 without it: such an exit stands, said,
    # for the verifies it was judged on
    def judged(fact: Fact) -> bool:
        return ctx.spared(_BASELINE, fact)

    said = "a verify had to say its runtime answered on the verifier's own machine"
    if result.outcome is Outcome.PASS:
        # a verify that did not say so may be what play 2 exited on, the latest beside one that
        # does: that exit saw the same (Result.earlier)
        before = _second_person(ctx, lock, here=judged)
        if before.outcome is Outcome.PASS and before.evidence != result.evidence:
            return replace(result, earlier=before.evidence)
        return result
    # the rule on where the verify's inhouse came from, and on where its runtime answered,
    # came after programs had exited play 2: they spare the verifies the exit was judged on,
    # never one recorded since nor one it left out (of a re-lock, by a build its author handed
    # round from a folder or URL, or by a stale install)
    return kept_from_before(
        result,
        (lambda: _second_person(ctx, lock, here=judged), f"play 2 exited before {said}"),
        (
            lambda: _second_person(ctx, lock, here=judged, origin=judged),
            "play 2 exited before a verify had to run an inhouse installed from a package "
            f"index (the release the lock pins), not from a folder or URL, and before {said}",
        ),
    )


def _none(fact: Fact) -> bool:
    return False


def _second_person(
    ctx: CheckContext,
    lock: Fact,
    *,
    origin: Callable[[Fact], bool] = _none,
    here: Callable[[Fact], bool] = _none,
) -> Result:
    """``second-person-verified``'s judgment: a verify ``origin`` does not spare (the default
    spares none) run by an inhouse installed from a folder or URL (not the release the lock
    pins) counts only in a demo; one ``here`` does not spare that does not say its runtime
    answered on the verifier's machine counts for nothing."""
    # the play's owner, the owner the lock names and whoever signed the lock are all "the owner"
    owners = {str(o) for o in (ctx.owners.get("baseline"), lock.payload.get("owner"), lock.by) if o}
    lock_hash = lock.payload["lock_hash"]
    locked = _pins(lock.payload["models"])
    verifies = ctx.facts.of("baseline.verify")
    named = [f for f in verifies if f.payload["passed"] and f.payload["lock_hash"] == lock_hash]
    good = [f for f in named if f.payload.get("models") is None
            or _pins(f.payload["models"]) == locked]  # fmt: skip
    # a build installed from a folder or URL ran the verify: it says whatever its author wrote
    unpinned = {f.id: why for f in good if not origin(f) and (why := unpinned_build(ctx, f))}
    why_not = {
        f.id: second_person_apart(ctx, f, owners, play=_BASELINE)
        or unpinned.get(f.id)
        or (None if here(f) else unsaid_here(f))
        for f in good
    }
    by_other = [f for f in good if why_not[f.id] is None]
    if by_other:
        fact = by_other[-1]
        where = "imported from their machine" if fact.imported else "on their own machine"
        note = invited_by_judged(ctx, fact.by, owners)
        return passed(f"{fact.by} verified lock {lock_hash[:12]} {where}{note}", lock, fact)
    mismatched = [f for f in named if f not in good]
    if mismatched:
        served = "; ".join(f"{f.by} was served {_shown(_pins(f.payload['models']))}"
                           for f in mismatched)  # fmt: skip
        return failed(
            f"{figures.count(len(mismatched), 'passing verifies')} of lock {lock_hash[:12]} found "
            "other weights "
            f"than it pins ({_shown(locked)}): {served}; a second person verifies on a machine "
            "that serves the locked weights (`inhouse baseline verify`)",
            lock,
            *mismatched,
        )
    if good:
        reasons = "; ".join(sorted({str(why) for why in why_not.values()}))
        return failed(
            f"no verify of the current lock by a second person on their own machine ({reasons}): "
            "someone other than the owner stands the baseline up from the docs with their own "
            "inhouse and key (`inhouse baseline install`, which ends with `inhouse baseline "
            "verify`)",
            lock,
            *good,
        )
    stale = [f for f in verifies if f.payload["passed"] and f.payload["lock_hash"] != lock_hash]
    if stale:
        return failed(
            f"{figures.count(len(stale), 'passing verifies')} "
            f"{'is' if len(stale) == 1 else 'are'} for an earlier lock; re-verify lock "
            f"{lock_hash[:12]} as a second person",
            lock,
        )
    return failed(
        f"no passing verify of lock {lock_hash[:12]}: a second person runs `inhouse baseline "
        "install` with their own inhouse (it ends with `inhouse baseline verify`)",
        lock,
    )


def _pins(models: list[dict[str, object]]) -> list[tuple[str, str]]:
    """Models as (name, digest) pairs, in a fixed order, to compare a verify with a lock."""
    return sorted((str(m["name"]), str(m["digest"])) for m in models)


def _shown(pins: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name}@{digest[:19]}" for name, digest in pins) or "no blessed model"


#: the shipped playbook, its version that made play 2 ask for a rerun of play 1's trial, and
#: that play's id
_SHIPPED, _RERUN_SINCE, _BASELINE = "local-model-program", 2, "baseline"


@register_check("trial-reproduced", reads=("trial.verdict", "trial.rerun"))
def trial_reproduced(ctx: CheckContext) -> Result:
    """Someone other than the proven verdict's author (and play 1's owner), and no rollout lead
    (exit rule 17), on a machine none of them enrolled a key from, reran the proven trial head
    to head (`inhouse prove NAME --rerun`): the same spec (its hash, at least 5 task inputs),
    on the weights the verdict proved (their digest), answered by the runtime on their own
    machine, with a pass rate no more than the spec's quality floor below the verdict's (a
    colleague's reruns of the same spec and weights are judged together, their inputs added
    up, so asking for another draw adds data, not a second chance; each colleague's apart, and
    only whole: each rerun names its place in its key's series of the spec, and a pool whose
    series the log lacks a rerun of is inconclusive until they are imported, exit rule 25);
    against the same status
    quo (the claim hash), every advantage the verdict claimed (it names at least one) cleared
    its threshold (at least 10 %) on the rerun's own figures (an API
    status quo answered from the rerunner's machine, and the candidate's quality held even
    with the inputs it gave no answer to counted as its passes, and the candidate's passes its
    checks judged nothing of as failures), and a manual status quo's minutes,
    a person's word, were confirmed by the rerunner, as were the outputs its CSV holds where its
    quality was judged on them (its author typed them), an API status quo being how the
    task is done today (its author chose it) and the typed costs a "cheaper" claim rests on
    (else inconclusive: whose word they are). Outside a demo, the inhouse that ran the rerun
    came from a package index, not from a folder or URL: such a build runs the trial and judges
    both sides as its author wrote it, with the rerunner's key. A colleague's rerun whose
    runtime found the project's test model behind the proven weights fails it; once play 2
    exited (exit rule 26), only a rerun by someone with a say over play 2 then, or this
    machine's own reading of the pinned file, does: anyone else's is shown as their word.
    Where the trial samples (a temperature above 0), a rerun that says it sent the verdict's
    seed, or none, replayed the verdict's draw and counts for nothing (exit rule 33)."""
    verdict = ctx.facts.latest("trial.verdict", lambda f: f.payload["verdict"] == "proven")
    if verdict is None and ctx.facts.latest("trial.verdict") is None:
        # play 1 claimed nothing (its exit was waived, on the record): there is no quality to
        # reproduce, and the lock is tied to no proven weights either (baseline-pinned)
        return not_applicable(
            "no trial verdict in the log: play 1 claimed nothing for anyone to reproduce"
        )
    result = _reproduced(ctx, verdict)
    if result.outcome is Outcome.PASS:
        if _BASELINE in ctx.exited:
            # before a colleague's reruns were judged together, their latest alone could be
            # what play 2 exited on, and before older inhouses' reruns were set aside, the latest
            # of them: that exit saw the same (Result.earlier)
            for before in (
                _reproduced(ctx, verdict, pooled=False),
                _reproduced(ctx, verdict, older=False, pooled=False),
            ):
                if before.outcome is Outcome.PASS and before.evidence != result.evidence:
                    return replace(result, earlier=before.evidence)
        return result
    shipped, version = ctx.created_with or ("", _RERUN_SINCE)
    if shipped == _SHIPPED and version < _RERUN_SINCE:
        return _first_playbook(ctx, result, version, verdict)
    exit_ = ctx.exited.get(_BASELINE)
    if exit_ is None:
        return result
    if verdict is not None and not ctx.spared(_BASELINE, verdict):
        # a verdict recorded since play 2 exited, or one it left out, is reproduced by today's
        # rules, as in any program: the rules before spare only the verdict the exit was judged
        # on
        return result
    # each rule came after programs had exited play 2 without it: such an exit stands, said
    # (the reach guards judge exits by the checks loaded now, and would lock its pilot out)
    # every rule below came before a claimed advantage's threshold had a floor: each judges
    # without it
    earlier = partial(
        _reproduced,
        ctx,
        verdict,
        meaningful=False,
        judged_passes=False,
        enough=False,
        pooled=False,
    )
    return kept_from_before(
        result,
        (
            lambda: _reproduced(ctx, verdict, advantage=False),
            "play 2 exited before a colleague's reruns' claimed advantage was judged together "
            "(the latest rerun's alone counted)",
        ),
        (
            lambda: _reproduced(ctx, verdict, pooled=False),
            "play 2 exited before a colleague's reruns of the same spec and weights were judged "
            "together (any one of them that held counted)",
        ),
        (
            lambda: _reproduced(ctx, verdict, enough=False, pooled=False),
            f"play 2 exited before a proven verdict and its rerun had to rest on at least "
            f"{MIN_INPUTS} task inputs, and before a colleague's reruns were judged together",
        ),
        (
            lambda: earlier(),
            f"play 2 exited before a claimed advantage's threshold had to be at least "
            f"{MIN_MEANINGFUL:g} %, and before a rerun's quality had to hold with the "
            "candidate's passes on inputs whose checks pass an answer given for nothing "
            "counted as failed cases",
        ),
        (
            lambda: earlier(plain=False),
            "play 2 exited before a rerunner's word on an API status quo counted only on an "
            "address written as the host its requests reach (no user part before it, no "
            "look-alike in other letters)",
        ),
        (
            lambda: earlier(outputs=False, plain=False),
            "play 2 exited before a manual status quo's quality, judged on the outputs its "
            "author typed into its CSV, needed the rerunner's word on them, which it lacks",
        ),
        (
            lambda: earlier(older=False, outputs=False, plain=False),
            "play 2 exited before a rerun had to say what its quality checks did on an answer "
            "given for nothing, or how many of its inputs are distinct tasks (one by an older "
            "inhouse counted where no trial fact said it)",
        ),
        (
            lambda: earlier(answered=False, outputs=False, plain=False),
            "play 2 exited before a rerun's quality had to hold with the inputs its status quo "
            "gave no answer to counted as the status quo's passes, on checks that do not judge "
            "how long an answer took or what it cost",
        ),
        (
            lambda: earlier(blank=False, outputs=False, plain=False),
            "play 2 exited before a rerun's quality had to rest on checks an empty answer (or "
            "off-topic prose) fails",
        ),
        (
            lambda: earlier(costs=False, blank=False, outputs=False, plain=False),
            "play 2 exited before a 'cheaper' claim needed the rerunner's word on the costs its "
            "author typed, which it lacks",
        ),
        (
            lambda: earlier(costs=False, quo=False, blank=False, outputs=False, plain=False),
            "play 2 exited before a rerun needed the rerunner's word that an API status quo is "
            "how the task is done today (and on a 'cheaper' claim's typed costs), which it lacks",
        ),
        (
            lambda: earlier(claim=False, blank=False, outputs=False, plain=False),
            "play 2 exited before a rerun had to reproduce the verdict's claimed advantage too, "
            "which it does not",
        ),
    )


def _first_playbook(
    ctx: CheckContext, result: Result, version: int, verdict: Fact | None
) -> Result:
    """A program created with the shipped playbook's v1, which asked for no rerun."""
    exit_ = ctx.exited.get(_BASELINE)
    if exit_ is None:
        return replace(
            result,
            reason=f"{result.reason} (the program was created with playbook {_SHIPPED} "
            f"v{version}, but its play 2 has not exited: what a v1 program's exit spares it is "
            "an exit it made)",
        )
    # the rule came with v2: judging a program whose play 2 exited before it by the rule would
    # re-judge every pilot grant it made since as held back (the reach guards judge exits by the
    # checks loaded now), and lock its pilot out of the gateway at upgrade. Only an exit it made
    # spares it: its first event, which names v1, is its lead's to write, so a program created today
    # could name v1 too (with no rules recorded, nothing else in the log tells it from one a release
    # before them created: tests/test_created_with.py), and the exit is not hers alone (play 3's
    # owner, another person, accepts it with their own key). And the exit spares only the weights it
    # was judged on: a verdict recorded since on other weights (which a re-lock then blesses through
    # baseline-pinned) is rerun like any program's, and so is the one the lock is tied to (the
    # latest proven verdict naming its weights), which a later verdict naming none must not hide. (A
    # rerun that holds still passes: an exit accepted on it must not turn stale when it is
    # recorded.)
    judged = [v for v in (verdict, _tied_verdict(ctx)) if v is not None]
    unspared = [v for v in judged if not _judged_at_exit(ctx, v, exit_[1])]
    if not unspared:
        on = (
            f" on trial {verdict.payload['trial']}'s verdict (fact #{verdict.id})"
            if verdict
            else ""
        )
        return not_applicable(
            f"the program was created with playbook {_SHIPPED} v{version}, which did not ask "
            f"for someone else's rerun of play 1's trial, and its play 2 exited{on}; a verdict "
            "recorded since on other weights needs one, as in a program created now (`inhouse "
            "prove NAME --rerun`, by the colleague who verifies the baseline)"
        )
    if unspared[0] is not verdict:
        result = _reproduced(ctx, unspared[0])
        if result.outcome is Outcome.PASS:
            return result
    return replace(
        result,
        reason=f"{result.reason} (the program was created with playbook {_SHIPPED} v{version} "
        f"and its play 2 exited at event {exit_[1]} without a rerun, but that exit spares only "
        f"the weights it was judged on: fact #{unspared[0].id}, recorded after it, proved "
        "others)",
    )


def _tied_verdict(ctx: CheckContext) -> Fact | None:
    """The latest proven verdict that names the weights it proved: the one baseline-pinned
    ties the lock to."""
    return ctx.facts.latest(
        "trial.verdict",
        lambda f: (
            f.payload["verdict"] == "proven"
            and bool((f.payload.get("candidate") or {}).get("digest"))
        ),
    )


def _judged_at_exit(ctx: CheckContext, verdict: Fact, exited_at: int) -> bool:
    """Whether play 2's first exit (event ``exited_at``), in a program created before the
    rerun rule, was judged on ``verdict``'s claim: it was recorded before that exit; or it was
    recorded since on the weights a verdict before the exit proved (or names none, and ties
    the lock to nothing): what the lock blesses stays what the exit was judged on. A verdict
    since on other weights, which a re-lock would bless, is nobody's but its author's until
    someone reruns it."""
    if verdict.id < exited_at:
        return True
    digest = (verdict.payload.get("candidate") or {}).get("digest")
    if not digest:
        return True
    return any(
        (f.payload.get("candidate") or {}).get("digest") == digest
        for f in ctx.facts.of("trial.verdict")
        if f.id < exited_at and f.payload["verdict"] == "proven"
    )


def reproduced(ctx: CheckContext, verdict: Fact) -> Result:
    """Whether someone other than ``verdict``'s author (and play 1's owner) reproduced it, by
    today's rules (:func:`trial_reproduced`'s judgment of one proven verdict, whichever it is):
    what makes the weights it names proven for play 3's workflow."""
    return _reproduced(ctx, verdict)


def unreproducible(
    ctx: CheckContext, verdict: Fact | None, *, claim: bool = True, enough: bool = True
) -> Result | None:
    """Why nobody can reproduce ``verdict`` (the latest proven one) until play 1 proves it
    (again), or None: there is none, it names no spec, pass rate, status quo, advantage or
    weights, allows too wide a floor, rests on too few inputs or on the test model. Its
    author's step, or play 1's, not a rerunner's (``inhouse status``'s next steps read it);
    ``claim`` and ``enough`` as :func:`_reproduced`."""
    if verdict is None:
        return failed("no proven trial verdict to reproduce: play 1 proves one (`inhouse prove`)")
    name, data = verdict.payload["trial"], verdict.payload
    rerun = f"`inhouse prove {name} --rerun`"
    claimed, spec_hash = data.get("candidate_pass_rate"), data.get("spec_hash")
    if not spec_hash or claimed is None:
        return failed(
            f"trial {name}'s verdict (fact #{verdict.id}) was recorded before verdicts named the "
            "spec and pass rate they measured, so nobody can reproduce it: its owner runs "
            f"`inhouse prove {name}` again, then someone else reruns it on their own machine "
            f"({rerun})",
            verdict,
        )
    if claim and not data.get("claim_hash"):
        return failed(
            f"trial {name}'s verdict (fact #{verdict.id}) was recorded before verdicts named "
            "the status quo they measured against, so nobody can reproduce its claimed "
            f"advantage: its owner runs `inhouse prove {name}` again, then someone else reruns "
            f"it on their own machine ({rerun})",
            verdict,
        )
    if claim and not data.get("proven_on"):
        return failed(
            f"trial {name}'s verdict (fact #{verdict.id}, by {verdict.by}) says proven, but "
            f"{NO_DIMENSION.replace('NAME', name)}",
            verdict,
        )
    if claim and float(data.get("quality_floor") or 0) > MAX_QUALITY_FLOOR:
        return failed(
            f"trial {name}'s verdict (fact #{verdict.id}) allowed a quality floor of "
            f"{float(data['quality_floor']):g} points, over the {MAX_QUALITY_FLOOR:g} a trial "
            "may allow: a rerun within it would reproduce almost any claim; set "
            f"`quality_floor` to at most {MAX_QUALITY_FLOOR:g} and prove it again "
            f"(`inhouse prove {name}`)",
            verdict,
        )
    if enough and (few := too_few_inputs(data)) is not None:
        return failed(
            f"trial {name}'s verdict (fact #{verdict.id}, by {verdict.by}) says proven, but "
            f"{few}; give trials/{name}.yaml at least {MIN_INPUTS} real, distinct task inputs, "
            f"prove it again (`inhouse prove {name}`) and have it rerun ({rerun})",
            verdict,
        )
    digest = (data.get("candidate") or {}).get("digest")
    if not digest:
        return failed(
            f"trial {name}'s verdict (fact #{verdict.id}) names no weights (its runtime did not "
            "say which it served), so no rerun can be shown to run the same: prove it on a "
            f"runtime that names its weights (`inhouse prove {name}`)",
            verdict,
        )
    if data.get("test_model") and not ctx.demo:
        return failed(
            f"trial {name}'s candidate was the project's test model (random weights): a rerun "
            "of it reproduces nothing worth proving; prove a real model (only a demo program "
            "accepts it)",
            verdict,
        )
    return None


def _reproduced(
    ctx: CheckContext,
    verdict: Fact | None,
    *,
    claim: bool = True,
    costs: bool = True,
    quo: bool = True,
    blank: bool = True,
    older: bool = True,
    answered: bool = True,
    outputs: bool = True,
    plain: bool = True,
    meaningful: bool = True,
    judged_passes: bool = True,
    enough: bool = True,
    pooled: bool = True,
    advantage: bool = True,
) -> Result:
    """:func:`trial_reproduced`'s judgment, for a program the check applies to; without
    ``claim``, the rule as it was before a rerun had to reproduce the claimed advantage (the
    candidate's quality alone, any floor); without ``costs``, as it was before a "cheaper"
    claim's typed costs needed the rerunner's word; without ``quo``, as it was before an API
    status quo needed the rerunner's word that it is how the task is done today; without
    ``blank``, as it was before a rerun's quality had to rest on checks an empty answer fails;
    without ``older``, as it was before a rerun by an older inhouse was set aside
    (:func:`_older_rerun`; first where an earlier trial fact said what it lacks, then always);
    without ``answered``, as it was before a
    rerun's quality had to hold with the inputs its status quo gave no answer to counted as
    the status quo's passes (:func:`~inhouse.program.playchecks._shared.quality_on_unanswered`),
    on checks that do not judge time or cost
    (:func:`~inhouse.program.playchecks._shared.quality_on_time`); without ``outputs``, as it
    was before a manual status quo's typed outputs needed the rerunner's word; without
    ``plain``, as it was before that word counted only on an address written as the host its
    requests reach (:func:`_hidden_endpoint`); without ``meaningful``, as it was before a
    claimed advantage's threshold had to be at least
    :data:`~inhouse.program.payloads.MIN_MEANINGFUL` (:func:`below_meaningful`); without
    ``judged_passes``, as it was before the candidate's quality had to hold with its passes
    on inputs whose checks pass an answer given for nothing counted as failed cases
    (:func:`~inhouse.program.playchecks._shared.quality_on_hollow`); without ``enough``, as it
    was before the verdict and the rerun had to rest on at least
    :data:`~inhouse.program.payloads.MIN_INPUTS` inputs (:func:`too_few_inputs`); without
    ``pooled``, as it was before a colleague's reruns were judged together (:func:`_pools`):
    each rerun on its own, any that held counting; without ``advantage``, as it was before the
    pool's claimed advantage was judged on all its reruns (exit rule 28), the latest's alone. A
    gap in a colleague's series (:func:`_gaps`) counts under every earlier rule: its rule has a
    number (exit rule 25), and an exit judged before it spares the reruns it was judged on."""
    unmet = unreproducible(ctx, verdict, claim=claim, enough=enough)
    if unmet is not None:
        return unmet
    assert verdict is not None  # unreproducible() said so
    name, data = verdict.payload["trial"], verdict.payload
    rerun = f"`inhouse prove {name} --rerun`"
    claimed, spec_hash = data.get("candidate_pass_rate"), data.get("spec_hash")
    digest = (data.get("candidate") or {}).get("digest")
    # the verdict's signer wrote the claim; play 1's owner owns it: neither reproduces it
    judged = {str(o) for o in (verdict.by, ctx.owners.get("prove-value")) if o}
    reruns = [f for f in ctx.facts.of("trial.rerun") if f.payload["trial"] == name]
    same = [f for f in reruns if f.payload["spec_hash"] == spec_hash]
    on_weights = [f for f in same if f.payload.get("digest") == digest]
    why_not = {
        f.id: second_person_apart(ctx, f, judged, play=_BASELINE)
        or not_their_measure(f)
        or _unplaced(f)
        or unpinned_build(ctx, f)
        for f in on_weights
    }
    elsewhere = [f for f in on_weights if why_not[f.id] is None]
    # the verdict's test_model is its author's word; a colleague's own runtime that found the
    # project's test model behind the proven digest measured it, on the word of the colleague
    # (:func:`_test_model_found`)
    spotted = [f for f in elsewhere if f.payload.get("test_model")]
    found_test = ""
    if not data.get("test_model") and not ctx.demo:
        found = _test_model_found(ctx, spotted, verdict, str(digest))
        if isinstance(found, Result):
            return found
        found_test, words = found
        # a rerun that says it ran random weights reproduces nothing, nor becomes the exit's
        # evidence (its acceptance would turn stale on one person's word)
        elsewhere = [f for f in elsewhere if f not in words]
    # where the trial samples, a rerun that sent the verdict's seed replayed the verdict's draw,
    # which its author may have picked among many private tries (exit rule 33): it counts for
    # nothing, nor pools with the colleague's honest draws
    replayed = {f.id: why for f in elsewhere if (why := _replayed_draw(ctx, verdict, f))}
    elsewhere = [f for f in elsewhere if f.id not in replayed]
    # a colleague's reruns of the same spec and weights are one body of evidence, judged
    # together: a lead who has them rerun until one draw holds adds data, not lottery tickets
    members = _pools(
        elsewhere,
        pooled=pooled,
        aside=lambda f: older and _older_rerun(ctx, f),
        logged=lambda f: ctx.spared(_BASELINE, f, rule=SERIES_ORDER),
    )
    # and judged only whole (exit rule 25): a pool whose key's series the log lacks a rerun of
    # would be the reruns someone chose to import. Whatever earlier rule judges the rest, a
    # gap counts: an exit under the rules before spares the reruns it was judged on (_gaps)
    gaps = _gaps(ctx, members)
    elsewhere = [
        _pooled(pool, advantage=advantage) for key, pool in members.items() if key not in gaps
    ]

    def all_of(*facts: Fact) -> list[Fact]:
        return [m for f in facts for m in members[f.id]]

    # the floor of the spec the colleague ran, which its hash covers (never the verdict's word)
    floor = {f.id: float(f.payload["quality_floor"]) for f in elsewhere}
    met = [
        f for f in elsewhere
        if _points(f.payload["pass_rate"]) >= _points(claimed) - floor[f.id]
    ]  # fmt: skip
    # quality "held" on checks that pass an empty answer on every input holds for any answer:
    # the trial's author wrote those checks, and a colleague's honest rerun of them tells
    # nothing about the candidate's answers
    hollow = [f for f in met if blank and (_hollow(ctx, f) or (older and _older_rerun(ctx, f)))]
    held = [f for f in met if f not in hollow]
    problems = {
        f.id: (
            (
                False,
                f"{f.by}'s rerun of trial {name} (fact #{f.id}) held, but {few}: it reproduces "
                f"nothing worth a program; give trials/{name}.yaml at least {MIN_INPUTS} real, "
                f"distinct task inputs, prove it again (`inhouse prove {name}`) and have it "
                f"rerun ({rerun})",
            )
            if enough and (few := too_few_inputs(f.payload)) is not None
            else _claim_problem(
                verdict,
                f,
                costs=costs,
                quo=quo,
                answered=answered,
                outputs=outputs,
                plain=plain,
                meaningful=meaningful,
                judged_passes=judged_passes,
                demo=ctx.demo,
            )
            if claim
            else None
        )
        for f in held
    }
    for f in held:  # a pooled figure is said to be one
        if (problem := problems[f.id]) is not None and len(members[f.id]) > 1:
            problems[f.id] = (problem[0], f"{problem[1]}{_pool_note(members[f.id], f.by)}")
    upheld = [f for f in held if problems[f.id] is None]
    if upheld:
        # once play 2 exited, the pool its exit was judged on stays its evidence while it holds:
        # another colleague's later rerun that holds too changes nothing the exit rests on, and
        # as the latest it turned the accepted handoff stale, one person alone holding play 3
        # back (a pool that grew since is judged whole, and is still the one)
        kept = [f for f in upheld if any(ctx.spared(_BASELINE, m) for m in members[f.id])]
        fact = (kept or upheld)[-1]
        note = invited_by_judged(ctx, fact.by, judged)
        demo = " (demo program: the test model)" if data.get("test_model") else ""
        return passed(
            f"{fact.by} reran trial {name} on their own machine: pass rate "
            f"{_shown_rate(fact.payload['pass_rate'])} over {fact.payload['inputs']} inputs, "
            f"the verdict claimed {_shown_rate(claimed)} (floor {floor[fact.id]:g} points)"
            f"{_pool_note(members[fact.id])}"
            f"{_upheld(verdict, fact) if claim else ''}{demo}{note}{found_test}",
            verdict,
            *all_of(fact),
        )
    if gaps:
        latest = max(gaps)
        return inconclusive(_gap_reason(name, *gaps[latest]), verdict, *members[latest])
    if replayed and not elsewhere:
        fact = next(f for f in reversed(on_weights) if f.id in replayed)
        reran = _reran(ctx, verdict, fact)  # whose draw it replayed
        return inconclusive(
            f"{fact.by}'s rerun of trial {name} (fact #{fact.id}) {replayed[fact.id]}, so it "
            f"replayed the verdict's draw (fact #{reran.id}, by {reran.by}), which its "
            f"author may have picked among many private tries, and reproduced nothing of the "
            f"model's (exit rule {FRESH_SEED}); {fact.by} reruns it with an inhouse that draws "
            f"a seed of its own ({rerun})",
            verdict,
            *(f for f in on_weights if f.id in replayed),
        )
    if hollow and not held:
        fact = hollow[-1]
        if (stale := _older_rerun(ctx, fact)) is not None and not _hollow(ctx, fact):
            return failed(
                f"{fact.by}'s rerun of trial {name} (fact #{fact.id}) {stale}, so it cannot "
                f"show the trial's quality checks judge what the answers say; {fact.by} "
                f"upgrades inhouse and reruns it ({rerun})",
                verdict,
                *all_of(*hollow),
            )
        if fact.payload.get("proved") == 0 and nothing_passed(fact.payload.get("pass_rate")):
            return failed(
                f"{fact.by}'s rerun of trial {name} passed none of its {fact.payload['inputs']} "
                "inputs: its quality held only beside a verdict that passed as few, which "
                f"reproduces nothing of what the model's answers are worth; {NOTHING_PASSED_NEXT}"
                f", prove it again (`inhouse prove {name}`) and have it rerun ({rerun})",
                verdict,
                *all_of(*hollow),
            )
        return failed(
            f"{fact.by}'s rerun of trial {name} passed {_shown_rate(fact.payload['pass_rate'])} "
            f"of {fact.payload['inputs']} inputs, but on no input did the candidate pass a case "
            f"{_hollow(ctx, fact)} fails: the trial's quality checks pass whatever the model "
            "says, so its quality was not reproduced; give trials/"
            f"{name}.yaml checks that judge what the answer says (contains, regex, llm-rubric, "
            f"…), prove it again (`inhouse prove {name}`) and have it rerun ({rerun})",
            verdict,
            *all_of(*hollow),
        )
    if held:
        fact = held[-1]
        problem = problems[fact.id]
        assert problem is not None
        word_only, why = problem
        return (inconclusive if word_only else failed)(why, verdict, *all_of(fact))
    if elsewhere:
        fact = elsewhere[-1]
        return failed(
            f"{fact.by}'s rerun of trial {name} passed {_shown_rate(fact.payload['pass_rate'])} "
            f"of {fact.payload['inputs']} inputs{_pool_note(members[fact.id])}, but the "
            f"verdict (fact #{verdict.id}, by {verdict.by}) claimed {_shown_rate(claimed)}: "
            f"more than the quality floor ({floor[fact.id]:g} points) below it, so its quality "
            f"was not reproduced; prove the trial again (`inhouse prove {name}`) and have it "
            f"rerun ({rerun})",
            verdict,
            *all_of(*elsewhere),
        )
    if on_weights:
        reasons = "; ".join(sorted({str(why) for why in why_not.values()}))
        return failed(
            f"no rerun of trial {name} by someone other than {names(sorted(judged))} on their "
            f"own machine ({reasons}): the colleague who verifies the baseline reruns it there "
            f"with their own key ({rerun})",
            verdict,
            *on_weights,
        )
    if same:
        served = "; ".join(
            f"{f.by} was served {str(f.payload.get('digest') or 'unnamed weights')[:19]}"
            for f in same
        )
        return failed(
            f"{figures.count(len(same), 'reruns')} of trial {name} ran other weights than the "
            "verdict proved "
            f"({str(digest)[:19]}): {served}; rerun it on a runtime serving the locked weights "
            f"({rerun})",
            verdict,
            *same,
        )
    if reruns:
        hashes = ", ".join(sorted({str(f.payload["spec_hash"])[:19] for f in reruns}))
        return failed(
            f"{figures.count(len(reruns), 'reruns')} of trial {name} ran another spec ({hashes}) "
            "than the "
            f"verdict (fact #{verdict.id}) measured ({str(spec_hash)[:19]}): rerun the spec "
            f"that was proven ({rerun})",
            verdict,
            *reruns,
        )
    return failed(
        f"nobody has reproduced trial {name}'s verdict (fact #{verdict.id}, by {verdict.by}): "
        f"someone other than its author reruns it on their own machine ({rerun})",
        verdict,
    )


#: the counts a rerun records of its inputs, which a colleague's pool adds up (None in any
#: rerun of the pool, recorded before reruns said: None in the pool too)
_SUMMED = ("passed", "proved", "on_topic", "status_quo_unanswered", "status_quo_cut_short")


def _pools(
    reruns: list[Fact],
    *,
    pooled: bool = True,
    aside: Callable[[Fact], object] = _none,
    logged: Callable[[Fact], bool] = _none,
) -> dict[int, list[Fact]]:
    """``reruns`` (counted, of one spec on one set of weights, oldest first) as each colleague's
    pool, keyed by its latest rerun's id: every completed rerun a colleague made is one body of
    evidence (a rerun that did not complete recorded nothing, nor one in which a request to the
    candidate failed: ``inhouse prove --rerun`` refuses to record those, so a runtime that died
    partway sinks no pool, while answers the checks fail count). Each colleague's pool is judged
    apart, any one holding sufficing: a pool is one person's runs on their own machine and
    runtime, which another's do not measure; pooling across people would let one colleague's
    broken runtime sink another's honest rerun, and a lead has no more tickets by asking more
    people than by asking one again, since each must be someone else on a machine of their own
    (and she herself never counts, exit rule 17). A rerun ``aside`` says is set aside (an older
    inhouse's, which counts for nothing either way) stays on its own, as every rerun does
    without ``pooled`` (before reruns were pooled). Each pool is in its series' order
    (:func:`_series_order`, exit rule 30) unless ``logged`` says a play 2 exit was judged on
    every rerun of it in the log's order."""
    by: dict[str, list[Fact]] = {}
    for fact in reruns:
        key = fact.by if pooled and not aside(fact) else f"#{fact.id}"
        by.setdefault(key, []).append(fact)
    pools = [pool if all(logged(f) for f in pool) else _series_order(pool) for pool in by.values()]
    return {pool[-1].id: pool for pool in sorted(pools, key=lambda p: p[-1].id)}


def _series_order(pool: list[Fact]) -> list[Fact]:
    """``pool`` (in the log's order) with each key's series of a spec in it in the order its
    key made them (their ``place`` numbers, exit rule 30,
    :data:`~inhouse.program.checks.SERIES_ORDER`): the log's order of imported envelopes is
    whoever imported them's to choose, so a lead who imported a colleague's reruns whole, the
    draws that cleared last, made one of them the pool's latest. Each series keeps the places
    in the pool its reruns held; a rerun that names no place keeps its own."""
    series: dict[tuple[str, str], list[int]] = {}
    for index, fact in enumerate(pool):
        if fact.payload.get("place"):
            series.setdefault((signer(fact), str(fact.payload["spec_hash"])), []).append(index)
    ordered = list(pool)
    for indexes in series.values():
        made = sorted((pool[i] for i in indexes), key=lambda f: int(f.payload["place"]["number"]))
        for index, fact in zip(indexes, made, strict=True):
            ordered[index] = fact
    return ordered


def _gaps(
    ctx: CheckContext, members: dict[int, list[Fact]]
) -> dict[int, tuple[Fact, tuple[int, ...]]]:
    """The pools of ``members`` (:func:`_pools`) whose key's series of the spec the log does
    not hold whole (:func:`~inhouse.program.rerun_series.series_gaps`), each with its latest
    rerun that shows the gap and the numbers missing below it. A pool a play 2 exit under the
    rules before was judged on keeps being judged as it was (every rerun of it spared)."""
    logged = [
        *ctx.facts.of("trial.rerun"),
        *(item.fact for item in ctx.uncounted_of(["trial.rerun"])),
    ]
    found: dict[int, tuple[Fact, tuple[int, ...]]] = {}
    for key, pool in members.items():
        if all(ctx.spared(_BASELINE, f, rule=RERUN_SERIES) for f in pool):
            continue
        if shown := series_gaps(pool, logged):
            fact = max((f for f in pool if f.id in shown), key=lambda f: f.id)
            found[key] = (fact, shown[fact.id])
    return found


def _gap_reason(name: str, fact: Fact, missing: tuple[int, ...]) -> str:
    """What a pool with a gap in its key's series says: which rerun names which as before it,
    and the way out (import them)."""
    if len(missing) == 1:
        words = f"rerun {missing[0]} is"
    elif list(missing) == list(range(missing[0], missing[-1] + 1)):
        words = f"reruns {missing[0]} to {missing[-1]} are"
    else:
        words = f"reruns {', '.join(map(str, missing[:-1]))} and {missing[-1]} are"
    key = f" ({fact.key})" if fact.key else ""
    number = fact.payload["place"]["number"]
    return (
        f"{fact.by}'s rerun of trial {name} (fact #{fact.id}) is rerun {number} of its spec "
        f"that {fact.by}'s key{key} sealed, but {words} not in the log: {fact.by}'s reruns of "
        "one spec are judged together, and without those the pool would be the reruns someone "
        f"chose to import (exit rule {RERUN_SERIES}); import them from {fact.by}'s checkout "
        "(`inhouse evidence export -o FILE` there, `inhouse evidence import FILE` here), and "
        "all of them are judged together"
    )


def _pooled(pool: list[Fact], *, advantage: bool = True) -> Fact:
    """One colleague's reruns of the same spec and weights as one rerun over all their paired
    inputs: the same statistics a single rerun's quality uses (the candidate's pass rate
    against the verdict's less the floor, and against the status quo's, both by their point),
    on the inputs added up; with ``advantage``, the claimed advantage too, by the share of
    inputs whose reruns cleared it (:func:`_pooled_advantage`, exit rule 28); the rest (the
    confirmations, what its inhouse was, and without ``advantage`` the claimed advantage) as
    the latest rerun says it. A single rerun is itself."""
    latest = pool[-1]
    if len(pool) == 1:
        return latest
    data = dict(latest.payload)
    counts = [int(f.payload["inputs"]) for f in pool]
    total = sum(counts)
    data["inputs"] = total

    def weighted(key: str) -> float | None:
        rates = [float(r) for f in pool if (r := f.payload.get(key)) is not None]
        if len(rates) < len(pool):
            return None
        return sum(r * n for r, n in zip(rates, counts, strict=True)) / total

    data["pass_rate"] = weighted("pass_rate")
    quo = weighted("status_quo_pass_rate")
    data["status_quo_pass_rate"] = quo
    floor = float(latest.payload["quality_floor"])
    compared = [f.payload.get("quality_ok") for f in pool]
    # the same rule as one rerun's (the candidate trails by at most the floor, by the point
    # difference of the two sides' pass rates over every paired input)
    data["quality_ok"] = (
        None
        if quo is None or any(q is None for q in compared)
        else _points(data["pass_rate"]) - _points(quo) >= -floor
    )
    for key in _SUMMED:
        values = [int(v) for f in pool if (v := f.payload.get(key)) is not None]
        data[key] = sum(values) if len(values) == len(pool) else None
    if advantage:
        data.update(_pooled_advantage(pool, counts, total))
    return replace(latest, payload=data)


def _pooled_advantage(pool: list[Fact], counts: list[int], total: int) -> dict[str, Any]:
    """A colleague's pool's claimed advantage (exit rule 28,
    :data:`~inhouse.program.checks.POOLED_ADVANTAGE`): a dimension the latest rerun cleared
    stays cleared only where the reruns that cleared it hold at least half the pool's inputs
    (``pooled_cleared``: dimension -> [their inputs, the pool's]). The latest rerun alone decided
    it before: a lead who had her colleague rerun until one draw of a noisy latency cleared
    "faster" held a lottery ticket per draw, which pooling the quality had taken away. A share of
    inputs, not a mean of the reruns' improvements: an improvement is a percentage of the status
    quo's figure, which one draw against a status quo answering in no time sends to -10,000 %."""
    cleared = list(pool[-1].payload.get("proven_on") or [])
    thresholds = pool[-1].payload.get("thresholds") or {}
    shares: dict[str, list[int]] = {}
    for name in [d for d in cleared if d in thresholds]:  # a figure with a threshold to clear
        held = sum(n for f, n in zip(pool, counts, strict=True)
                   if name in (f.payload.get("proven_on") or []))  # fmt: skip
        shares[name] = [held, total]
        if 2 * held < total:
            cleared.remove(name)
    return {"proven_on": cleared, "pooled_cleared": shares}


def _pool_note(pool: list[Fact], who: str = "their") -> str:
    """Which reruns a colleague's pooled figures add up, or "" for a single rerun."""
    if len(pool) == 1:
        return ""
    ids = ", ".join(f"#{f.id}" for f in pool)
    whose = who if who == "their" else f"{who}'s"
    return f" ({whose} {len(pool)} reruns of it judged together: facts {ids})"


def _claim_problem(
    verdict: Fact,
    rerun: Fact,
    *,
    costs: bool = True,
    quo: bool = True,
    answered: bool = True,
    outputs: bool = True,
    plain: bool = True,
    meaningful: bool = True,
    judged_passes: bool = True,
    demo: bool = False,
) -> tuple[bool, str] | None:
    """Why a rerun whose quality held does not reproduce the verdict's claimed advantage, and
    whether only a person's word is missing (a manual status quo's minutes, or the outputs
    its quality was judged on, an API status quo being the one the task is done with today, or
    the costs a "cheaper" claim rests on, no one else confirmed: inconclusive, never a pass);
    None where it does."""
    name, who, data = verdict.payload["trial"], rerun.by, rerun.payload
    again = f"`inhouse prove {name} --rerun`"
    if data.get("proven_on") is None or not data.get("claim_hash"):
        return False, (
            f"{who}'s rerun of trial {name} ran only its candidate side (recorded before a "
            "rerun ran the status quo too), so nothing reproduced the advantage the verdict "
            f"claimed ({_dims(verdict.payload['proven_on'])}): rerun it ({again})"
        )
    if data["claim_hash"] != verdict.payload["claim_hash"]:
        return False, (
            f"{who}'s rerun of trial {name} measured against another status quo, costs or "
            f"thresholds ({str(data['claim_hash'])[:19]}) than the verdict (fact "
            f"#{verdict.id}) did ({str(verdict.payload['claim_hash'])[:19]}): rerun the trial "
            f"that was proven ({again})"
        )
    if not data.get("quality_ok"):
        # the verdict's candidate and status quo pass rates are its author's to type: a claim of
        # a low candidate rate beside an equally low status quo makes any candidate "hold"; the
        # rerun judges the two sides' quality on its own answers
        if data.get("quality_ok") is None:
            return False, (
                f"{who}'s rerun of trial {name} did not compare the candidate's quality with the "
                f"status quo's (recorded before reruns did): rerun it ({again})"
            )
        theirs = data.get("status_quo_pass_rate")
        rate = "?" if theirs is None else _shown_rate(theirs)
        how = "measured" if data.get("status_quo_measured") else "stated"
        return False, (
            f"on {who}'s own rerun of trial {name} the candidate passed "
            f"{_shown_rate(data['pass_rate'])} and the status quo {rate} ({how}): the candidate "
            f"trailed it by more than the quality floor ({float(data['quality_floor']):g} "
            f"points), so the verdict's (fact #{verdict.id}, by {verdict.by}) acceptable "
            f"quality did not hold from another machine; prove the trial again (`inhouse prove "
            f"{name}`) and have it rerun ({again})"
        )
    if answered and (why := quality_on_unanswered(data, data.get("pass_rate"))) is not None:
        return False, (
            f"on {who}'s own rerun of trial {name} {why}: the verdict's (fact #{verdict.id}, by "
            f"{verdict.by}) acceptable quality did not hold against a status quo that answered; "
            f"make the status quo answer every input (its `timeout` and the `generation` "
            f"settings in trials/{name}.yaml), prove the trial again (`inhouse prove {name}`) "
            f"and have it rerun ({again})"
        )
    if answered and (why := quality_on_time(data)) is not None:
        return False, (
            f"on {who}'s own rerun of trial {name} {why}; take those checks out of trials/"
            f"{name}.yaml, prove the trial again (`inhouse prove {name}`) and have it rerun "
            f"({again})"
        )
    hollow = quality_on_hollow(data, data.get("pass_rate"), demo=demo)
    if judged_passes and hollow is not None:
        return False, (
            f"on {who}'s own rerun of trial {name} {hollow}: the verdict's (fact #{verdict.id}, "
            f"by {verdict.by}) acceptable quality did not hold on answers its checks judged; "
            f"give those inputs checks that judge what the answer says (or take them out of "
            f"trials/{name}.yaml), prove the trial again (`inhouse prove {name}`) and have it "
            f"rerun ({again})"
        )
    low = below_meaningful(data.get("thresholds"), verdict.payload["proven_on"])
    if meaningful and low is not None:
        return False, (
            f"on {who}'s own rerun of trial {name} the verdict (fact #{verdict.id}, by "
            f"{verdict.by}) {low}; set `meaningful` in trials/{name}.yaml to what a win worth a "
            f"program is (at least {MIN_MEANINGFUL:g}), prove the trial again (`inhouse prove "
            f"{name}`) and have it rerun ({again})"
        )
    missing = [d for d in verdict.payload["proven_on"] if d not in data["proven_on"]]
    if missing:
        pooled = data.get("pooled_cleared") or {}
        figures = "; ".join(
            f"{d} cleared on reruns holding {pooled[d][0]} of their {pooled[d][1]} inputs, "
            "fewer than half"
            if d in pooled
            else f"{d} {float(data['improvement'][d]):+.1f} %"
            for d in missing
            if d in pooled or d in (data.get("improvement") or {})
        )
        return False, (
            f"the verdict (fact #{verdict.id}, by {verdict.by}) claimed the candidate "
            f"{_dims(verdict.payload['proven_on'])}, but on {who}'s own rerun "
            f"{_dims(missing)} did not clear its threshold"
            f"{f' ({figures})' if figures else ''}: the claimed advantage did not hold from "
            f"another machine; prove the trial again (`inhouse prove {name}`) and have it "
            f"rerun ({again})"
        )
    words, flags = [], []
    if _manual(verdict, rerun) and not data.get("status_quo_confirmed"):
        # a stated pass rate rides on the same confirmation: said here, so a colleague who
        # confirms what this asks of them confirms it knowingly, not the minutes alone
        words.append(
            f"its status quo is the minutes {verdict.by} recorded for the manual process"
            f"{_stated(verdict, rerun)}: their word alone, which nothing measures"
        )
        flags.append("--confirm-minutes COMMENT")
    if outputs and _typed_outputs(verdict, rerun) and not data.get("outputs_confirmed"):
        # the CSV's outputs are what the status quo's "measured" quality is judged on: its
        # author typed them, and wrong ones make any candidate's quality "acceptable"
        words.append(
            f"its status quo's quality was judged on the outputs {verdict.by} typed into the "
            "manual process's CSV: their word alone that the process gave them, which nothing "
            "measures"
        )
        flags.append("--confirm-outputs COMMENT")
    where = data.get("status_quo_endpoint")
    # a word given on an address written as another host than it reaches (a user part before
    # the host, a look-alike in other letters) was given on what its author wrote, not on what
    # the rerun measured (an inhouse that let such an address through recorded it)
    hidden = _hidden_endpoint(where) if plain and data.get("api_confirmed") else None
    if quo and hidden is not None:
        words.append(
            f"{who} confirmed its status quo on the address {verdict.by} wrote ({where}), but "
            f"{hidden}; {verdict.by} writes it so in trials/{name}.yaml and proves it again "
            f"(`inhouse prove {name}`), and {who} confirms the status quo they are shown"
        )
        flags.append("--confirm-status-quo COMMENT")
    elif quo and not _manual(verdict, rerun) and not data.get("api_confirmed"):
        # the rerun answers the status quo again, but from wherever its author pointed it: a
        # slow or weak endpoint of theirs, reached from both machines, makes any candidate win
        words.append(
            f"its status quo is the API {verdict.by} chose{f' ({where})' if where else ''}: "
            "their word alone that it is how the task is done today, which the rerun measures "
            "again but cannot tell"
        )
        flags.append("--confirm-status-quo COMMENT")
    if costs and _priced(verdict) and not data.get("costs_confirmed"):
        words.append(
            f"its 'cheaper' rests on costs {verdict.by} typed into the trial ({_typed(verdict)}): "
            "their word alone, which the rerun re-measures none of (it measures the tokens and "
            "busy time they multiply)"
        )
        flags.append("--confirm-costs COMMENT")
    if words:
        return True, (
            f"{who}'s rerun of trial {name} held, but {'; and '.join(words)}; {who} (or another "
            "colleague who reruns it) confirms them with their own key, saying on what "
            f"(`inhouse prove {name} --rerun {' '.join(flags)}`){_unread_costs(verdict, rerun)}"
        )
    return None


def _hidden_endpoint(endpoint: Any) -> str | None:
    """Why a rerun's recorded ``status_quo_endpoint`` ("MODEL at URL") names its status quo's
    address as another host than its requests reached (:func:`~inhouse.urls.hidden_host`), or
    None."""
    if not isinstance(endpoint, str) or " at " not in endpoint:
        return None
    return hidden_host(endpoint.rsplit(" at ", 1)[1])


def costs_confirmation(ctx: CheckContext, verdict: Fact) -> Fact | None:
    """The ``trial.rerun`` by which play 2's ``trial-reproduced`` counts the costs ``verdict``'s
    author typed (its "cheaper" claim's prices, hourly cost, hardware and power) as confirmed
    by the colleague who reran it, with their own key (``costs_confirmed``); None where they are
    its author's word alone: no "cheaper" claimed (no rerun confirms its costs), or no rerun the
    check counts confirmed them. Judged by the check's own rule, so what play 6's report says of
    whose word its money figures rest on is what play 2 counts."""
    if verdict.payload.get("verdict") != "proven" or not _priced(verdict):
        return None
    result = _reproduced(ctx, verdict)
    if result.outcome is not Outcome.PASS and ctx.spared(_BASELINE, verdict):
        # a rerun before an API status quo needed its word still confirmed the costs (of the
        # verdict play 2 exited on: one recorded since, or one it left out, is judged as the
        # check judges it)
        result = _reproduced(
            ctx, verdict, quo=False, blank=False, outputs=False, enough=False, pooled=False
        )
    if result.outcome is not Outcome.PASS:
        return None
    return next(
        (f for f in result.evidence
         if f.kind == "trial.rerun" and f.payload.get("costs_confirmed")),
        None,
    )  # fmt: skip


def _priced(verdict: Fact) -> bool:
    """Whether the verdict claimed "cheaper": a comparison of costs its author typed."""
    return "cheaper" in (verdict.payload.get("proven_on") or [])


def _typed(verdict: Fact) -> str:
    """The typed cost inputs a verdict's "cheaper" rests on, as its economics recorded them."""
    economics = verdict.payload.get("economics") or {}
    currency = economics.get("currency") or ""
    parts = []
    if economics.get("api_price_input_per_mtok") is not None:
        parts.append(
            f"the API's prices, {float(economics['api_price_input_per_mtok']):g} in / "
            f"{float(economics.get('api_price_output_per_mtok') or 0):g} out {currency} per "
            "million tokens"
        )
    elif economics.get("status_quo") == "manual":
        parts.append("the manual process's hourly cost")
    else:
        parts.append("the status quo's prices")
    local = economics.get("local") or {}
    if local:
        parts.append(
            f"the candidate's {float(local.get('watts') or 0):g} W at "
            f"{float(local.get('price_per_kwh') or 0):g} {currency}/kWh and hardware of "
            f"{float(local.get('hardware_price') or 0):g} {currency} over "
            f"{float(local.get('lifetime_hours') or 0):g} h at "
            f"{float(local.get('utilisation') or 0):g} utilisation"
        )
    else:
        parts.append("the candidate's hardware and power costs")
    return "; ".join(parts)


def _upheld(verdict: Fact, rerun: Fact) -> str:
    """What the rerun reproduced of the claimed advantage, and whose word stands in it."""
    data = rerun.payload
    dims = _dims(verdict.payload["proven_on"])
    costs = (
        f"; the costs {verdict.by} typed, which {rerun.by} confirmed (their word: "
        f"{data['costs_confirmed']})"
        if _priced(verdict) and data.get("costs_confirmed")
        else _unread_costs(verdict, rerun)
    )
    if _manual(verdict, rerun):
        outputs = (
            f"; its quality rests on the outputs {verdict.by} typed, which {rerun.by} confirmed "
            f"(their word: {data['outputs_confirmed']})"
            if _typed_outputs(verdict, rerun) and data.get("outputs_confirmed")
            else ""
        )
        stated = _stated(verdict, rerun, compared=False)
        return (
            f"; {dims} held on their figures, against the manual minutes {verdict.by} "
            f"recorded{stated}, which {rerun.by} confirmed (their word: "
            f"{data['status_quo_confirmed']}){outputs}{costs}"
        )
    quo = (
        f", which {rerun.by} confirmed is how the task is done today (their word: "
        f"{data['api_confirmed']})"
        if data.get("api_confirmed")
        else ""
    )
    return (
        f"; {dims} held on their figures, the status quo answering from their machine{quo}{costs}"
    )


def _unread_costs(verdict: Fact, rerun: Fact) -> str:
    """Where ``rerun`` carries its signer's word on the costs (``--confirm-costs``) and the
    verdict claimed no "cheaper", the only claim they decide: that no check reads it, said
    (a checkout holds no verdict to refuse the flag by, so it was signed there); else ""."""
    if _priced(verdict) or not rerun.payload.get("costs_confirmed"):
        return ""
    return (
        f"; {rerun.by}'s word on the costs {verdict.by} typed (--confirm-costs: "
        f"{rerun.payload['costs_confirmed']}) is read by no check: the verdict claimed no "
        "'cheaper', the only claim they decide"
    )


def _manual(verdict: Fact, rerun: Fact) -> bool:
    """Whether the status quo was a manual process, by the rerun's word or the verdict's (a
    rerun saying "api" of a manual trial skips no one's confirmation)."""
    economics = verdict.payload.get("economics") or {}
    return rerun.payload.get("status_quo") == "manual" or economics.get("status_quo") == "manual"


def _stated(verdict: Fact, rerun: Fact, *, compared: bool = True) -> str:
    """Where the rerun compared the candidate's quality with a pass rate the manual status
    quo's author stated (its CSV holds no outputs): that rate, as the same confirmation as the
    minutes covers it (``--confirm-minutes``); else "". A stated rate is its author's to pick,
    and a low one makes any candidate's quality "acceptable", so whoever confirms is shown it."""
    data = rerun.payload
    rate = data.get("status_quo_pass_rate")
    if not _manual(verdict, rerun) or data.get("status_quo_measured") or rate is None:
        return ""
    said = f" and the pass rate {verdict.by} stated for it ({_shown_rate(rate)})"
    return f"{said}, which the candidate's quality was compared with" if compared else said


def _typed_outputs(verdict: Fact, rerun: Fact) -> bool:
    """Whether the rerun's quality comparison judged the status quo on outputs a person typed:
    a manual status quo (:func:`_manual`) whose pass rate the rerun measured on its CSV's
    outputs (``status_quo_measured``; the same CSV as the verdict's, which the claim hash
    binds)."""
    return bool(rerun.payload.get("status_quo_measured")) and _manual(verdict, rerun)


def _dims(dims: Any) -> str:
    return ", ".join(str(d) for d in dims) or "no dimension"


def _hollow(ctx: CheckContext, rerun: Fact) -> str | None:
    """What answer given for nothing the rerun's quality checks passed on every input its
    candidate passed, or None where they judge what the answers say: an empty answer
    (``proved`` 0), or, outside a demo (whose test model writes nonsense no check tells from
    it), prose about something else as long as the candidate's answer (``on_topic`` 0: a
    length bound, a pattern any text matches). A rerun from before reruns said counts as before."""
    if rerun.payload.get("proved") == 0:
        return "an empty answer"
    if rerun.payload.get("on_topic") == 0 and not ctx.demo:
        return "off-topic prose as long as its answer"
    return None


#: what a rerun says of its quality checks, each field with what an inhouse that did not record
#: it did not do (a rerun made before the field was recorded has none)
_JUDGED_ON = {
    "proved": "judge its checks on an empty answer",
    "on_topic": "judge its checks on off-topic prose as long as its answer",
    "timed_checks": "say whether its checks judge how long an answer took or what it cost",
    # (a trial whose inputs repeat, one ticket five times, is refused before a rerun runs)
    "distinct_inputs": "look whether its task inputs are distinct tasks (one ticket five "
    "times over counts as five)",
    # (a spec whose threshold is below it is refused before a rerun runs)
    "thresholds": f"say what each claimed advantage had to clear (at least {MIN_MEANINGFUL:g} %)",
}


def _older_rerun(ctx: CheckContext, rerun: Fact) -> str | None:
    """Why ``rerun`` was made by an inhouse older than the one judging it: it does not say what
    its checks did on an answer given for nothing (``proved``, ``on_topic``), whether they
    judge time or cost (``timed_checks``), or how many of its inputs are distinct tasks
    (``distinct_inputs``), which every rerun today's inhouse makes says (a
    colleague's stale install, a lock pinning an old release); None otherwise. Whether an
    earlier trial fact said it does not matter: the verdict is its author's to record as an old
    inhouse would (or to type without them), and a program none of whose trial facts said it
    would count an honest rerun of checks that pass any answer "as before". A play 2 that
    exited on such a rerun keeps its exit (:func:`trial_reproduced`)."""
    earlier = [
        f for f in (*ctx.facts.of("trial.verdict"), *ctx.facts.of("trial.rerun"))
        if f.id < rerun.id
    ]  # fmt: skip
    for field, decoy in _JUDGED_ON.items():
        if rerun.payload.get(field) is not None or (field == "on_topic" and ctx.demo):
            continue
        newer = next((f for f in earlier if f.payload.get(field) is not None), None)
        if newer is not None:
            return (
                f"was made by an inhouse older than the one that recorded fact #{newer.id}: it "
                f"did not {decoy}"
            )
        return f"was made by an inhouse older than this one: it did not {decoy}"
    return None


def _samples(said: Any) -> bool:
    """Whether a recorded ``seed`` (:class:`~inhouse.program.payloads.SeedSent`) says the spec
    samples: a temperature above 0, or none (the server's default, above 0)."""
    if not isinstance(said, dict) or "temperature" not in said:
        return False
    temperature = said["temperature"]
    return temperature is None or float(temperature) > 0


def _replayed_draw(ctx: CheckContext, verdict: Fact, rerun: Fact) -> str | None:
    """Why ``rerun`` drew nothing of its own (exit rule 33,
    :data:`~inhouse.program.checks.FRESH_SEED`), or None: where the trial samples (as the
    verdict or the rerun records its temperature), a rerun that says which seed its requests
    carried and names the verdict's (the one the verdict sent, or the spec's, which the spec
    hash it shares with the verdict covers), or none at all (its server's own default, which
    its operator sets). A rerun recorded before reruns said their seed is judged as before, as
    is one a play 2 exit under the rules before was judged on. At temperature 0 every answer is
    the model's most likely one, whatever the seed: there is no draw to replay.
    The verdict is the one the rerun reran (:func:`_reran`): a later verdict's record of its
    seed is its author's word, and naming the seed a colleague drew would take his draw out of
    his pool."""
    said = rerun.payload.get("seed")
    if not isinstance(said, dict) or ctx.spared(_BASELINE, rerun, rule=FRESH_SEED):
        return None
    verdict = _reran(ctx, verdict, rerun)
    theirs = verdict.payload.get("seed")
    if not (_samples(theirs) or _samples(said)):
        return None
    recorded = theirs if isinstance(theirs, dict) else {}
    temperature = (recorded if _samples(theirs) else said).get("temperature")
    at = "the server's default temperature"
    if temperature is not None:
        at = f"temperature {float(temperature):g}"
    sent = said.get("sent")
    if sent is None:
        return f"sent no seed at {at} (its server drew with whatever seed it was started with)"
    if sent in {recorded.get("sent"), said.get("spec")} - {None}:
        return f"sent the verdict's seed ({sent}) at {at}"
    return None


def _reran(ctx: CheckContext, verdict: Fact, rerun: Fact) -> Fact:
    """The proven verdict ``rerun`` reran, whose seed it may have replayed (exit rule 33): the one
    it names, where the log holds it as a proven verdict of the spec it reran; else (a rerun made in
    a checkout without the log, which names none) the spec's first proven verdict, which was in some
    log before anyone could rerun the spec: a later one's record of its seed (its author's word)
    could name a seed a colleague drew, imported after it, and take his draw out of his pool. Honest
    verdicts of one spec send the seed its hash covers, so the first says what any does; else
    ``verdict``."""
    named = rerun.payload.get("verdict")
    trial, spec = verdict.payload["trial"], verdict.payload.get("spec_hash")
    proven = [
        f
        for f in ctx.facts.of("trial.verdict")
        if f.payload["trial"] == trial
        and f.payload["verdict"] == "proven"
        and f.payload.get("spec_hash") == spec
    ]
    return next((f for f in proven if f.id == named), proven[0] if proven else verdict)


def _unplaced(rerun: Fact) -> str | None:
    """Why a rerun that does not say its answers came from its runner's machine cannot count
    (one that says they came from elsewhere: :func:`served_elsewhere`)."""
    if rerun.payload.get("runtime_local") is None:
        return f"{rerun.by}'s rerun does not say which machine answered it"
    return None


def _points(rate: Any) -> float:
    """A pass rate (0..1) in points (0..100), rounded so that equal rates compare equal."""
    return round(float(rate) * 100, 6)


def _shown_rate(rate: Any) -> str:
    return f"{share(float(rate))}"


#: the command that reads the pinned file on the machine it runs on: status fills
#: :attr:`~inhouse.program.checks.CheckContext.test_model_here` from the program's blessed files
_CHECK_HERE = "`inhouse status` in the program folder, on a machine that holds the pinned file"


def _test_model_found(
    ctx: CheckContext, spotted: list[Fact], verdict: Fact, digest: str
) -> Result | tuple[str, list[Fact]]:
    """What second persons' reruns saying the proven weights are the project's test model
    (``spotted``, their ``test_model``) do to ``trial-reproduced``: a failure, or a note for its
    reason ("" for none) with the reruns that are only their rerunners' word. Before play 2 exits,
    any such finding fails it (a lead passing play 2 on the test model is what it guards against).
    After, under :data:`~inhouse.program.checks.TEST_MODEL_SAY`, a finding un-does the exit only
    from someone with a say over play 2 when they reran (:func:`_say_over_baseline`), or where the
    judging machine read its own copy of the pinned file as the test model
    (:attr:`~inhouse.program.checks.CheckContext.test_model_here`): anyone else's is their word,
    shown with the command that checks it. The rule only takes un-doing away, so a play 2 that
    exited under the rules before has it too: a finding since its exit fails it only from someone
    with a say then (the judging machine's reading does not reach back over it), one before is a
    note."""
    name = verdict.payload["trial"]
    exited = ctx.exited.get(_BASELINE)
    here = digest in ctx.test_model_here
    if exited is not None and ctx.exited_before(_BASELINE, TEST_MODEL_SAY):
        # the rule only takes un-doing away, so an exit under the rules before has it too (a
        # pilot user's word since it un-did every such exit alone); what it adds, this
        # machine's reading, does not reach back over it, nor a finding before it
        since = [f for f in spotted if f.id > exited[1]]
        counted = [f for f in since if _say_over_baseline(ctx, f)]
        if counted:
            return _found_failed(name, verdict, digest, counted)
        if since:
            return _their_word(name, digest, since), since
        if not spotted:
            return "", []
        fact = spotted[-1]
        return (
            f" (note: {fact.by}'s rerun, fact #{fact.id}, found the project's test model behind "
            "these weights; play 2 exited before such a finding counted against the verdict)"
        ), []
    counted = [
        f for f in spotted if exited is None or f.id <= exited[1] or _say_over_baseline(ctx, f)
    ]
    if counted or here:
        return _found_failed(name, verdict, digest, counted, here=here)
    if not spotted:
        return "", []
    return _their_word(name, digest, spotted), spotted


def _their_word(name: str, digest: str, spotted: list[Fact]) -> str:
    """The note for test-model findings after play 2 exited by people with no say over it."""
    said = ", ".join(f"{f.by}'s rerun (fact #{f.id})" for f in spotted)
    people = sorted({f.by for f in spotted})
    verb = "says" if len(spotted) == 1 else "say"
    return (
        f" (note: {said} {verb} the weights the verdict proved ({digest[:19]}) are the "
        f"project's test model: {names(people)}'s word, recorded after play 2 exited, with no "
        "say over play 2 then (its owner, a rollout lead or someone a lead put in charge), so "
        f"it un-does no exit; check it with {_CHECK_HERE}, or have one with a say rerun it "
        f"(`inhouse prove {name} --rerun`))"
    )


def _found_failed(
    name: str, verdict: Fact, digest: str, counted: list[Fact], *, here: bool = False
) -> Result:
    if counted:
        fact = counted[-1]
        who = f"{fact.by}'s rerun (fact #{fact.id}) found"
    else:
        who = "this machine's own copy of the pinned file shows"
    also = " (this machine's own copy of the pinned file shows it too)" if here and counted else ""
    return failed(
        f"{who} the weights trial {name}'s verdict (fact #{verdict.id}, by {verdict.by}) "
        f"proved ({digest[:19]}) to be the project's test model (random weights){also}, which "
        "the verdict did not say: a rerun of it reproduces nothing worth proving; prove a real "
        f"model (`inhouse prove {name}`; only a demo program accepts the test model)",
        verdict,
        *counted,
    )


def _say_over_baseline(ctx: CheckContext, fact: Fact) -> bool:
    """Whether ``fact``'s signer had a say over play 2 when they recorded it: its owner
    (whenever they took it), or, as they were then, one of
    :data:`~inhouse.program.counting.LOCK_ROLES` or a started play's owner (the rule a
    ``trial.verdict``'s signer is held to, :func:`~inhouse.program.counting.verdict_refusal`)."""
    from inhouse.program.counting import LOCK_ROLES

    who, seq = fact.by, fact.id
    if ctx.owners.get(_BASELINE) == who:
        return True
    if any(ctx.held_role_at(who, role, seq) for role in LOCK_ROLES):
        return True
    return any(
        owner == who and ctx.owner_since.get(play, 0) <= seq for play, owner in ctx.owners.items()
    )
