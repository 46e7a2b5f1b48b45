"""The Python globals that replaced Jinja macros render the macros' markup, in both languages.

``tests/support/reference_templates/`` holds the macros and loops as they were (verbatim) and
the layout as it was. Each global is rendered beside its reference in the same request, and the
two must match once runs of whitespace are collapsed (the only difference allowed: whitespace
between tags, never its presence or absence).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, current_app, render_template_string, request, url_for
from flask_login import current_user, login_user
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from markupsafe import Markup

from core.extensions import db
from core.i18n import gettext
from core.models import Booking, DistrictAdmin, Service, User
from core.tenancy import current_district_config, get_district_or_404
from core.web.area_markup import area_cards, area_options, service_type_options
from core.web.booking_lists_markup import STATE_CLASSES, booking_items, booking_state_badge
from core.web.html import option_tags
from core.web.navigation import breadcrumb_nav, district_menu, pagination_nav
from core.web.service_markup import next_slot_items, service_cards
from tests.support import booking_factories as bf
from tests.support import catalogue_factories as cf
from tests.support import factories

REFERENCE = Path(__file__).resolve().parents[1] / "support" / "reference_templates"
LANGUAGES = ("it", "en")


def collapsed(html: str) -> str:
    """``html`` with every run of whitespace made one space."""
    return re.sub(r"\s+", " ", str(html)).strip()


def old_district_nav_links() -> list[tuple[str, str, bool]]:
    """The menu's links as ``core/web/catalogue.py`` computed them before (the reference)."""
    from flask_babel import gettext as _

    config = current_district_config()
    if config is None:
        return []
    endpoint = request.endpoint or ""
    links = [
        (
            _("Home"),
            url_for("catalogue.district_home", district=config.slug),
            endpoint == "catalogue.district_home",
        ),
        (
            _("Services"),
            url_for("catalogue.services", district=config.slug),
            endpoint in {"catalogue.services", "catalogue.service"},
        ),
    ]
    if current_user.is_authenticated:
        _config, row = get_district_or_404(config.slug)
        if any(m.organisation.district_id == row.id for m in current_user.memberships):
            links.append(
                (
                    _("Provider area"),
                    url_for("provider.dashboard", district=config.slug),
                    endpoint.startswith("provider."),
                )
            )
        if current_user.administers(row.id):
            links.append(
                (
                    _("Approvals"),
                    url_for("admin_services.pending", district=config.slug),
                    endpoint.startswith("admin_services."),
                )
            )
    return links


def reference() -> Any:
    """The reference macros, their menu using the old role checks."""
    app = current_app
    env = app.jinja_env.overlay(
        loader=ChoiceLoader(
            [PrefixLoader({"reference": FileSystemLoader(REFERENCE)}), app.jinja_env.loader]
        )
    )
    template = env.get_template("reference/macros.html")
    return template.make_module({"district_nav_links": old_district_nav_links})


@contextmanager
def page(app: Flask, path: str, language: str, user_id: int | None = None) -> Iterator[Any]:
    """A request for ``path`` in ``language`` (by the user ``user_id``), in its own app context
    (its own ``g`` and database session, as in production); yields the reference macros."""
    with app.app_context(), app.test_request_context(path, headers={"Accept-Language": language}):
        if user_id is not None:
            login_user(db.session.get(User, user_id))
        yield reference()


def assert_same(ours: Any, theirs: Any) -> None:
    """Our markup is the reference's, up to the length of whitespace runs."""
    assert isinstance(ours, Markup)
    assert collapsed(ours) == collapsed(theirs)


@pytest.fixture
def people(app: Flask) -> dict[str, int | None]:
    """Ids of one person per role in ``borgo-test`` (None: not logged in)."""
    borgo = cf.district_row(cf.BORGO)
    org = cf.provider(cf.BORGO, name="Coop & Figli")
    cf.published(org)
    people: dict[str, int | None] = {
        "anonymous": None,
        "resident": factories.user().id,
        "staff": factories.staff(org).id,
        "admin": factories.district_admin(borgo).id,
        "platform admin": factories.user(is_platform_admin=True).id,
    }
    people["staff of another district"] = factories.staff(cf.provider(cf.ALTRA)).id
    both = factories.staff(org)
    db.session.add(DistrictAdmin(user_id=both.id, district_id=borgo.id))
    people["staff and admin"] = both.id
    cf.commit()
    return people


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "path",
    [
        "/borgo-test/",
        "/borgo-test/services",
        "/borgo-test/services?category=test-care",
        "/borgo-test/provider/",
        "/altra-citta/services",
        "/privacy",
    ],
)
def test_the_district_menu_is_the_macros(
    app: Flask, people: dict[str, int | None], path: str, language: str
) -> None:
    for who, user_id in people.items():
        with page(app, path, language, user_id) as ref:
            ours, theirs = district_menu(), ref.district_nav()
            assert collapsed(ours) == collapsed(theirs), who
            if path.startswith("/borgo-test/services"):
                assert 'aria-current="page"' in ours


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_breadcrumb_is_the_macros(app: Flask, language: str) -> None:
    cf.district_row(cf.BORGO)
    cf.commit()
    with page(app, "/borgo-test/services", language) as ref:
        config = current_district_config()
        items = [
            (Markup(gettext("Home")), "/"),  # as a template's _() gives it
            (config.name, "/borgo-test/"),
            ("Tom & <Jerry>", "/a?b=1&c=2"),
            ("A \"quoted\" 'title'", None),
        ]
        for n in range(1, len(items) + 1):
            assert_same(breadcrumb_nav(items[:n]), ref.breadcrumb(items[:n]))
        assert_same(breadcrumb_nav([]), ref.breadcrumb([]))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pagination_is_the_macros(app: Flask, language: str) -> None:
    def page_url(n: int) -> str:
        return f"/x?page={n}&q=<b>"

    with page(app, "/borgo-test/services", language) as ref:
        for pages in (0, 1, 2, 3, 6, 7, 10, 50):
            for current in sorted({1, 2, 3, 4, 5, pages // 2, pages - 3, pages - 1, pages}):
                if not 1 <= current <= max(pages, 1):
                    continue
                result = SimpleNamespace(page=current, pages=pages)
                label = "Pages & <more>"
                assert_same(
                    pagination_nav(result, page_url, label), ref.pagination(result, page_url, label)
                )


def _services() -> list[int]:
    """Services of ``borgo-test`` covering what a card can show; their ids."""
    org = cf.provider(cf.BORGO, name="Rossi & Figli <srl>")
    other = cf.provider(cf.BORGO, name="Coop 'Aurora'")
    long_text = "Una descrizione lunga, " * 12 + 'con <tag> e & e "virgolette".'
    services = [
        cf.published(org, title_it="Gratis & subito", title_en="Free <now>", price_cents=0),
        cf.published(org, price_cents=2500, beneficiary_price_cents=1000, description_it=long_text),
        cf.published(other, price_cents=2500, beneficiary_price_cents=0, beneficiaries_only=True),
        cf.published(other, price_cents=900, beneficiary_price_cents=900, description_en="Short."),
        cf.published(org, category="test-care", title_en="", title_it="Solo italiano"),
        cf.published(org, category="no-such-area", title_it="Area sconosciuta"),
    ]
    cf.commit()
    return [s.id for s in services]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_service_cards_are_the_macros(app: Flask, language: str) -> None:
    ids = _services()
    soon = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Rome moves to summer time
    with page(app, "/borgo-test/services", language) as ref:
        services = [db.session.get(Service, i) for i in ids]
        categories = current_app.extensions["concilia"].categories
        next_free = {ids[0]: soon, ids[2]: soon + timedelta(days=200, hours=13)}
        for heading, show_provider in (("h3", True), ("h2", False)):
            ours = service_cards(
                services,
                "borgo-test",
                categories,
                heading=heading,
                show_provider=show_provider,
                next_free=next_free,
            )
            theirs = "".join(
                ref.service_card(
                    s,
                    "borgo-test",
                    categories,
                    heading=heading,
                    show_provider=show_provider,
                    next_free=next_free.get(s.id),
                )
                for s in services
            )
            assert_same(ours, theirs)
        assert_same(service_cards([], "borgo-test", categories), "")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("district", ["borgo-test", "isola-garibaldi"])
def test_the_area_cards_and_options_are_the_loops(app: Flask, language: str, district: str) -> None:
    from core.catalogue.services import enabled_categories

    with page(app, f"/{district}/services", language) as ref:
        config = current_district_config()
        categories = enabled_categories(config, current_app.extensions["concilia"].categories)
        slugs = [c.slug for c in categories]
        for counts in ({}, dict.fromkeys(slugs, 1), {s: 600 + i for i, s in enumerate(slugs)}):
            assert_same(
                area_cards(config, counts, 600), ref.area_cards(categories, counts, 600, config)
            )
        types = [t.slug for c in categories for t in c.service_types]
        for area in (None, "", *slugs[:2], "nope"):
            for kind in (None, *types[:2], "nope"):
                filters = SimpleNamespace(category=area, service_type=kind)
                assert_same(area_options(config, area), ref.area_options(categories, filters))
                assert_same(
                    service_type_options(config, area, kind),
                    ref.service_type_options(categories, filters),
                )


def test_the_provider_options_are_the_loop(app: Flask) -> None:
    providers = [("a-b", "Rossi & Figli"), ("c", "<Coop> 'Aurora'"), ("d", 'Il "Nido"')]
    with page(app, "/borgo-test/services", "it") as ref:
        for selected in (None, "", "c", "nope"):
            filters = SimpleNamespace(provider=selected)
            assert_same(option_tags(providers, selected), ref.provider_options(providers, filters))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_booking_list_and_state_badges_are_the_macros(app: Flask, language: str) -> None:
    person = factories.user()
    org = cf.provider(cf.BORGO, name="Rossi & Figli")
    service = cf.published(org, title_it="Visita <prima>", title_en="First 'visit'")
    moments = [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Rome moves to summer time that night
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # and back
        datetime(2026, 12, 31, 23, 15, tzinfo=UTC),  # a new year in Rome, not in UTC
    ]
    ids = []
    for n, status in enumerate(STATE_CLASSES):
        starts = moments[n % len(moments)] + timedelta(days=n)
        slot = cf.free_slot(service, starts_at=starts, ends_at=starts + timedelta(minutes=45))
        booking = bf.booking_in(
            slot, status, person, slot_starts_at=starts, slot_ends_at=starts + timedelta(minutes=45)
        )
        ids.append(booking.id)
    with page(app, "/me/bookings", language, person.id) as ref:
        items = [db.session.get(Booking, i) for i in ids]
        district_id = items[0].service.district_id
        for districts in (
            {},
            {district_id: SimpleNamespace(timezone="Europe/Rome", name="Borgo & Co")},
            {district_id: SimpleNamespace(timezone="America/New_York", name="Altrove")},
        ):
            result = SimpleNamespace(items=items)
            assert_same(
                booking_items(items, districts), ref.booking_items(result, districts, language)
            )
        for status in [*STATE_CLASSES, "some-new-state", "<b>"]:
            assert_same(booking_state_badge(status), ref.state_badge(status))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_next_free_times_are_the_loop(app: Flask, language: str) -> None:
    cf.district_row(cf.BORGO)
    cf.commit()
    starts = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    slots = [
        SimpleNamespace(starts_at=starts + timedelta(hours=h), available=a)
        for h, a in ((0, 1), (5, 2), (30, 12))
    ]
    with page(app, "/borgo-test/services/1", language) as ref:
        assert_same(next_slot_items(slots), ref.next_slot_items(SimpleNamespace(next_slots=slots)))


CHILD = """{%% extends "%s" %%}
{%% block title %%}A <page>{%% endblock %%}
{%% block head %%}<meta name="x" content="y">{%% endblock %%}
{%% block content %%}<p>Content</p>{%% endblock %%}
{%% block scripts %%}<script>1</script>{%% endblock %%}"""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "path", ["/borgo-test/services?q=a&category=test-care", "/isola-garibaldi/", "/privacy"]
)
def test_the_layout_is_the_old_base(
    app: Flask, people: dict[str, int | None], path: str, language: str
) -> None:
    for who in ("anonymous", "resident", "staff and admin"):
        with page(app, path, language, people[who]):
            env = current_app.jinja_env.overlay(
                loader=ChoiceLoader(
                    [PrefixLoader({"reference": FileSystemLoader(REFERENCE)}), app.jinja_env.loader]
                )
            )
            context: dict[str, Any] = {}
            current_app.update_template_context(context)
            theirs = env.from_string(CHILD % "reference/base.html").render(context)
            ours = render_template_string(CHILD % "base.html")
            assert collapsed(ours) == collapsed(theirs), who
