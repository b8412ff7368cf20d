"""Load test of the worker-facing API at district scale, against the bars of SPEC §4.

    .venv/bin/python bench/load.py [--users 50] [--duration 60] [--warmup 10] [--think 1.0]
                                   [--workers 2] [--threads 4] [--database-url URL]

Serves the app with a real gunicorn (``--workers 2 --threads 4``, gthread: as ``make run``
serves) on an already built database (the demo city, see bench/README.md "Load"), then:

1. baseline: one simulated worker doing only the locate mix, back to back;
2. load: ``--users`` simulated grid workers, each with its own Bearer token and keep-alive
   connection, for ``--warmup`` + ``--duration`` seconds, doing the worker mix: locate a point
   (most inside the grids, some just outside them), report an incident in their own grid (a
   few just outside every grid: a 422 by design), read their queue.

Prints per endpoint: requests, errors, intended 422s, p50 / p95 / p99 latency and throughput;
then the bars with PASS / FAIL and the load-to-baseline ratio. Exits 0 whether or not a bar is
met, non-zero only on errors. Nothing is dropped: the tokens issued and the incidents reported
stay in the database.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402

from geo.crs import from_metric, local_metric_crs, to_metric  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge_load"
OUTPUT = ROOT / "bench" / "output"
SECRET = secrets.token_urlsafe(32)

LOCATE_P95_BAR_MS = 50.0
INTAKE_P95_BAR_MS = 200.0

# The worker mix: shares of the actions a simulated worker picks, one at a time.
MIX = {"locate": 0.70, "report": 0.10, "queue": 0.20}
LOCATE_OUTSIDE_SHARE = 0.10  # locates just outside every grid (answered 200, covered false)
REPORT_OUTSIDE_SHARE = 0.05  # reports just outside every grid: 422 outside_grids, by design
OUTSIDE_RING_M = (20.0, 300.0)  # how far outside the grids those points lie
POOL = 20_000  # pre-drawn locate points; the client draws no geometry while timing

ENDPOINTS = {  # label: how it is called
    "locate": "GET /api/v1/locate, a point inside the grids",
    "locate-outside": "GET /api/v1/locate, a point just outside every grid",
    "report": "POST /api/v1/incidents, a point in the worker's grid",
    "report-outside": "POST /api/v1/incidents, just outside every grid (422 intended)",
    "queue": "GET /api/v1/incidents/queue",
    "categories": "GET /api/v1/incidents/categories (once per user, at start)",
}


# --------------------------------------------------------------------------- set-up


@dataclass
class Worker:
    """One simulated grid worker: who it is, its token and points inside its grid."""

    user_id: int
    username: str
    grid_code: str
    token: str
    points: np.ndarray  # (n, 2) lon / lat inside the worker's grid


@dataclass
class Scenario:
    workers: list[Worker]
    inside: np.ndarray  # (n, 2) points inside the grids
    outside: np.ndarray  # (n, 2) points just outside every grid
    grids: int
    households: int


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})


def sample_inside(polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``polygon`` (rejection from its bounding box)."""
    x0, y0, x1, y1 = polygon.bounds
    shapely.prepare(polygon)
    found = np.empty((0, 2))
    while len(found) < n:
        batch = rng.uniform([x0, y0], [x1, y1], (max(64, 4 * n), 2))
        keep = shapely.contains_xy(polygon, batch[:, 0], batch[:, 1])
        found = np.concatenate([found, batch[keep]])
    return found[:n]


def ring_outside(grids_union, inner_m: float, outer_m: float):
    """The band between ``inner_m`` and ``outer_m`` outside the union of the grids, WGS84."""
    metric = local_metric_crs(grids_union)
    local = to_metric(grids_union, metric)
    return from_metric(local.buffer(outer_m).difference(local.buffer(inner_m)), metric)


def build_scenario(app, users: int, per_worker: int, rng: np.random.Generator) -> Scenario:
    """Pick ``users`` workers with a grid, issue each a token, draw the points they will use."""
    from app.extensions import db
    from app.services.auth import issue_token

    with app.app_context():
        rows = db.session.execute(
            text(
                """SELECT u.id, u.username, g.code, ST_AsBinary(g.geom)
                   FROM users u
                   JOIN worker_grids wg ON wg.user_id = u.id
                   JOIN areas g ON g.id = wg.grid_id AND g.valid_to IS NULL
                   WHERE u.role = 'worker'
                   ORDER BY u.id"""
            )
        ).all()
        union = shapely.from_wkb(
            bytes(
                db.session.scalar(
                    text(
                        "SELECT ST_AsBinary(ST_Union(geom)) FROM areas "
                        "WHERE level = 'grid' AND valid_to IS NULL"
                    )
                )
            )
        )
        grids = db.session.scalar(
            text("SELECT count(*) FROM areas WHERE level = 'grid' AND valid_to IS NULL")
        )
        households = db.session.scalar(text("SELECT count(*) FROM households"))
        if len(rows) < users:
            raise SystemExit(f"error: {len(rows)} workers with a grid, {users} users asked for")
        chosen = [rows[i] for i in sorted(rng.choice(len(rows), users, replace=False))]
        workers = []
        for user_id, username, grid_code, wkb in chosen:
            polygon = shapely.from_wkb(bytes(wkb))
            points = sample_inside(polygon, per_worker, rng)
            token = issue_token(db.session, username)
            workers.append(Worker(user_id, username, grid_code, token, points))
        db.session.commit()
    inside = sample_inside(union, POOL, rng)
    outside = sample_inside(ring_outside(union, *OUTSIDE_RING_M), POOL // 5, rng)
    return Scenario(workers, inside, outside, grids, households)


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, workers: int, threads: int, token: str):
    """A real gunicorn (gthread) on the load database; yields its base URL once every worker
    has answered (the first request of a worker pays for imports and connections)."""
    port = free_port()
    binary = Path(sys.executable).parent / "gunicorn"
    command = [
        str(binary if binary.exists() else shutil.which("gunicorn")),
        *("--workers", str(workers), "--threads", str(threads)),
        *("--bind", f"127.0.0.1:{port}", "app:create_app()"),
    ]
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET, WANGGE_TILES="none")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT / "load-gunicorn.log", "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        answered = 0
        while answered < 4 * workers:
            try:
                client = Client("127.0.0.1", port, token)
                status, _ = client.get("/api/v1/locate?lon=0&lat=0")
                client.close()
                answered += status == 200
            except OSError:
                time.sleep(0.2)
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {OUTPUT / 'load-gunicorn.log'}")
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


# --------------------------------------------------------------------------- client


class Client:
    """One keep-alive connection with a Bearer token; reopened if the server closes it.

    A bare ``http.client`` connection: the load generator shares the machine's two cores
    with the server, and a heavier client library would spend them on itself.
    """

    def __init__(self, host: str, port: int, token: str):
        self.host, self.port = host, port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.connection = http.client.HTTPConnection(host, port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, None

    def get(self, path: str) -> tuple[int, object]:
        return self.request("GET", path)

    def close(self) -> None:
        self.connection.close()


@dataclass
class Sample:
    endpoint: str
    started: float  # time.perf_counter() when the request was sent
    seconds: float
    outcome: str  # ok, intended (an intended 422), error (any other status), wrong (a bad body)
    status: int


@dataclass
class Run:
    """A window of simulated users: when it starts, when measuring starts and stops."""

    port: int
    measure_from: float
    measure_to: float
    think: float
    mix: dict[str, float]
    stop: threading.Event = field(default_factory=threading.Event)


def locate_path(point) -> str:
    return f"/api/v1/locate?lon={point[0]:.7f}&lat={point[1]:.7f}"


def check_locate(body, covered: bool) -> bool:
    return isinstance(body, dict) and body.get("covered") is covered


def simulate_user(run: Run, worker: Worker, scenario: Scenario, seed: int, out: list) -> None:
    """One grid worker's session until ``run.stop``: categories once, then the mix."""
    rng = random.Random(seed)
    client = Client("127.0.0.1", run.port, worker.token)
    actions, weights = list(run.mix), list(run.mix.values())

    def timed(endpoint, method, path, body=None, *, expect=200, check=None):
        started = time.perf_counter()
        try:
            status, answer = client.request(method, path, body)
        except OSError:
            status, answer = 0, None
        seconds = time.perf_counter() - started
        if status == expect and expect == 422:
            outcome = "intended"
        elif status != expect:
            outcome = "error"
        elif check is not None and not check(answer):
            outcome = "wrong"
        else:
            outcome = "ok"
        out.append(Sample(endpoint, started, seconds, outcome, status))
        return answer

    categories = timed("categories", "GET", "/api/v1/incidents/categories", check=lambda a: bool(a))
    codes = [c["code"] for c in categories or []] or ["garbage"]
    try:
        while not run.stop.is_set():
            action = rng.choices(actions, weights)[0]
            if action == "locate":
                outside = rng.random() < LOCATE_OUTSIDE_SHARE
                pool = scenario.outside if outside else scenario.inside
                point = pool[rng.randrange(len(pool))]
                timed(
                    "locate-outside" if outside else "locate",
                    "GET",
                    locate_path(point),
                    check=lambda a, covered=not outside: check_locate(a, covered),
                )
            elif action == "report":
                outside = rng.random() < REPORT_OUTSIDE_SHARE
                pool = scenario.outside if outside else worker.points
                point = pool[rng.randrange(len(pool))]
                body = {
                    "category": rng.choice(codes),
                    "description": "巡查发现：负载测试事件",
                    "lon": round(float(point[0]), 7),
                    "lat": round(float(point[1]), 7),
                    "channel": "patrol",
                }
                if outside:
                    timed("report-outside", "POST", "/api/v1/incidents", body, expect=422)
                else:
                    timed(
                        "report",
                        "POST",
                        "/api/v1/incidents",
                        body,
                        expect=201,
                        check=lambda a: (
                            isinstance(a, dict)
                            and (a.get("grid") or {}).get("code") == worker.grid_code
                        ),
                    )
            else:
                timed(
                    "queue",
                    "GET",
                    "/api/v1/incidents/queue",
                    check=lambda a: isinstance(a, dict) and isinstance(a.get("items"), list),
                )
            if run.think:
                # Uniform around the mean think time: users do not act in lock-step.
                run.stop.wait(rng.uniform(0.0, 2.0 * run.think))
    finally:
        client.close()


@dataclass
class Result:
    samples: list[Sample]  # the requests sent inside the measured window
    seconds: float  # the measured window
    sent: int  # every request, warm-up included
    client_cpu: float  # CPU seconds of the load generator over the whole run


def drive(
    port: int, workers: list[Worker], scenario, *, warmup, duration, think, mix, seed
) -> Result:
    """Run one thread per worker for ``warmup`` + ``duration`` seconds."""
    now = time.perf_counter()
    run = Run(port, now + warmup, now + warmup + duration, think, mix)
    outputs = [[] for _ in workers]
    threads = [
        threading.Thread(
            target=simulate_user, args=(run, w, scenario, seed + i, outputs[i]), daemon=True
        )
        for i, w in enumerate(workers)
    ]
    cpu = time.process_time()
    for t in threads:
        t.start()
    time.sleep(max(0.0, run.measure_to - time.perf_counter()))
    run.stop.set()
    for t in threads:
        t.join(timeout=60)
    cpu = time.process_time() - cpu
    samples = [s for out in outputs for s in out if run.measure_from <= s.started < run.measure_to]
    # Categories are read once per user, at its start: keep them even inside the warm-up.
    samples += [s for out in outputs for s in out if s.endpoint == "categories"]
    return Result(samples, duration, sum(map(len, outputs)), cpu)


# --------------------------------------------------------------------------- reporting


@dataclass
class Stats:
    endpoint: str
    requests: int
    ok: int
    intended: int
    errors: int
    wrong: int
    p50: float
    p95: float
    p99: float
    per_second: float
    statuses: dict[int, int]

    @property
    def error_rate(self) -> float:
        return (self.errors + self.wrong) / self.requests if self.requests else 0.0


def summarise(samples: list[Sample], seconds: float) -> dict[str, Stats]:
    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_endpoint[s.endpoint].append(s)
    stats = {}
    ordered = [e for e in ENDPOINTS if e in by_endpoint]
    for endpoint in ordered + sorted(set(by_endpoint) - set(ENDPOINTS)):
        group = by_endpoint[endpoint]
        ms = np.asarray([s.seconds for s in group]) * 1000.0
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        outcomes = defaultdict(int)
        statuses = defaultdict(int)
        for s in group:
            outcomes[s.outcome] += 1
            statuses[s.status] += 1
        stats[endpoint] = Stats(
            endpoint,
            len(group),
            outcomes["ok"],
            outcomes["intended"],
            outcomes["error"],
            outcomes["wrong"],
            float(p50),
            float(p95),
            float(p99),
            len(group) / seconds if endpoint != "categories" else 0.0,
            dict(statuses),
        )
    return stats


def merged(samples: list[Sample], endpoints: tuple[str, ...], label: str, seconds: float):
    return summarise(
        [Sample(label, s.started, s.seconds, s.outcome, s.status) for s in samples
         if s.endpoint in endpoints],
        seconds,
    ).get(label)  # fmt: skip


def print_table(title: str, stats: dict[str, Stats]) -> None:
    print(f"\n== {title}")
    print(
        f"   {'endpoint':<16} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7} {'err %':>6} {'422 ok':>7}  statuses"
    )
    for s in stats.values():
        rate = f"{s.per_second:7.1f}" if s.per_second else f"{'-':>7}"
        statuses = " ".join(f"{k}x{v}" for k, v in sorted(s.statuses.items()))
        print(
            f"   {s.endpoint:<16} {s.requests:>8} {rate} {s.p50:8.1f} {s.p95:8.1f} {s.p99:8.1f} "
            f"{s.errors + s.wrong:>7} {100 * s.error_rate:6.2f} {s.intended:>7}  {statuses}"
        )


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + load_average()


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its reaped children, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    """The gunicorn arbiter and its live workers."""
    total = process_cpu_seconds(pid)
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):
                total += process_cpu_seconds(int(child))
    return total


def database_backends(app) -> list[int]:
    """Process ids of the PostgreSQL backends connected to the load database (the server's
    connection pools, kept open for the whole run)."""
    from app.extensions import db

    with app.app_context():
        pids = db.session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        db.session.rollback()
    return list(pids)


def backends_cpu_seconds(pids: list[int]) -> dict[int, float]:
    cpu = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            cpu[pid] = process_cpu_seconds(pid)
    return cpu


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def print_bars(load: dict[str, Stats], locate: Stats, baseline: Stats) -> bool:
    """The SPEC §4 bars and the ratio to the baseline; True when all pass."""
    report = load.get("report")
    errors = sum(s.errors + s.wrong for s in load.values())
    intended = sum(s.intended for s in load.values())
    requests = sum(s.requests for s in load.values())
    rows = [
        ("locate p95, all locates under load", f"{locate.p95:.1f} ms",
         f"< {LOCATE_P95_BAR_MS:.0f} ms", locate.p95 < LOCATE_P95_BAR_MS),
        ("intake p95 (POST /incidents, 201)",
         f"{report.p95:.1f} ms" if report else "no requests",
         f"< {INTAKE_P95_BAR_MS:.0f} ms", bool(report) and report.p95 < INTAKE_P95_BAR_MS),
        ("errors (non-2xx other than intended 422, or a wrong answer)",
         f"{errors} of {requests}", "0", errors == 0),
    ]  # fmt: skip
    print("\n== Bars (SPEC §4)")
    width = max(len(r[0]) for r in rows)
    for what, value, bar, passed in rows:
        print(f"   {what:<{width}}  {value:<14} {bar:<10} {verdict(passed)}")
    print(f"   intended 422s (reports just outside every grid): {intended}")
    ratio50, ratio95 = locate.p50 / baseline.p50, locate.p95 / baseline.p95
    print(
        f"   locate under load / baseline (1 user, locate only): p50 {locate.p50:.1f} / "
        f"{baseline.p50:.1f} ms = {ratio50:.1f}x, p95 {locate.p95:.1f} / {baseline.p95:.1f} ms "
        f"= {ratio95:.1f}x"
    )
    return all(r[3] for r in rows)


# --------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds first")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause of a user between two actions, s (uniform 0 to 2x); 0: back to back",
    )
    parser.add_argument("--baseline-duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn --workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn --threads (gthread)")
    parser.add_argument("--seed", type=int, default=2024)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows in a log file as it happens
    url = args.database_url
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(f"Wangge worker API load test on {make_url(url).render_as_string()}")
    print(f"   before: {uptime()}")

    app = make_app(url)
    seconds = time.perf_counter()
    scenario = build_scenario(app, args.users, 200, rng)
    print(
        f"   {scenario.households:,} households, {scenario.grids:,} grids; {args.users} workers "
        f"with a token each; set-up {time.perf_counter() - seconds:.1f} s"
    )
    print(
        f"   gunicorn --workers {args.workers} --threads {args.threads}; {os.cpu_count()} cores "
        f"shared by server, database and load generator"
    )
    print(f"   mix: {MIX}; locates outside grids {LOCATE_OUTSIDE_SHARE:.0%}, reports outside "
          f"{REPORT_OUTSIDE_SHARE:.0%}; think time mean {args.think:g} s")  # fmt: skip
    for label, meaning in ENDPOINTS.items():
        print(f"   {label:<16} {meaning}")

    with gunicorn(url, args.workers, args.threads, scenario.workers[0].token) as (port, pid):
        base = drive(
            port,
            scenario.workers[:1],
            scenario,
            warmup=3.0,
            duration=args.baseline_duration,
            think=0.0,
            mix={"locate": 1.0},
            seed=args.seed,
        )
        baseline = summarise(base.samples, base.seconds)
        print_table(
            f"Baseline: 1 user, locate mix only, back to back, {base.seconds:g} s", baseline
        )
        baseline_locate = merged(
            base.samples, ("locate", "locate-outside"), "locate (all)", base.seconds
        )

        load_before = load_average()
        server_cpu = server_cpu_seconds(pid)
        database_cpu = backends_cpu_seconds(database_backends(app))
        result = drive(
            port,
            scenario.workers,
            scenario,
            warmup=args.warmup,
            duration=args.duration,
            think=args.think,
            mix=MIX,
            seed=args.seed + 1000,
        )
        server_cpu = server_cpu_seconds(pid) - server_cpu
        after = backends_cpu_seconds(database_backends(app))
        database_cpu = sum(after[p] - database_cpu.get(p, 0.0) for p in after)
        samples, seconds = result.samples, result.seconds
        load = summarise(samples, seconds)
        locate = merged(samples, ("locate", "locate-outside"), "locate (all)", seconds)
        print_table(
            f"Load: {args.users} users, {args.warmup:g} s warm-up then {seconds:g} s measured",
            load,
        )
        total = sum(s.requests for s in load.values() if s.endpoint != "categories")
        print(
            f"   all endpoints: {total} requests, {total / seconds:.1f} req/s; "
            f"load average {load_before} -> {load_average()}; CPU over "
            f"{args.warmup + seconds:g} s: server (gunicorn) {server_cpu:.1f} s, "
            f"its PostgreSQL backends {database_cpu:.1f} s, load generator "
            f"{result.client_cpu:.1f} s"
        )
        print(
            f"   CPU per request ({result.sent} sent, warm-up included): server "
            f"{1000 * server_cpu / result.sent:.1f} ms, PostgreSQL "
            f"{1000 * database_cpu / result.sent:.1f} ms, load generator "
            f"{1000 * result.client_cpu / result.sent:.1f} ms"
        )

    print_bars(load, locate, baseline_locate)
    print(f"\n   after: {uptime()}")
    print(f"   load test total: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
