"""Emails from templates, in the recipient's language, with absolute links.

Each email is one template under ``templates/mail/`` that extends ``mail/layout.html`` and
fills three blocks: ``subject`` and ``text`` (rendered without HTML escaping) and ``html``
(the HTML body, escaped as usual). Rendering happens under the recipient's locale, so
``{{ _("...") }}`` in the template comes out in their language.

>>> queue_template_mail(                                   # doctest: +SKIP
...     user.email, "mail/verify_email.html", locale=user.locale, kind="account.verify",
...     user=user, link=absolute_url("auth.verify", token=token))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2 import Environment, Template

from core.i18n import SUPPORTED_LOCALES
from core.models import OutboxMessage, User
from core.notifications.outbox import queue_mail

_TEXT_ENV_KEY = "concilia.mail_text_env"


@dataclass(frozen=True)
class RenderedMail:
    """The three parts of an email, already in the recipient's language."""

    subject: str
    text: str
    html: str


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` from ``CONCILIA_BASE_URL`` (works outside requests)."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    path = adapter.build(endpoint, values)
    return current_app.config["CONCILIA_BASE_URL"].rstrip("/") + path


def mail_locale(locale: str | None) -> str:
    """The language to write in: the recipient's if supported, else the platform default."""
    if locale in SUPPORTED_LOCALES:
        return str(locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _text_env(app: Flask) -> Environment:
    """The app's Jinja environment without autoescaping (its own template cache)."""
    env = app.extensions.get(_TEXT_ENV_KEY)
    if env is None:
        env = app.jinja_env.overlay(autoescape=False, cache_size=200)
        app.extensions[_TEXT_ENV_KEY] = env
    return env


def _render_block(template: Template, block: str, context: dict[str, Any]) -> str:
    if block not in template.blocks:
        raise KeyError(f"{template.name} has no {{% block {block} %}}")
    return "".join(template.blocks[block](template.new_context(context)))


def _tidy_text(text: str) -> str:
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_mail(template_name: str, locale: str | None = None, **context: Any) -> RenderedMail:
    """Render an email template in ``locale`` (default: the platform's language)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    code = mail_locale(locale)
    with force_locale(code):
        context = {
            "mail_locale": code,
            "site_name": _("Concilia"),
            "base_url": app.config["CONCILIA_BASE_URL"].rstrip("/"),
            **context,
        }
        text_template = _text_env(app).get_template(template_name)
        subject = " ".join(_render_block(text_template, "subject", context).split())
        text = _render_block(text_template, "text", context)
        footer = _(
            "This message was sent automatically by %(site)s (%(url)s): please do not reply.",
            site=context["site_name"],
            url=context["base_url"],
        )
        html = app.jinja_env.get_template(template_name).render(context)
    return RenderedMail(subject=subject, text=_tidy_text(f"{text}\n\n-- \n{footer}"), html=html)


def queue_template_mail(
    recipient: str,
    template_name: str,
    *,
    locale: str | None = None,
    kind: str = "",
    send_after: datetime | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render an email template in ``locale`` and add it to the outbox (caller's transaction)."""
    mail = render_mail(template_name, locale, **context)
    return queue_mail(
        recipient, mail.subject, mail.text, body_html=mail.html, kind=kind, send_after=send_after
    )


def mail_user(
    user: User,
    template_name: str,
    *,
    kind: str = "",
    send_after: datetime | None = None,
    **context: Any,
) -> OutboxMessage:
    """Queue a templated email to ``user`` in their language (``user`` is in the context)."""
    return queue_template_mail(
        user.email,
        template_name,
        locale=user.locale,
        kind=kind,
        send_after=send_after,
        user=user,
        **context,
    )
