"""Booking references: unguessable, URL-safe, and safe to put in a spreadsheet."""

from __future__ import annotations

import re

from core.models.bookings import new_public_id
from core.reporting.csvout import FORMULA_STARTS


def test_references_are_url_safe_and_never_start_like_a_formula() -> None:
    # with token_urlsafe alone, 2 in 64 references start with "-" or "_": over 3,000 draws
    # one of them would almost surely have started with "-"
    references = [new_public_id() for _ in range(3000)]
    assert len(set(references)) == len(references)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{15}", r) for r in references)
    assert not any(r.startswith(FORMULA_STARTS) for r in references)
