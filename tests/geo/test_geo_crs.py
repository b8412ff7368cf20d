from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import (
    CHINA_BOUNDS,
    area_m2,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_metric,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometry_to_wgs84,
    in_china,
    length_m,
    local_metric_crs,
    parse_crs,
    to_metric,
    to_wgs84,
    utm_epsg,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

MINX, MINY, MAXX, MAXY = CHINA_BOUNDS
GEOD = pyproj.Geod(ellps="WGS84")


def metres_apart(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


china_lon = st.floats(MINX, MAXX, allow_nan=False)
china_lat = st.floats(MINY, MAXY, allow_nan=False)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        (None, "wgs84"),
        ("", "wgs84"),
        ("  ", "wgs84"),
        ("WGS84", "wgs84"),
        ("cgcs2000", "cgcs2000"),
        ("GCJ02", "gcj02"),
        ("Bd09", "bd09"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4490", "cgcs2000"),
    ],
)
def test_parse_crs(given_name: str | None, expected: str) -> None:
    assert parse_crs(given_name) == expected


@pytest.mark.parametrize("name", ["gcj-02", "epsg:3857", "baidu", "wgs 84", "4326"])
def test_parse_crs_refuses_unknown_names_and_lists_the_allowed_ones(name: str) -> None:
    with pytest.raises(ValueError, match="wgs84, cgcs2000, gcj02, bd09") as caught:
        parse_crs(name)
    assert repr(name) in str(caught.value)


def test_parse_crs_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        parse_crs(4326)  # type: ignore[arg-type]


# --- published reference values -------------------------------------------------------------


def test_wgs84_to_gcj02_matches_the_published_value_for_tiananmen() -> None:
    lon, lat = wgs84_to_gcj02(116.397428, 39.90923)
    assert abs(lon - 116.403674) < 1e-5
    assert abs(lat - 39.910637) < 1e-5


def test_the_published_forward_formulas_are_reproduced_exactly() -> None:
    # Values printed by the widely used coordtransform implementation for (116.404, 39.915).
    assert np.allclose(
        wgs84_to_gcj02(116.404, 39.915), (116.41024449916938, 39.91640428150164), atol=1e-11
    )
    assert np.allclose(
        gcj02_to_bd09(116.404, 39.915), (116.41036949371029, 39.92133699351022), atol=1e-11
    )


def test_bd09_inverse_refines_the_published_closed_form() -> None:
    closed_form = np.array([116.39762729119315, 39.90865673957631])
    refined = np.array(bd09_to_gcj02(116.404, 39.915), dtype=float)
    # within a few centimetres of the closed form ...
    assert metres_apart(*closed_form, *refined) < 0.1
    # ... and an exact inverse, which the closed form is not
    forward_of_refined = np.array(gcj02_to_bd09(*refined), dtype=float)
    forward_of_closed = np.array(gcj02_to_bd09(*closed_form), dtype=float)
    assert metres_apart(*forward_of_refined, 116.404, 39.915) < 1e-4
    assert metres_apart(*forward_of_closed, 116.404, 39.915) > 0.01


# --- inverses -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_is_within_a_millimetre_in_china(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres_apart(lon, lat, *back) < 1e-3


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trip_is_within_a_millimetre_in_china(lon: float, lat: float) -> None:
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres_apart(lon, lat, *back) < 1e-3
    gcj = wgs84_to_gcj02(lon, lat)
    assert metres_apart(*gcj, *bd09_to_gcj02(*gcj02_to_bd09(*gcj))) < 1e-3


def test_inverses_over_a_million_points_in_china_stay_under_a_centimetre() -> None:
    rng = np.random.default_rng(2024)
    lon = rng.uniform(MINX, MAXX, 200_000)
    lat = rng.uniform(MINY, MAXY, 200_000)
    assert metres_apart(lon, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))).max() < 1e-3
    assert metres_apart(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))).max() < 1e-3


def test_offsets_are_hundreds_of_metres_in_china() -> None:
    lon, lat = 105.97, 31.58  # Langzhong
    assert 100 < metres_apart(lon, lat, *wgs84_to_gcj02(lon, lat)) < 1500
    assert 300 < metres_apart(lon, lat, *wgs84_to_bd09(lon, lat)) < 1500


def test_points_inside_the_box_up_to_its_edge_round_trip() -> None:
    # Their GCJ-02 image may lie outside the box; the inverse still finds them.
    side = np.linspace(0.0, 1.0, 101)
    lon = np.concatenate(
        [MINX + side * (MAXX - MINX)] * 2 + [np.full(101, MINX), np.full(101, MAXX)]
    )
    lat = np.concatenate(
        [np.full(101, MINY), np.full(101, MAXY)] + [MINY + side * (MAXY - MINY)] * 2
    )
    assert in_china(lon, lat).all()
    assert not in_china(*wgs84_to_gcj02(lon, lat)).all()
    assert metres_apart(lon, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))).max() < 1e-3


# (geodesic distances are not defined at the poles themselves)
outside_china = st.one_of(
    st.tuples(st.floats(-180, MINX - 0.1), st.floats(-89, 89)),
    st.tuples(st.floats(MAXX + 0.1, 180), st.floats(-89, 89)),
    st.tuples(st.floats(-180, 180), st.floats(-89, MINY - 0.1)),
    st.tuples(st.floats(-180, 180), st.floats(MAXY + 0.1, 89)),
)


@settings(max_examples=200, deadline=None)
@given(outside_china)
def test_gcj02_is_the_identity_outside_china(point: tuple[float, float]) -> None:
    lon, lat = point
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert metres_apart(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) < 1e-3


def test_conversions_are_vectorized_and_keep_shapes() -> None:
    lon = np.array([[106.0, 120.0], [-0.1, 116.4]])
    lat = np.array([[31.5, 30.0], [51.5, 39.9]])
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
        x, y = convert(lon, lat)
        assert x.shape == y.shape == (2, 2)
        assert x.dtype == y.dtype == np.float64
    x, y = wgs84_to_gcj02(lon, lat)
    assert (x[1, 0], y[1, 0]) == (-0.1, 51.5)  # London is untouched
    assert lon[0, 0] == 106.0  # the inputs are untouched


def test_scalars_give_zero_dimensional_arrays_and_empty_gives_empty() -> None:
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, bd09_to_wgs84):
        x, y = convert(106.0, 31.5)
        assert np.ndim(x) == 0 and np.ndim(y) == 0
        x, y = convert([], [])
        assert x.shape == y.shape == (0,)


def test_nan_passes_through() -> None:
    x, y = gcj02_to_wgs84([np.nan, 106.0], [31.5, 31.5])
    assert np.isnan(x[0]) and np.isfinite(y).all()


@pytest.mark.parametrize("crs", ["wgs84", "cgcs2000", "EPSG:4490", None])
def test_to_wgs84_leaves_wgs84_and_cgcs2000_alone(crs: str | None) -> None:
    lon, lat = to_wgs84([106.0, 106.1], [31.5, 31.6], crs)
    assert lon.tolist() == [106.0, 106.1] and lat.tolist() == [31.5, 31.6]


def test_to_wgs84_dispatches_on_the_name() -> None:
    assert np.array_equal(to_wgs84(106.0, 31.5, "GCJ02"), gcj02_to_wgs84(106.0, 31.5))
    assert np.array_equal(to_wgs84(106.0, 31.5, "bd09"), bd09_to_wgs84(106.0, 31.5))
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(106.0, 31.5, "mars")


def test_geometry_to_wgs84_converts_every_vertex_and_keeps_z_and_shape() -> None:
    ring = [(106.0, 31.5, 7.0), (106.1, 31.5, 8.0), (106.1, 31.6, 9.0), (106.0, 31.5, 7.0)]
    polygon = shapely.Polygon(ring)
    converted = geometry_to_wgs84(polygon, "gcj02")
    coords = shapely.get_coordinates(converted, include_z=True)
    expected_x, expected_y = gcj02_to_wgs84(*np.array(ring)[:, :2].T)
    assert np.allclose(coords[:, 0], expected_x, atol=1e-12)
    assert np.allclose(coords[:, 1], expected_y, atol=1e-12)
    assert coords[:, 2].tolist() == [7.0, 8.0, 9.0, 7.0]

    layer = np.array([polygon, None, shapely.Point(106.0, 31.5)], dtype=object)
    out = geometry_to_wgs84(layer, "bd09")
    assert out.shape == (3,) and out[1] is None
    assert geometry_to_wgs84(polygon, "cgcs2000") is polygon


# --- metric ----------------------------------------------------------------------------------


def test_utm_zones() -> None:
    assert utm_epsg(105.97, 31.58) == 32648
    assert utm_epsg(-70.6, -33.4) == 32719
    assert utm_epsg(180.0, 0.0) == 32660
    assert utm_epsg(-180.0, -0.1) == 32701
    with pytest.raises(ValueError):
        utm_epsg(190.0, 0.0)


def test_local_metric_crs_accepts_geometries_layers_and_bounds() -> None:
    assert local_metric_crs(shapely.box(105.9, 31.5, 106.1, 31.7)).to_epsg() == 32648
    assert local_metric_crs((113.9, 22.4, 114.3, 22.6)).to_epsg() == 32650
    layer = np.array([shapely.Point(120.1, 30.2), None, shapely.Point(120.3, 30.3)])
    assert local_metric_crs(layer).to_epsg() == 32651
    assert local_metric_crs(shapely.Point(151.2, -33.9)).to_epsg() == 32756


@pytest.mark.parametrize(
    "bad",
    [shapely.Polygon(), np.array([None, shapely.Point()]), (1.0, 2.0, 0.0, 3.0), (1, 2, 3), "x"],
)
def test_local_metric_crs_refuses_what_has_no_position(bad: object) -> None:
    with pytest.raises(ValueError):
        local_metric_crs(bad)


def test_area_of_a_one_kilometre_square_is_right_within_a_tenth_of_a_percent() -> None:
    crs = local_metric_crs(shapely.Point(106.0, 31.5))
    centre = to_metric(shapely.Point(106.0, 31.5), crs)
    square = from_metric(
        shapely.box(centre.x - 500, centre.y - 500, centre.x + 500, centre.y + 500), crs
    )
    assert area_m2(square) == pytest.approx(1e6, rel=1e-3)
    assert length_m(square) == pytest.approx(4000.0, rel=1e-3)
    geodesic_area = abs(GEOD.geometry_area_perimeter(square)[0])
    assert area_m2(square) == pytest.approx(geodesic_area, rel=1e-3)


def test_area_and_length_measure_each_geometry_in_its_own_zone() -> None:
    squares = []
    for lon, lat in [(106.0, 31.5), (121.5, 31.2), (87.6, 43.8)]:
        crs = local_metric_crs(shapely.Point(lon, lat))
        c = to_metric(shapely.Point(lon, lat), crs)
        squares.append(from_metric(shapely.box(c.x, c.y, c.x + 1000, c.y + 1000), crs))
    squares += [shapely.Polygon(), None]
    areas = area_m2(np.array(squares, dtype=object))
    geodesic = [GEOD.geometry_area_perimeter(shapely.segmentize(s, 1e-4)) for s in squares[:3]]
    assert np.allclose(areas[:3], [abs(a) for a, _ in geodesic], rtol=1e-6)
    assert np.allclose(areas[:3], 1e6, rtol=2e-3)  # UTM squares are not quite square metres
    assert areas[3] == 0.0 and np.isnan(areas[4])
    assert area_m2([]).shape == (0,)
    lengths = length_m(np.array(squares[:3], dtype=object))
    assert np.allclose(lengths, [p for _, p in geodesic], rtol=1e-6)


def test_to_metric_and_back_is_the_identity() -> None:
    shape = shapely.Polygon([(106.0, 31.5), (106.1, 31.5), (106.05, 31.6)])
    crs = local_metric_crs(shape)
    there = to_metric(shape, crs)
    assert there.bounds[0] > 100_000  # metres, not degrees
    back = from_metric(there, crs)
    assert np.allclose(shapely.get_coordinates(back), shapely.get_coordinates(shape), atol=1e-9)
    assert to_metric(shape).equals_exact(there, 1e-6)
    assert to_metric(np.array([shape, None]), crs)[1] is None


@pytest.mark.parametrize(
    ("lon", "lat"), [(105.0, 31.5), (107.99, 31.5), (102.01, 0.5), (125.9, 50.0), (-70.6, -33.4)]
)
@pytest.mark.parametrize(("half_side", "rel"), [(0.005, 1e-7), (0.25, 2e-5)])
def test_area_and_length_agree_with_the_geodesic_ones_anywhere_in_a_zone(
    lon: float, lat: float, half_side: float, rel: float
) -> None:
    box = shapely.box(lon - half_side, lat - half_side, lon + half_side, lat + half_side)
    area, perimeter = GEOD.geometry_area_perimeter(shapely.segmentize(box, 1e-4))
    assert area_m2(box) == pytest.approx(abs(area), rel=rel)
    assert length_m(box) == pytest.approx(perimeter, rel=rel)


def test_a_sliver_without_width_in_degrees_has_no_area() -> None:
    # points along one meridian: collinear in degrees, not in UTM unless edges are densified
    sliver = shapely.Polygon([(106.2, 31.5), (106.2, 31.7), (106.2, 31.6), (106.2, 31.5)])
    assert area_m2(sliver) < 1e-3
