"""Each built-in detector: what it must find, and the near misses it must leave alone."""

from __future__ import annotations

import pytest

from inhouse.policy import Scanner


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner.build()


def found(scanner: Scanner, text: str) -> list[tuple[str, str]]:
    return [(m.data_class, m.text) for m in scanner.scan(text)]


FINDS = [
    # e-mail
    ("write to anna.jansen@example.com today", "email", "anna.jansen@example.com"),
    ("cc: bram+ci@mail.corp.example.org.", "email", "bram+ci@mail.corp.example.org"),
    ("(jörg@example.de)", "email", "jörg@example.de"),
    # phone: international and national formats
    ("call +44 20 7946 0958 now", "phone", "+44 20 7946 0958"),
    ("call +1 (555) 123-4567 now", "phone", "+1 (555) 123-4567"),
    ("mobiel +31612345678", "phone", "+31612345678"),
    ("bel 06-12345678 of", "phone", "06-12345678"),
    ("bel 0612345678 of", "phone", "0612345678"),
    ("office 020 7946 0958.", "phone", "020 7946 0958"),
    ("tel (020) 7946 0958", "phone", "(020) 7946 0958"),
    ("us 555-123-4567 ok", "phone", "555-123-4567"),
    ("us (555) 123-4567 ok", "phone", "(555) 123-4567"),
    ("from abroad 0044 20 7946 0958", "phone", "0044 20 7946 0958"),
    ("fr +33 1 23 45 67 89", "phone", "+33 1 23 45 67 89"),
    # cards (Luhn-valid test numbers of the schemes)
    ("visa 4111 1111 1111 1111 exp", "card", "4111 1111 1111 1111"),
    ("mc 5555-5555-5555-4444", "card", "5555-5555-5555-4444"),
    ("amex 3782 822463 10005", "card", "3782 822463 10005"),
    ("plain 6011111111111117.", "card", "6011111111111117"),
    # IBAN, with and without spaces
    ("to NL91 ABNA 0417 1643 00 please", "iban", "NL91 ABNA 0417 1643 00"),
    ("to NL91ABNA0417164300 please", "iban", "NL91ABNA0417164300"),
    ("DE89 3704 0044 0532 0130 00", "iban", "DE89 3704 0044 0532 0130 00"),
    ("GB82WEST12345698765432", "iban", "GB82WEST12345698765432"),
    # national ids
    ("ssn 536-22-4817.", "national-id", "536-22-4817"),
    ("SSN: 536224817", "national-id", "536224817"),
    ("NINO AB 12 34 56 C", "national-id", "AB 12 34 56 C"),
    ("nino QQ123456C", "national-id", None),  # QQ is a specimen prefix: Q never first
    ("NINO JG103759A", "national-id", "JG103759A"),
    ("BSN 1112.22.333", "national-id", "1112.22.333"),
    ("burgerservicenummer: 111222333", "national-id", "111222333"),
    ("DNI 12345678Z", "national-id", "12345678Z"),
    ("NIE X1234567L", "national-id", "X1234567L"),
    # secrets
    (
        "OPENAI_API_KEY=sk-proj-abc123DEF456ghi789JKL012",
        "secret",
        "sk-proj-abc123DEF456ghi789JKL012",
    ),
    (
        "key sk-ant-api03-AbCdEf0123456789_ghijKLMNOP-qrstuv",
        "secret",
        "sk-ant-api03-AbCdEf0123456789_ghijKLMNOP-qrstuv",
    ),
    ("aws AKIA2E0A8F3B244C9986 here", "secret", "AKIA2E0A8F3B244C9986"),
    (
        "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 x",
        "secret",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    ("slack xoxb-123456789012-abcdefghijkl", "secret", "xoxb-123456789012-abcdefghijkl"),
    (
        "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        "secret",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ('api_key = "a1b2c3d4e5f6g7h8i9j0"', "secret", "a1b2c3d4e5f6g7h8i9j0"),
    ("STRIPE_SECRET_KEY: Zx81Kq0Lm2Nn3Oo4Pp5", "secret", "Zx81Kq0Lm2Nn3Oo4Pp5"),
    ("Authorization: Bearer abcDEF123456ghiJKL789", "secret", "abcDEF123456ghiJKL789"),
    ("password: hunter2222", "secret", "hunter2222"),
    ('db_password = "correct horse battery"', "secret", "correct horse battery"),
]


@pytest.mark.parametrize(("text", "data_class", "value"), FINDS)
def test_finds_the_value(scanner: Scanner, text: str, data_class: str, value: str | None) -> None:
    if value is None:
        assert not scanner.scan(text)
    else:
        assert found(scanner, text) == [(data_class, value)]


def test_pem_private_key_block_is_found_whole(scanner: Scanner) -> None:
    block = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
        "QyNTUxOQAAACBuLoT2M0sjj7vZmHXqgQ6aLcg3aAeH3BCcCs3Xpm6bVwAAAJgmqk0MJqpN\n"
        "-----END OPENSSH PRIVATE KEY-----"
    )
    assert found(scanner, f"here:\n{block}\nthanks") == [("secret", block)]
    truncated = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n"
    [(data_class, text)] = found(scanner, truncated + "that was all")
    assert data_class == "secret" and "MIIBOgIBAAJBAKj34" in text


NEAR_MISSES = [
    # cards failing Luhn, unknown schemes, long plain numbers, mixed separators
    "card 4111 1111 1111 1112 declined",
    "card 5555-5555-5555-4445",
    "order 1234567890123456",  # no card scheme starts with 1
    "id 41111111111111111111111",  # too long
    "ref 4111 1111-1111 1111",  # mixed separators
    "epoch 1709642096123 ms",
    # IBANs failing mod-97, wrong length, unknown country
    "NL91 ABNA 0417 1643 01",
    "NL91ABNA041716430",
    "QQ91ABNA0417164300",
    # SSNs in ranges never issued
    "000-12-3456",
    "666-12-3456",
    "912-12-3456",
    "123-00-4567",
    "123-45-0000",
    "123456789",  # nine digits with no label are not called an SSN
    # NINO with prefixes never issued / bad suffix
    "GB 12 34 56 A",
    "AB 12 34 56 E",
    # BSN failing the 11-proof, DNI with the wrong letter
    "1112.22.334",
    "bsn 111222334",
    "12345678A",
    # phones: dates, versions, IPs, times, short numbers
    "on 2024-03-05 at 12:34:56",
    "on 05.03.2024 12:34",
    "version 1.2.3 and 10.0.0.1 and 192.168.100.200",
    "uuid 550e8400-e29b-41d4-a716-446655440000",
    "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "count = 0123 items, 12 345 678",
    "price +3.5% today",
    # secrets: placeholders and lookups are not secrets
    'api_key = os.environ["OPENAI_API_KEY"]',
    "token = None",
    "password: ********",
    "password = get_password()",
    'secret_key = "${SECRET_KEY}"',
    "token: <your-token-here-please>",
    "sk-thisisnotarealkeyatall",  # no digits: not key-shaped
    "max_tokens=4096",
    # e-mail-ish that is not an address
    "user@localhost and a@b and @mention",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_leaves_near_misses_alone(scanner: Scanner, text: str) -> None:
    assert found(scanner, text) == []


def test_a_number_inside_a_rejected_longer_number_is_not_found(scanner: Scanner) -> None:
    # an IBAN failing mod-97 must not turn into a card or a phone number by its tail
    assert found(scanner, "FR02 3577 1835 1878 0136 5291 127") == []
    assert found(scanner, "id 5512 0391 8232 4071 ok") == []
