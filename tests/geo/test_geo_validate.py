from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geo.validate import (
    REASONS,
    GeometryError,
    check_polygonal,
    parse_point,
    parse_polygonal,
    point_faults,
    validity_reasons,
)

# A 0.1 degree square near Langzhong, counter-clockwise, and a hole in it, clockwise.
SHELL = [[106.0, 31.5], [106.1, 31.5], [106.1, 31.6], [106.0, 31.6], [106.0, 31.5]]
HOLE = [[106.04, 31.54], [106.04, 31.56], [106.06, 31.56], [106.06, 31.54], [106.04, 31.54]]


def polygon(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": [list(r) for r in rings]}


def refused(obj: object, **kwargs: object) -> GeometryError:
    with pytest.raises(GeometryError) as caught:
        parse_polygonal(obj, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- the error ------------------------------------------------------------------------------


def test_geometry_error_is_a_value_error_with_a_dict() -> None:
    err = GeometryError("self_intersection", "Crossing.", (106.0, 31.5), "coordinates[0]")
    assert isinstance(err, ValueError)
    assert str(err) == "Crossing."
    assert err.to_dict() == {
        "reason": "self_intersection",
        "message": "Crossing.",
        "location": [106.0, 31.5],
        "path": "coordinates[0]",
    }
    json.dumps(err.to_dict())
    with pytest.raises(ValueError, match="unknown geometry fault reason"):
        GeometryError("bad", "x")


# --- accepted GeoJSON -----------------------------------------------------------------------


def test_polygon_with_a_hole_is_accepted_with_rfc7946_orientation() -> None:
    # shell given clockwise and hole counter-clockwise: both are turned round
    result = parse_polygonal(polygon(SHELL[::-1], HOLE[::-1]))
    assert isinstance(result, shapely.MultiPolygon)
    (part,) = result.geoms
    assert part.exterior.is_ccw
    assert not part.interiors[0].is_ccw
    assert part.area == pytest.approx(0.01 - 0.0004)


def test_multipolygon_input() -> None:
    second = [[x + 0.2, y] for x, y in SHELL]
    result = parse_polygonal({"type": "MultiPolygon", "coordinates": [[SHELL, HOLE], [second]]})
    assert len(result.geoms) == 2
    assert all(p.exterior.is_ccw for p in result.geoms)


def test_feature_input() -> None:
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": polygon(SHELL)}
    assert parse_polygonal(feature).equals(shapely.MultiPolygon([shapely.Polygon(SHELL)]))


def test_three_dimensional_positions_are_accepted_and_flattened() -> None:
    ring = [[x, y, 500.0] for x, y in SHELL]
    result = parse_polygonal(polygon(ring))
    assert not result.has_z


def test_json_text_round_trip() -> None:
    text = json.dumps(polygon(SHELL, HOLE))
    assert parse_polygonal(json.loads(text)).area == pytest.approx(0.0096)


# --- one test per reason, with where it is ---------------------------------------------------


def test_empty() -> None:
    assert refused(polygon()).reason == "empty"
    assert refused({"type": "MultiPolygon", "coordinates": []}).reason == "empty"
    err = refused({"type": "MultiPolygon", "coordinates": [[SHELL], []]})
    assert (err.reason, err.path) == ("empty", "coordinates[1]")
    err = refused({"type": "Feature", "geometry": None, "properties": {}})
    assert (err.reason, err.path) == ("empty", "geometry")


def test_wrong_type() -> None:
    err = refused({"type": "Point", "coordinates": [106.0, 31.5]})
    assert (err.reason, err.path) == ("wrong_type", "type")
    assert "'Point'" in err.message
    err = refused({"type": "Feature", "geometry": {"type": "LineString", "coordinates": SHELL}})
    assert (err.reason, err.path) == ("wrong_type", "geometry.type")


def test_unclosed_ring_is_refused_not_closed_silently() -> None:
    err = refused(polygon(SHELL, HOLE[:-1] + [[106.05, 31.55]]))
    assert err.reason == "unclosed_ring"
    assert err.path == "coordinates[1]"
    assert err.location == (106.04, 31.54)
    assert "not closed" in err.message


def test_too_few_points_in_the_raw_ring() -> None:
    err = refused(polygon([[106.0, 31.5], [106.1, 31.5], [106.0, 31.5]]))
    assert (err.reason, err.path, err.location) == (
        "too_few_points",
        "coordinates[0]",
        (106.0, 31.5),
    )
    err = refused({"type": "MultiPolygon", "coordinates": [[SHELL], [[]]]})
    assert (err.reason, err.path, err.location) == ("too_few_points", "coordinates[1][0]", None)


def test_too_few_distinct_points_found_by_geos() -> None:
    err = refused(polygon([[106.0, 31.5], [106.1, 31.5], [106.1, 31.5], [106.0, 31.5]]))
    assert (err.reason, err.location, err.path) == (
        "too_few_points",
        (106.0, 31.5),
        "coordinates[0]",
    )


def test_nan_coordinate() -> None:
    infinite = HOLE[:2] + [[106.06, float("inf")]] + HOLE[3:]
    err = refused(polygon(SHELL, infinite))
    assert (err.reason, err.path, err.location) == ("nan_coordinate", "coordinates[1][2]", None)
    with_nan = SHELL[:2] + [[float("nan"), 31.6]] + SHELL[3:]
    err = refused(json.loads(json.dumps(polygon(with_nan))))  # Python's json reads NaN
    assert (err.reason, err.path) == ("nan_coordinate", "coordinates[0][2]")


def test_out_of_range() -> None:
    ring = [[0.0, 0.0], [181.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    err = refused(polygon(ring))
    assert (err.reason, err.path, err.location) == (
        "out_of_range",
        "coordinates[0][1]",
        (181.0, 0.0),
    )
    err = refused(polygon(SHELL), bounds=(105.0, 31.0, 106.05, 32.0))
    assert (err.reason, err.location) == ("out_of_range", (106.1, 31.5))
    assert "106.05" in err.message


def test_too_many_vertices() -> None:
    ring = [[106.0 + 0.001 * np.cos(t), 31.5 + 0.001 * np.sin(t)] for t in np.linspace(0, 6, 50)]
    ring.append(ring[0])
    err = refused(polygon(ring), max_vertices=50)
    assert err.reason == "too_many_vertices"
    assert parse_polygonal(polygon(ring), max_vertices=51).is_valid


@pytest.mark.parametrize(
    "bomb",
    [
        {"type": "Polygon", "coordinates": [[[106.0, 31.5]] * 1_000_000]},
        {"type": "Polygon", "coordinates": [SHELL] * 1_000_000},
        {"type": "Polygon", "coordinates": [[]] * 1_000_000},
        {"type": "MultiPolygon", "coordinates": [[]] * 1_000_000},
        {"type": "MultiPolygon", "coordinates": [[SHELL]] * 10_000},
    ],
    ids=["one-ring", "many-rings", "empty-rings", "empty-polygons", "many-polygons"],
)
def test_vertex_bomb_is_refused_before_anything_is_built(bomb: dict, monkeypatch) -> None:
    def never(*args, **kwargs):
        raise AssertionError("a geometry was built from a refused input")

    monkeypatch.setattr(shapely, "linearrings", never)
    monkeypatch.setattr(shapely, "polygons", never)
    err = refused(bomb)
    assert err.reason == "too_many_vertices"


def test_self_intersection_reports_the_crossing_point() -> None:
    bow_tie = [[106.0, 31.5], [106.1, 31.6], [106.1, 31.5], [106.0, 31.6], [106.0, 31.5]]
    err = refused(polygon(bow_tie))
    assert err.reason == "self_intersection"
    assert err.location == pytest.approx((106.05, 31.55))
    assert err.path == "coordinates[0]"
    assert "106.05, 31.55" in err.message


def test_overlapping_parts_of_a_multipolygon_are_a_self_intersection() -> None:
    shifted = [[x + 0.05, y + 0.05] for x, y in SHELL]
    err = refused({"type": "MultiPolygon", "coordinates": [[SHELL], [shifted]]})
    assert err.reason == "self_intersection"
    assert err.location is not None
    assert err.path in ("coordinates[0][0]", "coordinates[1][0]")


def test_ring_self_intersection() -> None:
    # the ring touches itself at (106.05, 31.55): an inverted shell
    ring = [
        [106.0, 31.5],
        [106.1, 31.5],
        [106.05, 31.55],
        [106.1, 31.6],
        [106.0, 31.6],
        [106.05, 31.55],
        [106.0, 31.5],
    ]
    err = refused(polygon(ring))
    assert err.reason == "ring_self_intersection"
    assert err.location == pytest.approx((106.05, 31.55))
    assert err.path == "coordinates[0]"


def test_other_geos_faults_are_invalid_with_their_location() -> None:
    outside_hole = [[x + 0.5, y] for x, y in HOLE]
    err = refused(polygon(SHELL, outside_hole))
    assert err.reason == "invalid"
    assert "Hole lies outside shell" in err.message
    assert err.location == (106.54, 31.54)
    assert err.path == "coordinates[1]"


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        ("POLYGON ((0 0, 1 0, 1 1, 0 0))", ""),
        ({"type": "Polygon", "coordinates": "[[0, 0]]"}, "coordinates"),
        ({"type": "Polygon", "coordinates": [SHELL[0]]}, "coordinates[0][0]"),
        (
            {"type": "Polygon", "coordinates": [[[106.0, "31.5"]] + SHELL[1:]]},
            "coordinates[0][0][1]",
        ),
        (
            {"type": "Polygon", "coordinates": [SHELL[:2] + [[106.1, True]] + SHELL[3:]]},
            "coordinates[0][2][1]",
        ),
        (
            {"type": "Polygon", "coordinates": [SHELL[:2] + [[106.1]] + SHELL[3:]]},
            "coordinates[0][2]",
        ),
        (
            {"type": "Polygon", "coordinates": [SHELL[:2] + [[1, 2, 3, 4]] + SHELL[3:]]},
            "coordinates[0][2]",
        ),
        ({"type": "Polygon", "coordinates": [SHELL[:2] + [None] + SHELL[3:]]}, "coordinates[0][2]"),
        ({"type": "MultiPolygon", "coordinates": [[SHELL], "x"]}, "coordinates[1]"),
        ({"type": "Feature", "geometry": "POLYGON EMPTY"}, "geometry"),
    ],
)
def test_malformed_input_names_the_path(obj: object, path: str) -> None:
    err = refused(obj)
    assert err.reason == "malformed"
    assert err.path == path


def test_huge_integers_are_out_of_range_not_a_crash() -> None:
    assert refused(polygon([[10**400, 0]] + SHELL[1:])).reason == "out_of_range"


def test_every_reason_is_reachable() -> None:
    # each reason above has its own test; this guards the list against drifting
    assert set(REASONS) == {
        "empty", "wrong_type", "unclosed_ring", "too_few_points", "nan_coordinate",
        "out_of_range", "too_many_vertices", "self_intersection", "ring_self_intersection",
        "invalid", "malformed",
    }  # fmt: skip


# --- shapely geometries from files ----------------------------------------------------------


def test_check_polygonal_accepts_and_orients() -> None:
    clockwise = shapely.Polygon(SHELL[::-1], [HOLE[::-1]])
    result = check_polygonal(clockwise)
    assert isinstance(result, shapely.MultiPolygon)
    assert result.geoms[0].exterior.is_ccw and not result.geoms[0].interiors[0].is_ccw
    both = shapely.MultiPolygon([shapely.Polygon(SHELL), shapely.box(107, 31, 107.1, 31.1)])
    assert check_polygonal(both).equals(both)


@pytest.mark.parametrize(
    ("geom", "reason"),
    [
        (None, "empty"),
        (shapely.Polygon(), "empty"),
        (shapely.Point(106, 31.5), "wrong_type"),
        (shapely.GeometryCollection([shapely.Polygon(SHELL)]), "wrong_type"),
        ("POLYGON ((0 0, 1 0, 1 1, 0 0))", "wrong_type"),
        (shapely.Polygon([(0, 0), (200, 0), (1, 1)]), "out_of_range"),
    ],
)
def test_check_polygonal_refusals(geom: object, reason: str) -> None:
    with pytest.raises(GeometryError) as caught:
        check_polygonal(geom)
    assert caught.value.reason == reason


def test_check_polygonal_locates_faults() -> None:
    bow_tie = shapely.Polygon([(106.0, 31.5), (106.1, 31.6), (106.1, 31.5), (106.0, 31.6)])
    with pytest.raises(GeometryError) as caught:
        check_polygonal(bow_tie)
    err = caught.value
    assert (err.reason, err.path) == ("self_intersection", "coordinates[0]")
    assert err.location == pytest.approx((106.05, 31.55))
    with pytest.raises(GeometryError) as caught:
        check_polygonal(shapely.Polygon(SHELL), max_vertices=4)
    assert caught.value.reason == "too_many_vertices"


def test_validity_reasons_checks_a_layer_at_once() -> None:
    good = shapely.Polygon(SHELL)
    far = shapely.MultiPolygon([good, shapely.Polygon([(0, 0), (1, 0), (1, 95), (0, 0)])])
    with np.errstate(invalid="ignore"):
        nan = shapely.Polygon([(0, 0), (1, 0), (np.nan, 1), (0, 0)])
    bow_tie = shapely.Polygon([(106.0, 31.5), (106.1, 31.6), (106.1, 31.5), (106.0, 31.6)])
    faults = validity_reasons(
        np.array([good, far, nan, bow_tie, None, shapely.LineString(SHELL)], dtype=object)
    )
    reasons = [None if f is None else f.reason for f in faults]
    assert reasons == [
        None, "out_of_range", "nan_coordinate", "self_intersection", "empty", "wrong_type"
    ]  # fmt: skip
    assert (faults[1].path, faults[1].location) == ("coordinates[1][0][2]", (1.0, 95.0))
    assert faults[2].path == "coordinates[0][2]"
    assert faults[3].location == pytest.approx((106.05, 31.55))
    assert validity_reasons([]).shape == (0,)
    assert validity_reasons(np.array([[good, None]], dtype=object)).shape == (1, 2)


def test_validity_reasons_on_ten_thousand_features_finds_the_one_fault() -> None:
    x = np.repeat(np.arange(100) * 0.01 + 105.0, 100)
    y = np.tile(np.arange(100) * 0.01 + 31.0, 100)
    cells = shapely.box(x, y, x + 0.01, y + 0.01)
    cells[17] = shapely.Polygon([(105.0, 31.0), (105.1, 31.1), (105.1, 31.0), (105.0, 31.1)])
    faults = validity_reasons(cells)
    assert [i for i, fault in enumerate(faults) if fault is not None] == [17]


# --- points -----------------------------------------------------------------------------------


def test_parse_point() -> None:
    assert parse_point(106, 31.5) == (106.0, 31.5)
    assert parse_point(" 106.5 ", "31.5") == (106.5, 31.5)
    assert parse_point(np.float32(106.5), np.int64(31)) == (106.5, 31.0)


@pytest.mark.parametrize(
    ("lon", "lat", "reason"),
    [
        (None, 31.5, "malformed"),
        (True, 31.5, "malformed"),
        ("east", 31.5, "malformed"),
        ("", 31.5, "malformed"),
        ([106], 31.5, "malformed"),
        ("nan", 31.5, "nan_coordinate"),
        (106.0, float("inf"), "nan_coordinate"),
        (181.0, 31.5, "out_of_range"),
        (106.0, -90.5, "out_of_range"),
    ],
)
def test_parse_point_refusals(lon: object, lat: object, reason: str) -> None:
    with pytest.raises(GeometryError) as caught:
        parse_point(lon, lat)
    assert caught.value.reason == reason


def test_parse_point_within_bounds() -> None:
    with pytest.raises(GeometryError) as caught:
        parse_point(107.5, 31.5, bounds=(105.0, 31.0, 107.0, 32.0))
    assert (caught.value.reason, caught.value.location) == ("out_of_range", (107.5, 31.5))


def test_point_faults_on_a_numeric_column() -> None:
    lon = np.array([106.0, np.nan, 200.0, 120.0, 106.0, np.inf])
    lat = np.array([31.5, 31.5, 31.5, 31.5, 91.0, 31.5])
    faults = point_faults(lon, lat, bounds=(105.0, 31.0, 107.0, 32.0))
    assert faults.tolist() == [
        None, "nan_coordinate", "out_of_range", "outside_bounds", "out_of_range", "nan_coordinate"
    ]  # fmt: skip
    assert point_faults(lon, lat).tolist()[3] is None


def test_point_faults_on_text_columns() -> None:
    lon = np.array(["106.0", "", "east", " 106.2 ", "nan"])
    lat = ["31.5", "31.5", "31.5", "31.6", "31.5"]
    assert point_faults(lon, lat).tolist() == [
        None, "nan_coordinate", "malformed", None, "nan_coordinate"
    ]  # fmt: skip
    mixed = np.array([106.0, None, True, "106.1"], dtype=object)
    assert point_faults(mixed, [31.5] * 4).tolist() == [None, "nan_coordinate", "malformed", None]
    assert point_faults([True], [31.5]).tolist() == ["malformed"]


def test_point_faults_empty_and_mismatched() -> None:
    assert point_faults([], []).shape == (0,)
    with pytest.raises(ValueError, match="same shape"):
        point_faults([1.0, 2.0], [1.0])


def test_point_faults_on_a_million_points() -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(105, 107, 1_000_000)
    lat = rng.uniform(31, 32, 1_000_000)
    faults = point_faults(lon, lat, bounds=(105.0, 31.0, 107.0, 32.0))
    assert faults.shape == (1_000_000,)
    assert not any(faults)
