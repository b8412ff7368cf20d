"""Escalation of overdue incidents: grid → community → street → district.

An open incident past its deadline is escalated to its community; once overdue by more than
``street_days`` working days (default 1) to its street; by more than ``district_days``
(default 3) to the district.  "Overdue by more than n working days" means the n-th working
day after the deadline's day has ended (see ``WorkCalendar.working_days_overdue``), so
weekends and statutory holidays do not count.

Each escalation sets ``escalation_level`` and ``escalated_at``, adds a timeline entry (the
status does not change) and tells the leaders of every level it reached (users whose
``area_id`` is that community, street or district; for the district also the leaders of the
whole district, whose area is unset) and the admins.  An incident late enough for a higher
level goes there directly, and the levels it passes are told too.  Running again escalates
nothing more; a reopened case starts again from the grid.

Everything is set-based SQL (the selection and update in one statement, then the timeline and
the notices from the escalated set), so a run is a few scans and joins however many incidents
there are, and it commits once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import ESCALATION_LEVELS, OPEN_STATUSES, User
from app.store.calendar import load_calendar

LEVEL_NAMES = {"community": "社区", "street": "街道", "district": "区县"}
DEFAULT_STREET_DAYS = 1
DEFAULT_DISTRICT_DAYS = 3

# A level's rank is its position in ESCALATION_LEVELS (1 community, 2 street, 3 district);
# 0 when never escalated.  No rows are locked while choosing: the UPDATE re-checks status,
# level and deadline on the latest version of each row, so a case closed, reopened or
# escalated meanwhile by someone else is skipped rather than escalated from stale data.
# The escalated cases go to a temporary table with real statistics: joined straight from the
# UPDATE's RETURNING, the planner guesses one row and can loop over hundreds of thousands.
RUN_TABLE_SQL = (
    "DROP TABLE IF EXISTS escalation_run",
    "CREATE TEMP TABLE escalation_run (id bigint PRIMARY KEY, status text, category_id int, "
    "community_id int, street_id int, old_rank int, new_rank int, level text, level_name text) "
    "ON COMMIT DROP",
)
ESCALATE_SQL = """
WITH due AS MATERIALIZED (
    SELECT s.* FROM (
        SELECT i.id, i.escalation_level AS old_level, i.deadline_at,
               coalesce(array_position(CAST(:levels AS text[]), i.escalation_level::text), 0)
                   AS old_rank,
               CASE WHEN i.deadline_at <= :district_cutoff THEN 3
                    WHEN i.deadline_at <= :street_cutoff THEN 2
                    ELSE 1 END AS new_rank
        FROM incidents i
        WHERE i.status = ANY(:open) AND i.deadline_at < :now
    ) s
    WHERE s.new_rank > s.old_rank
),
escalated AS (
    UPDATE incidents i
    SET escalation_level = (CAST(:levels AS text[]))[d.new_rank], escalated_at = :now
    FROM due d
    WHERE i.id = d.id AND i.status = ANY(:open) AND i.deadline_at = d.deadline_at
      AND i.escalation_level IS NOT DISTINCT FROM d.old_level
    RETURNING i.id, i.status, i.category_id, i.community_id, i.street_id, d.old_rank, d.new_rank,
              (CAST(:levels AS text[]))[d.new_rank] AS level,
              (CAST(:level_names AS text[]))[d.new_rank] AS level_name
)
INSERT INTO escalation_run SELECT * FROM escalated
"""
EVENTS_SQL = """
INSERT INTO incident_events (incident_id, from_status, to_status, actor_id, note, created_at)
SELECT e.id, e.status, e.status, NULL, '逾期升级至' || e.level_name, :now FROM escalation_run e
"""
NOTICES_SQL = """
WITH reached AS (  -- (incident, area) for every level an incident reached in this run
    SELECT e.id, e.community_id AS area_id FROM escalation_run e WHERE e.old_rank < 1
    UNION ALL
    SELECT e.id, e.street_id FROM escalation_run e WHERE e.old_rank < 2 AND e.new_rank >= 2
    UNION ALL
    SELECT e.id, s.parent_id FROM escalation_run e JOIN areas s ON s.id = e.street_id
    WHERE e.new_rank >= 3
),
recipients AS (
    SELECT r.id AS incident_id, u.id AS user_id
    FROM reached r JOIN users u ON u.area_id = r.area_id
    WHERE u.role = 'leader' AND u.active
    UNION
    SELECT e.id, u.id FROM escalation_run e CROSS JOIN users u
    WHERE u.active AND (u.role = 'admin' OR (u.role = 'leader' AND u.area_id IS NULL
                                               AND e.new_rank >= 3))
)
INSERT INTO notifications (user_id, incident_id, kind, message, created_at)
SELECT r.user_id, r.incident_id, 'escalated',
       '事件 #' || e.id || '（' || c.name || '）逾期未办结，已升级至' || e.level_name, :now
FROM recipients r
JOIN escalation_run e ON e.id = r.incident_id
JOIN incident_categories c ON c.id = e.category_id
"""


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def escalate_overdue(
    session: Session,
    now: datetime | None = None,
    *,
    street_days: int | None = None,
    district_days: int | None = None,
) -> dict:
    """Escalate every overdue open incident that is due for a higher level; commit once.

    ``street_days`` and ``district_days`` default to the settings
    ``WANGGE_ESCALATE_STREET_DAYS`` and ``WANGGE_ESCALATE_DISTRICT_DAYS``.  Returns counts:
    ``overdue`` (open incidents past their deadline), ``escalated`` and how many went to each
    of ``community``, ``street`` and ``district`` in this run, and ``notified`` (notices).
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if street_days is None:
        street_days = _setting("WANGGE_ESCALATE_STREET_DAYS", DEFAULT_STREET_DAYS)
    if district_days is None:
        district_days = _setting("WANGGE_ESCALATE_DISTRICT_DAYS", DEFAULT_DISTRICT_DAYS)
    if not 0 <= street_days <= district_days:
        raise ValueError(
            f"escalation thresholds must satisfy 0 <= street ({street_days}) "
            f"<= district ({district_days}) working days"
        )
    calendar = load_calendar(session)
    for statement in RUN_TABLE_SQL:
        session.execute(text(statement))
    session.execute(
        text(ESCALATE_SQL),
        {
            "now": now,
            "open": list(OPEN_STATUSES),
            "levels": list(ESCALATION_LEVELS),
            "level_names": [LEVEL_NAMES[level] for level in ESCALATION_LEVELS],
            "street_cutoff": calendar.overdue_cutoff(now, street_days),
            "district_cutoff": calendar.overdue_cutoff(now, district_days),
        },
    )
    session.execute(text("ANALYZE escalation_run"))
    session.execute(text(EVENTS_SQL), {"now": now})
    notified = session.execute(text(NOTICES_SQL), {"now": now}).rowcount
    by_level = dict(
        session.execute(text("SELECT level, count(*) FROM escalation_run GROUP BY level")).all()
    )
    overdue = session.scalar(
        text("SELECT count(*) FROM incidents WHERE status = ANY(:open) AND deadline_at < :now"),
        {"open": list(OPEN_STATUSES), "now": now},
    )
    session.commit()
    result = {level: by_level.get(level, 0) for level in ESCALATION_LEVELS}
    return {
        "overdue": overdue,
        "escalated": sum(result.values()),
        **result,
        "notified": notified,
    }


ESCALATED_TO_SQL = """
SELECT i.id, i.status, i.escalation_level, i.escalated_at, i.deadline_at, i.created_at,
       c.code AS category_code, c.name AS category_name,
       g.code AS grid_code, g.name AS grid_name,
       cm.code AS community_code, cm.name AS community_name,
       st.code AS street_code, st.name AS street_name
FROM incidents i
JOIN incident_categories c ON c.id = i.category_id
LEFT JOIN areas g ON g.id = i.grid_id
LEFT JOIN areas cm ON cm.id = i.community_id
LEFT JOIN areas st ON st.id = i.street_id
WHERE i.status = ANY(:open) AND i.escalation_level = ANY(:levels) AND {area_clause}
ORDER BY array_position(CAST(:all_levels AS text[]), i.escalation_level::text) DESC,
         i.deadline_at, i.id
LIMIT :limit
"""

AREA_CLAUSES = {
    "community": "i.community_id = :area_id",
    "street": "i.street_id = :area_id",
    "district": "i.street_id IN (SELECT id FROM areas WHERE parent_id = :area_id)",
}


def escalated_to(session: Session, user: User, *, limit: int = 200) -> list[dict]:
    """Open incidents escalated to the user's level or above, within the user's area.

    A community leader sees those escalated to the community, street or district from their
    community; a street leader those at street or district level from their street; a
    district leader (or a leader or admin without an area) those escalated to the district.
    Other roles, and leaders of a grid, get an empty list.  No personal data is returned:
    the most urgent (highest level, earliest deadline) first.
    """
    if user.role not in ("leader", "admin"):
        return []
    level = "district"
    if user.area_id is not None:
        level = session.scalar(text("SELECT level FROM areas WHERE id = :id"), {"id": user.area_id})
        if level not in ESCALATION_LEVELS:
            return []
    area_clause = AREA_CLAUSES[level] if user.area_id is not None else "TRUE"
    rows = session.execute(
        text(ESCALATED_TO_SQL.format(area_clause=area_clause)),
        {
            "open": list(OPEN_STATUSES),
            "levels": list(ESCALATION_LEVELS[ESCALATION_LEVELS.index(level) :]),
            "all_levels": list(ESCALATION_LEVELS),
            "area_id": user.area_id,
            "limit": limit,
        },
    ).mappings()
    return [dict(row) | {"level_name": LEVEL_NAMES[row["escalation_level"]]} for row in rows]
