"""The Langzhong (阆中市) demo city: the real county boundary with an invented structure.

Deterministic for a seed: streets and towns, 40 urban communities around the old town in the
bend of the Jialing river, ~280 grids with one worker each (a few without), households
clustered like a real town (a few outside every grid), incidents over the last 90 days, a
flood zone along the river, landslide points and reconstruction sites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app import ROOT
from app.models import (
    Area,
    Department,
    Hazard,
    IncidentCategory,
    ReconstructionSite,
    SiteMilestone,
    SiteProgress,
    User,
    WorkerGrid,
)
from app.services import assignment
from app.services.auth import create_user
from app.services.calendar import read_year_files, shipped_year_files
from app.services.demo_names import COMMUNITY_WORDS, GIVEN, ROADS, SURNAMES, TOWNS, URBAN_STREETS
from app.services.imports import load_areas
from app.store import calendar as calendar_store
from app.store import households as household_store
from geo import crs as geocrs
from geo import partition

BOUNDARY_FILE = ROOT / "data" / "511381.geojson"
DISTRICT_CODE = "511381"
DEMO_PASSWORD = "wangge-demo-2024"
OLD_TOWN = (105.972, 31.578)  # WGS84, the old town inside the river bend
URBAN_RADIUS_M = 4_500
COMMUNITIES_PER_STREET = 10
GRIDS_PER_COMMUNITY = 7
GRIDS_WITHOUT_WORKER = 6
RURAL_SHARE = 0.006  # households in rural towns, where there are no grids yet
INCIDENTS = 2_000
SITES = 30
# A hand-drawn approximation of the Jialing river around the old town (WGS84).
JIALING = [
    (105.930, 31.640),
    (105.948, 31.612),
    (105.955, 31.592),
    (105.960, 31.574),
    (105.969, 31.563),
    (105.984, 31.561),
    (105.996, 31.569),
    (106.003, 31.585),
    (106.012, 31.603),
    (106.035, 31.612),
    (106.060, 31.600),
]
DEPARTMENTS = [
    ("cg", "城管局"),
    ("ga", "公安局"),
    ("xf", "消防救援大队"),
    ("sd", "水电公司"),
    ("zj", "住建局"),
    ("yj", "应急管理局"),
    ("hb", "生态环境局"),
]
CATEGORIES = [  # code, name, department, working days, share of incidents
    ("road_occupation", "占道经营", "cg", 3, 0.20),
    ("garbage", "垃圾乱堆", "hb", 2, 0.22),
    ("illegal_building", "违章搭建", "cg", 10, 0.08),
    ("public_security", "治安隐患", "ga", 3, 0.08),
    ("fire_hazard", "消防隐患", "xf", 2, 0.07),
    ("water_power", "水电故障", "sd", 2, 0.15),
    ("housing_safety", "房屋安全", "zj", 7, 0.08),
    ("geohazard", "地质灾害隐患", "yj", 3, 0.04),
    ("neighbour_dispute", "邻里纠纷", "ga", 5, 0.08),
]
TAG_SHARES = {
    "elderly_alone": 0.08,
    "disabled": 0.03,
    "low_income": 0.04,
    "relocated": 0.02,
    "key_person": 0.01,
    "left_behind_child": 0.03,
    "veteran": 0.02,
}

Progress = Callable[[int, int], None]


@dataclass
class DemoSummary:
    created: bool
    district: str = ""
    streets: int = 0
    communities: int = 0
    grids: int = 0
    grids_without_worker: int = 0
    households: int = 0
    uncovered_households: int = 0
    incidents: int = 0
    hazards: int = 0
    sites: int = 0
    accounts: list[tuple[str, str]] = field(default_factory=list)


DEMO_ACCOUNTS = [
    ("admin", "admin", "系统管理员"),
    ("planner", "planner", "规划员"),
    ("leader", "leader", "市领导"),
]


def _person_names(rng: np.random.Generator, n: int) -> list[str]:
    surnames = rng.choice(SURNAMES, n)
    first = rng.choice(GIVEN, n)
    second = np.where(rng.random(n) < 0.6, rng.choice(GIVEN, n), "")
    return [a + b + c for a, b, c in zip(surnames, first, second)]


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = rng.choice(["138", "139", "135", "136", "137", "150", "151", "158", "180", "187"], n)
    return [p + f"{v:08d}" for p, v in zip(prefixes, rng.integers(0, 10**8, n))]


def _add_areas(session, parent: Area, level: str, geoms, names, width: int) -> list[Area]:
    """Children of ``parent`` numbered north to south, west to east (SPEC §2)."""
    order = partition.order_north_to_south_west_to_east(np.asarray(geoms))
    areas = []
    for sequence, index in enumerate(order, start=1):
        geom = shapely.MultiPolygon(partition.polygonal_parts_of(geoms[index]))
        areas.append(
            Area(
                code=f"{parent.code}{sequence:0{width}d}",
                name=names[index],
                level=level,
                parent_id=parent.id,
                geom=from_shape(geom, srid=4326),
            )
        )
    session.add_all(areas)
    session.flush()
    return areas


def _shape(area: Area):
    return to_shape(area.geom)


def _town_shape(rng: np.random.Generator):
    """An irregular built-up area: overlapping discs around the old town, in metres."""
    centre = shapely.Point(OLD_TOWN)
    metric = geocrs.local_metric_crs(centre)
    origin = geocrs.to_metric(centre, metric)
    offsets = rng.normal(0, URBAN_RADIUS_M / 2.5, (10, 2))
    radii = rng.uniform(900, 1900, 10)
    discs = [origin.buffer(URBAN_RADIUS_M / 2.2, 32)] + [
        shapely.Point(origin.x + dx, origin.y + dy).buffer(r, 32)
        for (dx, dy), r in zip(offsets, radii)
    ]
    return geocrs.from_metric(shapely.union_all(discs).simplify(50), metric)


def _build_areas(session: Session, rng: np.random.Generator, households: int):
    district = session.scalar(select(Area).where(Area.code == DISTRICT_CODE))
    district_geom = _shape(district)
    urban = shapely.make_valid(district_geom.intersection(_town_shape(rng)))
    rural = shapely.make_valid(district_geom.difference(urban))
    points = _household_points(rng, households, urban, rural)

    urban_cells = partition.split_around_points(urban, points, len(URBAN_STREETS), rng)
    town_seeds = partition.sample_points_in(rural, len(TOWNS), rng)
    town_cells = partition.voronoi_partition(rural, town_seeds)
    cells = list(urban_cells) + list(town_cells)
    streets = _add_areas(session, district, "street", cells, URBAN_STREETS + TOWNS, 3)
    urban_streets = [s for s in streets if s.name in URBAN_STREETS]

    communities: list[Area] = []
    words = iter(COMMUNITY_WORDS)
    for street in urban_streets:
        cells = partition.split_around_points(_shape(street), points, COMMUNITIES_PER_STREET, rng)
        communities += _add_areas(
            session, street, "community", cells, [f"{next(words)}社区" for _ in cells], 3
        )

    grids: list[Area] = []
    for community in communities:
        cells = partition.split_around_points(_shape(community), points, GRIDS_PER_COMMUNITY, rng)
        stem = community.name.removesuffix("社区")
        # _add_areas numbers north to south; names follow the numbers.
        created = _add_areas(session, community, "grid", cells, [""] * len(cells), 3)
        for grid in created:
            grid.name = f"{stem}第{int(grid.code[-3:])}网格"
        grids += created
    return district, points, urban, grids


def _household_points(rng: np.random.Generator, n: int, urban, rural) -> np.ndarray:
    """Dense in the old town, a few neighbourhood centres around it, a few in the country."""
    n_rural = max(int(n * RURAL_SHARE), 1)
    cx, cy = OLD_TOWN
    centres = partition.sample_points_in(urban, 14, rng)
    clusters = [(cx, cy, 700.0, 4.0)] + [
        (float(x), float(y), float(rng.uniform(250, 600)), float(rng.uniform(0.5, 1.5)))
        for x, y in centres
    ]
    return np.vstack(
        [
            partition.sample_points_in(urban, n - n_rural, rng, clusters=clusters),
            partition.sample_points_in(rural, n_rural, rng),
        ]
    )


def _build_people(session: Session, rng: np.random.Generator, grids: list[Area]) -> list:
    accounts = []
    for username, role, name in DEMO_ACCOUNTS:
        create_user(session, username, role=role, password=DEMO_PASSWORD, display_name=name)
        accounts.append((username, role))
    without = set(rng.choice(len(grids), GRIDS_WITHOUT_WORKER, replace=False).tolist())
    staffed = [g for i, g in enumerate(grids) if i not in without]
    # Every demo worker shares the demo password: hash it once, not 274 times.
    shared_hash = generate_password_hash(DEMO_PASSWORD)
    workers = [
        User(
            username="worker" if i == 0 else f"worker{i:03d}",
            display_name=name,
            phone=phone,
            role="worker",
            password_hash=shared_hash,
        )
        for i, (name, phone) in enumerate(
            zip(_person_names(rng, len(staffed)), _phones(rng, len(staffed)))
        )
    ]
    session.add_all(workers)
    session.flush()
    session.add_all(WorkerGrid(user_id=w.id, grid_id=g.id) for w, g in zip(workers, staffed))
    accounts.append((workers[0].username, f"worker ({staffed[0].name})"))
    session.flush()
    return accounts


def _household_rows(rng: np.random.Generator, points: np.ndarray):
    n = len(points)
    names = _person_names(rng, n)
    phones = _phones(rng, n)
    members = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.14, 0.27, 0.28, 0.18, 0.09, 0.04])
    roads = rng.choice(ROADS, n)
    numbers = rng.integers(1, 300, n)
    buildings, units, rooms = rng.integers(1, 30, n), rng.integers(1, 6, n), rng.integers(1, 30, n)
    floors = rng.integers(1, 18, n)
    tag_draws = {tag: rng.random(n) < share for tag, share in TAG_SHARES.items()}
    for i in range(n):
        tags = [tag for tag, drawn in tag_draws.items() if drawn[i]]
        if "elderly_alone" in tags:
            members_i = 1
        else:
            members_i = int(members[i])
        yield (
            f"LZ{i + 1:07d}",
            float(points[i, 0]),
            float(points[i, 1]),
            f"{roads[i]}{numbers[i]}号{buildings[i]}栋{units[i]}单元{floors[i]}{rooms[i]:02d}室",
            names[i],
            phones[i],
            members_i,
            tags,
        )


def _build_departments(session: Session) -> dict[str, IncidentCategory]:
    departments = {code: Department(code=code, name=name) for code, name in DEPARTMENTS}
    session.add_all(departments.values())
    session.flush()
    categories = {
        code: IncidentCategory(
            code=code, name=name, department_id=departments[dep].id, deadline_days=days
        )
        for code, name, dep, days, _ in CATEGORIES
    }
    session.add_all(categories.values())
    session.flush()
    return categories


def _build_incidents(session: Session, rng: np.random.Generator, categories) -> None:
    """Incidents near households over the last 90 days, further along the older they are."""
    codes = list(categories)
    shares = np.array([c[4] for c in CATEGORIES])
    chosen = rng.choice(len(codes), INCIDENTS, p=shares / shares.sum())
    age_hours = rng.uniform(0, 90 * 24, INCIDENTS)
    progress = rng.random(INCIDENTS)
    session.execute(text("DROP TABLE IF EXISTS demo_incidents"))
    session.execute(
        text(
            "CREATE TEMP TABLE demo_incidents (n int, category_id int, age_hours float8, "
            "progress float8, rating int, household_rank bigint) ON COMMIT DROP"
        )
    )
    households = session.scalar(text("SELECT count(*) FROM imported_households"))
    ranks = rng.integers(1, households + 1, INCIDENTS)
    session.execute(
        text("INSERT INTO demo_incidents VALUES (:n, :c, :a, :p, :r, :k)"),
        [
            {
                "n": i,
                "c": categories[codes[k]].id,
                "a": float(age_hours[i]),
                "p": float(progress[i]),
                "r": int(rng.choice([2, 3, 4, 5, 5, 5])),
                "k": int(ranks[i]),
            }
            for i, k in enumerate(chosen)
        ],
    )
    # Each incident sits within ~30 m of a random household; status follows its age.
    session.execute(
        text(
            """
            WITH picked AS (
                SELECT d.*, h.geom FROM demo_incidents d
                JOIN (SELECT household_id, row_number() OVER (ORDER BY household_id) AS rank
                      FROM imported_households) ih ON ih.rank = d.household_rank
                JOIN households h ON h.id = ih.household_id
            ), placed AS (
                SELECT p.*, ST_SetSRID(ST_MakePoint(
                    ST_X(p.geom) + ((p.n * 37) % 61 - 30) * 0.000009,
                    ST_Y(p.geom) + ((p.n * 53) % 61 - 30) * 0.000009), 4326) AS point,
                    now() - make_interval(secs => p.age_hours * 3600) AS created
                FROM picked p
            )
            INSERT INTO incidents (geom, category_id, description, status, channel, created_at,
                                   deadline_at, closed_at, rating)
            SELECT point, category_id, '演示事件', status, channel, created,
                   created + make_interval(days => (c.deadline_days * 7 + 4) / 5),
                   CASE WHEN status IN ('closed', 'rated')
                        THEN created + make_interval(secs => age_hours * 3600 * 0.3) END,
                   CASE WHEN status = 'rated' THEN rating END
            FROM (
                SELECT pl.*,
                  CASE WHEN age_hours > 24 * 20 THEN
                         CASE WHEN progress < 0.55 THEN 'rated' WHEN progress < 0.9 THEN 'closed'
                              WHEN progress < 0.95 THEN 'rejected' ELSE 'in_progress' END
                       WHEN age_hours > 24 * 5 THEN
                         CASE WHEN progress < 0.4 THEN 'closed' WHEN progress < 0.6 THEN 'verified'
                              WHEN progress < 0.8 THEN 'in_progress' ELSE 'dispatched' END
                       ELSE
                         CASE WHEN progress < 0.3 THEN 'submitted' WHEN progress < 0.5 THEN 'accepted'
                              WHEN progress < 0.7 THEN 'registered' ELSE 'dispatched' END
                  END AS status,
                  (ARRAY['patrol', 'patrol', 'web', 'hotline', 'api'])[1 + n % 5] AS channel
                FROM placed pl
            ) s JOIN incident_categories c ON c.id = s.category_id
            ORDER BY created
            """
        )
    )
    # Locate each to its grid, community, street, worker and department, as intake does.
    session.execute(
        text(
            """
            UPDATE incidents i SET grid_id = g.id, community_id = c.id, street_id = c.parent_id,
                   worker_id = (SELECT min(user_id) FROM worker_grids w WHERE w.grid_id = g.id),
                   department_id = cat.department_id
            FROM incident_categories cat, areas g JOIN areas c ON c.id = g.parent_id
            WHERE cat.id = i.category_id AND g.level = 'grid' AND g.valid_to IS NULL
              AND ST_Intersects(g.geom, i.geom)
            """
        )
    )
    # Deadlines in working days on the Chinese calendar (shipped holiday files), as intake sets.
    for holiday_year in read_year_files(shipped_year_files()):
        calendar_store.replace_year(session, holiday_year.year, holiday_year.entries)
    calendar_store.recompute_deadlines(session, calendar_store.load_calendar(session))
    session.execute(
        text(
            """
            INSERT INTO incident_events (incident_id, from_status, to_status, note, created_at)
            SELECT id, NULL, 'submitted', '上报', created_at FROM incidents
            UNION ALL
            SELECT id, 'submitted', status, '演示数据', COALESCE(closed_at, created_at + interval '1 hour')
            FROM incidents WHERE status <> 'submitted'
            """
        )
    )


def _build_hazards(session: Session, rng: np.random.Generator, district_geom, urban) -> int:
    river = shapely.LineString(JIALING)
    metric = geocrs.local_metric_crs(river)
    flood = geocrs.from_metric(geocrs.to_metric(river, metric).buffer(300, 16), metric)
    flood = shapely.make_valid(flood.intersection(district_geom))
    hazards = [
        Hazard(
            name="嘉陵江沿岸洪涝风险区",
            hazard_class="flood",
            severity=3,
            geom=from_shape(shapely.MultiPolygon(partition.polygonal_parts_of(flood)), srid=4326),
            description="沿江低洼地带，汛期易受淹。",
        )
    ]
    slope = shapely.make_valid(district_geom.difference(urban))
    for i, (x, y) in enumerate(partition.sample_points_in(slope, 14, rng), start=1):
        hazards.append(
            Hazard(
                name=f"滑坡隐患点{i:02d}",
                hazard_class="landslide",
                severity=int(rng.integers(1, 5)),
                geom=from_shape(shapely.Point(x, y), srid=4326),
            )
        )
    session.add_all(hazards)
    return len(hazards)


def _build_sites(session: Session, rng: np.random.Generator, district_geom, urban) -> int:
    today = date.today()
    types = ["housing", "road", "school", "public_facility"]
    owners = ["阆中市住建局", "阆中市交通运输局", "阆中市教育局", "阆中市城投公司"]
    kinds = {
        "housing": "安置房",
        "road": "道路修复",
        "school": "学校重建",
        "public_facility": "公共设施",
    }
    points = np.vstack(
        [
            partition.sample_points_in(urban, SITES // 2, rng),
            partition.sample_points_in(district_geom, SITES - SITES // 2, rng),
        ]
    )
    for i, (x, y) in enumerate(points, start=1):
        kind = types[i % len(types)]
        start = today - timedelta(days=int(rng.integers(60, 300)))
        end = start + timedelta(days=int(rng.integers(200, 540)))
        site = ReconstructionSite(
            name=f"灾后重建{kinds[kind]}项目{i:02d}",
            site_type=kind,
            owner=owners[i % len(owners)],
            planned_start=start,
            planned_end=end,
            geom=from_shape(shapely.Point(x, y), srid=4326),
        )
        session.add(site)
        session.flush()
        span = (end - start).days
        for j, name in enumerate(["开工", "主体完工", "竣工验收"], start=1):
            planned = start + timedelta(days=span * j // 3)
            done = planned + timedelta(days=int(rng.integers(-5, 25))) if planned < today else None
            session.add(
                SiteMilestone(
                    site_id=site.id,
                    name=name,
                    planned_date=planned,
                    done_date=done if done and done <= today else None,
                )
            )
        lag = float(rng.choice([0.0, 0.05, 0.15, 0.35]))  # green, green, yellow, red
        for month in range(1, (today - start).days // 30 + 1):
            reported = start + timedelta(days=30 * month)
            planned_pct = min(100.0, 100.0 * (reported - start).days / span)
            session.add(
                SiteProgress(
                    site_id=site.id,
                    reported_on=reported,
                    percent=round(max(0.0, planned_pct * (1 - lag)), 1),
                    note="月度进度报告",
                )
            )
    return SITES


def _summary(session: Session, created: bool, accounts) -> DemoSummary:
    counts = session.execute(
        text(
            """
            SELECT
              (SELECT name FROM areas WHERE code = :code) AS district,
              (SELECT count(*) FROM areas WHERE level = 'street' AND valid_to IS NULL) AS streets,
              (SELECT count(*) FROM areas WHERE level = 'community' AND valid_to IS NULL)
                AS communities,
              (SELECT count(*) FROM areas WHERE level = 'grid' AND valid_to IS NULL) AS grids,
              (SELECT count(*) FROM areas a WHERE level = 'grid' AND valid_to IS NULL AND NOT
                 EXISTS (SELECT 1 FROM worker_grids w WHERE w.grid_id = a.id))
                AS grids_without_worker,
              (SELECT count(*) FROM households) AS households,
              (SELECT count(*) FROM households h WHERE NOT EXISTS
                 (SELECT 1 FROM household_grid g WHERE g.household_id = h.id))
                AS uncovered_households,
              (SELECT count(*) FROM incidents) AS incidents,
              (SELECT count(*) FROM hazards) AS hazards,
              (SELECT count(*) FROM sites) AS sites
            """
        ),
        {"code": DISTRICT_CODE},
    ).one()
    return DemoSummary(created=created, accounts=accounts, **counts._mapping)


def demo_accounts(session: Session) -> list[tuple[str, str]]:
    usernames = [u for u, _, _ in DEMO_ACCOUNTS] + ["worker"]
    users = session.scalars(select(User).where(User.username.in_(usernames))).all()
    return sorted(((u.username, u.role) for u in users), key=lambda a: usernames.index(a[0]))


def build_demo(
    session: Session,
    *,
    households: int = 50_000,
    seed: int = 20220905,
    progress: Progress = lambda done, total: None,
) -> DemoSummary:
    """Build the demo city in one transaction; does nothing if it is already there."""
    if session.scalar(select(func.count()).select_from(Area).where(Area.code == DISTRICT_CODE)):
        return _summary(session, False, demo_accounts(session))
    steps = 8
    rng = np.random.default_rng(seed)
    load_areas(
        session,
        BOUNDARY_FILE,
        level="district",
        crs="gcj02",
        code_field="adcode",
        name_field="name",
    )
    progress(1, steps)
    district, points, urban, grids = _build_areas(session, rng, households)
    progress(2, steps)
    accounts = _build_people(session, rng, grids)
    progress(3, steps)
    rows = _household_rows(rng, points)
    household_store.copy_households(session, rows, households)
    progress(4, steps)
    assignment.store.assign_everything(session, session.scalar(select(func.now())))
    progress(5, steps)
    categories = _build_departments(session)
    _build_incidents(session, rng, categories)
    progress(6, steps)
    district_geom = _shape(district)
    _build_hazards(session, rng, district_geom, urban)
    _build_sites(session, rng, district_geom, urban)
    progress(7, steps)
    session.commit()
    session.execute(text("ANALYZE"))
    progress(8, steps)
    return _summary(session, True, accounts)
