"""What one booking confirmation costs the database, and that its writes stay all-or-nothing.

The confirmation is the platform's busiest write (``docs/performance.md``): a short, fixed list
of statements, one commit, and the slot's seats claimed last so that its row lock (or SQLite's
write lock) is held from the claim to the commit only. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, get_translations
from sqlalchemy import event, func, select, update

from core.booking import BookingRefused, book
from core.booking.notifications import catalog_gettext
from core.extensions import db
from core.models import Booking, Consent, OutboxMessage, Slot, User
from core.privacy import record_booking_consent
from tests.support import factories as f
from tests.support.booking_web import (
    base,
    borgo_service,
    confirm,
    key_of,
    logged_in,
    walk_to_summary,
)
from tests.support.web import csrf_token


@contextmanager
def database_calls() -> Iterator[list[str]]:
    """Every statement, COMMIT and ROLLBACK the app's engine runs inside the block, in order."""
    calls: list[str] = []

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        calls.append(" ".join(text.split()))

    def commit(_conn: Any) -> None:
        calls.append("COMMIT")

    def rollback(_conn: Any) -> None:
        calls.append("ROLLBACK")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    event.listen(db.engine, "rollback", rollback)
    try:
        yield calls
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
        event.remove(db.engine, "rollback", rollback)


def count(model: Any, **where: Any) -> int:
    """Rows of ``model`` matching ``where``, read fresh."""
    db.session.expire_all()
    query = select(func.count()).select_from(model).filter_by(**where)
    return db.session.scalar(query) or 0


def consented_versions(user_id: int) -> list[str]:
    """The notice versions a person accepted for bookings, oldest first."""
    query = (
        select(Consent.notice_version)
        .where(Consent.user_id == user_id, Consent.purpose == "booking")
        .order_by(Consent.id)
    )
    return list(db.session.scalars(query))


def test_a_confirmation_is_one_read_its_writes_and_one_commit(
    app: Flask, client: FlaskClient
) -> None:
    person = logged_in(client)
    svc = borgo_service()
    first = f.slot(svc, capacity=5)
    second = f.slot(svc, capacity=5, starts_in=timedelta(days=3))
    db.session.commit()
    sizes, inserts = [], []
    for slot in (first, second):
        key = key_of(walk_to_summary(client, svc, slot))
        form = {"idempotency_key": key, "csrf_token": csrf_token(client, "/"), "consent": "y"}
        with database_calls() as calls:
            assert client.post(f"{base(svc)}/confirm", data=form).status_code == 302
        sizes.append(len(calls) - calls.count("COMMIT") - calls.count("ROLLBACK"))
        # one transaction: the reads, the booking with its mail (and consent), the claim, commit
        assert calls.count("COMMIT") == 1, calls
        writes = [c.split()[0] for c in calls if c.split()[0] in ("INSERT", "UPDATE", "DELETE")]
        inserts.append([c.split()[2] for c in calls if c.startswith("INSERT")])
        assert writes[-1] == "UPDATE" and writes.count("UPDATE") == 1, calls
        claim = next(i for i, c in enumerate(calls) if c.startswith("UPDATE slot"))
        assert calls[claim + 1] == "COMMIT", calls  # nothing runs while the seat is locked
        assert calls[claim + 2 :] == [], calls  # and nothing after the commit
        # one read: the service with its slot, the person (Flask-Login's loader then finds
        # them in the session), whether this notice version was accepted already and
        # whether any webhook listens (none does: the webhooks plugin looks nothing up)
        service_read = calls[0].replace('"', "")
        assert service_read.startswith("SELECT service."), calls
        for part in ("JOIN user ON", "FROM consent", "FROM webhook"):
            assert part in service_read, (part, calls)
        assert [c for c in calls if c.startswith("SELECT")] == [calls[0]], calls
    # that read; the booking, its mail and, the first time only, the consent; the claim.
    # (The district's row is known since the flow's first page; an earlier booking would be
    # caught by the unique indexes.)
    assert inserts == [["booking", "outbox_message", "consent"], ["booking", "outbox_message"]]
    assert sizes == [5, 4], sizes
    assert count(Booking, user_id=person.id, status="confirmed") == 2
    assert count(Consent, user_id=person.id, purpose="booking") == 1
    assert count(OutboxMessage, kind="booking_confirmed") == 2


def test_a_plugins_details_and_an_applicant_without_a_phone_cost_no_further_read(
    app: Flask, client: FlaskClient
) -> None:
    """The first read leaves some columns unread; none the confirmation uses: here the
    family plugin's fields read the service's type, and the booking takes the person's own
    phone when the applicant gave none."""
    person = logged_in(client, phone="+39 02 7654321")
    svc = borgo_service(category="family", service_type="summer-camp")
    slot = f.slot(svc, capacity=5)
    db.session.commit()
    summary = walk_to_summary(
        client,
        svc,
        slot,
        details={"child_name": "Luca", "child_age": "9"},
        applicant={"name": "Anna Rossi", "email": "anna@example.org"},
    )
    form = {"idempotency_key": key_of(summary), "csrf_token": csrf_token(client, "/")}
    with database_calls() as calls:
        assert client.post(f"{base(svc)}/confirm", data={**form, "consent": "y"}).status_code == 302
    assert [c for c in calls if c.startswith("SELECT")] == [calls[0]], calls
    booking = db.session.scalars(select(Booking).where(Booking.user_id == person.id)).one()
    assert booking.applicant_phone == "+39 02 7654321"
    assert booking.answers == {"child_name": "Luca", "child_age": 9}


def test_with_rate_limits_on_the_person_is_still_read_with_the_service(make_app: Any) -> None:
    """As in production: the booking limit's key is the person, asked before the view runs;
    the loader finds them in the confirmation's first read all the same."""
    app = make_app(RATELIMIT_ENABLED=True, CONCILIA_BOOKING_RATE_LIMIT="5 per minute")
    with app.app_context():
        client = app.test_client()
        logged_in(client)
        svc = borgo_service()
        slot = f.slot(svc)
        db.session.commit()
        key = key_of(walk_to_summary(client, svc, slot))
        form = {"idempotency_key": key, "csrf_token": csrf_token(client, "/"), "consent": "y"}
        with database_calls() as calls:
            assert client.post(f"{base(svc)}/confirm", data=form).status_code == 302
    reads = [c.replace('"', "") for c in calls if c.startswith("SELECT")]
    assert len(reads) == 1 and "JOIN user ON" in reads[0], calls


def test_a_new_notice_version_is_accepted_again(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consent recorded for one version of the district's notice does not stand for the
    next: the first booking under the new version records it again."""
    person = logged_in(client)
    svc = borgo_service()
    first = f.slot(svc, capacity=5)
    second = f.slot(svc, capacity=5, starts_in=timedelta(days=3))
    db.session.commit()
    assert confirm(client, svc, key_of(walk_to_summary(client, svc, first))).status_code == 302
    districts = app.extensions["concilia"].districts
    new_notice = replace(districts["borgo-test"], privacy_notice_version="2")
    monkeypatch.setitem(districts, "borgo-test", new_notice)
    assert confirm(client, svc, key_of(walk_to_summary(client, svc, second))).status_code == 302
    assert consented_versions(person.id) == ["1", "2"]


def test_a_slot_found_full_is_refused_without_rereading_the_page(
    app: Flask, client: FlaskClient
) -> None:
    """The seats went while the person read the summary: the confirmation sees the full slot
    in its first read and is refused before writing anything. Nothing is rolled back before
    the page is drawn, so nothing already read is read again: the service with its slot and
    the person, their earlier bookings (a twin to answer with?), the menu's roles; 409."""
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc, capacity=2)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    form = {"idempotency_key": key, "csrf_token": csrf_token(client, "/"), "consent": "y"}
    with db.engine.begin() as other:  # the last seats go to others meanwhile
        other.execute(update(Slot).where(Slot.id == slot.id).values(taken=2))

    with database_calls() as calls:
        response = client.post(f"{base(svc)}/confirm", data=form)

    assert response.status_code == 409
    assert "This time is no longer available." in response.get_data(as_text=True)
    assert calls[-1] == "ROLLBACK" and calls.count("ROLLBACK") == 1, calls  # the request's end
    reads = calls[:-1]
    assert all(c.startswith("SELECT") for c in reads), calls
    assert len(reads) == 3, calls
    assert not any(c.replace('"', "").startswith("SELECT user.") for c in reads), calls
    assert count(Booking) == 0


@pytest.mark.parametrize("change", ["password changed elsewhere", "account closed"])
def test_a_session_no_longer_valid_cannot_confirm(
    app: Flask, client: FlaskClient, change: str
) -> None:
    """The confirmation reads the session's person with the service, but Flask-Login's
    loader still decides: a session from before a password change, or of a closed account,
    is sent to the login page and books nothing."""
    person = logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    form = {"idempotency_key": key, "csrf_token": csrf_token(client, "/"), "consent": "y"}
    user = db.session.get(User, person.id)
    assert user is not None
    if change == "account closed":
        user.active = False
    else:
        user.session_version += 1
    db.session.commit()

    response = client.post(f"{base(svc)}/confirm", data=form)

    assert response.status_code == 302
    assert "/login" in response.location
    assert count(Booking) == 0


def test_a_refused_confirmation_records_no_consent(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service(beneficiaries_only=True)
    slot = f.slot(svc)
    db.session.commit()
    response = confirm(client, svc, key_of(walk_to_summary(client, svc, slot)))
    assert response.status_code == 422
    assert count(Consent, user_id=person.id, purpose="booking") == 0
    assert count(OutboxMessage) == 0


@pytest.mark.parametrize("rule", [{}, {"quota_per_month": 3}])
def test_seats_taken_after_the_checks_leave_nothing_behind(
    app: Flask, rule: dict[str, Any]
) -> None:
    """The checks pass on what was read; the last seat goes to someone else before the claim:
    the booking, its mail and the consent written before the claim are all rolled back."""
    svc = borgo_service(**rule)
    slot = f.slot(svc, capacity=1)
    person = f.user()
    db.session.commit()
    seen = db.session.get(Slot, slot.id)
    assert seen is not None and seen.taken == 0  # what this session has read
    with db.engine.begin() as other:  # another request takes the seat meanwhile
        other.execute(update(Slot).where(Slot.id == slot.id).values(taken=1))
    user = db.session.get(User, person.id)
    assert user is not None

    with pytest.raises(BookingRefused) as refused:
        book(
            user=user,
            slot_id=slot.id,
            idempotency_key="k" * 20,
            in_transaction=lambda _b: record_booking_consent(user, "borgo-test", "1"),
        )

    assert refused.value.codes == ["slot_full"]
    assert count(Booking) == 0
    assert count(OutboxMessage) == 0
    assert count(Consent) == 0
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).taken == 1  # type: ignore[union-attr]


def test_the_booking_consent_is_recorded_once_per_notice_version(app: Flask) -> None:
    person = f.user()
    db.session.commit()
    for version in ("1", "1", "2"):
        record_booking_consent(person, "borgo-test", version)
        db.session.commit()
    assert consented_versions(person.id) == ["1", "2"]


@pytest.mark.parametrize("autoescape", ["true", "false"])
def test_the_mails_catalog_gettext_renders_as_jinjas_own(app: Flask, autoescape: str) -> None:
    """Booking mails look their catalog up once; the text is the same as through Flask-Babel."""
    source = (
        f"{{% autoescape {autoescape} %}}{{{{ _('Service') }}}}: "
        "{{ _('You can cancel online until %(deadline)s.', deadline=when) }}{% endautoescape %}"
    )
    with app.test_request_context(), force_locale("it"):
        template = app.jinja_env.from_string(source)
        usual = template.render(when="<b>lunedì</b>")
        fast = template.render(when="<b>lunedì</b>", gettext=catalog_gettext(get_translations()))
    assert fast == usual
    assert fast.startswith("Servizio: ")
    assert ("&lt;b&gt;" in fast) is (autoescape == "true")
