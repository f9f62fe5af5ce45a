"""Play 1, prove value: the hypothesis and the trial verdict."""

from __future__ import annotations

from inhouse.figures import share
from inhouse.program.checks import (
    CheckContext,
    Result,
    failed,
    inconclusive,
    passed,
    register_check,
)
from inhouse.program.facts import Fact
from inhouse.program.payloads import MAX_QUALITY_FLOOR, MIN_INPUTS, MIN_MEANINGFUL
from inhouse.program.playchecks._shared import (
    NO_DIMENSION,
    NOTHING_PASSED,
    NOTHING_PASSED_NEXT,
    below_meaningful,
    nothing_passed,
    quality_on_hollow,
    quality_on_time,
    quality_on_unanswered,
    too_few_inputs,
)

__all__: list[str] = []  # nothing to import: the checks are reached through the registry

#: play 1's id in the shipped playbook
_PROVE = "prove-value"


# -- play 1: prove value ---------------------------------------------------------------------------


@register_check("hypothesis-recorded", reads=("hypothesis",))
def hypothesis_recorded(ctx: CheckContext) -> Result:
    """A person on the roster recorded what a local model should replace or unlock."""
    fact = ctx.facts.latest("hypothesis", lambda f: f.by in ctx.people)
    if fact is None:
        return failed(
            'no hypothesis recorded: run `inhouse hypothesis "..." --replaces NAME` '
            "or `--unlocks NAME`"
        )
    aim = "replace" if fact.payload["aim"] == "replace-dependency" else "unlock"
    return passed(f"{fact.by}: {aim} {fact.payload['target']}: {fact.payload['statement']}", fact)


@register_check("value-proven", reads=("trial.verdict",))
def value_proven(ctx: CheckContext) -> Result:
    """The latest trial verdict says the local model is meaningfully better (on a dimension it
    names, by at least 10 % where it is a figure), at quality, over at least 5 task inputs."""
    fact = ctx.facts.latest("trial.verdict")
    if fact is None:
        # `inhouse prove` alone fails (it names no trial): the step says what to fill in
        sample = " (`inhouse demo files` writes a sample, trials/tickets.yaml)" if ctx.demo else ""
        return failed(
            "no trial.verdict yet: run a head-to-head trial: write its spec, trials/NAME.yaml "
            f"in the program folder (docs/trials.md){sample}, and run `inhouse prove NAME`"
        )
    verdict = fact.payload["verdict"]
    name = fact.payload["trial"]
    if fact.payload.get("test_model") and not ctx.demo:
        return failed(
            f"trial {name}'s candidate was the project's test model (random weights): it proves "
            "nothing about value; run the trial on a real model (only a program created as a "
            "demo accepts it)",
            fact,
        )
    if verdict == "proven":
        # the rules below came after some programs' play 1 exited: they spare the verdict it
        # exited on, never one recorded since nor one it was not judged on (its author
        # re-proving on checks that pass any answer, or with a floor over the cap, and carrying
        # the verdict in sealed before the exit)
        kept = ctx.spared(_PROVE, fact)
        if not fact.payload["quality_ok"]:
            return failed(f"trial {name} is faster/cheaper but below the quality floor", fact)
        if (problem := _quality_unfounded(fact)) is not None:
            return failed(f"trial {name}'s verdict says its quality held, but {problem}", fact)
        if not fact.payload.get("proven_on") and not kept:
            return failed(
                f"trial {name}'s verdict says proven, but {NO_DIMENSION.replace('NAME', name)}",
                fact,
            )
        few = too_few_inputs(fact.payload)
        if few is not None and not kept:
            return failed(
                f"trial {name}'s verdict says proven, but {few}; give trials/{name}.yaml at "
                f"least {MIN_INPUTS} real, distinct task inputs and prove it again (`inhouse "
                f"prove {name}`)",
                fact,
            )
        unanswered = quality_on_unanswered(fact.payload, fact.payload.get("candidate_pass_rate"))
        if unanswered is not None and not kept:
            return failed(
                f"trial {name}'s verdict says its quality held, but {unanswered}; make the "
                f"status quo answer every input (its `timeout` and the `generation` settings in "
                f"trials/{name}.yaml) and prove it again (`inhouse prove {name}`)",
                fact,
            )
        timed = quality_on_time(fact.payload)
        if timed is not None and not kept:
            return failed(
                f"trial {name}'s verdict says its quality held, but {timed}; take those checks "
                f"out of trials/{name}.yaml and prove it again (`inhouse prove {name}`)",
                fact,
            )
        passed_none = nothing_passed(fact.payload.get("candidate_pass_rate"))
        if fact.payload.get("proved") == 0 and passed_none and not kept:
            return failed(
                f"trial {name}'s verdict says its quality held, but {NOTHING_PASSED}; "
                f"{NOTHING_PASSED_NEXT} and prove it again (`inhouse prove {name}`)",
                fact,
            )
        if fact.payload.get("proved") == 0 and not kept:
            return failed(
                f"trial {name}'s quality checks pass an empty answer on every input the "
                "candidate passed: they pass whatever the model says, so its quality says "
                f"nothing; give trials/{name}.yaml checks that judge what the answer says "
                f"(contains, regex, llm-rubric, …) and prove it again (`inhouse prove {name}`)",
                fact,
            )
        if _off_topic_passes(ctx, fact) and not kept:
            return failed(
                f"trial {name}'s quality checks pass off-topic prose as long as the candidate's "
                "answer on every input it passed (a length bound, a pattern any text matches): "
                "they pass "
                "any answer at all, so its quality says nothing of what the answers say; give "
                f"trials/{name}.yaml checks that judge what the answer says (contains, regex, "
                f"equals, is-json with a schema, …) and prove it again (`inhouse prove {name}`)",
                fact,
            )
        low = below_meaningful(fact.payload.get("thresholds"), fact.payload.get("proven_on"))
        if low is not None and not kept:
            return failed(
                f"trial {name}'s verdict says proven, but {low}; set `meaningful` in "
                f"trials/{name}.yaml to what a win worth a program is (at least "
                f"{MIN_MEANINGFUL:g}) and prove it again (`inhouse prove {name}`)",
                fact,
            )
        hollow = quality_on_hollow(
            fact.payload, fact.payload.get("candidate_pass_rate"), demo=ctx.demo
        )
        if hollow is not None and not kept:
            return failed(
                f"trial {name}'s verdict says its quality held, but {hollow}; give those inputs "
                f"checks that judge what the answer says (or take them out of "
                f"trials/{name}.yaml) and prove it again (`inhouse prove {name}`)",
                fact,
            )
        wide = _wide_floor(fact)
        if wide is not None and not kept:
            return failed(
                f"trial {name}'s verdict allowed {wide}: set `quality_floor` to at most "
                f"{MAX_QUALITY_FLOOR:g} in trials/{name}.yaml and prove it again "
                f"(`inhouse prove {name}`)",
                fact,
            )
        # the cap came after play 1 exited on this verdict: its exit stands (the reach guards
        # judge exits by the checks loaded now), and the reader is told
        spared = f"; note: it allowed {wide} (play 1 exited before the cap)" if wide else ""
        if fact.payload.get("proved") == 0 and passed_none:
            spared += (
                f"; note: {NOTHING_PASSED} (play 1 exited before its quality had to rest on "
                "checks an empty answer fails)"
            )
        elif fact.payload.get("proved") == 0:
            spared += (
                "; note: its quality checks pass an empty answer on every input the candidate "
                "passed (play 1 exited before its quality had to rest on checks an empty answer "
                "fails)"
            )
        elif _off_topic_passes(ctx, fact):
            spared += (
                "; note: its quality checks pass off-topic prose as long as the candidate's "
                "answer on every input it passed (play 1 exited before its quality had to rest on "
                "checks such prose fails)"
            )
        if unanswered is not None:
            spared += (
                "; note: its quality held only on inputs the status quo gave no answer to (play "
                "1 exited before its quality had to hold with those counted as the status quo's "
                "passes)"
            )
        if timed is not None:
            spared += (
                "; note: its quality checks judge how long an answer took or what it cost (play "
                "1 exited before its quality had to rest on checks that judge the answers alone)"
            )
        if hollow is not None:
            spared += (
                "; note: some of the candidate's passes were on inputs whose checks pass an "
                "answer given for nothing (play 1 exited before its quality had to hold with "
                "those counted as failed cases)"
            )
        if low is not None:
            spared += f"; note: {low} (play 1 exited before a win had to be {MIN_MEANINGFUL:g} %)"
        if few is not None:
            spared += (
                f"; note: {few} (play 1 exited before a verdict had to rest on at least "
                f"{MIN_INPUTS} inputs)"
            )
        if not fact.payload.get("proven_on"):
            spared += (
                "; note: it names no dimension it proved (play 1 exited before a proven verdict "
                "had to name one)"
            )
        dims = ", ".join(fact.payload["proven_on"]) or "unspecified dimensions"
        demo = " (demo program: the test model, which proves nothing)" if ctx.demo else ""
        return passed(
            f"trial {name} proved the local model {dims}{_quality(fact)}{demo}{_against(fact)}"
            f"{spared}",
            fact,
        )
    if verdict == "not-worth-it":
        return failed(
            f"trial {name} concluded not worth it; stop the program honestly "
            "(`inhouse stop --not-worth-it`) or run another trial",
            fact,
        )
    return inconclusive(f"trial {name} was inconclusive: add more task inputs and rerun", fact)


def _off_topic_passes(ctx: CheckContext, verdict: Fact) -> bool:
    """Whether ``verdict``'s quality checks passed off-topic prose as long as the candidate's
    answer on every input its candidate passed (and an empty answer failed them there: that is
    the ``proved`` rule's): a length bound, a pattern any text matches, pass any answer, and a
    colleague's honest rerun of them holds whatever their model says. A demo's test model
    writes nonsense no check tells from such prose, and proves nothing anyway (said on
    every pass). A verdict from before verdicts said (``on_topic`` None) counts as before."""
    data = verdict.payload
    return data.get("on_topic") == 0 and data.get("proved") != 0 and not ctx.demo


def _wide_floor(verdict: Fact) -> str | None:
    """What a verdict's quality floor allowed, where it is over :data:`MAX_QUALITY_FLOOR`
    ("acceptable quality" then says nothing; a fact keeps the wider bound it was recorded
    under, and a verdict typed through the Python API can name any)."""
    floor = verdict.payload.get("quality_floor")
    if floor is None or float(floor) <= MAX_QUALITY_FLOOR:
        return None
    return (
        f"the candidate to trail the status quo by {float(floor):g} pass-rate points, over the "
        f'{MAX_QUALITY_FLOOR:g} a trial may allow, so its "acceptable quality" says nothing'
    )


def _quality_unfounded(verdict: Fact) -> str | None:
    """Why the verdict's own pass rates do not support its ``quality_ok`` (the candidate
    trails the status quo by more than the floor), where it records them."""
    data = verdict.payload
    candidate, status_quo = data.get("candidate_pass_rate"), data.get("status_quo_pass_rate")
    floor = data.get("quality_floor")
    if candidate is None or status_quo is None or floor is None:
        return None
    if (candidate - status_quo) * 100 >= -float(floor) - 1e-9:
        return None
    return (
        f"its own pass rates do not: the candidate passed {share(candidate)}, the status quo "
        f"{share(status_quo)}, more than its quality floor ({float(floor):g} points) apart"
    )


def _quality(verdict: Fact) -> str:
    """The pass rates behind the verdict's quality, where it records them: a reader (play 2's
    owner, who reruns the candidate's) sees what was claimed, and whose word the status
    quo's is."""
    data = verdict.payload
    candidate, status_quo = data.get("candidate_pass_rate"), data.get("status_quo_pass_rate")
    if candidate is None or status_quo is None:
        return ""
    how = "measured" if data.get("status_quo_measured") else f"stated by {verdict.by}"
    if data.get("status_quo_measured") and (data.get("economics") or {}).get("status_quo") == (
        "manual"
    ):
        # a manual status quo's "measured" quality is its CSV's outputs, which its author typed
        how = (
            f"measured on outputs {verdict.by} typed into the manual process's CSV: their word, "
            "until the colleague who reruns the trial confirms them"
        )
    return (
        f"; quality: the candidate passed {share(candidate)} of {data.get('inputs') or '?'} "
        "inputs, "
        f"the status quo {share(status_quo)} ({how})"
    )


def _against(verdict: Fact) -> str:
    """What the status quo was, where a reader should weigh it: a play 1 trial is one person's
    work by nature, and its status quo is theirs to set up."""
    economics = verdict.payload.get("economics") or {}
    kind = economics.get("status_quo")
    # the nearest any answer came from (recorded since answers name the address they reached),
    # else the side's one scope
    scope = economics.get("status_quo_nearest") or economics.get("status_quo_scope")
    if kind == "manual":
        return (
            f"; against minutes {verdict.by} recorded for the manual process (their word, until "
            "the colleague who reruns the trial confirms them)"
        )
    if scope == "loopback":
        return "; note: the status quo answered from this machine (loopback), not from elsewhere"
    if scope == "private-network":
        return "; note: the status quo answered from a private network address"
    return ""
