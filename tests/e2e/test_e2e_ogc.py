"""GDAL's OGC API - Features client (the OAPIF driver, as QGIS uses) reads the grids.

GDAL runs in a child process, as a desktop GIS would: pyogrio holds the GIL while GDAL
waits on HTTP, which would starve the live server's thread in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import shapely
from shapely import box

from app.services.auth import issue_token
from tests.e2e.browser import log_in
from tests.factories import STEP, X0, Y0, add_user, build_world

C = "511381001001"
CLIENT = r"""
import json, sys
import pyogrio
source, layer, bbox = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
try:
    layers = sorted(name for name, _ in pyogrio.list_layers(source))
    frame = pyogrio.read_dataframe(source, layer=layer, bbox=tuple(bbox) if bbox else None)
except pyogrio.errors.DataSourceError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(0)
print(json.dumps({"layers": layers, "codes": list(frame["code"]),
                  "wkt": [g.wkt for g in frame.geometry]}))
"""


@pytest.fixture
def tokens(session):
    world = build_world(session)
    add_user(session, "gis", "planner")
    add_user(session, "w", "worker", grids=[world.grids["SE"]])
    tokens = {"planner": issue_token(session, "gis"), "worker": issue_token(session, "w")}
    session.commit()
    return tokens


def gdal_read(live_server: str, token: str, layer: str = "grids", bbox=None) -> dict:
    # pyogrio's own GDAL (3.9 and later) has GDAL_HTTP_AUTH=BEARER; Debian 12's ogrinfo (GDAL
    # 3.6) does not, and the README's recipe sends the header itself (test_e2e_ogc_clients.py).
    env = {
        **os.environ,
        "GDAL_HTTP_AUTH": "BEARER",
        "GDAL_HTTP_BEARER": token,
        "GDAL_HTTP_TIMEOUT": "20",
    }
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, f"OAPIF:{live_server}/ogc", layer, json.dumps(bbox)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_gdal_lists_the_collections_and_reads_grids_with_bbox(live_server, tokens):
    result = gdal_read(live_server, tokens["planner"])
    assert result["layers"] == ["communities", "districts", "grids", "microgrids", "streets"]
    cells = {
        f"{C}001": box(X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP),
        f"{C}002": box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP),
        f"{C}003": box(X0, Y0, X0 + STEP, Y0 + STEP),
        f"{C}004": box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP),
    }
    assert sorted(result["codes"]) == sorted(cells)
    for code, wkt in zip(result["codes"], result["wkt"]):
        assert shapely.hausdorff_distance(shapely.from_wkt(wkt), cells[code]) < 1e-7
    west = gdal_read(
        live_server, tokens["planner"], bbox=[X0 + 0.001, Y0 + 0.001, X0 + 0.004, Y0 + 0.019]
    )
    assert sorted(west["codes"]) == [f"{C}001", f"{C}003"]


def test_a_worker_reads_only_their_grid_and_a_bad_token_is_refused(live_server, tokens):
    assert gdal_read(live_server, tokens["worker"])["codes"] == [f"{C}004"]
    refused = gdal_read(live_server, "wg_not-a-token")
    assert "401" in refused["error"]


def test_the_api_docs_page_renders_every_operation(live_server, open_page, session):
    add_user(session, "docs", "planner")
    session.commit()
    page, watch = open_page()
    log_in(page, "docs")
    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock-summary", timeout=15_000)
    shown = page.locator(".opblock").count()
    spec = page.evaluate("fetch('/api/v1/openapi.json').then(r => r.json())")
    operations = sum(len(item) for item in spec["paths"].values())
    assert shown == operations > 15
    assert watch.problems() == []
