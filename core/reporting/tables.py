"""A report table: a title, column headers and rows of plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """One figure's data: ``key`` names it in URLs, ``headers`` are already translated."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    columns: tuple[str, ...] = ()  # machine names of the columns (open data)

    def column(self, index: int) -> list[Any]:
        """The values of one column."""
        return [row[index] for row in self.rows]

    def as_records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by the machine column names."""
        names = self.columns or self.headers
        return [dict(zip(names, row, strict=True)) for row in self.rows]
