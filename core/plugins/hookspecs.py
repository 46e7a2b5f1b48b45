"""Every hook of Concilia, with its signature and an example.

Plugins implement them with ``@hookimpl``; each is documented in ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from markupsafe import Markup
    from wtforms import Field

    from core.plugins.types import BookingRequest, Category, DistrictConfig, EligibilityDecision

PROJECT_NAME = "concilia"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_categories() -> list[Category]:
    """Return the service categories (areas) this plugin adds.

    Example::

        @hookimpl
        def register_categories():
            return [Category(slug="health", name=_l("Health"), description=_l("…"))]
    """


@hookspec
def register_districts() -> list[DistrictConfig]:
    """Return the district configs this plugin adds.

    Example::

        @hookimpl
        def register_districts():
            return [DistrictConfig(slug="isola-garibaldi", name="Isola-Garibaldi",
                                   municipality="Comune di Milano")]
    """


@hookspec
def register_blueprints(app: Flask) -> list[Blueprint]:
    """Return Flask blueprints to register on the app (pages, static files of the plugin).

    Example::

        @hookimpl
        def register_blueprints(app):
            return [Blueprint("health", __name__, template_folder="templates")]
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``concilia`` command group.

    Example::

        @hookimpl
        def register_commands(cli):
            @cli.command("hello")
            def hello():
                click.echo("hi")
    """


@hookspec
def translation_dirs() -> list[str]:
    """Return absolute paths of folders holding this plugin's gettext catalogs.

    Each folder is laid out as ``<locale>/LC_MESSAGES/messages.mo``.

    Example::

        @hookimpl
        def translation_dirs():
            return [str(Path(__file__).parent / "translations")]
    """


@hookspec
def template_hook(name: str, context: dict[str, Any]) -> Markup | str | None:
    """Return markup to insert at the named point of a template, or ``None``.

    Templates call ``{{ run_hook("service_page_after_rules", service=service) }}``.

    Example::

        @hookimpl
        def template_hook(name, context):
            if name == "footer_extra":
                return Markup("<p>Powered by us</p>")
    """


@hookspec
def booking_form_fields(service: Any) -> list[tuple[str, Field]] | None:
    """Return extra WTForms fields, as ``(name, unbound field)`` pairs, for booking ``service``.

    Example::

        @hookimpl
        def booking_form_fields(service):
            if service.category == "family":
                return [("child_age", IntegerField(_l("Child's age"),
                                                   [NumberRange(0, 14)]))]
    """


@hookspec
def validate_booking(request: BookingRequest) -> list[str] | None:
    """Return reasons (translated strings) to refuse ``request``; all plugins' are collected.

    Called inside the booking transaction, before the seat is claimed.

    Example::

        @hookimpl
        def validate_booking(request):
            if request.answers.get("child_age", 0) > 14:
                return [_("The after-school service is for children up to 14.")]
    """


@hookspec(firstresult=True)
def eligibility(
    user: Any, district: DistrictConfig, declaration: Any
) -> EligibilityDecision | None:
    """Decide whether ``user`` is a beneficiary of ``district``; the first non-None answer wins.

    Example::

        @hookimpl
        def eligibility(user, district, declaration):
            if district.slug == "isola-garibaldi":
                return EligibilityDecision("pending", _("Checked by the municipality"))
    """


@hookspec
def booking_created(booking: Any) -> None:
    """Called after a booking has been committed (notify, call a webhook, send an SMS).

    Example::

        @hookimpl
        def booking_created(booking):
            log.info("booking %s for slot %s", booking.id, booking.slot_id)
    """


@hookspec
def booking_state_changed(booking: Any, old: str, new: str) -> None:
    """Called after a booking's state change has been committed.

    Example::

        @hookimpl
        def booking_state_changed(booking, old, new):
            if new == "cancelled":
                notify_provider(booking)
    """


@hookspec
def booking_events(events: list[Any]) -> None:
    """Called in the transaction that creates or changes bookings, just before it commits.

    ``events`` are :class:`core.booking.events.BookingEvent` (``booking``, ``name`` such as
    ``booking.created`` or ``booking.cancelled``, ``status``, ``old``). Write your own rows
    only (an outbox for a worker to deliver): they commit with the change or not at all. No
    network here, and raise only if the change must not happen.

    Example::

        @hookimpl
        def booking_events(events):
            for e in events:
                db.session.add(AuditFeed(booking_id=e.booking.id, event=e.name))
    """


@hookspec
def booking_read_along() -> dict[str, Any] | None:
    """Return yes/no questions about a service to ask in the booking's first read of it.

    ``{name: expression}``: each expression is a boolean SQL expression over ``Service``
    (an ``EXISTS`` correlated to it). The web flow's confirmation reads the service with
    every plugin's questions in the same statement, and the answers hold until that
    transaction ends: :func:`core.booking.read_along.answer` gives them, or ``None`` where
    the question was not asked (the API, the CLI, another transaction), so a plugin then
    reads for itself. Collected once per app; names must be unique, so prefix yours.

    Example::

        @hookimpl
        def booking_read_along():
            return {"audit.watched": exists().where(Watch.service_id == Service.id)}
    """


@hookspec
def demo_data(district: DistrictConfig, session: Any) -> None:
    """Add the demo rows of ``district`` to ``session`` (run by ``concilia demo load``).

    Must be idempotent: running it twice changes nothing. Implementations ignore districts
    they do not own.

    Example::

        @hookimpl
        def demo_data(district, session):
            if district.slug == "isola-garibaldi":
                load_isola_demo(session)
    """
