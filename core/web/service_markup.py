"""Small pieces of service markup used on every card: price, beneficiary price, area badge.

Python rather than Jinja macros: a catalogue page shows them a dozen times, and a macro call
costs far more than a function call.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from core.i18n import gettext as _
from core.i18n import money


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


def install_service_markup(app: Flask) -> None:
    """Make the pieces available to every template."""
    app.jinja_env.globals.update(
        price=price, beneficiary_price=beneficiary_price, category_badge=category_badge
    )
