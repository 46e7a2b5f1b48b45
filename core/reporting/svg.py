"""Server-rendered SVG charts: small pure functions returning accessible markup.

Each chart is an ``<svg role="img">`` with ``<title>`` and ``<desc>`` (named by
``aria-labelledby``); the page puts the figure's data table next to it for screen readers.
Colours come from presentation attributes (the CSP forbids inline styles).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#0066cc", "#c98a00", "#00805f", "#a8326b", "#5c6f82", "#7a1f1f", "#1f5f8b", "#6b4fbb")


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    width: int = 640,
    bar: int = 22,
    unit: str = "",
) -> Markup:
    """A horizontal bar chart: one labelled bar per value, the value printed at its end."""
    label_w, gap, top = 220, 8, 8
    height = top * 2 + max(1, len(values)) * (bar + gap)
    peak = max([float(v) for v in values] + [0.0]) or 1.0
    span = width - label_w - 70
    parts = [_open(chart_id, title, desc, width, height)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar + gap)
        w = round(span * float(value) / peak, 1)
        text = str(label) if len(str(label)) <= 34 else str(label)[:33] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end" '
            f'font-size="13" fill="#1a1a1a">{escape(text)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: '
            f"{escape(_fmt(value))}{escape(unit)}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + bar * 0.7:.1f}" font-size="13" '
            f'fill="#1a1a1a">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    if not values:
        parts.append(f'<text x="10" y="{top + bar * 0.7}" font-size="13" fill="#5c6f82">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_columns(
    chart_id: str,
    title: str,
    desc: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 640,
    height: int = 260,
) -> Markup:
    """Vertical columns per group (e.g. month), stacked by series (e.g. area), with a legend."""
    left, bottom, top = 40, 40, 10
    legend_h = 20 * ((len(series) + 2) // 3)
    plot_h = height - bottom - top
    totals = [sum(float(s[1][i]) for s in series) for i in range(len(groups))]
    peak = max([*totals, 0.0]) or 1.0
    step = (width - left - 10) / max(1, len(groups))
    col = max(6.0, step * 0.6)
    parts = [_open(chart_id, title, desc, width, height + legend_h)]
    axis = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{axis}" x2="{width - 10}" y2="{axis}" stroke="#5c6f82"/>'
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11" '
        f'fill="#1a1a1a">{_fmt(max([*totals, 0.0]))}</text>'
        f'<text x="{left - 6}" y="{axis}" text-anchor="end" font-size="11" fill="#1a1a1a">0</text>'
    )
    for i, group in enumerate(groups):
        x = left + i * step + (step - col) / 2
        y = float(top + plot_h)
        for k, (name, values) in enumerate(series):
            h = plot_h * float(values[i]) / peak
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{col:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(group)} · {escape(name)}: '
                f"{escape(_fmt(values[i]))}</title></rect>"
            )
        fits = max(4, int(step / 6.5))
        shown = group if len(group) <= fits else group[: fits - 1] + "…"
        parts.append(
            f'<text x="{x + col / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11" fill="#1a1a1a">{escape(shown)}</text>'
        )
    for k, (name, _values) in enumerate(series):
        lx = 10 + (k % 3) * (width // 3)
        ly = height + 20 * (k // 3)
        parts.append(
            f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{lx + 18}" y="{ly}" font-size="12" fill="#1a1a1a">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
