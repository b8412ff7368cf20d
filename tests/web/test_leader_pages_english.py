"""The leaders' pages in English: the dashboard, the incident maps, the hazard map, their
exports and error pages follow the language cookie; Chinese stays the default.

"The page's own text" is the text of <main> once the data (area, category and hazard names,
which are Chinese whatever the language) is taken out: headings, table headers, legends,
labels and buttons must then hold no Chinese character.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
import shapely
from openpyxl import load_workbook
from shapely import box
from sqlalchemy import select

from app.models import Area, IncidentCategory
from app.models.hazards import Hazard
from app.services.assignment import assign_all
from app.services.dashboard import SHANGHAI
from tests.conftest import csrf_token, login
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

CJK = re.compile(r"[\u4e00-\u9fff]")
MAIN = re.compile(r"<main>(.*)</main>", re.S)
ZONE = box(X0 + 0.001, Y0 + STEP + 0.001, X0 + 0.005, Y0 + STEP + 0.005)


@pytest.fixture
def world(session):
    """NW: two households (one elderly living alone), three incidents; a leader."""
    world = build_world(session)
    add_households(
        session,
        [(X0 + 0.002, Y0 + STEP + 0.002), (X0 + 0.004, Y0 + STEP + 0.004)],
        members=2,
        tags=["elderly_alone"],
    )
    road = add_category(session, "road", "道路破损")
    now = datetime.now(SHANGHAI)
    for days, status in ((10, "closed"), (5, "dispatched"), (1, "submitted")):
        add_incident(
            session,
            world,
            "NW",
            road,
            status=status,
            created_at=now - timedelta(days=days),
            deadline_at=now + timedelta(days=3),
            closed_at=now - timedelta(days=days - 1) if status == "closed" else None,
        )
    add_user(session, "leader", "leader")
    assign_all(session)  # commits
    return world


def in_english(client) -> None:
    response = client.get("/lang/en")
    assert "wangge_lang=en" in response.headers["Set-Cookie"]


def get_page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def data_names(session) -> list[str]:
    """Every name that is data rather than the page's text, longest first."""
    names = [
        *session.scalars(select(Area.name)),
        *session.scalars(select(IncidentCategory.name)),
        *session.scalars(select(Hazard.name)),
    ]
    return sorted({n for n in names if n}, key=len, reverse=True)


def chinese_in_own_text(html: str, names: list[str]) -> list[str]:
    """Chinese left in <main> once the data names are removed, with some context."""
    (main,) = MAIN.findall(html)
    for name in names:
        main = main.replace(name, "")
    return [main[max(0, m.start() - 40) : m.end() + 40] for m in CJK.finditer(main)]


def add_hazard(client, name: str = "内涝区") -> int:
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    body = {
        "name": name,
        "hazard_class": "flood",
        "severity": 3,
        "geometry": shapely.geometry.mapping(ZONE),
    }
    response = client.post("/api/v1/hazards", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


# --- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_is_in_chinese_by_default(client, world):
    login(client, "leader")
    html = get_page(client, "/dashboard")
    assert "<h1>领导驾驶舱 <small>按街道</small></h1>" in html
    assert "<th>合计</th>" in html and "按期办结率" in html
    assert '<html lang="zh-CN">' in html


def test_the_dashboard_speaks_english_with_the_cookie(client, session, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, "/dashboard")
    assert '<html lang="en">' in html
    assert "<h1>Leaders' dashboard <small>by street</small></h1>" in html
    for words in (
        '<th data-type="text">Street</th>',
        "Number of incidents",
        "On-time rate",
        "Mean time to close (hours)",
        "<th>Total</th>",
        "Export Excel",
        "All categories",
        "<h2>Definitions</h2>",
        "New and closed incidents per week",
    ):
        assert words in html
    assert '<dd data-figure="hours">24.0 h</dd>' in html
    assert chinese_in_own_text(html, data_names(session)) == []


def test_the_drill_down_names_its_level_in_english(client, session, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, f"/dashboard?level=grid&parent={world.community.code}")
    assert "<small>by grid</small>" in html and '<th data-type="text">Grid</th>' in html
    assert chinese_in_own_text(html, data_names(session)) == []


def test_a_bad_filter_is_explained_in_english(client, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, "/dashboard?level=town", status=400)
    assert "Unknown level: &#39;town&#39;; expected street, community or grid." in html
    html = get_page(client, "/map/incidents?status=lost", status=400)
    assert "Unknown incident status: &#39;lost&#39;." in html
    assert not CJK.search(MAIN.search(html).group(1))


def test_the_exports_have_english_headers_in_english(client, world):
    login(client, "leader")
    in_english(client)
    book = load_workbook(io.BytesIO(client.get("/dashboard.xlsx").get_data()))
    sheet = book.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert sheet.title == "by street"
    assert rows[0][:3] == ["Code", "Name", "Incidents (not counting rejected and duplicates)"]
    assert rows[0][-3:] == ["Number of households", "Number of grid workers", "Households per worker"]  # fmt: skip
    assert not any(CJK.search(header) for header in rows[0])
    assert rows[-1][:3] == [None, "Total", 3]

    body = client.get("/dashboard.csv").get_data().decode("utf-8-sig")
    header, *_, total = list(csv.reader(io.StringIO(body)))
    assert header == rows[0] and total[:3] == ["", "Total", "3"]


def test_the_exports_stay_chinese_by_default(client, world):
    login(client, "leader")
    sheet = load_workbook(io.BytesIO(client.get("/dashboard.xlsx").get_data())).active
    assert sheet.title == "按街道"
    assert next(sheet.iter_rows(values_only=True))[:2] == ("编码", "名称")


# --- the incident maps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "words"),
    [
        ("heat", ["Incident heat (3)", "few → many", "One point per incident"]),
        ("weekly", ["Weekly incident heat (3)", "Summed in cells of about 100 m", "Week from "]),
        ("rate", ["Rate per 1,000 households", "No data (no households)"]),
    ],
)
def test_the_incident_maps_speak_english(client, session, world, view, words):
    login(client, "leader")
    in_english(client)
    html = get_page(client, f"/map/incidents?view={view}")
    for word in [
        *words,
        "<h1>Incident map</h1>",
        "<h2>Incidents per grid</h2>",
        "<h2>Latest incidents</h2>",
        "<th>Reported at</th>",
        "Per 1,000 households",
        "All statuses",
        "Not closed (all)",
        "Grid boundaries" if view != "rate" else "Incidents per 1,000 households",
        "Full screen",
    ]:
        assert word in html, word
    assert "Incidents reported from" in html and "no personal data" in html
    assert chinese_in_own_text(html, data_names(session)) == []


def test_the_incident_map_is_in_chinese_by_default(client, world):
    login(client, "leader")
    html = get_page(client, "/map/incidents?view=rate")
    assert "<h1>事件地图</h1>" in html and "每千户事件数" in html
    assert "上报的事件共" in html


# --- the hazard map --------------------------------------------------------------------------


def test_the_hazard_map_speaks_english(client, session, world):
    login(client, "leader")
    add_hazard(client)
    in_english(client)
    html = get_page(client, "/map/hazards")
    for word in (
        "<h2>Hazards (1)</h2>",
        "<h2>Impact analysis</h2>",
        "Flood · Severe (level II)",
        "内涝区 (Flood)",
        "Hazard severity",
        "Extremely severe (level I)",
        "Ordinary (level IV)",
        "Hazard zones (1)",
        "Export the door-knock list (Excel)",
        "<th>Vulnerable households</th>",
        ">Analyse</button>",
        ">Save</button>",
    ):
        assert word in html, word
    # The popups' field names, in the map's script.
    assert '["Name", "Class", "Severity"]' in html
    assert chinese_in_own_text(html, data_names(session)) == []


def test_the_hazard_map_is_in_chinese_by_default(client, world):
    login(client, "leader")
    add_hazard(client)
    html = get_page(client, "/map/hazards")
    assert "洪涝 · 严重（II级）" in html and "隐患等级" in html and "开始分析" in html


def test_the_door_knock_list_follows_the_language(client, world):
    login(client, "leader")
    hazard_id = add_hazard(client)
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    in_english(client)
    run = client.post(f"/api/v1/hazards/{hazard_id}/impact", json={"buffer_m": 0}, headers=headers)
    assert run.status_code == 201, run.get_data(as_text=True)
    response = client.get(f"/api/v1/impact-runs/{run.json['id']}/door-knock.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "Door-knock list"
    assert rows[0] == ("Grid worker", "Grid code", "Grid name", "Address", "Head of household", "Phone", "Members", "Key groups")  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["(no grid worker)"] * 2
    assert [r[7] for r in rows[1:]] == ["elderly living alone"] * 2


def test_the_coverage_map_speaks_english(client, session, world):
    login(client, "leader")
    assert "每名网格员服务住户数" in get_page(client, "/map/coverage")
    in_english(client)
    html = get_page(client, "/map/coverage")
    for words in (
        "Households per grid worker",
        "4 grids, 2 households, 4 grids without a worker.",
        "Households for each worker",
        "Households in vulnerable groups",
        '"name": "Streets"',
    ):
        assert words in html
    assert chinese_in_own_text(html, data_names(session)) == []
