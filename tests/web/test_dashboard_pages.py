"""The dashboard and incident map pages through the test client: who may see them, their
figures and drill-down links, bad filters, the Excel and CSV exports, and no personal data."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.services.assignment import assign_all
from app.services.dashboard import EXPORT_HEADERS, SHANGHAI
from app.web.assets import external_urls
from tests.conftest import login
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_households,
    add_incident,
    add_user,
    build_world,
)

PHONE_NUMBER = re.compile(r"(?<![\w.])1[3-9]\d{9}(?![\w])")
ID_NUMBER = re.compile(r"(?<![\w.])\d{17}[\dXx](?![\w])")
RESIDENT_PHONE, CONTACT_PHONE = "13812345678", "15987654321"


@pytest.fixture
def world(session):
    """NW: 2 households, 2 incidents (one closed on time and rated 5, one overdue);
    NE: 1 incident, no household; a leader, an admin, a planner and a worker."""
    world = build_world(session)
    add_households(
        session,
        [(X0 + 0.002, Y0 + STEP + 0.002), (X0 + 0.004, Y0 + STEP + 0.004)],
        head_name="欧阳娜娜",
        phone=RESIDENT_PHONE,
    )
    road = add_category(session, "road", "道路破损")
    add_category(session, "trash", "垃圾堆放")
    now = datetime.now(SHANGHAI)
    add_incident(
        session,
        world,
        "NW",
        road,
        status="rated",
        created_at=now - timedelta(days=10),
        deadline_at=now - timedelta(days=7),
        closed_at=now - timedelta(days=9),
        rating=5,
        contact_name="李秀英",
        contact_phone=CONTACT_PHONE,
    )
    add_incident(
        session,
        world,
        "NW",
        road,
        status="dispatched",
        created_at=now - timedelta(days=5),
        deadline_at=now - timedelta(days=1),
    )
    add_incident(
        session, world, "NE", road, status="submitted", created_at=now - timedelta(hours=2)
    )
    add_user(session, "leader", "leader")
    add_user(session, "admin", "admin")
    add_user(session, "planner", "planner")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)  # commits
    return world


def get_page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def dashboard_figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd data-figure="(\w+)">([^<]*)</dd>', html))


def assert_no_personal_data(html: str) -> None:
    assert not PHONE_NUMBER.search(html), PHONE_NUMBER.search(html).group(0)
    assert not ID_NUMBER.search(html)
    for secret in ("欧阳娜娜", "李秀英", "13900001111"):
        assert secret not in html


@pytest.mark.parametrize("username", ["leader", "admin"])
def test_leaders_and_admins_see_the_dashboard_with_its_figures(client, world, username):
    login(client, username)
    html = get_page(client, "/dashboard")
    assert dashboard_figures(html) == {
        "counted": "3",
        "open": "2",
        "resolution": "33.3%",
        "on_time": "100.0%",
        "hours": "24.0 小时",
        "rating": "5.00",
        "overdue": "1",
        "per_worker": "2.0",
    }
    # One street, linked to its communities with the same filters.
    assert f"level=community&amp;parent={world.street.code}" in html
    assert "保宁街道" in html and "办结率" in html and "指标口径" in html
    assert html.count('<svg class="chart"') == 2
    assert "/static/js/dashboard.js" in html
    assert external_urls(html) == []
    assert_no_personal_data(html)


def test_the_grid_level_lists_every_grid_with_its_own_figures(client, world):
    login(client, "leader")
    html = get_page(client, f"/dashboard?level=grid&parent={world.community.code}")
    rows = dict(re.findall(r'<tr data-code="(\d{15})">(.*?)</tr>', html, re.S))
    assert list(rows) == [g.code for g in world.grids.values()]
    values = {code: re.findall(r'data-value="([^"]*)"', row) for code, row in rows.items()}
    nw, ne, sw = (
        values[world.grids["NW"].code],
        values[world.grids["NE"].code],
        values[world.grids["SW"].code],
    )
    # name, counted, open, closed, resolution, on-time, hours, rating, satisfied, overdue,
    # households, workers, households per worker
    assert nw == [
        "第1网格",
        "2",
        "1",
        "1",
        "0.5",
        "1.0",
        "24.0",
        "5.0",
        "1.0",
        "1",
        "2",
        "1",
        "2.0",
    ]
    assert ne == ["第2网格", "1", "1", "0", "0.0", "", "", "", "", "0", "0", "0", ""]
    assert sw[1:4] == ["0", "0", "0"]
    # The breadcrumbs lead back up.
    assert f"level=grid&amp;parent={world.community.code}" in html
    assert "测试社区" in html
    assert_no_personal_data(html)


@pytest.mark.parametrize("username", ["wang", "planner"])
def test_workers_and_planners_may_not_see_the_dashboard(client, world, username):
    login(client, username)
    for path in ("/dashboard", "/dashboard.csv", "/dashboard.xlsx", "/map/incidents"):
        response = client.get(path)
        assert response.status_code == 403, path
    assert "leader" in response.get_data(as_text=True)


def test_visitors_are_sent_to_the_login_page(client, world):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("level=town", "未知的层级：&#39;town&#39;"),
        ("category=nothing", "未知的事件类别：&#39;nothing&#39;"),
        ("level=grid&parent=123", "未知的上级区域：&#39;123&#39;"),
        ("from=2026-02-30", "日期 from=&#39;2026-02-30&#39; 无法识别"),
        ("from=2026-06-10&to=2026-06-01", "开始日期 2026-06-10 晚于结束日期 2026-06-01"),
    ],
)
def test_bad_filters_get_a_400_page_with_the_reason(client, world, query, reason):
    login(client, "leader")
    html = get_page(client, f"/dashboard?{query}", status=400)
    assert reason in html
    for path in ("/dashboard.csv", "/dashboard.xlsx"):
        assert client.get(f"{path}?{query}").status_code == 400


def test_the_category_filter_narrows_the_figures(client, world):
    login(client, "leader")
    trash = dashboard_figures(get_page(client, "/dashboard?category=trash"))
    assert (trash["counted"], trash["resolution"], trash["rating"]) == ("0", "—", "—")
    road = dashboard_figures(get_page(client, "/dashboard?category=road"))
    assert road["counted"] == "3"


def test_the_csv_export_opens_in_excel_with_chinese_headers(client, world):
    login(client, "leader")
    response = client.get(f"/dashboard.csv?level=grid&parent={world.community.code}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == EXPORT_HEADERS and rows[0][:3] == [
        "编码",
        "名称",
        "事件数（不含不予受理、重复）",
    ]
    assert rows[1] == [world.grids["NW"].code, "第1网格", "2", "1", "1", "0.5", "1.0", "24.0", "5.0", "1.0", "1", "2", "1", "2.0"]  # fmt: skip
    assert rows[-1][:5] == ["", "合计", "3", "2", "1"]
    assert len(rows) == 1 + 4 + 1
    assert not PHONE_NUMBER.search(body.decode("utf-8-sig"))


def test_the_xlsx_export_has_the_same_table(client, world):
    login(client, "admin")
    response = client.get("/dashboard.xlsx?category=road")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert sheet.title == "按街道"
    assert rows[0] == EXPORT_HEADERS
    assert rows[1][:8] == [world.street.code, "保宁街道", 3, 2, 1, 0.3333, 1.0, 24.0]
    assert rows[2][:5] == [None, "合计", 3, 2, 1]  # openpyxl reads an empty code as None
    assert rows[2][11:] == [2, 1, 2.0]


@pytest.mark.parametrize(
    ("view", "legend"),
    [("heat", "事件热力（3 件）"), ("weekly", "按周事件热力（3 件）"), ("rate", "每千户事件数")],
)
def test_incident_maps_render_with_a_legend_and_no_personal_data(client, world, view, legend):
    login(client, "leader")
    html = get_page(client, f"/map/incidents?view={view}")
    assert legend in html
    assert 'id="grid-table"' in html and 'id="latest-table"' in html
    assert 'data-total="3"' in html
    assert external_urls(html) == []
    assert_no_personal_data(html)


def test_the_rate_map_shows_grids_without_households_as_no_data(client, world):
    login(client, "admin")
    html = get_page(client, "/map/incidents?view=rate")
    rows = dict(re.findall(r'<tr data-code="(\d{15})">(.*?)</tr>', html, re.S))
    cells = {code: re.findall(r"<td[^>]*>([^<]*)</td>", row) for code, row in rows.items()}
    assert cells[world.grids["NW"].code][2:] == ["2", "2", "1000.0"]
    assert cells[world.grids["NE"].code][2:] == ["1", "0", "无数据"]
    assert "无数据（无住户）" in html
    assert '"rate": null' in html and "Infinity" not in html


def test_the_incident_map_filters_by_status_and_refuses_bad_filters(client, world):
    login(client, "leader")
    html = get_page(client, "/map/incidents?status=open&category=road")
    assert 'data-total="2"' in html
    html = get_page(client, "/map/incidents?status=lost", status=400)
    assert "未知的事件状态：&#39;lost&#39;" in html
    html = get_page(client, "/map/incidents?view=pie", status=400)
    assert "未知的地图" in html


def test_the_navigation_links_to_the_dashboard_for_leaders_only(client, world):
    login(client, "leader")
    assert "领导驾驶舱" in get_page(client, "/")
    client.post("/logout")
    login(client, "wang")
    assert "领导驾驶舱" not in get_page(client, "/")
