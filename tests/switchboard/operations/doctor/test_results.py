"""The doctor's table and exit code: ✘ fails the run, ! (cannot tell) does not."""

from __future__ import annotations

from switchboard.operations.doctor.results import exit_code, fail, ok, table, unknown


def test_only_a_failed_check_makes_the_exit_code_1() -> None:
    assert exit_code([ok("redis persistence", "AOF on"), unknown("flower access", "nothing answers")]) == 0
    assert exit_code([ok("redis persistence", "AOF on"), fail("queue intake", "missing", "queues init")]) == 1


def test_the_table_shows_each_row_with_its_fix_below_it_and_counts_them() -> None:
    text = table([ok("redis persistence", "AOF on"), fail("queue intake", "the DLQ is missing", "run init"),
                  unknown("flower access", "nothing answers", "pass --flower-url")])

    assert text.splitlines()[:5] == [
        "✔ redis persistence  AOF on",
        "✘ queue intake       the DLQ is missing",
        "                     fix: run init",
        "! flower access      nothing answers",
        "                     fix: pass --flower-url",
    ]
    assert text.endswith("3 checks: 1 ok, 1 failed, 1 cannot tell")
