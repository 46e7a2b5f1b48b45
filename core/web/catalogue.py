"""The public catalogue of a district: its home, the service search, a service, a provider."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from core.catalogue.branding import branding_css as build_branding_css
from core.catalogue.describe import booking_rules, opening_hours
from core.catalogue.queries import (
    MAX_RESULTS,
    PRICE_FILTERS,
    catalogue_page,
    counts_by_category,
    parse_filters,
    parse_page,
    provider_choices,
    provider_profile,
    service_detail,
)
from core.catalogue.services import enabled_categories, local_today
from core.extensions import db
from core.i18n import locale_code
from core.plugins.types import Category
from core.tenancy import get_district_or_404
from core.web.page_cache import public_page
from core.web.templating import endpoint_url

bp = Blueprint("catalogue", __name__)


def _categories() -> dict[str, Category]:
    return current_app.extensions["concilia"].categories


@bp.app_template_global()
def localized(obj: Any, name: str) -> str:
    """``obj.<name>_<locale>`` in the reader's language, falling back to the other language."""
    first, second = ("en", "it") if locale_code() == "en" else ("it", "en")
    return getattr(obj, f"{name}_{first}", "") or getattr(obj, f"{name}_{second}", "") or ""


@bp.get("/<district:district>/", strict_slashes=False)
@public_page
def district_home(district: str) -> str:
    """A district's home: its areas with how many services each offers, and a search box."""
    config, row = get_district_or_404(district)
    categories = enabled_categories(config, _categories())
    counts = counts_by_category(db.session, row, [c.slug for c in categories])
    return render_template(
        "catalogue/district_home.html",
        config=config,
        categories=categories,
        counts=counts,
        total=sum(min(n, MAX_RESULTS) for n in counts.values()),
        max_results=MAX_RESULTS,
        more=any(n > MAX_RESULTS for n in counts.values()),
    )


@bp.get("/<district>/branding.css")
def branding_css(district: str) -> Response:
    """The district's colours and one class per area, as a cacheable stylesheet."""
    config, _row = get_district_or_404(district)
    css = build_branding_css(config, current_app.extensions["concilia"].sorted_categories())
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/<district>/services")
@public_page
def services(district: str) -> str:
    """The catalogue: published services of the district, filtered and paginated."""
    config, row = get_district_or_404(district)
    categories = enabled_categories(config, _categories())
    providers = provider_choices(db.session, row)
    filters, notes = parse_filters(
        request.args,
        config,
        _categories(),
        providers={slug for slug, _name in providers},
        today=local_today(config),
    )
    page = catalogue_page(
        db.session, row, config, filters, parse_page(request.args.get("page")), locale_code()
    )

    def page_url(number: int) -> str:
        """The address of results page ``number`` with the same filters."""
        return url_for("catalogue.services", district=district, page=number, **filters.as_args())

    return render_template(
        "catalogue/services.html",
        config=config,
        categories=categories,
        all_categories=_categories(),
        providers=providers,
        filters=filters,
        notes=notes,
        result=page,
        page_url=page_url,
        price_filters=PRICE_FILTERS,
    )


@bp.get("/<district>/services/<int:service_id>")
@public_page
def service(district: str, service_id: int) -> str:
    """A published service: what, who, where, how much, the rules, the hours, the next times."""
    config, row = get_district_or_404(district)
    detail = service_detail(db.session, row, service_id, today=local_today(config))
    if detail is None:
        abort(404)
    svc = detail.service
    return render_template(
        "catalogue/service.html",
        config=config,
        detail=detail,
        service=svc,
        category=_categories().get(svc.category),
        rules=booking_rules(svc),
        hours=opening_hours(svc.opening_rules),
        book_url=endpoint_url("booking.start", district=district, service_id=svc.id),
    )


@bp.get("/<district>/providers/<slug>")
@public_page
def provider(district: str, slug: str) -> str:
    """A provider's page: who they are and their published services."""
    config, row = get_district_or_404(district)
    found = provider_profile(db.session, row, slug, locale_code())
    if found is None:
        abort(404)
    organisation, services_ = found
    return render_template(
        "catalogue/provider.html",
        config=config,
        organisation=organisation,
        services=services_,
        all_categories=_categories(),
        kind_label=organisation_kind_label(organisation.kind),
    )


def organisation_kind_label(kind: str) -> str:
    """The kind of an organisation in the reader's language."""
    labels = {
        "public_body": _("Public body"),
        "cooperative": _("Co-operative"),
        "company": _("Company"),
        "association": _("Association"),
        "business": _("Local business"),
    }
    return labels.get(kind, kind)
