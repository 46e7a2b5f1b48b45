"""Booking rules and opening hours in plain words, in both languages."""

from __future__ import annotations

from datetime import time

import pytest
from flask import Flask

from core.catalogue.describe import booking_rules, duration_text, opening_hours
from core.models import OpeningRule, Service


def _service(**fields: object) -> Service:
    base: dict[str, object] = {
        "min_notice_minutes": 0,
        "max_advance_days": 1,
        "cancel_deadline_minutes": 0,
        "requires_approval": False,
        "max_seats_per_booking": 1,
        "quota_per_month": None,
        "quota_scope": "service",
        "beneficiaries_only": False,
        "waitlist_enabled": False,
    }
    base.update(fields)
    return Service(**base)


@pytest.mark.parametrize(
    ("minutes", "en", "it"),
    [
        (1, "1 minute", "1 minuto"),
        (90, "90 minutes", "90 minuti"),
        (60, "1 hour", "1 ora"),
        (120, "2 hours", "2 ore"),
        (1440, "1 day", "1 giorno"),
        (4320, "3 days", "3 giorni"),
        (1500, "25 hours", "25 ore"),
    ],
)
def test_duration_text_uses_the_largest_exact_unit(
    app: Flask, minutes: int, en: str, it: str
) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert duration_text(minutes) == en
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "it"}):
        assert duration_text(minutes) == it


def test_the_simplest_rules(app: Flask) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert booking_rules(_service()) == [
            "You can book up to the start time.",
            "Bookings open 1 day ahead.",
            "You can cancel up to the start time.",
            "Bookings are confirmed at once.",
            "Each booking is for one person.",
        ]


def test_every_rule_is_described(app: Flask) -> None:
    service = _service(
        min_notice_minutes=90,
        max_advance_days=14,
        cancel_deadline_minutes=48 * 60,
        requires_approval=True,
        max_seats_per_booking=4,
        quota_per_month=2,
        beneficiaries_only=True,
        waitlist_enabled=True,
    )
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "it"}):
        assert booking_rules(service) == [
            "Prenota con almeno 90 minuti di anticipo.",
            "Le prenotazioni si aprono 14 giorni prima.",
            "Puoi annullare fino a 2 giorni prima dell'inizio.",
            "L'erogatore conferma ogni prenotazione: riceverai un'email.",
            "Puoi prenotare fino a 4 posti alla volta.",
            "Al massimo 2 prenotazioni al mese per questo servizio, per persona.",
            "Riservato ai beneficiari riconosciuti del distretto.",
            "Quando è al completo puoi iscriverti alla lista d'attesa.",
        ]


def test_opening_hours_are_grouped_by_day_in_time_order(app: Flask) -> None:
    rules = [
        OpeningRule(weekday=4, start=time(15), end=time(18), slot_minutes=60, seats=2),
        OpeningRule(weekday=0, start=time(14), end=time(16), slot_minutes=30, seats=1),
        OpeningRule(weekday=0, start=time(9), end=time(12), slot_minutes=60, seats=3),
    ]
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        lines = opening_hours(rules)
    assert [(line.day_name, line.ranges) for line in lines] == [
        ("Monday", ("09:00–12:00", "14:00–16:00")),
        ("Friday", ("15:00–18:00",)),
    ]
    assert lines[0].details == (
        "slots of 1 hour, 3 places each",
        "slots of 30 minutes, 1 place each",
    )
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "it"}):
        assert opening_hours(rules)[1].day_name == "Venerdì"
