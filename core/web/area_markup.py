"""A district's service areas as markup: the home page's area cards, the catalogue filter's
area and type options.

The areas, their names, descriptions, icons and types of service depend only on the district
and the language (plugins register them): their markup (labels translated and escaped) is built
once per language (:mod:`core.web.reader_memo`). Per request only the counts on the cards and
the ``selected`` mark of the options are set. (The filter's providers are data, read on every
request, and rendered with :func:`core.web.html.option_tags`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from markupsafe import Markup

from core.catalogue.services import enabled_categories
from core.i18n import gettext as _
from core.web.html import SELECTED, escaped, option_tags
from core.web.reader_memo import per_reader_language
from core.web.templating import icon

#: ``(value, '<option value="…"', '>label</option>')``: an option, ``selected`` left out.
Option = tuple[str, str, str]


def _option(value: str, label: Any) -> Option:
    return value, f'<option value="{escaped(value)}"', f">{escaped(label)}</option>"


def _render(options: tuple[Option, ...], selected: str | None) -> str:
    return "".join(
        [f"{head}{SELECTED if value == selected else ''}{tail}" for value, head, tail in options]
    )


@dataclass(frozen=True)
class AreaOptions:
    """A district's areas, and the types of service of each area that has some."""

    areas: tuple[Option, ...]
    #: ``(area slug, '<optgroup label="area">', options)`` for each area with types of service.
    type_groups: tuple[tuple[str, str, tuple[Option, ...]], ...]


def build_area_options(district: Any) -> AreaOptions:
    """The options of the district's areas and types, in this request's language."""
    categories = enabled_categories(district, current_app.extensions["concilia"].categories)
    return AreaOptions(
        areas=tuple(_option(c.slug, c.name) for c in categories),
        type_groups=tuple(
            (
                c.slug,
                f'<optgroup label="{escaped(c.name)}">',
                tuple(_option(t.slug, t.name) for t in c.service_types),
            )
            for c in categories
            if c.service_types
        ),
    )


def _area_options(district: Any) -> AreaOptions:
    return per_reader_language("area-options", district, lambda: build_area_options(district))


def area_options(district: Any, selected: str | None) -> Markup:
    """``<option>`` of each area of ``district``, the ``selected`` one marked."""
    return Markup(_render(_area_options(district).areas, selected))


def service_type_options(district: Any, area: str | None, selected: str | None) -> Markup:
    """``<optgroup>`` of types of service per area (only ``area``'s when one is chosen)."""
    groups = [
        f"\n          {label}\n            {_render(options, selected)}\n          </optgroup>"
        for slug, label, options in _area_options(district).type_groups
        if not area or slug == area
    ]
    return Markup("".join(groups))


#: ``(area slug, the card up to its count, the card after its count)``.
AreaCard = tuple[str, str, str]


def build_area_cards(district: Any) -> tuple[AreaCard, ...]:
    """The district's area cards, in this request's language, without their counts."""
    categories = enabled_categories(district, current_app.extensions["concilia"].categories)
    see = Markup(_("See the services"))  # a translation is markup, as templates' _() gives it
    cards = []
    for c in categories:
        slug, name = escaped(c.slug), escaped(c.name)
        url = escaped(url_for("catalogue.services", district=district.slug, category=c.slug))
        head = (
            f'\n    <div class="col-12 col-md-6 col-lg-3 mb-4">\n'
            f'      <div class="card card-bg h-100 category-card category-{slug}">\n'
            f'        <div class="card-body">\n'
            f'          <div class="mb-2">{icon(c.icon, "icon-lg category-icon")}</div>\n'
            f'          <h3 class="card-title h5">{name}</h3>\n'
            f'          <p class="card-text">{escaped(c.description)}</p>\n'
            f'          <p class="card-text"><span class="badge category-badge category-{slug}">'
        )
        tail = (
            f"</span></p>\n"
            f'          <a class="read-more" href="{url}">{see}'
            f'<span class="visually-hidden"> – {name}</span></a>\n'
            f"        </div>\n"
            f"      </div>\n"
            f"    </div>"
        )
        cards.append((c.slug, head, tail))
    return tuple(cards)


def area_cards(district: Any, counts: Mapping[str, int], max_results: int) -> Markup:
    """A card per area of ``district``: icon, name, description, how many services (``counts``
    by area, "more than ``max_results``" beyond it), a link to the area's services."""
    cards = per_reader_language("area-cards", district, lambda: build_area_cards(district))
    parts = []
    for slug, head, tail in cards:
        n = counts.get(slug, 0)
        if n > max_results:
            count = _("More than %(count)s services", count=max_results)
        elif n == 1:
            count = _("1 service")
        else:
            count = _("%(count)s services", count=n)
        parts.append(f"{head}{Markup(count)}{tail}")
    return Markup("".join(parts))


def install_area_markup(app: Flask) -> None:
    """Make the area cards and the option lists available to every template."""
    app.jinja_env.globals.update(
        area_cards=area_cards,
        area_options=area_options,
        service_type_options=service_type_options,
        option_tags=option_tags,
    )
