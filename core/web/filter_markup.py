"""The catalogue filter's option lists: areas, types of service, providers.

The areas and their types of service depend only on the district and the language: their
``<option>`` elements (labels translated and escaped) are built once per language
(:mod:`core.web.reader_memo`) and only the ``selected`` mark is set per request. The providers
are data, read on every request, and rendered with :func:`core.web.html.option_tags`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from markupsafe import Markup

from core.catalogue.services import enabled_categories
from core.web.html import SELECTED, escaped, option_tags
from core.web.reader_memo import per_reader_language

#: ``(value, '<option value="…"', '>label</option>')``: an option, ``selected`` left out.
Option = tuple[str, str, str]


def _option(value: str, label: Any) -> Option:
    return value, f'<option value="{escaped(value)}"', f">{escaped(label)}</option>"


def _render(options: tuple[Option, ...], selected: str | None) -> str:
    return "".join(
        f"{head}{SELECTED if value == selected else ''}{tail}" for value, head, tail in options
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
    return Markup(
        "".join(
            f"\n          {label}\n            {_render(options, selected)}\n          </optgroup>"
            for slug, label, options in _area_options(district).type_groups
            if not area or slug == area
        )
    )


def install_filter_markup(app: Flask) -> None:
    """Make the option lists available to every template."""
    app.jinja_env.globals.update(
        area_options=area_options,
        service_type_options=service_type_options,
        option_tags=option_tags,
    )
