"""Small-count suppression for published figures (statistical disclosure control).

In a neighbourhood, "2 beneficiaries of class X in March" can point at a person. Before the
open-data export publishes a table, every count between 1 and ``min_count - 1`` is withheld
(``None``: an empty cell in the CSV, ``null`` in the JSON). In a row where anything was
withheld, the row's rates and averages are withheld too, since they are computed from the
small count, and so is its ``total`` column, which would give a single withheld count back
by subtraction. Zero is published: nobody can be singled out of it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.reporting.tables import Table

#: Columns that add up the row's other counts (withheld with any of them).
TOTAL_COLUMNS = frozenset({"total"})


def is_count(value: Any) -> bool:
    """Whether a cell holds a count (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def suppress_row(row: tuple[Any, ...], columns: tuple[str, ...], min_count: int) -> tuple[Any, ...]:
    """``row`` with its small counts, and what could reveal them, replaced by ``None``."""
    small = [is_count(v) and 0 < v < min_count for v in row]
    if not any(small):
        return row
    return tuple(
        None
        if hit or isinstance(value, float) or (name in TOTAL_COLUMNS and is_count(value))
        else value
        for value, hit, name in zip(row, small, columns, strict=True)
    )


def suppress_small_counts(table: Table, min_count: int) -> Table:
    """A copy of ``table`` safe to publish with counts below ``min_count`` withheld."""
    if min_count <= 1:
        return table
    columns = table.columns or table.headers
    rows = [suppress_row(row, columns, min_count) for row in table.rows]
    return replace(table, rows=rows)
