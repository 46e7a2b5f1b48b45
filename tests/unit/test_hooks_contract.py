"""One test per hook: a small plugin implements it, and the core calls it and uses the answer.

``tests/unit/test_hooks_documented.py`` fails if a hook of ``core/plugins/hookspecs.py`` has no
``test_hook_<name>`` here (or anywhere under ``tests/``).

The booking engine (which calls ``booking_form_fields``, ``validate_booking``,
``booking_created`` and ``booking_state_changed``) is built separately; those four are tested
here at the hook-call level, with the real area plugins where they answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Blueprint, Flask
from flask_babel import force_locale, gettext
from markupsafe import Markup
from sqlalchemy import select

import core.plugins.defaults
import plugins.family
import plugins.work
from core.extensions import db
from core.models import Organisation, Service
from core.plugins import BookingRequest, Category, DistrictConfig, EligibilityDecision, hookimpl
from core.plugins.manager import build_host
from tests.support.test_plugins import TEST_PLUGINS


def with_test_plugins(*plugins: object) -> list[object]:
    """The test districts and areas plus ``plugins``, for ``CONCILIA_EXTRA_PLUGINS``."""
    return [*TEST_PLUGINS, *plugins]


class _Area:
    PLUGIN_NAME = "contract-area"

    @hookimpl
    def register_categories(self) -> list[Category]:
        return [Category(slug="contract-area", name="Contract area", description="For tests")]


def test_hook_register_categories(make_app: Any) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(_Area()))
    host = app.extensions["concilia"]
    assert host.categories["contract-area"].name == "Contract area"
    assert "contract-area" in [c.slug for c in host.sorted_categories()]


class _Town:
    PLUGIN_NAME = "contract-town"

    @hookimpl
    def register_districts(self) -> list[DistrictConfig]:
        return [DistrictConfig(slug="contract-town", name="Contract Town", municipality="Comune X")]


def test_hook_register_districts(make_app: Any) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(_Town()))
    assert "contract-town" in app.extensions["concilia"].districts
    result = app.test_cli_runner().invoke(args=["districts", "sync"])
    assert result.exit_code == 0, result.output
    assert "contract-town: Contract Town (Comune X)" in result.output


class _Pages:
    PLUGIN_NAME = "contract-pages"

    @hookimpl
    def register_blueprints(self, app: Flask) -> list[Blueprint]:
        bp = Blueprint("contract_pages", __name__)

        @bp.get("/contract/ping")
        def ping() -> str:
            return "pong from a plugin"

        return [bp]


def test_hook_register_blueprints(make_app: Any) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(_Pages()))
    response = app.test_client().get("/contract/ping")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "pong from a plugin"


class _Command:
    PLUGIN_NAME = "contract-command"

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("contract-hello")
        @click.argument("who")
        def hello(who: str) -> None:
            click.echo(f"hello {who}")


def test_hook_register_commands(make_app: Any) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(_Command()))
    result = app.test_cli_runner().invoke(args=["contract-hello", "Isola"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello Isola\n"


def _catalog_dir(root: Path) -> Path:
    """A translations folder whose Italian catalog translates one message."""
    catalog = Catalog(locale="it")
    catalog.add("Contract greeting", "Saluto del contratto")
    folder = root / "translations" / "it" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    return root / "translations"


def test_hook_translation_dirs(make_app: Any, tmp_path: Path) -> None:
    folder = _catalog_dir(tmp_path)

    class Translations:
        PLUGIN_NAME = "contract-translations"

        @hookimpl
        def translation_dirs(self) -> list[str]:
            return [str(folder)]

    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(Translations()))
    assert str(folder) in app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    # Catalogs are cached per app (core.extensions.AppScopedDomain): apps built earlier in this
    # process, without our folder, must not hide the plugin's catalog.
    with app.test_request_context():
        with force_locale("it"):
            assert gettext("Contract greeting") == "Saluto del contratto"
            # the core's own catalog is still there
            assert gettext("Privacy notice") != "Privacy notice"
        with force_locale("en"):
            assert gettext("Contract greeting") == "Contract greeting"


class _Footer:
    PLUGIN_NAME = "contract-footer"

    @hookimpl
    def template_hook(self, name: str, context: dict[str, Any]) -> Markup | str | None:
        if name == "footer_extra":
            return Markup('<p id="contract-footer">Made with care</p>')
        return None


class _PlainFooter:
    PLUGIN_NAME = "contract-plain-footer"

    @hookimpl
    def template_hook(self, name: str, context: dict[str, Any]) -> str | None:
        return "<b>plain & escaped</b>" if name == "footer_extra" else None


def test_hook_template_hook(make_app: Any) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(_Footer(), _PlainFooter()))
    page = app.test_client().get("/").get_data(as_text=True)
    footer = page[page.index('<footer class="it-footer"') :]
    assert '<p id="contract-footer">Made with care</p>' in footer
    assert "&lt;b&gt;plain &amp; escaped&lt;/b&gt;" in footer  # a str is escaped, Markup is not


class _Demo:
    PLUGIN_NAME = "contract-demo"
    calls: list[str] = []

    @hookimpl
    def demo_data(self, district: DistrictConfig, session: Any) -> None:
        self.calls.append(district.slug)
        if district.slug != "borgo-test":
            return
        from core.models import District

        row = session.scalar(select(District).where(District.slug == "borgo-test"))
        exists = session.scalar(select(Organisation.id).where(Organisation.slug == "contract-org"))
        if exists is None:
            session.add(Organisation(district_id=row.id, slug="contract-org", name="Contract Org"))


def test_hook_demo_data(make_app: Any) -> None:
    demo = _Demo()
    demo.calls = []
    app = make_app(CONCILIA_EXTRA_PLUGINS=with_test_plugins(demo))
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "load", "--district", "borgo-test"])
        assert result.exit_code == 0, result.output
    assert demo.calls == ["borgo-test", "borgo-test"]
    with app.app_context():
        orgs = db.session.scalars(select(Organisation.slug)).all()
    assert orgs == ["contract-org"]


class _Eligibility:
    PLUGIN_NAME = "contract-eligibility"

    @hookimpl
    def eligibility(
        self, user: Any, district: DistrictConfig, declaration: Any
    ) -> EligibilityDecision | None:
        if district.slug == "borgo-test":
            return EligibilityDecision("approved", "Everyone in Borgo Test is welcome")
        return None


def test_hook_eligibility() -> None:
    host = build_host(extra=[core.plugins.defaults, _Eligibility()], discovered=[])
    borgo = DistrictConfig(slug="borgo-test", name="Borgo", municipality="Comune")
    other = DistrictConfig(slug="other", name="Other", municipality="Comune")
    first = host.hook.eligibility(user=None, district=borgo, declaration=None)
    assert first == EligibilityDecision("approved", "Everyone in Borgo Test is welcome")
    # firstresult: the plugin said nothing, so the core's default (trylast) answers
    fallback = host.hook.eligibility(user=None, district=other, declaration=None)
    assert isinstance(fallback, EligibilityDecision) and fallback.status == "pending"


def _names(answers: list[Any]) -> list[str]:
    return [name for fields in answers for name, _field in fields]


def test_hook_booking_form_fields(app: Flask) -> None:
    host = build_host(extra=[plugins.family, plugins.work], discovered=[])
    with app.test_request_context():
        babysitting = Service(category="family", service_type="babysitting")
        meeting_room = Service(category="work", service_type="meeting-room")
        yoga = Service(category="health", service_type="yoga-pilates")
        assert _names(host.hook.booking_form_fields(service=babysitting)) == [
            "child_name",
            "child_age",
        ]
        assert _names(host.hook.booking_form_fields(service=meeting_room)) == ["attendees"]
        assert host.hook.booking_form_fields(service=yoga) == []
        # the installed app answers the same way
        live = app.extensions["concilia"].hook.booking_form_fields(service=babysitting)
        assert _names(live) == ["child_name", "child_age"]


class _AlwaysRefuses:
    PLUGIN_NAME = "contract-refuses"

    @hookimpl
    def validate_booking(self, request: BookingRequest) -> list[str]:
        return ["closed for tests"]


def test_hook_validate_booking(app: Flask) -> None:
    host = build_host(extra=[plugins.family, plugins.work, _AlwaysRefuses()], discovered=[])
    child = Service(category="family", service_type="summer-camp")
    with app.test_request_context(), force_locale("en"):
        request = BookingRequest(
            user=None,
            service=child,
            slot=None,
            seats=1,
            answers={"child_name": "Ada", "child_age": 3},
        )
        reasons = [r for answer in host.hook.validate_booking(request=request) for r in answer]
        # every plugin's reasons are collected
        assert "closed for tests" in reasons
        assert "This service is for children aged 6 to 14." in reasons
        request.answers["child_age"] = 8
        reasons = [r for answer in host.hook.validate_booking(request=request) for r in answer]
        assert reasons == ["closed for tests"]
        fine = app.extensions["concilia"].hook.validate_booking(request=request)
        assert fine == []


class _Recorder:
    PLUGIN_NAME = "contract-recorder"

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    @hookimpl
    def booking_created(self, booking: Any) -> None:
        self.events.append(("created", booking))

    @hookimpl
    def booking_state_changed(self, booking: Any, old: str, new: str) -> None:
        self.events.append(("changed", booking, old, new))


def test_hook_booking_created() -> None:
    recorder = _Recorder()
    host = build_host(extra=[recorder], discovered=[])
    booking = object()
    assert host.hook.booking_created(booking=booking) == []
    assert recorder.events == [("created", booking)]


def test_hook_booking_state_changed() -> None:
    recorder = _Recorder()
    host = build_host(extra=[recorder], discovered=[])
    booking = object()
    host.hook.booking_state_changed(booking=booking, old="confirmed", new="cancelled")
    assert recorder.events == [("changed", booking, "confirmed", "cancelled")]
