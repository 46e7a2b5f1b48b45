"""Notifications: the mail outbox, its senders, and the messages the platform sends.

* :func:`queue_mail` – add a ready message to the outbox, in the caller's transaction;
* :func:`queue_template_mail` / :func:`mail_user` – render a ``templates/mail/`` template in the
  recipient's language and queue it; :func:`absolute_url` builds links for emails;
* :func:`send_pending` – what ``concilia mail send`` runs; :func:`flush_outbox` – inline delivery
  of what the current session committed (done automatically at the end of each app context).
"""

from __future__ import annotations

from flask import Flask

from core.notifications.compose import (
    absolute_url,
    mail_user,
    queue_template_mail,
    render_mail,
)
from core.notifications.mailer import flush_outbox, send_pending
from core.notifications.outbox import queue_mail


def init_app(app: Flask) -> None:
    """Turn on delivery after commit for ``app`` (called once per app)."""
    from core.notifications import mailer

    mailer.init_app(app)


__all__ = [
    "absolute_url",
    "flush_outbox",
    "init_app",
    "mail_user",
    "queue_mail",
    "queue_template_mail",
    "render_mail",
    "send_pending",
]
