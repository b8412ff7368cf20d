"""Importing areas and households: formats, coordinate systems, and all-or-nothing refusals."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box
from sqlalchemy import func, select, text

from app.errors import BadRequest, InvalidData
from app.models import Area, Household
from app.services.imports import import_areas, import_households
from app.store.scope import Scope
from geo import crs as geocrs
from tests.factories import STEP, X0, Y0, add_households, build_world, current_grid_codes

COMMUNITY = "511381001001"


def feature(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def write_geojson(path, features) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


def grid_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Area).where(Area.level == "grid"))


@pytest.fixture
def world(session):
    """The factory world with its four grids retired, so the community is empty to import into."""
    w = build_world(session)
    session.execute(text("DELETE FROM areas WHERE level = 'grid'"))
    return w


def halves():
    """West and east halves of the community: a clean split into two grids."""
    return box(X0, Y0, X0 + STEP, Y0 + 2 * STEP), box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + 2 * STEP)


def test_geojson_grids_get_codes_north_to_south_west_to_east_and_households(
    session, world, tmp_path
):
    households = add_households(session, [(X0 + 0.005, Y0 + 0.005), (X0 + 0.015, Y0 + 0.015)])
    quads = [
        box(X0 + dx, Y0 + dy, X0 + dx + STEP, Y0 + dy + STEP)
        for dx, dy in ((STEP, 0), (0, 0), (STEP, STEP), (0, STEP))
    ]  # SE, SW, NE, NW
    path = write_geojson(tmp_path / "g.geojson", [feature(q) for q in quads])
    result = import_areas(session, path, level="grid", parent_code=COMMUNITY)
    # Numbered NW, NE, SW, SE although the file lists them SE, SW, NE, NW.
    assert result.codes == [f"{COMMUNITY}{n:03d}" for n in (4, 3, 2, 1)]
    assert result.reassignment.households.assigned == 2
    assert current_grid_codes(session, households) == {
        households[0]: f"{COMMUNITY}003",
        households[1]: f"{COMMUNITY}002",
    }


@pytest.mark.parametrize(
    ("geometry", "reason", "location"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [[[X0, Y0], [X0 + 0.01, Y0], [X0 + 0.01, Y0 + 0.01]]],
            },
            "too_few_points",
            None,
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[X0, Y0], [X0 + 0.01, Y0], [X0 + 0.01, Y0 + 0.01], [X0, Y0 + 0.01]]
                ],
            },
            "unclosed_ring",
            None,
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[X0, Y0], [X0 + 0.01, Y0 + 0.01], [X0 + 0.01, Y0], [X0, Y0 + 0.01], [X0, Y0]]
                ],
            },
            "self_intersection",
            (X0 + 0.005, Y0 + 0.005),
        ),
        (
            {"type": "Polygon", "coordinates": [[[X0, Y0], [200, Y0], [X0, Y0 + 0.01], [X0, Y0]]]},
            "out_of_range",
            None,
        ),
        ({"type": "LineString", "coordinates": [[X0, Y0], [X0 + 0.01, Y0]]}, "wrong_type", None),
    ],
)
def test_an_invalid_feature_is_named_with_reason_and_location_and_nothing_is_written(
    session, world, tmp_path, geometry, reason, location
):
    west, _ = halves()
    features = [feature(west), {"type": "Feature", "properties": {}, "geometry": geometry}]
    path = write_geojson(tmp_path / "bad.geojson", features)
    with pytest.raises(InvalidData) as caught:
        import_areas(session, path, level="grid", parent_code=COMMUNITY)
    assert "1 of 2 features are invalid; nothing was imported" in caught.value.message
    [fault] = caught.value.details
    assert (fault["feature"], fault["reason"]) == (2, reason)
    if location:
        assert fault["location"] == pytest.approx(location, abs=1e-9)
    assert grid_count(session) == 0


def test_overlapping_features_and_overlap_with_an_existing_grid_are_refused(
    session, world, tmp_path
):
    west, east = halves()
    import_areas(
        session,
        write_geojson(tmp_path / "w.geojson", [feature(west)]),
        level="grid",
        parent_code=COMMUNITY,
    )
    wide_east = box(X0 + STEP - 0.002, Y0, X0 + 2 * STEP, Y0 + 2 * STEP)  # 0.002 deg into west
    path = write_geojson(tmp_path / "e.geojson", [feature(wide_east), feature(east)])
    with pytest.raises(InvalidData) as caught:
        import_areas(session, path, level="grid", parent_code=COMMUNITY)
    faults = {
        (f["feature"], f["reason"], f["message"].split(" by ")[0]) for f in caught.value.details
    }
    assert (1, "overlap", "overlaps feature 2") in faults
    assert (2, "overlap", "overlaps feature 1") in faults
    assert (1, "overlap", f"overlaps the existing grid {COMMUNITY}001") in faults
    expected_m2 = geocrs.area_m2(box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + 2 * STEP))
    area = [f for f in caught.value.details if f["message"].startswith("overlaps feature 2")][0]
    assert float(area["message"].split(" by ")[1].split(" ")[0]) == pytest.approx(
        expected_m2, rel=1e-3
    )
    assert grid_count(session) == 1


def test_a_grid_sticking_out_of_its_community_is_refused_beyond_half_a_metre(
    session, world, tmp_path
):
    west, _ = halves()
    metric = geocrs.local_metric_crs(west)
    nudged = lambda metres: geocrs.from_metric(  # noqa: E731
        shapely.affinity.translate(geocrs.to_metric(west, metric), xoff=-metres), metric
    )
    with pytest.raises(InvalidData) as caught:
        import_areas(
            session,
            write_geojson(tmp_path / "a.geojson", [feature(nudged(10))]),
            level="grid",
            parent_code=COMMUNITY,
        )
    [fault] = caught.value.details
    assert fault["reason"] == "outside_parent"
    assert fault["location"][0] < X0  # the fault is west of the community's edge
    result = import_areas(
        session,
        write_geojson(tmp_path / "b.geojson", [feature(nudged(0.2))]),
        level="grid",
        parent_code=COMMUNITY,
    )
    assert len(result.codes) == 1


def test_gcj02_input_is_converted_to_wgs84(session, world, tmp_path):
    west, _ = halves()
    inner = west.buffer(-0.001)
    xs, ys = np.asarray(inner.exterior.coords).T
    gx, gy = geocrs.wgs84_to_gcj02(xs, ys)
    gcj = shapely.Polygon(np.column_stack([gx, gy]))
    import_areas(
        session,
        write_geojson(tmp_path / "g.geojson", [feature(gcj)]),
        level="grid",
        parent_code=COMMUNITY,
        crs="gcj02",
    )
    stored = session.scalar(select(func.ST_AsText(Area.geom)).where(Area.level == "grid"))
    # Every vertex back within 1e-9 degrees (0.1 mm) of the WGS84 original.
    assert shapely.hausdorff_distance(shapely.from_wkt(stored), inner) < 1e-9


def test_geopackage_and_zipped_shapefile_with_gbk_names(session, world, tmp_path):
    west, east = halves()
    frame = gpd.GeoDataFrame(
        {"名称": ["西区网格"], "code": [f"{COMMUNITY}007"]}, geometry=[west], crs=4326
    )
    frame.to_file(tmp_path / "w.gpkg", driver="GPKG")
    shp = tmp_path / "shp"
    shp.mkdir()
    gpd.GeoDataFrame({"NAME": ["东区网格"]}, geometry=[east], crs=4326).to_file(
        shp / "east.shp", encoding="GBK"
    )
    (shp / "east.cpg").write_text("GBK")
    with zipfile.ZipFile(tmp_path / "east.zip", "w") as archive:
        for part in shp.iterdir():
            archive.write(part, part.name)
    import_areas(
        session,
        tmp_path / "w.gpkg",
        level="grid",
        parent_code=COMMUNITY,
        code_field="code",
        name_field="名称",
    )
    import_areas(
        session, tmp_path / "east.zip", level="grid", parent_code=COMMUNITY, name_field="NAME"
    )
    rows = session.execute(
        select(Area.code, Area.name).where(Area.level == "grid").order_by(Area.code)
    ).all()
    assert [tuple(r) for r in rows] == [
        (f"{COMMUNITY}007", "西区网格"),
        (f"{COMMUNITY}008", "东区网格"),
    ]


@pytest.mark.parametrize("member", ["../escape.shp", "/etc/escape.shp"])
def test_zip_slip_is_refused(session, world, tmp_path, member):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr(member, b"x")
    with pytest.raises(InvalidData, match="outside the archive"):
        import_areas(session, tmp_path / "evil.zip", level="grid", parent_code=COMMUNITY)
    assert grid_count(session) == 0


def test_unknown_crs_and_unknown_format_are_refused(session, world, tmp_path):
    west, _ = halves()
    path = write_geojson(tmp_path / "w.geojson", [feature(west)])
    with pytest.raises(InvalidData, match="wgs84"):
        import_areas(session, path, level="grid", parent_code=COMMUNITY, crs="mars")
    (tmp_path / "w.kmz").write_bytes(b"PK")
    with pytest.raises(BadRequest, match="Unsupported file type"):
        import_areas(session, tmp_path / "w.kmz", level="grid", parent_code=COMMUNITY)


# --- households ----------------------------------------------------------------------------

HEADER = "external_id,lon,lat,address,head_name,phone,members,tags\n"


def household_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Household))


def test_csv_households_are_imported_and_assigned(session, tmp_path):
    build_world(session)
    path = tmp_path / "h.csv"
    path.write_text(
        HEADER
        + f"A1,{X0 + 0.005},{Y0 + 0.005},保宁路1号,王五,13812345678,3,elderly_alone;disabled\n"
        + f"A2,{X0 + 0.015},{Y0 + 0.015},保宁路2号,赵六,,1,\n"
        + f"A3,{X0 - 0.02},{Y0 - 0.02},城外1号,钱七,15900001111,,\n"
    )
    result = import_households(session, path, scope=Scope.everything())
    assert (result.imported, result.assigned, result.uncovered) == (3, 2, 1)
    rows = session.execute(
        select(Household.external_id, Household.members, Household.tags, Household.phone).order_by(
            Household.external_id
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("A1", 3, ["elderly_alone", "disabled"], "13812345678"),
        ("A2", 1, [], ""),
        ("A3", 1, [], "15900001111"),
    ]


def test_bad_rows_are_listed_by_line_and_nothing_is_imported(session, tmp_path):
    build_world(session)
    add_households(session, [(X0 + 0.001, Y0 + 0.001)])
    session.execute(text("UPDATE households SET external_id = 'TAKEN'"))
    path = tmp_path / "h.csv"
    ok = f"{X0 + 0.005},{Y0 + 0.005}"
    path.write_text(
        HEADER
        + f"B1,{ok},ok,甲,13800000000,2,\n"  # line 2: fine
        + "B2,abc,31.5,x,乙,,2,\n"  # line 3: lon not a number
        + "B3,120.0,31.5,x,丙,,2,\n"  # line 4: outside the district
        + f"B4,{ok},x,丁,,0,\n"  # line 5: members 0
        + f"B5,{ok},x,戊,,2,rich\n"  # line 6: unknown tag
        + f"B1,{ok},x,己,,2,\n"  # line 7: repeats B1
        + f"TAKEN,{ok},x,庚,,2,\n"  # line 8: exists already
        + f"B8,{ok},x,辛,12a45,2,\n"  # line 9: bad phone
    )
    before = household_count(session)
    with pytest.raises(InvalidData) as caught:
        import_households(session, path, scope=Scope.everything())
    assert caught.value.message.startswith("7 of 8 rows are invalid; nothing was imported")
    faults = {(f["row"], f["field"]) for f in caught.value.details}
    assert faults == {
        (3, "lon/lat"),
        (4, "lon/lat"),
        (5, "members"),
        (6, "tags"),
        (7, "external_id"),
        (8, "external_id"),
        (9, "phone"),
    }
    outside = [f for f in caught.value.details if f["row"] == 4][0]
    assert outside["message"] == "the point lies outside the district"
    assert household_count(session) == before


def test_a_missing_column_is_named(session, tmp_path):
    build_world(session)
    path = tmp_path / "h.csv"
    path.write_text("external_id,lon,lat,address\nA,1,2,x\n")
    with pytest.raises(
        InvalidData, match="lacks the column\\(s\\) head_name, phone, members, tags"
    ):
        import_households(session, path, scope=Scope.everything())


def test_bd09_households_from_geojson(session, tmp_path):
    build_world(session)
    bx, by = geocrs.wgs84_to_bd09(X0 + 0.005, Y0 + 0.015)
    path = write_geojson(
        tmp_path / "h.geojson",
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(bx), float(by)]},
                "properties": {
                    "external_id": "G1",
                    "address": "x",
                    "head_name": "孙八",
                    "phone": "13700000000",
                    "members": 4,
                    "tags": "relocated",
                },
            }
        ],
    )
    result = import_households(session, path, scope=Scope.everything(), crs="bd09")
    assert result.assigned == 1
    x, y = session.execute(select(func.ST_X(Household.geom), func.ST_Y(Household.geom))).one()
    assert (x, y) == pytest.approx((X0 + 0.005, Y0 + 0.015), abs=1e-7)
