"""Checksums and plausibility rules that turn a regex candidate into a finding.

Each function takes the matched text (as the detector's pattern matched it, separators and all)
and answers whether it is the real thing. They run only on candidates the scanner found, never
over a whole text, so they may be as careful as they like.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from itertools import filterfalse
from operator import mul

__all__ = [
    "IBAN_LENGTHS",
    "bsn_ok",
    "card_ok",
    "command_password_ok",
    "dni_ok",
    "email_ok",
    "iban_ok",
    "ip_public_ok",
    "jwt_ok",
    "looks_placeholder",
    "luhn_ok",
    "mod97_ok",
    "nino_ok",
    "password_ok",
    "phone_ok",
    "reference_number_ok",
    "secret_value_ok",
    "slack_token_ok",
    "spoken_password_ok",
    "ssn_ok",
    "token_ok",
    "url_password_ok",
]


_NOT_DIGIT = re.compile(r"[^0-9]+")


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number carries."""
    if not digits or not digits.isdigit() or not digits.isascii():
        return False
    reverse = digits[::-1]
    total = sum(map(int, reverse[::2])) + sum(map(_LUHN_DOUBLED.__getitem__, reverse[1::2]))
    return total % 10 == 0


#: a digit doubled, its digits summed (the Luhn step for every second digit from the right)
_LUHN_DOUBLED = {str(d): (2 * d if d < 5 else 2 * d - 9) for d in range(10)}


# (prefix range low, high, allowed lengths) by the card schemes' published IIN ranges
_CARD_RANGES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),  # Mastercard 2-series
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),
    (300, 305, (14, 16, 19)),  # Diners Club
    (36, 36, (14, 16, 19)),
    (38, 39, (14, 16, 19)),
    (6011, 6011, (16, 19)),  # Discover
    (644, 649, (16, 19)),
    (65, 65, (16, 19)),
    (3528, 3589, (16, 19)),  # JCB
    (62, 62, (16, 17, 18, 19)),  # UnionPay
    (50, 50, (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
    (56, 58, (12, 13, 14, 15, 16, 17, 18, 19)),
    (63, 63, (12, 13, 14, 15, 16, 17, 18, 19)),
    (67, 67, (12, 13, 14, 15, 16, 17, 18, 19)),
)


#: the same, with the width of each prefix (worked out once: this runs per candidate)
_CARD_PREFIXES = tuple((len(str(low)), low, high, lengths) for low, high, lengths in _CARD_RANGES)


def _card_scheme_ok(digits: str) -> bool:
    size = len(digits)
    for width, low, high, lengths in _CARD_PREFIXES:
        if size in lengths and low <= int(digits[:width]) <= high:
            return True
    return False


def card_ok(text: str) -> bool:
    """A card number: a known scheme's prefix and length, the Luhn check, and if written in
    groups, one kind of separator and the groupings cards are printed with."""
    digits = _digits(text)
    if not 13 <= len(digits) <= 19 or not _card_scheme_ok(digits) or not luhn_ok(digits):
        return False
    separators = set(filterfalse(str.isdigit, text))
    if not separators:
        return True
    if len(separators) > 1:
        return False
    groups = [len(g) for g in text.split(separators.pop())]
    if groups in ([4, 6, 5], [4, 6, 4]):  # Amex, Diners
        return True
    return all(size == 4 for size in groups[:-1]) and 1 <= groups[-1] <= 4 + 3


# IBAN length by country (ISO 13616 registry)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def mod97_ok(iban: str) -> bool:
    """ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10..35); must leave 1."""
    rearranged = iban[4:] + iban[:4]
    if not rearranged.isascii() or not rearranged.isalnum():
        return False
    return int(rearranged.upper().translate(_IBAN_DIGITS)) % 97 == 1


#: a letter as the IBAN check counts it: A=10 … Z=35
_IBAN_DIGITS = str.maketrans({chr(65 + n): str(10 + n) for n in range(26)})


def iban_ok(text: str) -> bool:
    """An IBAN, with or without spaces: a registered country, its exact length, mod-97."""
    compact = text.replace(" ", "").upper()
    country = compact[:2]
    if IBAN_LENGTHS.get(country) != len(compact) or not compact[2:4].isdigit():
        return False
    return mod97_ok(compact)


def ssn_ok(text: str) -> bool:
    """A US Social Security number in an issuable range: area not 000, 666 or 900-999, group
    not 00, serial not 0000, and not one of the numbers famously printed in ads."""
    digits = _digits(text)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in _SSN_PUBLISHED


#: numbers printed everywhere as examples or in ads, never anyone's: the documentation
#: example 123-45-6789, the Woolworth wallet card, the 1940s Social Security pamphlet, the
#: LifeLock advertisement
_SSN_PUBLISHED = frozenset({"123456789", "078051120", "219099999", "457555462"})


_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def nino_ok(text: str) -> bool:
    """A UK National Insurance number: letters D, F, I, Q, U, V never used, O not second,
    the administrative prefixes (BG, GB, NK, KN, TN, NT, ZZ) never issued, suffix A-D."""
    compact = text.replace(" ", "").upper()
    if len(compact) != 9 or not compact[2:8].isdigit():
        return False
    first, second, suffix = compact[0], compact[1], compact[8]
    if first in "DFIQUV" or second in "DFIQUVO" or suffix not in "ABCD":
        return False
    return compact[:2] not in _NINO_BAD_PREFIXES


def bsn_ok(text: str) -> bool:
    """A Dutch citizen service number (BSN): nine digits passing the '11-proof'
    (9·d1 + 8·d2 + … + 2·d8 - 1·d9 divisible by 11), and not all zeros."""
    digits = _digits(text)
    if len(digits) == 8:
        digits = "0" + digits  # old numbers are sometimes written without the leading zero
    if len(digits) != 9 or int(digits) == 0:
        return False
    total: int = sum(map(mul, map(int, digits[:8]), range(9, 1, -1)))
    return (total - int(digits[8])) % 11 == 0


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(text: str) -> bool:
    """A Spanish DNI (8 digits + check letter) or NIE (X/Y/Z + 7 digits + check letter): the
    letter is the number mod 23 looked up in the official table."""
    compact = text.replace("-", "").replace(" ", "").upper()
    if len(compact) != 9:
        return False
    head = compact[:8]
    if head[0] in "XYZ":
        head = str("XYZ".index(head[0])) + head[1:]
    if not head.isdigit():
        return False
    return _DNI_LETTERS[int(head) % 23] == compact[8]


_EMAIL_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}")


def email_ok(text: str) -> bool:
    """An address a mail server would accept: local part ≤ 64 without '..', a real-looking
    domain (labels ≤ 63, no leading/trailing hyphen, alphabetic top-level domain)."""
    local, _, domain = text.rpartition("@")
    if not local or len(local) > 64 or ".." in local or local.endswith("."):
        return False
    return len(domain) <= 253 and _EMAIL_DOMAIN.fullmatch(domain) is not None


_COUNTRY_CODE = re.compile(r"^(?:\+\d{1,3}|00[1-9]\d{0,2}(?=[ .-])|1(?=[ .-]))[ .-]?")
_AREA_CODE = re.compile(r"^[^()]*\([0-9 ]+\)[ .-]?")

# a date: three groups, and no fourth group after them (06.16.10.20.58 is a French number)
_DATE_LIKE = re.compile(r"\(?\d{1,4}[./-]\d{1,2}[./-]\d{2,4}(?![./-]?\d)")


def phone_ok(text: str) -> bool:
    """A telephone number: 8-15 digits (E.164 allows 15), not a date, and after the country
    code or area code in parentheses one kind of separator only."""
    digits = _digits(text)
    if text.startswith("+"):
        if not 8 <= len(digits) <= 15:
            return False
    elif text.startswith("00") and text[2:3] != "0":  # 00 + country code, as dialled in Europe
        # written in groups: an unbroken 00… run is far more often a zero-padded id
        if not 10 <= len(digits) <= 17 or text.isdigit():
            return False
    elif not 9 <= len(digits) <= 12:
        return False
    if _DATE_LIKE.match(text.lstrip("+")):
        return False
    # drop the country code / bracketed area code and the separator after it
    rest = _COUNTRY_CODE.sub("", text, count=1) if text[:1] in "+01" else text
    if "(" in rest:
        rest = _AREA_CODE.sub("", rest, count=1)
    return len(_PHONE_SEPARATORS.intersection(rest)) <= 1 and "(" not in rest and ")" not in rest


_PHONE_SEPARATORS = frozenset(" .-/")


_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|<.*>|\{.*\}|\$.*|%.*|none|null|nil|true|false|undefined|"
    r"changeme|password|secret|example.*|your[_-].*|.*(?:environ|getenv|env\[|config\.).*|"
    r"[A-Za-z_][\w.]*\(.*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)$"  # a call or an attribute
)


#: words and marks that make a value an example, not a secret, wherever they stand in it:
#: ``AKIAIOSFODNN7EXAMPLE``, ``xoxb-your-bot-token``, ``ghp_XXXX…``, ``REDACTED`` (also our own
#: ``[REDACTED:secret]``), ``<your-token>``, ``changeme``, ``****``, ``${SECRET}``, ``{{ token }}``
_PLACEHOLDER_MARKS = re.compile(
    r"(?i)example|placeholder|redacted|change[_\-]?me|dummy|^your|your[_\-]"
    r"|x{4,}|\*{3,}|\.{3}|\u2026|<[^>]*>|\$\{|\{\{|\$\(|%\("
)


#: the first characters a match of :data:`_PLACEHOLDER` can have, but for its lookup and
#: call/attribute branches (checked apart)
_PLACEHOLDER_FIRST = frozenset("xX*.<{$%nNtTfFuUcCpPsSeEyY")


def _mark_ascii(value: str, low: str) -> bool:
    """:data:`_PLACEHOLDER_MARKS` for an ASCII ``value`` (``low``: lower-cased): the marks are
    substrings, looked for without a regex (this runs on every candidate secret)."""
    return (
        "example" in low or "placeholder" in low or "redacted" in low or "dummy" in low
        or ("change" in low and ("changeme" in low or "change_me" in low or "change-me" in low))
        or ("your" in low and (low.startswith("your") or "your_" in low or "your-" in low))
        or "xxxx" in low or "***" in value or "..." in value or "${" in value or "{{" in value
        or "$(" in value or "%(" in value
        or ("<" in value and value.find(">", value.find("<")) >= 0)
    )  # fmt: skip


def _placeholder_ascii(value: str) -> bool:
    """:func:`looks_placeholder` for an ASCII ``value``, the same answer with fewer regex runs:
    :data:`_PLACEHOLDER` runs only where one of its branches can match
    (``tests/policy/test_validators.py`` compares the two on generated values)."""
    low = value.lower()
    if _mark_ascii(value, low):
        return True
    if not value:
        return False
    first = value[0]
    possible = (
        first in _PLACEHOLDER_FIRST
        or "env" in low or "config." in low  # environ, getenv, env[
        or ((first.isalpha() or first == "_") and ("(" in value or "." in value))
    )  # fmt: skip
    return possible and _PLACEHOLDER.match(value) is not None


def _has_mark(value: str) -> bool:
    """Whether ``value`` carries one of :data:`_PLACEHOLDER_MARKS`."""
    if value.isascii():
        return _mark_ascii(value, value.lower())
    return _PLACEHOLDER_MARKS.search(value) is not None


def looks_placeholder(text: str) -> bool:
    """A value that stands in for a secret (see :data:`_PLACEHOLDER_MARKS`) or a lookup."""
    value = text.strip("\"'")
    if value.isascii():
        return _placeholder_ascii(value)
    return bool(_PLACEHOLDER.match(value) or _PLACEHOLDER_MARKS.search(value))


def token_ok(text: str) -> bool:
    """A vendor token (``AKIA…``, ``ghp_…``, ``xoxb-…``, ``sk_live_…``): no placeholder mark
    and random enough: at least a third of its length (up to 10) distinct characters, so
    ``AKIAXXXXXXXXXXXXXXXX`` or ``ghp_000…`` is an example, not a key."""
    if _has_mark(text):
        return False
    return len(set(text)) >= min(10, len(text) // 3)


def slack_token_ok(text: str) -> bool:
    """A Slack token or webhook: a real one carries numeric ids (``xoxb-123…-456…-…``)."""
    return token_ok(text) and any(map(str.isdigit, text))


def secret_value_ok(text: str) -> bool:
    """A value assigned to ``api_key``/``token``/…: long, mixed letters and digits, not a
    placeholder or a lookup (``os.environ[...]``, ``${VAR}``)."""
    value = text.strip("\"'")
    if len(value) < 16 or looks_placeholder(value):
        return False
    has_digit = any(map(str.isdigit, value))
    has_alpha = any(map(str.isalpha, value))
    return has_digit and has_alpha and len(set(value)) >= 6


def password_ok(text: str) -> bool:
    """A literal password: at least 8 characters (6 with letters and digits: ``Otono79``), not
    a placeholder, not one repeated char."""
    value = text.strip("\"'")
    if len(value) < 8 and not (
        len(value) >= 6 and any(map(str.isdigit, value)) and any(map(str.isalpha, value))
    ):
        return False
    return not looks_placeholder(value) and len(set(value)) > 2


_TRAILING_PUNCTUATION = ".,;:!?)"


def spoken_password_ok(text: str) -> bool:
    """A password given in a sentence (``the password is Welkom123``): besides
    :func:`password_ok`, letters *and* digits, so ``the password is incorrect`` is not one."""
    value = text.rstrip(_TRAILING_PUNCTUATION)
    return password_ok(value) and any(map(str.isdigit, value)) and any(map(str.isalpha, value))


#: what a connection URL or a command line carries where no password was written
_NO_PASSWORD = re.compile(
    r"(?i)^(?:x+|\*+|\.+|\?+|<.*>|\{.*\}|\[.*\]|\$.*|%.*|`.*|-.*|password|passwd|pwd"
    r"|pass(?:word)?_?here|none|null|nil|redacted)$"
)


def url_password_ok(text: str) -> bool:
    """The password part of ``scheme://user:password@host``: any non-empty value (short ones
    too: ``postgres://app:pass@db`` is a working credential) unless it is a placeholder
    (``:password@``, ``:****@``, ``:${DB_PASSWORD}@``, ``:<password>@``)."""
    value = text.strip("\"'")
    return bool(value) and not _NO_PASSWORD.match(value) and not _has_mark(value)


def command_password_ok(text: str) -> bool:
    """A password on a command line or in an environment variable (``mysql -p'…'``,
    ``--password=…``, ``PGPASSWORD=…``): at least 3 characters, not a placeholder, not a
    variable (``$PW``, ``$(cat …)``), not the next option (``-h``)."""
    value = text.strip("\"'")
    return len(value) >= 3 and url_password_ok(value)


def reference_number_ok(text: str) -> bool:
    """The number after *order*, *SKU*, *invoice*… is an order number, not a phone number,
    unless it is a payment card (a card number is never let through as a reference)."""
    return not card_ok(text)


#: IPv4 ranges that are not globally reachable (IANA special-purpose registry), as
#: (network, mask) integers: checked without building ipaddress objects (this runs per candidate)
_IPV4_NOT_GLOBAL: tuple[tuple[int, int], ...] = tuple(
    (int(net.network_address), int(net.netmask))
    for net in map(
        ipaddress.IPv4Network,
        [
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
            "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
            "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
            "224.0.0.0/4", "240.0.0.0/4",
        ],
    )
)  # fmt: skip


def _ipv4_public(text: str) -> bool:
    parts = text.split(".")
    if len(parts) != 4:
        return False
    number = 0
    for part in parts:
        if not part.isdigit() or len(part) > 3 or (part[0] == "0" and part != "0"):
            return False
        octet = int(part)
        if octet > 255:
            return False
        number = number << 8 | octet
    return not any(number & mask == net for net, mask in _IPV4_NOT_GLOBAL)


def ip_public_ok(text: str) -> bool:
    """A public (globally routable) IPv4 or IPv6 address. Not reported: private (10/8,
    172.16/12, 192.168/16, fc00::/7), loopback, link-local, shared (100.64/10), multicast,
    reserved, unspecified and the documentation ranges (192.0.2/24, 198.51.100/24,
    203.0.113/24, 2001:db8::/32): they identify no one outside a network, and every log and
    config file is full of them. IPv4 octets with leading zeros are refused (not an address
    any tool prints)."""
    if ":" not in text:
        return _ipv4_public(text)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if address.version == 6 and not 0x2000 <= int(address) >> 112 <= 0x3FFF:
        return False  # global unicast is 2000::/3
    return address.is_global and not address.is_multicast


def _b64json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def jwt_ok(text: str) -> bool:
    """A JSON Web Token: three base64url parts whose header decodes to JSON naming ``alg``."""
    parts = text.split(".")
    if len(parts) != 3:
        return False
    try:
        header = _b64json(parts[0])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header
