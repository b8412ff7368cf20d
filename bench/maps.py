"""Coverage map benchmark: the leaders' map of a 10,000-grid, 1,000,000-household district.

    .venv/bin/python bench/maps.py [--households 1000000] [--grids 10000] [--reuse]
                                   [--tiles-per-zoom 60] [--database-url URL] [--build-only]

Builds the synthetic city of ``bench/assign.py`` (same builder, its own database, whose name
must end in ``_bench``), assigns the households, tags one in 16 as vulnerable, then measures
in one run (SPEC §4: page under 2 MB, rendered in headless Chromium under 3 s):

1. the weight of ``/map/coverage``: its HTML plus every same-origin script, stylesheet and
   tile the browser loads for the initial view;
2. the time from navigation until the tiles of the initial view are drawn and the map is idle
   (Playwright driving Debian's ``/usr/bin/chromium``);
3. tile latency p50 / p95 / p99 of ``/tiles/{layer}/{z}/{x}/{y}.pbf`` for each layer over the
   tiles that cover the city at several zooms;
4. the baseline: the 10,000 grids embedded as GeoJSON in a Folium page (the old coverage
   map), its weight and render time in the same browser, and the ratios.

Exits 0 whether or not a bar is met, non-zero only on errors.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench import assign as city_bench  # noqa: E402
from bench.assign import (  # noqa: E402
    libpq_url,
    percentiles_ms,
    phase,
    print_summary,
    record,
    step,
    timed,
)

DEFAULT_URL = "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge_maps_bench"
CHROMIUM = os.environ.get("WANGGE_CHROMIUM", "/usr/bin/chromium")
PAGE_BAR_BYTES = 2 * 1024 * 1024
RENDER_BAR_S = 3.0
VIEWPORT = {"width": 1280, "height": 800}
LAYERS = ("streets", "communities", "grids", "households")
ZOOMS = (11, 12, 13, 14, 15, 16)
VULNERABLE_EVERY = 16
BENCH_USER, BENCH_PASSWORD = "bench-leader", "bench-password-123"


# --------------------------------------------------------------------------- the district


def build_district(app, url: str, grids: int, households: int, seed: int) -> None:
    """The city of bench/assign.py, assigned, with vulnerable households and a leader."""
    rng = np.random.default_rng(seed)
    city = city_bench.make_city(grids, rng)
    with phase(f"load {grids:,} grids"):
        city_bench.load_areas(url, city)
    with phase(f"load {households:,} households"):
        seconds, points = timed(city_bench.make_households, households, city, rng)
        step("generate points (numpy)", seconds)
        city_bench.load_households(url, points)
    with phase("assign and tag"):
        from app.extensions import db
        from app.services.assignment import assign_all

        with app.app_context():
            seconds, _ = timed(assign_all, db.session)
            step("assign_all", seconds)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            seconds, _ = timed(
                conn.execute,
                f"UPDATE households SET tags = ARRAY['elderly_alone'] "
                f"WHERE id % {VULNERABLE_EVERY} = 0",
            )
            step(f"tag 1 in {VULNERABLE_EVERY} households vulnerable", seconds)
            # as autovacuum soon would: index-only counts per grid need the visibility map
            conn.execute("VACUUM ANALYZE households, household_grid")


def ensure_leader(app) -> None:
    from app.extensions import db
    from app.models import User
    from app.services.auth import create_user

    with app.app_context():
        if db.session.scalar(text("SELECT 1 FROM users WHERE username = :u"), {"u": BENCH_USER}):
            return
        create_user(db.session, BENCH_USER, role="leader", password=BENCH_PASSWORD)
        db.session.commit()
        assert db.session.query(User).filter_by(username=BENCH_USER).one()


# --------------------------------------------------------------------------- serving


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def city_tiles(bounds, z: int, limit: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """The tiles covering the city at zoom z (a random sample of ``limit`` when more)."""
    west, south, east, north = bounds
    x0, y0 = tile_xy(west, north, z)
    x1, y1 = tile_xy(east, south, z)
    tiles = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(tiles) > limit:
        tiles = [tiles[i] for i in rng.choice(len(tiles), limit, replace=False)]
    return tiles


def city_bounds(app) -> tuple[float, float, float, float]:
    from app.extensions import db
    from app.store.coverage import live_bounds

    with app.app_context():
        return live_bounds(db.session, None)


# --------------------------------------------------------------------------- browser


def log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(BENCH_USER)
    page.get_by_label("密码").fill(BENCH_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


class Weigher:
    """Bytes of the same-origin responses a page loads, split into tiles and the rest."""

    def __init__(self, base: str):
        self.base = base
        self.page_bytes = 0
        self.tile_bytes = 0
        self.tiles = 0
        self.html_seconds = 0.0

    def on_finished(self, request) -> None:
        """Counted once the body has arrived: on ``response`` (headers only) a fetch()'s
        body and sizes still read empty."""
        if not request.url.startswith(self.base):
            return
        response = request.response()
        try:
            size = len(response.body()) if response else 0
        except Exception:  # fetch() bodies are not always kept
            size = 0
        if not size:  # the size the browser received
            size = request.sizes()["responseBodySize"]
        if "/tiles/" in request.url:
            self.tile_bytes += size
            self.tiles += 1
        else:
            self.page_bytes += size


def render_coverage(browser, base: str, level: str | None = None) -> tuple[float, Weigher]:
    """Seconds from navigation until the initial view's tiles are drawn, and the weight
    (``level``: open on that level, else on the one the page picks for the scope)."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, base)
        weigher = Weigher(base)
        page.on("requestfinished", weigher.on_finished)
        started = time.perf_counter()
        query = f"?level={level}" if level else ""
        page.goto(f"{base}/map/coverage{query}", wait_until="commit")
        weigher.html_seconds = time.perf_counter() - started
        page.wait_for_selector(
            '.map-frame .folium-map[data-units-loaded="1"]',
            state="attached",
            timeout=120_000,
        )
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        seconds = time.perf_counter() - started
        page.wait_for_load_state("networkidle")
        return seconds, weigher
    finally:
        context.close()


def folium_baseline_html(app) -> str:
    """The old coverage map: every grid embedded as GeoJSON in a Folium page."""
    import folium

    from app.extensions import db
    from app.store import coverage as store
    from app.web.folium_kit import classify, new_map, render

    with app.test_request_context():
        grids = store.grid_features(db.session, None)
        bounds = store.live_bounds(db.session, None)
        classes = classify([f["properties"]["households"] for f in grids])
        m = new_map(bounds)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": grids},
            style_function=lambda f: {
                "fillColor": classes.color(f["properties"]["households"]),
                "fillOpacity": 0.65,
                "color": "#555",
                "weight": 1,
            },
            popup=folium.GeoJsonPopup(["code", "name", "households"]),
        ).add_to(m)
        parts = render(m)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{parts.header}</head>"
        f"<body><div style='height:760px'>{parts.html}</div><script>{parts.script}</script>"
        "</body></html>"
    )


def render_baseline(browser, base: str, html: str, grids: int) -> tuple[float, Weigher]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        url = f"{base}/bench-folium-baseline"
        page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
        weigher = Weigher(base)
        weigher.page_bytes += len(html.encode())
        page.on("requestfinished", weigher.on_finished)
        started = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=300_000)
        page.wait_for_function(
            f"document.querySelectorAll('path.leaflet-interactive').length >= {grids}",
            timeout=300_000,
            polling=100,
        )
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        return time.perf_counter() - started, weigher
    finally:
        context.close()


def bench_browser(app, base: str, repeats: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            # The district opens on its communities (over 2,000 grids); a leader asks for
            # the grids with one click or ?level=grid. Both are timed.
            runs = [render_coverage(browser, base) for _ in range(repeats)]
            grid_runs = [render_coverage(browser, base, "grid") for _ in range(repeats)]
            seconds = statistics.median(r[0] for r in runs)
            grid_seconds = statistics.median(r[0] for r in grid_runs)
            weigher = runs[-1][1]
            for name, series in (("opening view", runs), ("?level=grid", grid_runs)):
                for i, (s, w) in enumerate(series, 1):
                    step(
                        f"coverage page, {name}, run {i}: {w.page_bytes / 1024:.0f} KB page, "
                        f"{w.tiles} tiles {w.tile_bytes / 1024:.0f} KB, "
                        f"HTML after {w.html_seconds:.2f} s",
                        s,
                    )
            total = weigher.page_bytes + weigher.tile_bytes
            record(
                "coverage page weight (HTML + assets)",
                f"{weigher.page_bytes / 1024:.0f} KB",
                "< 2048 KB",
                weigher.page_bytes < PAGE_BAR_BYTES,
            )
            record(
                "coverage page + initial tiles",
                f"{total / 1024:.0f} KB ({weigher.tiles} tiles)",
                "< 2048 KB",
                total < PAGE_BAR_BYTES,
            )
            record(
                f"coverage render, opening view (communities), median of {repeats}",
                f"{seconds:.2f} s",
                "< 3 s",
                seconds < RENDER_BAR_S,
            )
            grid_weigher = grid_runs[-1][1]
            record(
                "coverage page + initial tiles, ?level=grid",
                f"{(grid_weigher.page_bytes + grid_weigher.tile_bytes) / 1024:.0f} KB "
                f"({grid_weigher.tiles} tiles)",
                "< 2048 KB",
                grid_weigher.page_bytes + grid_weigher.tile_bytes < PAGE_BAR_BYTES,
            )
            record(
                f"coverage render, ?level=grid (10,000 grids), median of {repeats}",
                f"{grid_seconds:.2f} s",
                "< 3 s",
                grid_seconds < RENDER_BAR_S,
            )

            html = folium_baseline_html(app)
            grids = html.count('"type": "Feature"') or 10_000
            base_seconds, base_weigher = render_baseline(browser, base, html, 10_000)
            step(
                f"baseline Folium page with {grids} grids embedded: "
                f"{base_weigher.page_bytes / 1024 / 1024:.1f} MB",
                base_seconds,
            )
            record(
                "baseline: Folium, grids embedded as GeoJSON",
                f"{base_weigher.page_bytes / 1024 / 1024:.1f} MB, {base_seconds:.2f} s",
            )
            # like for like: the baseline draws every grid, as ?level=grid does
            grid_total = grid_weigher.page_bytes + grid_weigher.tile_bytes
            record(
                "ratio baseline / ?level=grid (weight incl. tiles)",
                f"{base_weigher.page_bytes / max(grid_total, 1):.1f}x",
            )
            record(
                "ratio baseline / ?level=grid (render time)", f"{base_seconds / grid_seconds:.1f}x"
            )
            record("ratio baseline / opening view (render time)", f"{base_seconds / seconds:.1f}x")
        finally:
            browser.close()


# --------------------------------------------------------------------------- tiles


def bench_tiles(app, token: str, per_zoom: int, rng: np.random.Generator) -> None:
    """Latency of each layer's tiles over the tiles covering the city at several zooms,
    in-process (Flask test client, Bearer token), each tile asked once."""
    bounds = city_bounds(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for layer in LAYERS:
        seconds, sizes = [], []
        per_zoom_ms = []
        for z in ZOOMS:
            zoom_seconds = []
            for _, x, y in city_tiles(bounds, z, per_zoom, rng):
                started = time.perf_counter()
                response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=headers)
                elapsed = time.perf_counter() - started
                if response.status_code not in (200, 204):
                    raise RuntimeError(f"{layer} {z}/{x}/{y}: {response.status_code}")
                zoom_seconds.append(elapsed)
                sizes.append(len(response.data))
            seconds += zoom_seconds
            per_zoom_ms.append(f"z{z} {statistics.median(zoom_seconds) * 1000:.0f}")
        p50, p95, p99 = percentiles_ms(seconds)
        print(
            f"   {layer:<12} {len(seconds):4d} tiles  p50 {p50:7.1f}  p95 {p95:7.1f}  "
            f"p99 {p99:7.1f} ms  max size {max(sizes) / 1024:.0f} KB  "
            f"(median per zoom, ms: {', '.join(per_zoom_ms)})",
            flush=True,
        )
        record(
            f"tiles {layer} p50/p95/p99",
            f"{p50:.0f}/{p95:.0f}/{p99:.0f} ms",
        )


# --------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_MAPS_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="page renders")
    parser.add_argument("--tiles-per-zoom", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2024)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    url = args.database_url
    started = time.perf_counter()
    print(f"Wangge coverage map benchmark: {args.households:,} households x {args.grids:,} grids")
    reuse = args.reuse and city_bench.database_is_loaded(url)
    with phase("database and schema"):
        if not reuse:
            city_bench.recreate_database(url)
        print("   " + city_bench.server_facts(url))
        app = city_bench.make_app(url)
        city_bench.migrate(app)
    if reuse:
        print("   reusing the loaded database")
    else:
        build_district(app, url, args.grids, args.households, args.seed)
    ensure_leader(app)
    if args.build_only:
        return 0
    rng = np.random.default_rng(args.seed)
    token = city_bench.bench_token(app)
    # served as `make run` serves: gunicorn, 2 workers x 4 threads
    with phase("coverage page in headless Chromium"), city_bench.gunicorn(url, token, 4) as base:
        bench_browser(app, base, args.repeats)
    with phase(f"tile latency, up to {args.tiles_per_zoom} tiles per zoom and layer"):
        bench_tiles(app, token, args.tiles_per_zoom, rng)
    print_summary(time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
