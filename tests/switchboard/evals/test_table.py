"""The eval table: fixed-width columns under a heading, one row per check, and a summary line."""

from __future__ import annotations

from switchboard.evals.table import Row, excerpt, render, summary

ROWS = [
    Row("fee is answered", 1, "mentions '$60'", True, "Registration costs $60 per player."),
    Row("a case with a much longer name than the column allows", 2, "not_mentions 'free'", False, "It is free."),
]


def test_each_row_is_a_line_whose_columns_line_up_with_the_heading() -> None:
    heading, rule, first, second = render(ROWS).splitlines()

    def cell(line: str, column: str) -> str:
        return line[heading.index(column):].split("  ")[0]

    assert [cell(first, column) for column in ("turn", "check", "result", "excerpt")] == [
        "1", "mentions '$60'", "pass", "Registration costs $60 per player."]
    assert [cell(second, column) for column in ("turn", "check", "result")] == ["2", "not_mentions 'free'", "FAIL"]
    assert second.startswith("a case with a much longer name than the…")  # cut to CASE_WIDTH
    assert set(rule) == {"-", " "}


def test_a_row_about_the_whole_case_shows_no_turn() -> None:
    line = render([Row("case", 0, "answered", False, "boom")]).splitlines()[2]

    assert line.split()[1] == "-"


def test_an_excerpt_is_one_line_cut_with_an_ellipsis() -> None:
    assert excerpt("one\ntwo  three", 40) == "one two three"
    assert excerpt("x" * 100, 10) == "x" * 9 + "…"


def test_the_summary_counts_checks_and_cases() -> None:
    assert summary(ROWS) == "1 of 2 checks passed; 1 of 2 cases passed"
