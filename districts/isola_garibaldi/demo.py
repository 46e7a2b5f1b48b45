"""The Isola-Garibaldi demo: the Alliance, its services at real places, and demo accounts.

The rows come from the JSON files in ``data/``; this module only upserts them, so running
``concilia demo load`` twice changes nothing. Slots are not created here: the booking engine
generates them from the opening rules.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.passwords import hash_password, verify_password
from core.models import (
    BeneficiaryDeclaration,
    Closure,
    District,
    DistrictAdmin,
    Membership,
    OpeningRule,
    Organisation,
    Service,
    User,
)
from districts.isola_garibaldi.config import DEMO_EMAILS, DEMO_PASSWORDS, SLUG

DATA = Path(__file__).resolve().parent / "data"
ORGANISATION_FIELDS = (
    "name",
    "kind",
    "alliance_member",
    "is_provider",
    "size_class",
    "email_domain",
    "email_domain_verified",
    "website",
    "address",
    "postcode",
    "description_it",
    "description_en",
)
SERVICE_RULE_FIELDS = (
    "price_cents",
    "beneficiary_price_cents",
    "beneficiaries_only",
    "requires_approval",
    "max_seats_per_booking",
    "quota_per_month",
    "min_notice_minutes",
    "max_advance_days",
    "cancel_deadline_minutes",
    "waitlist_enabled",
)


@cache
def load_json(name: str) -> Any:
    """A data file of the package, parsed."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def organisations() -> list[dict[str, Any]]:
    """The Alliance and the other organisations of the demo."""
    return load_json("organisations.json")


def services() -> list[dict[str, Any]]:
    """The demo services, with the defaults filled in."""
    data = load_json("services.json")
    return [{**data["defaults"], **service} for service in data["services"]]


def places() -> dict[str, dict[str, Any]]:
    """The named places, those from the open-data file resolved to address and coordinates."""
    raw = {k: v for k, v in load_json("places.json").items() if not k.startswith("_")}
    features = load_json("sport-facilities.geojson")["features"]
    resolved: dict[str, dict[str, Any]] = {}
    for key, place in raw.items():
        ref = place.get("geojson")
        if ref is None:
            resolved[key] = place
            continue
        feature = next(
            f
            for f in features
            if f["properties"]["VIA"] == ref["VIA"]
            and f["properties"]["LOCALITA"] == ref["LOCALITA"]
        )
        number, postcode = (p.strip() for p in ref["LOCALITA"].split(","))
        lon, lat = feature["geometry"]["coordinates"]
        resolved[key] = {
            "name": place["name"],
            "address": f"{ref['VIA']} {number}, Milano",
            "postcode": postcode,
            "latitude": lat,
            "longitude": lon,
        }
    return resolved


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set only the attributes that differ, so an unchanged row is not updated; True if any."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def next_occurrence(month: int, day: int, today: date) -> date:
    """The next date (today included) falling on ``month``/``day``."""
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def load(session: Session, echo: Any = click.echo) -> dict[str, int]:
    """Upsert the whole demo of Isola-Garibaldi; returns how many rows of each kind it holds."""
    district = session.scalar(select(District).where(District.slug == SLUG))
    if district is None:  # `concilia demo load` syncs districts first; be safe when called alone
        district = District(slug=SLUG, name="Isola-Garibaldi", municipality="Comune di Milano")
        session.add(district)
        session.flush()
    orgs = _load_organisations(session, district, echo)
    counts = {"organisations": len(orgs)}
    counts.update(_load_services(session, district, orgs, echo))
    counts["accounts"] = _load_people(session, district, orgs, echo)
    session.flush()
    return counts


def _load_organisations(session: Session, district: District, echo: Any) -> dict[str, Organisation]:
    data = organisations()
    existing = {
        o.slug: o
        for o in session.scalars(
            select(Organisation).where(Organisation.district_id == district.id)
        )
    }
    result: dict[str, Organisation] = {}
    for item in data:
        row = existing.get(item["slug"])
        if row is None:
            row = Organisation(district_id=district.id, slug=item["slug"])
            session.add(row)
        _assign(row, {field: item.get(field, "") for field in ORGANISATION_FIELDS})
        result[item["slug"]] = row
    session.flush()
    echo(f"  organisations {len(result)}/{len(data)}")
    return result


def _load_services(
    session: Session, district: District, orgs: dict[str, Organisation], echo: Any
) -> dict[str, int]:
    data = services()
    where = places()
    holidays = load_json("holidays.json")["holidays"]
    today = datetime.now(ZoneInfo("Europe/Rome")).date()
    closed = [(next_occurrence(h["month"], h["day"], today), h["reason"]) for h in holidays]
    existing = {
        s.slug: s
        for s in session.scalars(select(Service).where(Service.district_id == district.id))
    }
    rules = closures = 0
    for item in data:
        org = orgs[item["org"]]
        place = where[item["place"]] if item.get("place") else None
        row = existing.get(item["slug"])
        if row is None:
            row = Service(
                district_id=district.id, slug=item["slug"], published_at=datetime.now(UTC)
            )
            session.add(row)
        values: dict[str, Any] = {
            "organisation_id": org.id,
            "category": item["category"],
            "service_type": item["type"],
            "title_it": item["title_it"],
            "title_en": item["title_en"],
            "description_it": item["description_it"],
            "description_en": item["description_en"],
            "place_name": place["name"] if place else org.name,
            "address": place["address"] if place else org.address,
            "postcode": place["postcode"] if place else org.postcode,
            "latitude": place.get("latitude") if place else None,
            "longitude": place.get("longitude") if place else None,
            "status": "published",
            **{field: item[field] for field in SERVICE_RULE_FIELDS},
        }
        # Service.search_text is kept by the core on every flush (core.catalogue.search).
        _assign(row, values)
        session.flush()
        rules += _sync_rules(session, row, item["rules"])
        closures += _sync_closures(session, row, closed)
    echo(f"  services {len(data)}/{len(data)}")
    echo(f"  opening rules {rules}")
    echo(f"  closures {closures}")
    return {"services": len(data), "opening_rules": rules, "closures": closures}


def _sync_rules(session: Session, service: Service, rules: list[dict[str, Any]]) -> int:
    """Make the service's weekly openings exactly those of the data file."""
    wanted = {
        (
            day,
            _hhmm(r["start"]),
            _hhmm(r["end"]),
            r["slot"],
            r["seats"],
            _day(r.get("valid_from")),
            _day(r.get("valid_until")),
        )
        for r in rules
        for day in r["days"]
    }
    current = {
        (o.weekday, o.start, o.end, o.slot_minutes, o.seats, o.valid_from, o.valid_until): o
        for o in session.scalars(select(OpeningRule).where(OpeningRule.service_id == service.id))
    }
    for key, rule in current.items():
        if key not in wanted:
            session.delete(rule)
    for key in sorted(wanted - set(current), key=str):
        weekday, start, end, slot, seats, valid_from, valid_until = key
        session.add(
            OpeningRule(
                service_id=service.id,
                weekday=weekday,
                start=start,
                end=end,
                slot_minutes=slot,
                seats=seats,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    return len(wanted)


def _sync_closures(session: Session, service: Service, closed: list[tuple[date, str]]) -> int:
    """Add the holiday closures the service lacks (existing closures are kept)."""
    days = set(session.scalars(select(Closure.day).where(Closure.service_id == service.id)))
    for day, reason in closed:
        if day not in days:
            session.add(Closure(service_id=service.id, day=day, reason=reason))
    return len(closed)


def _user(session: Session, email: str, password: str, full_name: str) -> User:
    row = session.scalar(select(User).where(User.email == email))
    if row is None:
        row = User(
            email=email,
            password_hash=hash_password(password),
            full_name=full_name,
            locale="it",
            email_verified_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return row
    if not verify_password(row.password_hash, password):
        row.password_hash = hash_password(password)
    if row.email_verified_at is None:
        row.email_verified_at = datetime.now(UTC)
    _assign(row, {"full_name": full_name, "active": True})
    return row


def _load_people(
    session: Session, district: District, orgs: dict[str, Organisation], echo: Any
) -> int:
    people = load_json("people.json")["users"]
    for person in people:
        role = person["role"]
        user = _user(session, DEMO_EMAILS[role], DEMO_PASSWORDS[role], person["full_name"])
        for org_slug in person.get("memberships", ()):
            org_id = orgs[org_slug].id
            if not session.scalar(
                select(Membership.id).filter_by(user_id=user.id, organisation_id=org_id)
            ):
                session.add(Membership(user_id=user.id, organisation_id=org_id))
        if role == "admin" and not session.scalar(
            select(DistrictAdmin.id).filter_by(user_id=user.id, district_id=district.id)
        ):
            session.add(DistrictAdmin(user_id=user.id, district_id=district.id))
        declared = person.get("declaration")
        if declared:
            _declaration(session, district, user, declared, orgs)
    session.flush()
    echo(f"  accounts {len(people)}/{len(people)}")
    return len(people)


def _declaration(
    session: Session,
    district: District,
    user: User,
    declared: dict[str, str],
    orgs: dict[str, Organisation],
) -> None:
    row = session.scalar(
        select(BeneficiaryDeclaration).filter_by(user_id=user.id, district_id=district.id)
    )
    if row is None:
        row = BeneficiaryDeclaration(
            user_id=user.id, district_id=district.id, decided_at=datetime.now(UTC)
        )
        session.add(row)
    _assign(
        row,
        {
            "beneficiary_class": declared["beneficiary_class"],
            "employer_name": declared["employer_name"],
            "employer_id": orgs[declared["employer"]].id,
            "status": "approved",
            "reason": "Your work address confirms you are employed by an Alliance member.",
        },
    )
