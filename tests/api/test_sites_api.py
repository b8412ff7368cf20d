"""The reconstruction sites API: register, list and filter, progress with photos, bad input."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
import shapely
from shapely import box
from sqlalchemy import func, select

from app.models.hazards import ReconstructionSite, SiteMilestone, SitePhoto, SiteProgress
from app.services.sites import today
from geo.crs import wgs84_to_gcj02
from tests.conftest import csrf_token, login
from tests.factories import X0, Y0, add_user, build_world, image_bytes

TODAY = today()
START = TODAY - timedelta(days=100)
END = TODAY + timedelta(days=100)  # plan today: 50 %
POINT = {"type": "Point", "coordinates": [X0 + 0.005, Y0 + 0.005]}
TABLES = (ReconstructionSite, SiteMilestone, SiteProgress, SitePhoto)


@pytest.fixture
def world(session):
    world = build_world(session)
    world.users["leader"] = add_user(session, "leader", "leader")
    # The sites below lie in the SW grid, which is the worker's.
    world.users["wang"] = add_user(session, "wang", "worker", grids=[world.grids["SW"]])
    world.users["planner"] = add_user(session, "planner", "planner")
    # A refused request rolls its session back: what the fixture wrote must be committed.
    session.commit()
    return world


def as_user(client, username: str) -> dict:
    login(client, username)
    return {"X-CSRFToken": csrf_token(client, "/")}


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in TABLES)


def site_body(**values) -> dict:
    body = {
        "name": "城北安置房",
        "site_type": "housing",
        "owner": "阆中市住建局",
        "geometry": POINT,
        "planned_start": START.isoformat(),
        "planned_end": END.isoformat(),
        "contact_name": "赵建国",
        "contact_phone": "13812345678",
        "milestones": [
            {"name": "开工", "planned_date": START.isoformat(), "done_date": START.isoformat()},
            {"name": "主体完工", "planned_date": (TODAY + timedelta(days=30)).isoformat()},
        ],
    }
    return {**body, **values}


def create(client, headers, **values):
    return client.post("/api/v1/sites", json=site_body(**values), headers=headers)


def report(client, headers, site_id, percent="50", photos=(), **fields):
    data = {"percent": percent, **fields}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post(
        f"/api/v1/sites/{site_id}/progress",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def test_register_and_read_a_site(client, session, world):
    headers = as_user(client, "leader")
    created = create(client, headers)
    assert created.status_code == 201, created.json
    site = created.json
    props = site["properties"]
    assert props["name"] == "城北安置房" and props["type_label"] == "安置住房"
    assert site["geometry"]["type"] == "Point"
    assert site["geometry"]["coordinates"] == pytest.approx(POINT["coordinates"])
    # No report yet: 0 % against a plan of 50 % is red.
    assert props["status"]["colour"] == "red"
    assert props["status"]["planned_percent"] == 50.0
    # A leader does not see the contact person.
    assert props["contact_name"] == "赵**" and props["contact_phone"] == "138****5678"
    assert [m["name"] for m in site["milestones"]] == ["开工", "主体完工"]
    assert site["milestones"][0]["done_date"] == START.isoformat()
    assert site["progress"] == []
    assert counts(session)[:2] == (1, 2)


def test_a_worker_sees_the_contact(client, world):
    create(client, as_user(client, "leader"))
    site_id = client.get("/api/v1/sites").json["features"][0]["id"]
    login(client, "wang")
    props = client.get(f"/api/v1/sites/{site_id}").json["properties"]
    assert props["contact_name"] == "赵建国" and props["contact_phone"] == "13812345678"


def test_polygon_in_gcj02_is_converted_and_stored_as_multipolygon(client, world):
    headers = as_user(client, "planner")
    zone = box(X0 + 0.002, Y0 + 0.002, X0 + 0.004, Y0 + 0.004)
    shifted = [wgs84_to_gcj02(x, y) for x, y in zone.exterior.coords]
    geometry = {"type": "Polygon", "coordinates": [[[float(v) for v in p] for p in shifted]]}
    created = create(client, headers, geometry=geometry, crs="gcj02")
    assert created.status_code == 201, created.json
    assert created.json["geometry"]["type"] == "MultiPolygon"
    stored = shapely.geometry.shape(created.json["geometry"])
    # Back in WGS84 to within centimetres (1e-7 degrees ~ 1 cm).
    assert stored.symmetric_difference(zone).area < 1e-10


def test_list_and_filters(client, world):
    headers = as_user(client, "leader")
    create(client, headers, name="甲", owner="阆中市住建局")
    create(
        client,
        headers,
        name="乙",
        site_type="road",
        owner="阆中市交通运输局",
        geometry={"type": "Point", "coordinates": [X0 + 0.015, Y0 + 0.015]},
        milestones=[],
    )
    sites = {f["properties"]["name"]: f["id"] for f in client.get("/api/v1/sites").json["features"]}
    assert set(sites) == {"甲", "乙"}
    # 乙 reports 45 % (5 behind: green); 甲 stays at 0 % (red).
    assert report(client, headers, sites["乙"], "45").status_code == 201

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/sites?{query}")
        assert response.status_code == 200, response.json
        return sorted(f["properties"]["name"] for f in response.json["features"])

    assert names("type=road") == ["乙"]
    assert names("type=housing,road") == ["乙", "甲"]
    assert names("status=green") == ["乙"]
    assert names("status=red") == ["甲"]
    assert names("status=yellow") == []
    assert names("owner=交通") == ["乙"]
    assert names(f"bbox={X0 + 0.01},{Y0 + 0.01},{X0 + 0.02},{Y0 + 0.02}") == ["乙"]
    listing = client.get("/api/v1/sites").json
    assert listing["counts"] == {"green": 1, "yellow": 0, "red": 1}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("colour=red", None),
        ("type=castle", "type"),
        ("status=blue", "status"),
        ("bbox=1,2,3", "bbox"),
    ],
)
def test_bad_filters_are_refused(client, world, query, field):
    as_user(client, "leader")
    response = client.get(f"/api/v1/sites?{query}")
    assert response.status_code == 400
    details = response.json["error"]["details"]
    assert details == {"fields": ["colour"]} if field is None else details["field"] == field


def test_progress_with_photos_and_serving_them(client, session, world):
    headers = as_user(client, "leader")
    site_id = create(client, headers).json["id"]
    png, jpeg = image_bytes("PNG"), image_bytes("JPEG")
    sent = report(
        client,
        headers,
        site_id,
        "42.5",
        photos=[("a.png", png), ("b.jpg", jpeg)],
        note="主体结构施工",
        reported_on=(TODAY - timedelta(days=1)).isoformat(),
    )
    assert sent.status_code == 201, sent.json
    (entry,) = sent.json["progress"]
    assert entry["percent"] == 42.5 and entry["note"] == "主体结构施工"
    assert entry["reported_on"] == (TODAY - timedelta(days=1)).isoformat()
    assert len(entry["photos"]) == 2
    status = sent.json["properties"]["status"]
    assert status["actual_percent"] == 42.5 and status["colour"] == "green"
    first = client.get(entry["photos"][0])
    assert first.status_code == 200 and first.mimetype == "image/png" and first.data == png
    second = client.get(entry["photos"][1])
    assert second.mimetype == "image/jpeg" and second.data == jpeg
    stored = session.scalars(select(SitePhoto).order_by(SitePhoto.id)).all()
    assert [p.sha256 for p in stored] == [hashlib.sha256(b).hexdigest() for b in (png, jpeg)]
    assert session.scalar(select(SiteProgress.reported_by)) == world.users["leader"].id


def test_progress_defaults_to_today_and_latest_counts(client, world):
    headers = as_user(client, "wang")
    login(client, "leader")
    site_id = create(client, as_user(client, "leader")).json["id"]
    headers = as_user(client, "wang")
    report(client, headers, site_id, "30", reported_on=(TODAY - timedelta(days=10)).isoformat())
    latest = report(client, headers, site_id, "38")
    assert latest.status_code == 201
    assert [p["percent"] for p in latest.json["progress"]] == [30, 38]
    assert latest.json["progress"][-1]["reported_on"] == TODAY.isoformat()
    # 12 points behind a plan of 50 %, and no milestone late: yellow.
    assert latest.json["properties"]["status"]["colour"] == "yellow"


def test_milestone_done_dates(client, world):
    headers = as_user(client, "leader")
    site = create(
        client,
        headers,
        milestones=[{"name": "开工", "planned_date": (TODAY - timedelta(days=20)).isoformat()}],
    ).json
    report(client, headers, site["id"], "50")
    shown = client.get(f"/api/v1/sites/{site['id']}").json
    assert shown["properties"]["status"]["colour"] == "red"  # 20 days late
    assert shown["milestones"][0]["days_late"] == 20
    milestone_id = shown["milestones"][0]["id"]
    done = (TODAY - timedelta(days=15)).isoformat()
    patched = client.patch(
        f"/api/v1/sites/{site['id']}",
        json={"milestones": [{"id": milestone_id, "done_date": done}]},
        headers=headers,
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["milestones"][0]["done_date"] == done
    assert patched.json["properties"]["status"]["colour"] == "green"
    future = client.patch(
        f"/api/v1/sites/{site['id']}",
        json={
            "milestones": [{"id": milestone_id, "done_date": (TODAY + timedelta(1)).isoformat()}]
        },
        headers=headers,
    )
    assert future.status_code == 422
    assert future.json["error"]["details"]["field"] == "milestones.0.done_date"
    other = client.patch(
        f"/api/v1/sites/{site['id']}",
        json={"milestones": [{"id": milestone_id + 999, "done_date": None}]},
        headers=headers,
    )
    assert other.status_code == 422
    shown = client.get(f"/api/v1/sites/{site['id']}").json
    assert shown["milestones"][0]["done_date"] == done


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"planned_end": (START - timedelta(days=1)).isoformat()}, "planned_end"),
        ({"planned_end": START.isoformat()}, "planned_end"),
        ({"site_type": "castle"}, "site_type"),
        ({"planned_start": "1900-01-01"}, "planned_start"),
        (
            {"milestones": [{"name": "开工", "planned_date": (END + timedelta(400)).isoformat()}]},
            "milestones.0.planned_date",
        ),
        (
            {
                "milestones": [
                    {
                        "name": "开工",
                        "planned_date": START.isoformat(),
                        "done_date": (TODAY + timedelta(3)).isoformat(),
                    }
                ]
            },  # noqa: E501
            "milestones.0.done_date",
        ),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [X0, Y0],
                            [X0 + 0.01, Y0 + 0.01],
                            [X0 + 0.01, Y0],
                            [X0, Y0 + 0.01],
                            [X0, Y0],
                        ]
                    ],
                }
            },
            None,
        ),
        ({"geometry": {"type": "Point", "coordinates": [200, 95]}}, None),
        ({"geometry": {"type": "LineString", "coordinates": [[X0, Y0], [X0 + 1, Y0]]}}, None),
        ({"planned_start": "not-a-date"}, "planned_start"),
    ],
)
def test_bad_sites_are_refused_and_nothing_is_stored(client, session, world, values, field):
    headers = as_user(client, "leader")
    before = counts(session)
    response = create(client, headers, **values)
    assert response.status_code == 422, response.json
    if field:
        assert response.json["error"]["details"]["field"] == field
    assert response.json["error"]["message"]
    assert counts(session) == before


def test_only_editors_register_sites(client, session, world):
    response = create(client, as_user(client, "wang"))
    assert response.status_code == 403
    assert counts(session) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("percent", "photos", "fields", "status", "field"),
    [
        ("101", [], {}, 422, "percent"),
        ("-1", [], {}, 422, "percent"),
        ("abc", [], {}, 422, "percent"),
        ("50", [], {"reported_on": "2999-01-01"}, 422, "reported_on"),
        ("50", [("note.txt", b"hello, not an image")], {}, 422, "photos"),
        ("50", [("ok.png", "PNG"), ("fake.jpg", b"\xff\xd8\xff" + b"0" * 100)], {}, 422, "photos"),
        ("50", [("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024))], {}, 413, "photos"),
        ("50", [(f"{i}.png", "PNG") for i in range(6)], {}, 422, "photos"),
    ],
)
def test_bad_progress_is_refused_and_nothing_is_stored(
    client, session, world, percent, photos, fields, status, field
):
    headers = as_user(client, "leader")
    site_id = create(client, headers).json["id"]
    before = counts(session)
    photos = [(n, image_bytes(c) if isinstance(c, str) else c) for n, c in photos]
    response = report(client, headers, site_id, percent, photos=photos, **fields)
    assert response.status_code == status, response.json
    assert response.json["error"]["details"]["field"] == field
    assert counts(session) == before


def test_unknown_site_and_photo(client, world):
    headers = as_user(client, "leader")
    assert client.get("/api/v1/sites/999999").status_code == 404
    assert report(client, headers, 999999).status_code == 404
    missing = client.get("/api/v1/sites/photos/999999")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_sites_need_a_login(client, world):
    assert client.get("/api/v1/sites").status_code == 401


# --- pages ----------------------------------------------------------------------------------

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_public_listing_has_no_personal_data(client, world):
    headers = as_user(client, "leader")
    site_id = create(client, headers).json["id"]
    report(client, headers, site_id, "47", note="进展顺利")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    page = client.get("/public/sites")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "城北安置房" in html and "阆中市住建局" in html and "安置住房" in html
    assert "47%" in html and "50%" in html and "正常" in html
    assert START.isoformat() in html and END.isoformat() in html
    assert "赵建国" not in html and "赵*" not in html
    assert not PHONE.search(html) and "138****" not in html
    listing = client.get("/public/sites.json").json["items"]
    (item,) = listing
    assert item["name"] == "城北安置房" and item["status"]["colour"] == "green"
    assert item["status"]["actual_percent"] == 47.0
    forbidden = {"contact_name", "contact_phone", "reported_by", "description"}
    assert not forbidden & set(item)
    assert "赵建国" not in json.dumps(listing, ensure_ascii=False)


def test_map_page_lists_and_filters_sites(client, world):
    headers = as_user(client, "leader")
    create(client, headers, name="甲")
    road = create(client, headers, name="乙", site_type="road", milestones=[]).json["id"]
    report(client, headers, road, "45")
    html = client.get("/map/reconstruction").get_data(as_text=True)
    assert "甲" in html and "乙" in html and "正常" in html and "风险" in html
    assert 'href="/map/reconstruction"' in html  # the nav link
    assert "赵建国" not in html and not PHONE.search(html)
    red = client.get("/map/reconstruction?status=red").get_data(as_text=True)
    assert re.findall(r'<li data-id="\d+" data-colour="(\w+)"', red) == ["red"]
    roads = client.get("/map/reconstruction?type=road&status=").get_data(as_text=True)
    assert f"/sites/{road}" in roads and "甲" not in roads
    assert client.get("/map/reconstruction?colour=red").status_code == 400


def test_site_page_shows_history_and_masks_the_contact(client, world):
    headers = as_user(client, "leader")
    site_id = create(client, headers).json["id"]
    report(client, headers, site_id, "33.5", note="基础完工", photos=[("a.png", image_bytes())])
    html = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert "城北安置房" in html and "基础完工" in html and "33.5%" in html
    assert "<svg" in html and 'class="actual"' in html
    assert "/api/v1/sites/photos/" in html
    assert "主体完工" in html and "progress-form" in html
    assert "赵**" in html and "赵建国" not in html and not PHONE.search(html)
    assert client.get("/sites/999999").status_code == 404
