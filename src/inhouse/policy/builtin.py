"""The built-in detectors: e-mail, phone, card, IBAN, national IDs and secrets.

They reach the registry through the ``inhouse_detectors`` hook, the seam a plugin uses, from
:mod:`inhouse.default_plugins.detectors`, before anything else. Order matters where two could
match at one place: the more specific come first (a secret's prefix before anything, a card
before a phone number).

Anchors are RE2 syntax and deliberately short: they only have to start where a finding starts.
Confirm patterns (Python ``re`` over ASCII) carry the exact shape and the boundaries
(``(?<![\\w.-])``…) so that digits inside longer numbers, versions or paths are not reported.
"""

from __future__ import annotations

from inhouse.policy import validators as v
from inhouse.policy.detectors import Detector

__all__ = ["BUILTIN_DETECTORS"]


def _iban_confirm() -> str:
    by_length: dict[int, list[str]] = {}
    for country, length in sorted(v.IBAN_LENGTHS.items()):
        by_length.setdefault(length, []).append(country)
    branches = "|".join(
        f"(?:{'|'.join(countries)})\\d{{2}}(?: ?[A-Z0-9]){{{length - 4}}}"
        for length, countries in sorted(by_length.items())
    )
    return f"(?<![A-Za-z0-9])(?:{branches})(?![A-Za-z0-9])"


# the start of a number: not inside a word, a path, a version or a longer grouped number
# ("5512 0391 8232 4071" is one number; "0391 8232 4071" inside it is not a phone number)
_NUM_START = r"(?<![A-Za-z0-9_.\-/+])(?<!\d[ \-])(?<![A-Z0-9]{4} )"
# the end of a number: not followed by a word character or by .5 / -5 (a longer number)
_NUM_END = r"(?![A-Za-z0-9_]|[.\-/]\d)"
_SECRET_WORDS = (
    r"api[_\-]?key|apikey|secret[_\-]?key|client[_\-]?secret|access[_\-]?token|"
    r"auth[_\-]?token|refresh[_\-]?token|private[_\-]?key|token|secret"
)
_ASSIGN = r"[\"']?\s*(?:[:=]|=>)\s*"

BUILTIN_DETECTORS: tuple[Detector, ...] = (
    # --- secrets: specific prefixes first -------------------------------------------------
    Detector(
        name="private-key",
        data_class="secret",
        anchor=r"-----BEGIN [A-Z0-9 ]{0,24}PRIVATE KEY",
        confirm=(
            r"-----BEGIN ([A-Z0-9 ]{0,24})PRIVATE KEY((?: BLOCK)?)-----"
            r"(?:[\s\S]{0,16384}?-----END \1PRIVATE KEY\2-----|[A-Za-z0-9+/=:,\-\s]*)"
        ),
        description="PEM/OpenSSH/PGP private key blocks (to the END line, or the base64 body)",
    ),
    Detector(
        name="aws-access-key",
        data_class="secret",
        anchor=r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}",
        confirm=(
            r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}"
            r"(?![A-Za-z0-9])"
        ),
        description="AWS access key ids",
    ),
    Detector(
        name="github-token",
        data_class="secret",
        anchor=r"\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{20}",
        confirm=r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])",
        description="GitHub personal, OAuth, app and fine-grained tokens",
    ),
    Detector(
        name="slack-token",
        data_class="secret",
        anchor=r"\bxox[abposr]-[A-Za-z0-9]|https://hooks\.slack\.com/services/",
        confirm=(
            r"(?:xox[abposr]-[A-Za-z0-9\-]{10,250}"
            r"|https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,})"
            r"(?![A-Za-z0-9\-])"
        ),
        description="Slack bot/user/app tokens and incoming-webhook URLs",
    ),
    Detector(
        name="llm-api-key",
        data_class="secret",
        anchor=r"\bsk-[A-Za-z0-9_\-]{20}",
        confirm=r"sk-[A-Za-z0-9_\-]{20,300}(?![A-Za-z0-9_\-])",
        validate=v.secret_value_ok,
        description="OpenAI (sk-, sk-proj-) and Anthropic (sk-ant-) style API keys",
    ),
    Detector(
        name="stripe-key",
        data_class="secret",
        anchor=r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16}",
        confirm=r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])",
        description="Stripe secret and restricted keys",
    ),
    Detector(
        name="jwt",
        data_class="secret",
        anchor=r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ",
        confirm=r"eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*(?![A-Za-z0-9_\-])",
        validate=v.jwt_ok,
        description="JSON Web Tokens (header decodes to JSON naming alg)",
    ),
    Detector(
        name="bearer-token",
        data_class="secret",
        anchor=r"(?i)\bbearer\s+[A-Za-z0-9\-_.~+/]{16}",
        confirm=r"(?i)bearer\s+(?P<value>[A-Za-z0-9\-_.~+/]{16,1024}=*)(?![A-Za-z0-9\-_.~+/=])",
        validate=v.secret_value_ok,
        description="HTTP Authorization bearer tokens",
    ),
    Detector(
        name="assigned-secret",
        data_class="secret",
        anchor=f"(?i)(?:{_SECRET_WORDS}){_ASSIGN}",
        confirm=(
            f"(?i)(?:{_SECRET_WORDS}){_ASSIGN}"
            r"[\"']?(?P<value>[A-Za-z0-9_\-+/=.~]{16,512})(?![A-Za-z0-9_\-+/=.~])"
        ),
        validate=v.secret_value_ok,
        description="values assigned to api_key/secret/token-like names (the value only)",
    ),
    Detector(
        name="assigned-password",
        data_class="secret",
        anchor=f"(?i)(?:password|passwd|pwd){_ASSIGN}",
        confirm=(
            f"(?i)(?:password|passwd|pwd){_ASSIGN}"
            r"(?:\"(?P<value>[^\"\n]{8,128})\"|'(?P<value2>[^'\n]{8,128})'"
            r"|(?P<value3>[^\s\"',;]{8,128}))"
        ),
        validate=v.password_ok,
        description="literal passwords assigned in code, config or prose (the value only)",
    ),
    # --- e-mail -----------------------------------------------------------------------------
    Detector(
        name="email",
        data_class="email",
        anchor=r"(?:\b[A-Za-z0-9]|[^\x00-\x7f])[\pL\pN._%+\-]*@[A-Za-z0-9]",
        confirm=(
            r"(?:[A-Za-z0-9]|[\x80-\xff])(?:[A-Za-z0-9._%+\-]|[\x80-\xff]){0,63}@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
            r"(?![A-Za-z0-9\-])"
        ),
        validate=v.email_ok,
        description="e-mail addresses",
    ),
    # --- bank and card ------------------------------------------------------------------------
    Detector(
        name="iban",
        data_class="iban",
        anchor=r"\b[A-Z]{2}\d{2} ?[A-Z0-9]{4}",
        confirm=_iban_confirm(),
        validate=v.iban_ok,
        description="IBANs, with or without spaces (registered country, length, mod-97)",
    ),
    Detector(
        name="card",
        data_class="card",
        anchor=r"\b[2-6]\d(?:[ \-]?\d){11}",
        confirm=_NUM_START + r"[2-6]\d(?:[ \-]?\d){11,17}" + _NUM_END,
        validate=v.card_ok,
        description="payment card numbers (scheme prefix and length, Luhn)",
    ),
    # --- national identity numbers ------------------------------------------------------------
    Detector(
        name="us-ssn",
        data_class="national-id",
        anchor=r"\b\d{3}[ \-]\d{2}[ \-]\d{4}\b",
        confirm=_NUM_START + r"\d{3}([ \-])\d{2}\1\d{4}" + _NUM_END,
        validate=v.ssn_ok,
        description="US Social Security numbers written with separators (issuable ranges)",
    ),
    Detector(
        name="us-ssn-labelled",
        data_class="national-id",
        anchor=r"(?i)\b(?:ssn|social security(?: number| no)?)\b[^0-9\n]{0,20}\d{9}\b",
        confirm=(
            r"(?i)(?:ssn|social security(?: number| no)?)[^0-9\n]{0,20}"
            r"(?P<value>\d{9})" + _NUM_END
        ),
        validate=v.ssn_ok,
        description="nine-digit US SSNs next to the words SSN / social security",
    ),
    Detector(
        name="uk-nino",
        data_class="national-id",
        anchor=r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        confirm=(
            r"(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]( ?)\d{2}\1\d{2}\1\d{2}\1[A-D]"
            r"(?![A-Za-z0-9])"
        ),
        validate=v.nino_ok,
        description="UK National Insurance numbers (issued prefixes and suffixes)",
    ),
    Detector(
        name="nl-bsn",
        data_class="national-id",
        anchor=r"\b\d{4}\.\d{2}\.\d{3}\b",
        confirm=r"(?<![A-Za-z0-9_.\-])\d{4}\.\d{2}\.\d{3}" + _NUM_END,
        validate=v.bsn_ok,
        description="Dutch BSNs written 1234.56.789 (11-proof)",
    ),
    Detector(
        name="nl-bsn-labelled",
        data_class="national-id",
        anchor=r"(?i)\b(?:bsn|burgerservicenummer|sofi-?nummer)\b[^0-9\n]{0,20}\d{8,9}\b",
        confirm=(
            r"(?i)(?:bsn|burgerservicenummer|sofi-?nummer)[^0-9\n]{0,20}"
            r"(?P<value>\d{8,9})" + _NUM_END
        ),
        validate=v.bsn_ok,
        description="eight/nine-digit Dutch BSNs next to the words BSN / burgerservicenummer",
    ),
    Detector(
        name="es-dni",
        data_class="national-id",
        anchor=r"\b(?:\d{8}|[XYZ]\d{7})-?[A-Z]\b",
        confirm=r"(?<![A-Za-z0-9_\-])(?:\d{8}|[XYZ]\d{7})-?[A-Z](?![A-Za-z0-9_])",
        validate=v.dni_ok,
        description="Spanish DNI and NIE numbers (mod-23 check letter)",
    ),
    # --- phone numbers ------------------------------------------------------------------------
    Detector(
        name="phone-international",
        data_class="phone",
        anchor=r"\+[1-9]\d{0,2}[ .\-]?\(?\d",
        confirm=(
            r"(?<![A-Za-z0-9_+])\+[1-9]\d{0,2}(?:[ .\-]?\(\d{1,4}\)|[ .\-]?\d{1,4})"
            r"(?:[ .\-]?\d{1,4}){1,5}" + _NUM_END
        ),
        validate=v.phone_ok,
        description="international numbers (+ country code), 8-15 digits",
    ),
    Detector(
        name="phone-national",
        data_class="phone",
        anchor=r"(?:\b0|\(0)\d{1,4}\)?(?:[ .\-/]?\d{2,4}){2}",
        confirm=(_NUM_START + r"(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .\-/]?\d{2,4}){2,4}" + _NUM_END),
        validate=v.phone_ok,
        description="national numbers with a trunk 0 (UK, NL, DE, FR …), 9-12 digits",
    ),
    Detector(
        name="phone-nanp",
        data_class="phone",
        anchor=r"(?:\b1[ .\-])?(?:\(\d{3}\) ?|\b\d{3}[ .\-])\d{3}[ .\-]\d{4}\b",
        confirm=(
            _NUM_START + r"(?:1[ .\-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .\-])"
            r"\d{3}[ .\-]\d{4}" + _NUM_END
        ),
        validate=v.phone_ok,
        description="North American numbers: (555) 123-4567, 555-123-4567, 1-555-123-4567",
    ),
)
