"""The field pages in English: the grid worker's page, the report form, an incident's page,
the residents' form and status page, the reconstruction map, a site's page and the public
listing of sites follow the language cookie; Chinese stays the default.

"The page's own text" is the text of <main> once the data is taken out (area, category, site,
milestone and person names, addresses and notes, which are Chinese whatever the language):
headings, labels, legends, buttons and reasons must then hold no Chinese character.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, Point, box
from sqlalchemy import select

from app.models import Area, IncidentCategory
from app.models.hazards import ReconstructionSite, SiteMilestone, SiteProgress
from app.services.assignment import assign_all
from app.services.sites import today
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
    image_bytes,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
NW = "511381001001001"
MAIN = re.compile(r"<main[^>]*>(.*)</main>", re.S)
TODAY = today()
# Near the edge between NW and NE, so that the incident is offered both grids.
ON_THE_EDGE = (X0 + STEP - 0.0001, Y0 + 1.5 * STEP)
HOUSEHOLD_DATA = ["幸福路1号", "幸福路2号", "张*", "李*"]
SITE_DATA = ["阆中市住建局", "月度报告", "路基完工", "赵*"]


@pytest.fixture
def world(session):
    """A worker in NW with two households, a road category, a leader and two sites."""
    world = build_world(session)
    add_households(session, [(X0 + 0.002, Y0 + STEP + 0.002)], head_name="张三",
                   address="幸福路1号", tags=["elderly_alone"], members=1)  # fmt: skip
    add_households(session, [(X0 + 0.004, Y0 + STEP + 0.004)], head_name="李四",
                   address="幸福路2号", members=4)  # fmt: skip
    world.users = {
        "wang": add_user(session, "wang", "worker", grids=[world.grids["NW"]]),
        "leader": add_user(session, "leader", "leader"),
    }
    world.category = add_category(session)
    world.sites = {
        "green": add_site(session, "城北安置房", "housing", Point(X0 + 0.004, Y0 + 0.004), 48),
        "yellow": add_site(
            session,
            "滨江路修复",
            "road",
            Point(X0 + 0.015, Y0 + 0.004),
            30,
            milestones=[("路基完工", TODAY - timedelta(days=5))],
        ),
        "red": add_site(
            session,
            "实验小学重建",
            "school",
            MultiPolygon([box(X0 + 0.012, Y0 + 0.012, X0 + 0.016, Y0 + 0.016)]),
            20,
        ),
    }
    assign_all(session)  # commits
    return world


def add_site(session, name, site_type, geom, actual, *, milestones=()) -> int:
    """A site planned 100 days ago to 100 days ahead (plan today: 50 %)."""
    site = ReconstructionSite(
        name=name,
        site_type=site_type,
        owner="阆中市住建局",
        geom=from_shape(geom, srid=4326),
        planned_start=TODAY - timedelta(days=100),
        planned_end=TODAY + timedelta(days=100),
        contact_name="赵建国",
        contact_phone="13812345678",
    )
    session.add(site)
    session.flush()
    session.add_all(SiteMilestone(site_id=site.id, name=n, planned_date=d) for n, d in milestones)
    session.add(
        SiteProgress(
            site_id=site.id, reported_on=TODAY - timedelta(days=3), percent=actual, note="月度报告"
        )
    )
    session.flush()
    return site.id


def in_english(client) -> None:
    response = client.get("/lang/en")
    assert "wangge_lang=en" in response.headers["Set-Cookie"]


def get_page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def data_names(session, extra=()) -> list[str]:
    """Every name that is data rather than the page's text, longest first."""
    names = [
        *session.scalars(select(Area.name)),
        *session.scalars(select(IncidentCategory.name)),
        *session.scalars(select(ReconstructionSite.name)),
        *extra,
    ]
    return sorted({n for n in names if n}, key=len, reverse=True)


def script_json(html: str, element_id: str) -> dict:
    """The JSON a page carries in <script id=element_id>."""
    match = re.search(rf'<script[^>]*id="{element_id}"[^>]*>(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def chinese_in_own_text(html: str, names: list[str]) -> list[str]:
    """Chinese left in <main> once the data names are removed, with some context."""
    (main,) = MAIN.findall(html)
    for name in names:
        main = main.replace(name, "")
    return [main[max(0, m.start() - 40) : m.end() + 40] for m in CJK.finditer(main)]


def report_incident(client, point=ON_THE_EDGE, description="路面塌陷") -> int:
    """A worker's report through the API, with a photo; returns its id."""
    created = client.post(
        "/api/v1/incidents",
        data={"category": "road", "description": description, "lon": point[0],
              "lat": point[1], "channel": "patrol",
              "photos": [(io.BytesIO(image_bytes()), "a.png")]},
        headers={"X-CSRFToken": csrf_token(client, "/incidents/new")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert created.status_code == 201, created.json
    return created.json["id"]


def public_report(client) -> str:
    """A resident's report; returns its status page's path."""
    data = {
        "category": "road",
        "description": "路灯不亮",
        "lon": str(X0 + 0.5 * STEP),
        "lat": str(Y0 + 1.5 * STEP),
        "crs": "wgs84",
        "csrf_token": csrf_token(client, "/public/report"),
    }
    answer = client.post("/public/report", data=data, headers={"Accept": "application/json"},
                         content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.json["page_url"]


# --- the grid worker's pages ------------------------------------------------------------------


def test_the_worker_page_speaks_english(client, session, world):
    now = datetime.now(UTC)
    add_incident(session, world, "NW", world.category, status="dispatched",
                 worker_id=world.users["wang"].id, deadline_at=now + timedelta(hours=5))  # fmt: skip
    session.commit()
    login(client, "wang")
    in_english(client)
    html = get_page(client, "/worker")
    assert '<html lang="en">' in html
    for words in (
        "wang’s grids",
        f"第1网格 ({NW})",
        ">Report an incident</a>",
        "Near the deadline",
        "Locate: which grid, and who is responsible",
        "<label>Longitude <input",
        '<option value="gcj02">GCJ-02 (AMap, Tencent, WeChat)</option>',
        ">Locate</button>",
        "Incidents to handle",
        "1 person",
        "4 people",
        ">vulnerable or key</span>",
    ):
        assert words in html, words
    # The queue's status names come with the page, in English.
    statuses = script_json(html, "worker-data")["statuses"]
    assert statuses["dispatched"] == "dispatched" and statuses["in_progress"] == "in progress"
    # The scripts get their messages in English: the catalogue sent is empty.
    assert '<script id="i18n" type="application/json">{}</script>' in html
    assert chinese_in_own_text(html, data_names(session, HOUSEHOLD_DATA)) == []


def test_the_workers_list_speaks_english(client, session, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, "/worker")
    assert "<h1>View a grid worker’s page</h1>" in html and "1 grid" in html
    assert chinese_in_own_text(html, data_names(session)) == []


def test_the_worker_page_is_in_chinese_by_default(client, world):
    login(client, "wang")
    html = get_page(client, "/worker")
    assert "wang的网格" in html and f"第1网格（{NW}）" in html
    assert "定位：属于哪个网格、谁负责" in html and "1人" in html and "4人" in html
    # The scripts get the Chinese catalogue of their messages.
    messages = script_json(html, "i18n")
    assert messages["No incident to handle."] == "没有待办事件。"
    assert messages["%(first)s; %(next)s"] == "%(first)s；%(next)s"


def test_a_page_refused_to_a_worker_says_why_in_english(client, world):
    login(client, "wang")
    in_english(client)
    html = get_page(client, f"/worker?user={world.users['leader'].id}", status=403)
    assert "A grid worker can only open their own page." in html


# --- the report form and an incident's page ---------------------------------------------------


def test_the_report_form_speaks_english(client, session, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, "/incidents/new")
    for words in (
        "<h1>Report an incident</h1>",
        "No place chosen yet: click the map, or use my location.",
        ">Use my location</button>",
        "<label>Incident category",
        "Photos (at most 5, each up to 5 MB)",
        '<option value="hotline">12345 hotline</option>',
        ">Submit</button>",
    ):
        assert words in html, words
    assert chinese_in_own_text(html, data_names(session)) == []


def test_an_incident_page_speaks_english(client, session, world):
    login(client, "wang")
    earlier = report_incident(client, description="路面塌陷")
    incident_id = report_incident(client, description="同一处路面塌陷")
    in_english(client)
    html = get_page(client, f"/incidents/{incident_id}")
    for words in (
        f"<title>Incident #{incident_id} · 网格 Wangge</title>",
        '<span class="status-badge" id="status-name">submitted</span>',
        ">Near a grid boundary</span>",
        f'<dd id="grid-name">第1网格 ({NW})</dd>',
        "<dt>Responsible department</dt>",
        "<dd>Grid worker’s patrol</dd>",
        "Near a boundary: grids it can be re-routed to",
        ">Re-route to this grid</button>",
        '<h2 id="dup-title">Possible duplicates</h2>',
        "submitted · 0 m away",
        f">Mark as a duplicate of #{earlier}</button>",
        ">Accept</button>",
        ">Reject</button>",
        '<h2 id="timeline-title">Timeline</h2>',
        "1 photo attached",
        'alt="Photo 1"',
    ):
        assert words in html, words
    assert re.search(r'<li data-to="submitted">\s*<strong>submitted</strong>', html)
    names = data_names(session, ["路面塌陷", "同一处", "wang"])
    assert chinese_in_own_text(html, names) == []


def test_an_incident_page_is_in_chinese_by_default(client, world):
    login(client, "wang")
    incident_id = report_incident(client)
    html = get_page(client, f"/incidents/{incident_id}")
    assert '<span class="status-badge" id="status-name">上报</span>' in html
    assert "<dt>责任部门</dt>" in html and "<dd>网格员巡查</dd>" in html
    assert ">改派到此网格</button>" in html and "附照片 1 张" in html


# --- the residents' pages ---------------------------------------------------------------------


def test_the_public_report_form_speaks_english(client, session, world):
    in_english(client)
    html = get_page(client, "/public/report")
    assert '<html lang="en">' in html
    for words in (
        "<h1>Report a problem</h1>",
        "Contact (optional; seen by staff only, never made public)",
        "<label>Name <input",
        "<label>Mobile phone <input",
        "<h2>Follow a report</h2>",
        ">See its progress</button>",
        'hreflang="zh-CN">中文</a>',
        # The form's script gets its messages through the page.
        '<script id="i18n" type="application/json">{}</script>',
    ):
        assert words in html, words
    assert chinese_in_own_text(html, data_names(session)) == []


def test_the_public_status_page_speaks_english(client, session, world):
    path = public_report(client)
    in_english(client)
    html = get_page(client, path)
    for words in (
        "Thank you, your report has been received.",
        "<h1>Tracking number",
        '<dd id="public-status">submitted</dd>',
        "<dt>In grid</dt>",
        ">Report another</a>",
    ):
        assert words in html, words
    assert chinese_in_own_text(html, data_names(session)) == []


def test_the_public_pages_are_in_chinese_by_default(client, world):
    html = get_page(client, "/public/report")
    assert '<html lang="zh-CN">' in html and "<h1>我要上报</h1>" in html
    assert 'hreflang="en">English</a>' in html
    messages = script_json(html, "i18n")
    assert messages["Choose the incident category."] == "请选择事件类别。"
    status = get_page(client, public_report(client))
    assert '<dd id="public-status">上报</dd>' in status and "再报一件" in status


def test_an_unknown_report_is_explained_in_english(client, world):
    in_english(client)
    html = get_page(client, "/public/report/999999", status=404)
    assert "There is no resident’s report numbered 999999." in html
    html = get_page(client, "/public/report/track?n=abc", status=400)
    assert "Type the tracking number in digits." in html


# --- reconstruction ---------------------------------------------------------------------------


def test_the_reconstruction_map_speaks_english(client, session, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, "/map/reconstruction")
    for words in (
        "<h2>Reconstruction projects (3)</h2>",
        '<option value="school" >School</option>',
        '<option value="yellow" >Lagging</option>',
        "Resettlement housing · 阆中市住建局 · On schedule",
        "Roads and bridges · 阆中市住建局 · Lagging",
        "School · 阆中市住建局 · At risk",
        "Progress is “actual / planned”.",
        "Public notice of the projects (open to all)",
        "Project status",
        "Project land (1)",
        "Project points (2)",
    ):
        assert words in html, words
    # The popups' field names and values, in the map's script.
    assert '["Project", "Type", "Owner", "Status", "Actual progress", "Planned progress"]' in html
    assert '"type_label": "School"' in html and '"status_label": "At risk"' in html
    assert chinese_in_own_text(html, data_names(session, SITE_DATA)) == []


def test_a_site_page_speaks_english(client, session, world):
    login(client, "leader")
    in_english(client)
    html = get_page(client, f"/sites/{world.sites['yellow']}")
    for words in (
        ">Lagging</span>",
        "<li>20 percentage points behind plan (planned 50%, actual 30%)</li>",
        "<li>Milestone “路基完工” is 5 days late</li>",
        "<dt>Type</dt><dd>Roads and bridges</dd>",
        '<dd id="site-percent">actual 30%, planned 50%</dd>',
        "5 days late",
        "<h2>Progress reports (1)</h2>",
        "Report progress",
        "Percent done (0–100)",
        ">Today</text>",
        'aria-label="Progress curve: planned and actual"',
    ):
        assert words in html, words
    assert chinese_in_own_text(html, data_names(session, SITE_DATA)) == []
    green = get_page(client, f"/sites/{world.sites['green']}")
    assert "<li>On schedule (planned 50%, actual 48%)</li>" in green


def test_the_site_pages_are_in_chinese_by_default(client, world):
    login(client, "leader")
    html = get_page(client, f"/sites/{world.sites['yellow']}")
    assert "<li>落后计划 20 个百分点（计划 50%，实际 30%）</li>" in html
    assert "<li>里程碑“路基完工”逾期 5 天</li>" in html
    assert '<dd id="site-percent">实际 30%，计划 50%</dd>' in html and ">今天</text>" in html
    assert "<dd>道路桥梁</dd>" in html
    green = get_page(client, f"/sites/{world.sites['green']}")
    assert "<li>按计划推进（计划 50%，实际 48%）</li>" in green
    page = get_page(client, "/map/reconstruction")
    assert "<h2>灾后重建项目（3）</h2>" in page and "道路桥梁 · 阆中市住建局 · 滞后" in page


def test_the_reasons_on_the_page_match_the_api(client, world):
    """The page words the same rule as the API's (Chinese) reasons, in Chinese by default."""
    login(client, "leader")
    for site_id in world.sites.values():
        api = client.get(f"/api/v1/sites/{site_id}").json
        reasons = api["properties"]["status"]["reasons"]
        html = get_page(client, f"/sites/{site_id}")
        listed = re.search(r'<ul class="reasons" id="status-reasons">(.*?)</ul>', html).group(1)
        assert re.findall(r"<li>(.*?)</li>", listed) == reasons


def test_the_public_sites_page_speaks_english(client, session, world):
    in_english(client)
    html = get_page(client, "/public/sites")
    assert '<html lang="en">' in html
    for words in (
        "<h1>Public notice of reconstruction projects</h1>",
        f"As of {TODAY.isoformat()}: 3 projects.",
        "lagging means more than 10 percentage points behind plan or a milestone late",
        "<th>Location (longitude, latitude)</th>",
        '<td data-label="Type">Roads and bridges</td>',
        "At risk</span></td>",
        'hreflang="zh-CN">中文</a>',
    ):
        assert words in html, words
    assert chinese_in_own_text(html, data_names(session, SITE_DATA)) == []


def test_the_public_sites_page_is_in_chinese_by_default(client, world):
    html = get_page(client, "/public/sites")
    assert (
        "<h1>灾后重建项目公示</h1>" in html and f"截至 {TODAY.isoformat()}，共 3 个项目。" in html
    )
    assert '<td data-label="类型">道路桥梁</td>' in html
