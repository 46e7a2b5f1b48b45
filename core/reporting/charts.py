"""The dashboard's charts, each drawn from its figure's table."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from core.reporting.svg import bar_chart, stacked_columns
from core.reporting.tables import Table


def _summary(table: Table, label: int, value: int) -> str:
    if not table.rows:
        return _("No data in this period.")
    return "; ".join(f"{row[label]}: {row[value]}" for row in table.rows[:12])


def charts(tables: dict[str, Table]) -> dict[str, Markup]:
    """An SVG chart for each figure that has one, by table key."""
    out: dict[str, Markup] = {}
    b = tables["beneficiaries"]
    out["beneficiaries"] = stacked_columns(
        "chart-beneficiaries",
        b.title,
        _summary(b, 0, 4),
        b.column(0),
        [
            (_("Approved"), b.column(1)),
            (_("Pending"), b.column(2)),
            (_("Rejected"), b.column(3)),
        ],
    )
    bk = tables["bookings"]
    months = sorted({row[0] for row in bk.rows})
    areas = sorted({row[1] for row in bk.rows})
    cells = {(row[0], row[1]): row[2] for row in bk.rows}
    out["bookings"] = stacked_columns(
        "chart-bookings",
        bk.title,
        _summary(bk, 0, 2) if bk.rows else _("No data in this period."),
        months,
        [(area, [cells.get((m, area), 0) for m in months]) for area in areas],
    )
    u = tables["utilisation"]
    out["utilisation"] = bar_chart(
        "chart-utilisation", u.title, _summary(u, 0, 3), u.column(0), u.column(3), unit="%"
    )
    c = tables["cancellations"]
    out["cancellations"] = stacked_columns(
        "chart-cancellations",
        c.title,
        _summary(c, 0, 2),
        c.column(0),
        [
            (_("No-shows"), c.column(2)),
            (_("Cancelled by residents"), c.column(4)),
            (_("Cancelled by providers or the district"), c.column(5)),
        ],
    )
    w = tables["waitlist"]
    out["waitlist"] = bar_chart(
        "chart-waitlist", w.title, _summary(w, 0, 1), w.column(0), w.column(1)
    )
    t = tables["top_services"]
    out["top_services"] = bar_chart(
        "chart-top", t.title, _summary(t, 0, 3), t.column(0), t.column(3)
    )
    r = tables["ratings"]
    out["ratings"] = bar_chart(
        "chart-ratings", r.title, _summary(r, 0, 2), r.column(0), r.column(2)
    )
    return out
