"""Accounts (placeholder until the accounts work lands): login and profile endpoints."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("auth", __name__)


@bp.get("/login")
def login() -> str:
    """Log-in page."""
    return render_template("errors/error.html", code=501, message="")


@bp.get("/profile")
def profile() -> str:
    """Personal area."""
    return render_template("errors/error.html", code=501, message="")
