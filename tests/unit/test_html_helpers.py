"""``core.web.html``: the fast escape is markupsafe's escape, the option lists are well formed."""

from __future__ import annotations

import string

import pytest
from flask_babel import LazyString
from markupsafe import Markup, escape

from core.web.html import escaped, option_tags

TEXTS = [
    "",
    "plain",
    "<script>alert('x')</script>",
    "a \"quoted\" & <tagged> 'value'",
    "&amp; already escaped stays text",
    "àèìòù € – …",
    string.printable,
    "\x00\n\t",
]


@pytest.mark.parametrize("text", TEXTS)
def test_escaped_text_is_markupsafes(text: str) -> None:
    assert escaped(text) == escape(text)
    assert str(escaped(text)) == str(escape(text))


@pytest.mark.parametrize(
    "value",
    [Markup("<b>kept</b>"), LazyString(lambda: "<b>lazy</b>"), 12, None, 1.5, ("a", "<")],
)
def test_anything_else_goes_through_markupsafe(value: object) -> None:
    assert escaped(value) == escape(value)


def test_option_tags() -> None:
    choices = [("a", "Rossi & Figli"), ("<b>", "<Coop>"), ("c", Markup("<i>C</i>"))]
    assert option_tags(choices, "<b>") == (
        '<option value="a">Rossi &amp; Figli</option>'
        '<option value="&lt;b&gt;" selected>&lt;Coop&gt;</option>'
        '<option value="c"><i>C</i></option>'
    )
    assert "selected" not in option_tags(choices, None)
    assert option_tags([], "a") == ""
