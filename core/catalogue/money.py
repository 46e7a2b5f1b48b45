"""Amounts typed by a person in euros ("12,50", "12.50", "€ 7") to integer cents, and back."""

from __future__ import annotations

import re

MAX_CENTS = 100_000 * 100  # a service costing more than 100,000 euros is a typing mistake

_AMOUNT_RE = re.compile(r"^(?P<units>\d{1,9})(?:[.,](?P<decimals>\d{1,2}))?$")


class AmountError(ValueError):
    """The text is not an amount of euros this platform accepts."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "invalid", "negative" or "too_large"


def parse_cents(text: str | None) -> int | None:
    """Parse euros typed by a person into cents; ``None`` for an empty field.

    Accepts a comma or a dot as decimal separator and at most two decimals; refuses negative
    amounts, thousands separators and anything else with :class:`AmountError`.

    >>> parse_cents("12,50"), parse_cents("12.5"), parse_cents("€ 7"), parse_cents("")
    (1250, 1250, 700, None)
    """
    if text is None:
        return None
    cleaned = text.strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        return None
    if cleaned.startswith("-"):
        raise AmountError("negative")
    match = _AMOUNT_RE.match(cleaned)
    if match is None:
        raise AmountError("invalid")
    cents = int(match["units"]) * 100 + int((match["decimals"] or "0").ljust(2, "0"))
    if cents > MAX_CENTS:
        raise AmountError("too_large")
    return cents


def cents_to_input(cents: int | None, locale: str = "it") -> str:
    """Render cents as a person would type them back (``1250`` → ``"12,50"`` in Italian).

    >>> cents_to_input(1250), cents_to_input(700, "en"), cents_to_input(None)
    ('12,50', '7.00', '')
    """
    if cents is None:
        return ""
    text = f"{cents // 100}.{cents % 100:02d}"
    return text.replace(".", ",") if locale == "it" else text
