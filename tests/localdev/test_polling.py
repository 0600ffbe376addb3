"""wait_for: returns the first truthy value, fails with what it last saw."""

from __future__ import annotations

import itertools

import pytest

from localdev.polling import wait_for


def test_it_returns_the_first_truthy_value() -> None:
    values = iter([0, [], "found"])

    assert wait_for(lambda: next(values), timeout=1, interval=0) == "found"


def test_it_fails_with_the_message_and_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"after 0.1s waiting for the queue to drain; last value: \[\]"):
        wait_for(list, timeout=0.1, message="the queue to drain")


def test_it_treats_ignored_exceptions_as_not_yet() -> None:
    attempts = itertools.count()

    def up_on_the_third_try() -> bool:
        if next(attempts) < 2:
            raise ConnectionError("refused")
        return True

    assert wait_for(up_on_the_third_try, timeout=1, interval=0, ignore=(ConnectionError,)) is True


def test_it_reports_the_last_ignored_exception() -> None:
    def down() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(AssertionError, match=r"last value: ConnectionError\('refused'\)"):
        wait_for(down, timeout=0.1, ignore=(ConnectionError,))


def test_it_lets_other_exceptions_through() -> None:
    with pytest.raises(ZeroDivisionError):
        wait_for(lambda: 1 / 0, timeout=1)
