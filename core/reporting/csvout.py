"""CSV writing with protection against CSV (formula) injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula (prefix it with ``'``).

    Numbers stay numbers (a negative number is data, not a formula).
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV text (RFC 4180, CRLF line ends) of a header line and rows, every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_cell(h) for h in headers])
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return out.getvalue()
