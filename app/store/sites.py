"""Reconstruction sites, their milestones, progress reports and photos, queried in PostGIS."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.hazards import ReconstructionSite, SiteMilestone, SitePhoto, SiteProgress
from app.store.fragments import geojson, rounded, touches_box
from app.store.scope import visible_geometry_sql

SITE_COLUMNS = f"""
    s.id, s.name, s.site_type, s.owner, s.planned_start, s.planned_end, s.description,
    s.contact_name, s.contact_phone, s.created_at,
    {geojson("s.geom")}::json AS geometry,
    {rounded("ST_X(ST_PointOnSurface(s.geom))")} AS lon,
    {rounded("ST_Y(ST_PointOnSurface(s.geom))")} AS lat,
    latest.percent AS actual_percent, latest.reported_on AS last_reported_on
"""
LATEST_PROGRESS = """
    LEFT JOIN LATERAL (
        SELECT p.percent, p.reported_on FROM site_progress p
        WHERE p.site_id = s.id ORDER BY p.reported_on DESC, p.id DESC LIMIT 1
    ) latest ON true
"""


@dataclass(frozen=True)
class SiteFilter:
    types: tuple[str, ...] = ()
    owner: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    # The reader's grids (None: the whole district): a site touching none of them is not theirs.
    grid_ids: frozenset[int] | None = None


def site_rows(session: Session, where: SiteFilter) -> list:
    """Sites matching the filter with their latest reported percent, by id."""
    clauses, params = ["true"], {}
    if where.types:
        clauses.append("s.site_type = ANY(:types)")
        params["types"] = list(where.types)
    if where.owner:
        clauses.append("s.owner ILIKE :owner")
        params["owner"] = "%" + where.owner.replace("%", r"\%").replace("_", r"\_") + "%"
    if where.bbox:
        clauses.append(touches_box("s.geom"))
        params.update(zip(("x0", "y0", "x1", "y1"), where.bbox))
    visible, scope_params = visible_geometry_sql(where.grid_ids, "s.geom")
    clauses.append(visible)
    params.update(scope_params)
    sql = f"""
        SELECT {SITE_COLUMNS} FROM sites s {LATEST_PROGRESS}
        WHERE {" AND ".join(clauses)} ORDER BY s.id
    """
    return list(session.execute(text(sql), params))


def site_row(session: Session, site_id: int, grid_ids: frozenset[int] | None = None):
    visible, params = visible_geometry_sql(grid_ids, "s.geom")
    sql = f"SELECT {SITE_COLUMNS} FROM sites s {LATEST_PROGRESS} WHERE s.id = :id AND {visible}"
    return session.execute(text(sql), {**params, "id": site_id}).first()


def milestones_by_site(session: Session, site_ids: list[int]) -> dict[int, list]:
    """The milestones of each site, in planned order."""
    rows = session.execute(
        text(
            """SELECT id, site_id, name, planned_date, done_date FROM site_milestones
               WHERE site_id = ANY(:ids) ORDER BY site_id, planned_date, id"""
        ),
        {"ids": list(site_ids)},
    )
    out: dict[int, list] = defaultdict(list)
    for row in rows:
        out[row.site_id].append(row)
    return out


def progress_history(session: Session, site_id: int) -> list:
    """A site's progress reports, oldest first, with the ids of their photos."""
    sql = """
        SELECT p.id, p.reported_on, p.percent, p.note, p.reported_by,
               COALESCE(array_agg(ph.id ORDER BY ph.id) FILTER (WHERE ph.id IS NOT NULL),
                        '{}') AS photo_ids
        FROM site_progress p LEFT JOIN site_photos ph ON ph.progress_id = p.id
        WHERE p.site_id = :id GROUP BY p.id ORDER BY p.reported_on, p.id
    """
    return list(session.execute(text(sql), {"id": site_id}))


def insert_site(session: Session, values: dict, milestones: list[dict]) -> int:
    site = ReconstructionSite(**values)
    session.add(site)
    session.flush()
    session.add_all(SiteMilestone(site_id=site.id, **m) for m in milestones)
    session.flush()
    return site.id


def set_milestone_done(session: Session, site_id: int, milestone_id: int, done) -> bool:
    """Set (or clear) a milestone's done date; False when the site has no such milestone."""
    result = session.execute(
        text("UPDATE site_milestones SET done_date = :d WHERE id = :m AND site_id = :s"),
        {"d": done, "m": milestone_id, "s": site_id},
    )
    return result.rowcount == 1


def insert_progress(session: Session, site_id: int, values: dict, photos: list) -> int:
    report = SiteProgress(site_id=site_id, **values)
    session.add(report)
    session.flush()
    session.add_all(
        SitePhoto(
            progress_id=report.id,
            content_type=p.content_type,
            size=p.size,
            sha256=p.sha256,
            data=p.data,
        )
        for p in photos
    )
    session.flush()
    return report.id


def photo(session: Session, photo_id: int) -> SitePhoto | None:
    return session.get(SitePhoto, photo_id)


def site_exists(session: Session, site_id: int) -> bool:
    return session.get(ReconstructionSite, site_id) is not None
