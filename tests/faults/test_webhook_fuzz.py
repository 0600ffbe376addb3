"""Random webhook requests (forms, signatures, content types, raw bodies): never a 500, never a stray hand-over."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder, encode_multipart
from werkzeug.wrappers import Request

from localdev.redis_keys import delete_keys_with_prefix
from localdev.redis_server import redis_url_for_tests
from switchboard.settings import Settings, get_settings, load_settings
from webapp import MAX_REQUEST_BYTES, create_app

REDIS_URL = redis_url_for_tests()
ACCOUNT_SID = "AC" + uuid.uuid4().hex
AUTH_TOKEN = uuid.uuid4().hex
PATH = "/twilio/messages"
URL = "http://localhost" + PATH  # what Flask's test client requests, so what Twilio would have signed

FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class RecordingHandOver:
    """Takes the place of publishing: counts hand-overs per MessageSid and says it queued them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, message_sid: str, conversation: str) -> bool:
        self.calls[message_sid] += 1
        return True


@dataclass
class Webhook:
    app: Flask
    client: FlaskClient
    hand_over: RecordingHandOver


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    prefix = f"sbfuzz-{uuid.uuid4().hex[:8]}:"
    with pytest.MonkeyPatch.context() as patch:
        for name in Settings.model_fields:  # the shell's environment must not change what the app sees
            patch.delenv(name.upper(), raising=False)
        get_settings.cache_clear()
        app_settings = load_settings(
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, openai_api_key="sk-test",
            redis_url=REDIS_URL, redis_key_prefix=prefix,
            # Never dialled (HAND_OVER replaces publishing); a closed port if anything tried.
            sqs_endpoint_url="http://127.0.0.1:1", aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        hand_over = RecordingHandOver()
        app = create_app(test_config={"SETTINGS": app_settings, "HAND_OVER": hand_over, "TESTING": True})
        try:
            yield Webhook(app, app.test_client(), hand_over)
        finally:
            delete_keys_with_prefix(REDIS_URL, prefix)
            get_settings.cache_clear()


# --- what requests look like ---------------------------------------------------------------------

# Printable, unicode, control characters (NUL included) and the odd whitespace str.strip() knows.
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
control_text = st.text(alphabet=st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\xa0\u2028\ufeff "),
                       max_size=10)
long_text = st.builds(lambda ch, n: ch * n, st.characters(codec="utf-8"), st.integers(1_000, 30_000))
value = st.one_of(any_text, control_text, long_text, st.sampled_from(["", " ", "0", "-1", "1e3", "٣", "9" * 5000]))
field_name = st.one_of(
    st.sampled_from(["MessageSid", "AccountSid", "From", "To", "Body", "NumMedia", "WaId", "ExternalUserId"]),
    any_text,
)


@st.composite
def message_sids(draw: st.DrawFn) -> str:
    """A new sid in Twilio's shape (SM or MM), or one bent as a forger or a broken proxy would bend it."""
    sid = draw(st.sampled_from(["SM", "MM"])) + uuid.uuid4().hex
    kind = draw(st.sampled_from(["twilio's"] * 4 + ["suffixed", "spaced", "over 128 chars", "shifted field"]))
    event(f"MessageSid {kind}")
    if kind == "suffixed":
        return sid + draw(st.sampled_from([" ", "\t", "\n"]) | any_text)
    if kind == "spaced":  # a space anywhere makes a deduplication id SQS refuses
        at = draw(st.integers(0, len(sid)))
        return sid[:at] + draw(st.sampled_from([" ", "  ", "\xa0", "+"])) + sid[at:]
    if kind == "over 128 chars":  # SQS's limit for a deduplication id
        return sid + draw(st.text(alphabet="0123456789abcdef", min_size=128 - len(sid) + 1, max_size=400))
    if kind == "shifted field":  # the next field's name and value moved into the sid
        return sid + "NumMedia" + draw(st.sampled_from(["0", "1", "10"]))
    return sid


@st.composite
def twilio_like_forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A form that is mostly Twilio's (a new MessageSid, a sender) with any field changed, dropped or repeated."""
    user = draw(st.sampled_from(["whatsapp:+15551234567", "+447700900123"])
                | st.sampled_from(["", " ", "\x00"]) | any_text)
    fields: list[tuple[str, str]] = [
        ("MessageSid", draw(message_sids())),
        ("AccountSid", draw(st.just(ACCOUNT_SID) | st.sampled_from(["", "AC" + "0" * 32, ACCOUNT_SID + " ",
                                                                  ACCOUNT_SID.upper(), ACCOUNT_SID + "Body"]) | any_text)),
        ("From", user), ("To", "whatsapp:+14155238886"), ("Body", draw(value)),
        ("NumMedia", draw(st.sampled_from(["0", "1"]) | value)),
        ("MediaUrl0", draw(st.just(MEDIA_URL) | value)), ("MediaContentType0", "image/jpeg"),
    ]
    dropped = draw(st.sets(st.sampled_from(["MessageSid", "AccountSid", "From", "To", "NumMedia", "MediaUrl0"]),
                           max_size=2))
    fields = [(k, v) for k, v in fields if k not in dropped]
    fields += draw(st.lists(st.tuples(field_name, value), max_size=4))  # extra and repeated fields
    return draw(st.permutations(fields))


@dataclass(frozen=True)
class Body:
    data: bytes
    content_type: str


def form_body(fields: list[tuple[str, str]], encoding: str) -> Body:
    if encoding == "multipart":
        boundary, data = encode_multipart(MultiDict(fields))
        return Body(data, f"multipart/form-data; boundary={boundary}")
    return Body(urlencode(fields).encode(), "application/x-www-form-urlencoded")


content_types = st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data", "multipart/form-data; boundary=x", "application/json", "text/plain",
    "application/octet-stream", "text/xml", "", "garbage/;;;", "application/x-www-form-urlencoded; boundary=\x7f",
])
raw_bodies = st.one_of(
    st.binary(max_size=2_000),
    st.text(alphabet="=&%+;ab\x00\xff", max_size=300).map(lambda text: text.encode("utf-8")),
    st.binary(max_size=200).map(lambda junk: b"MessageSid=SM" + junk + b"&From=%2B1555&Body=%FF%FE%ZZ"),
)
multipart_parts = st.lists(
    st.tuples(st.sampled_from(['form-data; name="Body"', 'form-data; name="From"', 'form-data; name="MessageSid"',
                               "form-data", 'form-data; name="\r"', 'form-data; filename="x"', "attachment", ""]),
              st.binary(max_size=40)),
    max_size=5,
)
crafted_multipart = multipart_parts.map(lambda parts: Body(
    b"".join(b"--b\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n" + content + b"\r\n"
             for disposition, content in parts) + b"--b--\r\n",
    "multipart/form-data; boundary=b",
))
bad_signatures = st.one_of(
    st.none(),
    st.just(""),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
    st.just("signed-for-another-url"),
    st.just("signed-with-another-token"),
    st.just("signed-before-tampering"),
)


# --- the model the app must match ------------------------------------------------------------------


def parsed_form(body: Body) -> MultiDict[str, str]:
    """The form exactly as the app will parse it (what a sender signing our parse would have signed)."""
    environ = EnvironBuilder(path=PATH, method="POST", data=body.data, content_type=body.content_type).get_environ()
    return Request(environ).form


def sign(form: MultiDict[str, str], url: str = URL, token: str = AUTH_TOKEN) -> str:
    # A multipart part without a name parses to the key None, which no signature can cover.
    named = MultiDict([(key, item) for key, item in form.items(multi=True) if key is not None])
    return RequestValidator(token).compute_signature(url, named)


TWILIO_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")  # Twilio's shapes, as its API documents them
TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")


def expected_status(form: MultiDict[str, str]) -> int:
    """What a correctly signed, small enough request must get, judged from the form alone."""
    if None in form:
        return 403  # a nameless multipart part: not something Twilio sends or signs
    if not form.get("From", "").strip():
        return 400
    if not TWILIO_MESSAGE_SID.fullmatch(form.get("MessageSid", "")):
        return 400
    if not TWILIO_ACCOUNT_SID.fullmatch(form.get("AccountSid", "")):
        return 400  # required, and in Twilio's shape
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        return 400
    if not 0 <= num_media <= 10:
        return 400  # Twilio sends at most 10 media items
    for i in range(num_media):  # each item Twilio counts comes with its URL
        url = form.get(f"MediaUrl{i}", "").strip()
        if not url.startswith(("https://", "http://")) or len(url) > 2048:
            return 400
    if form["AccountSid"] != ACCOUNT_SID:
        return 403
    return 200


def post(webhook: Webhook, body: Body, signature: str | None) -> int:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = webhook.client.post(PATH, data=body.data, content_type=body.content_type, headers=headers)
    return response.status_code


# --- the properties --------------------------------------------------------------------------------


@FUZZ
@given(fields=twilio_like_forms(), encoding=st.sampled_from(["urlencoded", "multipart"]))
def test_a_signed_form_of_any_shape_gets_the_status_it_deserves_and_one_hand_over_per_new_sid(
    webhook: Webhook, fields: list[tuple[str, str]], encoding: str
) -> None:
    body = form_body(fields, encoding)
    form = parsed_form(body)
    sid = form.get("MessageSid", "").strip()
    handed_over_before = webhook.hand_over.calls[sid]

    status = post(webhook, body, sign(form))

    event(f"status {status}")  # --hypothesis-show-statistics shows every outcome is exercised
    if len(body.data) > MAX_REQUEST_BYTES:
        assert status == 413
    else:
        assert status == expected_status(form)
    if status != 200:
        assert webhook.hand_over.calls[sid] == handed_over_before
        return
    assert webhook.hand_over.calls[sid] == 1
    # Twilio's retry of the same webhook: acknowledged, never handed over again.
    assert post(webhook, body, sign(form)) == 200
    assert webhook.hand_over.calls[sid] == 1


SIGNED_FIELDS = ("AccountSid", "Body", "From", "MessageSid", "NumMedia", "To")  # sorted, as the signature joins them
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


@FUZZ
@given(
    shifted=st.sampled_from(SIGNED_FIELDS[:-1]),
    body=any_text,
    num_media=st.sampled_from(["0", "1", "3"]),
    encoding=st.sampled_from(["urlencoded", "multipart"]),
)
def test_a_captured_request_replayed_with_a_field_shifted_into_its_neighbour_is_refused(
    webhook: Webhook, shifted: str, body: str, num_media: str, encoding: str
) -> None:
    """Twilio's signature joins names and values with no separator: `MessageSid=<sid>NumMedia0` without
    NumMedia signs exactly like the original. Such a replay must never become a new message."""
    sid = "SM" + uuid.uuid4().hex
    media = [(f"MediaUrl{i}", f"{MEDIA_URL}{i}") for i in range(int(num_media))]
    original = [("MessageSid", sid), ("AccountSid", ACCOUNT_SID), ("From", "whatsapp:+15551234567"),
                ("To", "whatsapp:+14155238886"), ("Body", body), ("NumMedia", num_media), *media]
    captured = form_body(original, encoding)
    signature = sign(parsed_form(captured))
    assert post(webhook, captured, signature) == 200
    names = sorted(name for name, _ in original)  # the order the signature joins them in
    neighbour = names[names.index(shifted) + 1]
    values = dict(original)
    replay = form_body([(name, value + neighbour + values[neighbour] if name == shifted else value)
                        for name, value in original if name != neighbour], encoding)
    assert RequestValidator(AUTH_TOKEN).validate(URL, parsed_form(replay), signature)  # still validly signed
    calls_before = sum(webhook.hand_over.calls.values())

    assert post(webhook, replay, signature) == 400
    assert sum(webhook.hand_over.calls.values()) == calls_before
    assert webhook.hand_over.calls[sid] == 1


@FUZZ
@given(fields=twilio_like_forms(), encoding=st.sampled_from(["urlencoded", "multipart"]), signature=bad_signatures)
def test_a_request_without_a_valid_signature_is_refused_and_never_handed_over(
    webhook: Webhook, fields: list[tuple[str, str]], encoding: str, signature: str | None
) -> None:
    body = form_body(fields, encoding)
    form = parsed_form(body)
    if signature == "signed-for-another-url":
        signature = sign(form, url="https://attacker.example/twilio/messages")
    elif signature == "signed-with-another-token":
        signature = sign(form, token="not-our-token")
    elif signature == "signed-before-tampering":
        signature = sign(form)
        body = form_body([*fields, ("Body", "tampered")], encoding)
    calls_before = sum(webhook.hand_over.calls.values())

    status = post(webhook, body, signature)

    assert status == (413 if len(body.data) > MAX_REQUEST_BYTES else 403)
    assert sum(webhook.hand_over.calls.values()) == calls_before


@FUZZ
@given(body=st.builds(Body, raw_bodies, content_types) | crafted_multipart, signed=st.booleans())
@example(body=Body(b'--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n', "multipart/form-data; boundary=b"),
         signed=False)
def test_a_raw_body_of_any_content_type_never_causes_a_server_error(webhook: Webhook, body: Body, signed: bool) -> None:
    form = parsed_form(body)
    sid = form.get("MessageSid", "").strip()
    sid_seen_before = webhook.hand_over.calls[sid] > 0  # random bodies repeat short sids: Twilio retries
    calls_before = sum(webhook.hand_over.calls.values())

    status = post(webhook, body, sign(form) if signed else None)

    assert status == (expected_status(form) if signed else 403)
    handed_over = sum(webhook.hand_over.calls.values()) - calls_before
    assert handed_over == (1 if status == 200 and not sid_seen_before else 0)
    assert status != 200 or webhook.hand_over.calls[sid] == 1


@settings(max_examples=30, deadline=None, database=None)
@given(
    size=st.integers(MAX_REQUEST_BYTES + 1, 4 * MAX_REQUEST_BYTES),
    content_type=content_types,
    signed=st.booleans(),
)
def test_a_body_over_64_kib_is_refused_with_413_before_anything_else(
    webhook: Webhook, size: int, content_type: str, signed: bool
) -> None:
    fields = [("MessageSid", "SM" + uuid.uuid4().hex), ("AccountSid", ACCOUNT_SID), ("From", "+15551234567")]
    prefix = urlencode(fields).encode() + b"&Body="
    body = Body(prefix + b"a" * (size - len(prefix)), content_type)
    calls_before = sum(webhook.hand_over.calls.values())

    status = post(webhook, body, sign(MultiDict(fields + [("Body", "a" * (size - len(prefix)))])) if signed else None)

    assert status == 413
    assert sum(webhook.hand_over.calls.values()) == calls_before


def test_a_multipart_part_without_a_name_is_refused_rather_than_crashing_the_signature_check(
    webhook: Webhook,
) -> None:
    # Such a part parses to the form key None, which Twilio's validator cannot sort among the names.
    body = Body(b'--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n'
                b'--b\r\nContent-Disposition: form-data; name="From"\r\n\r\n+15551234567\r\n--b--\r\n',
                "multipart/form-data; boundary=b")
    webhook.app.testing = False  # answer as in production (a 500 page), not by raising into the test
    try:
        assert post(webhook, body, "any-signature") == 403
    finally:
        webhook.app.testing = True


def test_the_fuzzed_app_really_accepts_a_plain_signed_message(webhook: Webhook) -> None:
    """Guards the properties above against passing vacuously (say, every request refused)."""
    fields = [("MessageSid", "SM" + uuid.uuid4().hex), ("AccountSid", ACCOUNT_SID), ("From", "whatsapp:+15551234567"),
              ("To", "whatsapp:+14155238886"), ("Body", "hello"), ("NumMedia", "0")]
    body = form_body(fields, "urlencoded")

    assert post(webhook, body, sign(MultiDict(fields))) == 200
    assert webhook.hand_over.calls[fields[0][1]] == 1
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert client.exists(webhook.app.config["STORE"]._msg(fields[0][1]))
    finally:
        client.close()
