"""Where the catalogue tells the booking engine that a service's schedule changed.

Integration point: the booking engine (``core.booking.slots``, written in parallel) provides
``regenerate_slots(session, service)``, which (re)creates the service's future slots from its
opening rules and closures. Until it is merged this module finds it missing and does nothing;
once it exists, every view that changes opening hours, closures or publishes a service already
calls :func:`service_schedule_changed`, so no view needs touching. The integrator may replace the
guarded import below with a direct import.

Called (inside the transaction, before commit) after: adding or removing a weekly opening or a
closure; editing a service (its notice and advance rules bound the slots); publishing without
approval; an admin's approval; withdrawing. ``regenerate_slots`` should therefore look at
``service.status`` (e.g. create no new slots for a withdrawn or draft service) and never drop
slots that hold bookings.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.models import Service

log = logging.getLogger(__name__)


def _regenerate_slots() -> Callable[[Session, Service], Any] | None:
    """``core.booking.slots.regenerate_slots`` if the booking engine is installed, else None."""
    try:
        module = importlib.import_module("core.booking.slots")
    except ModuleNotFoundError as exc:
        if exc.name not in {"core.booking", "core.booking.slots"}:
            raise  # the module exists but is broken: fail loudly
        return None
    return getattr(module, "regenerate_slots", None)


def service_schedule_changed(session: Session, service: Service) -> bool:
    """Tell the booking engine ``service``'s opening hours, closures or status changed.

    Runs inside the caller's transaction (before its commit). Returns whether slots were
    regenerated (False while the booking engine is not installed).
    """
    regenerate = _regenerate_slots()
    if regenerate is None:
        log.debug("no booking engine: slots of service %s not regenerated", service.id)
        return False
    regenerate(session, service)
    return True
