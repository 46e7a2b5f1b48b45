"""Why the engine refuses: a list of problems, each with a stable code and a localized message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

#: Every code the engine can refuse with, and its default message.
MESSAGES: dict[str, Any] = {
    "slot_not_found": _l("This time does not exist."),
    "slot_cancelled": _l("This time has been cancelled by the provider."),
    "slot_past": _l("This time has already started."),
    "slot_full": _l("This time is no longer available."),
    "slot_not_full": _l(
        "There are still free places: book directly instead of joining the waiting list."
    ),
    "too_late": _l("It is too late to book this time."),
    "too_early": _l("It is too early to book this time."),
    "too_many_seats": _l("You cannot book this many places."),
    "not_eligible": _l("This service is reserved for approved beneficiaries of the district."),
    "quota_reached": _l("You have reached your monthly limit of bookings for this service."),
    "already_booked": _l("You already have a booking for this time."),
    "service_unavailable": _l("This service cannot be booked at the moment."),
    "waitlist_disabled": _l("This service has no waiting list."),
    "plugin_refused": _l("This booking is not allowed."),
    "cancel_deadline_passed": _l("It is too late to cancel this booking."),
    "invalid_transition": _l("This booking cannot change to that state."),
    "not_started": _l("This time has not started yet."),
    "not_owner": _l("This booking is not yours."),
    "already_rated": _l("You have already rated this booking."),
    "invalid_rating": _l("The rating must be between 1 and 5."),
    "offer_expired": _l("The offer has expired."),
}


@dataclass(frozen=True)
class BookingProblem:
    """One reason to refuse: a stable ``code`` for programs and a ``message`` for people."""

    code: str
    message: Any  # a str or a lazy string, rendered in the reader's language

    @classmethod
    def of(cls, code: str, message: Any = None) -> BookingProblem:
        """The problem ``code`` with its default message (or ``message``)."""
        return cls(code, message if message is not None else MESSAGES[code])

    def as_dict(self) -> dict[str, str]:
        """The problem as JSON-ready data (for the API)."""
        return {"code": self.code, "message": str(self.message)}


class BookingRefused(Exception):
    """The engine refused an operation; ``reasons`` lists every problem found (at least one)."""

    def __init__(self, reasons: list[BookingProblem]) -> None:
        if not reasons:
            raise ValueError("BookingRefused needs at least one reason")
        self.reasons = list(reasons)
        super().__init__("; ".join(f"{p.code}: {p.message}" for p in self.reasons))

    @classmethod
    def single(cls, code: str, message: Any = None) -> BookingRefused:
        """A refusal with one problem."""
        return cls([BookingProblem.of(code, message)])

    @property
    def codes(self) -> list[str]:
        """The codes of the problems, in order."""
        return [p.code for p in self.reasons]

    @property
    def messages(self) -> list[str]:
        """The messages, rendered in the current language."""
        return [str(p.message) for p in self.reasons]
