"""The district menu, the breadcrumb and the pagination, as Python globals returning markup.

They are on nearly every page. As Jinja macros they cost hundreds of Python calls per page
(a ``url_for`` per area, a macro call, an attribute lookup and an escape per link); here the
district's fixed links are worked out once per language (:mod:`core.web.reader_memo`) and
only what depends on the person (their bookings, provider and administration links) and on the
address (``aria-current``) is done per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user
from markupsafe import Markup

from core.auth.access import district_roles
from core.i18n import gettext as _
from core.tenancy import current_district_config, get_district_or_404
from core.web.html import escaped
from core.web.reader_memo import per_reader_language
from core.web.templating import district_areas, endpoint_url, icon


def role_links(config: Any) -> list[tuple[str, str, bool]]:
    """``(label, url, current)`` of the provider area and the approvals, for whoever may use them.

    The provider area is for staff of an organisation of this district, the approval queue for
    its admins; nobody else gets either.
    """
    if not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    _config, row = get_district_or_404(config.slug)
    staff, admin = district_roles(current_user, row.id)
    links = []
    if staff:
        links.append(
            (
                _("Provider area"),
                url_for("provider.dashboard", district=config.slug),
                endpoint.startswith("provider."),
            )
        )
    if admin:
        links.append(
            (
                _("Approvals"),
                url_for("admin_services.pending", district=config.slug),
                endpoint.startswith("admin_services."),
            )
        )
    return links


def district_nav_links() -> list[tuple[str, str, bool]]:
    """``(label, url, current)`` of the district menu's sections for the person reading the page.

    Home and the services, then :func:`role_links`.
    """
    config = current_district_config()
    if config is None:
        return []
    endpoint = request.endpoint or ""
    return [
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
        *role_links(config),
    ]


@dataclass(frozen=True)
class FixedMenu:
    """What a district's menu shows everyone in one language: kept per language."""

    label: str
    #: ``(url, label)`` for everyone: home, each area, every service (labels escaped; no link
    #: without a URL, i.e. whose endpoint no plugin registers).
    links: tuple[tuple[str, str], ...]
    #: The same for logged-in people: their bookings.
    member_links: tuple[tuple[str, str], ...]
    approvals_url: str
    admin_link: tuple[str, str] | None


def _fixed_links(pairs: Iterable[tuple[Any, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((href, escaped(label)) for label, href in pairs if href)


def fixed_menu(district: Any) -> FixedMenu:
    """The district menu's links that are the same for everyone, in this request's language."""
    slug = district.slug
    links = [(Markup(_("Home")), endpoint_url("catalogue.district_home", district=slug))]
    links += [
        (area.name, endpoint_url("catalogue.services", district=slug, category=area.slug))
        for area in district_areas(district)
    ]
    links.append((Markup(_("All the services")), endpoint_url("catalogue.services", district=slug)))
    admin_home = endpoint_url("admin.home", district=slug)
    return FixedMenu(
        label=Markup(_("District menu")),
        links=_fixed_links(links),
        member_links=_fixed_links([(Markup(_("My bookings")), endpoint_url("bookings.mine"))]),
        approvals_url=endpoint_url("admin_services.pending", district=slug),
        admin_link=(admin_home, Markup(_("Administration"))) if admin_home else None,
    )


def _menu_links(district: Any, fixed: FixedMenu) -> list[tuple[str, str]]:
    """The menu's ``(url, label)`` for the person reading the page, in order."""
    if not current_user.is_authenticated:
        return list(fixed.links)
    links = [*fixed.links, *fixed.member_links]
    for label, href, _current in role_links(district):
        if href == fixed.approvals_url and fixed.admin_link:
            links.append(fixed.admin_link)
        links.append((href, escaped(label)))
    return links


CURRENT = ' aria-current="page"'
#: Where the pagination leaves pages out.
GAP = '\n      <li class="page-item"><span class="page-link" aria-hidden="true">…</span></li>'


def district_menu(district: Any = None) -> Markup:
    """The district's sections as a plain list of links (wraps on small screens, no script).

    Areas come from the district's plugins; the person's links (bookings, provider area,
    administration) are added when logged in; the link to this very address is marked
    ``aria-current="page"``. Empty outside a district.
    """
    district = district or current_district_config()
    if district is None:
        return Markup("")
    fixed = per_reader_language("district-menu", district, lambda: fixed_menu(district))
    here = request.full_path.rstrip("?")
    items = [
        f'\n      <li><a href="{escaped(href)}"{CURRENT if href == here else ""}>{label}</a></li>'
        for href, label in _menu_links(district, fixed)
    ]
    return Markup(
        f'<nav class="district-nav" aria-label="{fixed.label}">\n'
        f'  <div class="container">\n'
        f'    <ul class="district-nav-list">{"".join(items)}\n'
        f"    </ul>\n"
        f"  </div>\n"
        f"</nav>"
    )


def breadcrumb_nav(items: Iterable[tuple[Any, Any]]) -> Markup:
    """Bootstrap Italia's breadcrumb: ``(label, url)`` pairs, the last one the current page."""
    entries = list(items)
    parts = []
    for label, href in entries[:-1]:
        parts.append(
            f'\n      <li class="breadcrumb-item"><a href="{escaped(href)}">{escaped(label)}</a>'
            f'<span class="separator">/</span></li>'
        )
    if entries:
        parts.append(
            f'\n      <li class="breadcrumb-item active" aria-current="page">'
            f"{escaped(entries[-1][0])}</li>"
        )
    label = Markup(_("Breadcrumb"))
    return Markup(
        f'<nav class="breadcrumb-container" aria-label="{label}">\n'
        f'  <ol class="breadcrumb p-0" data-element="breadcrumb">{"".join(parts)}\n'
        f"  </ol>\n"
        f"</nav>"
    )


def pagination_nav(result: Any, page_url: Callable[[int], str], label: Any) -> Markup:
    """Bootstrap Italia's pagination: previous, the pages around the current one, next.

    ``result`` has ``page`` and ``pages``; ``page_url(n)`` is the address of page ``n``;
    ``label`` names the list. The first and last pages are always shown, the others within two
    of the current one, with an ellipsis where pages are left out. Empty for a single page.
    """
    page, pages = result.page, result.pages
    if pages <= 1:
        return Markup("")
    left, right = icon("it-chevron-left", "icon-primary"), icon("it-chevron-right", "icon-primary")
    back, on, word = Markup(_("Previous page")), Markup(_("Next page")), Markup(_("Page"))
    if page > 1:
        previous = (
            f'<a class="page-link" href="{escaped(page_url(page - 1))}" rel="prev">{left}'
            f'<span class="visually-hidden">{back}</span></a>\n      '
        )
    else:
        previous = f'<span class="page-link" aria-hidden="true">{left}</span>'
    if page < pages:
        following = (
            f'<a class="page-link" href="{escaped(page_url(page + 1))}" rel="next">'
            f'<span class="visually-hidden">{on}</span>{right}</a>\n      '
        )
    else:
        following = f'<span class="page-link" aria-hidden="true">{right}</span>'
    numbers = []
    for n in range(1, pages + 1):
        if n == 1 or n == pages or -2 <= n - page <= 2:
            current = CURRENT if n == page else ""
            numbers.append(
                f'\n      <li class="page-item"><a class="page-link" href="{escaped(page_url(n))}"'
                f'{current}><span class="visually-hidden">{word} </span>{n}</a></li>'
            )
        elif n - page in (3, -3):
            numbers.append(GAP)
    return Markup(
        f'<nav class="pagination-wrapper justify-content-center" aria-label="{escaped(label)}">\n'
        f'  <ul class="pagination">\n'
        f'    <li class="page-item{" disabled" if page <= 1 else ""}">\n'
        f"      {previous}\n"
        f"    </li>{''.join(numbers)}\n"
        f'    <li class="page-item{" disabled" if page >= pages else ""}">\n'
        f"      {following}\n"
        f"    </li>\n"
        f"  </ul>\n"
        f"</nav>"
    )


def install_navigation(app: Flask) -> None:
    """Make the menu, the breadcrumb, the pagination and the menu's links available to templates."""
    app.jinja_env.globals.update(
        district_menu=district_menu,
        breadcrumb_nav=breadcrumb_nav,
        pagination_nav=pagination_nav,
        district_nav_links=district_nav_links,
    )
