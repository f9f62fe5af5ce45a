"""Checks: pure functions from facts to an outcome, and their registry.

A check never reads the clock, the database or the network: it gets a :class:`CheckContext`
(the live facts, the roster, the play owners, "now" and its parameters from the playbook) and
returns a :class:`Result` whose reason names the evidence that is missing. The built-in checks
(``inhouse.program.playchecks``) register through the same decorator a third party would use.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from inhouse.program.facts import Fact, FactSet, Provenance

__all__ = [
    "AUTHOR_MEASURED",
    "AUTHOR_REAL_MODEL",
    "CONFIRMED_BOUND",
    "CONFIRMED_TERMS",
    "CONFIRMED_USE",
    "CONFUSABLE_READING",
    "DASH_MAILBOX",
    "EVERY_ENROLLER",
    "EVERY_ONBOARDING",
    "EXIT_RULES",
    "FIRST_ENROLLER",
    "FRESH_SEED",
    "GATEWAY_HOST",
    "GATEWAY_STEP",
    "LEAD_APART",
    "LEAD_RERUN",
    "LEAD_RUNS",
    "LEAD_RUNS_THEN",
    "LOOKALIKE_READING",
    "MACHINES_THEN",
    "MARKED_SERVICE",
    "NAMED_ACCEPTANCE",
    "OWN_USE",
    "POOLED_ADVANTAGE",
    "PROVEN_WEIGHTS",
    "RAN_OTHERS_CODE",
    "RERUN_SERIES",
    "RUNS_CONFIRMED",
    "SERIES_ORDER",
    "SIGNED_RUNS",
    "TEAM_READING",
    "TEST_MODEL_SAY",
    "TYPICAL_OPENERS",
    "VERSION_IN_CHARGE",
    "WAIVER_LOG_TIME",
    "WAIVER_SHARE",
    "WAIVER_VOUCHED",
    "WORKFLOW_ATTEMPT_SEEDS",
    "WORKFLOW_FRESH_SEED",
    "WORKFLOW_TEXTLESS_REPEAT",
    "CheckContext",
    "CheckFunc",
    "Outcome",
    "Person",
    "Result",
    "Uncounted",
    "evaluate",
    "register_check",
    "registry",
]


#: The rules an exit is judged by, counted up each time a check's rule tightens and an earlier
#: one is kept for exits judged under it; an exit records the number it was judged by (its
#: ``play.exited`` event's ``rules``), and :meth:`CheckContext.spared` keeps a rule numbered
#: above it for none of its facts: it was judged by that rule already. An exit recorded before
#: exits said so counts as 0.
#:
#: 1 (:data:`OWN_USE`): a person's use counts through a key of their own, not an agent's nor
#: one fetched in their name by a key that never signed in as them, and a day the gateway
#: signed again is read as it last signed it (play 6's use beyond the pilot, a prompt fix's
#: confirmers)
#:
#: 2 (:data:`CONFIRMED_USE`): the gateway's figures count for a person only on the days (and
#: prompt versions) that person confirmed with a key of their own (``inhouse usage confirm``),
#: for every play: the gateway's host is its operator's, who could seal rows in anyone's name
#:
#: 3 (:data:`GATEWAY_HOST`): a key made on the host of a service a judged person enrolled (the
#: gateway's, after they enrolled its key there) is theirs, for the receiver of a handoff to a
#: play that needs another owner (its next play's start) and for play 2's access requests
#:
#: 4 (:data:`AUTHOR_MEASURED`): a workflow version's author (whoever first published it) who
#: has no passing run of it that measured it on their own machine, by the release, makes no
#: one else's pass count without such a pass of theirs beside it (play 3's rerun by another)
#:
#: 5 (:data:`NAMED_ACCEPTANCE`): an acceptance names the facts it accepts (``evidence``): an
#: approved acceptance (a dashboard session's, its receiver's own key approving it) that names
#: none, where the log shows this rule in force at it, lets its exit spare no fact, as an exit
#: that names none (the fold's rule, not a check's)
#:
#: 6 (:data:`TEAM_READING`): a team counts toward the pilot's spread by how its name reads
#: (:func:`inhouse.plaintext.reading`): "ops", "ops" with a zero-width space and "ops" with a
#: Cyrillic o are one team (play 4's pilot-size)
#:
#: 7 (:data:`EVERY_ENROLLER`): the host rule (3) reads every lead who enrolled one of the
#: gateway's keys, each on the host they enrolled it on, from when they did (a key made there
#: since is theirs), not only whoever enrolled its first key (who then held every host it ran
#: on): for the checks that do not already keep the rule before for the facts an exit was
#: judged on (a handoff's receiver, play 2's access requests)
#:
#: 8 (:data:`DASH_MAILBOX`): a '-' reaches the inbox before it, as a '+' does, where a mail
#: server splits there (qmail's default, Postfix's ``recipient_delimiter``): an account at
#: ``lena-omar@`` beside a binding of another person's at ``lena@`` (or the other way round) is
#: one mailbox, unless a colleague signed in there who is no rollout lead said the domain's
#: mail server keeps '-' in names (``inhouse sign-in dash-names``); only for sign-ins where the
#: log shows this rule in force (the fold's rule, not a check's)
#: 9 (:data:`CONFIRMED_TERMS`): a pilot member counts as reaching the tool on their own
#: (play 4's pilot-independent-use) only where the days they confirmed themselves meet the
#: report's terms, not only its count: one of them on or after the day their enablement
#: finished and not the day they were onboarded. The report's "independent" is what the
#: gateway's host signs, its operator's word on those two terms
#: 10 (:data:`WAIVER_SHARE`): one person's waivers of one guard (for one play, or the whole
#: program) cover at most :data:`~inhouse.program.state.WAIVER_LONGEST` in any
#: :data:`~inhouse.program.state.WAIVER_WINDOW`: a waiver granted where the log shows this rule
#: in force at it lapses once its grantor's share is spent, so a renewal past it is another
#: lead's to grant (the fold's rule, not a check's; waivers granted before keep their effect)
#: 11 (:data:`PROVEN_WEIGHTS`): play 3's workflow runs on weights a trial proved (a proven
#: verdict naming their digest) and someone else reproduced (play 2's rerun), not on any model
#: the lock blesses: the lock may bless a second model nobody ever tried head to head
#: (``workflow-pinned``)
#: 12 (:data:`EVERY_ONBOARDING`): rule 9's "not the day they were onboarded" is every day a
#: member was listed before the report, not only the latest: listed again the next day by the
#: lead alone, the day she walked them through counted as a day on their own
#: 13 (:data:`GATEWAY_STEP`): a pilot member's finished track counts toward play 4's
#: ``pilot-enabled`` only where a step of it is borne out by the gateway's signed use of their
#: own key (``usage.daily`` or ``prompt.usage``): a track of steps in the member's own word
#: (and a workflow run on their own machine) shows nothing of them reaching the tool, which the
#: gateway can measure
#: 14 (:data:`AUTHOR_REAL_MODEL`): rule 4's author's own pass, beside another's, is one that
#: measured the workflow: outside a demo, a pass the project's test model (random weights)
#: answered, or one no case of which needed the model, measured nothing of it, as every other
#: check that reads a run says (:func:`~inhouse.program.playchecks._shared.on_test_model`,
#: :func:`~inhouse.program.playchecks._shared.hollow_tests`), and its runner's being first to
#: record the version made them its author, the writer's own pass "someone else's" (play 3's
#: rerun by another)
#: 15 (:data:`WAIVER_VOUCHED`): rule 10's "one person" is told apart only by the organisation's
#: sign-in: a waiver whose key never signed in as its grantor with a sign-in that vouches for
#: anyone (granted before the sign-in was set up, or in a program without one, or with one on a
#: loopback address, outside a demo) is nobody's word, and counts toward every grantor's share,
#: not only to the name on it: a co-lead the lead made up before the sign-in renews nothing for
#: her (the fold's rule, not a check's; waivers granted before keep their effect)
#: 16 (:data:`LOOKALIKE_READING`): rule 6's reading of a team's name folds more lookalike
#: letters (:func:`inhouse.plaintext.reading`): Latin small capitals and alpha, Coptic's and the
#: Lisu letters drawn as Latin ones. "ops", "\u1d0fps" (a small capital O) and "\u2c9fps" (a
#: Coptic o) are one team (play 4's pilot-size)
#: 17 (:data:`LEAD_APART`): play 2's second person (the verify of ``second-person-verified``, the
#: rerun of ``trial-reproduced``) is someone who held no rollout lead's role by the time they
#: measured (a lead who stepped down before it still put the owners in charge), nor measured from a
#: machine such a lead enrolled from: a lead puts the owners of plays 1 and 2 in charge, and a
#: colleague she put there may type the commands she dictates, so her own verify and rerun would
#: check her own work. Anyone who asked to get in (play 2's trigger, which counts no lead either)
#: can verify; a play 2 that exited under the rules before keeps its exit for the verify and rerun
#: it was judged on
#: 18 (:data:`WAIVER_LOG_TIME`): a waiver's life (rule 10's longest and share) counts from no
#: later than :data:`~inhouse.program.state.LOG_SKEW` after the second of two other signed-in
#: accounts wrote after it (it was granted before they wrote), not from its grantor's clock
#: alone: a lead who set her clock forward once (to 2999), granted a waiver there and set it
#: back was judged no earlier than her own latest event, inside the waiver's life, for good.
#: Until two others write after it, nothing but her clock dates it, as before (the fold's rule,
#: not a check's; waivers granted before keep their effect)
#: 19 (:data:`CONFIRMED_BOUND`): rule 2's confirmation covers only what it bound: a day's
#: requests and tokens up to the figures it names (one an older inhouse wrote of a day the
#: gateway had not signed yet named its requests and no tokens: up to none), and a prompt
#: version's use up to the last day it names (one written before confirmations dated them, up
#: to the day it was recorded). Such a confirmation counted as the widest, for any figure the
#: gateway's host, its operator's, sealed into the day later or any later day of use it dated;
#: its person is asked about the day or version again, once (``inhouse usage confirm``; every
#: play, an exit judged on the gateway's figures before keeps them)
#: 20 (:data:`LEAD_RERUN`): rule 17 for play 3: the rerun of ``workflow-run-by-other`` ("someone
#: other than its author") is by someone who held no rollout lead's role by the time they ran it (as
#: rule 17: one who stepped down before it included), nor ran it from a machine such a lead enrolled
#: from. The author is whoever first published the version: a colleague the lead put in charge of
#: play 3 (or asked to run her checkout once) types what she dictates, and her own rerun would check
#: her own work. A lead who writes the workflow herself is its author, and a colleague's rerun
#: checks it; a play 3 that exited under the rules before keeps its exit for the runs it was judged
#: on
#: 21 (:data:`TYPICAL_OPENERS`): play 5's typical "it broke" component is the one the most
#: people using the tool hit (distinct openers), not the one that drew the most tickets, and
#: one typical component's ticket resolved without its builders, its fix confirmed by its
#: opener, suffices where a tie makes several typical (``ticket-resolved-without-builder``):
#: one user filing tickets again and again picked the component, and one who never confirmed
#: her fixes on a tied one held play 5 back for everyone. A play 5 that exited under the
#: rules before keeps a ticket it was judged on in a component that drew the most tickets
#: 22 (:data:`SIGNED_RUNS`): play 6's work changed counts each workflow's runs as the gateway's
#: key signs them per day (``usage.daily``: each person's requests that named the workflow,
#: from the rows it sealed), never the runs a report lists: the usage log's summary tables
#: are anyone's with the database's password, and a reporter typed 100,000 runs of a workflow
#: that ran three times. A report listing runs no signed fact backs fails
#: (``indicators-reported``); one a play 6 exit was judged on keeps the runs it listed
#: 23 (:data:`LEAD_RUNS`): rule 22's signed runs are those of people told apart from the
#: rollout leads (:func:`~inhouse.program.playchecks._shared.not_apart_from_leads`): the
#: gateway's host is its operator's, who seals its rows, and a lead confirms her own days, so
#: a day of 100,000 triage requests of her own made 15,833 hours of work changed beside a
#: colleague's three runs (``indicators-reported``; a report a play 6 exit was judged on keeps
#: the runs it listed)
#: 24 (:data:`CONFUSABLE_READING`): rule 16's reading of a team's name folds every letter of
#: those scripts, Cherokee's and Latin's own that Unicode's confusables (UTS #39) draw as one
#: Latin letter (:func:`inhouse.plaintext.reading`), and its drawn reading an O with a stroke
#: across it as an O (a Cherokee na, a Greek theta): "\u13bb\u13a1" in Cherokee capitals is HR,
#: and "\u13be\u13e2\u13da" Cherokee's OPS (play 4's pilot-size; a play 4 that exited before keeps
#: the reading it exited on)
#: 25 (:data:`RERUN_SERIES`): play 2's colleague's reruns of one spec, judged together, are
#: judged only whole: each rerun names, in the payload its key signs, its place in that key's
#: series of reruns of the spec (its number, and the hash of the key's rerun before it;
#: :mod:`inhouse.program.rerun_series`), and a pool with a gap (a rerun whose predecessor is
#: not in the log) is inconclusive, naming the reruns missing: a rerun made without the log
#: reaches it only as the envelope someone imports, and a lead holding four imported only the
#: one that held (``trial-reproduced``; reruns recorded before they named their place pool as
#: before, and a play 2 exit keeps the pools it was judged on)
#: 26 (:data:`TEST_MODEL_SAY`): after play 2 exited, a second person's rerun saying the weights
#: play 1 proved are the project's test model (``test_model``, the rerunner's own word)
#: un-does the exit (``trial-reproduced``) only where its rerunner had a say over play 2 when
#: they reran (play 2's owner, a rollout lead, or someone a lead put in charge: the rule a
#: ``trial.verdict``'s signer is held to), or where the machine judging it reads its own copy
#: of the pinned file as the test model (:attr:`CheckContext.test_model_here`): a pilot user
#: typed the flag through the Python API and un-did play 2 alone. Anyone else's finding is shown
#: as their word, with the command that checks it. Before play 2 exits, any second person's
#: finding still fails it. It only takes un-doing away: a play 2 that exited under the rules
#: before has it too (the judging machine's reading does not reach back over such an exit)
#: 27 (:data:`VERSION_IN_CHARGE`): play 3's current version (the one its checks judge) is
#: displaced by a later version of the workflow only where that version is the program's:
#: published or run by someone a lead put in charge at the time (a rollout lead, a play owner,
#: the support owner, a started play's owner), or passed by someone other than its author
#: (:func:`~inhouse.program.playchecks._shared.adopted_version`). Anyone enrolled (a pilot user,
#: a colleague who asked in) who edited their copy and ran ``inhouse workflow test`` made their
#: version the one judged, un-doing play 3's exit for everyone (the reach guards then held the
#: pilot back), as a colleague's own trial verdict once un-did play 1's. It only keeps an
#: earlier version judged: an exit judged before it keeps its verdict
#: 28 (:data:`POOLED_ADVANTAGE`): play 2's pooled reruns (a colleague's reruns of one spec
#: and weights, judged together) reproduce the verdict's claimed advantage (faster, cheaper)
#: only where the reruns that cleared it hold at least half their inputs, the latest among them:
#: the latest alone decided it, so a lead who had her colleague rerun until one draw of a noisy
#: latency cleared "faster" held a lottery ticket per draw that pooling the quality had taken
#: away. A play 2 that exited on the verdict keeps the latest rerun's reading
#: (``trial-reproduced``)
#: 29 (:data:`MACHINES_THEN`): evidence from "someone other than" the judged
#: (:func:`~inhouse.program.playchecks._shared.other_person_elsewhere`: play 2's verify and
#: rerun, play 3's rerun by another, and every check that asks it) is set aside for its machine
#: only where a judged person had enrolled a key from that machine by the time it was recorded:
#: a machine id is its enroller's to state, and a lead who enrolled a key "from" a colleague's
#: laptop afterwards set aside their honest verify and reruns, or only those from one of their
#: machines (the draws that trailed, out of the pool their reruns are judged in). Only takes
#: setting aside away: an exit judged before it keeps its verdict
#: 30 (:data:`SERIES_ORDER`): play 2's pooled reruns are in their order in their key's series
#: (each rerun's number), not in the order the log holds them: the latest of a pool (whose
#: claimed advantage rule 28 asks be among those that cleared, and whose confirmations speak
#: for the pool) is the last its colleague made, not the last someone imported, and a lead
#: who imported a colleague's four envelopes whole, the two that cleared "cheaper" last, made
#: an earlier draw the latest (``trial-reproduced``; a pool a play 2 exit was judged on before
#: keeps the order it was judged in)
#: 31 (:data:`FIRST_ENROLLER`): rule 29's machine is whoever enrolled from it first, as a
#: person's is (:func:`~inhouse.program.playchecks._shared.enrolled_elsewhere`): a judged
#: person's key enrolled "from" a machine its signer had enrolled from before sets nothing
#: measured there aside. A colleague's enrolments name their machines in the log, and a lead who
#: read that one enrolled from a second machine enrolled a key "from" it too: the draws that
#: trailed there (or the envelopes she imported after) left the pool play 2 judges, and the
#: one that held decided it. One from a machine a judged person enrolled from first is still set
#: aside; an exit judged on a fact keeps the reading it was judged by
#: 32 (:data:`RUNS_CONFIRMED`): rule 22's signed runs of a person's day count up to the runs
#: per workflow they confirmed of it (rule 2's confirmation binds them beside the requests and
#: tokens: the figures ``inhouse usage confirm`` shows them, read from the signed day, else the
#: usage log's). The gateway's operator, holding its key and the rows' MAC key,
#: signed a colleague's confirmed day again with the same totals, every request of it now a
#: triage run, and her chat was work changed. A day signed since with more runs than confirmed
#: counts the confirmed number and is asked about again; a confirmation written before it names
#: no runs and bounds none, as before, until its person confirms the day again. Only takes runs
#: away: a play 6 exit judged before it keeps the runs it was judged on
#: 33 (:data:`FRESH_SEED`): where a proven trial samples (a temperature above 0, or none: the
#: server's default), play 2's rerun of it counts only on a seed drawn for it, not the verdict's:
#: a rerun that says which seed its requests carried (``seed``, recorded since ``inhouse prove
#: --rerun`` draws its own) and names the verdict's is inconclusive, naming why and the command
#: that draws one (``trial-reproduced``): the spec's seed is one its author may have picked
#: among many private tries, and a colleague's rerun sending it reproduced that lucky draw. At
#: temperature 0 nothing changes (each answer is the model's most likely one, whatever the
#: seed); a rerun recorded before reruns said their seed is judged as before, and a play 2 exit
#: judged on such a rerun keeps its verdict
#: 34 (:data:`LEAD_RUNS_THEN`): rule 23's rollout leads are those who had been one by the time
#: the gateway signed a run (:class:`~inhouse.program.playchecks._shared.RunsApart`), not
#: everyone who ever held the role: a colleague made a lead in December made her October runs,
#: signed before she held it, "a lead's" and failed an honest October report, and a team that
#: hands the role on was failed for it. A run's time is the ``usage.daily`` fact that signed it
#: and a role's its grant, both places in the log (as rules 17 and 20 read them), never a
#: writer's clock; a lead who steps down stays one for the runs after (two co-leads swapping
#: the role count none of each other's), and runs the gateway signed for a day only after its
#: runner became a lead (the day re-signed with more) are a lead's. ``inhouse indicators
#: report`` counts them so; a report a play 6 exit was judged on keeps rule 23's reading
#: 35 (:data:`WORKFLOW_FRESH_SEED`): rule 33 for play 3's rerun by another: where a workflow
#: version samples (a temperature above 0, or none), a colleague's ``workflow test`` counts only
#: on a seed drawn for it (``inhouse workflow test`` by anyone but the version's author draws
#: its own and records it, ``seed``), not the version's (its hash covers it, and its author may
#: have picked it among many private tries), not none, and not one an earlier run of the
#: version sent. Whether it samples, and its seed, are what the version itself says: the text
#: its content hash covers, which today's runs carry (``hashed``), never a run's word against
#: it (a member's run of a version at 0 typed "at 0.7" refused every honest colleague's); where
#: no run carries it, a run that says no seed (an older inhouse, or one written around it)
#: counts only where a run of its version by none of those judged records that it does not
#: sample (temperature 0, where nothing changes). A play 3 exit judged on such a run keeps its
#: verdict
#: 36 (:data:`RAN_OTHERS_CODE`): a key that ran the Python check code a spec someone else wrote
#: names (a colleague's rerun of a trial, or run of a workflow, on their ``--trust-python``)
#: records that it is about to, before the code runs (``code.trusted``, signed by that key):
#: the code runs inside their inhouse, with the key at hand, and could sign anything with it,
#: take its own name out of the run's record (its ``python_checks``, which plays 2 and 3 set
#: aside) or copy the key out.
#: Nothing that key signs after it counts as its holder's own (the run naming the code it ran
#: included), nor what a key signs that joined with an invitation it signed after (a "new
#: machine" the code could invite and join with a key its writer keeps); they revoke it and
#: sign with a key the code never reached. Such a run is refused without the log, where the
#: same code could take the record out of the outbox. Only takes facts away, and only facts
#: placed after a ``code.trusted``, which no inhouse before the rule recorded: nothing an exit
#: was judged on before it changes
#: 37 (:data:`WORKFLOW_ATTEMPT_SEEDS`): rule 35 for each attempt of a repeated case. Where a
#: version samples at a seed sent, each attempt of a case (``repeat``) sends a seed of its own,
#: derived from its run's, and the run records that it did (``attempt_seeds``): a colleague's
#: run of a version whose own text says a case may run more than once (``repeat`` above 1, or
#: cases read from test files) counts only where it says so (an older inhouse, or the release
#: a lock pins, sent one seed to every attempt, and "passes 5 of 5" was one draw); and a seed
#: sent as a run's own that a later attempt of the version's seed, or of an earlier run's,
#: sent replayed that draw. A play 3 exit judged on such a run keeps its verdict
#: 38 (:data:`WORKFLOW_TEXTLESS_REPEAT`): rule 37 where no run of the version carries the text
#: its hash covers (every run of it by an inhouse from before runs did): whether a case repeats
#: is not known, and a colleague's run of a version that samples, at a seed sent, counts only
#: where it says each attempt drew its own (``attempt_seeds``). One that does not (an inhouse
#: from before runs said, or the release a lock pins) may have sent one seed to every attempt
#: of ``repeat: 5``, "passes 5 of 5" one draw; rule 37 asked it only where a run carried the
#: text. Its runner runs ``workflow test`` again with a current inhouse (whose run carries the
#: text, and says its attempts' seeds), as rule 35 asks of a run that says no seed. A play 3
#: exit judged on such a run keeps its verdict
#: 39 (:data:`MARKED_SERVICE`): rule 36 for a service. A rollout lead enrols a service (the
#: gateway) alone, with no invitation, so the code that ran with a marked lead's key could
#: enrol "a gateway" with a key its writer keeps, and sign as it what plays 4-6 count (usage,
#: adoption, prompt use, drift reviews); the service's key never ran anything, so rule 36 did
#: not reach it. A service key a marked key enrolled after its mark is marked too: nothing it
#: signs counts (a service enrolled before the mark, or by a key the code never reached, is
#: not). ``status`` names it, with the way out: a rollout lead whose key that code never
#: reached revokes it, and the service's host makes a new key, which that lead's ``inhouse
#: gateway rollup`` there enrols. A play whose exit was judged on such a fact before this rule
#: keeps its verdict
EXIT_RULES = 39
#: play 6 counts a person's use through a key of their own (see :data:`EXIT_RULES`)
OWN_USE = 1
#: a person's use counts where they confirmed it themselves (see :data:`EXIT_RULES`)
CONFIRMED_USE = 2
#: a key made on the gateway's host, after a lead enrolled its key there, is that lead's for
#: a handoff's receiver and play 2's askers (see :data:`EXIT_RULES`)
GATEWAY_HOST = 3
#: a workflow's author must have measured their own pass before another's counts for play 3
#: (see :data:`EXIT_RULES`)
AUTHOR_MEASURED = 4
#: an approved acceptance names the facts its exit may spare; one naming none spares none
#: where the log shows this rule in force at it (see :data:`EXIT_RULES`)
NAMED_ACCEPTANCE = 5
#: a pilot's teams are told apart by how their names read (see :data:`EXIT_RULES`)
TEAM_READING = 6
#: a key made on the gateway's host after any lead enrolled one of its keys there is that
#: lead's, not the first enroller's on every host (see :data:`EXIT_RULES`)
EVERY_ENROLLER = 7
#: an address cut at a '-' is the mailbox of what comes before it, where the log shows this
#: rule in force and nobody said the domain keeps '-' in names (see :data:`EXIT_RULES`)
DASH_MAILBOX = 8
#: a member's own confirmed days must include one after enablement, not their onboarding day,
#: for play 4's independent use (see :data:`EXIT_RULES`)
CONFIRMED_TERMS = 9
#: one person's waivers of one guard cover at most a year in two (see :data:`EXIT_RULES`)
WAIVER_SHARE = 10
#: play 3's workflow runs on weights a trial proved and another reproduced (see
#: :data:`EXIT_RULES`)
PROVEN_WEIGHTS = 11
#: every day a pilot member was listed is a day they were onboarded (see :data:`EXIT_RULES`)
EVERY_ONBOARDING = 12
#: a finished track counts for play 4 only with a step the gateway measured (see
#: :data:`EXIT_RULES`)
GATEWAY_STEP = 13
#: rule 4's author's own pass is answered by a real model, not the test model (see
#: :data:`EXIT_RULES`)
AUTHOR_REAL_MODEL = 14
#: a waiver is its grantor's word only where its key signed in as them with a sign-in that
#: vouches for anyone (see :data:`EXIT_RULES`)
WAIVER_VOUCHED = 15
#: a team's name reads with more lookalike letters folded (see :data:`EXIT_RULES`)
LOOKALIKE_READING = 16
#: play 2's second person is no rollout lead, nor on a lead's machine (see :data:`EXIT_RULES`)
LEAD_APART = 17
#: a waiver's life counts from no later than when two others wrote after it (see
#: :data:`EXIT_RULES`)
WAIVER_LOG_TIME = 18
#: a confirmation covers only the figures and days of use it bound (see :data:`EXIT_RULES`)
CONFIRMED_BOUND = 19
#: play 3's rerun by another is no rollout lead's, nor from a lead's machine (see
#: :data:`EXIT_RULES`)
LEAD_RERUN = 20
#: play 5's typical component is counted by the people who hit it, and one typical component's
#: ticket suffices (see :data:`EXIT_RULES`)
TYPICAL_OPENERS = 21
#: play 6's workflow runs are the gateway's signed ones (see :data:`EXIT_RULES`)
SIGNED_RUNS = 22
#: play 6's workflow runs are those of people told apart from the rollout leads (see
#: :data:`EXIT_RULES`)
LEAD_RUNS = 23
#: a team's name reads with every letter Unicode's confusables draw as a Latin one folded (see
#: :data:`EXIT_RULES`)
CONFUSABLE_READING = 24
#: play 2 judges a colleague's pool of reruns only where their key's series of the spec is
#: whole in the log (see :data:`EXIT_RULES`)
RERUN_SERIES = 25
#: after play 2 exited, a test-model finding un-does it only from someone with a say over it, or
#: measured on the judging machine (see :data:`EXIT_RULES`)
TEST_MODEL_SAY = 26
#: play 3's current version is displaced only by one someone in charge published or ran, or
#: another than its author passed (see :data:`EXIT_RULES`)
VERSION_IN_CHARGE = 27
#: play 2's pooled reruns reproduce a claimed advantage on all their inputs (see
#: :data:`EXIT_RULES`)
POOLED_ADVANTAGE = 28
#: a judged person's machine sets evidence aside only where they enrolled from it by then (see
#: :data:`EXIT_RULES`)
MACHINES_THEN = 29
#: play 2's pooled reruns are in their series' order, not the log's (see :data:`EXIT_RULES`)
SERIES_ORDER = 30
#: a machine is whoever enrolled from it first: a judged person's later key "from" it sets
#: nothing its first enroller measured there aside (see :data:`EXIT_RULES`)
FIRST_ENROLLER = 31
#: a person's workflow runs of a day count up to those they confirmed (see :data:`EXIT_RULES`)
RUNS_CONFIRMED = 32
#: play 2's rerun of a trial that samples counts on a seed drawn for it, not the verdict's (see
#: :data:`EXIT_RULES`)
FRESH_SEED = 33
#: rule 23's leads are those who had been one by the time a run was signed (see
#: :data:`EXIT_RULES`)
LEAD_RUNS_THEN = 34
#: play 3's rerun by another of a version that samples counts on a seed drawn for it (see
#: :data:`EXIT_RULES`)
WORKFLOW_FRESH_SEED = 35
#: nothing a key signs after it ran the code another's spec names counts as its holder's (see
#: :data:`EXIT_RULES`)
RAN_OTHERS_CODE = 36
#: play 3's rerun by another of a version that samples counts on a seed of its own for each
#: attempt of a repeated case (see :data:`EXIT_RULES`)
WORKFLOW_ATTEMPT_SEEDS = 37
#: rule 37 where no run of the version carries its text: a run that does not say each attempt
#: drew its own counts for none that may repeat (see :data:`EXIT_RULES`)
WORKFLOW_TEXTLESS_REPEAT = 38
#: a service a key marked by rule 36 enrolled after its mark signs nothing that counts (see
#: :data:`EXIT_RULES`)
MARKED_SERVICE = 39


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"

    @property
    def satisfied(self) -> bool:
        """Whether this outcome lets a play exit. Inconclusive never does: it asks a person."""
        return self in (Outcome.PASS, Outcome.NOT_APPLICABLE)


@dataclass(frozen=True)
class Person:
    name: str
    email: str = ""
    team: str = ""
    roles: frozenset[str] = frozenset()
    service: bool = False  # a service (the gateway) with a key of its own, not a person


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str
    evidence: tuple[Fact, ...] = ()
    #: for a play that exited, the evidence the rule before today's passes on where it is not
    #: ``evidence`` (None: the same, or no earlier rule): an exit accepted before today's rule
    #: hashed that, one accepted since hashed ``evidence``, and both saw the same
    #: (:func:`inhouse.program.evaluation.saw_the_same`)
    earlier: tuple[Fact, ...] | None = None

    @property
    def basis(self) -> str | None:
        """``measured``, ``attested``, ``on-behalf``, ``unsigned`` or ``mixed``: what the outcome
        rests on."""
        kinds = {_basis(fact) for fact in self.evidence}
        if not kinds:
            return None
        return kinds.pop() if len(kinds) == 1 else "mixed"


def _basis(fact: Fact) -> str:
    if not fact.signed:
        return "unsigned"
    if fact.on_behalf_of:
        return "on-behalf"
    return "measured" if fact.provenance is Provenance.MEASURED else "attested"


def passed(reason: str, *evidence: Fact) -> Result:
    return Result(Outcome.PASS, reason, evidence)


def failed(reason: str, *evidence: Fact) -> Result:
    return Result(Outcome.FAIL, reason, evidence)


def inconclusive(reason: str, *evidence: Fact) -> Result:
    return Result(Outcome.INCONCLUSIVE, reason, evidence)


def not_applicable(reason: str, *evidence: Fact) -> Result:
    return Result(Outcome.NOT_APPLICABLE, reason, evidence)


@dataclass(frozen=True)
class Uncounted:
    """A fact a check may not count, and why (shown beside the check, never passing it)."""

    fact: Fact
    why: str
    #: the people it is left out for only for want of their own confirmation (`inhouse usage
    #: confirm`): what they can do about it, read by a step, never out of ``why``'s words
    unconfirmed: tuple[str, ...] = ()


def set_aside_note(people: Iterable[str], set_aside: Mapping[str, int]) -> str:
    """``"; X's sign-in (event N) was set aside, ..."`` for those of ``people`` whose latest
    sign-in the sign-in's rules bound nobody with (``set_aside``: person -> its event), else
    ``""``: the one wording, for the checks' reasons and for a signer's (``unsigned_signer``)."""
    aside = [f"{p}'s sign-in (event {set_aside[p]})" for p in people if p in set_aside]
    if not aside:
        return ""
    verb = "was" if len(aside) == 1 else "were"
    return (
        f"; {', '.join(aside)} {verb} set aside, binding nobody: `inhouse status` says why "
        "and the way out"
    )


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at. Built by the engine from the folded event log.

    ``facts`` holds only the evidence that counts: for a kind inhouse measures, the facts its
    registered collector signed; a person's word for such a kind, a fact made before identities,
    or a request recorded for someone else sits in ``uncounted``, with the reason."""

    facts: FactSet
    people: Mapping[str, Person]
    owners: Mapping[str, str]  # play id -> its owner's name, for plays that started
    now: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    uncounted: tuple[Uncounted, ...] = ()
    #: the words a report's lagging figures rest on (:data:`~inhouse.program.lagging_words.
    #: READS`) that would count but expired by ``now``: a report recorded while one was live
    #: was priced with it (:meth:`facts_at`)
    lapsed: tuple[Fact, ...] = ()
    machines: Mapping[str, frozenset[str]] = field(default_factory=dict)  # person -> machines
    #: person -> machine -> the event (seq) at which they first enrolled a key from it (a
    #: machine missing here counts as enrolled from the start)
    machine_since: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: play id -> the event (seq) that started it, with its owner (a play missing here counts
    #: as started from the start)
    owner_since: Mapping[str, int] = field(default_factory=dict)
    invited_by: Mapping[str, str | None] = field(default_factory=dict)  # person -> inviter
    #: person -> everyone who enrolled one of their keys, revoked ones included (a service's
    #: keys: each lead who enrolled one, on each host it ran on; :attr:`invited_by` is the first)
    enrolled_by: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: service -> each of its keys a lead enrolled: (the machine it was enrolled from, the
    #: lead, the event (seq)), revoked ones included (a service missing here: its keys are read
    #: as its first enroller's, :attr:`invited_by`, on each of its machines)
    enrolled_where: Mapping[str, tuple[tuple[str, str, int], ...]] = field(default_factory=dict)
    #: person -> every role they ever held (roles taken away since included)
    roles_held: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: person -> role -> the event (seq) at which they first gained it
    role_since: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: person -> role -> each stretch they held it: (the event (seq) that gave it, the one that
    #: took it away or None); see :meth:`held_role_at`
    role_spans: Mapping[str, Mapping[str, Sequence[tuple[int, int | None]]]] = field(
        default_factory=dict
    )
    #: play id -> when its first exit was recorded, and that event's sequence number
    exited: Mapping[str, tuple[datetime, int]] = field(default_factory=dict)
    #: play id -> the facts its first exit was judged on (its exit checks' evidence, which its
    #: acceptance hashed); a play that exited but is missing here exited before exits named
    #: them (:meth:`judged_on`, :meth:`spared`)
    judged: Mapping[str, frozenset[int]] = field(default_factory=dict)
    #: play id -> the rules (:data:`EXIT_RULES`) its first exit says it was judged by; a play
    #: that exited but is missing here exited before exits said so (0)
    exit_rules: Mapping[str, int] = field(default_factory=dict)
    #: people let into the pilot by a gateway key, no role making them so (a pilot never listed
    #: takes its first such people as its members): inside the program for good
    let_in: frozenset[str] = frozenset()
    demo: bool = False  # the program was created as a demo (`init --demo`)
    #: the SQLite file on this machine holding the log, which nobody signs in to from a machine
    #: of their own (:func:`~inhouse.program.state.sign_in_login`); None: a database server's
    log_file: str | None = None
    #: the playbook the program was created with, by name and version (None: not known, as
    #: in a context built by hand): a check a later version of a playbook added may not judge
    #: a program created before it asked (its past grants would be re-judged as held back)
    created_with: tuple[str, int] | None = None
    #: with the organisation's sign-in set up, who it vouched for (person -> subject) and its
    #: issuer; ``None``: no sign-in, people are told apart by their machines only
    signed_in: Mapping[str, str] | None = None
    sign_in_issuer: str = ""
    #: with the sign-in set up, people who hold no key and so cannot be hiding an account behind
    #: another name: they never joined, signed in once (:attr:`subjects_held` knows their
    #: account), or lost every key before the sign-in was set up
    departed: frozenset[str] = frozenset()
    #: person -> every account (subject) the sign-in ever bound them to, released ones too
    subjects_held: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: person -> the event of their latest sign-in the sign-in's rules set aside (an account at
    #: an Entra tenant's initial domain, a mailbox another person signed in at): ``status``
    #: says why, and the way out
    set_aside: Mapping[str, int] = field(default_factory=dict)
    #: key -> the account (subject) that key signed in with, released bindings too
    key_subjects: Mapping[str, str] = field(default_factory=dict)
    #: keys revoked since (what they signed while active still counts)
    revoked_keys: frozenset[str] = frozenset()
    #: ``uncounted`` by kind (the engine builds it once; without it, ``uncounted_of`` scans)
    uncounted_by_kind: Mapping[str, tuple[Uncounted, ...]] = field(default_factory=dict)
    #: the content digests of model files on the machine judging (the program's blessed files)
    #: that :func:`~inhouse.runtimes.testmodel.is_test_model` reads as the project's test model:
    #: a measurement of the judging machine's own, filled by the edge that judges for a person
    #: (``inhouse status``), never by the fold (which every machine must fold alike)
    test_model_here: frozenset[str] = frozenset()
    #: in a demo program, the same log judged as a real program's (its machines alone tell
    #: nobody apart, the test model proves nothing): a check that passes here but not there
    #: says so (:data:`~inhouse.program.state.DEMO_PASS`); None outside a demo
    real: CheckContext | None = None

    def uncounted_of(self, kinds: Iterable[str]) -> list[Uncounted]:
        """The facts of ``kinds`` left out of ``facts``, oldest first."""
        wanted = set(kinds)
        if not self.uncounted_by_kind:
            return [item for item in self.uncounted if item.fact.kind in wanted]
        found = [item for kind in wanted for item in self.uncounted_by_kind.get(kind, ())]
        return sorted(found, key=lambda item: item.fact.id)

    def facts_at(self, fact: Fact, *kinds: str) -> FactSet:
        """The facts of ``kinds`` that counted when ``fact`` was recorded: recorded before it
        and live at its time, those expired since (:attr:`lapsed`) included."""
        found = [*self.facts.of(*kinds), *(f for f in self.lapsed if f.kind in kinds)]
        return FactSet(f for f in found if f.id < fact.id and not f.expired(fact.at))

    def judged_on(self, play: str) -> frozenset[int] | None:
        """The facts ``play``'s first exit was judged on, or None: it has not exited, or its
        exit was recorded before exits named them (:meth:`spared` then reads its mark)."""
        return self.judged.get(play) if play in self.exited else None

    def exited_before(self, play: str, rule: int) -> bool:
        """Whether ``play`` exited under the rules before ``rule`` (:data:`EXIT_RULES`): its
        first exit says it was judged by fewer (or says none). What was judged on that exit
        (the next play's start it let through) keeps the rule before."""
        return play in self.exited and self.exit_rules.get(play, 0) < rule

    def spared(self, play: str, fact: Fact, *, rule: int = 0) -> bool:
        """Whether an earlier rule, kept for a ``play`` that exited under it, may still decide
        ``fact``: one its exit was judged on. An exit recorded before exits named their facts
        spares every fact by its mark (all it could have been judged on). A fact the exit left
        out, or one recorded since, is today's rule's. ``rule``: the number of the rule that
        replaced the earlier one (:data:`EXIT_RULES`); an exit that says it was judged by it
        (or a later one) did not exit under the earlier rule, and it spares nothing."""
        exit_ = self.exited.get(play)
        if exit_ is None:
            return False
        if rule and self.exit_rules.get(play, 0) >= rule:
            return False
        judged = self.judged.get(play)
        return fact.id <= exit_[1] if judged is None else fact.id in judged

    def param(self, name: str, default: Any) -> Any:
        return self.params.get(name, default)

    def with_params(self, params: Mapping[str, Any]) -> CheckContext:
        real = None if self.real is None else self.real.with_params(params)
        return replace(self, params=dict(params), real=real)

    def machines_of(self, people: set[str]) -> set[str]:
        return {m for person in people for m in self.machines.get(person, frozenset())}

    def not_own_key(self, their: str = "their") -> str:
        """In words, the keys whose requests the gateway signs as nobody's own use (``own``,
        ``used_by``): an agent's; with the organisation's sign-in set up, also one fetched in
        its person's name by a key that never signed in as them
        (:func:`inhouse.program.counting.not_their_fetch`), which a note cannot tell apart from
        an agent's: the fact counts both as none of theirs. ``their``: whose (``your`` for a
        message to the person)."""
        if self.signed_in is None:
            return "an agent's key"
        return (
            f"a key not {their} own (an agent's, or one fetched in {their} name by a key that "
            f"never signed in as {'you' if their == 'your' else 'them'})"
        )

    def not_signed_in(self, person: str) -> str | None:
        """Why ``person`` is nobody the organisation's sign-in vouched for, or None (they
        signed in, or the program has no sign-in): with one set up, only those it vouched for
        count as someone."""
        if self.signed_in is None or person in self.signed_in:
            return None
        said = f"{person} has not signed in with {self.sign_in_issuer} (with every key they hold)"
        return said + self.set_aside_note([person])

    def set_aside_note(self, people: Iterable[str]) -> str:
        """:func:`set_aside_note` of ``people`` with this context's set-aside sign-ins."""
        return set_aside_note(people, self.set_aside)

    def held_role_at(self, person: str, role: str, seq: int) -> bool:
        """Whether ``person`` held ``role`` at event ``seq``: what they did is judged by the
        roles they held then, not by today's roster (a role given afterwards, or given back, does
        not reach back over it; one taken away afterwards does not undo it). A role the context
        has no stretches for (one built without the history) counts as held from its first grant
        in :attr:`role_since`, or from the start, if the roster gives it to them now."""
        spans = self.role_spans.get(person, {}).get(role)
        if spans is not None:
            return any(gained <= seq and (lost is None or seq < lost) for gained, lost in spans)
        now = self.people.get(person)
        first = self.role_since.get(person, {}).get(role)
        return now is not None and role in now.roles and (first is None or first <= seq)

    def having_role(self, role: str) -> list[Person]:
        return [person for person in self.people.values() if role in person.roles]

    @property
    def pilot(self) -> list[Person]:
        return self.having_role("pilot-user")


CheckFunc = Callable[[CheckContext], Result]


@dataclass(frozen=True)
class _Registered:
    name: str
    func: CheckFunc
    reads: tuple[str, ...]  # fact kinds it reads, for docs and the staleness hash
    doc: str


class _Registry(Mapping[str, _Registered]):
    """Every play check by name. Each plugin, the built-ins' included, hands over the modules
    that declare checks with :func:`register_check` through the ``inhouse_play_checks`` hook;
    a name registered twice is refused with a :class:`~inhouse.errors.PluginError` naming both
    sources."""

    def __init__(self) -> None:
        from inhouse.plugins import Declarations

        self._declared: Declarations[_Registered] = Declarations(
            "play check", "inhouse_play_checks"
        )

    def add(self, check: _Registered) -> None:
        module = check.func.__module__
        origin = f"{module}.{check.func.__qualname__}"
        self._declared.declare(module, check.name, check, origin=origin)

    def __getitem__(self, name: str) -> _Registered:
        return self._declared.registry()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._declared.registry())

    def __len__(self) -> int:
        return len(self._declared.registry())


registry = _Registry()


def register_check(name: str, *, reads: tuple[str, ...]) -> Callable[[CheckFunc], CheckFunc]:
    """Register ``func`` as the check called ``name``; ``reads`` names the fact kinds it uses."""

    def decorator(func: CheckFunc) -> CheckFunc:
        doc = " ".join(inspect.cleandoc(func.__doc__ or "").split())  # one line, for the docs
        registry.add(_Registered(name, func, reads, doc))
        return func

    return decorator


def evaluate(name: str, context: CheckContext) -> Result:
    """Run one check; a check that raises yields an ``error`` outcome, never a crash."""
    try:
        check = registry[name]
    except KeyError:
        return Result(Outcome.ERROR, f"no check named {name!r} is registered")
    try:
        return check.func(context)
    except Exception as err:  # a broken check must not take status down with it
        return Result(Outcome.ERROR, f"check {name} failed to run: {type(err).__name__}: {err}")
