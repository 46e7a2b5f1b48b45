"""A few months of past activity for the Isola-Garibaldi demo, so the reports show something.

Demo residents with beneficiary declarations; past slots of a dozen services with attended,
no-show and cancelled bookings and ratings; and a few full evening events with a waiting
list. Deterministic (a seeded generator, dates relative to today) and loaded once: a second
``concilia demo load`` finds the marker bookings and adds nothing.
"""

from __future__ import annotations

import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.passwords import hash_password
from core.models import BeneficiaryDeclaration, Booking, District, Organisation, Service, Slot, User
from districts.isola_garibaldi.config import SLUG
from districts.isola_garibaldi.policy import ALLIANCE_EMPLOYEE, SME_EMPLOYEE, VAT_HOLDER

ZONE = ZoneInfo("Europe/Rome")
KEY = "demo-history"
MONTHS = 6
SERVICES_PER_AREA = 3
FIRST_NAMES = (
    "Luca", "Sara", "Paolo", "Chiara", "Davide", "Elena", "Matteo", "Francesca",
    "Giorgio", "Marta", "Stefano", "Valentina", "Andrea", "Silvia", "Roberto", "Ilaria",
)  # fmt: skip
LAST_NAMES = (
    "Ferrari", "Russo", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Bruno", "Gallo", "Costa", "Fontana", "Conti", "Moretti", "Barbieri", "Lombardi",
)  # fmt: skip
DECLARATIONS = (
    (ALLIANCE_EMPLOYEE, "approved"),
    (ALLIANCE_EMPLOYEE, "approved"),
    (SME_EMPLOYEE, "approved"),
    (VAT_HOLDER, "approved"),
    (ALLIANCE_EMPLOYEE, "pending"),
    (VAT_HOLDER, "pending"),
    (SME_EMPLOYEE, "rejected"),
    (VAT_HOLDER, "rejected"),
)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def _residents(session: Session) -> list[User]:
    unusable = hash_password(secrets.token_urlsafe(24))  # demo residents cannot log in
    people = []
    for i, (first, last) in enumerate(zip(FIRST_NAMES, LAST_NAMES, strict=True)):
        email = f"{first.lower()}.{last.lower()}@residenti.example"
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                password_hash=unusable,
                full_name=f"{first} {last}",
                locale="it" if i % 3 else "en",
                email_verified_at=datetime.now(UTC),
            )
            session.add(user)
        people.append(user)
    session.flush()
    return people


def _declarations(session: Session, district: District, people: list[User]) -> None:
    employers = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.district_id == district.id, Organisation.alliance_member.is_(True))
            .order_by(Organisation.id)
            .limit(4)
        )
    )
    for i, (klass, status) in enumerate(DECLARATIONS * 2):
        person = people[i]
        employer = employers[i % len(employers)] if employers and klass != VAT_HOLDER else None
        session.add(
            BeneficiaryDeclaration(
                user_id=person.id,
                district_id=district.id,
                beneficiary_class=klass,
                vat_number="00743110157" if klass == VAT_HOLDER else "",
                employer_id=employer.id if employer else None,
                employer_name=employer.name if employer else "",
                status=status,
                reason="" if status != "rejected" else "Documentazione non sufficiente.",
                created_at=datetime.now(UTC) - timedelta(days=120 - 7 * i),
                decided_at=None if status == "pending" else datetime.now(UTC),
            )
        )


def _services(session: Session, district: District) -> list[Service]:
    chosen: list[Service] = []
    rows = session.scalars(
        select(Service)
        .where(Service.district_id == district.id, Service.status == "published")
        .order_by(Service.category, Service.id)
    )
    per_area: dict[str, int] = {}
    for service in rows:
        if per_area.get(service.category, 0) < SERVICES_PER_AREA:
            per_area[service.category] = per_area.get(service.category, 0) + 1
            chosen.append(service)
    return chosen


def _past(session: Session, services: list[Service], people: list[User], rng: Any) -> int:
    today = datetime.now(ZONE).date()
    made = 0
    for s_index, service in enumerate(services):
        popularity = 1.0 - 0.06 * s_index
        for back in range(MONTHS, -1, -1):
            months = today.year * 12 + today.month - 1 - back
            month_start = date(months // 12, months % 12 + 1, 1)
            for day_of_month in (7, 21):
                day = month_start.replace(day=day_of_month)
                if day >= today:
                    continue
                starts = _local(day, 17, 30)
                capacity = 8
                slot = Slot(
                    service_id=service.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    capacity=capacity,
                    taken=0,
                )
                session.add(slot)
                count = min(capacity, max(0, round(capacity * popularity * rng.uniform(0.4, 1.1))))
                for n, person in enumerate(rng.sample(people, count)):
                    roll = rng.random()
                    status, by = "attended", ""
                    if roll < 0.1:
                        status = "no_show"
                    elif roll < 0.24:
                        status, by = "cancelled", "resident"
                    elif roll < 0.28:
                        status, by = "cancelled", "provider"
                    rating = None
                    if status == "attended" and rng.random() < 0.6:
                        rating = rng.choices((2, 3, 4, 5), weights=(1, 2, 5, 4))[0]
                    session.add(
                        Booking(
                            slot=slot,
                            service_id=service.id,
                            user_id=person.id,
                            status=status,
                            cancelled_by=by,
                            applicant_name=person.full_name,
                            applicant_email=person.email,
                            idempotency_key=f"{KEY}-{service.id}-{starts:%Y%m%d}-{n}",
                            created_at=starts - timedelta(days=5),
                            rating=rating,
                            rated_at=starts + timedelta(days=1) if rating else None,
                        )
                    )
                    made += 1
    return made


def _waiting(session: Session, services: list[Service], people: list[User]) -> int:
    today = datetime.now(ZONE).date()
    made = 0
    for index, service in enumerate(services[::3]):
        starts = _local(today + timedelta(days=5 + index), 20, 30)
        slot = Slot(
            service_id=service.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            capacity=2,
            taken=2,
            kind="event",
            title="Incontro serale",
        )
        session.add(slot)
        for n, person in enumerate(people[index : index + 2 + 2 + index % 2]):
            session.add(
                Booking(
                    slot=slot,
                    service_id=service.id,
                    user_id=person.id,
                    status="confirmed" if n < 2 else "waitlisted",
                    applicant_name=person.full_name,
                    applicant_email=person.email,
                    idempotency_key=f"{KEY}-{service.id}-{starts:%Y%m%d}-{n}",
                )
            )
            made += 1
    return made


def load_history(session: Session) -> int:
    """Add the demo's past activity once; returns how many bookings it added (0 if present)."""
    district = session.scalar(select(District).where(District.slug == SLUG))
    if district is None:
        return 0
    if session.scalar(select(Booking.id).where(Booking.idempotency_key.like(f"{KEY}-%")).limit(1)):
        return 0
    people = _residents(session)
    _declarations(session, district, people)
    services = _services(session, district)
    rng = random.Random(9)  # the same history every time
    made = _past(session, services, people, rng) + _waiting(session, services, people)
    session.flush()
    return made
