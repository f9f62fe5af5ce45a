"""What real prompts carry (issue 16): each shape the scanner used to miss, found; each shape it
used to report wrongly, left alone. Every catch has its near miss beside it."""

from __future__ import annotations

import pytest

from inhouse.policy import BUILTIN_CLASSES, Scanner, decide, load_rules, redact


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner.build()


def found(scanner: Scanner, text: str) -> list[tuple[str, str]]:
    return [(m.data_class, m.text) for m in scanner.scan(text)]


def secrets(scanner: Scanner, text: str) -> list[str]:
    return [m.text for m in scanner.scan(text) if m.data_class == "secret"]


# --- passwords under non-English keys ------------------------------------------------------

NON_ENGLISH_PASSWORDS = [
    ("Passwort: Sommer2024!", "Sommer2024!"),  # de
    ("Kennwort = Zugang#77x", "Zugang#77x"),  # de
    ("mot de passe : Soleil#4242", "Soleil#4242"),  # fr, space before the colon
    ("MDP: Chateau2023", "Chateau2023"),  # fr abbreviation
    ("wachtwoord: Geheim123!", "Geheim123!"),  # nl
    ("contraseña: Verano2024!", "Verano2024!"),  # es
    ("CONTRASEÑA = Verano2024!", "Verano2024!"),  # es, capitals
    ("contrasena: Verano2024!", "Verano2024!"),  # es, typed without ñ
    ("senha: Praia2024#", "Praia2024#"),  # pt
    ("lösenord: Sommar2024", "Sommar2024"),  # sv
    ("hasło: Lato2024!x", "Lato2024!x"),  # pl
    ("Passwort: Otono79", "Otono79"),  # seven characters, letters and digits
    ('"wachtwoord": "Welkom 2024"', "Welkom 2024"),  # JSON, quoted with a space
]


@pytest.mark.parametrize(("text", "value"), NON_ENGLISH_PASSWORDS)
def test_passwords_under_non_english_keys_are_found(
    scanner: Scanner, text: str, value: str
) -> None:
    assert found(scanner, f"Hallo, {text} bitte") == [("secret", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("the password is hunter2024", "hunter2024"),
        ("Das Passwort ist Sommer2024!", "Sommer2024!"),
        ("le mot de passe est Soleil42.", "Soleil42"),
        ("het wachtwoord is Welkom123", "Welkom123"),
        ("la contraseña es Verano2024", "Verano2024"),
    ],
)
def test_passwords_given_in_a_sentence_are_found(scanner: Scanner, text: str, value: str) -> None:
    assert secrets(scanner, text) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "Passwort: ********",
        "mot de passe : changeme",
        "wachtwoord: <wachtwoord>",
        "contraseña: ${DB_PASSWORD}",
        "Passwort: REDACTED",
        "the password is incorrect",  # a sentence about a password, no digits
        "het wachtwoord is verlopen.",
        "le mot de passe est expiré",
        "la contraseña es incorrecta",
        "Passwort: kurz",  # too short to tell from prose
    ],
)
def test_password_keys_without_a_password_are_left_alone(scanner: Scanner, text: str) -> None:
    assert secrets(scanner, text) == []


# --- AWS secret access keys ----------------------------------------------------------------

AWS_SECRET = "Zq8w9sKd7Lm2Np4Rt6Vx8Bz1Cf3Hj5Kn7Qs9Uw0Y"


@pytest.mark.parametrize(
    "text",
    [
        "[default]\naws_access_key_id = AKIA2E0A8F3B244C9986\n"
        f"aws_secret_access_key = {AWS_SECRET}\n",
        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
        f'export AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"',
        f'{{"AccessKeyId": "ASIA2E0A8F3B244C9986", "SecretAccessKey": "{AWS_SECRET}"}}',
        f"AWS Secret Access Key [None]: {AWS_SECRET}",
    ],
)
def test_aws_secret_access_keys_in_env_and_credentials_files(scanner: Scanner, text: str) -> None:
    assert AWS_SECRET in secrets(scanner, text)


@pytest.mark.parametrize(
    "text",
    [
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS's docs
        "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}",
        "aws_secret_access_key = <your-secret-key>",
        "AWS_SECRET_ACCESS_KEY=" + "x" * 40,
    ],
)
def test_aws_secret_key_placeholders_are_not_secrets(scanner: Scanner, text: str) -> None:
    assert secrets(scanner, text) == []


# --- passwords in connection URLs and command lines ----------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DATABASE_URL=postgres://app:s3cr3t-pw@db.internal:5432/app", "s3cr3t-pw"),
        ("postgres://user:pass@host/db", "pass"),
        ("postgresql+psycopg://svc:Tr0ub4dor@10.0.0.5/x", "Tr0ub4dor"),
        ("mysql://root:hunter2@localhost:3306/shop", "hunter2"),
        ("mongodb+srv://admin:p%40ssW0rd@cluster0.ab1cd.mongodb.net/test", "p%40ssW0rd"),
        ("redis://:r3d1s-pass@cache:6379/0", "r3d1s-pass"),
        ("amqp://guest:rabbit42@mq.example.com:5672/", "rabbit42"),
        ("https://deploy:gh-Secret9@git.example.com/repo.git", "gh-Secret9"),
    ],
)
def test_passwords_in_connection_urls(scanner: Scanner, text: str, value: str) -> None:
    assert found(scanner, text) == [("secret", value)]


@pytest.mark.parametrize(
    "text",
    [
        "postgres://user:password@localhost/db",  # the docs' placeholder
        "postgres://user:****@host/db",
        "mysql://root:${MYSQL_PASSWORD}@db/shop",
        "redis://:<password>@cache:6379",
        "https://api.example.com:8443/v1",  # a port, no user info
    ],
)
def test_urls_without_a_password_report_nothing(scanner: Scanner, text: str) -> None:
    # nor an e-mail address: "password@localhost" is the URL's user info, not a mailbox
    assert found(scanner, text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("mysql -u root -p'S3cret!' shop", "S3cret!"),
        ('mysqldump -h db -u backup -p"Back up 42" shop > dump.sql', "Back up 42"),
        ("mysql -uroot -psecret shop", "secret"),
        ("in markdown: `mysql -psecret`", "secret"),
        ("mariadb --user=app -pW3lcome shop", "W3lcome"),
        ("psql-wrapper --password=hunter2 --host db", "hunter2"),
        ("docker login --password 'Dock3r!' registry", "Dock3r!"),
        ("docker login -u me --password Dock3r99 registry", "Dock3r99"),
        ("PGPASSWORD=pw1234 psql -h db -U app", "pw1234"),
        ("MYSQL_PWD='s3cr3t' mysql -u root", "s3cr3t"),
        ("DB_PASSWORD=Sup3rS3cret\nDB_HOST=db", "Sup3rS3cret"),
    ],
)
def test_passwords_on_command_lines(scanner: Scanner, text: str, value: str) -> None:
    assert secrets(scanner, text) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "mysql -u root -p shop",  # -p alone: mysql asks for it
        "mysql -u root -P3306 -h db shop",  # -P is the port
        "mkdir -p /tmp/x && mysql --version",
        "use the --password flag, or --password-stdin",
        "Options:\n  --password TEXT  the registry password",  # click's help text
        "run `mysql -p` and type it",
        "mysql --password=$MYSQL_PASSWORD shop",
        "PGPASSWORD=$(cat /run/secrets/pg) psql",
        "DB_PASSWORD=\nDB_PASSWORD=changeme",
    ],
)
def test_command_lines_without_a_password_report_nothing(scanner: Scanner, text: str) -> None:
    assert secrets(scanner, text) == []


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("llámame al 612 345 678 mañana", "612 345 678"),
        ("móvil 612 34 56 78", "612 34 56 78"),
        ("oficina 91 123 45 67", "91 123 45 67"),
        ("fijo 934-567-890", "934-567-890"),
        ("tel. 712.34.56.78", "712.34.56.78"),
        ("con prefijo +34 612 345 678", "+34 612 345 678"),
        ("con prefijo +34612345678", "+34612345678"),
        ("mi móvil: 612345678", "612345678"),  # unbroken: only after a phone word
        ("WhatsApp 698765432", "698765432"),
    ],
)
def test_spanish_numbers_without_a_trunk_zero(scanner: Scanner, text: str, value: str) -> None:
    assert found(scanner, text) == [("phone", value)]


@pytest.mark.parametrize(
    "text",
    [
        "pedido 612345678",  # nine unbroken digits with no phone word: an id
        "total 612 345 678 €",  # an amount with space thousands separators
        "coste 612 345 678 EUR",
        "disk 912 345 678 bytes",
        "612.345.678 euros",  # dots are thousands separators in Spanish
    ],
)
def test_spanish_shaped_numbers_that_are_not_phones(scanner: Scanner, text: str) -> None:
    assert [m for m in scanner.scan(text) if m.data_class == "phone"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("appelez le 06.16.10.20.58", "06.16.10.20.58"),
        ("bureau 01.42.68.53.00", "01.42.68.53.00"),
        ("depuis l'étranger 0033 1 23 45 67 89", "0033 1 23 45 67 89"),
        ("bel 0031 6 12345678", "0031 6 12345678"),
        ("ruf an 0049 30 1234567", "0049 30 1234567"),
    ],
)
def test_french_dotted_and_00_international_numbers(
    scanner: Scanner, text: str, value: str
) -> None:
    assert found(scanner, text) == [("phone", value)]


@pytest.mark.parametrize(
    "text",
    [
        "le 05.03.2024 à 12:34",  # still a date
        "order 0012345678",
        "SKU 0456-789-123",
        "Order no. 0612345678",
        "invoice #0201234567",
        "Bestellnummer: 0456 789 123",
        "commande n° 0612345678",
        "pedido 0034 612 345",
        "factuur 020 7946 0958",
        "réf. 06.16.10.20.58",
        "ref 00123456789",
    ],
)
def test_order_numbers_and_product_codes_are_not_phones(scanner: Scanner, text: str) -> None:
    assert found(scanner, text) == []


def test_a_phone_after_an_order_number_is_still_found(scanner: Scanner) -> None:
    text = "order 0012345678, call me on 020 7946 0958 or 06.16.10.20.58"
    assert found(scanner, text) == [("phone", "020 7946 0958"), ("phone", "06.16.10.20.58")]


def test_a_card_after_an_order_label_is_still_a_card(scanner: Scanner) -> None:
    assert found(scanner, "order 4111 1111 1111 1111") == [("card", "4111 1111 1111 1111")]


# --- IP addresses --------------------------------------------------------------------------


def test_ip_address_is_a_built_in_class() -> None:
    assert "ip-address" in BUILTIN_CLASSES
    assert "ip-address" in Scanner.build().data_classes


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("login from 8.8.8.8 at noon", "8.8.8.8"),
        ('203.0.114.7 - - [05/Mar/2024] "GET /"', "203.0.114.7"),
        ("curl http://93.184.216.34:8080/health", "93.184.216.34"),
        ("client=151.101.1.69;", "151.101.1.69"),
        ("host 2a00:1450:4001:81c::200e answered", "2a00:1450:4001:81c::200e"),
        ("[2606:4700:4700::1111]:53", "2606:4700:4700::1111"),
        ("addr 2001:4860:4860:0:0:0:0:8888", "2001:4860:4860:0:0:0:0:8888"),
        ("version 2.1 runs on 1.2.3.4", "1.2.3.4"),  # a version elsewhere in the line
    ],
)
def test_public_ip_addresses_are_found(scanner: Scanner, text: str, value: str) -> None:
    assert found(scanner, text) == [("ip-address", value)]


@pytest.mark.parametrize(
    "text",
    [
        # private, loopback, link-local, shared, documentation, multicast, broadcast
        "10.0.0.1 172.16.5.4 192.168.1.10 127.0.0.1 169.254.1.1 100.64.0.1 0.0.0.0",
        "192.0.2.10 198.51.100.7 203.0.113.9 224.0.0.251 255.255.255.255",
        "::1 fe80::1 fd12:3456:789a::1 2001:db8::1 ff02::1",
        # versions and other dotted numbers
        "version 1.2.3.4",
        "Version: 10.0.19045.3693",
        "build 1.2.3.4 and v4.3.2.1 and release 2.0.0.1",
        "oid 1.3.6.1.4.1.311 and 1.2.3.4.5",
        "08.08.08.08",  # leading zeros: no tool prints an address like that
        "999.1.1.1 and 1.2.3",
        "routes 8.8.8.0/24 and 2001:4860::/32",  # networks, not addresses
        # colons that are not IPv6
        "at 12:34:56, mac aa:bb:cc:dd:ee:ff, std::vector, 2024:12:31",
    ],
)
def test_not_public_ip_addresses(scanner: Scanner, text: str) -> None:
    assert [m for m in scanner.scan(text) if m.data_class == "ip-address"] == []


def test_an_ip_address_is_redacted_like_any_class(scanner: Scanner) -> None:
    rules = load_rules({"data_rules": {"default": "allow", "classes": {"ip-address": "redact"}}})
    decision = decide(scanner, rules, "tiny", "ban 8.8.8.8, keep 10.0.0.1")
    assert decision.text == "ban [REDACTED:ip-address], keep 10.0.0.1"


# --- placeholders and documentation examples -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SLACK_BOT_TOKEN=xoxb-your-bot-token",
        "xoxb-your-bot-token-goes-here",
        "key AKIAIOSFODNN7EXAMPLE",  # AWS's documentation example
        "key AKIAXXXXXXXXXXXXXXXX",
        "GITHUB_TOKEN=ghp_" + "X" * 36,
        "token ghp_" + "x" * 36,
        "STRIPE_KEY=sk_live_" + "X" * 24,
        "OPENAI_API_KEY=sk-proj-your-api-key-here-1234",
        "api_key = REDACTED_REDACTED_1234",
        "password: REDACTED",
        "password: [REDACTED:secret]",  # our own redaction, scanned again
        "token: <your-token>",
        "Authorization: Bearer <your-token-here>",
        "password = changeme",
        "password: ****",
        "client_secret = ${SECRET}",
        'api_key = "{{ vault_api_key_2024 }}"',
        "secret_key = 'example-secret-key-0123456789'",
    ],
)
def test_placeholders_are_not_secrets(scanner: Scanner, text: str) -> None:
    assert secrets(scanner, text) == []


def test_real_tokens_beside_the_placeholders_are_still_found(scanner: Scanner) -> None:
    text = (
        "SLACK_BOT_TOKEN=xoxb-123456789012-987654321098-AbCdEfGhIjKlMnOpQrStUvWx\n"
        "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"
        "aws AKIA2E0A8F3B244C9986\n"
    )
    assert secrets(scanner, text) == [
        "xoxb-123456789012-987654321098-AbCdEfGhIjKlMnOpQrStUvWx",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIA2E0A8F3B244C9986",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "SSN 123-45-6789",  # the documentation example
        "ssn: 123456789",
        "000-12-3456",
        "666-12-3456",
        "912-34-5678",
        "123-00-4567",
        "123-45-0000",
        "078-05-1120",
        "457-55-5462",
    ],
)
def test_well_known_invalid_ssns_are_not_national_ids(scanner: Scanner, text: str) -> None:
    assert [m for m in scanner.scan(text) if m.data_class == "national-id"] == []


def test_a_real_looking_ssn_is_still_found(scanner: Scanner) -> None:
    assert found(scanner, "SSN 536-22-4817") == [("national-id", "536-22-4817")]


def test_redacting_a_redacted_text_changes_nothing(scanner: Scanner) -> None:
    text = "password: Sommer2024! and mysql -psecret, url postgres://a:b9x@h/db, ip 8.8.8.8"
    once = redact(text, scanner.scan(text))
    assert scanner.scan(once) == []
    assert once == (
        "password: [REDACTED:secret] and mysql -p[REDACTED:secret], url "
        "postgres://a:[REDACTED:secret]@h/db, ip [REDACTED:ip-address]"
    )
