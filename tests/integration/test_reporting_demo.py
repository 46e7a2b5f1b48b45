"""The Isola-Garibaldi demo gives the dashboard non-trivial figures, once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from core.extensions import db
from core.models import Booking, User
from tests.support.auth import login_as


def test_demo_history_fills_every_figure_and_loads_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load", "--district", "isola-garibaldi"]).exit_code == 0
    bookings = db.session.scalar(select(func.count(Booking.id)))
    assert bookings > 200
    assert runner.invoke(args=["demo", "load", "--district", "isola-garibaldi"]).exit_code == 0
    assert db.session.scalar(select(func.count(Booking.id))) == bookings

    admin = db.session.scalar(select(User).where(User.email == "laura.conti@municipio9.example"))
    client = app.test_client()
    login_as(client, admin)
    html = client.get("/isola-garibaldi/admin/reports", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "No data in this period." not in html
    assert html.count("<rect") > 60  # bars for months, areas, services and ratings
    assert html.count('role="img"') == 7
