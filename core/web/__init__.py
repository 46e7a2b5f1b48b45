"""The core's blueprints."""

from __future__ import annotations

from flask import Flask


def register_core_blueprints(app: Flask) -> None:
    """Register every blueprint of the core (plugins add theirs after)."""
    from core.catalogue.search import install_search_indexing
    from core.web.admin import bp as admin_bp
    from core.web.admin_services import bp as admin_services_bp
    from core.web.audit import bp as audit_bp
    from core.web.auth import bp as auth_bp
    from core.web.booking import bp as booking_bp
    from core.web.catalogue import bp as catalogue_bp
    from core.web.eligibility import bp as eligibility_bp
    from core.web.my_bookings import bp as my_bookings_bp
    from core.web.provider import bp as provider_bp
    from core.web.provider_bookings import bp as provider_bookings_bp
    from core.web.public import bp as public_bp

    for blueprint in (
        public_bp,
        auth_bp,
        catalogue_bp,
        provider_bp,
        admin_services_bp,
        booking_bp,
        my_bookings_bp,
        provider_bookings_bp,
        admin_bp,
        eligibility_bp,
        audit_bp,
    ):
        app.register_blueprint(blueprint)
    from core.api import install_api
    from core.web.service_feed import bp as service_feed_bp

    app.register_blueprint(service_feed_bp)
    install_api(app)
    install_search_indexing()  # keeps Service.search_text current on every flush
