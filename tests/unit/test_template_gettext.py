"""Templates' ``_``/``ngettext`` (one call each) return what Jinja's new-style ones return."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment

from core import i18n

CATALOG = {
    "plain": "semplice",
    "Hello %(name)s": "Ciao %(name)s",
    "100%% sure": "sicuro al 100%%",
    "<b>bold</b> & more": "<b>grassetto</b> & altro",
    "one": "uno",
    "%(num)s things": "%(num)s cose",
}


class Catalog:
    """A translations object answering from :data:`CATALOG`."""

    def ugettext(self, message: str) -> str:
        return CATALOG.get(message, message)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return CATALOG.get(singular if n == 1 else plural, singular if n == 1 else plural)


TEMPLATES = [
    '{{ _("plain") }}',
    '{{ _("not in the catalog") }}',
    '{{ _("Hello %(name)s", name="<Tom & Jerry>") }}',
    '{{ _("100%% sure") }}',
    '{{ _("<b>bold</b> & more") }}',
    '{{ gettext("plain") }}',
    '{{ ngettext("one", "%(num)s things", 1) }}',
    '{{ ngettext("one", "%(num)s things", 3) }}',
    '{{ ngettext("one", "%(num)s things", n) }}',
    "{% trans %}plain{% endtrans %}",
    '{% trans name="<i>" %}Hello {{ name }}{% endtrans %}',
]


def _jinjas(autoescape: bool) -> Environment:
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    catalog = Catalog()
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalog.ugettext, ngettext=catalog.ungettext, newstyle=True
    )
    return env


def _ours(autoescape: bool) -> Environment:
    env = _jinjas(autoescape)
    env.globals.update(_=i18n.template_gettext, gettext=i18n.template_gettext)
    env.globals["ngettext"] = i18n.template_ngettext
    return env


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("source", TEMPLATES)
def test_same_as_jinjas_new_style_gettext(
    source: str, autoescape: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "current_translations", lambda: Catalog())
    context: dict[str, Any] = {"n": 7}
    expected = _jinjas(autoescape).from_string(source).render(context)
    assert _ours(autoescape).from_string(source).render(context) == expected
