"""Service markup shown many times a page: price, beneficiary price, area badge, the card.

Python rather than Jinja macros: a catalogue page shows them a dozen times, and a macro call
(with its attribute lookups, ``url_for``, filters and escapes) costs far more than a function
call. The markup is the one the macros rendered; ``tests/integration/test_markup_globals.py``
compares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from core.i18n import gettext as _
from core.i18n import locale_code, money
from core.web.templating import icon, local_date, local_time

#: Characters of a description a card shows (Jinja's ``truncate``, leeway included).
CARD_DESCRIPTION = 140


def price(service: Any) -> Markup:
    """The full price, or a "Free" badge."""
    if service.price_cents == 0:
        return Markup(f'<span class="badge bg-success">{escape(_("Free"))}</span>')
    return Markup(escape(money(service.price_cents)))


def beneficiary_price(service: Any) -> str:
    """ "For beneficiaries: …" when beneficiaries pay less than the full price, else ""."""
    reduced = service.beneficiary_price_cents
    if reduced is None or reduced >= service.price_cents:
        return ""
    amount = _("Free") if reduced == 0 else money(reduced)
    return f"{_('For beneficiaries:')} {amount}"


def category_badge(category: Any, slug: str) -> Markup:
    """The area's badge, coloured by the district's branding stylesheet."""
    label = category.name if category else slug
    return Markup(
        f'<span class="badge category-badge category-{escape(slug)}">{escape(str(label))}</span>'
    )


def service_card(
    service: Any,
    district_slug: str,
    categories: Mapping[str, Any],
    heading: str = "h3",
    show_provider: bool = True,
    next_free: datetime | None = None,
) -> Markup:
    """A service's card in a list: area, title (linked), provider, description, next time, price.

    ``heading`` is the title's element, ``show_provider`` off on a provider's own page,
    ``next_free`` the next time with a free place (from the catalogue's filters), if any.
    """
    locale = locale_code()
    slug = service.category
    category = categories.get(slug)
    tag = escape(heading)
    url = url_for("catalogue.service", district=district_slug, service_id=service.id)
    lines = [
        '\n<div class="col-12 col-md-6 col-lg-4 mb-4">',
        f'  <article class="card card-bg h-100 category-card category-{escape(slug)}'
        ' service-card">',
        '    <div class="card-body">',
        '      <div class="category-top mb-2">',
        f"        {icon(category.icon, 'icon-sm category-icon') if category else ''}",
        f"        {category_badge(category, slug)}",
    ]
    if service.beneficiaries_only:
        only = escape(_("Beneficiaries only"))
        lines.append(f'        <span class="badge bg-secondary">{only}</span>')
    title = escape(service.title(locale))
    lines += [
        "      </div>",
        f'      <{tag} class="card-title h5"><a href="{escape(url)}">{title}</a></{tag}>',
    ]
    if show_provider:
        provider = escape(service.organisation.name)
        lines.append(
            f'      <p class="card-text small mb-1">{escape(_("Provided by"))} {provider}</p>'
        )
    description = service.description(locale)
    if description:
        short = escape(do_truncate(current_app.jinja_env, description, CARD_DESCRIPTION))
        lines.append(f'      <p class="card-text">{short}</p>')
    if next_free:
        when = f"{escape(local_date(next_free, 'medium'))}, {escape(local_time(next_free))}"
        lines.append(
            f'      <p class="card-text small mb-1">{icon("it-calendar", "icon-xs")} '
            f"{escape(_('Next free time:'))} "
            f'<time datetime="{escape(next_free.isoformat())}">{when}</time></p>'
        )
    reduced = beneficiary_price(service)
    also = f' · <span class="small">{escape(reduced)}</span>' if reduced else ""
    lines += [
        f'      <p class="card-text mb-0"><strong>{price(service)}</strong>{also}</p>',
        "    </div>",
        "  </article>",
        "</div>",
    ]
    return Markup("\n".join(lines))


def install_service_markup(app: Flask) -> None:
    """Make the pieces available to every template."""
    app.jinja_env.globals.update(
        price=price,
        beneficiary_price=beneficiary_price,
        category_badge=category_badge,
        service_card=service_card,
    )
