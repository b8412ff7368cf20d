"""Initial schema: areas, users, workers, departments, households and their grid
assignment, incidents, hazards and reconstruction sites.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "level IN ('district', 'street', 'community', 'grid', 'microgrid')",
            name=op.f("ck_areas_level_known"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_areas_geom_valid")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_areas_valid_period"),
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["areas.id"], name=op.f("fk_areas_parent_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_areas_code")),
    )
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "ix_areas_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            "ix_areas_level_live",
            ["level"],
            unique=False,
            postgresql_where="valid_to IS NULL",
        )
        batch_op.create_index("ix_areas_parent_id", ["parent_id"], unique=False)

    op.create_geospatial_table(
        "hazards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hazard_class", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')",
            name=op.f("ck_hazards_geom_type"),
        ),
        sa.CheckConstraint(
            "hazard_class IN ('flood', 'landslide', 'earthquake', 'fire', 'security', 'construction')",
            name=op.f("ck_hazards_class_known"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_hazards_geom_valid")),
        sa.CheckConstraint("severity BETWEEN 1 AND 4", name=op.f("ck_hazards_severity_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazards")),
    )
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "ix_hazards_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )

    op.create_geospatial_table(
        "households",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.Text(), server_default="", nullable=False),
        sa.Column("head_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=32), server_default="", nullable=False),
        sa.Column("members", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=32)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_households_geom_valid")),
        sa.CheckConstraint(
            "members >= 1 AND members <= 100", name=op.f("ck_households_members_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("external_id", name=op.f("uq_households_external_id")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "ix_households_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index("ix_households_tags", ["tags"], unique=False, postgresql_using="gin")

    op.create_geospatial_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("site_type", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')",
            name=op.f("ck_sites_geom_type"),
        ),
        sa.CheckConstraint(
            "site_type IN ('housing', 'road', 'school', 'public_facility')",
            name=op.f("ck_sites_type_known"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_sites_geom_valid")),
        sa.CheckConstraint("planned_end > planned_start", name=op.f("ck_sites_planned_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "ix_sites_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'planner', 'leader', 'worker')",
            name=op.f("ck_users_role_known"),
        ),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_users_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    # areas and users refer to each other: this key waits until both tables exist.
    op.create_foreign_key(
        op.f("fk_areas_updated_by_users"), "areas", "users", ["updated_by"], ["id"]
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_geospatial_table(
        "area_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_area_versions_geom_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_area_versions_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_area_versions_changed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["areas.id"], name=op.f("fk_area_versions_parent_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_versions")),
    )
    with op.batch_alter_table("area_versions", schema=None) as batch_op:
        batch_op.create_index("ix_area_versions_area_id", ["area_id", "version"], unique=True)
        batch_op.create_geospatial_index(
            "ix_area_versions_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )

    op.create_table(
        "assignment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("uncovered", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_assignment_runs_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_assignment_runs_created_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_runs")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_departments_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_table(
        "household_grid",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["areas.id"], name=op.f("fk_household_grid_grid_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_grid_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_grid")),
    )
    with op.batch_alter_table("household_grid", schema=None) as batch_op:
        batch_op.create_index("ix_household_grid_grid_id", ["grid_id"], unique=False)

    op.create_table(
        "household_grid_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "valid_to >= valid_from",
            name=op.f("ck_household_grid_history_valid_period"),
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["areas.id"],
            name=op.f("fk_household_grid_history_grid_id_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_grid_history_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_grid_history")),
    )
    with op.batch_alter_table("household_grid_history", schema=None) as batch_op:
        batch_op.create_index("ix_household_grid_history_grid", ["grid_id"], unique=False)
        batch_op.create_index(
            "ix_household_grid_history_household",
            ["household_id", "valid_from"],
            unique=False,
        )

    op.create_table(
        "personal_data_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("subject_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_personal_data_reads_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_reads")),
    )
    op.create_table(
        "site_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("done_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_site_milestones_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_milestones")),
    )
    with op.batch_alter_table("site_milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_milestones_site_id"), ["site_id"], unique=False)

    op.create_table(
        "site_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "percent BETWEEN 0 AND 100", name=op.f("ck_site_progress_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"],
            ["users.id"],
            name=op.f("fk_site_progress_reported_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_site_progress_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_progress")),
    )
    with op.batch_alter_table("site_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_progress_site_id"), ["site_id"], unique=False)

    op.create_table(
        "worker_grids",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column(
            "since",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["areas.id"],
            name=op.f("fk_worker_grids_grid_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_worker_grids_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "grid_id", name=op.f("pk_worker_grids")),
    )
    with op.batch_alter_table("worker_grids", schema=None) as batch_op:
        batch_op.create_index("ix_worker_grids_grid_id", ["grid_id"], unique=False)

    op.create_table(
        "incident_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("deadline_days", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "deadline_days > 0", name=op.f("ck_incident_categories_deadline_positive")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_incident_categories_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_incident_categories_code")),
    )
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="submitted", nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('patrol', 'web', 'hotline', 'api', 'open311')",
            name=op.f("ck_incidents_channel_known"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'registered', 'dispatched', 'in_progress', 'reported_back', 'verified', 'closed', 'rated', 'rejected', 'duplicate', 'reopened')",
            name=op.f("ck_incidents_status_known"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5",
            name=op.f("ck_incidents_rating_range"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["incident_categories.id"],
            name=op.f("fk_incidents_category_id_incident_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["areas.id"], name=op.f("fk_incidents_community_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_incidents_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["areas.id"], name=op.f("fk_incidents_grid_id_areas")),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_incidents_reporter_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["street_id"], ["areas.id"], name=op.f("fk_incidents_street_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_incidents_worker_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_created_at", ["created_at"], unique=False)
        batch_op.create_geospatial_index(
            "ix_incidents_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index("ix_incidents_grid_status", ["grid_id", "status"], unique=False)

    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_incident_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_events_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_events_incident_id"), ["incident_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_events_incident_id"))

    op.drop_table("incident_events")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_grid_status")
        batch_op.drop_geospatial_index(
            "ix_incidents_geom", postgresql_using="gist", column_name="geom"
        )
        batch_op.drop_index("ix_incidents_created_at")

    op.drop_geospatial_table("incidents")
    op.drop_table("incident_categories")
    with op.batch_alter_table("worker_grids", schema=None) as batch_op:
        batch_op.drop_index("ix_worker_grids_grid_id")

    op.drop_table("worker_grids")
    with op.batch_alter_table("site_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_progress_site_id"))

    op.drop_table("site_progress")
    with op.batch_alter_table("site_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_milestones_site_id"))

    op.drop_table("site_milestones")
    op.drop_table("personal_data_reads")
    with op.batch_alter_table("household_grid_history", schema=None) as batch_op:
        batch_op.drop_index("ix_household_grid_history_household")
        batch_op.drop_index("ix_household_grid_history_grid")

    op.drop_table("household_grid_history")
    with op.batch_alter_table("household_grid", schema=None) as batch_op:
        batch_op.drop_index("ix_household_grid_grid_id")

    op.drop_table("household_grid")
    op.drop_table("departments")
    op.drop_table("assignment_runs")
    with op.batch_alter_table("area_versions", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "ix_area_versions_geom", postgresql_using="gist", column_name="geom"
        )
        batch_op.drop_index("ix_area_versions_area_id")

    op.drop_geospatial_table("area_versions")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_constraint(op.f("fk_areas_updated_by_users"), "areas", type_="foreignkey")
    op.drop_table("users")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_geospatial_index("ix_sites_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("sites")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index("ix_households_tags", postgresql_using="gin")
        batch_op.drop_geospatial_index(
            "ix_households_geom", postgresql_using="gist", column_name="geom"
        )

    op.drop_geospatial_table("households")
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "ix_hazards_geom", postgresql_using="gist", column_name="geom"
        )

    op.drop_geospatial_table("hazards")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index("ix_areas_parent_id")
        batch_op.drop_index("ix_areas_level_live", postgresql_where="valid_to IS NULL")
        batch_op.drop_geospatial_index("ix_areas_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("areas")
