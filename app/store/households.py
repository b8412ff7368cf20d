"""Reading households, always within a scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.store.fragments import rounded
from app.store.scope import Scope


@dataclass(frozen=True)
class HouseholdRow:
    id: int
    external_id: str | None
    lon: float
    lat: float
    address: str
    head_name: str
    phone: str
    members: int
    tags: list[str]
    grid_code: str | None


def households_in_scope(
    session: Session,
    scope: Scope,
    *,
    grid_code: str | None = None,
    household_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[HouseholdRow], int]:
    """Households the scope may see (restricted scopes: only those in their grids)."""
    where, params = ["true"], {"limit": limit, "offset": offset}
    if scope.grid_ids is not None:
        where.append("hg.grid_id = ANY(:grid_ids)")
        params["grid_ids"] = list(scope.grid_ids)
    if grid_code:
        where.append("g.code = :grid_code")
        params["grid_code"] = grid_code
    if household_id is not None:
        where.append("h.id = :household_id")
        params["household_id"] = household_id
    sql_where = " AND ".join(where)
    base = f"""
        FROM households h
        LEFT JOIN household_grid hg ON hg.household_id = h.id
        LEFT JOIN areas g ON g.id = hg.grid_id
        WHERE {sql_where}
    """
    total = session.scalar(text(f"SELECT count(*) {base}"), params) or 0
    rows = session.execute(
        text(
            f"""
            SELECT h.id, h.external_id, {rounded("ST_X(h.geom)")} AS lon,
                   {rounded("ST_Y(h.geom)")} AS lat, h.address,
                   h.head_name, h.phone, h.members, h.tags, g.code AS grid_code
            {base} ORDER BY h.id LIMIT :limit OFFSET :offset
            """
        ),
        params,
    )
    return [HouseholdRow(**r._mapping) for r in rows], total


HOUSEHOLD_STAGE_COLUMNS = (
    "external_id",
    "x",
    "y",
    "address",
    "head_name",
    "phone",
    "members",
    "tags",
)


def copy_households(session: Session, rows, total: int, progress=None) -> int:
    """Bulk-load households with COPY; the new ids land in temp table ``imported_households``.

    ``rows`` yields tuples in HOUSEHOLD_STAGE_COLUMNS order (x, y in WGS84).  Points are
    built in SQL from the copied numbers, which is far faster than one INSERT per row.
    """
    cursor = session.connection().connection.driver_connection.cursor()
    # Dropped at commit; dropped here too for callers that load twice in one transaction.
    cursor.execute("DROP TABLE IF EXISTS household_stage, imported_households")
    cursor.execute(
        """
        CREATE TEMP TABLE household_stage (
            ord bigserial, external_id text, x float8, y float8, address text,
            head_name text, phone text, members int, tags text[]
        ) ON COMMIT DROP
        """
    )
    columns = ", ".join(HOUSEHOLD_STAGE_COLUMNS)
    with cursor.copy(f"COPY household_stage ({columns}) FROM STDIN") as copy:
        copy.set_types(["text", "float8", "float8", "text", "text", "text", "int4", "text[]"])
        for done, row in enumerate(rows, start=1):
            copy.write_row(row)
            if progress and done % 20_000 == 0:
                progress(done, total)
    cursor.execute("CREATE TEMP TABLE imported_households (household_id bigint) ON COMMIT DROP")
    cursor.execute(
        """
        WITH inserted AS (
            INSERT INTO households (external_id, geom, address, head_name, phone, members, tags)
            SELECT external_id, ST_SetSRID(ST_MakePoint(x, y), 4326), address, head_name, phone,
                   members, tags
            FROM household_stage ORDER BY ord
            RETURNING id
        )
        INSERT INTO imported_households SELECT id FROM inserted
        """
    )
    if progress:
        progress(total, total)
    return cursor.rowcount


def existing_external_ids(session: Session, external_ids: list[str]) -> dict[str, int | None]:
    """{external_id: the grid its household is assigned to (None: uncovered)} for the taken ones."""
    if not external_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT h.external_id, hg.grid_id FROM households h "
            "LEFT JOIN household_grid hg ON hg.household_id = h.id "
            "WHERE h.external_id = ANY(:ids)"
        ),
        {"ids": external_ids},
    )
    return {r.external_id: r.grid_id for r in rows}
