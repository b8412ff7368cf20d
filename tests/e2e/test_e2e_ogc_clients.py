"""The OGC API as GIS users reach it: Debian's GDAL (ogrinfo, the README's recipe word for
word) and OWSLib, against the live server.

ogrinfo runs as a child process, as on a desktop; OWSLib runs in this process (its HTTP
waits release the GIL, so the live server's thread serves it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import shapely
from sqlalchemy import text

from app.services.auth import issue_token
from tests.factories import X0, Y0, add_user, build_world

C = "511381001001"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def tokens(session):
    world = build_world(session)
    # The NW grid becomes the triangle below its diagonal: its envelope still covers the
    # north-east corner of the square, its geometry does not.
    session.execute(
        text(
            "UPDATE areas SET geom = ST_SetSRID(ST_Multi(ST_MakePolygon(ST_MakeLine(ARRAY["
            "ST_MakePoint(:x0, :y1), ST_MakePoint(:x0, :y2), ST_MakePoint(:x1, :y1), "
            "ST_MakePoint(:x0, :y1)]))), 4326) WHERE code = :code"
        ),
        {"x0": X0, "x1": X0 + 0.01, "y1": Y0 + 0.01, "y2": Y0 + 0.02, "code": f"{C}001"},
    )
    add_user(session, "gis", "planner")
    add_user(session, "w", "worker", grids=[world.grids["SE"]])
    tokens = {"planner": issue_token(session, "gis"), "worker": issue_token(session, "w")}
    session.commit()
    return tokens


def readme_recipe() -> str:
    """The README's ogrinfo command line."""
    found = re.search(r"^GDAL_HTTP_HEADERS=.*ogrinfo.*$", README.read_text(), re.MULTILINE)
    assert found, "the README has no GDAL recipe"
    return found.group(0)


def run_recipe(live_server: str, token: str) -> subprocess.CompletedProcess:
    if not shutil.which("ogrinfo"):
        pytest.fail("no ogrinfo: `make test` installs Debian's gdal-bin")
    command = readme_recipe().replace("http://127.0.0.1:5000", live_server)
    env = {**os.environ, "TOKEN": token, "GDAL_HTTP_TIMEOUT": "20", "CPL_DEBUG": "OFF"}
    return subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=90
    )


def test_the_readme_recipe_works_with_debian_gdal(live_server, tokens):
    done = run_recipe(live_server, tokens["planner"])
    assert done.returncode == 0, done.stderr
    assert "Layer name: grids" in done.stdout
    assert "Feature Count: 4" in done.stdout
    assert "Extent: (105.960000, 31.570000) - (105.980000, 31.590000)" in done.stdout


def test_ogrinfo_as_a_worker_sees_the_extent_of_their_grid(live_server, tokens):
    done = run_recipe(live_server, tokens["worker"])
    assert done.returncode == 0, done.stderr
    assert "Feature Count: 1" in done.stdout
    assert "Extent: (105.970000, 31.570000) - (105.980000, 31.580000)" in done.stdout


def test_ogrinfo_with_a_bad_token_is_refused(live_server, tokens):
    done = run_recipe(live_server, "wg_not-a-token")
    assert done.returncode != 0
    assert "401" in done.stderr


def owslib_features(live_server: str, token: str):
    from owslib.ogcapi.features import Features

    return Features(f"{live_server}/ogc", headers={"Authorization": f"Bearer {token}"})


def test_owslib_reads_the_api_definition_and_the_collections(live_server, tokens):
    api = owslib_features(live_server, tokens["planner"])
    definition = api.api()
    assert definition["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in definition["paths"]
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in api.conformance()["conformsTo"]
    )
    assert sorted(api.feature_collections()) == [
        "communities",
        "districts",
        "grids",
        "microgrids",
        "streets",
    ]
    grids = api.collection("grids")
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx([105.96, 31.57, 105.98, 31.59])
    worker = owslib_features(live_server, tokens["worker"]).collection("grids")
    assert worker["extent"]["spatial"]["bbox"][0] == pytest.approx([105.97, 31.57, 105.98, 31.58])


def test_owslib_bbox_selects_what_intersects_and_limit_is_clamped(live_server, tokens):
    api = owslib_features(live_server, tokens["planner"])
    # The NW square's north-east corner: inside the triangle's envelope, outside the triangle.
    corner = [X0 + 0.007, Y0 + 0.017, X0 + 0.0095, Y0 + 0.0195]
    assert api.collection_items("grids", bbox=corner)["features"] == []
    diagonal = api.collection_items("grids", bbox=[X0 + 0.001, Y0 + 0.011, X0 + 0.003, Y0 + 0.013])
    assert [f["id"] for f in diagonal["features"]] == [f"{C}001"]
    triangle = shapely.geometry.shape(diagonal["features"][0]["geometry"])
    assert triangle.area == pytest.approx(0.00005)
    with_heights = api.collection_items(
        "grids", bbox=[X0 + 0.001, Y0 + 0.011, 0, X0 + 0.003, Y0 + 0.013, 100]
    )
    assert [f["id"] for f in with_heights["features"]] == [f"{C}001"]
    page = api.collection_items("grids", limit=50_000)
    assert (page["numberMatched"], page["numberReturned"]) == (4, 4)
    first = api.collection_items("grids", limit=3)
    assert (first["numberMatched"], first["numberReturned"]) == (4, 3)
    following = next(link for link in first["links"] if link["rel"] == "next")
    assert "offset=3" in following["href"] and following["type"] == "application/geo+json"
