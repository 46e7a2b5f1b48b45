"""Counting the SQL statements a piece of code issues (to guard against N+1 queries)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class StatementLog:
    """The statements seen inside a :func:`count_statements` block."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.statements)

    def __repr__(self) -> str:
        return f"<{self.count} statements:\n" + "\n".join(self.statements) + ">"


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementLog]:
    """Record every statement ``engine`` executes inside the block (``before_cursor_execute``).

    >>> with count_statements(db.engine) as log:  # doctest: +SKIP
    ...     client.get("/borgo-test/services")
    >>> log.count  # doctest: +SKIP
    4
    """
    log = StatementLog()

    def _record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", _record)
