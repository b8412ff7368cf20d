"""Households and vulnerable households per grid, kept current by triggers.

The coverage map, its tiles and the table beside it read these counts instead of counting a
million households on every request. The triggers recount the grids a statement touched
(an index-only count of a few hundred rows each), so the counts are right whatever path
wrote the households or their assignments: assignment, imports, tag edits, deletions.
Bulk assignment swaps ``household_grid`` for a rebuilt table; it restores this table's
triggers with its indexes and counts every grid from the rebuilt table itself.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The tags that make a household vulnerable: app.models.VULNERABLE_TAGS (a test checks that
# the two agree). PARALLEL SAFE: a query calling an unmarked function never runs in
# parallel, and bulk assignment calls this one.
VULNERABLE_TAGS_FUNCTION = """
CREATE FUNCTION wangge_vulnerable_tags() RETURNS varchar[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ARRAY['elderly_alone', 'disabled', 'low_income', 'left_behind_child']::varchar[] $$
"""

# Recount the given live or retired grids (every grid for NULL); grids deleted meanwhile are
# skipped (their row went with them). Planned per call: one generic plan cannot serve both
# two grids (index probes) and every grid (one hash join over the million assignments).
RECOUNT_FUNCTION = """
CREATE FUNCTION recount_grid_counts(grid_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($sql$
    INSERT INTO grid_counts (grid_id, households, vulnerable)
    SELECT g.id, count(hg.household_id),
           count(hg.household_id) FILTER (WHERE h.tags && wangge_vulnerable_tags())
    FROM areas g
    LEFT JOIN household_grid hg ON hg.grid_id = g.id
    LEFT JOIN households h ON h.id = hg.household_id
    WHERE g.level = 'grid' %s
    GROUP BY g.id
    ON CONFLICT (grid_id) DO UPDATE
      SET households = EXCLUDED.households, vulnerable = EXCLUDED.vulnerable
  $sql$, CASE WHEN grid_ids IS NULL THEN '' ELSE 'AND g.id = ANY($1)' END)
  USING grid_ids;
END $$
"""

# One function per transition-table shape: statement triggers see every changed row at once.
ASSIGNMENT_FUNCTIONS = {
    "inserted": "SELECT array_agg(DISTINCT grid_id) FROM new_rows",
    "deleted": "SELECT array_agg(DISTINCT grid_id) FROM old_rows",
    "updated": (
        "SELECT array_agg(DISTINCT grid_id) FROM "
        "(SELECT grid_id FROM old_rows UNION SELECT grid_id FROM new_rows) g"
    ),
}
TAGS_FUNCTION = """
CREATE FUNCTION grid_counts_after_tags() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  touched integer[] := (
    SELECT array_agg(DISTINCT hg.grid_id)
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN household_grid hg ON hg.household_id = n.id
    WHERE (n.tags && wangge_vulnerable_tags())
          IS DISTINCT FROM (o.tags && wangge_vulnerable_tags())
  );
BEGIN
  IF touched IS NOT NULL THEN
    PERFORM recount_grid_counts(touched);
  END IF;
  RETURN NULL;
END $$
"""


def upgrade():
    op.create_table(
        "grid_counts",
        sa.Column(
            "grid_id",
            sa.Integer(),
            sa.ForeignKey("areas.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("households", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("vulnerable", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(VULNERABLE_TAGS_FUNCTION)
    op.execute(RECOUNT_FUNCTION)
    for name, grids in ASSIGNMENT_FUNCTIONS.items():
        op.execute(
            f"""
            CREATE FUNCTION grid_counts_after_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
              touched integer[] := ({grids});
            BEGIN
              IF touched IS NOT NULL THEN  -- NULL: the statement changed no row
                PERFORM recount_grid_counts(touched);
              END IF;
              RETURN NULL;
            END $$
            """
        )
    transitions = {
        "inserted": ("INSERT", "NEW TABLE AS new_rows"),
        "deleted": ("DELETE", "OLD TABLE AS old_rows"),
        "updated": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    }
    for name, (event, tables) in transitions.items():
        op.execute(
            f"CREATE TRIGGER grid_counts_{name} AFTER {event} ON household_grid "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION grid_counts_after_{name}()"
        )
    op.execute(TAGS_FUNCTION)
    op.execute(
        "CREATE TRIGGER grid_counts_tags AFTER UPDATE ON households "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION grid_counts_after_tags()"
    )
    op.execute("SELECT recount_grid_counts(NULL)")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS grid_counts_tags ON households")
    for name in ASSIGNMENT_FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS grid_counts_{name} ON household_grid")
        op.execute(f"DROP FUNCTION IF EXISTS grid_counts_after_{name}()")
    op.execute("DROP FUNCTION IF EXISTS grid_counts_after_tags()")
    op.execute("DROP FUNCTION IF EXISTS recount_grid_counts(integer[])")
    op.execute("DROP FUNCTION IF EXISTS wangge_vulnerable_tags()")
    op.drop_table("grid_counts")
