"""A service's booking rules and opening hours in plain words, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel.dates import get_day_names

from core.i18n import gettext as _  # the per-request catalog: a page asks for ~20 of these
from core.i18n import locale_code
from core.models import OpeningRule, Service


def duration_text(minutes: int) -> str:
    """A duration in the largest exact unit: "2 days", "3 hours", "90 minutes" (localized).

    Italian and English share the plural rule (one / other), so two messages per unit suffice.
    """
    if minutes and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return _("1 day") if days == 1 else _("%(count)s days", count=days)
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return _("1 hour") if hours == 1 else _("%(count)s hours", count=hours)
    return _("1 minute") if minutes == 1 else _("%(count)s minutes", count=minutes)


def booking_rules(service: Service) -> list[str]:
    """The rules a person booking ``service`` must know, one sentence each."""
    rules: list[str] = []
    if service.min_notice_minutes:
        rules.append(
            _(
                "Book at least %(duration)s in advance.",
                duration=duration_text(service.min_notice_minutes),
            )
        )
    else:
        rules.append(_("You can book up to the start time."))
    rules.append(
        _(
            "Bookings open %(duration)s ahead.",
            duration=duration_text(service.max_advance_days * 24 * 60),
        )
    )
    if service.cancel_deadline_minutes:
        rules.append(
            _(
                "You can cancel up to %(duration)s before the start.",
                duration=duration_text(service.cancel_deadline_minutes),
            )
        )
    else:
        rules.append(_("You can cancel up to the start time."))
    if service.requires_approval:
        rules.append(_("The provider confirms each booking: you will receive an email."))
    else:
        rules.append(_("Bookings are confirmed at once."))
    if service.max_seats_per_booking > 1:
        rules.append(
            _("You can book up to %(seats)s places at a time.", seats=service.max_seats_per_booking)
        )
    else:
        rules.append(_("Each booking is for one person."))
    if service.quota_per_month:
        if service.quota_scope == "category":
            rules.append(
                _(
                    "At most %(count)s bookings a month in this area, per person.",
                    count=service.quota_per_month,
                )
            )
        else:
            rules.append(
                _(
                    "At most %(count)s bookings a month for this service, per person.",
                    count=service.quota_per_month,
                )
            )
    if service.beneficiaries_only:
        rules.append(_("Reserved to the district's recognised beneficiaries."))
    if service.waitlist_enabled:
        rules.append(_("When it is full you can join the waiting list."))
    return rules


@dataclass(frozen=True)
class OpeningLine:
    """One line of a service's weekly hours: a day and its time ranges."""

    weekday: int
    day_name: str
    ranges: tuple[str, ...]
    details: tuple[str, ...]


def weekday_names() -> dict[int, str]:
    """Monday (0) to Sunday (6), capitalised, in the reader's language."""
    return dict(_weekday_names(locale_code()))


@lru_cache(maxsize=16)
def _weekday_names(locale: str) -> tuple[tuple[int, str], ...]:
    names: Any = get_day_names("wide", locale=locale)
    return tuple((i, str(names[i]).capitalize()) for i in range(7))


def _slot_details(rule: OpeningRule) -> str:
    duration = duration_text(rule.slot_minutes)
    if rule.seats == 1:
        return _("slots of %(duration)s, 1 place each", duration=duration)
    return _("slots of %(duration)s, %(seats)s places each", duration=duration, seats=rule.seats)


def opening_hours(rules: list[OpeningRule]) -> list[OpeningLine]:
    """The weekly openings grouped by day, Monday first, ranges in time order."""
    names = weekday_names()
    lines: list[OpeningLine] = []
    for weekday in range(7):
        day_rules = sorted((r for r in rules if r.weekday == weekday), key=lambda r: r.start)
        if not day_rules:
            continue
        ranges = tuple(f"{r.start:%H:%M}–{r.end:%H:%M}" for r in day_rules)
        details = tuple(_slot_details(r) for r in day_rules)
        lines.append(OpeningLine(weekday, names[weekday], ranges, details))
    return lines
