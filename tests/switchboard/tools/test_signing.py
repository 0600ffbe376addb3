"""The signature operators check: over method, URL, timestamp, identity and body; stale or altered fails."""

from __future__ import annotations

import hashlib
import hmac

from switchboard.tools.signing import sign_request, verify_signature

SECRET = b"operator-secret"
URL = "https://api.example.org/status?x=1"
IDENTITY = {"X-Switchboard-User-Id": "15551234567", "X-Switchboard-Sender": "whatsapp:+15551234567",
            "X-Switchboard-Conversation": "c1", "X-Switchboard-Message-Sid": "SM1"}
NOW = 1_760_000_000


def test_the_signature_is_hmac_sha256_over_the_documented_canonical_string() -> None:
    headers = sign_request(SECRET, "post", URL, b'{"a":1}', IDENTITY, now=NOW)

    canonical = (f"v1\nPOST\n{URL}\n{NOW}\n15551234567\nwhatsapp:+15551234567\nc1\nSM1\n").encode() + b'{"a":1}'
    assert headers["X-Switchboard-Signature"] == "v1=" + hmac.new(SECRET, canonical, hashlib.sha256).hexdigest()
    assert headers["X-Switchboard-Timestamp"] == str(NOW)
    assert {name: headers[name] for name in IDENTITY} == IDENTITY


def test_a_signed_request_verifies_whatever_the_header_names_case() -> None:
    headers = {name.lower(): value for name, value in sign_request(SECRET, "GET", URL, b"", IDENTITY, now=NOW).items()}

    assert verify_signature(SECRET, "GET", URL, headers, b"", now=NOW + 10)


def test_another_number_url_body_secret_or_an_old_timestamp_fails() -> None:
    headers = sign_request(SECRET, "GET", URL, b"", IDENTITY, now=NOW)

    assert not verify_signature(SECRET, "GET", URL, {**headers, "X-Switchboard-User-Id": "15559998888"}, b"", now=NOW)
    assert not verify_signature(SECRET, "GET", URL + "&y=2", headers, b"", now=NOW)
    assert not verify_signature(SECRET, "GET", URL, headers, b"x", now=NOW)
    assert not verify_signature(b"another", "GET", URL, headers, b"", now=NOW)
    assert not verify_signature(SECRET, "GET", URL, headers, b"", now=NOW + 301)
    assert not verify_signature(SECRET, "GET", URL, {k: v for k, v in headers.items() if "Signature" not in k}, b"",
                                now=NOW)


def test_a_notice_without_identity_signs_empty_identity_values() -> None:
    headers = sign_request(SECRET, "POST", URL, b"{}", now=NOW)

    assert set(headers) == {"X-Switchboard-Timestamp", "X-Switchboard-Signature"}
    assert verify_signature(SECRET, "POST", URL, headers, b"{}", now=NOW)
