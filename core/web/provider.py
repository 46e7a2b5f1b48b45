"""The provider area: staff of an organisation manage its services, hours and closures.

Every view checks that the service or organisation belongs to the district in the URL (else
404) and that the logged-in person works for its organisation (else 403).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from core.catalogue.describe import weekday_names
from core.catalogue.events import service_schedule_changed
from core.catalogue.money import AmountError, cents_to_input, parse_cents
from core.catalogue.queries import (
    organisation_by_slug,
    organisations_services,
    staff_organisations,
)
from core.catalogue.services import (
    CatalogueError,
    ServiceData,
    add_closure,
    add_opening_rule,
    create_service,
    enabled_categories,
    local_today,
    publish,
    remove_closure,
    remove_opening_rule,
    review_notes,
    update_service,
    withdraw,
)
from core.extensions import db
from core.i18n import locale_code
from core.models import Organisation, Service
from core.plugins.types import Category, DistrictConfig
from core.tenancy import get_district_or_404

bp = Blueprint("provider", __name__, url_prefix="/<district>/provider")

STATUS_LABELS = {
    "draft": _l("Draft"),
    "pending_approval": _l("Waiting for approval"),
    "published": _l("Published"),
    "withdrawn": _l("Withdrawn"),
}


@bp.app_template_global()
def service_status_label(status: str) -> str:
    """A service status in the reader's language."""
    return str(STATUS_LABELS.get(status, status))


class CommaDecimalField(DecimalField):
    """A decimal number typed as text, with a comma or a dot as decimal separator ("1,5")."""

    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read "1,5" as 1.5."""
        if valuelist:
            valuelist = [str(valuelist[0]).strip().replace(",", ".")]
        super().process_formdata(valuelist)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        text = format(Decimal(self.data).normalize(), "f")
        return text.replace(".", ",") if locale_code() == "it" else text


class ServiceForm(FlaskForm):
    """A service's description, price and booking rules."""

    category = SelectField(_l("Area"), validate_choice=False)
    service_type = SelectField(_l("Type of service"), validate_choice=False)
    title_it = StringField(
        _l("Title in Italian"), validators=[Length(max=200)], render_kw={"lang": "it"}
    )
    title_en = StringField(
        _l("Title in English"), validators=[Length(max=200)], render_kw={"lang": "en"}
    )
    description_it = TextAreaField(
        _l("Description in Italian"),
        validators=[Length(max=5000)],
        render_kw={"lang": "it", "rows": 5},
    )
    description_en = TextAreaField(
        _l("Description in English"),
        validators=[Length(max=5000)],
        render_kw={"lang": "en", "rows": 5},
    )
    place_name = StringField(_l("Place"), validators=[Length(max=200)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[Length(max=10)])
    price = StringField(_l("Price in euros"), validators=[Length(max=20)])
    beneficiary_price = StringField(
        _l("Price for beneficiaries in euros"), validators=[Length(max=20)]
    )
    beneficiaries_only = BooleanField(_l("Only for the district's beneficiaries"))
    min_notice_hours = CommaDecimalField(
        _l("Minimum notice, in hours"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=0, max=8760)],
    )
    max_advance_days = IntegerField(
        _l("Bookings open how many days ahead"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=1, max=730)],
    )
    cancel_deadline_hours = CommaDecimalField(
        _l("Cancellation allowed until how many hours before"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=0, max=8760)],
    )
    requires_approval = BooleanField(_l("I confirm each booking myself"))
    max_seats_per_booking = IntegerField(
        _l("Places per booking, at most"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=1, max=50)],
    )
    quota_per_month = IntegerField(
        _l("Bookings per person per month, at most"),
        validators=[Optional(), NumberRange(min=1, max=1000)],
    )
    quota_scope = SelectField(
        _l("The monthly limit counts"),
        choices=[
            SelectChoice("service", _l("this service")),
            SelectChoice("category", _l("the whole area")),
        ],
    )
    waitlist_enabled = BooleanField(_l("Offer a waiting list when full"))
    waitlist_hold_minutes = IntegerField(
        _l("Minutes a freed place is held for the next person (0: book at once)"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=0, max=10080)],
    )
    ical_public = BooleanField(_l("Publish a calendar feed of the free times"))


class OpeningRuleForm(FlaskForm):
    """One weekly opening."""

    weekday = SelectField(_l("Day"), coerce=int, validate_choice=True)
    start = TimeField(_l("From"), validators=[InputRequired(_l("Enter a time."))])
    end = TimeField(_l("To"), validators=[InputRequired(_l("Enter a time."))])
    slot_minutes = IntegerField(
        _l("Slot length in minutes"),
        default=60,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=5, max=720)],
    )
    seats = IntegerField(
        _l("Places per slot"),
        default=1,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(min=1, max=500)],
    )


class ClosureForm(FlaskForm):
    """A day the service is closed."""

    day = DateField(_l("Closed on"), validators=[InputRequired(_l("Enter a date."))])
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=200)])


def _categories() -> dict[str, Category]:
    return current_app.extensions["concilia"].categories


def weekday_choices(names: dict[int, str]) -> list[SelectChoice]:
    """The weekday drop-down's choices (0 = Monday), named in the current language."""
    return [SelectChoice(day, name) for day, name in names.items()]  # type: ignore[arg-type]


def _service_form(config: DistrictConfig, **kwargs: Any) -> ServiceForm:
    form = ServiceForm(**kwargs)
    enabled = enabled_categories(config, _categories())
    form.category.choices = [SelectChoice(c.slug, str(c.name)) for c in enabled]
    types = [SelectChoice("", _("Not specified"))]
    for c in enabled:
        types.extend(SelectChoice(t.slug, f"{c.name}: {t.name}") for t in c.service_types)
    form.service_type.choices = types
    return form


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize()


def _initial(service: Service) -> dict[str, Any]:
    data = asdict(ServiceData.from_service(service))
    data.update(
        price=cents_to_input(service.price_cents, locale_code()),
        beneficiary_price=cents_to_input(service.beneficiary_price_cents, locale_code()),
        min_notice_hours=_hours(service.min_notice_minutes),
        cancel_deadline_hours=_hours(service.cancel_deadline_minutes),
    )
    return data


AMOUNT_MESSAGES = {
    "invalid": _l("Enter an amount in euros, like 12,50."),
    "negative": _l("The price cannot be negative."),
    "too_large": _l("This amount is too large."),
}


def _add_error(form: FlaskForm, name: str, message: Any) -> None:
    target = form._fields.get(name) if name else None
    if target is None:
        form.form_errors.append(message)
    else:
        target.errors = [*target.errors, message]


def _add_errors(form: FlaskForm, error: CatalogueError) -> None:
    for name, messages in error.errors.items():
        for message in messages:
            _add_error(form, name, message)


def _form_data(form: ServiceForm) -> ServiceData | None:
    """The form's values as :class:`ServiceData`, or None after adding amount errors."""
    amounts: dict[str, int | None] = {}
    for name in ("price", "beneficiary_price"):
        try:
            amounts[name] = parse_cents(getattr(form, name).data)
        except AmountError as exc:
            _add_error(form, name, AMOUNT_MESSAGES[exc.code])
    if len(amounts) < 2:
        return None

    def minutes(value: Decimal | None) -> int:
        """Hours as whole minutes (-1, refused later, when unreadable)."""
        try:
            return int((value or Decimal(0)) * 60)
        except (InvalidOperation, ValueError):
            return -1

    return ServiceData(
        category=form.category.data or "",
        service_type=form.service_type.data or "",
        title_it=form.title_it.data or "",
        title_en=form.title_en.data or "",
        description_it=form.description_it.data or "",
        description_en=form.description_en.data or "",
        place_name=form.place_name.data or "",
        address=form.address.data or "",
        postcode=form.postcode.data or "",
        price_cents=amounts["price"] or 0,
        beneficiary_price_cents=amounts["beneficiary_price"],
        beneficiaries_only=bool(form.beneficiaries_only.data),
        min_notice_minutes=minutes(form.min_notice_hours.data),
        max_advance_days=form.max_advance_days.data or 0,
        cancel_deadline_minutes=minutes(form.cancel_deadline_hours.data),
        requires_approval=bool(form.requires_approval.data),
        max_seats_per_booking=form.max_seats_per_booking.data or 0,
        quota_per_month=form.quota_per_month.data,
        quota_scope=form.quota_scope.data or "service",
        waitlist_enabled=bool(form.waitlist_enabled.data),
        waitlist_hold_minutes=form.waitlist_hold_minutes.data or 0,
        ical_public=bool(form.ical_public.data),
    )


def _organisation_for_staff(district: str, slug: str) -> tuple[DistrictConfig, Organisation]:
    config, row = get_district_or_404(district)
    organisation = organisation_by_slug(db.session, row, slug)
    if organisation is None:
        abort(404)
    if not current_user.works_for(organisation.id):
        abort(403)
    return config, organisation


def _service_for_staff(district: str, service_id: int) -> tuple[DistrictConfig, Service]:
    config, row = get_district_or_404(district)
    service = db.session.get(Service, service_id)
    if service is None or service.district_id != row.id:
        abort(404)
    if not current_user.works_for(service.organisation_id):
        abort(403)
    return config, service


@bp.get("/")
@login_required
def dashboard(district: str) -> str:
    """The organisations the person works for in this district, and their services."""
    config, row = get_district_or_404(district)
    organisations = staff_organisations(db.session, current_user.id, row)
    if not organisations:
        abort(403)
    services = organisations_services(db.session, organisations)
    notes = review_notes(db.session, [s for group in services.values() for s in group])
    return render_template(
        "provider/dashboard.html",
        config=config,
        organisations=organisations,
        services=services,
        notes=notes,
        categories=_categories(),
    )


@bp.route("/<org_slug>/services/new", methods=["GET", "POST"])
@login_required
def new_service(district: str, org_slug: str) -> str | Response | tuple[str, int]:
    """Create a draft service for one of the person's organisations."""
    config, organisation = _organisation_for_staff(district, org_slug)
    form = _service_form(
        config,
        data={
            "min_notice_hours": 1,
            "max_advance_days": 60,
            "cancel_deadline_hours": 2,
            "max_seats_per_booking": 1,
            "waitlist_enabled": True,
            "waitlist_hold_minutes": 0,
            "address": organisation.address,
            "postcode": organisation.postcode,
            "place_name": organisation.name,
        },
    )
    if form.validate_on_submit():
        data = _form_data(form)
        if data is not None:
            try:
                service = create_service(
                    db.session, organisation, data, config, _categories(), actor=current_user
                )
            except CatalogueError as exc:
                db.session.rollback()
                _add_errors(form, exc)
            else:
                db.session.commit()
                flash(_("The service was saved as a draft. Add its opening hours."), "success")
                return redirect(url_for(".schedule", district=district, service_id=service.id))
    status = 422 if form.is_submitted() else 200
    html = render_template(
        "provider/service_form.html",
        config=config,
        form=form,
        organisation=organisation,
        service=None,
    )
    return (html, status) if status != 200 else html


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@login_required
def edit_service(district: str, service_id: int) -> str | Response | tuple[str, int]:
    """Change a service's description, price and booking rules."""
    config, service = _service_for_staff(district, service_id)
    form = (
        _service_form(config)
        if request.method == "POST"
        else _service_form(config, data=_initial(service))
    )
    if form.validate_on_submit():
        data = _form_data(form)
        if data is not None:
            try:
                update_service(db.session, service, data, config, _categories(), current_user)
            except CatalogueError as exc:
                db.session.rollback()
                _add_errors(form, exc)
            else:
                service_schedule_changed(db.session, service)
                db.session.commit()
                flash(_("The changes were saved."), "success")
                return redirect(url_for(".dashboard", district=district))
    status = 422 if form.is_submitted() else 200
    html = render_template(
        "provider/service_form.html",
        config=config,
        form=form,
        organisation=service.organisation,
        service=service,
    )
    return (html, status) if status != 200 else html


def _schedule_page(
    config: DistrictConfig,
    service: Service,
    rule_form: OpeningRuleForm | None = None,
    closure_form: ClosureForm | None = None,
    status: int = 200,
) -> str | tuple[str, int]:
    names = weekday_names()
    rule_form = rule_form or OpeningRuleForm(formdata=None)
    rule_form.weekday.choices = weekday_choices(names)
    closure_form = closure_form or ClosureForm(formdata=None)
    html = render_template(
        "provider/schedule.html",
        config=config,
        service=service,
        rule_form=rule_form,
        closure_form=closure_form,
        weekday_names=names,
        today=local_today(config),
    )
    return (html, status) if status != 200 else html


@bp.get("/services/<int:service_id>/schedule")
@login_required
def schedule(district: str, service_id: int) -> str | tuple[str, int]:
    """The opening hours and closures of a service."""
    config, service = _service_for_staff(district, service_id)
    return _schedule_page(config, service)


@bp.post("/services/<int:service_id>/hours")
@login_required
def add_hours(district: str, service_id: int) -> str | Response | tuple[str, int]:
    """Add a weekly opening."""
    config, service = _service_for_staff(district, service_id)
    form = OpeningRuleForm()
    form.weekday.choices = weekday_choices(weekday_names())
    if form.validate_on_submit():
        try:
            add_opening_rule(
                db.session,
                service,
                form.weekday.data,
                form.start.data,
                form.end.data,
                form.slot_minutes.data,
                form.seats.data,
                actor=current_user,
            )
        except CatalogueError as exc:
            db.session.rollback()
            _add_errors(form, exc)
        else:
            service_schedule_changed(db.session, service)
            db.session.commit()
            flash(_("The opening hours were added."), "success")
            return redirect(url_for(".schedule", district=district, service_id=service.id))
    return _schedule_page(config, service, rule_form=form, status=422)


@bp.post("/services/<int:service_id>/hours/<int:rule_id>/delete")
@login_required
def delete_hours(district: str, service_id: int, rule_id: int) -> Response:
    """Remove a weekly opening."""
    _config, service = _service_for_staff(district, service_id)
    if not remove_opening_rule(db.session, service, rule_id, actor=current_user):
        abort(404)
    service_schedule_changed(db.session, service)
    db.session.commit()
    flash(_("The opening hours were removed."), "success")
    return redirect(url_for(".schedule", district=district, service_id=service.id))


@bp.post("/services/<int:service_id>/closures")
@login_required
def add_closure_day(district: str, service_id: int) -> str | Response | tuple[str, int]:
    """Close the service on a day."""
    config, service = _service_for_staff(district, service_id)
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            add_closure(
                db.session,
                service,
                form.day.data,
                form.reason.data or "",
                today=local_today(config),
                actor=current_user,
            )
        except CatalogueError as exc:
            db.session.rollback()
            _add_errors(form, exc)
        else:
            service_schedule_changed(db.session, service)
            db.session.commit()
            flash(_("The closure was added."), "success")
            return redirect(url_for(".schedule", district=district, service_id=service.id))
    return _schedule_page(config, service, closure_form=form, status=422)


@bp.post("/services/<int:service_id>/closures/<int:closure_id>/delete")
@login_required
def delete_closure(district: str, service_id: int, closure_id: int) -> Response:
    """Reopen the service on a closed day."""
    _config, service = _service_for_staff(district, service_id)
    if not remove_closure(db.session, service, closure_id, actor=current_user):
        abort(404)
    service_schedule_changed(db.session, service)
    db.session.commit()
    flash(_("The closure was removed."), "success")
    return redirect(url_for(".schedule", district=district, service_id=service.id))


@bp.post("/services/<int:service_id>/publish")
@login_required
def publish_service(district: str, service_id: int) -> Response:
    """Publish the service, or send it to the district for approval."""
    config, service = _service_for_staff(district, service_id)
    try:
        status = publish(db.session, service, config, actor=current_user)
    except CatalogueError:
        db.session.rollback()
        abort(409)
    if status == "published":
        service_schedule_changed(db.session, service)
    db.session.commit()
    if status == "published":
        flash(_("The service is published."), "success")
    else:
        flash(_("The service was sent to the district for approval."), "success")
    return redirect(url_for(".dashboard", district=district))


@bp.post("/services/<int:service_id>/withdraw")
@login_required
def withdraw_service(district: str, service_id: int) -> Response:
    """Take the service out of the catalogue."""
    _config, service = _service_for_staff(district, service_id)
    try:
        withdraw(db.session, service, actor=current_user)
    except CatalogueError:
        db.session.rollback()
        abort(409)
    service_schedule_changed(db.session, service)
    db.session.commit()
    flash(_("The service was withdrawn from the catalogue."), "success")
    return redirect(url_for(".dashboard", district=district))
