"""The core's blueprints."""

from __future__ import annotations

from flask import Flask


def register_core_blueprints(app: Flask) -> None:
    """Register every blueprint of the core (plugins add theirs after)."""
    from core.web.auth import bp as auth_bp
    from core.web.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
