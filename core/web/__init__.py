"""The core's blueprints."""

from __future__ import annotations

from flask import Flask


def register_core_blueprints(app: Flask) -> None:
    """Register every blueprint of the core (plugins add theirs after)."""
    from core.catalogue.search import install_search_indexing
    from core.web.admin_services import bp as admin_services_bp
    from core.web.auth import bp as auth_bp
    from core.web.catalogue import bp as catalogue_bp
    from core.web.provider import bp as provider_bp
    from core.web.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(provider_bp)
    app.register_blueprint(admin_services_bp)
    install_search_indexing()  # keeps Service.search_text current on every flush
