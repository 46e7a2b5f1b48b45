"""Service markup shown many times a page: price, beneficiary price, area badge, the cards.

Python rather than Jinja macros: a catalogue page shows them a dozen times, and a macro call
(with its attribute lookups, ``url_for``, filters and escapes) costs far more than a function
call. The markup is the one the macros rendered; ``tests/integration/test_markup_globals.py``
compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from core.i18n import gettext as _
from core.i18n import locale_code, money
from core.web.html import escaped
from core.web.templating import icon, local_date, local_time

#: Characters of a description a card shows (Jinja's ``truncate``, leeway included).
CARD_DESCRIPTION = 140


def price(service: Any) -> Markup:
    """The full price, or a "Free" badge."""
    if service.price_cents == 0:
        free = escape(_("Free"))
        return Markup(f'<span class="badge bg-success">{free}</span>')
    return Markup(escape(money(service.price_cents)))


def beneficiary_price(service: Any) -> str:
    """ "For beneficiaries: …" when beneficiaries pay less than the full price, else ""."""
    reduced = service.beneficiary_price_cents
    if reduced is None or reduced >= service.price_cents:
        return ""
    amount = _("Free") if reduced == 0 else money(reduced)
    label = _("For beneficiaries:")  # not inside the f-string: Babel would not extract it
    return f"{label} {amount}"


def category_badge(category: Any, slug: str) -> Markup:
    """The area's badge, coloured by the district's branding stylesheet."""
    label = category.name if category else slug
    return Markup(
        f'<span class="badge category-badge category-{escape(slug)}">{escape(str(label))}</span>'
    )


@dataclass(frozen=True)
class _CardWords:
    """What every card of one list says the same way: worked out once per list."""

    only: Markup
    provided_by: Markup
    next_free: Markup
    calendar: Markup


def _card_words() -> _CardWords:
    return _CardWords(
        only=Markup(_("Beneficiaries only")),
        provided_by=Markup(_("Provided by")),
        next_free=Markup(_("Next free time:")),
        calendar=icon("it-calendar", "icon-xs"),
    )


def service_cards(
    services: Iterable[Any],
    district_slug: str,
    categories: Mapping[str, Any],
    heading: str = "h3",
    show_provider: bool = True,
    next_free: Mapping[int, datetime] | None = None,
) -> Markup:
    """The cards of a list of services: area, title (linked), provider, description, next
    time, price; one card as the catalogue's macro rendered it.

    ``heading`` is the titles' element, ``show_provider`` off on a provider's own page,
    ``next_free`` the next time with a free place of each service (by id), where known.
    """
    locale = locale_code()
    words = _card_words()
    badges: dict[str, Markup] = {}  # an area's icon and badge, the same on each of its cards
    tag = escaped(heading)
    truncate_env = current_app.jinja_env
    cards = []
    for service in services:
        slug = service.category
        top = badges.get(slug)
        if top is None:
            category = categories.get(slug)
            icon_markup = icon(category.icon, "icon-sm category-icon") if category else ""
            top = badges[slug] = Markup(
                f"        {icon_markup}\n        {category_badge(category, slug)}"
            )
        url = url_for("catalogue.service", district=district_slug, service_id=service.id)
        lines = [
            '\n<div class="col-12 col-md-6 col-lg-4 mb-4">',
            f'  <article class="card card-bg h-100 category-card category-{escaped(slug)}'
            ' service-card">',
            '    <div class="card-body">',
            '      <div class="category-top mb-2">',
            top,
        ]
        if service.beneficiaries_only:
            lines.append(f'        <span class="badge bg-secondary">{words.only}</span>')
        title = escaped(service.title(locale))
        lines += [
            "      </div>",
            f'      <{tag} class="card-title h5"><a href="{escaped(url)}">{title}</a></{tag}>',
        ]
        if show_provider:
            provider = escaped(service.organisation.name)
            lines.append(
                f'      <p class="card-text small mb-1">{words.provided_by} {provider}</p>'
            )
        description = service.description(locale)
        if description:
            short = escaped(do_truncate(truncate_env, description, CARD_DESCRIPTION))
            lines.append(f'      <p class="card-text">{short}</p>')
        when = next_free.get(service.id) if next_free else None
        if when:
            text = f"{escaped(local_date(when, 'medium'))}, {escaped(local_time(when))}"
            lines.append(
                f'      <p class="card-text small mb-1">{words.calendar} {words.next_free} '
                f'<time datetime="{escaped(when.isoformat())}">{text}</time></p>'
            )
        reduced = beneficiary_price(service)
        also = f' · <span class="small">{escaped(reduced)}</span>' if reduced else ""
        lines += [
            f'      <p class="card-text mb-0"><strong>{price(service)}</strong>{also}</p>',
            "    </div>",
            "  </article>",
            "</div>",
        ]
        cards.append("\n".join(lines))
    return Markup("".join(cards))


def next_slot_items(slots: Iterable[Any]) -> Markup:
    """The ``<li>`` of each of a service's next free times: when, and how many places are left."""
    one_left = Markup(_("1 place left"))  # a translation is markup, as templates' _() gives it
    items = []
    for slot in slots:
        starts, available = slot.starts_at, slot.available
        left = one_left if available == 1 else Markup(_("%(count)s places left", count=available))
        when = f"{escaped(local_date(starts, 'medium'))}, {escaped(local_time(starts))}"
        items.append(
            f'\n            <li><time datetime="{escaped(starts.isoformat())}">{when}</time>'
            f' <span class="small text-muted">({left})</span></li>'
        )
    return Markup("".join(items))


def install_service_markup(app: Flask) -> None:
    """Make the pieces available to every template."""
    app.jinja_env.globals.update(
        price=price,
        beneficiary_price=beneficiary_price,
        category_badge=category_badge,
        service_cards=service_cards,
        next_slot_items=next_slot_items,
    )
