"""The organisation's sign-in: who each person is, vouched for by the organisation's identity
provider instead of by the machine they say they are on.

A machine fingerprint is self-reported, and a rollout lead can invite someone who does not
exist and join as them from a second hostname. With the organisation's sign-in set up (OpenID
Connect: Entra ID, Google Workspace, Okta, Keycloak…), a person counts as someone only once the
identity provider vouched for them: they sign in through it from their machine, and it signs an
ID token whose nonce names their key and this program (:func:`inhouse.identity.signin.nonce_for`),
which the log keeps. Everyone who folds the log verifies that token against the issuer's keys
pinned when the sign-in was set up; a token copied from the log for another key names the wrong
nonce, and an identity is bound to one person only.

What it does not close: the lead who sets up the sign-in chooses the issuer and pins its keys. An
issuer of the lead's own (a provider they run) vouches for whoever they say; the issuer is on
the record for anyone to read (``inhouse sign-in list``, ``inhouse status``), and ``inhouse
sign-in audit`` compares the pinned keys with the ones the issuer publishes now. A lead may set
the sign-in up again with another issuer to correct it only until the first person signs in:
after that, re-pointing it would leave colleagues' identities resting on the lead's choice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inhouse.errors import InvalidInput, NotAllowed, ProgramNotFound, SignInError
from inhouse.program import state as state_module
from inhouse.program.consent import Agree, require_yes
from inhouse.program.core import ProgramCore
from inhouse.program.events import EventKind
from inhouse.program.playbook import Role
from inhouse.program.state import (
    OPEN_ISSUERS,
    SignedIn,
    SignIn,
    account_problem,
    account_release_problem,
    dash_names_problem,
    kept_sign_in,
    mailbox,
    mailbox_release_problem,
    self_made_tenant_problem,
    set_up_problem,
    sign_in_problem,
    sqlite_log,
    verified_identity,
)
from inhouse.terminal import shown

__all__ = ["CLIENT_SECRET_ENV", "OPEN_ISSUERS", "PinnedKey", "SignInAudit", "SignInMixin"]

#: a client secret, for identity providers that give even native apps one (never logged)
CLIENT_SECRET_ENV = "INHOUSE_SIGN_IN_CLIENT_SECRET"


@dataclass(frozen=True)
class PinnedKey:
    kid: str
    thumbprint: str
    published: bool  # the issuer publishes it now
    pinned_by: str
    #: people, other than its pinner, whose own sign-in rests on another trusted key and whose
    #: machine saw the issuer publish this one
    seen_by: tuple[str, ...]
    bindings: tuple[str, ...]  # people whose sign-in it verified

    @property
    def doubtful(self) -> bool:
        """Bindings rest on it, the issuer does not publish it now, and nobody whose own
        sign-in rests on another trusted key saw the issuer publish it."""
        return bool(self.bindings) and not self.published and not self.seen_by


@dataclass(frozen=True)
class SignInAudit:
    """The pinned keys beside the ones the issuer publishes now."""

    issuer: str
    #: the issuer is on this machine (a loopback address, or a name that resolves to one of its
    #: own): a test or local provider
    local: bool
    pinned: tuple[PinnedKey, ...]
    published_not_pinned: tuple[str, ...]  # kids the issuer publishes that are not pinned

    @property
    def unpublished(self) -> list[PinnedKey]:
        return [key for key in self.pinned if not key.published]

    @property
    def doubtful(self) -> list[PinnedKey]:
        return [key for key in self.pinned if key.doubtful]


def _witnesses(
    prints: list[str],
    pinners: dict[str, str],
    set_by: str,
    bound: list[SignedIn],
    published: set[str],
    leads: frozenset[str] = frozenset(),
) -> dict[str, set[str]]:
    """Who vouches, by their own machine's view, that the issuer published each pinned key:
    someone other than its pinner whose own sign-in rests on another key that is trusted (the
    issuer publishes it now, or it has such a witness itself), worked out until nothing
    changes. A binder's word for the key its own identity rests on is no witness: an alias
    whose token the lead minted would vouch for the lead's key. Nor is a binding to an account
    the pinner ever bound (the pinner's own account, released to an alias and taken back).
    Nor anyone who holds or ever held the rollout-lead role (``leads``), nor a binding to an
    account one of them ever bound: leads pin keys, and a co-lead of the lead's own would pin
    one for her to "see" published with her one real account (as a co-lead is no voucher for a
    gateway's host)."""
    trusted = {thumb for thumb in prints if thumb in published}
    found: dict[str, set[str]] = {thumb: set() for thumb in prints}
    accounts: dict[str, set[str]] = {}
    for binding in bound:
        accounts.setdefault(binding.person, set()).add(binding.subject)
    lead_accounts = {subject for lead in leads for subject in accounts.get(lead, ())}
    changed = True
    while changed:
        changed = False
        for thumb in prints:
            pinner = pinners.get(thumb, set_by)
            for binding in bound:
                if (
                    thumb in binding.seen
                    and binding.person != pinner
                    and binding.person not in leads
                    and binding.subject not in accounts.get(pinner, ())
                    and binding.subject not in lead_accounts
                    and binding.key_thumbprint != thumb
                    and binding.key_thumbprint in trusted
                    and binding.person not in found[thumb]
                ):
                    found[thumb].add(binding.person)
                    if thumb not in trusted:
                        trusted.add(thumb)
                    changed = True
    return found


class SignInMixin(ProgramCore):
    def set_up_sign_in(self, issuer: str, client_id: str, *, domain: str | None = None) -> SignIn:
        """Set up the organisation's sign-in (a rollout lead): the issuer's discovery document
        is read and its current signing keys pinned in the log. From then on, what a person
        signs counts once they signed in with it. ``domain``: only identities with a verified
        e-mail address there count (needed where the provider gives anyone an account, as
        accounts.google.com does). Until the first person signs in, a set-up naming another
        issuer, client or domain replaces the earlier one whole (a typo is corrected); after,
        only the same one is set up again, which pins its new keys."""
        from inhouse.identity import signin as signin_module
        from inhouse.identity.signin import check_issuer_url

        state, who = self._begin(None)
        if Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"only a rollout lead sets up the organisation's sign-in; {who.name} is not one"
            )
        issuer = check_issuer_url(issuer)
        if state_module.vouches_for_nobody(issuer, state.demo):
            raise InvalidInput(
                f"the issuer {issuer} is on a loopback address: a provider on this machine is "
                "whoever runs it, and no colleague's machine could reach it to sign in; set up "
                "your organisation's identity provider (https), or try it in a demo program "
                "(`inhouse init --demo`)"
            )
        if not state.demo and (here := signin_module.provider_here(issuer)) is not None:
            raise InvalidInput(
                f"the issuer {issuer} is served from this machine (its host resolves to "
                f"{here}, an address of this machine's own): a provider on the lead's machine is "
                "whoever runs it; set up your organisation's identity provider, or try it in a "
                "demo program (`inhouse init --demo`)"
            )
        if not state.demo and (made := self_made_tenant_problem(issuer)) is not None:
            raise InvalidInput(made)
        client_id = client_id.strip()
        if not client_id:
            raise InvalidInput("the client id is empty: register inhouse with the provider first")
        domain = domain.strip().lstrip("@").lower() if domain else None
        if domain is not None and ("@" in domain or "." not in domain or " " in domain):
            raise InvalidInput(f"--email-domain {domain!r} is not a domain such as acme.example")
        if issuer.rstrip("/") in OPEN_ISSUERS and domain is None:
            raise InvalidInput(
                f"{issuer} gives an account to anyone who asks (a lead's free second account "
                "too): set it up with --email-domain, your organisation's domain"
            )
        # the fold's own rule, asked before the new issuer is even read
        problem = set_up_problem(state, f"not set up with {issuer}", issuer, client_id, domain)
        if problem is not None:
            raise InvalidInput(f"{problem} (`inhouse sign-in keys`)")
        return self._pin(who.name, issuer, client_id, domain)

    def refresh_sign_in_keys(self) -> tuple[SignIn, int]:
        """Pin the issuer's current signing keys beside the earlier ones (a provider rotates
        them); returns the sign-in and how many keys were new."""
        state, who = self._begin(None)
        if Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(f"only a rollout lead pins the sign-in's keys; {who.name} is not one")
        current = self._sign_in(state)
        before = len(current.keys)
        after = self._pin(who.name, current.issuer, current.client_id, current.domain)
        return after, len(after.keys) - before

    def _pin(self, lead: str, issuer: str, client_id: str, domain: str | None) -> SignIn:
        from inhouse.identity.signin import discover, fetch_jwks, jwk_thumbprint

        jwks = fetch_jwks(discover(issuer))
        state = self.state()
        where = f"{issuer}'s key set"
        problem = set_up_problem(state, where, issuer, client_id, domain, jwks["keys"])
        if problem is not None:
            raise SignInError(f"not pinned: {problem}")
        current = kept_sign_in(state.sign_in, issuer, client_id, domain)
        if current is not None:
            held = {jwk_thumbprint(key) for key in current.keys}
            if all(jwk_thumbprint(key) in held for key in jwks["keys"]):
                return current  # nothing new to pin: nothing recorded
        payload: dict[str, Any] = {"issuer": issuer, "client_id": client_id, "keys": jwks["keys"]}
        if domain is not None:
            payload["domain"] = domain
        self._append(EventKind.SIGN_IN_SET_UP, lead, payload)
        found = self.state().sign_in
        assert found is not None
        return found

    def sign_in(
        self,
        *,
        open_browser: Callable[[str], object] | None = None,
        say: Callable[[str], None] = print,
        timeout: float = 300.0,
    ) -> SignedIn:
        """Sign in with the organisation's identity provider from this machine (its browser
        page, then back to a loopback address here) and bind this key to who it says you are."""
        from inhouse.identity import signin as signin_module
        from inhouse.identity.signin import discover, fetch_jwks, jwk_thumbprint, nonce_for
        from inhouse.identity.signin import sign_in as oidc_sign_in

        if self.detached():
            # the README's tour has a colleague sign in right after `join`, on a checkout that
            # may have no log: the generic refusal lists what works there, which sign-in is not
            raise ProgramNotFound(
                "cannot sign in here: this folder has the program's settings but not its log, "
                "which holds the organisation's sign-in (the provider a lead set up) and where "
                "your sign-in is recorded; sign-in has no outbox. Run `inhouse sign-in login` "
                "where the log is: with INHOUSE_DATABASE_URL set to the program's PostgreSQL. "
                "Until you have, nothing you sign counts as a person's (what you seal here for "
                "`inhouse evidence export` counts once you have signed in). In a demo program "
                "(`inhouse init --demo`), skip this: a demo needs no sign-in, it tells people "
                "apart by machine (INHOUSE_MACHINE_ID)"
            )
        state, who = self._begin(None)
        config = self._sign_in(state)
        self._refuse_non_person(who.name, state)
        if not state.demo and (here := signin_module.provider_here(config.issuer)) is not None:
            elsewhere = (
                "sign in from your own machine"
                if self.log_file is None
                else f"and nobody signs in elsewhere: {sqlite_log(self.log_file)}"
            )
            raise SignInError(
                f"{config.issuer} is served from this machine (its host resolves to {here}, an "
                "address of this machine's own): whoever runs the identity provider can vouch "
                f"for anyone, so nobody signs in on its host; {elsewhere}"
            )
        provider = discover(config.issuer)
        # what the issuer publishes, as this machine sees it: a pinned key nobody but its
        # pinner ever saw published is what `sign-in audit` names
        seen = [jwk_thumbprint(key) for key in fetch_jwks(provider)["keys"]]
        token = oidc_sign_in(
            provider,
            config.client_id,
            nonce_for(state.program_id, self.key.key_id),
            open_browser=open_browser,
            say=say,
            timeout=timeout,
            client_secret=os.environ.get(CLIENT_SECRET_ENV) or None,
        )
        return self.bind_sign_in(token, seen=seen)

    def bind_sign_in(self, id_token: str, *, seen: list[str] | None = None) -> SignedIn:
        """Record ``id_token`` (the issuer's, asked for this key) as this person's identity,
        after checking it as the fold will."""
        state, who = self._begin(None)
        config = self._sign_in(state)
        self._refuse_non_person(who.name, state)
        problem = sign_in_problem(state, who.name, self.key.key_id, id_token, self.clock())
        if problem is not None:
            from inhouse.identity.signin import KEY_NOT_HELD

            if KEY_NOT_HELD in problem:
                problem += (
                    f"; if {config.issuer} rotated its keys, a rollout lead runs "
                    "`inhouse sign-in keys` and you sign in again"
                )
            raise SignInError(f"{who.name} cannot sign in: {problem}")
        identity = verified_identity(state, id_token, self.key.key_id, self.clock())
        if (refused := account_problem(state, identity, who.name, self.key.key_id)) is not None:
            raise SignInError(f"{who.name} cannot sign in: {refused}")
        self._append(
            EventKind.PERSON_SIGNED_IN, who.name, {"id_token": id_token, "seen": seen or []}
        )
        return self.state().signed_keys[self.key.key_id]

    def release_mailbox(
        self, address: str, *, to: str, reason: str, agree: Agree | None = None
    ) -> str:
        """Release the mailbox ``address`` reaches to the person ``to``, so that they may sign
        in at it though another signed in at it before (an address the organisation gave a new
        hire after its holder left), and nobody else may: recorded by a colleague signed in who
        is not a rollout lead, once every binding at it is released
        (:func:`~inhouse.program.state.mailbox_release_problem`). ``agree`` (the command's
        question) is shown everything the release signs (the mailbox, whom it goes to, the
        reason, who signed in at it before) and nothing is recorded unless it says yes: "just
        run `inhouse sign-in release-mailbox`" would have a colleague hand a mailbox to a name
        unseen. None is the caller's own word (the Python API). Returns the mailbox."""
        to = to.strip()
        if not to:
            raise InvalidInput(
                "name the person given the address (--to): only they sign in at it then"
            )
        reason = reason.strip()
        if not reason:
            raise InvalidInput(
                "say why the mailbox is released (--reason): who had it, who has it now"
            )
        state, who = self._begin(None)
        self._sign_in(state)
        if self._delegation is not None:
            raise NotAllowed("release a mailbox with your own key, not a dashboard session")
        problem = mailbox_release_problem(state, who.name, address, self.key.key_id, to)
        if problem is not None:
            raise NotAllowed(f"{who.name} cannot release {address} to {to}: {problem}")
        box = mailbox(address)
        before = sorted(
            {
                f"{b.person} ({shown(b.email or '')}, event {b.seq})"
                for b in state.signed_keys.values()
                if b.email and mailbox(b.email) == box
            }
        )
        require_yes(
            agree,
            [
                f"you, {who.name}, release the mailbox {shown(box)} (you typed {shown(address)})",
                f"to {shown(to)} alone: only they may sign in at it from now on, and anyone "
                "else who does binds nobody",
                "signed in at it before: " + (", ".join(before) or "nobody (a release again)"),
                f"why: {shown(reason)}",
            ],
            person=who.name,
            command=f"inhouse sign-in release-mailbox {address} --to {to} --reason ...",
            not_done="not released",
            declined="release a mailbox only to the person you know the organisation gave it to",
        )
        self._append(
            EventKind.MAILBOX_RELEASED, who.name, {"mailbox": box, "to": to, "reason": reason}
        )
        return box

    def release_account(
        self, subject: str, *, to: str, reason: str, agree: Agree | None = None
    ) -> str:
        """Release the account ``subject`` (one its issuer named no address for, so no mailbox
        release reaches it) to the person ``to``, as :meth:`release_mailbox` does a mailbox:
        recorded by a colleague signed in who is not a rollout lead, once every binding of it
        is released (:func:`~inhouse.program.state.account_release_problem`), after ``agree``
        was shown all it signs and said yes (None: the caller's own word, the Python API).
        Returns the account's subject."""
        subject, to, reason = subject.strip(), to.strip(), reason.strip()
        if not subject:
            raise InvalidInput("name the account: its subject, as `inhouse sign-in list` shows it")
        if not to:
            raise InvalidInput("name the person given the account (--to): only they sign in then")
        if not reason:
            raise InvalidInput(
                "say why the account is released (--reason): whose it was, whose it is now"
            )
        state, who = self._begin(None)
        self._sign_in(state)
        if self._delegation is not None:
            raise NotAllowed("release an account with your own key, not a dashboard session")
        problem = account_release_problem(state, who.name, subject, self.key.key_id, to)
        if problem is not None:
            raise NotAllowed(f"{who.name} cannot release the account {subject} to {to}: {problem}")
        before = sorted(
            {f"{b.person} (event {b.seq})" for b in state.signed_keys.values()
             if b.subject == subject}
        )  # fmt: skip
        require_yes(
            agree,
            [
                f"you, {who.name}, release the account {shown(subject)} (its issuer named no "
                "address for it)",
                f"to {shown(to)} alone: only they may sign in with it from now on, and anyone "
                "else who does binds nobody",
                "signed in with it before: " + ", ".join(before),
                f"why: {shown(reason)}",
            ],
            person=who.name,
            command=f"inhouse sign-in release-account {subject} --to {to} --reason ...",
            not_done="not released",
            declined="release an account only to the person you know it is",
        )
        self._append(
            EventKind.MAILBOX_RELEASED, who.name, {"account": subject, "to": to, "reason": reason}
        )
        return subject

    def say_dash_names(self, domain: str, *, reason: str, agree: Agree | None = None) -> str:
        """Say that ``domain``'s mail server keeps '-' in names (``anne-marie@`` is not
        ``anne@``'s inbox), so that an account at an address cut at a '-' is not read as the
        mailbox before it there (:data:`~inhouse.program.checks.DASH_MAILBOX`): recorded by a
        colleague signed in at that domain who is not a rollout lead
        (:func:`~inhouse.program.state.dash_names_problem`). ``agree`` (the command's
        question) is shown everything the word signs (the domain, what it frees, the reason)
        and nothing is recorded unless it says yes: "just run `inhouse sign-in dash-names`"
        would have a colleague free a domain's '-' addresses unseen. None is the caller's own
        word (the Python API). Returns the domain."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput(
                "say how you know (--reason): e.g. the mail server's delimiter is '+' alone"
            )
        state, who = self._begin(None)
        self._sign_in(state)
        if self._delegation is not None:
            raise NotAllowed("say how a domain's mail is split with your own key, not a session")
        problem = dash_names_problem(state, who.name, domain, self.key.key_id)
        if problem is not None:
            raise NotAllowed(f"{who.name} cannot say {domain!r} keeps '-' in names: {problem}")
        typed, domain = domain, domain.strip().lower()
        require_yes(
            agree,
            [
                f"you, {who.name}, say that {shown(domain)}'s mail server keeps '-' in names "
                f"(you typed {shown(typed)}): anne-marie@{shown(domain)} is not "
                f"anne@{shown(domain)}'s inbox",
                f"so an account at an address cut at a '-' at {shown(domain)} binds beside the "
                "mailbox before it, as another person's: where the server does split at '-', "
                "whoever reads that inbox could sign an invented colleague in with it",
                f"why: {shown(reason)}",
            ],
            person=who.name,
            command=f"inhouse sign-in dash-names {domain} --reason ...",
            not_done="not recorded",
            declined="say it only of a mail server whose settings you know",
        )
        self._append(EventKind.DASH_NAMES, who.name, {"domain": domain, "reason": reason})
        return domain

    def audit_sign_in(self) -> SignInAudit:
        """The pinned keys beside the keys the issuer publishes now: a pinned key it does not
        publish was rotated out, or was never the issuer's (a lead's own)."""
        from inhouse.identity import signin as signin_module
        from inhouse.identity.signin import discover, fetch_jwks, is_local_issuer, jwk_thumbprint

        state = self.state()
        config = self._sign_in(state)
        live = fetch_jwks(discover(config.issuer))["keys"]
        live_prints = {jwk_thumbprint(key): str(key.get("kid", "")) for key in live}
        pinners = {thumb: by for thumb, by, _ in config.pinned_by}
        bound = list(state.signed_keys.values())
        prints = [jwk_thumbprint(key) for key in config.keys]
        leads = frozenset(
            {n for n, p in state.people.items() if Role.ROLLOUT_LEAD in p.roles}
            | {n for n, roles in state.roles_held.items() if Role.ROLLOUT_LEAD in roles}
        )
        witnesses = _witnesses(prints, pinners, config.set_by, bound, set(live_prints), leads)
        pinned = [
            PinnedKey(
                kid=str(key.get("kid", "")),
                thumbprint=thumb,
                published=thumb in live_prints,
                pinned_by=pinners.get(thumb, config.set_by),
                seen_by=tuple(sorted(witnesses[thumb])),
                bindings=tuple(sorted({b.person for b in bound if b.key_thumbprint == thumb})),
            )
            for key, thumb in zip(config.keys, prints, strict=True)
        ]
        pinned_prints = {key.thumbprint for key in pinned}
        fresh = tuple(kid for thumb, kid in live_prints.items() if thumb not in pinned_prints)
        local = is_local_issuer(config.issuer) or (
            signin_module.provider_here(config.issuer) is not None
        )
        return SignInAudit(config.issuer, local, tuple(pinned), fresh)

    def _sign_in(self, state: Any) -> SignIn:
        config: SignIn | None = state.sign_in
        if config is None:
            if state.demo:
                # a newcomer walking a demo by hand follows the README's real-program steps
                raise InvalidInput(
                    "this demo program has no sign-in set up, and needs none: a demo tells "
                    "people apart by machine alone (INHOUSE_MACHINE_ID=NAME-laptop in each "
                    "person's shell, from before they join); go on without signing in, or set "
                    "one up with `inhouse sign-in setup --issuer URL --client-id ID`"
                )
            raise InvalidInput(
                "this program has no sign-in set up: a rollout lead runs `inhouse sign-in setup "
                "--issuer URL --client-id ID` (docs/concepts.md, 'The organisation's sign-in')"
            )
        return config

    def _refuse_non_person(self, name: str, state: Any) -> None:
        if self._delegation is not None:
            raise NotAllowed(
                "sign in with your own key, from your machine, not a dashboard session"
            )
        if state.people[name].service:
            raise NotAllowed(f"{name} is a service: a service's key is nobody to sign in")
