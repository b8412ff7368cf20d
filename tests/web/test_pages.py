"""HTML pages through the test client: the home page's figures, and a coverage map that loads
nothing from outside and carries no personal data."""

from __future__ import annotations

import json
import re

import pytest

from app.services.assignment import assign_all
from app.web.assets import external_urls
from tests.conftest import login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

CODES = {key: f"511381001001{i:03d}" for i, key in enumerate(("NW", "NE", "SW", "SE"), start=1)}
# Households: name, phone, position. 3 in NW, 1 in NE, 1 in SE, 2 in no grid.
PEOPLE = [
    ("张三", "13812341234", (X0 + 0.002, Y0 + STEP + 0.002)),
    ("欧阳娜娜", "15900005678", (X0 + 0.004, Y0 + STEP + 0.004)),
    ("李四", "13600001111", (X0 + 0.006, Y0 + STEP + 0.006)),
    ("王五", "13700002222", (X0 + STEP + 0.005, Y0 + STEP + 0.005)),
    ("赵六", "18800003333", (X0 + STEP + 0.005, Y0 + 0.005)),
    ("孙七", "19900004444", (X0 - 0.02, Y0 - 0.02)),
    ("周八", "17700005555", (X0 + 0.05, Y0 + 0.05)),
]
PHONE_NUMBER = re.compile(r"(?<![\w.])1[3-9]\d{9}(?![\w])")


@pytest.fixture
def world(session):
    world = build_world(session)
    for name, phone, point in PEOPLE:
        add_households(session, [point], head_name=name, phone=phone, address=f"{name}家")
    add_user(session, "leader", "leader")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    add_user(session, "li", "worker", grids=[world.grids["NW"], world.grids["SE"]])
    assign_all(session)  # commits
    return world


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", html))


def occurs(text: str, html: str) -> bool:
    """Whether ``text`` is in the page as it is, HTML-escaped, or JSON-escaped (\\uXXXX)."""
    forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    forms |= {f.replace("\\", "\\\\") for f in forms}  # JSON inside a JS string
    return any(form in html for form in forms)


# --- the home page --------------------------------------------------------------------------


def test_the_home_page_shows_the_districts_figures(client, world):
    login(client, "leader")
    html = page(client, "/")
    assert "<h1>阆中市</h1>" in html
    assert figures(html) == {
        "街道/镇": "1",
        "社区/村": "1",
        "网格": "4",
        "住户": "5",
        "未入格住户": "2",
        "无网格员网格": "2",  # NE and SW
    }
    assert "leader（领导）" in html


def test_a_workers_home_page_counts_only_their_grids(client, world):
    login(client, "li")
    assert figures(page(client, "/")) == {
        "街道/镇": "1",
        "社区/村": "1",
        "网格": "2",
        "住户": "4",
        "未入格住户": "0",
        "无网格员网格": "0",
    }


def test_pages_need_a_login(client, world):
    for path in ("/", "/map/coverage"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    login_page = page(client, "/login")
    assert re.search(r'name="csrf_token" value="[^"]+"', login_page)


# --- the coverage map -----------------------------------------------------------------------


def test_the_coverage_map_loads_every_script_and_stylesheet_from_the_app(client, world):
    login(client, "leader")
    html = page(client, "/map/coverage")
    assert external_urls(html) == []
    sources = re.findall(r'<script[^>]+src="([^"]+)"', html)
    links = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert "/static/vendor/leaflet/leaflet.js" in sources
    assert "/static/vendor/leaflet/leaflet.css" in links
    local = [url for url in sources + links if not url.startswith("data:")]
    assert all(url.startswith("/static/") for url in local), local
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    # WANGGE_TILES=none: no basemap at all.
    assert "tileLayer" not in html and "openstreetmap" not in html.lower()


def test_the_coverage_map_shows_every_grid_with_its_figures(client, world):
    login(client, "leader")
    html = page(client, "/map/coverage")
    assert 'data-grids="4" data-households="5"' in html
    for code in CODES.values():
        assert code in html
    for name in ("第1网格", "第2网格", "第3网格", "第4网格", "测试社区", "每名网格员服务住户数"):
        assert occurs(name, html), name
    assert occurs("无网格员网格 2 个", html) and occurs("未入格住户 2 户", html)


def test_the_coverage_map_carries_no_personal_data(client, world):
    login(client, "leader")
    html = page(client, "/map/coverage")
    assert PHONE_NUMBER.findall(html) == []
    assert "****" not in html  # not even masked numbers or names
    for name, phone, _ in PEOPLE:
        assert not occurs(name, html), name
        assert not occurs(f"{name}家", html), name
        assert phone not in html
    # The workers' own phone numbers are not on the map either; their names are.
    assert "13900001111" not in html
    assert occurs("wang", html) and occurs("li", html)
    # The check itself finds numbers and names where they are.
    assert PHONE_NUMBER.findall('<td>13812341234</td> "tel":"19900004444"') == [
        "13812341234",
        "19900004444",
    ]
    assert occurs("张三", json.dumps({"n": "张三"}))


def coverage_settings(html: str) -> dict:
    return json.loads(re.search(r"window\.wanggeCoverage\([^,]+, (\{.*?\})\);", html).group(1))


def shown_table(html: str) -> str:
    shown = re.findall(r'<table data-coverage-table="(\w+)" >', html)
    assert len(shown) == 1, shown
    return shown[0]


@pytest.mark.parametrize("level", ["street", "community", "grid"])
def test_the_coverage_map_opens_on_the_level_asked_for(client, world, level):
    login(client, "leader")
    html = page(client, f"/map/coverage?level={level}")
    assert coverage_settings(html)["level"] == level
    assert shown_table(html) == level


def test_a_small_scope_opens_on_its_grids_and_a_large_one_on_its_communities(
    client, world, monkeypatch
):
    login(client, "leader")
    assert coverage_settings(page(client, "/map/coverage"))["level"] == "grid"
    monkeypatch.setattr("app.services.coverage_map.GRID_LEVEL_MAX_GRIDS", 3)  # the world has 4
    html = page(client, "/map/coverage")
    assert coverage_settings(html)["level"] == "community"
    assert shown_table(html) == "community"
    # the legend shows the communities' classes: one community, one class
    assert coverage_settings(html)["classes"]["community"]["labels"] == ["2"]


def test_an_unknown_level_is_refused_with_the_reason(client, world):
    login(client, "leader")
    response = client.get("/map/coverage?level=town")
    assert response.status_code == 400
    assert "未知的层级：&#39;town&#39;" in response.get_data(as_text=True)


def test_a_workers_coverage_map_shows_only_their_grids(client, world):
    login(client, "wang")
    html = page(client, "/map/coverage")
    assert 'data-grids="1" data-households="3"' in html
    assert CODES["NW"] in html
    assert all(CODES[key] not in html for key in ("NE", "SW", "SE"))
    assert PHONE_NUMBER.findall(html) == []
    assert not any(occurs(name, html) for name, _, _ in PEOPLE)


def test_a_worker_without_a_grid_gets_an_empty_map(client, world, session):
    add_user(session, "idle", "worker")
    session.commit()
    login(client, "idle")
    html = page(client, "/map/coverage")
    assert 'data-grids="0" data-households="0"' in html
    assert all(code not in html for code in CODES.values())
