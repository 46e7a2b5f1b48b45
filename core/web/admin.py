"""The district admin's area: beneficiaries, organisations, staff invitations, news, reports.

Every page is under ``/<district>/admin/`` and answers only the admins of that district (and
platform admins): others get 403, and an object of another district is 404. The open-data
export (``/<district>/open-data.csv|.json``) and the invitation link are public.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
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
from flask_login import login_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WResponse
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from core.admin.invitations import accept, invite, invited_organisation, read_token
from core.admin.news import NewsData, create_news, delete_news, news_in, news_of, update_news
from core.admin.organisations import (
    SIZES,
    AdminError,
    OrganisationData,
    create_organisation,
    organisation_in,
    organisations_of,
    reinstate,
    set_alliance,
    suspend,
    update_organisation,
    verify_domain,
)
from core.audit import record
from core.auth.access import current_account, require_district_admin
from core.auth.service import AccountError, create_account, find_user_by_email
from core.eligibility import (
    STATUS_LABELS,
    EligibilityError,
    class_name,
    decide,
    declaration_in,
    pending_declarations,
)
from core.extensions import db
from core.i18n import locale_code
from core.models import BeneficiaryDeclaration, District, Organisation, Service
from core.models.catalogue import ORGANISATION_KINDS
from core.plugins.types import DistrictConfig
from core.reporting.charts import charts
from core.reporting.csvout import write_csv
from core.reporting.queries import Period, dashboard, open_data
from core.tenancy import district_configs, get_district_or_404

bp = Blueprint("admin", __name__)

View = str | tuple[str, int] | WResponse
MAX_PERIOD_DAYS = 3 * 366
KIND_LABELS = {
    "public_body": _l("Public body"),
    "cooperative": _l("Co-operative"),
    "company": _l("Company"),
    "association": _l("Association"),
    "business": _l("Local business"),
}
SIZE_LABELS = {
    "": _l("Not stated"),
    "micro": _l("Micro"),
    "small": _l("Small"),
    "medium": _l("Medium"),
    "large": _l("Large"),
}


# --- forms ------------------------------------------------------------------------------------


class DecisionForm(FlaskForm):
    """An admin's reason for a decision (required to reject)."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])


class OrganisationForm(FlaskForm):
    """An organisation's facts."""

    name = StringField(
        _l("Name"), validators=[InputRequired(_l("Give the organisation's name.")), Length(max=200)]
    )
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in ORGANISATION_KINDS]
    )
    size_class = SelectField(_l("Size"), choices=[SelectChoice(s, SIZE_LABELS[s]) for s in SIZES])
    alliance_member = BooleanField(_l("Member of the Alliance"))
    is_provider = BooleanField(_l("Offers services (provider)"), default=True)
    vat_number = StringField(_l("VAT number"), validators=[Length(max=20)])
    email = EmailField(_l("Contact e-mail"), validators=[Optional(), Length(max=254)])
    email_domain = StringField(_l("Staff e-mail domain"), validators=[Length(max=120)])
    website = StringField(_l("Website"), validators=[Length(max=300)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[Length(max=10)])


class ReasonForm(FlaskForm):
    """A reason (suspension)."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(_l("Say why the provider is suspended.")), Length(max=500)],
    )


class InviteForm(FlaskForm):
    """Whom to invite as staff."""

    email = EmailField(
        _l("E-mail address of the person to invite"),
        validators=[InputRequired(_l("Write a valid e-mail address.")), Length(max=254)],
    )


class ActionForm(FlaskForm):
    """A bare action (CSRF only)."""


class NewsForm(FlaskForm):
    """A news item or an event."""

    kind = SelectField(
        _l("Type"), choices=[SelectChoice("news", _l("News")), SelectChoice("event", _l("Event"))]
    )
    title = StringField(
        _l("Title"), validators=[InputRequired(_l("Give a title.")), Length(max=200)]
    )
    body = TextAreaField(_l("Text"), validators=[Length(max=5000)])
    event_day = DateField(_l("Event date"), validators=[Optional()])
    event_time = TimeField(_l("Event time"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    published = BooleanField(_l("Show on the district home"), default=True)


class AcceptForm(FlaskForm):
    """Accepting an invitation, creating the account if needed."""

    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    password = PasswordField(_l("Choose a password"), validators=[Optional()])


# --- helpers ----------------------------------------------------------------------------------


def _admin(district: str) -> tuple[DistrictConfig, District, Any]:
    config, row = get_district_or_404(district)
    user = require_district_admin(row)
    return config, row, user


def _refused(error: AdminError | EligibilityError) -> tuple[str, int]:
    return render_template("admin/refused.html", message=error.message), error.status


def _organisation(row: District, organisation_id: int) -> Organisation:
    org = organisation_in(row, organisation_id)
    if org is None:
        abort(404)
    return org


@bp.app_template_global()
def district_news(slug: str, limit: int = 3) -> list[Any]:
    """The latest published news and events of a district (for its home page)."""
    config = district_configs().get(slug)
    if config is None:
        return []
    _config, row = get_district_or_404(slug)
    return news_of(row, published_only=True, limit=limit)


@bp.app_template_global()
def admin_links(user: Any) -> list[tuple[str, str]]:
    """(label, url) of the admin areas ``user`` may open: their districts, and the audit log."""
    configs = district_configs()
    if user.is_platform_admin:
        slugs = sorted(configs)
    else:
        ids = [r.district_id for r in user.district_roles]
        slugs = (
            list(
                db.session.scalars(
                    select(District.slug).where(District.id.in_(ids)).order_by(District.slug)
                )
            )
            if ids
            else []
        )
    links = [
        (
            _("Administration of %(district)s", district=configs[slug].name),
            url_for("admin.home", district=slug),
        )
        for slug in slugs
        if slug in configs
    ]
    if user.is_platform_admin:
        links.append((_("Audit log"), url_for("audit.audit_log")))
    return links


# --- home -------------------------------------------------------------------------------------


@bp.get("/<district>/admin/")
def home(district: str) -> View:
    """The admin's home: what waits for a decision, and the way to each task."""
    config, row, _user = _admin(district)
    pending = db.session.scalar(
        select(func.count(BeneficiaryDeclaration.id)).where(
            BeneficiaryDeclaration.district_id == row.id, BeneficiaryDeclaration.status == "pending"
        )
    )
    services = db.session.scalar(
        select(func.count(Service.id)).where(
            Service.district_id == row.id, Service.status == "pending_approval"
        )
    )
    orgs = db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.district_id == row.id)
    )
    return render_template(
        "admin/home.html",
        config=config,
        pending=pending or 0,
        services=services or 0,
        organisations=orgs or 0,
    )


# --- beneficiaries ----------------------------------------------------------------------------


@bp.get("/<district>/admin/beneficiaries")
def declarations(district: str) -> View:
    """The declarations waiting for a decision (personal data: the view is audited)."""
    config, row, user = _admin(district)
    rows = pending_declarations(row)
    record(
        "personal_data.view",
        actor=user,
        target_type="declaration_queue",
        target_id=row.id,
        district_id=row.id,
        details={"declarations": [d.id for d in rows][:200]},
    )
    db.session.commit()
    return render_template(
        "admin/declarations.html", config=config, declarations=rows, class_name=class_name
    )


def _declaration(row: District, declaration_id: int) -> BeneficiaryDeclaration:
    found = declaration_in(row, declaration_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<district>/admin/beneficiaries/<int:declaration_id>")
def declaration(district: str, declaration_id: int) -> View:
    """One declaration with the resident's details and the decision form (audited view)."""
    config, row, user = _admin(district)
    found = _declaration(row, declaration_id)
    record(
        "personal_data.view",
        actor=user,
        target_type="declaration",
        target_id=found.id,
        subject_user_id=found.user_id,
        district_id=row.id,
    )
    db.session.commit()
    employer = db.session.get(Organisation, found.employer_id) if found.employer_id else None
    return render_template(
        "admin/declaration.html",
        config=config,
        d=found,
        employer=employer,
        form=DecisionForm(),
        class_name=class_name,
        status_labels=STATUS_LABELS,
    )


@bp.post("/<district>/admin/beneficiaries/<int:declaration_id>/<any(approve, reject):verdict>")
def decide_declaration(district: str, declaration_id: int, verdict: str) -> View:
    """Approve or reject a pending declaration (a rejection needs a reason)."""
    config, row, user = _admin(district)
    found = _declaration(row, declaration_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        decide(found, user, approve=verdict == "approve", reason=form.reason.data or "")
    except EligibilityError as error:
        db.session.rollback()
        if error.status == 422:
            form.reason.errors = [error.message]
            employer = (
                db.session.get(Organisation, found.employer_id) if found.employer_id else None
            )
            html = render_template(
                "admin/declaration.html",
                config=config,
                d=found,
                employer=employer,
                form=form,
                class_name=class_name,
                status_labels=STATUS_LABELS,
            )
            return html, 422
        return _refused(error)
    db.session.commit()
    flash(
        _("The declaration is approved.")
        if verdict == "approve"
        else _("The declaration is rejected."),
        "success",
    )
    return redirect(url_for(".declarations", district=district))


# --- organisations ----------------------------------------------------------------------------


def _org_data(form: OrganisationForm) -> OrganisationData:
    return OrganisationData(
        name=form.name.data or "",
        kind=form.kind.data or "company",
        size_class=form.size_class.data or "",
        alliance_member=bool(form.alliance_member.data),
        is_provider=bool(form.is_provider.data),
        vat_number=form.vat_number.data or "",
        email=form.email.data or "",
        email_domain=form.email_domain.data or "",
        website=form.website.data or "",
        address=form.address.data or "",
        postcode=form.postcode.data or "",
    )


@bp.get("/<district>/admin/organisations")
def organisations(district: str) -> View:
    """The district's organisations, Alliance members first."""
    config, row, _user = _admin(district)
    return render_template(
        "admin/organisations.html",
        config=config,
        organisations=organisations_of(row),
        kinds=KIND_LABELS,
    )


@bp.route("/<district>/admin/organisations/new", methods=["GET", "POST"])
def new_organisation(district: str) -> View:
    """Register an organisation of the district."""
    config, row, user = _admin(district)
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            org = create_organisation(row, _org_data(form), user)
        except AdminError as error:
            db.session.rollback()
            form[error.field or "name"].errors = [error.message]
        else:
            db.session.commit()
            flash(_("The organisation is registered."), "success")
            return redirect(url_for(".organisation", district=district, organisation_id=org.id))
    status = 422 if form.errors else 200
    return render_template(
        "admin/organisation_form.html", config=config, form=form, org=None
    ), status


@bp.route("/<district>/admin/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation(district: str, organisation_id: int) -> View:
    """An organisation: edit its facts; Alliance, domain, suspension and invitations."""
    config, row, user = _admin(district)
    org = _organisation(row, organisation_id)
    form = OrganisationForm(obj=org)
    if request.method == "POST" and form.validate_on_submit():
        try:
            update_organisation(org, _org_data(form), user)
        except AdminError as error:
            db.session.rollback()
            form[error.field or "name"].errors = [error.message]
        else:
            db.session.commit()
            flash(_("The organisation is saved."), "success")
            return redirect(url_for(".organisation", district=district, organisation_id=org.id))
    staff = [m.user for m in _memberships(org)]
    if staff:  # names of people: personal data, the view is audited
        record(
            "personal_data.view",
            actor=user,
            target_type="organisation_staff",
            target_id=org.id,
            district_id=row.id,
            details={"users": [p.id for p in staff]},
        )
        db.session.commit()
    status = 422 if form.errors else 200
    html = render_template(
        "admin/organisation_form.html",
        config=config,
        form=form,
        org=org,
        action_form=ActionForm(),
        reason_form=ReasonForm(),
        invite_form=InviteForm(),
        staff=staff,
    )
    return html, status


def _memberships(org: Organisation) -> list[Any]:
    from core.models import Membership

    return list(db.session.scalars(select(Membership).where(Membership.organisation_id == org.id)))


def _org_action(
    district: str, organisation_id: int
) -> tuple[DistrictConfig, District, Any, Organisation]:
    config, row, user = _admin(district)
    org = _organisation(row, organisation_id)
    return config, row, user, org


def _back(district: str, org: Organisation) -> WResponse:
    return redirect(url_for(".organisation", district=district, organisation_id=org.id))


def _simple_org_action(
    district: str,
    organisation_id: int,
    action: Callable[[Organisation, Any], object],
    done: str,
) -> View:
    """Run a one-button admin action on an organisation: check, act, commit, say so, go back."""
    _config, _row, user, org = _org_action(district, organisation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(org, user)
    except AdminError as error:
        db.session.rollback()
        return _refused(error)
    db.session.commit()
    flash(done, "success")
    return _back(district, org)


@bp.post("/<district>/admin/organisations/<int:organisation_id>/alliance/<any(add, remove):change>")
def alliance(district: str, organisation_id: int, change: str) -> View:
    """Mark or unmark an Alliance member."""
    return _simple_org_action(
        district,
        organisation_id,
        lambda org, user: set_alliance(org, change == "add", user),
        _("The Alliance membership is updated."),
    )


@bp.post("/<district>/admin/organisations/<int:organisation_id>/verify-domain")
def verify_email_domain(district: str, organisation_id: int) -> View:
    """Record that the organisation's staff e-mail domain has been verified."""
    return _simple_org_action(
        district, organisation_id, verify_domain, _("The e-mail domain is verified.")
    )


@bp.post("/<district>/admin/organisations/<int:organisation_id>/suspend")
def suspend_organisation(district: str, organisation_id: int) -> View:
    """Suspend a provider: its future bookings are cancelled and the residents told."""
    _config, _row, user, org = _org_action(district, organisation_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return render_template(
            "admin/refused.html",
            message=" ".join(str(e) for e in form.reason.errors)
            or _("Say why the provider is suspended."),
        ), 422
    try:
        cancelled = suspend(org, user, form.reason.data or "")
    except AdminError as error:
        db.session.rollback()
        return _refused(error)
    flash(
        _("The provider is suspended; %(count)s bookings were cancelled.", count=cancelled),
        "success",
    )
    return _back(district, org)


@bp.post("/<district>/admin/organisations/<int:organisation_id>/reinstate")
def reinstate_organisation(district: str, organisation_id: int) -> View:
    """Lift a provider's suspension."""
    return _simple_org_action(
        district, organisation_id, reinstate, _("The provider is active again.")
    )


@bp.post("/<district>/admin/organisations/<int:organisation_id>/invite")
def invite_staff(district: str, organisation_id: int) -> View:
    """E-mail a staff invitation for the organisation."""
    _config, row, user, org = _org_action(district, organisation_id)
    form = InviteForm()
    if not form.validate_on_submit():
        return render_template(
            "admin/refused.html", message=_("Write a valid e-mail address.")
        ), 422
    try:
        invite(org, row, form.email.data or "", user)
    except AdminError as error:
        db.session.rollback()
        return _refused(error)
    db.session.commit()
    flash(_("The invitation was sent."), "success")
    return _back(district, org)


@bp.route("/<district>/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(district: str, token: str) -> View:
    """Accept a staff invitation: log in, or create the account for the invited address."""
    config, row = get_district_or_404(district)
    try:
        invitation = read_token(token)
        org = invited_organisation(row, invitation)
    except AdminError as error:
        return _refused(error)
    user = current_account()
    existing = find_user_by_email(invitation.email) if user is None else None
    form = AcceptForm()
    if request.method == "POST" and form.validate_on_submit():
        if user is None and existing is not None:
            return redirect(url_for("auth.login", next=request.path))
        try:
            if user is None:
                user = create_account(
                    invitation.email,
                    form.password.data or "",
                    full_name=form.full_name.data or "",
                    locale=locale_code(),
                    verified=True,  # the address is proven by the signed link
                )
                login_user(user)
            accept(user, org, invitation)
        except AccountError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        except AdminError as error:
            db.session.rollback()
            return _refused(error)
        else:
            db.session.commit()
            flash(_("You now work for %(organisation)s.", organisation=org.name), "success")
            return redirect(url_for("auth.profile"))
    status = 422 if form.errors else 200
    html = render_template(
        "admin/accept_invitation.html",
        config=config,
        org=org,
        invitation=invitation,
        user=user,
        existing=existing,
        form=form,
    )
    return html, status


# --- news -------------------------------------------------------------------------------------


def _news_data(form: NewsForm, config: DistrictConfig) -> NewsData:
    event_at = None
    if form.event_day.data is not None:
        event_at = datetime.combine(
            form.event_day.data, form.event_time.data or time(0), tzinfo=ZoneInfo(config.timezone)
        )
    return NewsData(
        title=form.title.data or "",
        body=form.body.data or "",
        kind=form.kind.data or "news",
        event_at=event_at,
        place=form.place.data or "",
        published=bool(form.published.data),
    )


@bp.get("/<district>/admin/news")
def news(district: str) -> View:
    """The district's news and events."""
    config, row, _user = _admin(district)
    return render_template(
        "admin/news.html", config=config, items=news_of(row), action_form=ActionForm()
    )


@bp.route("/<district>/admin/news/new", methods=["GET", "POST"])
@bp.route("/<district>/admin/news/<int:news_id>", methods=["GET", "POST"])
def edit_news(district: str, news_id: int | None = None) -> View:
    """Write or change a news item or event."""
    config, row, user = _admin(district)
    item = None
    if news_id is not None:
        item = news_in(row, news_id)
        if item is None:
            abort(404)
    form = NewsForm(obj=item)
    if request.method == "GET" and item is not None and item.event_at is not None:
        local = item.event_at.astimezone(ZoneInfo(config.timezone))
        form.event_day.data, form.event_time.data = local.date(), local.time()
    if request.method == "POST" and form.validate_on_submit():
        try:
            data = _news_data(form, config)
            if item is None:
                create_news(row, data, user)
            else:
                update_news(item, data, user)
        except AdminError as error:
            db.session.rollback()
            form[error.field if error.field != "event_at" else "event_day"].errors = [error.message]
        else:
            db.session.commit()
            flash(_("The news is saved."), "success")
            return redirect(url_for(".news", district=district))
    status = 422 if form.errors else 200
    return render_template("admin/news_form.html", config=config, form=form, item=item), status


@bp.post("/<district>/admin/news/<int:news_id>/delete")
def remove_news(district: str, news_id: int) -> View:
    """Delete a news item or event."""
    _config, row, user = _admin(district)
    item = news_in(row, news_id)
    if item is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    delete_news(item, user)
    db.session.commit()
    flash(_("The news is deleted."), "success")
    return redirect(url_for(".news", district=district))


# --- reports ----------------------------------------------------------------------------------


class PeriodError(ValueError):
    """A date range that cannot be used."""


def parse_period(config: DistrictConfig, args: Any, default_days: int = 180) -> Period:
    """The report period from ``start``/``end`` (ISO dates); defaults to the last months."""
    today = datetime.now(ZoneInfo(config.timezone)).date()
    try:
        start = date.fromisoformat(
            args.get("start") or (today - timedelta(days=default_days)).isoformat()
        )
        end = date.fromisoformat(args.get("end") or (today + timedelta(days=30)).isoformat())
    except ValueError:
        raise PeriodError(_("Write the dates as YYYY-MM-DD.")) from None
    if end < start:
        raise PeriodError(_("The end date must not be before the start date."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise PeriodError(_("Choose a period of at most three years."))
    return Period(start, end, config.timezone)


def _class_names(config: DistrictConfig) -> dict[str, str]:
    return {c.slug: str(c.name) for c in config.beneficiary_classes}


@bp.get("/<district>/admin/reports")
def reports(district: str) -> View:
    """The dashboard: each figure as a chart with its data table and CSV export."""
    config, row, _user = _admin(district)
    try:
        period = parse_period(config, request.args)
    except PeriodError as error:
        return render_template("admin/refused.html", message=str(error)), 400
    tables = dashboard(db.session, row, period, locale_code(), _class_names(config))
    return render_template(
        "admin/reports.html", config=config, period=period, tables=tables, charts=charts(tables)
    )


def _csv_response(text: str, filename: str) -> Response:
    response = Response("\ufeff" + text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/<district>/admin/reports/<key>.csv")
def report_csv(district: str, key: str) -> View:
    """One figure's table as CSV."""
    config, row, _user = _admin(district)
    try:
        period = parse_period(config, request.args)
    except PeriodError as error:
        return render_template("admin/refused.html", message=str(error)), 400
    tables = dashboard(db.session, row, period, locale_code(), _class_names(config))
    if key not in tables:
        abort(404)
    table = tables[key]
    return _csv_response(
        write_csv(table.headers, table.rows), f"{config.slug}-{key}-{period.start}-{period.end}.csv"
    )


LABEL_COLUMNS = ("month", "area", "class")


def _open_rows(tables: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for key, table in tables.items():
        for record_ in table.as_records():
            labels = [record_.get(c, "") for c in LABEL_COLUMNS]
            for name, value in record_.items():
                if name not in LABEL_COLUMNS:
                    rows.append((key, *labels, name, value))
    return rows


@bp.get("/<district>/open-data.<any(csv, json):fmt>")
def open_data_export(district: str, fmt: str) -> View:
    """Anonymised, aggregated figures of the district as open data (no personal data)."""
    config, row = get_district_or_404(district)
    try:
        period = parse_period(config, request.args, default_days=365)
    except PeriodError as error:
        return render_template("admin/refused.html", message=str(error)), 400
    min_count = current_app.config["CONCILIA_OPEN_DATA_MIN_COUNT"]
    tables = open_data(db.session, row, period, min_count=min_count)
    name = f"{config.slug}-open-data-{period.start}-{period.end}"
    if fmt == "csv":
        return _csv_response(
            write_csv(("figure", *LABEL_COLUMNS, "measure", "value"), _open_rows(tables)),
            f"{name}.csv",
        )
    payload = {
        "district": config.slug,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "licence": "CC-BY-4.0",
        "withheld": (
            f"counts from 1 to {min_count - 1}, and the rates and totals of their rows"
            if min_count > 1
            else "nothing"
        ),
        "figures": {key: table.as_records() for key, table in tables.items()},
    }
    response = Response(
        json.dumps(payload, ensure_ascii=False, indent=1), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response
