"""The booking engine: plain functions over ``db.session``, one code path for web, API and CLI.

Typical use from a view or an API endpoint::

    from core.booking import BookingRefused, book

    try:
        booking = book(user=current_user, slot_id=form.slot_id.data, seats=form.seats.data,
                       answers=extra_answers, idempotency_key=form.key.data)
    except BookingRefused as refused:
        for problem in refused.reasons:       # problem.code is stable, problem.message localized
            flash(problem.message, "danger")

Bookings: :func:`book`, :func:`cancel`, :func:`approve`, :func:`reject`,
:func:`mark_attended`, :func:`mark_no_show`, :func:`rate`, :func:`cancel_slot`.
Waiting list: :func:`join_waitlist`, :func:`accept_offer`, :func:`expire_offers`.
Jobs: :func:`send_reminders`. Slots: :func:`generate_slots`, :func:`regenerate_slots`,
:func:`add_event`, :func:`generate_all`.

Each operation commits on success, then calls the plugins' ``booking_created`` /
``booking_state_changed``; a refusal raises :class:`BookingRefused` with every problem found
and writes nothing. Refusal codes (see :data:`MESSAGES` for their messages):
``slot_not_found``, ``slot_cancelled``, ``slot_past``, ``slot_full``, ``slot_not_full``,
``too_late``, ``too_early``, ``too_many_seats``, ``not_eligible``, ``quota_reached``,
``already_booked``, ``service_unavailable``, ``waitlist_disabled``, ``plugin_refused``,
``cancel_deadline_passed``, ``invalid_transition``, ``not_started``, ``not_owner``,
``already_rated``, ``invalid_rating``, ``offer_expired``. Views typically answer 409 for
``slot_full``/``already_booked``/``invalid_transition`` and 422 for the others.
"""

from core.booking.engine import (
    Applicant,
    approve,
    book,
    cancel,
    cancel_slot,
    mark_attended,
    mark_no_show,
    rate,
    reject,
)
from core.booking.errors import MESSAGES, BookingProblem, BookingRefused
from core.booking.reminders import send_reminders
from core.booking.seats import claim_seats, release_seats
from core.booking.slots import (
    RegenerationReport,
    add_event,
    generate_all,
    generate_slots,
    regenerate_slots,
)
from core.booking.states import TRANSITIONS, can_transition
from core.booking.waitlist import accept_offer, expire_offers, join_waitlist

__all__ = [
    "MESSAGES",
    "TRANSITIONS",
    "Applicant",
    "BookingProblem",
    "BookingRefused",
    "RegenerationReport",
    "accept_offer",
    "add_event",
    "approve",
    "book",
    "can_transition",
    "cancel",
    "cancel_slot",
    "claim_seats",
    "expire_offers",
    "generate_all",
    "generate_slots",
    "join_waitlist",
    "mark_attended",
    "mark_no_show",
    "rate",
    "regenerate_slots",
    "reject",
    "release_seats",
    "send_reminders",
]
