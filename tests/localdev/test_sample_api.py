"""The sample operator API answers the signed asker's own registration, through the sample tools file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from localdev.sample_api import REGISTRATIONS, create_sample_api, read_registrations
from localdev.standins.serving import serve_in_thread
from switchboard.tools import HttpToolExecutor, Identity, Toolbox, read_tools_file
from switchboard.tools.http_executor import identity_headers
from switchboard.tools.signing import sign_request

SECRET = b"sample-secret"
SAMPLE_TOOLS = REGISTRATIONS.parent / "tools.yaml"


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    url, stop = serve_in_thread(create_sample_api(SECRET, read_registrations()))
    yield url
    stop()


def asker(wa_id: str) -> Identity:
    return Identity(user_id=wa_id, sender=f"whatsapp:+{wa_id}", conversation="c1", message_sid="SM" + "2" * 32,
                    bot_number="whatsapp:+14155238886")


@pytest.fixture
def executor(api_url: str) -> HttpToolExecutor:
    return HttpToolExecutor(Toolbox(read_tools_file(SAMPLE_TOOLS, {"SAMPLE_API_URL": api_url})), SECRET)


def test_the_terminal_chat_user_gets_their_own_registration(executor: HttpToolExecutor) -> None:
    answer = executor.execute("registration_status", {}, asker("15550000001"))

    assert '"registration":"R-2026-0107"' in answer.replace(" ", "")


def test_a_number_without_a_registration_is_told_so_as_the_tools_answer(executor: HttpToolExecutor) -> None:
    answer = executor.execute("registration_status", {}, asker("15557654321"))

    assert answer.startswith("error: the tool answered 404:") and "no registration is on file" in answer


def test_an_unsigned_or_forged_request_is_refused(api_url: str) -> None:
    url = f"{api_url}/registrations/status"
    assert requests.get(url, headers={"X-Switchboard-User-Id": "15550100001"}, timeout=5).status_code == 401
    signed = sign_request(SECRET, "GET", url, b"", identity_headers(asker("15550100001")))
    forged = {**signed, "X-Switchboard-User-Id": "15550100002"}
    assert requests.get(url, headers=forged, timeout=5).status_code == 401
    assert requests.get(url, headers=signed, timeout=5).json()["registration"] == "R-2026-0142"


def test_the_signature_covers_the_url_as_sent_escapes_included(api_url: str) -> None:
    url = f"{api_url}/registrations/status?note=a%2Bb%20c"
    signed = sign_request(SECRET, "GET", url, b"", identity_headers(asker("15550100002")))

    assert requests.get(url, headers=signed, timeout=5).json()["registration"] == "R-2026-0188"
