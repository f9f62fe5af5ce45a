"""Which evidence counts: the rule every check sees the facts through.

A check only ever gets the facts that count (:attr:`CheckContext.facts`); the rest are shown
beside it with the reason (:attr:`CheckContext.uncounted`), and a check that did not pass while
such facts exist is *inconclusive*: a person must look, the play does not advance.

A fact does not count when:

- its kind has a registered collector and the fact is a person's word (or was written before
  identities, or names a collector that is not registered for that kind);
- it is a request, an answer or a step only its subject can make (an access request, a survey
  answer, an enablement step or finished track) and someone else signed it, on behalf or
  otherwise;
- it is dated more than a few minutes after now (its writer's clock was ahead): it counts once
  its time has come;
- it is signed by a service's key (the gateway's) and is not one of what the gateway measures:
  a service speaks for no person;
- its key ran the Python check code a spec someone else wrote names before it signed it (a
  ``code.trusted`` of that key's, or of the key whose invitation it joined with, exit rule 36);
  or it is a service's, signed with a key that such a marked key enrolled after its mark
  (exit rule 39: the code could have enrolled it and kept it);
- it is what the gateway measures (daily usage, adoption, prompt use from its usage log; the
  drift review of the nodes it routes to) and the gateway's own service key did not sign it,
  or that key was enrolled from the enrolling lead's own machine, or from no machine on record
  (outside a demo program), or nobody but a lead vouched for its host (a vouch signed in with an
  account a lead ever held is a lead's; one counts once the enrolling lead has signed in);
- it is one of those measures of people dated after it was recorded (a day's usage, an adoption
  report's ``as_of`` or a prompt's last use still to come), or an adoption report as of a day
  more than a day before it was recorded (the latest report is judged: one "as of" an old peak
  would hide the measurement of now); and it counts, for each person it
  names, only on the days they held a gateway key of their own (with the sign-in set up,
  fetched with a signing key that signed in as them), up to when it was recorded, and only on
  the days (and prompt versions) they confirmed with a key of their own (a ``usage.confirmed``
  fact, ``inhouse usage confirm``, signed with a key not enrolled on a service's host): the
  gateway's host is its operator's, who could seal usage rows in anyone's name. A play whose
  exit was judged on such a fact before confirmations were asked keeps it as it was;
- it is a ``baseline.lock`` signed by someone who held none of :data:`LOCK_ROLES` and owned no
  started play then (any enrolled person could otherwise re-route the gateway);
- it is a ``baseline.lock`` whose ``lock_hash`` is not the hash of the lock body it carries, or
  whose runtime, models, rules hash or owner are not that body's (or that carries no body: it
  was recorded before lock facts did), so a lock hash a colleague verified cannot be re-used
  for other weights;
- the program has the organisation's sign-in (``inhouse sign-in setup``) and its signer has not
  signed in with it, or the key that signed it has not (each key signs in: one joined later
  under a name does not ride on another's sign-in); a service's key is not asked.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from inhouse.identity.machine import same_machine
from inhouse.program.checks import (
    CONFIRMED_BOUND,
    CONFIRMED_USE,
    MARKED_SERVICE,
    RAN_OTHERS_CODE,
    RUNS_CONFIRMED,
    CheckContext,
    Uncounted,
    set_aside_note,
)
from inhouse.program.collectors import collector_for, measured_kinds
from inhouse.program.facts import FACT_KINDS, Fact, FactSet, Provenance
from inhouse.program.lagging_words import READS as LAGGING_READS
from inhouse.program.lagging_words import workflow_name
from inhouse.program.state import ProgramState, sign_in_login

__all__ = [
    "LOCK_ROLES",
    "SELF_KINDS",
    "SERVICE_KINDS",
    "build_context",
    "capped_runs",
    "confirmations_bound",
    "confirmed_bounds",
    "confirmed_prompts",
    "confirmed_runs",
    "lead_account",
    "marked_service",
    "not_their_fetch",
    "pin_refusal",
    "refused_vouches",
    "unsigned_signer",
    "verdict_refusal",
    "vouched_hosts",
    "why_uncounted",
]

#: kinds whose ``person`` must be the signer: only you can ask, answer, learn or attend for
#: yourself (an enablement step is recorded by the member who walked it, never for them; an
#: attendee confirms a review with their own key; the team you work in is yours to say; so is
#: the use the gateway's figures give you)
SELF_KINDS = frozenset(
    {
        "access.request",
        "survey.response",
        "enablement.step",
        "enablement.completed",
        "pilot.team",
        "review.attended",
        "usage.confirmed",
    }
)
#: how far ahead of now a fact's time may be and still count (machines' clocks differ a little)
CLOCK_SKEW = timedelta(minutes=10)
#: kinds only a service (the gateway) measures, with its own key
SERVICE_KINDS = frozenset({"usage.daily", "pilot.adoption", "prompt.usage", "drift.review"})


def why_uncounted(fact: Fact, state: ProgramState, measured: set[str]) -> str | None:
    """Why ``fact`` may not count in checks, or None when it counts."""
    signer = state.people.get(fact.by)
    if signer is not None and signer.service and fact.kind not in SERVICE_KINDS:
        return (
            f"signed by the {fact.by} service's key, which speaks for no person: a service's "
            "key counts only for what the gateway measures (usage, adoption, prompt use, "
            "drift reviews)"
        )
    if (ran := _ran_others_code(fact, state)) is not None:
        return ran
    if fact.host_alone and (spec := FACT_KINDS.get(fact.kind)) is not None and spec.needs_approval:
        return (
            f"signed by a dashboard session without {fact.by}'s own approval (recorded before "
            f"approvals existed): the dashboard's host could have recorded it alone; {fact.by} "
            "records it again"
        )
    if fact.kind in SELF_KINDS:
        subject = str(fact.payload.get("person", ""))
        if fact.on_behalf_of or subject != fact.by:
            return (
                f"signed by {fact.by}, not by {subject}: only {subject}'s own signed "
                f"{fact.kind} counts"
            )
    if fact.kind in measured:
        if not fact.signed:
            return "written before identities, unsigned: a word where inhouse measures this"
        if fact.provenance is Provenance.ATTESTED:
            who = f"{fact.by} on behalf of {fact.on_behalf_of}" if fact.on_behalf_of else fact.by
            return f"a person's word ({who}) where inhouse measures this"
        collector = collector_for(fact.collector or "")
        if collector is None or fact.kind not in collector.kinds:
            return f"measured by {fact.collector!r}, which is not a registered collector of it"
    if fact.kind == "baseline.lock" and (
        (problem := _lock_problem(fact)) is not None
        or (problem := _lock_signer_problem(fact, state)) is not None
    ):
        return problem
    if fact.kind == "trial.verdict" and (problem := _verdict_signer_problem(fact, state)):
        return problem
    if fact.kind in SERVICE_KINDS:
        signer = state.people.get(fact.by)
        if signer is None or not signer.service:
            return f"signed by {fact.by}, not by the gateway's own service key"
        return _service_at_home(fact, state)
    return None


#: each program state's first ``code.trusted`` per key, and the services marked after it, with
#: how many facts and keys it had read (:func:`_marks`): a long-lived process folds the log
#: into one state as it grows (a key joining with a marked key's invitation, or a service a
#: marked key enrols, is marked with no new fact)
_trusted_cache: dict[
    int, tuple[ProgramState, tuple[int, int], dict[str, Fact], dict[str, tuple[Fact, str]]]
] = {}


def _first_trusted(state: ProgramState) -> dict[str, Fact]:
    """Each key's first ``code.trusted`` fact in the log (its signer's own record, made before
    it ran the Python check code a spec someone else wrote names): exit rule
    :data:`~inhouse.program.checks.RAN_OTHERS_CODE`. Signed by the key itself, never by a
    session (a session may not sign one), so nobody else can set a colleague's key aside."""
    return _marks(state)[0]


def _marked_services(state: ProgramState) -> dict[str, tuple[Fact, str]]:
    """Each service key (the gateway's) a marked key enrolled after its mark, with that mark
    and the key that enrolled it: exit rule :data:`~inhouse.program.checks.MARKED_SERVICE`.
    The code that ran as the lead could enrol "a gateway" with a key its writer keeps (a lead
    enrols a service alone, no invitation asked), and sign as it whatever the gateway
    measures; the service's key never ran anything, so rule 36 alone did not reach it."""
    return _marks(state)[1]


def _marks(state: ProgramState) -> tuple[dict[str, Fact], dict[str, tuple[Fact, str]]]:
    cached = _trusted_cache.get(id(state))
    read = (len(state.facts), len(state.keys))
    if cached is not None and cached[0] is state and cached[1] == read:
        return cached[2], cached[3]
    found: dict[str, Fact] = {}
    for fact in state.facts:
        if fact.kind == "code.trusted" and fact.key and not fact.session:
            found.setdefault(fact.key, fact)
    services: dict[str, tuple[Fact, str]] = {}
    # a key of the same person that joined with an invitation a marked key signed after its
    # mark carries the mark on: the code that ran with the old key could invite its holder onto
    # "a new machine of theirs" and join with a key its writer keeps (in the order they joined,
    # so a chain of such invitations carries it all the way). Not a key of someone else the
    # holder invited as a rollout lead: that is a person of their own, whose key never ran it
    for record in sorted(state.keys.values(), key=lambda k: k.seq):
        enroller = found.get(record.enrolled_with or "")
        if enroller is not None and enroller.id < record.seq:
            # a service a marked lead's key enrolled after its mark (rule 39): kept apart from
            # the keys rule 36 marks, as a play that exited before rule 39 keeps its facts
            services[record.key_id] = (enroller, record.enrolled_with or "")
            continue
        inviter = found.get(record.invitation_key or "")
        held = state.keys.get(record.invitation_key or "")
        if (
            inviter is not None
            and held is not None
            and held.person == record.person
            and inviter.id < (record.invitation_seq or 0)
        ):
            # the earlier mark: one the key signs itself later (the key's holder may be the
            # code's writer) must not lift the one it joined with
            own = found.get(record.key_id)
            if own is None or inviter.id < own.id:
                found[record.key_id] = inviter
    _trusted_cache.clear()  # one program per process, usually
    _trusted_cache[id(state)] = (state, read, found, services)
    return found, services


def marked_keys(state: ProgramState) -> list[str]:
    """For ``inhouse status``: each key not revoked that exit rule
    :data:`~inhouse.program.checks.RAN_OTHERS_CODE` marks, in words, with the way out: an
    honest colleague lured into running another's code learns it there, not weeks later from a
    check's row that no longer counts what they sign."""
    lines = []
    for key_id, marker in _first_trusted(state).items():
        record = state.keys.get(key_id)
        if record is None or record.revoked_at is not None:
            continue
        calls = ", ".join(str(c) for c in marker.payload.get("calls") or [])
        how = (
            "ran"
            if marker.key == key_id
            else f"joined with an invitation key {marker.key} signed after it ran"
        )
        lines.append(
            f"{record.person}'s key {key_id} {how} Python check code "
            f"{marker.payload.get('spec')} names ({calls}) on their --trust-python (fact "
            f"#{marker.id}, exit rule {RAN_OTHERS_CODE}): nothing it signs since counts as "
            f"{record.person}'s own. Once that code is gone, {record.person} revokes it "
            f"(`inhouse person revoke-key {key_id}`) and signs with a key it never reached: one "
            "enrolled before it ran, or, once every key of theirs is revoked, one a rollout "
            f"lead invites them again with (`inhouse person invite {record.person}`)"
        )
    for key_id, (marker, enroller) in _marked_services(state).items():
        record = state.keys.get(key_id)
        if record is None or not record.active:  # revoked, or superseded: it signs no more
            continue
        lines.append(
            f"the {record.person} service's key {key_id} "
            + _enrolled_after_mark(state, record.person, key_id, marker, enroller)
        )
    return lines


def _enrolled_after_mark(
    state: ProgramState, service: str, key_id: str, marker: Fact, enroller: str
) -> str:
    """The words of exit rule :data:`~inhouse.program.checks.MARKED_SERVICE` for the service
    key ``key_id``, enrolled by the marked key ``enroller`` (``marker`` its mark), with the way
    out: a new key of the service's, enrolled by a key that code never reached."""
    from inhouse.location import DATA_DIR

    calls = ", ".join(str(c) for c in marker.payload.get("calls") or [])
    held = state.keys.get(enroller)
    lead = held.person if held is not None else marker.by
    marked = _marked_services(state)
    # the service's own keys no marked key enrolled (the real gateway, where the code enrolled
    # "a second" one): they sign on, and revoking the marked key is all there is to do
    others = sorted(
        k.key_id
        for k in state.keys.values()
        if k.person == service and k.active and k.key_id not in marked
    )
    if others:
        then = (
            f"; the {service}'s key{'s' if len(others) > 1 else ''} {', '.join(others)}, which "
            "no marked key enrolled, signs on as it did: nothing more is needed"
        )
    else:
        then = (
            f"; then, on the {service}'s host, deletes {DATA_DIR}/keys/{service}.key, restarts "
            "`inhouse gateway serve` (it makes a new key) and runs `inhouse gateway rollup` "
            "there, which enrols the new key: what that key signs counts"
        )
    return (
        f"was enrolled by {lead}'s key {enroller} after that key ran Python check code "
        f"{marker.payload.get('spec')} names ({calls}) on their --trust-python (fact "
        f"#{marker.id}, exit rule {MARKED_SERVICE}): the code ran with the key at hand and "
        f"could have enrolled this service key itself and kept it, so nothing it signs counts "
        f"as the {service}'s measure. A rollout lead whose key that code never reached (one "
        f"enrolled before it ran, or another lead's) revokes it (`inhouse person revoke-key "
        f"{key_id}`){then}"
    )


def marked_service(fact: Fact, state: ProgramState) -> bool:
    """Whether exit rule :data:`~inhouse.program.checks.MARKED_SERVICE` sets ``fact`` aside: a
    service's fact signed with a key a marked key enrolled after its mark (and no exit judged
    on it before the rule). The gateway's rollup reads a day such a key signed as not signed:
    else whoever holds it signs each day first, with the figures the usage tables hold, and
    the real gateway never signs one that counts."""
    return _service_marked(fact, state) is not None


def _service_marked(fact: Fact, state: ProgramState) -> str | None:
    """Why a service's ``fact`` is not the service's measure (exit rule
    :data:`~inhouse.program.checks.MARKED_SERVICE`): its key was enrolled by a key marked by
    rule 36 after its mark. A play that exited before the rule keeps the facts it was judged
    on (:func:`_judged_before`)."""
    found = _marked_services(state).get(fact.key or "")
    if found is None or _judged_before(fact, state, MARKED_SERVICE):
        return None
    marker, enroller = found
    words = _enrolled_after_mark(state, fact.by, fact.key or "", marker, enroller)
    return f"signed by the {fact.by} service's key {fact.key}, which {words}"


def _ran_others_code(fact: Fact, state: ProgramState) -> str | None:
    """Why ``fact`` is not its signer's own: the key that signed it recorded, before it, that it
    was about to run the Python check code a spec someone else wrote names (exit rule
    :data:`~inhouse.program.checks.RAN_OTHERS_CODE`). That code ran inside the signer's inhouse
    with the key at hand: it could sign this, or copy the key out and sign it later, so it is
    the code's writer's word as much as theirs: the run that names the code it ran (its
    ``python_checks``, which plays 2 and 3 set aside) too, as a fact the code signed naming
    some (which play 4's steps would read as the member's own run)."""
    if fact.key is None or fact.kind == "code.trusted":
        return None
    marker = _first_trusted(state).get(fact.key)
    if marker is None or marker.id >= fact.id:
        return None
    calls = ", ".join(str(c) for c in marker.payload.get("calls") or [])
    ran = (
        "after it ran"
        if marker.key == fact.key
        else f"after it joined with an invitation that key {marker.key} signed after it ran"
    )
    return (
        f"signed with {fact.by}'s key {fact.key} {ran} Python check code "
        f"{marker.payload.get('spec')} names ({calls}) on their --trust-python (fact "
        f"#{marker.id}, exit rule {RAN_OTHERS_CODE}): that code ran inside their inhouse with "
        "the key at hand, and whoever wrote it could sign anything with it since (a new "
        f"machine's invitation too), so nothing the key signed after counts as {fact.by}'s "
        f"own; once that code is gone, {fact.by} revokes it (`inhouse person revoke-key "
        f"{fact.key}`) and signs with a key that code never reached: one enrolled before it "
        "ran, or, once every key of theirs is revoked, one a rollout lead invites them again "
        f"with (`inhouse person invite {fact.by}`)"
    )


#: a service's facts that name the people it measured: each counts only for those who held a
#: gateway key of their own then (:func:`_for_key_holders`)
PERSONAL_USAGE_KINDS = frozenset({"usage.daily", "pilot.adoption", "prompt.usage"})


def _key_holders(state: ProgramState) -> dict[str, list[tuple[date, date | None]]]:
    """For each person, the days each gateway key of their own held: from the day they fetched
    it (their own signed ``gateway.key.issued``, answering a lead's grant; an agent's key is
    not a person's) to the day it was revoked, if it was. With the organisation's sign-in set
    up, a fetch is the person's only where the key that signed it signed in as them
    (:func:`_fetched_by_them`)."""
    from inhouse.program.access import KEY_REVOKED, key_ledger

    keys, _ = key_ledger(state)
    revoked_at = {e.seq: e.at for e in state.package_events.get(KEY_REVOKED, ())}
    held: dict[str, list[tuple[date, date | None]]] = {}
    for vouched in keys.values():
        issued, grant = vouched.issued, vouched.grant
        if issued is None or grant is None or grant.payload.get("agent"):
            continue
        if not _fetched_by_them(state, issued.key, issued.by):
            continue
        until = revoked_at.get(vouched.revoked) if vouched.revoked is not None else None
        held.setdefault(issued.by, []).append(
            (
                issued.at.astimezone(UTC).date(),
                None if until is None else until.astimezone(UTC).date(),
            )
        )
    return held


def not_their_fetch(state: ProgramState) -> frozenset[str]:
    """The gateway keys (their ids) whose fetch is not shown to be their person's own
    (:func:`_fetched_by_them`): with the organisation's sign-in set up, the signing key that
    fetched it never signed in as them. The checks hold the gateway's figures to the days a
    person held a key of their own, which is the person's, not the key's: once the colleague
    fetches one of their own, a key a lead fetched in their name before they joined (and
    keeps) would speak for them too. So the gateway's collectors count a request through such
    a key as no one's own use, as an agent's is (its totals still count: it was answered)."""
    from inhouse.program.access import key_ledger

    if state.sign_in is None:
        return frozenset()
    keys, _ = key_ledger(state)
    return frozenset(
        key_id
        for key_id, vouched in keys.items()
        if vouched.issued is not None
        and not _fetched_by_them(state, vouched.issued.key, vouched.issued.by)
    )


def _fetched_by_them(state: ProgramState, key: str | None, person: str) -> bool:
    """Whether a gateway key fetched with ``key`` (signed as ``person``) is ``person``'s own
    fetch. Without the organisation's sign-in a name is all there is. With it, ``key`` must
    have signed in as ``person`` with the account they last signed in with: a lead can invite
    a colleague's name before the colleague joins, join it herself with a key of her own
    making, fetch the colleague's gateway key with it and revoke it, and that key never
    signed in (or signed in with an account that is not the colleague's). It is the key's
    sign-in, whenever it came: a fetch from before the sign-in was set up counts once the
    same key signs in as its person; one whose key was revoked first counts for nobody (its
    days are from a log where nobody was told apart from the lead)."""
    if state.sign_in is None:
        return True
    bound = state.signed_keys.get(key or "")
    now = state.signed_in.get(person)
    if bound is None or now is None:
        return False
    return bound.person == person and bound.subject == now.subject


class _KeyDays:
    """:func:`_key_holders`' spans, asked per person and day, and per day for everyone: a day's
    usage names a whole department (2,000 people each asking their spans took ~1 ms a day),
    so who held a key on a day is gathered once per day and compared as sets."""

    def __init__(self, spans: dict[str, list[tuple[date, date | None]]]) -> None:
        self._spans = spans
        # keys not revoked (nearly all), by the day they were fetched: those held on a day are
        # a prefix; the revoked ones are asked one by one
        still = sorted((start, person) for person, held in spans.items()
                       for start, end in held if end is None)  # fmt: skip
        self._starts = [start for start, _ in still]
        self._holders = [person for _, person in still]
        self._revoked = [(person, start, end) for person, held in spans.items()
                         for start, end in held if end is not None]  # fmt: skip
        self._days: dict[date, frozenset[str]] = {}

    def held(self, person: str, day: date) -> bool:
        return any(start <= day and (end is None or day <= end)
                   for start, end in self._spans.get(person, ()))  # fmt: skip

    def on(self, day: date) -> frozenset[str]:
        """Everyone who held a gateway key of their own on ``day``."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = frozenset(
                self._holders[: bisect_right(self._starts, day)]
            ).union(person for person, start, end in self._revoked if start <= day <= end)
        return found


class _Confirmed:
    """Each person's own ``usage.confirmed`` facts that count (:func:`_confirmations`): the days
    and prompt versions they said, with their own key, they used the gateway on. ``bound``:
    read as :data:`~inhouse.program.checks.CONFIRMED_BOUND` reads them, each covering only what
    it bound (a figure it names none of, none; a prompt version it dates no use of, up to the
    day it was recorded)."""

    def __init__(self, *, bound: bool = False) -> None:
        self.bound = bound
        self.prompts: dict[str, set[tuple[str, int]]] = {}
        #: per person and prompt version, the latest day of its use their confirmations of it
        #: cover (None: one named no day, from before confirmations dated them: any day, where
        #: ``bound`` is not: up to the day it was recorded)
        self.prompt_days: dict[str, dict[tuple[str, int], date | None]] = {}
        #: per day, who confirmed it, each with the most (requests, tokens) their
        #: confirmations of it cover (:func:`confirmed_bounds`; None: any); kept by day as a
        #: day's usage is read, a department at a time: one look per person-day
        self.on_day: dict[date, dict[str, tuple[int | None, int | None]]] = {}
        #: per day, who confirmed it with its runs bound (:data:`~inhouse.program.checks.
        #: RUNS_CONFIRMED`), each with the most runs per workflow name their confirmations of it
        #: cover; a person with none here (only confirmations from before runs were bound)
        #: bounds no runs that day
        self.runs_on: dict[date, dict[str, dict[str, int]]] = {}

    def add(self, fact: Fact) -> None:
        person, recorded = fact.by, fact.at.astimezone(UTC).date()
        # a day to come is nobody's use yet, however sure its person is of it
        days = {d for d in map(_iso_day, fact.payload.get("days") or ()) if d <= recorded}
        prompts = {
            (str(ref["prompt"]), int(ref["version"])): (
                min(date.fromisoformat(str(ref["last"])), recorded)
                if ref.get("last")
                else (recorded if self.bound else None)
            )
            for ref in fact.payload.get("prompts") or ()
        }
        bounds = confirmed_bounds(fact.payload, days, bound=self.bound)
        runs = confirmed_runs(fact.payload, days)
        # all read before any is kept: a malformed one confirms nothing, not half of it
        self.prompts.setdefault(person, set()).update(prompts)
        dated = self.prompt_days.setdefault(person, {})
        for ref, last in prompts.items():
            was = dated.get(ref, last)
            dated[ref] = None if last is None or was is None else max(last, was)
        on_day = self.on_day
        for day, bound in bounds.items():
            said = on_day.get(day)
            if said is None:
                said = on_day[day] = {}
            earlier = said.get(person)
            said[person] = bound if earlier is None else _wider(earlier, bound)
        for day, most in (runs or {}).items():
            # two confirmations that bind a day's runs: the wider covers; one from before runs
            # were bound adds nothing here, so a confirmation of the day today bounds them
            ran = self.runs_on.setdefault(day, {}).setdefault(person, {})
            for name, count in most.items():
                ran[name] = max(ran.get(name, 0), count)

    def day(self, person: str, day: date, figures: object = None) -> bool:
        """Whether ``person`` confirmed ``day``, with its ``figures`` (a ``usage.daily``'s
        totals for them: requests and tokens) no more than a confirmation of it covers."""
        bound = self.on_day.get(day, {}).get(person)
        return bound is not None and not _beyond(bound, figures)

    def prompt(self, person: str, prompt: str, version: int, day: date | None = None) -> bool:
        """Whether ``person`` confirmed the prompt version, and, for a use dated ``day``, a
        use of it that late: a confirmation covers the days of use it was shown, not whatever
        later day the gateway's host dates it."""
        if (prompt, version) not in self.prompts.get(person, ()):
            return False
        last = self.prompt_days.get(person, {}).get((prompt, version))
        return day is None or last is None or day <= last


def confirmed_prompts(
    facts: Iterable[Fact], person: str, *, bound: bool = False
) -> dict[tuple[str, int], date | None]:
    """The prompt versions ``person`` confirmed in the ``usage.confirmed`` facts among ``facts``
    (those that count), each with the latest day of its use they cover (None: any day, a
    confirmation from before they were dated, unless ``bound``: :func:`confirmations_bound`);
    a malformed one confirms nothing."""
    found = _Confirmed(bound=bound)
    for fact in facts:
        if fact.kind == "usage.confirmed" and fact.by == person:
            try:
                found.add(fact)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # appended around the API: it confirms nothing
    return dict(found.prompt_days.get(person, {}))


def confirmed_bounds(
    payload: dict[str, object], days: set[date], *, bound: bool = False
) -> dict[date, tuple[int | None, int | None]]:
    """The most (requests, tokens) a ``usage.confirmed`` payload confirms on each of ``days``
    (None: not bound, as every confirmation from before figures were bound; with ``bound``,
    :func:`confirmations_bound`, a figure it names none of is none: 0): the person read the
    figures of a day and answered for them, not for whatever the gateway's host, its
    operator's, seals into that day after."""
    requests, tokens = _per_day(payload.get("requests")), _per_day(payload.get("tokens"))
    none = 0 if bound else None
    return {day: (requests.get(day, none), tokens.get(day, none)) for day in days}


def confirmed_runs(
    payload: dict[str, object], days: set[date]
) -> dict[date, dict[str, int]] | None:
    """The most runs of each workflow (by name) a ``usage.confirmed`` payload confirms on each
    of ``days`` (:data:`~inhouse.program.checks.RUNS_CONFIRMED`: a day it names none of, none),
    or None where it binds no runs (one written before they were bound: its person is asked
    about a day of runs again). The person read the runs of a day and answered for them, not
    for a chat the gateway's host, its operator's, relabels as runs after."""
    given = payload.get("runs")
    if given is None:
        return None
    if not isinstance(given, dict):
        raise TypeError(f"per-day runs are a mapping, not {type(given).__name__}")
    found: dict[date, dict[str, int]] = {day: {} for day in days}
    for day, ran in given.items():
        read = _iso_day(day)
        if not isinstance(ran, dict):
            raise TypeError(f"a day's runs are a mapping, not {type(ran).__name__}")
        if read not in found:
            continue
        most = found[read]
        for workflow, count in ran.items():
            name = workflow_name(str(workflow))
            most[name] = most.get(name, 0) + (count if type(count) is int else int(str(count)))
    return found


def capped_runs(figures: object, most: dict[str, int]) -> object:
    """A person's day (a ``usage.daily``'s totals for them) with each workflow's runs no more
    than ``most`` (per workflow name: what they confirmed of it), the rest of it as signed."""
    if not isinstance(figures, dict) or not isinstance(ran := figures.get("workflows"), dict):
        return figures
    left = dict(most)
    kept: dict[str, int] = {}
    changed = False
    for workflow, count in ran.items():
        name = workflow_name(str(workflow))
        counted = min(int(count), left.get(name, 0))
        left[name] = left.get(name, 0) - counted
        changed = changed or counted != int(count)
        if counted > 0:
            kept[str(workflow)] = counted
    if not changed:
        return figures
    capped = {key: value for key, value in figures.items() if key != "workflows"}
    if kept:
        capped["workflows"] = kept
    return capped


def confirmations_bound(state: ProgramState) -> bool:
    """Whether the log shows :data:`~inhouse.program.checks.CONFIRMED_BOUND` in force: a
    ``usage.confirmed`` covers only the figures it bound (an older inhouse's, of a day the
    gateway had not signed, bound its requests and no tokens) and a prompt version's use up to
    the day it dates, else the day it was recorded. The gateway's host is its operator's, who
    seals any figure into a day, or dates any later use, that such a confirmation named none
    of; its person is asked about the day or version again (``inhouse usage confirm``)."""
    return state.rules_seen >= CONFIRMED_BOUND


def _per_day(given: object) -> dict[date, int]:
    """A payload's ``{day: count}`` (None or absent: none); one appended around the API with
    another shape raises, and confirms nothing (:class:`_Confirmed`)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise TypeError(f"per-day figures are a mapping, not {type(given).__name__}")
    # an int as it is (a department's confirmations bind ~200,000 figures); anything else read
    # as its text, as ever: a float or a bool is refused, not rounded
    return {_iso_day(day): count if type(count) is int else int(str(count))
            for day, count in given.items()}  # fmt: skip


#: each day's text as read (:func:`_iso_day`); cleared when it grows past
#: :data:`_DAYS_READ_MOST`, which no program's log of days comes near
_days_read: dict[str, date] = {}
_DAYS_READ_MOST = 100_000


def _iso_day(value: object) -> date:
    """``date.fromisoformat(str(value))``, each day's text read once: a department's
    confirmations name the same ninety days a few hundred thousand times."""
    if type(value) is not str:
        return date.fromisoformat(str(value))
    found = _days_read.get(value)
    if found is None:
        if len(_days_read) >= _DAYS_READ_MOST:
            _days_read.clear()
        found = _days_read[value] = date.fromisoformat(value)
    return found


def _wider(
    one: tuple[int | None, int | None], other: tuple[int | None, int | None]
) -> tuple[int | None, int | None]:
    """Two confirmations of one day: the wider covers (one that names no figure, any)."""
    return (
        None if one[0] is None or other[0] is None else max(one[0], other[0]),
        None if one[1] is None or other[1] is None else max(one[1], other[1]),
    )


def _beyond(bound: tuple[int | None, int | None] | None, figures: object) -> bool:
    """Whether a day's ``figures`` (requests, tokens_in, tokens_out) exceed ``bound``."""
    if bound is None or not isinstance(figures, dict):
        return False
    most_requests, most_tokens = bound
    asked = int(figures.get("requests", 0))
    spent = int(figures.get("tokens_in", 0)) + int(figures.get("tokens_out", 0))
    return (most_requests is not None and asked > most_requests) or (
        most_tokens is not None and spent > most_tokens
    )


def _for_key_holders(
    fact: Fact, holders: _KeyDays, confirmed: _Confirmed | None, *, runs: bool = False
) -> tuple[Fact | None, str | None, tuple[str, ...]]:
    """``fact`` (a gateway's measure of people) as it counts: only for the people who held a
    gateway key of their own on the day it measures (the gateway's key and its usage log are
    on its host, whose operator could otherwise type in anyone's use) and who confirmed that
    day (or prompt version) with their own key (``confirmed``; None: a play's exit was judged on
    ``fact`` before confirmations were asked, and keeps it), and why it does not count for the
    others (None: it counts for everyone it names), and those of them it waits for only for
    their confirmation; the fact is None where it counts for nobody. ``runs``: a day's workflow
    runs count for each person up to those they confirmed of it, where they bound them
    (:data:`~inhouse.program.checks.RUNS_CONFIRMED`)."""
    payload = fact.payload
    recorded = fact.at.astimezone(UTC).date()

    def held(person: str, day: date) -> bool:
        # a day after the fact was recorded is held by nobody yet: an unrevoked key "holds"
        # every day to come, and a report as of next month would count them
        return day <= recorded and holders.held(person, day)

    def theirs(person: str, day: date) -> bool:
        return confirmed is None or confirmed.day(person, day)

    dropped: list[str] = []
    unconfirmed: list[str] = []
    beyond: list[str] = []
    what = ""
    if (ahead := _measured_ahead(fact, recorded)) is not None:
        return None, ahead, ()
    if fact.kind == "usage.daily":
        day = date.fromisoformat(str(payload["day"]))
        what = f"for {day}"
        people = payload.get("people")
        if isinstance(people, dict):
            # a day after the fact was recorded is refused above (_measured_ahead)
            dropped, unconfirmed, beyond, kept = _day_counted(
                people, day, holders, confirmed, runs=runs
            )
            if not (dropped or unconfirmed) and any(
                kept[p] is not people[p] for p in kept
            ):  # only runs capped: counted for everyone, with the runs they confirmed
                return replace(fact, payload={**payload, "people": kept}), None, ()
            trimmed = {**payload, "people": kept}
        elif not held(person := str(payload.get("person")), day):
            return None, _keyless([person], day), ()
        elif not theirs(person, day):
            return None, _unconfirmed([person], what), (person,)
        else:
            trimmed = payload
    elif fact.kind == "pilot.adoption":
        day = date.fromisoformat(str(payload["as_of"]))
        least, width = int(payload["min_days"]), int(payload["window_days"])
        if least < 1 or width < 1:  # written around the API: "independent" on no day at all
            raise ValueError(f"min_days {least} and window_days {width} must be at least 1")
        window = [day - timedelta(days=n) for n in range(width)]
        what = f"for enough days of the window to {day}"
        rows = [dict(row) for row in payload["members"]]
        for row in rows:
            person = str(row["person"])
            if not row.get("independent"):
                continue
            days = sum(held(person, d) for d in window)
            said = sum(held(person, d) and theirs(person, d) for d in window)
            # active on a day only with a key that day: a row claiming more active days, or
            # fewer key-holding days than independence needs, is not the member's own use
            if days < least or days < int(row["active_days"]):
                dropped.append(person)
                row.update(
                    independent=False,
                    reason=f"held a gateway key of their own on {days} of the window's days",
                )
            elif said < least:
                # their own word on the days they used it: the host's operator seals rows
                unconfirmed.append(person)
                row.update(
                    independent=False,
                    reason=f"confirmed their own use on {said} of the window's days "
                    "(`inhouse usage confirm` on their machine)",
                )
        trimmed = {**payload, "members": rows}
    else:  # prompt.usage: who used it, by name, as of its last use
        last = payload.get("last_used")
        day = date.fromisoformat(str(last)) if last else fact.at.astimezone(UTC).date()
        name, version = str(payload.get("prompt")), int(payload.get("version") or 0)
        what = f"for prompt {name} version {version}"

        def served(person: str, on: date | None = None) -> bool:
            return confirmed is None or confirmed.prompt(person, name, version, on)

        named = [str(p) for p in payload.get("people") or ()]
        used_by = payload.get("used_by")
        # a fact without ``used_by`` (the shape from before the gateway dated each person's
        # use, which its host's operator still writes) dates everyone in it by ``last_used``:
        # under rule 19 a confirmation covers that day only where it covers the day of use
        undated = day if confirmed is not None and confirmed.bound and not isinstance(
            used_by, dict) else None  # fmt: skip
        dropped = sorted(p for p in named if not held(p, day))
        unconfirmed = sorted(p for p in named if p not in dropped and not served(p, undated))
        trimmed = {**payload, "people": [p for p in named if p not in {*dropped, *unconfirmed}]}
        if isinstance(used_by, dict):
            # each person's own last use through a key of their own, which the checks read
            # (:func:`~inhouse.program.facts.prompt_users`): held to a key they fetched
            # themselves on that day, as ``people`` is (a key a lead fetched in a colleague's
            # name, and drove, would otherwise confirm her fix "by" the colleague), and to
            # their own confirmation of the version
            own = {str(p): str(d) for p, d in used_by.items()}
            gone = {p for p, d in own.items() if not held(p, date.fromisoformat(d))}
            # each dated: a confirmation of the version covers the days of use it was shown
            unsaid = {
                p for p, d in own.items() if p not in gone and not served(p, date.fromisoformat(d))
            }
            dropped = sorted({*dropped, *gone})
            unconfirmed = sorted({*unconfirmed, *unsaid} - set(dropped))
            trimmed["used_by"] = {p: d for p, d in own.items() if p not in gone | unsaid}
    reasons = [
        *([_keyless(dropped, day)] if dropped else []),
        *(
            [_unconfirmed([p for p in unconfirmed if p not in beyond], what)]
            if set(unconfirmed) - set(beyond)
            else []
        ),
        *([_beyond_confirmed(beyond, what)] if beyond else []),
    ]
    if not reasons:
        return fact, None, ()
    return replace(fact, payload=trimmed), "; ".join(reasons), tuple(unconfirmed)


def _day_counted(
    people: dict[str, object],
    day: date,
    holders: _KeyDays,
    confirmed: _Confirmed | None,
    *,
    runs: bool = False,
) -> tuple[list[str], list[str], list[str], dict[str, object]]:
    """A department's day (a ``usage.daily``'s ``people``) as it counts, in one pass that asks
    each person once: those who held no gateway key of their own that day (dropped), those
    who did not confirm it or confirmed lower figures than the day now gives them (unconfirmed,
    with the latter also in beyond: sealed into the day since they answered), and the people
    it counts for, in the fact's order, each with the workflow runs they confirmed of the day
    where ``runs`` and they bound them (more signed since count as many). A department names
    thousands a day, every day of a quarter: a second look per person-day was most of what
    every status spent counting."""
    held = holders.on(day)
    said = None if confirmed is None else confirmed.on_day.get(day, {})
    ran = confirmed.runs_on.get(day, {}) if confirmed is not None and runs else {}
    dropped: list[str] = []
    unconfirmed: list[str] = []
    beyond: list[str] = []
    kept: dict[str, object] = {}
    for person, figures in people.items():
        if person not in held:
            dropped.append(person)
            continue
        if said is not None:
            bound = said.get(person)
            if bound is None:
                unconfirmed.append(person)
                continue
            if _beyond(bound, figures):
                unconfirmed.append(person)
                beyond.append(person)
                continue
        most = ran.get(person)
        kept[person] = figures if most is None else capped_runs(figures, most)
    return sorted(dropped), sorted(unconfirmed), sorted(beyond), kept


#: how many days before its recording an adoption report's ``as_of`` may be (a report run
#: just after midnight UTC, as of the day that ended)
STALE_AS_OF = 1


def _measured_ahead(fact: Fact, recorded: date) -> str | None:
    """Why a gateway's measure of people is dated after it was recorded (a day's usage, a
    report's last day, a prompt's last use still to come), or an adoption report as of a day
    long before, or None: a measure is of days that have been, and a report is of now."""
    payload = fact.payload
    field = {"usage.daily": "day", "pilot.adoption": "as_of", "prompt.usage": "last_used"}
    name = field[fact.kind]
    value = payload.get(name)
    if value is None:
        return None
    day = date.fromisoformat(str(value))
    if day > recorded:
        return (
            f"its {name} {value} is after the day it was recorded ({recorded}): the gateway "
            "measures days that have been; a figure for days to come is nobody's use"
        )
    if fact.kind == "pilot.adoption" and day < recorded - timedelta(days=STALE_AS_OF):
        # the latest report is the one judged: one recorded today "as of" an old peak would
        # hide the measurement of now behind a window that has passed
        return (
            f"its as_of {value} is more than {STALE_AS_OF} day before the day it was recorded "
            f"({recorded}): an adoption report counts as of when it is recorded"
        )
    return None


def _keyless(people: list[str], day: date) -> str:
    return (
        f"not counted for {', '.join(people)}, who held no gateway key of their own on {day}: "
        "the gateway's figures count for those who fetched one (`inhouse keys fetch`, with a "
        "key that signed in as them where the organisation's sign-in is set up), as for "
        "anyone else they could be its host's typing"
    )


def _beyond_confirmed(people: list[str], what: str) -> str:
    return (
        f"not counted for {', '.join(people)} {what}: the gateway's signed figures give them "
        "more requests or tokens that day than they confirmed (`inhouse usage confirm` on "
        "their machine asks them again): the gateway's host is its operator's, who could seal "
        "more rows into a day its person confirmed"
    )


def _unconfirmed(people: list[str], what: str) -> str:
    return (
        f"not confirmed by {', '.join(people)} {what} (`inhouse usage confirm` on their "
        "machine): the gateway's host is its operator's, who could seal usage rows in anyone's "
        "name; a person's use counts where they confirmed it with a key of their own"
    )


def _confirmations(facts: list[Fact], *, bound: bool = False) -> _Confirmed:
    """The ``usage.confirmed`` facts among ``facts`` (those that count), by person."""
    found = _Confirmed(bound=bound)
    for fact in facts:
        if fact.kind == "usage.confirmed":
            try:
                found.add(fact)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # appended around the API: it confirms nothing (the fold checks no shape)
    return found


def _confirmed_on_host(fact: Fact, state: ProgramState) -> str | None:
    """Why a ``usage.confirmed`` is not its person's own word: it was signed with a key
    enrolled from a service's host (the gateway's), whose operator holds every key file made
    there. Not asked in a demo (one machine plays every part)."""
    if state.demo or not fact.machine:
        return None
    for record in state.keys.values():
        service = state.people.get(record.person)
        if service is None or not service.service or not record.machine:
            continue
        if same_machine(fact.machine, record.machine):
            return (
                f"signed with a key {fact.by} enrolled on the {record.person}'s host, whose "
                "operator holds every key made there: a person confirms their use from a "
                "machine of their own"
            )
    return None


def _judged_before(fact: Fact, state: ProgramState, rule: int) -> bool:
    """Whether a play's exit was judged on ``fact`` before ``rule``: before a person's use
    needed their own confirmation (:data:`~inhouse.program.checks.CONFIRMED_USE`), or before a
    confirmation covered only what it bound (:data:`~inhouse.program.checks.CONFIRMED_BOUND`):
    that exit keeps it as it was judged (:meth:`~inhouse.program.checks.CheckContext.spared`,
    asked of every play)."""
    for play, (_, mark) in state.first_exited.items():
        if state.first_rules.get(play, 0) >= rule:
            continue
        judged = state.first_judged.get(play)
        if (fact.id <= mark) if judged is None else (fact.id in judged):
            return True
    return False


def _lock_problem(fact: Fact) -> str | None:
    """Why a ``baseline.lock`` fact is not the lock it names: the fact alone decides it."""
    from inhouse.baseline.lock import lock_fact_problem  # the lock's format lives there

    return lock_fact_problem(fact.payload)


#: roles whose holders may pin the baseline (besides a started play's owner): those a lead gave
#: charge of the program's parts, never its users (a pilot user, a champion)
LOCK_ROLES = ("rollout-lead", "play-owner", "support-owner")


def _lock_signer_problem(fact: Fact, state: ProgramState) -> str | None:
    """Why ``fact``'s signer had no say over the lock (:func:`pin_refusal`), or None."""
    return pin_refusal(state, fact.by, fact.id)


def pin_refusal(state: ProgramState, who: str, seq: int) -> str | None:
    """Why ``who`` may not pin the baseline at event ``seq``, or None. The lock is what the
    gateway routes and what every measure of use counts against, so it is pinned by someone a
    lead put in charge (a rollout lead, a play owner, the support owner, or a started play's
    owner), as they were then, never by any enrolled person: a pilot user re-locking the
    program sent every request to weights nobody verified, or to none."""
    for role in LOCK_ROLES:
        spans = state.role_spans.get(who, {}).get(role, ())
        if any(gained <= seq and (lost is None or seq < lost) for gained, lost in spans):
            return None
    if any(r.owner == who and r.seq <= seq for r in state.plays.values()):
        return None
    return (
        f"recorded by {who}, who held none of the roles {', '.join(LOCK_ROLES)} then, nor owned "
        "a started play: the lock the gateway routes is pinned by someone a lead put in charge "
        "(`inhouse baseline lock`)"
    )


#: play 1's id in the shipped playbook: whoever owns it runs its trial
_PROVE = "prove-value"


def _verdict_signer_problem(fact: Fact, state: ProgramState) -> str | None:
    """Why a ``trial.verdict``'s signer had no say over play 1, or None. Plays 1 and 2 read the
    latest verdict (value-proven; the weights the lock must bless; what play 2 reruns; a
    not-worth-it stop), so a verdict is recorded by someone a lead put in charge, as for the
    lock (:func:`pin_refusal`), or by play 1's owner whenever they took it: any enrolled person
    (a pilot user, a colleague who asked in) running `inhouse prove` on a trial of their own
    that came out not worth it, or inconclusive, un-did play 1's exit for everyone, and the
    reach guards then held the whole pilot back. A verdict an exit was judged on keeps counting
    (that exit's acceptance hashed it)."""
    if (problem := verdict_refusal(state, fact.by, fact.id)) is None:
        return None
    for play, (_, mark) in state.first_exited.items():
        judged = state.first_judged.get(play)
        if (fact.id <= mark) if judged is None else (fact.id in judged):
            return None
    return problem


def verdict_refusal(state: ProgramState, who: str, seq: int | None = None) -> str | None:
    """Why a ``trial.verdict`` ``who`` records at event ``seq`` (the next one by default) is set
    aside for plays 1 and 2, or None where it counts: ``inhouse prove`` asks it before a trial
    runs for minutes, so its runner learns up front that the verdict will be theirs to read
    only (:func:`_verdict_signer_problem` adds the verdicts an exit was judged on)."""
    at = state.head_seq + 1 if seq is None else seq
    if pin_refusal(state, who, at) is None:
        return None
    prove = state.plays.get(_PROVE)
    if prove is not None and prove.owner == who:
        return None
    return (
        f"recorded by {who}, who held none of the roles {', '.join(LOCK_ROLES)} then, nor "
        "owned play 1 or another started play: a trial's verdict decides play 1 for everyone, "
        "so it is recorded by play 1's owner or someone a lead put in charge (`inhouse prove`); "
        f"{who}'s trial is theirs to read (its report), not the program's verdict"
    )


def _service_at_home(fact: Fact, state: ProgramState) -> str | None:
    """Why a service's fact is its enrolling lead's word: the service's key was enrolled from a
    machine that lead had enrolled a key from before (a "gateway" on the lead's own laptop, whose
    key the lead holds). Only the enrolment events decide it, which no later event changes.
    Outside a demo, a service's fact with no machine to judge does not count (fail closed)."""
    if state.demo:
        return None
    if not fact.machine:
        return (
            f"signed by the {fact.by} service with no enrolled machine on record: a service's "
            "figures count only from a host of its own that its enrolment names"
        )
    for record in state.keys.values():
        lead = record.invited_by
        if record.person != fact.by or record.machine != fact.machine or lead is None:
            continue
        theirs = [k.machine for k in state.keys.values()
                  if k.person == lead and k.seq < record.seq and k.machine]  # fmt: skip
        if any(same_machine(fact.machine, machine) for machine in theirs):
            return (
                f"signed by the {fact.by} service's key, which {lead} enrolled from a machine "
                f"{lead}'s own key was enrolled from before: a service on a person's own machine "
                "measures what that person could make up; its figures count from a host of its "
                "own"
            )
    return None


def _leads(state: ProgramState) -> set[str]:
    """Everyone who holds or ever held the rollout-lead role."""
    leads = {name for name, p in state.people.items() if "rollout-lead" in p.roles}
    return leads | {name for name, roles in state.roles_held.items() if "rollout-lead" in roles}


def _lead_machines(state: ProgramState) -> list[tuple[str, str]]:
    """Each machine anyone who holds or ever held the rollout-lead role enrolled a key of their
    own from (at any time, revoked keys too), with whose it is."""
    leads = _leads(state)
    return sorted(
        (k.person, k.machine) for k in state.keys.values() if k.person in leads and k.machine
    )


def _on_a_leads_machine(fact: Fact, leads: list[tuple[str, str]]) -> str | None:
    """Why a service's fact is a lead's word: it was signed on a machine a lead (any lead, ever)
    enrolled a key of their own from, before the service or after it. Whoever holds a key on
    that machine holds the service's too, and signs any figure with it."""
    if not fact.machine:
        return None  # judged by the enrolment rule (:func:`_service_at_home`)
    for lead, machine in leads:
        if same_machine(fact.machine, machine):
            return (
                f"signed by the {fact.by} service's key on a machine {lead}, a rollout lead, "
                "enrolled a key of their own from: a service on a lead's machine measures what "
                "that lead could make up; its figures count from a host of its own"
            )
    return None


def build_context(state: ProgramState, now: datetime) -> CheckContext:
    """The context every check of ``state`` at ``now`` sees; built once per state and time (a
    status evaluates a dozen checks on it)."""
    cached = _cache.get(id(state))
    if cached is not None and cached[0] is state and cached[1] == (state.head_seq, now):
        return cached[2]
    context = _build(state, now)
    _cache.clear()  # one program per process, usually: keep the latest only
    _cache[id(state)] = (state, (state.head_seq, now), context)
    return context


_cache: dict[int, tuple[ProgramState, tuple[int, datetime], CheckContext]] = {}


def forget(state: ProgramState) -> None:
    """Drop the context kept for ``state``: the fold judged it halfway through an event (the
    state before a play's start, at the start's own seq), which the state after it is not."""
    cached = _cache.get(id(state))
    if cached is not None and cached[0] is state:
        del _cache[id(state)]


def _lapsed(
    state: ProgramState, now: datetime, verdicts: dict[int, str | None], measured: set[str]
) -> tuple[Fact, ...]:
    """The words a report's lagging figures rest on that expired by ``now`` and would count
    otherwise (:attr:`CheckContext.lapsed`): a price quote attested until a date priced the
    reports recorded before it, and still does."""
    found = []
    for fact in state.facts:
        if fact.kind not in LAGGING_READS or not fact.expired(now):
            continue
        if fact.id not in verdicts:
            verdicts[fact.id] = why_uncounted(fact, state, measured)
        why = verdicts[fact.id]
        if why is None and state.sign_in is not None and fact.signed:
            why = _not_signed_in(fact, state)
        if why is None:
            found.append(fact)
    return tuple(found)


def _build(state: ProgramState, now: datetime) -> CheckContext:
    measured = measured_kinds()
    counted: list[Fact] = []
    uncounted: list[Uncounted] = []
    by_kind: dict[str, list[Uncounted]] = {}
    verdicts = _verdicts(state)
    holders: _KeyDays | None = None
    leads: list[tuple[str, str]] | None = None
    live = state.live_facts(now)
    hosts: set[str] | None = None if state.demo else set()
    refused: dict[str, list[str]] = {}
    if hosts is not None and state.sign_in is not None:
        hosts, refused = _vouches(state, live, measured)
    judged: list[tuple[Fact, str | None]] = []
    for fact in live:
        if fact.id in verdicts:
            why = verdicts[fact.id]
        else:
            why = verdicts[fact.id] = why_uncounted(fact, state, measured)
        if why is None and state.sign_in is not None and fact.signed:
            # not cached with the verdicts: a later sign-in makes the signer someone
            why = _not_signed_in(fact, state)
        if why is None and hosts is not None and fact.kind in SERVICE_KINDS:
            # nor is this: someone may vouch for the service's host later
            why = _host_unvouched(fact, state, hosts, refused)
        if why is None and fact.kind in SERVICE_KINDS and not state.demo:
            # nor this: a lead may enrol from the service's host later, or a co-lead enrol the
            # service from a lead's machine
            leads = _lead_machines(state) if leads is None else leads
            why = _on_a_leads_machine(fact, leads)
        if why is None and fact.kind in SERVICE_KINDS:
            # nor this: a play that exits keeps what it was judged on before rule 39
            why = _service_marked(fact, state)
        if why is None and fact.kind == "usage.confirmed":
            # nor this: the gateway's key may be enrolled on that machine later
            why = _confirmed_on_host(fact, state)
        if why is None and fact.at > now + CLOCK_SKEW:
            # an event's time is its writer's clock: one dated ahead (a review "held" next year)
            # would stay fresh for as long as it claims; it counts once its time has come
            why = f"dated {fact.at:%Y-%m-%d %H:%M} UTC, after now: its writer's clock was ahead"
        judged.append((fact, why))
    loose: _Confirmed | None = None
    bound: _Confirmed | None = None
    in_force = confirmations_bound(state)
    for fact, why in judged:
        if why is None and fact.kind in PERSONAL_USAGE_KINDS:
            holders = _KeyDays(_key_holders(state)) if holders is None else holders
            asked: _Confirmed | None = None
            if _judged_before(fact, state, CONFIRMED_USE):
                pass  # judged before confirmations were asked: kept as it was
            elif in_force and not _judged_before(fact, state, CONFIRMED_BOUND):
                if bound is None:
                    bound = _confirmations([f for f, w in judged if w is None], bound=True)
                asked = bound
            else:  # before rule 19, or an exit judged on it before: each confirmation unbound
                if loose is None:
                    loose = _confirmations([f for f, w in judged if w is None])
                asked = loose
            try:
                capped = asked is not None and not _judged_before(fact, state, RUNS_CONFIRMED)
                trimmed, keyless, unsaid = _for_key_holders(fact, holders, asked, runs=capped)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                # appended around the API (the fold checks signatures, not shapes): it names
                # nobody it can be counted for, and says why, rather than take status down
                trimmed, keyless, unsaid = None, f"malformed: {type(err).__name__} {err}", ()
            if keyless is None and trimmed is not None and trimmed is not fact:
                counted.append(trimmed)  # counted for everyone, with the runs they confirmed
                continue
            if keyless is not None:  # counted for those who held a key; the rest said beside
                if trimmed is not None:
                    counted.append(trimmed)
                item = Uncounted(fact, keyless, unsaid)
                uncounted.append(item)
                by_kind.setdefault(fact.kind, []).append(item)
                continue
        if why is None:
            counted.append(fact)
        else:
            item = Uncounted(fact, why)
            uncounted.append(item)
            by_kind.setdefault(fact.kind, []).append(item)
    if state.malformed_facts:  # set aside by the fold: said beside each check that reads them
        for fact, why in state.malformed_facts:
            item = Uncounted(fact, why)
            uncounted.append(item)
            by_kind.setdefault(fact.kind, []).append(item)
        uncounted.sort(key=lambda item: item.fact.id)
        for items in by_kind.values():
            items.sort(key=lambda item: item.fact.id)
    machines: dict[str, set[str]] = {}
    since: dict[str, dict[str, int]] = {}
    invited: dict[str, str | None] = {}
    enrollers: dict[str, set[str]] = {}
    where: dict[str, list[tuple[str, str, int]]] = {}
    for record in state.keys.values():
        machines.setdefault(record.person, set()).add(record.machine)
        first = since.setdefault(record.person, {})
        first[record.machine] = min(first.get(record.machine, record.seq), record.seq)
        invited.setdefault(record.person, record.invited_by)
        if record.invited_by:
            enrollers.setdefault(record.person, set()).add(record.invited_by)
            found = state.people.get(record.person)
            if found is not None and found.service:
                made = (record.machine, record.invited_by, record.seq)
                where.setdefault(record.person, []).append(made)
    return CheckContext(
        facts=FactSet(counted, ordered=True),
        people=state.people,
        owners=state.owners,
        now=now,
        uncounted=tuple(uncounted),
        lapsed=_lapsed(state, now, verdicts, measured),
        machines={person: frozenset(found) for person, found in machines.items()},
        machine_since=since,
        owner_since={play: record.seq for play, record in state.plays.items()},
        invited_by=invited,
        enrolled_by={person: frozenset(found) for person, found in enrollers.items()},
        enrolled_where={service: tuple(sorted(made)) for service, made in where.items()},
        roles_held=state.roles_held,
        role_since=state.role_since,
        role_spans=state.role_spans,
        exited=state.first_exited,
        judged=state.first_judged,
        exit_rules=state.first_rules,
        let_in=frozenset(state.let_in),
        demo=state.demo,
        log_file=state.log_file,
        created_with=_created_with(state),
        signed_in=(
            None
            if state.sign_in is None
            else {
                person: bound.subject
                for person, bound in state.signed_in.items()
                if state.vouched(person)
            }
        ),
        sign_in_issuer=_issuer(state),
        departed=_departed(state),
        subjects_held=_subjects_held(state),
        set_aside={person: seq for person, (seq, _) in state.set_aside.items()},
        key_subjects={key: bound.subject for key, bound in state.signed_keys.items()},
        revoked_keys=frozenset(k for k, r in state.keys.items() if r.revoked_at is not None),
        uncounted_by_kind={kind: tuple(items) for kind, items in by_kind.items()},
        # a demo's log judged as a real program's too: a pass that holds only in a demo says so
        real=_build(replace(state, demo=False), now) if state.demo else None,
    )


def _subjects_held(state: ProgramState) -> dict[str, frozenset[str]]:
    held: dict[str, set[str]] = {}
    for bound in state.signed_keys.values():
        held.setdefault(bound.person, set()).add(bound.subject)
    return {person: frozenset(subjects) for person, subjects in held.items()}


def _departed(state: ProgramState) -> frozenset[str]:
    """People with no active key who cannot be hiding an account from the sign-in (see
    :attr:`~inhouse.program.checks.CheckContext.departed`). Not among them: whoever held a
    key after the sign-in was set up, never signed in with it, and then lost every key: their
    account is unknown, and could sit behind any other name."""
    if state.sign_in is None:
        return frozenset()
    set_up = state.sign_in.seq
    bound = {b.person for b in state.signed_keys.values()}
    gone = set()
    for name, person in state.people.items():
        keys = state.keys_of(name)
        if person.service or any(k.revoked_at is None for k in keys):
            continue
        if not keys or name in bound or all((k.revoked_seq or 0) < set_up for k in keys):
            gone.add(name)
    return frozenset(gone)


def _vouches(
    state: ProgramState, facts: FactSet, measured: set[str]
) -> tuple[set[str], dict[str, list[str]]]:
    """The service keys someone vouched for (:mod:`inhouse.identity.hosts`), and for each
    service key, why each vouch for it that names it does not count (:func:`_vouch_problem`)."""
    found: set[str] = set()
    refused: dict[str, list[str]] = {}
    leads = _lead_machines(state)
    accounts = _lead_accounts(state)
    departed = _departed(state)
    for fact in facts.of("service.vouched"):
        key = str(fact.payload.get("key_id"))
        if key in found:
            continue
        why = _vouch_problem(fact, state, measured, leads, accounts, departed)
        if why is None:
            found.add(key)
        elif key in state.keys:
            refused.setdefault(key, []).append(f"{fact.by}'s vouch (fact #{fact.id}) {why}")
    return found, {key: why for key, why in refused.items() if key not in found}


def _vouch_problem(
    fact: Fact,
    state: ProgramState,
    measured: set[str],
    leads: list[tuple[str, str]],
    accounts: dict[str, str],
    departed: frozenset[str],
) -> str | None:
    """Why a ``service.vouched`` does not vouch for the service key it names, or None: it must
    count, carry the signature the key made over its challenge, and be signed by a person who
    never held the rollout-lead role (a lead enrols services, and a co-lead of one's own could
    enrol one for another to vouch for), with a key that signed in with an account no rollout
    lead ever held (the lone lead lends her one account to an alias for the vouch, then takes
    it back: the documented release), from a machine no lead enrolled from; and the lead who
    enrolled the key must have signed in themselves (or left), or their own account could sit
    behind the voucher's name."""
    from inhouse.identity.hosts import host_challenge
    from inhouse.identity.keys import verify_signature

    if (why := why_uncounted(fact, state, measured) or _not_signed_in(fact, state)) is not None:
        return f"does not count: {why}"
    data = fact.payload
    record = state.keys.get(str(data.get("key_id")))
    if record is None or record.person != data.get("service"):
        return f"names key {data.get('key_id')}, which is not the {data.get('service')}'s"
    lead = record.invited_by
    signer = state.people.get(fact.by)
    if signer is None or signer.service:
        return "is not signed by a person"
    held = state.roles_held.get(fact.by, frozenset()) | signer.roles
    if fact.by == lead or "rollout-lead" in held:
        return f"is signed by {fact.by}, who is (or was) a rollout lead, and leads enrol services"
    machines = [m for _, m in leads] + (sorted(state.machines(lead)) if lead else [])
    if fact.machine is not None and any(same_machine(fact.machine, m) for m in machines):
        return f"is signed from {fact.machine}, a machine a rollout lead enrolled from"
    theirs = {b.subject: b.person for b in state.signed_keys.values() if b.person == lead}
    bound = state.signed_keys.get(fact.key or "")
    if bound is not None and (other := {**accounts, **theirs}.get(bound.subject)) is not None:
        return (
            f"is signed by {fact.by} with the account {bound.subject}, which {other}, a rollout "
            "lead, held: one account is one person to the sign-in, whatever name it signs in as"
        )
    # her account known (any key of hers signed in, even one revoked since), the account rule
    # above covers it; one who never signed in could have lent it to the voucher
    if lead is not None and not theirs and lead not in departed:
        return (
            f"waits for {lead}, who enrolled the key, to sign in with {_issuer(state)}: until "
            f"they do, their own account could sit behind {fact.by}'s name"
        )
    challenge = host_challenge(state.program_id, record.person, str(data.get("nonce")))
    if not verify_signature(record.public_key, challenge, str(data.get("signature"))):
        return f"carries a signature that key {record.key_id} did not make over its challenge"
    return None


def lead_account(state: ProgramState, key: str | None) -> tuple[str, str] | None:
    """The account ``key`` signed in with and the rollout lead (any, ever) who held it, or None
    where it is no lead's: what that key signs as someone else's vouch is a lead's
    (:func:`_vouch_problem`), so the command refuses it before recording."""
    bound = state.signed_keys.get(key or "")
    if bound is None:
        return None
    lead = _lead_accounts(state).get(bound.subject)
    return None if lead is None or lead == bound.person else (bound.subject, lead)


def _lead_accounts(state: ProgramState) -> dict[str, str]:
    """Each account anyone who holds or ever held the rollout-lead role signed in with (a
    released binding too), with whose it was."""
    leads = _leads(state)
    return {b.subject: b.person for b in state.signed_keys.values() if b.person in leads}


def vouched_hosts(state: ProgramState, facts: FactSet | None = None) -> set[str] | None:
    """The service keys someone vouched for (:func:`_vouch_problem`), or None in a demo, where
    none need it. Without the organisation's sign-in nobody is told apart from the lead who
    enrolled a service, so nobody can vouch for its host: none."""
    if state.demo:
        return None
    if state.sign_in is None:
        return set()
    found = FactSet(state.facts, ordered=True) if facts is None else facts
    return _vouches(state, found, measured_kinds())[0]


def refused_vouches(state: ProgramState) -> dict[str, list[str]]:
    """For each service key nobody has vouched for yet, why each vouch that names it does not
    count (none in a demo, or without the organisation's sign-in)."""
    if state.demo or state.sign_in is None:
        return {}
    return _vouches(state, FactSet(state.facts, ordered=True), measured_kinds())[1]


def _host_unvouched(
    fact: Fact, state: ProgramState, hosts: set[str], refused: dict[str, list[str]]
) -> str | None:
    """Why a service's fact does not count yet: nobody but the lead who enrolled its key has
    vouched for the host it is on (with the organisation's sign-in set up), with why each vouch
    that names the key does not count (``refused``, :func:`refused_vouches`)."""
    signer = state.people.get(fact.by)
    if signer is None or not signer.service or fact.key in hosts:
        return None
    record = state.keys.get(fact.key or "")
    lead = record.invited_by if record is not None else None
    if state.sign_in is None:
        return (
            f"signed by the {fact.by} service's key {fact.key}, enrolled by "
            f"{lead or 'a lead'}: without the organisation's sign-in nobody is told apart from "
            "them, so nobody can vouch for its host (a key on a machine of the lead's own would "
            "measure what she liked); a rollout lead sets the sign-in up (`inhouse sign-in "
            "setup`), then someone else who uses it runs `inhouse gateway vouch`"
        )
    return (
        f"signed by the {fact.by} service's key {fact.key}, whose host nobody but "
        f"{lead or 'its enrolling lead'} has vouched for: someone else who uses the {fact.by} "
        f"runs `inhouse gateway vouch` on their own machine (a key on a machine of the lead's "
        "own would measure what she liked)"
        + "".join(f"; {why}" for why in refused.get(fact.key or "", ()))
    )


def _issuer(state: ProgramState) -> str:
    """The sign-in's issuer as reasons name it ("" without one), said so where it vouches for
    nobody (on a loopback address, outside a demo)."""
    if state.sign_in is None:
        return ""
    if state.sign_in_vouches:
        return state.sign_in.issuer
    return (
        f"{state.sign_in.issuer} (on a loopback address: a provider on someone's own machine "
        "vouches for nobody outside a demo; a lead sets up the organisation's own)"
    )


def _not_signed_in(fact: Fact, state: ProgramState) -> str | None:
    """Why ``fact``'s signer is nobody yet: the program has the organisation's sign-in, and it
    has not vouched for them (a service's key speaks for a host, not a person: not asked)."""
    return unsigned_signer(state, fact.by, fact.key)


def unsigned_signer(state: ProgramState, person: str, key: str | None) -> str | None:
    """Why what ``person`` signs with ``key`` counts for nobody yet: the program has the
    organisation's sign-in and it has not vouched for them, or for that key of theirs; None
    when it has, where there is no sign-in, and for a service (its key speaks for a host, not a
    person: not asked). A command whose record would show nothing of theirs asks first."""
    signer = state.people.get(person)
    if state.sign_in is None or signer is None or signer.service:
        return None
    if state.signed_in_as(key, person) and state.sign_in_vouches:
        return None
    if not state.sign_in_vouches:
        return f"signed by {person}, whom the sign-in with {_issuer(state)} cannot vouch for"
    if person in state.signed_in:
        return (
            f"signed with {person}'s key {key}, which has not signed in with "
            f"{state.sign_in.issuer} itself: each key of a person signs in "
            f"({sign_in_login(state.log_file, 'on that machine')})"
        )
    aside = set_aside_note([person], {p: seq for p, (seq, _) in state.set_aside.items()})
    return (
        f"signed by {person}, who has not signed in with {state.sign_in.issuer}: what a "
        f"person signs counts once the organisation's sign-in vouched for them "
        f"({sign_in_login(state.log_file)}){aside}"
    )


#: each state's verdict per fact id: whether a fact counts depends on the fact (its machine too:
#: its key's enrolment's, or for a session's fact the delegating key's, fixed as it is folded),
#: its signer's enrolment (a service or not) and the registered collectors, none of which a
#: later event changes, so a long-lived process (the dashboard) judges each fact once as the
#: log grows
_verdict_cache: dict[int, tuple[ProgramState, dict[int, str | None]]] = {}


def _verdicts(state: ProgramState) -> dict[int, str | None]:
    cached = _verdict_cache.get(id(state))
    if cached is not None and cached[0] is state:
        return cached[1]
    _verdict_cache.clear()  # one program per process, usually
    verdicts: dict[int, str | None] = {}
    _verdict_cache[id(state)] = (state, verdicts)
    return verdicts


def _created_with(state: ProgramState) -> tuple[str, int] | None:
    """The playbook the program was created with, by name and version, as a check may believe
    it: a first event naming a playbook inhouse ships under a version or rules no release of it
    had names nothing (its lead's to write: a made-up v1 must not spare it a check v2 added),
    and one naming a version whose rules a later version ships (the release that made play 2
    ask for a rerun, still v1) names the later version, whose checks it was created with."""
    from inhouse.program.playbook import earlier_shipped

    found = earlier_shipped(state.playbook, state.playbook_version, state.playbook_rules)
    if found is None:
        return (state.playbook, state.playbook_version)
    if not found:
        return None
    return (state.playbook, max(book.version for book in found))
