"""Downloads the media a signed webhook names, from Twilio's hosts only: credentials to the API host alone."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import TWILIO_CREDENTIALS_ERRORS
from switchboard.settings import Settings, is_loopback_url

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024
# A whole download (every hop, every chunk) may take this many times the per-read timeout.
TOTAL_TIMEOUT_FACTOR = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class FetchedMedia:
    content_type: str  # as the serving host labelled it, without parameters, lowercased
    data: bytes


class _NoCredentials(AuthBase):
    """Sends nothing: an explicit auth keeps requests from filling one in from ~/.netrc for a redirect target."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


class MediaFetcher:
    """Fetches one media URL: Twilio's API host with basic auth, then redirects we follow ourselves.

    Errors: TransientError (429, 5xx, timeouts, connection) is worth a retry; PermanentError (4xx,
    too large, a type not allowed, a host not allowed) carries a short reason for the user's note;
    ConfigurationFault when Twilio's API host refuses our credentials (a rotated token: wait for the
    fix rather than answer without the media).
    """

    def __init__(self, api_base_url: str, account_sid: str, auth_token: str, redirect_hosts: tuple[str, ...],
                 max_bytes: int, content_types: frozenset[str], timeout_seconds: float) -> None:
        self.api_origin = _origin(api_base_url)
        self.account_sid = account_sid
        self.credentials = (account_sid, auth_token)
        self.redirect_hosts = tuple(host.lower() for host in redirect_hosts)
        self.max_bytes = max_bytes
        self.content_types = content_types
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaFetcher:
        return cls(settings.twilio_api_base_url, settings.twilio_account_sid,
                   settings.twilio_auth_token.get_secret_value(), settings.media_redirect_hosts,
                   settings.media_max_bytes, settings.media_types, settings.media_timeout_seconds)

    def fetch(self, url: str) -> FetchedMedia:
        # Only our own account's media on the API host: the URL comes from a signed webhook, but the
        # credentials must never follow a URL anywhere else.
        if _origin(url) != self.api_origin:
            raise PermanentError("not on Twilio's API host")
        if not urlsplit(url).path.startswith(f"/2010-04-01/Accounts/{self.account_sid}/"):
            raise PermanentError("not a media URL of our account")
        deadline = time.monotonic() + self.timeout_seconds * TOTAL_TIMEOUT_FACTOR
        # A session per download: worker threads never share one, and downloads are rare and large.
        with requests.Session() as session:
            for _ in range(MAX_REDIRECTS + 1):
                auth = self.credentials if _origin(url) == self.api_origin else _NoCredentials()
                try:
                    with session.get(url, auth=auth, allow_redirects=False, stream=True,
                                     timeout=(self.timeout_seconds, self.timeout_seconds)) as response:
                        if response.status_code in (401, 403) and _origin(url) == self.api_origin:
                            TWILIO_CREDENTIALS_ERRORS.inc()
                            raise ConfigurationFault(f"Twilio refused our credentials for media (HTTP "
                                                     f"{response.status_code}): check TWILIO_AUTH_TOKEN")
                        if response.status_code not in _REDIRECTS:
                            return self._read(response, deadline)
                        url = self._next_hop(url, response.headers.get("Location"))
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                    raise TransientError(f"media download failed: {type(exc).__name__}") from exc
                except requests.RequestException as exc:
                    raise PermanentError(f"media download refused: {type(exc).__name__}") from exc
        raise PermanentError("too many redirects")

    def _next_hop(self, current: str, location: str | None) -> str:
        if not location:
            raise PermanentError("redirect without a location")
        target = urljoin(current, location)
        parts = urlsplit(target)
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_url(target)):
            raise PermanentError("redirect to a plain-http host")
        if _origin(target) != self.api_origin and not host_allowed(target, self.redirect_hosts):
            log.warning("media redirect to a host not allowed: %s", parts.hostname)
            raise PermanentError("redirect to a host not allowed")
        return target

    def _read(self, response: requests.Response, deadline: float) -> FetchedMedia:
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientError(f"media host answered HTTP {status}")
        if status != 200:
            raise PermanentError(f"HTTP {status}", status)
        content_type = base_type(response.headers.get("Content-Type", ""))
        if not type_allowed(content_type, self.content_types):
            raise PermanentError(f"type not allowed: {content_type or 'none'}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise PermanentError("too large")
        data = bytearray()
        for chunk in response.iter_content(CHUNK_BYTES):
            data += chunk
            if len(data) > self.max_bytes:
                raise PermanentError("too large")
            if time.monotonic() > deadline:
                raise TransientError("media download too slow")
        return FetchedMedia(content_type, bytes(data))


def host_allowed(url: str, patterns: tuple[str, ...]) -> bool:
    """Whether the URL's host matches one of TWILIO_MEDIA_REDIRECT_HOSTS: 'host', '*.domain', 'host:port'.

    An entry without a port allows only the scheme's default port: 'host:port' names another service.
    """
    scheme, host, port = _origin(url)
    for pattern in patterns:
        name, _, wanted_port = pattern.lower().partition(":")
        if int(wanted_port or _DEFAULT_PORTS.get(scheme, -1)) != port:
            continue
        if host == name or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


def base_type(content_type: str) -> str:
    """'Audio/OGG; codecs=opus' -> 'audio/ogg'."""
    return content_type.split(";", 1)[0].strip().lower()


def type_allowed(content_type: str, allowed: frozenset[str]) -> bool:
    """Whether `content_type` is in the allow-list, exactly or by a 'type/*' entry."""
    kind = base_type(content_type)
    return bool(kind) and (kind in allowed or f"{kind.split('/', 1)[0]}/*" in allowed)


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in: what 'the same host' means here."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme, -1)
