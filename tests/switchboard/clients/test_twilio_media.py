"""The media downloader against the Twilio stand-in over real HTTP: its API host (basic auth) and its media host."""

from __future__ import annotations

import pytest

from localdev.processes import free_port
from switchboard.clients.twilio_media import FetchedMedia, MediaFetcher, host_allowed
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from tests.harness.standins import RunningStandin

TYPES = frozenset({"audio/ogg", "image/jpeg", "application/pdf"})


def fetcher(standin: RunningStandin, *, hosts: tuple[str, ...] | None = None, max_bytes: int = 64 * 1024,
            base_url: str | None = None, auth_token: str | None = None) -> MediaFetcher:
    redirect_hosts = (standin.client.media_host(),) if hosts is None else hosts
    return MediaFetcher(base_url or standin.base_url, standin.account_sid, auth_token or standin.auth_token,
                        redirect_hosts, max_bytes, TYPES, timeout_seconds=3)


def fetches(standin: RunningStandin, media_sid: str) -> list[tuple[str, bool]]:
    """(host, whether it got an Authorization header) of each request for this media, in order."""
    return [(f["host"], f["authorization"]) for f in standin.client.media_fetches() if f["media_sid"] == media_sid]


def test_it_downloads_through_the_redirect_sending_credentials_to_the_api_host_only(
        twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"OggS voice", "audio/ogg")

    assert fetcher(twilio_standin).fetch(uploaded["url"]) == FetchedMedia("audio/ogg", b"OggS voice")
    assert fetches(twilio_standin, uploaded["media_sid"]) == [("api", True), ("cdn", False)]


def test_a_url_on_another_host_is_never_requested(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "audio/ogg")
    elsewhere = uploaded["url"].replace(twilio_standin.base_url, f"http://127.0.0.1:{free_port()}")

    with pytest.raises(PermanentError, match="not on Twilio's API host"):
        fetcher(twilio_standin).fetch(elsewhere)
    with pytest.raises(PermanentError, match="not on Twilio's API host"):
        fetcher(twilio_standin).fetch(uploaded["url"].replace("http://", "https://"))
    assert fetches(twilio_standin, uploaded["media_sid"]) == []


def test_a_url_of_another_account_is_never_requested(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "audio/ogg")
    other = uploaded["url"].replace(twilio_standin.account_sid, "AC" + "9" * 32)

    with pytest.raises(PermanentError, match="not a media URL of our account"):
        fetcher(twilio_standin).fetch(other)
    assert fetches(twilio_standin, uploaded["media_sid"]) == []


def test_a_redirect_to_a_host_not_allowed_is_refused_without_following_it(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "audio/ogg")

    with pytest.raises(PermanentError, match="redirect to a host not allowed"):
        fetcher(twilio_standin, hosts=("*.twiliocdn.com",)).fetch(uploaded["url"])
    assert fetches(twilio_standin, uploaded["media_sid"]) == [("api", True)]


def test_a_redirect_to_plain_http_off_loopback_is_refused(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "audio/ogg", redirect_to="http://media.twiliocdn.com/x")

    with pytest.raises(PermanentError, match="plain-http"):
        fetcher(twilio_standin, hosts=("media.twiliocdn.com:80",)).fetch(uploaded["url"])


def test_a_file_over_the_size_cap_is_refused_whether_or_not_its_length_is_declared(
        twilio_standin: RunningStandin) -> None:
    declared = twilio_standin.client.upload_media(b"x" * 5000, "audio/ogg")
    streamed = twilio_standin.client.upload_media(b"x" * 20000, "audio/ogg", chunked=1)
    small = fetcher(twilio_standin, max_bytes=4096)

    for uploaded in (declared, streamed):
        with pytest.raises(PermanentError, match="too large"):
            small.fetch(uploaded["url"])
    assert fetcher(twilio_standin).fetch(streamed["url"]).data == b"x" * 20000


def test_a_content_type_outside_the_allow_list_is_refused(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"\x00\x00\x00 ftyp", "video/mp4")

    with pytest.raises(PermanentError, match="type not allowed: video/mp4"):
        fetcher(twilio_standin).fetch(uploaded["url"])


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_or_failing_media_host_is_transient_and_the_next_try_succeeds(
        twilio_standin: RunningStandin, status: int) -> None:
    uploaded = twilio_standin.client.upload_media(b"photo", "image/jpeg", fail_status=status, fail_times=1)
    media = fetcher(twilio_standin)

    with pytest.raises(TransientError):
        media.fetch(uploaded["url"])
    assert media.fetch(uploaded["url"]).data == b"photo"


def test_media_twilio_does_not_have_is_permanent(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "audio/ogg")
    gone = uploaded["url"].replace(uploaded["media_sid"], "ME" + "0" * 32)

    with pytest.raises(PermanentError, match="HTTP 404") as caught:
        fetcher(twilio_standin).fetch(gone)
    assert caught.value.code == 404


def test_credentials_the_api_host_refuses_are_our_setup_fault_not_the_media_s(twilio_standin: RunningStandin) -> None:
    uploaded = twilio_standin.client.upload_media(b"x", "audio/ogg")

    with pytest.raises(ConfigurationFault, match="HTTP 401"):
        fetcher(twilio_standin, auth_token="f" * 32).fetch(uploaded["url"])


def test_an_api_host_that_does_not_answer_is_transient(twilio_standin: RunningStandin) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    url = f"{closed}/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages/MM{'0' * 32}/Media/ME{'0' * 32}"

    with pytest.raises(TransientError, match="ConnectionError"):
        fetcher(twilio_standin, base_url=closed).fetch(url)


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://mms.twiliocdn.com/AC1/ME1", True),
    ("https://media.twiliocdn.com:443/x", True),
    ("https://twiliocdn.com/x", False),  # *.domain is its subdomains only
    ("https://eviltwiliocdn.com/x", False),
    ("https://mms.twiliocdn.com.evil.example/x", False),
    ("https://mms.twiliocdn.com:8443/x", False),  # another port is another service
    ("https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/x", True),
    ("https://s3.amazonaws.com/bucket/x", False),
    ("http://127.0.0.1:8903/x", True),
    ("http://127.0.0.1:8904/x", False),
])
def test_redirect_hosts_match_by_name_wildcard_and_port(url: str, allowed: bool) -> None:
    patterns = ("*.twiliocdn.com", "s3-external-1.amazonaws.com", "127.0.0.1:8903")

    assert host_allowed(url, patterns) is allowed
