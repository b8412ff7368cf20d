"""Every read path as every role: nothing from another town reaches a town-scoped user, no
name, phone or ID number (in any spelling) reaches a role without personal data or the public,
and every unmasked read of a household is logged.

Two towns, each a community; town A holds grids A1 and A2, town B grid B1.  Users: an admin, a
district leader and planner, a leader and a planner given town A, the worker of grid A1, and
anonymous.  Every GET route of the app is listed in ROUTES (a test fails when a route is added
without being listed) and read as each of them; the bodies (JSON, HTML, CSV, XLSX, GeoPackage,
KML, vector tiles) are searched for what the reader must not see.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import re
import unicodedata
import zipfile
from datetime import timedelta

import mapbox_vector_tile
import pyogrio
import pytest
import shapely
from geoalchemy2.shape import from_shape
from shapely import Point, box
from sqlalchemy import select, text

from app.models import IncidentEvent, PersonalDataRead
from app.models.hazards import Hazard, ReconstructionSite, SiteProgress
from app.services.assignment import assign_all
from app.services.sites import today
from tests.conftest import csrf_token, login
from tests.factories import add_area, add_category, add_department, add_households, add_user

X0, Y0 = 105.96, 31.57
TOWN_A = box(X0, Y0, X0 + 0.02, Y0 + 0.02)
TOWN_B = box(X0 + 0.03, Y0, X0 + 0.05, Y0 + 0.02)
A1_XY = (X0 + 0.005, Y0 + 0.01)
A2_XY = (X0 + 0.015, Y0 + 0.01)
B1_XY = (X0 + 0.04, Y0 + 0.01)
B_UNROUTED_XY = (X0 + 0.04, Y0 + 0.018)

# Spellings of phone and ID numbers typed into free text (as typed, the digits they spell).
TYPED = [
    ("+86 135 1234 0002", "13512340002"),
    ("008613512340003", "13512340003"),
    ("135.1234.0005", "13512340005"),
    ("１３５１２３４０００６", "13512340006"),
    ("1 3 5 1 2 3 4 0 0 0 7", "13512340007"),
    ("(0817)6230011", "08176230011"),
    ("5113 8119 8001 0112 3X", "51138119800101123"),
    ("511381-19800101-1234", "511381198001011234"),
]
FREE_TEXT = "联系 " + "；".join(typed for typed, _ in TYPED)

# Personal data, by the household / incident / site it belongs to.
A1_HOUSEHOLD = {"names": ["欧阳甲一"], "digits": ["13712345671", "13512340002"]}
A2_HOUSEHOLD = {"names": ["司马甲二"], "digits": ["13623456782"]}
B1_HOUSEHOLD = {"names": ["慕容乙乙"], "digits": ["13934567893", "51138119750203456"]}
A1_INCIDENT = {"names": ["诸葛报事"], "digits": ["15845678904"] + [d for _, d in TYPED]}
B1_INCIDENT = {"names": ["夏侯报事"], "digits": ["15956789015"]}
A_SITE = {"names": ["上官联络"], "digits": ["18867890126"]}
B_SITE = {"names": ["皇甫联络"], "digits": ["18978901237"]}
ALL_PERSONAL = [A1_HOUSEHOLD, A2_HOUSEHOLD, B1_HOUSEHOLD, A1_INCIDENT, B1_INCIDENT, A_SITE, B_SITE]

# What only a reader of town B (or the whole district) may see: names and codes of its areas,
# hazard, site, incident and household address.
TOWN_B_MARKERS = [
    "乙镇路灯",
    "乙镇",
    "乙村",
    "乙网格",
    "511381002",
    "乙镇滑坡",
    "乙镇学校",
    "乙镇井盖",
    "乙路",
]
GRID_A2_MARKERS = ["甲二网格", "511381001001002"]

ROLES = ["admin", "leader", "planner", "a-leader", "a-planner", "a1-worker", "anonymous"]
PERSONAL_ROLES = {"admin", "a1-worker"}
TOWN_A_ROLES = {"a-leader", "a-planner", "a1-worker"}

pytestmark = pytest.mark.filterwarnings("ignore:.*non conformant file extension")


def _mp(geom):
    from tests.factories import multipolygon

    return from_shape(multipolygon(geom), srid=4326)


@pytest.fixture
def world(session):
    w: dict = {}
    district = add_area(
        session, "511381", "阆中市", "district", box(X0 - 0.01, Y0 - 0.01, X0 + 0.06, Y0 + 0.03)
    )
    town_a = add_area(session, "511381001", "甲镇", "street", TOWN_A, district)
    town_b = add_area(session, "511381002", "乙镇", "street", TOWN_B, district)
    comm_a = add_area(session, "511381001001", "甲村", "community", TOWN_A, town_a)
    comm_b = add_area(session, "511381002001", "乙村", "community", TOWN_B, town_b)
    a1 = add_area(
        session, "511381001001001", "甲一网格", "grid", box(X0, Y0, X0 + 0.01, Y0 + 0.02), comm_a
    )
    a2 = add_area(
        session,
        "511381001001002",
        "甲二网格",
        "grid",
        box(X0 + 0.01, Y0, X0 + 0.02, Y0 + 0.02),
        comm_a,
    )
    # Grid B1 leaves the north of town B uncovered.
    b1 = add_area(
        session,
        "511381002001001",
        "乙网格",
        "grid",
        box(X0 + 0.03, Y0, X0 + 0.05, Y0 + 0.015),
        comm_b,
    )
    w["areas"] = {"A1": a1, "A2": a2, "B1": b1, "town_a": town_a, "town_b": town_b}
    add_user(session, "admin", "admin")
    add_user(session, "leader", "leader")
    add_user(session, "planner", "planner")
    add_user(session, "a-leader", "leader", area=town_a)
    add_user(session, "a-planner", "planner", area=town_a)
    worker = add_user(session, "a1-worker", "worker", grids=[a1])
    w["a1_worker"] = worker.id
    w["b1_worker"] = add_user(session, "b1-worker", "worker", grids=[b1]).id
    (w["hh_a1"],) = add_households(
        session,
        [A1_XY],
        head_name="欧阳甲一",
        phone="13712345671",
        address="甲路1号 +86 135 1234 0002",
        tags=["elderly_alone"],
    )
    (w["hh_a2"],) = add_households(
        session, [A2_XY], head_name="司马甲二", phone="13623456782", address="甲路2号"
    )
    (w["hh_b1"],) = add_households(
        session,
        [B1_XY],
        head_name="慕容乙乙",
        phone="13934567893",
        address="乙路1号 5113 8119 7502 0345 6X",
        tags=["elderly_alone"],
    )
    assign_all(session)
    department = add_department(session, "cg", "城管执法局")
    road = add_category(session, "road", "道路破损", department=department)
    from app.models import Incident

    def incident(xy, grid, comm, town, description, name, phone):
        item = Incident(
            geom=from_shape(Point(*xy), srid=4326),
            category_id=road.id,
            description=description,
            channel="web",
            grid_id=grid.id if grid is not None else None,
            community_id=comm.id,
            street_id=town.id,
            department_id=department.id,
            address=description[:40],
            contact_name=name,
            contact_phone=phone,
            worker_id=worker.id if grid is a1 else None,
        )
        session.add(item)
        session.flush()
        session.add(
            IncidentEvent(
                incident_id=item.id, from_status="submitted", to_status="accepted", note=description
            )
        )
        return item

    w["inc_a1"] = incident(
        A1_XY, a1, comm_a, town_a, "甲路井盖 " + FREE_TEXT, "诸葛报事", "15845678904"
    )
    w["inc_b_unrouted"] = incident(
        B_UNROUTED_XY, None, comm_b, town_b, "乙镇路灯 无网格", "夏侯报事", "15956789015"
    )
    w["inc_b1"] = incident(B1_XY, b1, comm_b, town_b, "乙镇井盖 乙路", "夏侯报事", "15956789015")
    w["hz_a"] = Hazard(
        name="甲镇内涝",
        hazard_class="flood",
        severity=3,
        geom=_mp(box(X0 + 0.002, Y0 + 0.005, X0 + 0.008, Y0 + 0.015)),
        description="甲 " + FREE_TEXT,
    )
    w["hz_b"] = Hazard(
        name="乙镇滑坡",
        hazard_class="landslide",
        severity=4,
        geom=_mp(box(X0 + 0.035, Y0 + 0.005, X0 + 0.045, Y0 + 0.015)),
        description="乙镇滑坡",
    )
    start = today() - timedelta(days=30)
    w["site_a"] = ReconstructionSite(
        name="甲镇小学",
        site_type="school",
        owner="甲镇政府",
        geom=from_shape(Point(*A1_XY), srid=4326),
        planned_start=start,
        planned_end=start + timedelta(days=100),
        description="甲",
        contact_name="上官联络",
        contact_phone="18867890126",
    )
    w["site_b"] = ReconstructionSite(
        name="乙镇学校",
        site_type="school",
        owner="乙镇政府",
        geom=from_shape(Point(*B1_XY), srid=4326),
        planned_start=start,
        planned_end=start + timedelta(days=100),
        description="乙镇学校",
        contact_name="皇甫联络",
        contact_phone="18978901237",
    )
    session.add_all([w["hz_a"], w["hz_b"], w["site_a"], w["site_b"]])
    session.flush()
    session.add(
        SiteProgress(site_id=w["site_a"].id, reported_on=today(), percent=10, note=FREE_TEXT)
    )
    session.commit()
    return w


# --- reading bodies -------------------------------------------------------------------------


def body_text(response) -> str:
    """Everything a reader gets, as text: JSON and HTML as is, files unpacked."""
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    kind = response.mimetype or ""
    if kind == "application/vnd.mapbox-vector-tile":
        return (
            json.dumps(mapbox_vector_tile.decode(data), ensure_ascii=False, default=str)
            if data
            else ""
        )
    if data[:2] == b"PK":
        parts = []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                parts.append(archive.read(name).decode("utf-8", "replace"))
        return "\n".join(parts)
    if data[:16] == b"SQLite format 3\x00":  # a GeoPackage, read as a GIS client reads it
        # (from memory, which GDAL reads but warns about: an in-memory file has no ".gpkg")
        return "\n".join(
            pyogrio.read_dataframe(io.BytesIO(data), layer=layer).to_csv()
            for layer, _geometry_type in pyogrio.list_layers(io.BytesIO(data))
        )
    return data.decode("utf-8", "replace")


def folded_digits(page: str) -> str:
    page = unicodedata.normalize("NFKC", page)
    # Digit runs with up to three separators between digits count as one number.
    return re.sub(r"(?<=\d)[^\d\n\"<>{},:;，；]{1,3}(?=\d)", "", page)


def personal_found(page: str, items) -> list[str]:
    found = []
    digits = folded_digits(page)
    for item in items:
        found += [n for n in item["names"] if n in page]
        found += [d for d in item["digits"] if d in digits]
    return found


# --- the routes -----------------------------------------------------------------------------

# Every GET rule, with the paths to read it by ({…} filled from the world).  Tiles: zoom 13
# holds both towns; zoom 16 shows households as points.


def tile_of(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"{z}/{x}/{y}"


TILES = sorted({tile_of(x, y, z) for z in (11, 13, 16) for x, y in (A1_XY, A2_XY, B1_XY)})
ROUTES: dict[str, list[str]] = {
    "web.index": ["/"],
    "api.list_areas": [
        "/api/v1/areas",
        "/api/v1/areas?level=street",
        "/api/v1/areas?level=community",
        "/api/v1/areas?level=grid",
    ],
    "api.get_area": [
        "/api/v1/areas/511381002",
        "/api/v1/areas/511381002001",
        "/api/v1/areas/511381002001001",
    ],
    "api.area_history": [
        "/api/v1/areas/511381002001001/history",
        "/api/v1/areas/511381002/history",
    ],
    "api.export_areas": [
        f"/api/v1/areas/export?format={f}&level={lvl}"
        for f in ("geojson", "csv", "xlsx", "kml", "gpkg")
        for lvl in ("grid", "street", "community")
    ],
    "api.coverage_view": ["/api/v1/coverage", "/api/v1/coverage?area=511381002"],
    "web.api_docs": ["/api/v1/docs"],
    "api.list_hazards_view": ["/api/v1/hazards"],
    "api.get_hazard_view": ["/api/v1/hazards/{hz_b}", "/api/v1/hazards/{hz_a}"],
    "api.impact_runs_view": ["/api/v1/hazards/{hz_b}/impact", "/api/v1/hazards/{hz_a}/impact"],
    "api.impact_run_view": [
        "/api/v1/impact-runs/{run_b}",
        "/api/v1/impact-runs/{run_a}",
        "/api/v1/impact-runs/{run_all}",
    ],
    "api.door_knock_export_view": [
        "/api/v1/impact-runs/{run_b}/door-knock.xlsx",
        "/api/v1/impact-runs/{run_a}/door-knock.xlsx",
        "/api/v1/impact-runs/{run_all}/door-knock.xlsx",
    ],
    "api.households_view": ["/api/v1/households", "/api/v1/households?grid=511381002001001"],
    "api.incidents_view": [
        "/api/v1/incidents",
        "/api/v1/incidents?grid=511381002001001",
        "/api/v1/incidents?status=accepted,submitted",
    ],
    "api.incident_view": ["/api/v1/incidents/{inc_b1}", "/api/v1/incidents/{inc_a1}"],
    "api.incident_photo_view": ["/api/v1/incidents/{inc_b1}/photos/1"],
    "api.incident_categories_view": ["/api/v1/incidents/categories"],
    "api.escalated_incidents_view": ["/api/v1/incidents/escalated"],
    "api.incident_queue_view": ["/api/v1/incidents/queue"],
    "api.locate_view": [f"/api/v1/locate?lon={A1_XY[0]}&lat={A1_XY[1]}"],
    "api.locate_address_view": [
        "/api/v1/locate/address?q=乙路",
        "/api/v1/locate/address?q=甲路",
        "/api/v1/locate/address?q=135",
    ],
    "api.notifications_view": ["/api/v1/notifications"],
    "api.openapi": ["/api/v1/openapi.json"],
    "api.list_sites_view": ["/api/v1/sites"],
    "api.get_site_view": ["/api/v1/sites/{site_b}", "/api/v1/sites/{site_a}"],
    "api.site_photo_view": ["/api/v1/sites/photos/1"],
    "web.dashboard_page": [
        "/dashboard",
        "/dashboard?level=grid",
        "/dashboard?level=community&parent=511381002",
    ],
    "web.dashboard_csv": [
        "/dashboard.csv",
        "/dashboard.csv?level=street",
        "/dashboard.csv?level=community",
        "/dashboard.csv?level=grid&parent=511381002001",
    ],
    "web.dashboard_xlsx": [
        "/dashboard.xlsx",
        "/dashboard.xlsx?level=street",
        "/dashboard.xlsx?level=community&parent=511381002",
    ],
    "web.incident_list_page": ["/incidents", "/incidents?view=all"],
    "web.incident_page": ["/incidents/{inc_b1}", "/incidents/{inc_a1}"],
    "web.new_incident_page": ["/incidents/new"],
    "web.set_language": [],
    "web.login": ["/login"],
    "web.coverage_map_page": ["/map/coverage"],
    "web.hazards_map_page": ["/map/hazards"],
    "web.incident_map_page": [
        "/map/incidents",
        "/map/incidents?view=rate",
        "/map/incidents?view=heat",
    ],
    "web.reconstruction_map_page": ["/map/reconstruction"],
    "ogc.landing": ["/ogc"],
    "ogc.api": ["/ogc/api"],
    "ogc.api_docs": ["/ogc/api.html"],
    "ogc.collections": ["/ogc/collections"],
    "ogc.collection": [
        f"/ogc/collections/{c}"
        for c in ("grids", "communities", "streets", "districts", "microgrids")
    ],
    "ogc.items": [
        f"/ogc/collections/{c}/items" for c in ("grids", "communities", "streets", "districts")
    ],
    "ogc.item": [
        "/ogc/collections/grids/items/511381002001001",
        "/ogc/collections/streets/items/511381002",
        "/ogc/collections/communities/items/511381002001",
    ],
    "ogc.conformance": ["/ogc/conformance"],
    "open311.unknown": [],
    "open311.discovery": ["/open311/v2/discovery.json"],
    "open311.get_requests": ["/open311/v2/requests.json", "/open311/v2/requests.xml"],
    "open311.get_request": [
        "/open311/v2/requests/{inc_a1}.json",
        "/open311/v2/requests/{inc_b1}.xml",
    ],
    "open311.services": ["/open311/v2/services.json"],
    "open311.service_definition": ["/open311/v2/services/road.json"],
    "web.planner": ["/planner"],
    "public.report_form": ["/public/report"],
    "public.report_status": ["/public/report/{inc_a1}", "/public/report/{inc_b1}"],
    "public.track_report": [],
    "public.sites_page": ["/public/sites"],
    "public.sites_json": ["/public/sites.json"],
    "web.site_page": ["/sites/{site_b}", "/sites/{site_a}"],
    "static": [],
    "tiles.layer_tilejson": [
        f"/tiles/{c}.json" for c in ("grids", "communities", "streets", "households")
    ],
    "tiles.tile": [
        f"/tiles/{c}/{t}.pbf"
        for c in ("grids", "communities", "streets", "households")
        for t in TILES
    ],
    "web.worker_page": ["/worker", "/worker?user={b1_worker}", "/worker?user={a1_worker}"],
}
# Town B's objects read by id: a town-A user gets nothing (404 or 403) from these.
TOWN_B_DETAILS = [
    "/api/v1/areas/511381002",
    "/api/v1/areas/511381002001",
    "/api/v1/areas/511381002001001",
    "/api/v1/areas/511381002001001/history",
    "/api/v1/hazards/{hz_b}",
    "/api/v1/hazards/{hz_b}/impact",
    "/api/v1/impact-runs/{run_b}",
    "/api/v1/impact-runs/{run_b}/door-knock.xlsx",
    "/api/v1/incidents/{inc_b1}",
    "/api/v1/incidents/{inc_b_unrouted}",
    "/incidents/{inc_b_unrouted}",
    "/api/v1/sites/{site_b}",
    "/incidents/{inc_b1}",
    "/sites/{site_b}",
    "/ogc/collections/grids/items/511381002001001",
    "/ogc/collections/streets/items/511381002",
    "/api/v1/coverage?area=511381002",
]
# Public pages show these by design (the public three colours of every site; a resident's own
# report by its number, with its district-wide location).
PUBLIC_EVERYWHERE = {
    "public.sites_page",
    "public.sites_json",
    "public.report_status",
    "open311.get_requests",
    "open311.get_request",
}
# Locating works anywhere in the district by design (a worker asked about any address tells
# whose grid it is, and the grid card is public); what it shows stays masked (b).
LOCATE_ANYWHERE = {"api.locate_view", "api.locate_address_view"}


def test_every_read_route_is_listed(app):
    rules = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert rules == set(ROUTES)


@pytest.fixture
def runs(client, session, world):
    """Impact runs of hazard A, hazard B and of both, made by the admin."""
    login(client, "admin")
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    ids = {}
    for key, body, url in [
        ("run_a", {"buffer_m": 0}, f"/api/v1/hazards/{world['hz_a'].id}/impact"),
        ("run_b", {"buffer_m": 0}, f"/api/v1/hazards/{world['hz_b'].id}/impact"),
        ("run_all", {"buffer_m": 0}, "/api/v1/hazards/impact"),
    ]:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        ids[key] = response.json["id"]
    client.post("/logout", headers=headers)
    return ids


def fill(path: str, world, runs) -> str:
    values = {k: (v.id if hasattr(v, "id") else v) for k, v in world.items() if k != "areas"}
    return path.format(**values, **runs)


def read_all(client, world, runs):
    for endpoint, paths in ROUTES.items():
        for path in paths:
            path = fill(path, world, runs)
            response = client.get(path, headers={"Accept-Encoding": "gzip"})
            assert response.status_code < 500, (path, response.status_code)
            yield endpoint, path, response


def logged_reads(session, after_id: int) -> set[tuple[str, int]]:
    rows = session.scalars(select(PersonalDataRead).where(PersonalDataRead.id > after_id)).all()
    return {(r.subject, i) for r in rows for i in r.subject_ids}


def last_read_id(session) -> int:
    return session.scalar(text("SELECT coalesce(max(id), 0) FROM personal_data_reads"))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_only_its_area_and_no_personal_data_it_does_not_need(
    client, session, world, runs, role
):
    if role != "anonymous":
        login(client, role)
    leaks = []
    for endpoint, path, response in read_all(client, world, runs):
        if response.status_code >= 300:
            continue
        page = body_text(response)
        public = endpoint in PUBLIC_EVERYWHERE
        # (a) a town-A user sees nothing of town B (a worker nothing of grid A2 either).
        if role in TOWN_A_ROLES and not public and endpoint not in LOCATE_ANYWHERE:
            leaks += [(path, "town B", m) for m in TOWN_B_MARKERS if m in page]
        if role == "a1-worker" and not public:
            leaks += [(path, "grid A2", p) for p in personal_found(page, [A2_HOUSEHOLD])]
        # (b) personal data only for the roles that need it, and only inside their area.
        if role not in PERSONAL_ROLES:
            leaks += [(path, "personal", p) for p in personal_found(page, ALL_PERSONAL)]
        elif role == "a1-worker":
            outside = [A2_HOUSEHOLD, B1_HOUSEHOLD, B1_INCIDENT, B_SITE]
            leaks += [(path, "personal outside", p) for p in personal_found(page, outside)]
    assert not leaks, "\n".join(map(str, sorted(set(leaks))))


TOWN_A_DETAIL_ROLES = sorted(TOWN_A_ROLES)


@pytest.mark.parametrize("role", TOWN_A_DETAIL_ROLES)
def test_town_b_objects_read_by_id_are_not_found_for_a_town_a_user(client, world, runs, role):
    login(client, role)
    answered = {}
    for path in TOWN_B_DETAILS:
        path = fill(path, world, runs)
        answered[path] = client.get(path).status_code
    shown = {p: s for p, s in answered.items() if s not in (403, 404)}
    assert not shown, "\n".join(map(str, shown.items()))


# (c) Unmasked reads are logged, naming the households (and incidents, sites) read.
SUBJECT_OF = [
    ("households", "hh_a1", A1_HOUSEHOLD),
    ("households", "hh_a2", A2_HOUSEHOLD),
    ("households", "hh_b1", B1_HOUSEHOLD),
    ("incidents", "inc_a1", {"names": A1_INCIDENT["names"], "digits": ["15845678904"]}),
    ("incidents", "inc_b1", B1_INCIDENT),
    ("sites", "site_a", A_SITE),
    ("sites", "site_b", B_SITE),
]


@pytest.mark.parametrize("role", sorted(PERSONAL_ROLES))
def test_every_unmasked_read_is_logged_with_whose_data_was_read(client, session, world, runs, role):
    login(client, role)
    unlogged = []
    shown = 0
    for paths in ROUTES.values():
        for path in paths:
            path = fill(path, world, runs)
            before = last_read_id(session)
            response = client.get(path, headers={"Accept-Encoding": "gzip"})
            if response.status_code >= 300:
                continue
            page = body_text(response)
            logged = logged_reads(session, before)
            for subject, key, item in SUBJECT_OF:
                if personal_found(page, [{"names": item["names"], "digits": item["digits"][:1]}]):
                    shown += 1
                    if (
                        subject,
                        world[key].id if hasattr(world[key], "id") else world[key],
                    ) not in logged:
                        unlogged.append((path, subject, key))
    assert shown > 0
    assert not unlogged, "\n".join(map(str, sorted(set(unlogged))))


def test_a_town_a_users_figures_count_town_a_only(client, session, world, runs):
    login(client, "a-leader")
    households = client.get("/api/v1/households").json
    assert sorted(h["id"] for h in households["items"]) == [world["hh_a1"], world["hh_a2"]]
    incidents = client.get("/api/v1/incidents").json
    assert [i["id"] for i in incidents["items"]] == [world["inc_a1"].id]
    assert [f["id"] for f in client.get("/api/v1/hazards").json["features"]] == [world["hz_a"].id]
    assert [f["id"] for f in client.get("/api/v1/sites").json["features"]] == [world["site_a"].id]
    areas = client.get("/api/v1/areas").json["features"]
    assert sorted(f["properties"]["code"] for f in areas) == [
        "511381",
        "511381001",
        "511381001001",
        "511381001001001",
        "511381001001002",
    ]
    coverage = client.get("/api/v1/coverage").json
    assert coverage["areas_checked"] == 5
    run = client.get(f"/api/v1/impact-runs/{runs['run_all']}").json
    assert {g["grid_code"] for g in run["by_grid"]} == {"511381001001001"}
    assert [h["household_id"] for w in run["door_knock"] for h in w["households"]] == [
        world["hh_a1"]
    ]


def test_a_run_over_both_towns_shows_a_town_a_reader_town_a_figures_only(
    client, session, world, runs
):
    figures = ("households", "people", "vulnerable_households")
    login(client, "admin")
    whole = client.get(f"/api/v1/impact-runs/{runs['run_all']}").json
    client.post("/logout", headers={"X-CSRFToken": csrf_token(client, "/")})
    login(client, "a-leader")
    run = client.get(f"/api/v1/impact-runs/{runs['run_all']}").json
    [a_row] = run["by_grid"]
    assert run["totals"] == {key: a_row[key] for key in figures}
    assert run["totals"]["households"] < whole["totals"]["households"]  # B's count too
    assert [h["id"] for h in run["hazards"]] == [world["hz_a"].id]
    assert [(c["hazard_class"], c["hazards"], c["households"]) for c in run["by_class"]] == [
        ("flood", 1, a_row["households"])
    ]
    assert {c["hazard_class"] for c in whole["by_class"]} == {"flood", "landslide"}
    zone = shapely.geometry.shape(run["zone"])
    a_grids = box(X0, Y0, X0 + 0.02, Y0 + 0.02)  # grids A1 and A2, town A's
    assert zone.area > 0 and zone.difference(a_grids).area < 1e-12
    assert shapely.geometry.shape(whole["zone"]).difference(a_grids).area > 0
    listed = client.get(f"/api/v1/hazards/{world['hz_a'].id}/impact").json["items"]
    assert {r["id"]: r["totals"] for r in listed}[runs["run_all"]] == run["totals"]


@pytest.mark.parametrize(
    ("role", "query", "found"),
    [
        ("a1-worker", "1234 0002", ["甲路1号 +86 135 1234 0002"]),  # shown as typed: findable
        ("leader", "1234 0002", []),  # masked for a leader: the number is no key
        ("a-leader", "1234", []),
        ("admin", "1234 0002", ["甲路1号 +86 135 1234 0002"]),
    ],
)
def test_the_address_search_finds_an_address_only_by_what_the_reader_is_shown(
    client, world, role, query, found
):
    login(client, role)
    items = client.get("/api/v1/locate/address", query_string={"q": query}).json["items"]
    assert [i["address"] for i in items] == found
    # and by the text everyone sees, the leader still finds it, masked
    if role == "leader":
        [item] = client.get("/api/v1/locate/address?q=甲路1号").json["items"]
        assert item["address"].startswith("甲路1号") and "1234" not in item["address"]
