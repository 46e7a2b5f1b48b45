"""The core's blueprints."""

from __future__ import annotations

from flask import Flask


def register_core_blueprints(app: Flask) -> None:
    """Register every blueprint of the core (plugins add theirs after)."""
    from core.web.auth import bp as auth_bp
    from core.web.booking import bp as booking_bp
    from core.web.my_bookings import bp as my_bookings_bp
    from core.web.provider_bookings import bp as provider_bookings_bp
    from core.web.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(my_bookings_bp)
    app.register_blueprint(provider_bookings_bp)
