"""The built-in detectors: e-mail, phone, card, IBAN, national IDs, secrets and IP addresses.

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
# "password" in the languages of the prompts we see (en, de, fr, nl, es, pt, it uses the English
# word, sv, da/no, pl, cs, fi, hu). RE2 (the anchor) reads UTF-8 text; the confirm patterns are
# Python ``re`` over bytes, so their non-ASCII letters are spelled as UTF-8 byte escapes (both
# cases: ``(?i)`` folds ASCII only there)
_PASSWORD_WORDS_RE2 = (
    r"password|passwd|pwd|passphrase|passwort|kennwort|mot\s+de\s+passe|mot-de-passe|mdp"
    r"|wachtwoord|contraseña|contrasena|senha|palavra-passe|lösenord|losenord|passord"
    r"|adgangskode|hasło|haslo|heslo|salasana|jelszó|jelszo"
)
_PASSWORD_WORDS = (
    r"password|passwd|pwd|passphrase|passwort|kennwort|mot\s+de\s+passe|mot-de-passe|mdp"
    r"|wachtwoord|contrase(?:\xc3[\xb1\x91]|n)a|senha|palavra-passe|l(?:\xc3[\xb6\x96]|o)senord"
    r"|passord|adgangskode|has(?:\xc5[\x82\x81]|l)o|heslo|salasana|jelsz(?:\xc3[\xb3\x93]|o)"
)
# "the password is …" in those languages (is, ist, lautet, est, es, é, är, er, jest, je, on, az)
_SPOKEN = r"\s+(?:is|ist|lautet|est|es|era|[e\xc3\xa9]|\xc3\xa4r|ar|er|jest|je|on|az)\s*:?\s+"
_SPOKEN_RE2 = r"\s+(?:is|ist|lautet|est|es|era|é|e|är|ar|er|jest|je|on|az)\s*:?\s+"
# in a sentence, the full stop or comma after the password is not part of it
_SPOKEN_VALUE = (
    r"(?:\"(?P<value>[^\"\n]{1,128})\"|'(?P<value2>[^'\n]{1,128})'"
    r"|(?P<value3>[^\s\"',;]{0,127}[^\s\"',;.:)]))"
)
# a password value: quoted (spaces allowed) or up to the next space, quote or separator
_PASSWORD_VALUE = (
    r"(?:\"(?P<value>[^\"\n]{1,128})\"|'(?P<value2>[^'\n]{1,128})'"
    r"|(?P<value3>[^\s\"',;]{1,128}))"
)
# the number after a label that makes it an order number, an article or an invoice, in the
# same languages: not a phone number (see the not-a-phone detector)
_REFERENCE_WORDS_RE2 = (
    r"order|orders|sku|part|item|article|product|invoice|ref|reference|tracking|serial|po"
    r"|batch|bestellung|bestellnummer|auftrag|artikel|artikelnummer|rechnung|rechnungsnummer"
    r"|kundennummer|sendungsnummer|commande|référence|reference|réf|facture|colis|bestelling"
    r"|bestelnummer|ordernummer|factuur|factuurnummer|klantnummer|pedido|referencia|factura"
    r"|artículo|articulo|albarán|albaran|encomenda|fatura"
)
_REFERENCE_WORDS = (
    r"order|orders|sku|part|item|article|product|invoice|ref|reference|tracking|serial|po"
    r"|batch|bestellung|bestellnummer|auftrag|artikel|artikelnummer|rechnung|rechnungsnummer"
    r"|kundennummer|sendungsnummer|commande|r(?:\xc3[\xa9\x89]|e)f(?:\xc3[\xa9\x89]|e)rence"
    r"|r(?:\xc3[\xa9\x89]|e)f|facture|colis|bestelling|bestelnummer|ordernummer|factuur"
    r"|factuurnummer|klantnummer|pedido|referencia|factura|art(?:\xc3[\xad\x8d]|i)culo"
    r"|albar(?:\xc3[\xa1\x81]|a)n|encomenda|fatura"
)
_REFERENCE_TAIL = (
    r"(?:[ \t]*(?:no\.?|nr\.?|n°|nº|num\.?|number|nummer|número|numero|#|id|code))?"
    r"[ \t]*[:#.]?[ \t]*"
)
_REFERENCE_TAIL_PY = (
    r"(?:[ \t]*(?:no\.?|nr\.?|n\xc2[\xb0\xba]|num\.?|number|nummer|n(?:\xc3[\xba\x9a]|u)mero"
    r"|#|id|code))?[ \t]*[:#.]?[ \t]*"
)
# an amount or a size after a group of digits: "612 345 678 €" is money, not a phone number
_NOT_A_QUANTITY = (
    r"(?!\s?(?i:\xe2\x82\xac|\$|\xc2\xa3|%|eur\b|euros?\b|usd\b|dollars?\b|k?b\b|[kmgt]i?b\b"
    r"|bytes?\b|octets?\b|ms\b|kg\b|km\b|m2\b|m\xc2\xb2|units?\b|items?\b|pcs\b))"
)

# an IPv4 address whose first two octets are not a private, loopback, link-local, shared,
# multicast or reserved range: the DFA leaves 10.x, 127.x, 192.168.x, 172.16-31.x, 169.254.x,
# 100.64-127.x, 0.x and 224-255.x alone, so the addresses every log is full of cost nothing
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PUBLIC_IPV4_ANCHOR = (
    r"\b(?:(?:[1-9]|1[1-9]|[2-9]\d|10[1-9]|11\d|12[0-689]|1[3-58]\d|16[0-8]|17[013-9]"
    r"|19[013-9]|2[01]\d|22[0-3])\." + _OCTET + r"|169\.(?:25[0-35]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"|172\.(?:25[0-5]|2[0-4]\d|1\d\d|[4-9]\d|3[2-9]|1[0-5]|\d)"
    r"|192\.(?:25[0-5]|2[0-4]\d|1[0-57-9]\d|16[0-79]|[1-9]?\d)"
    r"|100\.(?:25[0-5]|2[0-4]\d|1[3-9]\d|12[89]|[1-5]\d|6[0-3]|\d))"
    r"(?:\." + _OCTET + r"){2}\b"
)

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
        validate=v.token_ok,
        description="AWS access key ids (not the documentation's AKIAIOSFODNN7EXAMPLE)",
    ),
    Detector(
        name="github-token",
        data_class="secret",
        anchor=r"\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{20}",
        confirm=r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])",
        validate=v.token_ok,
        description="GitHub personal, OAuth, app and fine-grained tokens (not ghp_XXXX…)",
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
        validate=v.slack_token_ok,
        description="Slack bot/user/app tokens and incoming-webhook URLs (not xoxb-your-…)",
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
        validate=v.token_ok,
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
        name="aws-secret-key",
        data_class="secret",
        anchor=(
            r"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws secret access key"
            r"(?: \[[^\]\n]{0,40}\])?)" + _ASSIGN
        ),
        confirm=(
            r"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws secret access key"
            r"(?: \[[^\]\n]{0,40}\])?)"
            + _ASSIGN
            + r"[\"']?(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        validate=v.secret_value_ok,
        description=(
            "AWS secret access keys in .env and credentials files, JSON and `aws configure` "
            '(aws_secret_access_key = …, AWS_SECRET_ACCESS_KEY=…, "SecretAccessKey": "…")'
        ),
    ),
    Detector(
        name="url-password",
        data_class="secret",
        anchor=r"://[^\s:/@]*:[^\s/@]+@",
        confirm=r"://[^\s:/@]{0,256}:(?P<value>[^\s/@]{1,256})@(?=[A-Za-z0-9\[])",
        validate=v.url_password_ok,
        description=(
            "the password in a connection URL: postgres://user:pass@host, mysql://, "
            "mongodb+srv://, redis://:pass@, amqp://, https://user:pass@ (the password only)"
        ),
    ),
    Detector(
        name="url-userinfo",
        data_class="secret",
        anchor=r"://[^\s:/@]*:[^\s/@]+@",
        confirm=r"://[^\s:/@]{0,256}:[^\s/@]{1,256}@",
        suppress=True,
        description="a connection URL's placeholder password: skipped, and not an e-mail either",
    ),
    Detector(
        name="mysql-command-password",
        data_class="secret",
        anchor=(
            r"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlpump|mysqlshow|mariadb"
            r"|mariadb-dump)\b[^\n]*?\s-p\S"
        ),
        confirm=(
            r"(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlpump|mysqlshow|mariadb"
            r"|mariadb-dump)(?![\w-])[^\n|;&]{0,300}?(?<=\s)-p(?:'(?P<value>[^'\n]+)'"
            r"|\"(?P<value2>[^\"\n]+)\"|(?P<value3>[^\s'\"`,;|&)]+))"
        ),
        validate=v.command_password_ok,
        description="the password of a MySQL/MariaDB command line: mysql -p'…', -psecret",
    ),
    Detector(
        name="option-password",
        data_class="secret",
        anchor=r"--pass(?:word|wd)[= ]+\S",
        confirm=(
            r"--pass(?:word|wd)(?:=| +)(?:'(?P<value>[^'\n]+)'|\"(?P<value2>[^\"\n]+)\""
            r"|(?<==)(?P<value3>[^\s'\"`]+)"
            r"|(?<= )(?P<value4>(?=[^\s'\"]*[0-9!@#$%^&*_+=~])[^\s'\"`,;]+))"
        ),
        validate=v.command_password_ok,
        description=(
            "--password=… on a command line (--password value too, when the value has a digit "
            "or a symbol: `the --password flag` is prose, `--password TEXT` is help text)"
        ),
    ),
    Detector(
        name="env-password",
        data_class="secret",
        # the anchor starts at the word PASSWORD (a prefix of capitals would keep a DFA state
        # alive through every capitalised word); the confirm checks it ends an upper-case name
        anchor=r"(?:PASSWORD|PASSWD|PASSPHRASE|_PWD|_PASS)=",
        confirm=(
            r"(?<![a-z])(?:PASSWORD|PASSWD|PASSPHRASE|_PWD|_PASS)="
            r"(?:'(?P<value>[^'\n]+)'|\"(?P<value2>[^\"\n]+)\"|(?P<value3>[^\s'\"`#;&|]+))"
        ),
        validate=v.command_password_ok,
        description="environment passwords: PGPASSWORD=…, MYSQL_PWD=…, DB_PASSWORD=… in .env",
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
        anchor=f"(?i)(?:{_PASSWORD_WORDS_RE2}){_ASSIGN}",
        confirm=f"(?i)(?:{_PASSWORD_WORDS}){_ASSIGN}{_PASSWORD_VALUE}",
        validate=v.password_ok,
        description=(
            "literal passwords assigned in code, config or prose, under the word in 13 "
            "languages: Passwort:, mot de passe :, wachtwoord:, contraseña: … (the value only)"
        ),
    ),
    Detector(
        name="spoken-password",
        data_class="secret",
        anchor=f"(?i)(?:{_PASSWORD_WORDS_RE2}){_SPOKEN_RE2}",
        confirm=f"(?i)(?:{_PASSWORD_WORDS}){_SPOKEN}{_SPOKEN_VALUE}",
        validate=v.spoken_password_ok,
        description=(
            "passwords given in a sentence: the password is …, das Passwort ist …, le mot de "
            "passe est …, het wachtwoord is …, la contraseña es … (letters and digits)"
        ),
    ),
    # --- IP addresses: before e-mail, first among the detectors a digit can start ----
    Detector(
        name="version-number",
        data_class="ip-address",
        anchor=(
            r"(?i)\b(?:version|versión|versie|ver\.?|release|build|firmware|fw|v)"
            r"\s*:?\s*\d+(?:\.\d+){3}"
        ),
        confirm=(
            r"(?i)(?:version|versi(?:\xc3[\xb3\x93]|o)n|versie|ver\.?|release|build|firmware|fw|v)"
            r"\s*:?\s*\d+(?:\.\d+){3,}"
        ),
        suppress=True,
        description="a dotted number after version / release / build / v: skipped, not an IP",
    ),
    Detector(
        name="ipv4",
        data_class="ip-address",
        anchor=_PUBLIC_IPV4_ANCHOR,
        confirm=(
            r"(?<![A-Za-z0-9_.\-])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
            r"(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![A-Za-z0-9_@]|[.\-/]\d)"
        ),
        validate=v.ip_public_ok,
        description="public IPv4 addresses (private, loopback, documentation ranges are not)",
    ),
    Detector(
        name="ipv6",
        data_class="ip-address",
        anchor=r"(?i)\b[23][0-9a-f]{3}:[0-9a-f]{0,4}:",
        confirm=r"(?i)(?<![0-9a-z:.])[23][0-9a-f]{3}(?::[0-9a-f]{0,4}){2,7}(?![0-9a-z:]|/\d)",
        validate=v.ip_public_ok,
        description="public (global unicast 2000::/3) IPv6 addresses, full or with ::",
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
        name="not-a-phone",
        data_class="phone",
        anchor=f"(?i)\\b(?:{_REFERENCE_WORDS_RE2}){_REFERENCE_TAIL}\\d",
        confirm=(
            f"(?i)(?:{_REFERENCE_WORDS}){_REFERENCE_TAIL_PY}"
            r"(?P<value>\d+(?:[ .\-/]\d+){0,4})(?![A-Za-z0-9_])"
        ),
        validate=v.reference_number_ok,
        suppress=True,
        description=(
            "the number after order, SKU, invoice, ref, Bestellnummer, commande, pedido …: an "
            "order or article number, skipped (a card number there is still a card)"
        ),
    ),
    Detector(
        name="phone-international-00",
        data_class="phone",
        anchor=r"\b00[1-9]\d{0,2}[ .\-]\(?\d",
        confirm=(
            _NUM_START + r"00[1-9]\d{0,2}(?:[ .\-]\(\d{1,4}\)|[ .\-]\d{1,4})"
            r"(?:[ .\-]?\d{1,4}){1,5}" + _NUM_END
        ),
        validate=v.phone_ok,
        description="international numbers dialled with 00, also a one-digit area code: 0033 1 …",
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
    Detector(
        name="phone-es",
        data_class="phone",
        anchor=(
            r"\b(?:[679]\d{2}[ .\-]\d{2,3}[ .\-]\d{2,3}(?:[ .\-]\d{2})?"
            r"|[89]\d[ .\-]\d{3}[ .\-]\d{2}[ .\-]\d{2})\b"
        ),
        confirm=(
            _NUM_START + r"(?:[679]\d{2}([ \-])\d{3}\1\d{3}|[679]\d{2}([ .\-])\d{2}\2\d{2}\2\d{2}"
            r"|[89]\d([ .\-])\d{3}\3\d{2}\3\d{2})" + _NUM_END + _NOT_A_QUANTITY
        ),
        validate=v.phone_ok,
        description=(
            "Spanish numbers without the trunk 0: 612 345 678, 612 34 56 78, 91 123 45 67 "
            "(not followed by a currency or a unit)"
        ),
    ),
    Detector(
        name="phone-labelled",
        data_class="phone",
        anchor=(
            r"(?i)\b(?:teléfono|telefono|tel|tfno|tlf|móvil|movil|mobile|phone|whatsapp|llamar"
            r"|llámame|llamame)\b[^0-9\n]{0,20}[679]\d{8}\b"
        ),
        confirm=(
            r"(?i)(?:tel(?:\xc3[\xa9\x89]|e)fono|tel|tfno|tlf|m(?:\xc3[\xb3\x93]|o)vil|mobile"
            r"|phone|whatsapp|llamar|ll(?:\xc3[\xa1\x81]|a)mame)[^0-9\n]{0,20}"
            r"(?P<value>[679]\d{8})" + _NUM_END
        ),
        validate=v.phone_ok,
        description="nine unbroken digits (a Spanish mobile 612345678) after tel / móvil / phone",
    ),
)
