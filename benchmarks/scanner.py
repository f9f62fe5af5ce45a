"""How fast, and how right, the data-class scanner is on a labelled corpus it generates itself.

The corpus is the scanner's own labelled set, reproducible (a seed): documents of prose (some
non-ASCII), code and logs, with data-class values planted at a known rate (every planted value
is labelled with its class and offsets) and near-misses planted beside them (cards failing
Luhn, IBANs failing mod-97, SSNs in never-issued ranges and the documentation example
123-45-6789, dates, versions, private and documentation IPs, UUIDs, hashes, epoch times,
placeholder keys such as AKIAIOSFODNN7EXAMPLE or xoxb-your-bot-token, order numbers and SKUs
starting with 0, amounts) that must *not* be found. Besides the plain formats it plants what
real prompts carry, in English, German, French, Dutch, Spanish and Portuguese: support
tickets, e-mails and chat lines with passwords under the local word (Passwort:, mot de passe :,
wachtwoord:, contraseña:, "the password is …"), .env and credentials files with AWS secret
access keys, connection URLs and command lines with passwords (postgres://user:pass@host,
mysql -p'…', PGPASSWORD=…), Spanish numbers without a trunk 0, French dotted numbers, 00-dialled
numbers with a one-digit area code, and log lines with public IPv4/IPv6 addresses.

    python benchmarks/scanner.py [--mb 16] [--dense-mb 4] [--doc-kb 4] [--seed 7] [--compare]

Two corpora: **sparse** (one planted value and one near-miss per 4 KB on average, between
prose, code and log lines) and **dense** (every line a planted value or a near-miss: a
candidate every ~70 bytes, the per-candidate cost laid bare). For each it prints single-core
MB/s (best of --repeat runs, in documents of --doc-kb), then precision and recall against the
planted labels, overall and per class. ``--compare`` also
times the same scanner with Python's ``re`` as the joined-pattern engine, and hyperscan's raw
candidate pass if it is installed, to show why RE2 was chosen. Timings are wall-clock on this
machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import random
import re
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from inhouse.policy import Scanner
from inhouse.policy.scanner import _UNANCHORED
from inhouse.policy.validators import IBAN_LENGTHS, bsn_ok, luhn_ok, mod97_ok


@dataclass(frozen=True)
class Label:
    data_class: str
    start: int
    end: int


@dataclass
class Document:
    text: str
    labels: list[Label]


# ------------------------------------------------------------------------------------------
# planted values
# ------------------------------------------------------------------------------------------

_FIRST = ["anna", "bram", "chen", "dana", "emil", "fatima", "gert", "hana", "ivan", "joost"]
_LAST = ["jansen", "smith", "garcia", "muller", "okafor", "tanaka", "dubois", "novak", "ali"]
_DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "uni-example.ac.uk", "ex.io"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + _digits(rng, length - len(prefix) - 1)
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def make_email(rng: random.Random) -> str:
    local = f"{rng.choice(_FIRST)}{rng.choice(['.', '_', ''])}{rng.choice(_LAST)}"
    if rng.random() < 0.2:
        local += f"+{rng.choice(['news', 'ci', 'x1'])}"
    return f"{local}@{rng.choice(_DOMAINS)}"


def make_phone(rng: random.Random) -> str:
    d = lambda n: _digits(rng, n)  # noqa: E731
    return rng.choice(
        [
            f"+44 20 {d(4)} {d(4)}",
            f"+1 ({rng.randint(2, 9)}{d(2)}) {rng.randint(2, 9)}{d(2)}-{d(4)}",
            f"+31 6 {d(4)} {d(4)}",
            f"+316{d(8)}",
            f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",
            f"+49 30 {d(7)}",
            f"+44 (0)20 {d(4)} {d(4)}",
            f"0044 20 {d(4)} {d(4)}",
            f"020 {d(4)} {d(4)}",
            f"06-{d(4)}{d(4)}",
            f"06{d(8)}",
            f"(0{rng.randint(1, 9)}{d(1)}) {d(3)} {d(4)}",
            f"{rng.randint(2, 9)}{d(2)}-{rng.randint(2, 9)}{d(2)}-{d(4)}",
            f"({rng.randint(2, 9)}{d(2)}) {rng.randint(2, 9)}{d(2)}-{d(4)}",
        ]
    )


_CARD_PREFIXES = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
                  ("6011", 16), ("65", 16), ("35", 16), ("4", 13)]  # fmt: skip


def _card(rng: random.Random) -> tuple[str, int]:
    prefix, length = rng.choice(_CARD_PREFIXES)
    if prefix == "35":
        prefix = "35" + str(rng.randint(28, 89))
    return _luhn_complete(rng, prefix, length), length


def _group_card(rng: random.Random, number: str) -> str:
    style = rng.choice(["plain", " ", "-"])
    if style == "plain":
        return number
    if len(number) == 15:
        return style.join([number[:4], number[4:10], number[10:]])
    return style.join(number[i : i + 4] for i in range(0, len(number), 4))


def make_card(rng: random.Random) -> str:
    return _group_card(rng, _card(rng)[0])


def bad_card(rng: random.Random) -> str:
    number = _card(rng)[0]
    last = str((int(number[-1]) + rng.randint(1, 9)) % 10)
    return _group_card(rng, number[:-1] + last)


_IBAN_COUNTRIES = ["NL", "DE", "GB", "FR", "BE", "ES", "IT", "AT", "CH"]


def _bban(rng: random.Random, country: str) -> str:
    length = IBAN_LENGTHS[country] - 4
    if country in ("NL", "GB"):
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + _digits(
            rng, length - 4
        )
    if country == "IT":
        return rng.choice(string.ascii_uppercase) + _digits(rng, length - 1)
    return _digits(rng, length)


def _iban(rng: random.Random, valid: bool) -> str:
    country = rng.choice(_IBAN_COUNTRIES)
    bban = _bban(rng, country)
    for check in range(2, 99):
        candidate = f"{country}{check:02d}{bban}"
        if mod97_ok(candidate) == valid:
            if rng.random() < 0.5:
                return " ".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
            return candidate
    raise AssertionError("unreachable")


def make_iban(rng: random.Random) -> str:
    return _iban(rng, True)


def bad_iban(rng: random.Random) -> str:
    return _iban(rng, False)


def _bsn(rng: random.Random) -> str:
    while True:
        digits = _digits(rng, 9)
        total = sum(int(x) * w for x, w in zip(digits[:8], range(9, 1, -1), strict=True))
        if digits[0] != "0" and (total - int(digits[8])) % 11 == 0:
            return digits


def make_national_id(rng: random.Random) -> str:
    kind = rng.choice(["ssn", "nino", "bsn", "bsn-labelled", "dni"])
    if kind == "ssn":
        area = rng.choice([n for n in range(1, 900) if n != 666])
        return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    if kind == "nino":
        first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
        while first + second in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"):
            second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
        sep = rng.choice(["", " "])
        return sep.join([first + second, _digits(rng, 2), _digits(rng, 2), _digits(rng, 2),
                         rng.choice("ABCD")])  # fmt: skip
    if kind == "bsn":
        digits = _bsn(rng)
        return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"
    if kind == "bsn-labelled":
        return _bsn(rng)  # planted after the word BSN (see _slot)
    number = rng.randint(10_000_000, 99_999_999)
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def make_secret(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return f"sk-proj-{_token(rng, 48)}"
    if kind == 1:
        return f"sk-ant-api03-{_token(rng, 80, string.ascii_letters + string.digits + '_-')}"
    if kind == 2:
        return "AKIA" + _token(rng, 16, string.ascii_uppercase + string.digits)
    if kind == 3:
        return "ghp_" + _token(rng, 36)
    if kind == 4:
        return f"xoxb-{_digits(rng, 12)}-{_digits(rng, 12)}-{_token(rng, 24)}"
    if kind == 5:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps({"sub": _digits(rng, 8), "iat": 1700000000}).encode())
        return f"{header}.{payload}.{_b64(rng.randbytes(32))}"
    if kind == 6:
        body = "\n".join(base64.b64encode(rng.randbytes(48)).decode() for _ in range(4))
        return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    if kind == 7:
        return _token(rng, 32)  # the value of api_key = "…" (see SLOTS)
    return _token(rng, 12) + "!" + _digits(rng, 2)  # a password value


def _slot(data_class: str, value: str) -> str:
    """The sentence a planted value sits in; ``{}`` is the value."""
    if data_class == "secret" and "!" in value and len(value) == 15:
        return "the password: {} was shared"
    if data_class == "secret" and value.isalnum() and len(value) == 32:
        return 'config: api_key = "{}"'
    if data_class == "national-id" and value.isdigit():
        return "Her BSN: {} is on the form."
    return _SENTENCES[data_class]


# ------------------------------------------------------------------------------------------
# near-misses: must not be found
# ------------------------------------------------------------------------------------------


def make_decoy(rng: random.Random) -> str:
    kind = rng.randrange(16)
    if kind == 0:
        return bad_card(rng)
    if kind == 1:
        return bad_iban(rng)
    if kind == 2:
        area = rng.choice(["000", "666", f"9{_digits(rng, 2)}"])
        return f"{area}-{_digits(rng, 2)}-{_digits(rng, 4)}"
    if kind == 3:
        return f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == 4:
        return f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2019, 2026)}"
    if kind == 5:
        return _internal_ip(rng)
    if kind == 6:
        return f"v{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
    if kind == 7:
        return str(rng.randint(1_600_000_000_000, 1_800_000_000_000))  # epoch milliseconds
    if kind == 8:
        return _digits(rng, rng.randint(20, 32))  # a plain long number
    if kind == 9:
        return (
            rng.randbytes(16).hex()[:8]
            + "-"
            + rng.randbytes(16).hex()[:4]
            + "-4a1b-9c2d-"
            + (rng.randbytes(6).hex())
        )
    if kind == 10:
        return rng.randbytes(32).hex()
    if kind == 11:
        return 'api_key = os.environ["API_KEY"]'
    if kind == 12:
        return "token = None"
    if kind == 13:
        return "password: ********"
    if kind == 14:  # BSN shape failing the 11-proof
        while True:
            digits = _digits(rng, 9)
            if not bsn_ok(digits):
                return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"
    return f"+{rng.randint(1, 9)}.{_digits(rng, 2)}%"


# ------------------------------------------------------------------------------------------
# what real prompts carry: (template, value) in several languages and kinds of text
# ------------------------------------------------------------------------------------------


def _private_ip(rng: random.Random) -> str:
    """The addresses internal logs are full of: private ranges and loopback."""
    return rng.choice(
        [
            f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "127.0.0.1",
        ]
    )


def _internal_ip(rng: random.Random) -> str:
    """An address that must not be reported: private, loopback, link-local, documentation."""
    return rng.choice(
        [
            f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "127.0.0.1",
            f"169.254.{rng.randint(1, 254)}.{rng.randint(1, 254)}",
            f"192.0.2.{rng.randint(1, 254)}",
            f"203.0.113.{rng.randint(1, 254)}",
            f"fd{rng.randbytes(1).hex()}:{rng.randbytes(2).hex()}::{rng.randint(1, 999)}",
            "::1",
            f"fe80::{rng.randbytes(2).hex()}:{rng.randbytes(2).hex()}",
        ]
    )


def _public_ipv4(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.randrange(1 << 24, 224 << 24))
        if address.is_global and not address.is_multicast:
            return str(address)


def _public_ipv6(rng: random.Random) -> str:
    groups = [
        f"{rng.randint(0x2400, 0x2A0F):x}",
        *(f"{rng.randint(1, 0xFFFF):x}" for _ in range(3)),
    ]
    if rng.random() < 0.5:
        return ":".join(groups) + f"::{rng.randint(1, 0xFFFF):x}"
    return ":".join([*groups, *(f"{rng.randint(0, 0xFFFF):x}" for _ in range(4))])


def make_ip(rng: random.Random) -> tuple[str, str]:
    template = rng.choice(
        [
            '{} - - [05/Mar/2025:10:12:01 +0000] "POST /v1/chat/completions HTTP/1.1" 200 512',
            "sshd[2211]: Failed password for root from {} port 52144 ssh2",
            "Bitte sperren Sie die IP {} in der Firewall.",
            "Le client se connecte depuis {} et reçoit une erreur 502.",
            "upstream backend {{ server {} weight=5; }}",
            "El servidor {} no responde desde esta mañana.",
        ]
    )
    return template, _public_ipv6(rng) if rng.random() < 0.3 else _public_ipv4(rng)


_PW_WORDS = ["Sommer", "Soleil", "Welkom", "Verano", "Praia", "Winter", "Lente", "Otono"]


def _password(rng: random.Random) -> str:
    return f"{rng.choice(_PW_WORDS)}{rng.randint(10, 9999)}{rng.choice(['!', '#', '', '?', '*'])}"


def make_password(rng: random.Random) -> tuple[str, str]:
    template = rng.choice(
        [
            "Ticket #{n}: Login geht nicht. Benutzer: mmueller, Passwort: {}",
            "Bonjour, voici vos accès. Identifiant : jdupont / mot de passe : {}",
            "kun je inloggen met wachtwoord: {} op de testomgeving?",
            "Hola, la contraseña: {} no funciona desde ayer.",
            "Olá, a senha: {} expirou hoje.",
            "Hi team, the password is {} for the staging box.",
            "Das Passwort ist {} - bitte gleich ändern.",
            "het wachtwoord is {} (tijdelijk)",
            "la contraseña es {} y el usuario admin",
            "smtp:\n  user: alerts\n  password: {}",
        ]
    ).replace("{n}", str(rng.randint(1000, 99999)))
    return template, _password(rng)


def make_aws_secret(rng: random.Random) -> tuple[str, str]:
    while True:
        value = _token(rng, 40, string.ascii_letters + string.digits + "/+")
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            break
    template = rng.choice(
        [
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {}",
            "AWS_SECRET_ACCESS_KEY={}",
            'export AWS_SECRET_ACCESS_KEY="{}"',
            '{{"AccessKeyId": "ASIAXXXXXXXXXXXXXXXX", "SecretAccessKey": "{}"}}',
        ]
    )
    return template, value


def make_url_or_command_password(rng: random.Random) -> tuple[str, str]:
    value = _token(rng, rng.randint(6, 14)) + rng.choice(["", "-x", "42"])
    template = rng.choice(
        [
            "DATABASE_URL=postgres://app:{}@db.internal:5432/app",
            "mongodb+srv://admin:{}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true",
            "CELERY_BROKER=amqp://svc:{}@mq:5672/",
            "REDIS_URL=redis://:{}@cache:6379/0",
            "Connect with mysql://root:{}@10.0.0.5/shop and retry.",
            "mysql -u root -p'{}' shop < dump.sql",
            "mysqldump -uroot -p{} --all-databases > all.sql",
            "PGPASSWORD={} pg_dump -h db -U app app > app.sql",
            "docker login -u ci --password={} registry.example.com",
        ]
    )
    return template, value


def make_local_phone(rng: random.Random) -> tuple[str, str]:
    d = lambda n: _digits(rng, n)  # noqa: E731
    return rng.choice(
        [
            ("Llámame al {} mañana por la tarde.", f"6{d(2)} {d(3)} {d(3)}"),
            ("Mi móvil es el {}, gracias.", f"7{d(2)} {d(2)} {d(2)} {d(2)}"),
            ("Oficina de Madrid: {}", f"91 {d(3)} {d(2)} {d(2)}"),
            ("WhatsApp: {}", f"6{d(8)}"),
            ("Rappelez-moi au {} svp.", ".".join(["06", *(d(2) for _ in range(4))])),
            ("Standard : {}", ".".join(["01", *(d(2) for _ in range(4))])),
            ("Depuis l'étranger : {}", f"0033 1 {d(2)} {d(2)} {d(2)} {d(2)}"),
            ("Vanuit het buitenland: {}", f"0031 6 {d(8)}"),
            ("Aus dem Ausland: {}", f"0049 30 {d(7)}"),
        ]
    )


def real_prompt_decoy(rng: random.Random) -> str:
    """A line that looks like data and is not (issue 16's false positives)."""
    d = lambda n: _digits(rng, n)  # noqa: E731
    return rng.choice(
        [
            f"order 00{d(8)} shipped",
            f"SKU 0{d(3)}-{d(3)}-{d(3)} back in stock",
            f"Bestellnummer: 0{d(3)} {d(3)} {d(3)}",
            f"commande n° 0{d(9)} livrée",
            f"pedido 6{d(8)} enviado",
            f"factuur 0{d(2)} {d(4)} {d(4)} betaald",
            "SSN format: 123-45-6789 (example)",
            "SLACK_BOT_TOKEN=xoxb-your-bot-token",
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "GITHUB_TOKEN=ghp_" + "X" * 36,
            "Passwort: ********",
            "password: REDACTED",
            "token: <your-token>",
            "password = changeme",
            "client_secret = ${SECRET}",
            "DATABASE_URL=postgres://user:password@localhost/db",
            "mysql -u root -p shop",
            "the password is incorrect, le mot de passe est expiré",
            f"version {rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}."
            f"{rng.randint(0, 255)}",
            f"Total: {rng.randint(6, 9)}{d(2)} {d(3)} {d(3)} €",
            f"listening on {_internal_ip(rng)}:8080",
        ]
    )


# ------------------------------------------------------------------------------------------
# filler: prose, code, logs
# ------------------------------------------------------------------------------------------

_WORDS = " ".join(
    [
        "the a to of and in that is for it on with as was at by this be from or have an are",
        "model local team request latency review quarter budget invoice customer ticket summary",
        "deploy server prompt workflow baseline pilot support owner answer draft report meeting",
        "Größe Straße café naïve résumé façade über señor",
    ]
).split(" ")


def _prose(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 24))]
    return " ".join(words).capitalize() + rng.choice([".", ".", "?", "!"])


def _code(rng: random.Random) -> str:
    name = rng.choice(["count", "total", "timeout", "retries", "buffer_size", "limit"])
    return rng.choice(
        [
            f"    {name} = {rng.randint(0, 100000)}",
            f"    if {name} > {rng.randint(1, 500)}:",
            f"def handle_{name}(request, {name}={rng.randint(1, 64)}):",
            f'    log.info("processed %d items in %.2fs", {name}, elapsed)',
            f"    return {{'status': {rng.choice([200, 404, 500])}, '{name}': {name}}}",
        ]
    )


def _log(rng: random.Random) -> str:
    stamp = (
        f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999):03d}Z"
    )
    ip = _private_ip(rng)
    return (
        f"{stamp} {rng.choice(['INFO', 'WARN', 'DEBUG'])} {ip} "
        f'"{rng.choice(["GET", "POST"])} /v1/{rng.choice(["chat", "models", "usage"])}" '
        f"{rng.choice([200, 201, 404, 502])} {rng.randint(1, 9000)}ms "
        f"req={rng.randbytes(8).hex()}"
    )


_FILLERS: list[Callable[[random.Random], str]] = [_prose, _code, _log]
_PLANTERS: list[tuple[str, Callable[[random.Random], str]]] = [
    ("email", make_email),
    ("phone", make_phone),
    ("card", make_card),
    ("iban", make_iban),
    ("national-id", make_national_id),
    ("secret", make_secret),
]
#: what real prompts carry: each returns (the line around the value, the value)
_SHAPES: list[tuple[str, Callable[[random.Random], tuple[str, str]]]] = [
    ("secret", make_password),
    ("secret", make_aws_secret),
    ("secret", make_url_or_command_password),
    ("phone", make_local_phone),
    ("ip-address", make_ip),
]
_SENTENCES = {
    "email": "Please write to {} about it.",
    "phone": "You can reach me on {} after five.",
    "card": "The card {} was charged twice.",
    "iban": "Pay into {} by Friday.",
    "national-id": "Her id is {} on the form.",
    "secret": "config: {}",
}


def _planted(rng: random.Random) -> tuple[str, str, str]:
    """(data class, template, value): half the plain formats, half what real prompts carry."""
    if rng.random() < 0.5:
        data_class, planter = rng.choice(_PLANTERS)
        value = planter(rng)
        return data_class, _slot(data_class, value), value
    data_class, shape = rng.choice(_SHAPES)
    template, value = shape(rng)
    return data_class, template, value


def _decoy_line(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(['at', 'see', 'got', 'id'])} {make_decoy(rng)} ok\n"
    return real_prompt_decoy(rng) + "\n"


def make_corpus(
    mb: float,
    *,
    doc_kb: float,
    seed: int,
    pii_per_kb: float,
    decoys_per_kb: float,
    dense: bool = False,
) -> list[Document]:
    """Documents of about ``doc_kb`` KB each, about ``mb`` MB in all; reproducible. ``dense``:
    every line a planted value or a near-miss (half each), no filler."""
    rng = random.Random(seed)
    documents: list[Document] = []
    total = 0
    doc_size = int(doc_kb * 1024)
    while total < mb * 1024 * 1024:
        parts: list[str] = []
        labels: list[Label] = []
        at = 0
        while at < doc_size:
            line_kb = 0.08
            if (rng.random() < 0.5) if dense else (rng.random() < pii_per_kb * line_kb):
                data_class, template, value = _planted(rng)
                before, after = template.split("{}")
                before, after = before.replace("{{", "{"), after.replace("}}", "}")
                labels.append(Label(data_class, at + len(before), at + len(before) + len(value)))
                line = before + value + after + "\n"
            elif dense or rng.random() < decoys_per_kb * line_kb:
                line = _decoy_line(rng)
            else:
                line = rng.choice(_FILLERS)(rng) + "\n"
            if dense:  # a few words after it: a candidate every ~70 bytes
                line = line[:-1] + " " + " ".join(rng.choices(_WORDS, k=rng.randint(3, 6))) + "\n"
            parts.append(line)
            at += len(line)
        text = "".join(parts)
        documents.append(Document(text, labels))
        total += len(text.encode())
    return documents


# ------------------------------------------------------------------------------------------
# measuring
# ------------------------------------------------------------------------------------------


def _score(scanner: Scanner, documents: list[Document]) -> dict[str, Counter[str]]:
    tally: dict[str, Counter[str]] = {}
    for doc in documents:
        matches = scanner.scan(doc.text)
        for label in doc.labels:
            found = any(
                m.data_class == label.data_class and m.start < label.end and label.start < m.end
                for m in matches
            )
            tally.setdefault(label.data_class, Counter())["tp" if found else "fn"] += 1
        for m in matches:
            right = any(
                m.data_class == label.data_class and m.start < label.end and label.start < m.end
                for label in doc.labels
            )
            if not right:
                tally.setdefault(m.data_class, Counter())["fp"] += 1
    return tally


def _time(
    scan: Callable[[str], object], documents: list[Document], repeat: int
) -> tuple[float, float]:
    """(MB/s by CPU time of this process, MB/s by wall clock), best of ``repeat``. CPU time is
    the per-core figure: on a shared machine, wall time also counts other programs' turns."""
    size = sum(len(doc.text.encode()) for doc in documents)
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for doc in documents:
            scan(doc.text)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return size / best_cpu / 1e6, size / best_wall / 1e6


def _python_re_scanner() -> Scanner:
    """The same scanner, with Python's ``re`` doing the joined pass (the pure-Python design)."""
    scanner = Scanner.build()
    anchors = [d.anchor.replace(r"\pL", "a-zA-Z").replace(r"\pN", "0-9") for d in scanner.detectors]
    # inline flags must lead in Python; scope them to their branch instead
    anchors = [f"(?i:{a[4:]})" if a.startswith("(?i)") else a for a in anchors]
    joined = "|".join(f"({anchor})" for anchor in anchors)
    compiled = re.compile(joined.encode())

    def search(_anchor: object, data: bytes, pos: int, size: int) -> list[tuple[int, int]]:
        found = compiled.search(data, pos, size)
        if found is None:
            return [(-1, -1)]
        return [found.span(i) for i in range(compiled.groups + 1)]

    scanner._search = search  # type: ignore[assignment]
    return scanner


def _re2_raw(scanner: Scanner, documents: list[Document], repeat: int) -> float:
    """RE2's joined candidate pass alone (no confirm, no validators), to compare engines."""
    search = scanner._search
    payloads = [doc.text.encode() for doc in documents]
    size = sum(len(p) for p in payloads)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for payload in payloads:
            pos, end = 0, len(payload)
            while (found := search(_UNANCHORED, payload, pos, end)[0][0]) >= 0:
                pos = found + 1
        best = min(best, time.process_time() - start)
    return size / best / 1e6


def _hyperscan_raw(documents: list[Document], repeat: int) -> float | None:
    try:
        import hyperscan  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    scanner = Scanner.build()
    database = hyperscan.Database()
    expressions = [d.anchor.replace("(?i)", "").encode() for d in scanner.detectors]
    flags = [
        hyperscan.HS_FLAG_UTF8 | (hyperscan.HS_FLAG_CASELESS if d.anchor.startswith("(?i)") else 0)
        for d in scanner.detectors
    ]
    database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
    payloads = [doc.text.encode() for doc in documents]
    size = sum(len(p) for p in payloads)
    best = float("inf")
    hits = 0

    def on_match(*_args: object) -> None:
        nonlocal hits
        hits += 1

    for _ in range(repeat):
        start = time.process_time()
        for payload in payloads:
            database.scan(payload, match_event_handler=on_match)
        best = min(best, time.process_time() - start)
    return size / best / 1e6


def score_table(tally: dict[str, Counter[str]]) -> tuple[list[str], float, float]:
    """The per-class lines, and overall precision and recall."""
    totals: Counter[str] = Counter()
    lines = [
        f"{'class':<12} {'planted':>8} {'found':>6} {'false+':>6} {'precision':>9} {'recall':>7}"
    ]
    for data_class in sorted(tally):
        t = tally[data_class]
        totals.update(t)
        found = t["tp"] + t["fp"]
        precision = t["tp"] / found if found else 1.0
        recall = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 1.0
        lines.append(
            f"{data_class:<12} {t['tp'] + t['fn']:>8} {t['tp']:>6} {t['fp']:>6} "
            f"{precision:>9.4f} {recall:>7.4f}"
        )
    found = totals["tp"] + totals["fp"]
    precision = totals["tp"] / found if found else 1.0
    recall = totals["tp"] / (totals["tp"] + totals["fn"]) if totals["tp"] + totals["fn"] else 1.0
    lines.append(
        f"{'all':<12} {totals['tp'] + totals['fn']:>8} {totals['tp']:>6} {totals['fp']:>6} "
        f"{precision:>9.4f} {recall:>7.4f}"
    )
    return lines, precision, recall


def _report(
    name: str, documents: list[Document], scanner: Scanner, args: argparse.Namespace
) -> None:
    size = sum(len(doc.text.encode()) for doc in documents)
    planted = sum(len(doc.labels) for doc in documents)
    lines = sum(doc.text.count("\n") for doc in documents)
    non_ascii = sum(not doc.text.isascii() for doc in documents)
    print(
        f"{name} corpus: {size / 1e6:.1f} MB in {len(documents)} documents of ~{args.doc_kb:g} KB "
        f"(seed {args.seed}), {planted} planted values, {non_ascii} documents with non-ASCII, "
        f"{lines} lines of {size / max(lines, 1):.0f} bytes on average"
    )
    cpu, wall = _time(scanner.scan, documents, args.repeat)
    print(
        f"{name}: scanner (RE2 joined pass): {cpu:.1f} MB/s per core by CPU time, {wall:.1f} MB/s "
        f"wall clock (one thread, best of {args.repeat})"
    )
    table, precision, recall = score_table(_score(scanner, documents))
    print("\n".join(table))
    print(f"{name}: precision {precision:.4f}, recall {recall:.4f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=16.0, help="sparse corpus size")
    parser.add_argument(
        "--dense-mb", type=float, default=4.0, help="dense corpus size (0: no dense run)"
    )
    parser.add_argument("--doc-kb", type=float, default=4.0, help="size of each document")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pii-per-kb", type=float, default=0.25, help="planted values per KB")
    parser.add_argument("--decoys-per-kb", type=float, default=0.25, help="near-misses per KB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also time other engines")
    args = parser.parse_args()

    scanner = Scanner.build()
    documents = make_corpus(
        args.mb,
        doc_kb=args.doc_kb,
        seed=args.seed,
        pii_per_kb=args.pii_per_kb,
        decoys_per_kb=args.decoys_per_kb,
    )
    _report("sparse", documents, scanner, args)
    if args.dense_mb > 0:
        dense = make_corpus(
            args.dense_mb, doc_kb=args.doc_kb, seed=args.seed, pii_per_kb=0, decoys_per_kb=0,
            dense=True,
        )  # fmt: skip
        _report("dense", dense, scanner, args)

    if args.compare:
        subset = documents[: max(1, len(documents) // 8)]
        python_re, _ = _time(_python_re_scanner().scan, subset, 1)
        print(
            f"same scanner, Python re joined pass: {python_re:.1f} MB/s by CPU time (1/8 of corpus)"
        )
        print(
            f"RE2 raw candidate pass (no confirm/validate): "
            f"{_re2_raw(scanner, documents, args.repeat):.1f} MB/s by CPU time"
        )
        raw = _hyperscan_raw(documents, args.repeat)
        if raw is None:
            print("hyperscan: not installed (pip install hyperscan) - skipped")
        else:
            print(f"hyperscan raw candidate pass (no confirm/validate): {raw:.1f} MB/s by CPU time")


if __name__ == "__main__":
    main()
