"""Flask extensions, created once here and bound to the app in :func:`core.create_app`."""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import current_app
from flask_babel import Babel, Domain
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model, with a naming convention Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AppScopedDomain(Domain):
    """Flask-Babel's domain, with loaded catalogs cached per app instead of per process.

    Flask-Babel caches by (locale, domain) only; two apps in one process with different plugin
    catalogs (tests, or several deployments in one server) would share the first one's.
    """

    def get_translations_cache(self, ctx: Any) -> dict[Any, Any]:
        """The cache of the current app."""
        return current_app.extensions.setdefault("concilia_translations", {})

    def get_translations(self) -> NullTranslations:
        """The catalog of the active locale, looked up once per context and locale.

        Every ``gettext`` (and every lazy string shown) asks for it; Flask-Babel would resolve
        the app, the locale's name and the cache each time (see :mod:`core.i18n`).
        """
        from core.i18n import current_translations

        return current_translations()


class ConciliaBabel(Babel):
    """Babel whose default domain keeps its catalog cache per app."""

    @property
    def domain_instance(self) -> Domain:
        """The default message domain (one per Babel object, caches per app)."""
        if not hasattr(self, "_concilia_domain"):
            self._concilia_domain = AppScopedDomain(domain=self.domain)
        return self._concilia_domain


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = ConciliaBabel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
