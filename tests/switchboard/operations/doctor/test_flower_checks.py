"""Flower: what it answers without credentials decides; when nothing answers, what this environment would start."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.operations.doctor.flower_checks import check_flower, configured_auth, flower_url
from switchboard.operations.doctor.results import Status

URL = "http://127.0.0.1:5555"


def answering(status: int | None) -> Callable[[str], int | None]:
    return lambda url: status


@pytest.mark.parametrize("status", [401, 302])  # basic auth; OAuth's redirect to its login page
def test_a_flower_that_asks_for_credentials_passes_anywhere(status: int) -> None:
    assert check_flower({}, True, URL, answering(status)).status is Status.OK


def test_an_open_flower_fails_on_aws_and_passes_on_a_local_run() -> None:
    on_aws = check_flower({"FLOWER_BASIC_AUTH": "a:b"}, True, URL, answering(200))
    local = check_flower({"FLOWER_UNAUTHENTICATED": "true"}, False, URL, answering(200))

    assert on_aws.status is Status.FAIL and "FLOWER_BASIC_AUTH" in on_aws.fix
    assert local.status is Status.OK


def test_when_nothing_answers_an_open_environment_fails_on_aws_and_the_rest_cannot_tell() -> None:
    open_on_aws = check_flower({"FLOWER_UNAUTHENTICATED": "yes"}, True, URL, answering(None))
    basic_on_aws = check_flower({"FLOWER_BASIC_AUTH": "admin:secret"}, True, URL, answering(None))

    assert open_on_aws.status is Status.FAIL
    assert basic_on_aws.status is Status.UNKNOWN and "would ask for a password" in basic_on_aws.detail


def test_the_environment_is_read_as_flowerconfig_reads_it() -> None:
    oauth = {"FLOWER_AUTH": ".*@example.com", "FLOWER_AUTH_PROVIDER": "flower.views.auth.GoogleAuth2LoginHandler",
             "FLOWER_OAUTH2_KEY": "k", "FLOWER_OAUTH2_SECRET": "s"}
    assert [configured_auth(env) for env in ({"FLOWER_BASIC_AUTH": "a:b"}, oauth, {"FLOWER_UNAUTHENTICATED": "1"},
                                             {"FLOWER_AUTH": "only one of four"})] == ["basic", "oauth", "open", "none"]
    assert flower_url({"FLOWER_ADDRESS": "0.0.0.0", "FLOWER_PORT": "5600"}) == "http://127.0.0.1:5600"
    assert flower_url({}) == URL
