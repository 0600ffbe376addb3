"""PUBLIC_BASE_URL: required on AWS (https), not compared when unset locally, and web must answer /healthz there."""

from __future__ import annotations

from collections.abc import Callable

from switchboard.operations.doctor.results import Status
from switchboard.operations.doctor.web_checks import check_public_base_url
from switchboard.settings import Settings


class Answering:
    """A probe that answers `status` and records the URLs asked."""

    def __init__(self, status: int | None) -> None:
        self.status = status
        self.asked: list[str] = []

    def __call__(self, url: str) -> int | None:
        self.asked.append(url)
        return self.status


def test_unset_fails_on_aws_and_cannot_tell_locally(make_settings: Callable[..., Settings]) -> None:
    on_aws = check_public_base_url(make_settings(on_aws=True), Answering(200))
    local = check_public_base_url(make_settings(), Answering(200))

    assert on_aws.status is Status.FAIL and "PUBLIC_BASE_URL=https://" in on_aws.fix
    assert local.status is Status.UNKNOWN


def test_plain_http_fails_on_aws(make_settings: Callable[..., Settings]) -> None:
    result = check_public_base_url(make_settings(on_aws=True, public_base_url="http://bot.example.com"),
                                   Answering(200))

    assert result.status is Status.FAIL and "not https" in result.detail


def test_it_passes_only_when_web_answers_200_at_healthz(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(public_base_url="http://127.0.0.1:8000")
    probe = Answering(200)

    assert check_public_base_url(settings, probe).status is Status.OK
    assert probe.asked == ["http://127.0.0.1:8000/healthz"]
    silent, other = check_public_base_url(settings, Answering(None)), check_public_base_url(settings, Answering(404))
    assert (silent.status, other.status) == (Status.FAIL, Status.FAIL)
    assert "nothing answers" in silent.detail and "HTTP 404" in other.detail
