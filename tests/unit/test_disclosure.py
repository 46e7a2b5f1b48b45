"""Small-count suppression of published figures."""

from __future__ import annotations

from core.reporting.disclosure import suppress_row, suppress_small_counts
from core.reporting.tables import Table

COLUMNS = ("class", "approved", "pending", "rejected", "total")


def test_small_counts_and_their_total_are_withheld_zeros_and_large_counts_are_not() -> None:
    assert suppress_row(("a", 12, 2, 0, 14), COLUMNS, 3) == ("a", 12, None, 0, None)


def test_a_row_without_small_counts_is_published_as_it_is() -> None:
    row = ("a", 12, 3, 0, 15)
    assert suppress_row(row, COLUMNS, 3) is row


def test_rates_and_averages_of_a_row_with_a_small_count_are_withheld() -> None:
    columns = ("area", "ratings", "average", "stars_1", "stars_5")
    assert suppress_row(("x", 1, 4.0, 0, 1), columns, 3) == ("x", None, None, 0, None)
    assert suppress_row(("x", 9, 4.5, 0, 9), columns, 3) == ("x", 9, 4.5, 0, 9)


def test_labels_and_booleans_are_never_counts() -> None:
    columns = ("month", "flag", "bookings")
    assert suppress_row(("2026-01", True, 1), columns, 3) == ("2026-01", True, None)


def test_a_threshold_of_one_publishes_everything() -> None:
    table = Table("t", "T", COLUMNS, [("a", 1, 2, 0, 3)], COLUMNS)
    assert suppress_small_counts(table, 1) is table
    assert suppress_small_counts(table, 3).rows == [("a", None, None, 0, None)]
    assert table.rows == [("a", 1, 2, 0, 3)]  # the dashboard's own table is untouched
