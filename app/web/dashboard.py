"""The leaders' dashboard: figures per street, community and grid, trends and exports."""

from __future__ import annotations

import io
from datetime import datetime

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import pgettext
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Font

from app.auth import current_scope, roles_required
from app.extensions import db
from app.headers import attachment
from app.services import dashboard as service
from app.services.exports import append_row, csv_text
from app.web import bp

LEADERS = ("leader", "admin")


def _report() -> service.Dashboard:
    now = datetime.now(service.SHANGHAI)
    filters = service.parse_dashboard_filters(request.args, now.date())
    return service.dashboard(db.session, current_scope(), filters, now)


@bp.get("/dashboard")
@roles_required(*LEADERS)
def dashboard_page():
    report = _report()
    charts = {
        "flow": line_chart(
            [w.start.strftime("%m-%d") for w in report.weeks],
            [
                (pgettext("chart", "New"), "#c0392b", [w.opened for w in report.weeks]),
                (pgettext("chart", "Closed"), "#1f77b4", [w.closed for w in report.weeks]),
            ],
            title=_("New and closed incidents per week"),
        ),
        "on_time": line_chart(
            [w.start.strftime("%m-%d") for w in report.weeks],
            [
                (
                    _("On-time rate"),
                    "#2ca02c",
                    [
                        None if w.on_time_rate is None else 100 * w.on_time_rate
                        for w in report.weeks
                    ],
                )
            ],
            title=_("On-time rate per week (%)"),
            y_max=100,
        ),
    }
    return render_template("dashboard.html", report=report, charts=charts)


def _export_name(report: service.Dashboard, suffix: str) -> str:
    period = report.filters.period
    return f"dashboard-{report.filters.level}-{period.first}-{period.last}.{suffix}"


@bp.get("/dashboard.csv")
@roles_required(*LEADERS)
def dashboard_csv():
    report = _report()
    return Response(
        csv_text([service.export_headers(), *service.export_rows(report)]),
        mimetype="text/csv",
        headers={"Content-Disposition": attachment(_export_name(report, "csv"))},
    )


@bp.get("/dashboard.xlsx")
@roles_required(*LEADERS)
def dashboard_xlsx():
    report = _report()
    book = Workbook()
    sheet = book.active
    sheet.title = _("by %(level)s", level=report.level_name)
    append_row(sheet, service.export_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in service.export_rows(report):
        append_row(sheet, row)
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": attachment(_export_name(report, "xlsx"))},
    )


# --- charts ---------------------------------------------------------------------------

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 220, 40, 24, 28, 36


def _nice_max(value: float) -> float:
    if value <= 5:
        return 5
    step = 10 ** (len(str(int(value))) - 1)
    return ((int(value) // step) + 1) * step


def line_chart(
    labels: list[str],
    series: list[tuple[str, str, list[float | None]]],
    *,
    title: str,
    y_max: float | None = None,
) -> Markup:
    """An inline SVG line chart: one line per (name, colour, values); None leaves a gap."""
    values = [v for *_name_color, vs in series for v in vs if v is not None]
    top = y_max or _nice_max(max(values, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return PAD_LEFT + i * step

    def y(v: float) -> float:
        return PAD_TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{PAD_LEFT}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'class="grid-line"/><text x="{PAD_LEFT - 4}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end" class="tick">{v:g}</text>'
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    for n, (name, color, vs) in enumerate(series):
        for segment in _segments(vs):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2" '
                f'data-series="{escape(name)}"/>'
            )
            parts += [
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(_point_title(labels[i], name, v))}</title></circle>"
                for i, v in segment
            ]
        lx = PAD_LEFT + 10 + n * 120
        parts.append(
            f'<rect x="{lx}" y="{HEIGHT - 14}" width="12" height="4" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{HEIGHT - 9}" class="tick">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _point_title(label: str, series: str, value: float) -> str:
    return _("%(week)s %(series)s: %(value)s", week=label, series=series, value=format(value, "g"))


def _segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    segments: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((i, v))
    return [s for s in segments if s]
