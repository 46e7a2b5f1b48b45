"""Small HTML helpers for markup built in Python: escaping plain text, ``<option>`` lists.

Markup built in Python (cards, menus, option lists) escapes many plain strings per page;
``markupsafe.escape`` costs four calls a string, :func:`escaped` two, with the same result (the
same five characters, the same entities; ``tests/unit/test_html_helpers.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

# markupsafe's entities, exactly: & < > ' "
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})


def escaped(value: Any) -> str:
    """``markupsafe.escape(value)``: plain strings the fast way, anything else through markupsafe
    (markup and lazy strings are kept as they are, other objects converted with ``str``)."""
    if value.__class__ is str:
        return value.translate(_ENTITIES)  # type: ignore[no-any-return]
    return escape(value)


SELECTED = " selected"


def option_tags(choices: Iterable[tuple[Any, Any]], selected: Any = None) -> Markup:
    """``<option>`` elements of ``(value, label)`` pairs, the one equal to ``selected`` marked."""
    options = [  # a list, not a generator: one call, not one per option
        f'<option value="{escaped(value)}"{SELECTED if value == selected else ""}>'
        f"{escaped(label)}</option>"
        for value, label in choices
    ]
    return Markup("".join(options))
