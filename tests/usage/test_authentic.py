"""The usage rows' MAC: HMAC-SHA256 under a key HKDF derives from the gateway's key, over one
JSON array of the row's covered columns."""

from __future__ import annotations

import hmac

import orjson

from inhouse.identity import SigningKey
from inhouse.usage.authentic import COVERED, mac_key, row_mac


def test_the_mac_is_hmac_sha256_under_a_key_of_the_gateways_own() -> None:
    gateway, other = SigningKey.generate(), SigningKey.generate()
    key = mac_key(gateway.private)
    assert len(key) == 32 and key == mac_key(gateway.private) != mac_key(other.private)
    fields = ("req_1", "2026-11-03T10:00:00+00:00", "2026-11-03", "bob", *[None] * 17)
    assert len(fields) == len(COVERED)
    expected = hmac.digest(key, orjson.dumps(fields), "sha256").hex()[:32]
    assert row_mac(key, fields) == expected
    # one column changed, or the same texts cut differently, is another MAC
    assert row_mac(key, ("req_1", "2026-11-03T10:00:00+00:00", "2026-11-03", "bo", "b",
                         *[None] * 16)) != expected  # fmt: skip
