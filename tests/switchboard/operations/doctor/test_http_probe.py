"""The probe reports what a server answers a plain GET, a redirect as itself, and None when nothing answers."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from localdev.processes import free_port
from switchboard.operations.doctor.http_probe import http_status


def test_it_reports_the_status_without_following_a_redirect(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/healthz").respond_with_data("ok")
    httpserver.expect_request("/").respond_with_data("", status=302, headers={"Location": "/login"})

    assert http_status(httpserver.url_for("/healthz")) == 200
    assert http_status(httpserver.url_for("/")) == 302


def test_it_reports_none_when_nothing_listens() -> None:
    assert http_status(f"http://127.0.0.1:{free_port()}/healthz", timeout=2) is None
