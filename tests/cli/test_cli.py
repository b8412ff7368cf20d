"""The `wangge` CLI: each command's output and its errors."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.models import Household, User
from tests.factories import X0, Y0, add_households, build_world


def invoke(runner, *args):
    return runner.invoke(args=["wangge", *args])


def test_assign_all_prints_counts_and_moves(runner, session):
    world = build_world(session)
    add_households(session, [(X0 + 0.005, Y0 + 0.005)] * 2 + [(X0 - 0.01, Y0 - 0.01)])
    result = invoke(runner, "assign", "--all")
    assert result.exit_code == 0, result.output
    assert "assigned 2, uncovered 1, moved 2 (of 3 households)" in result.output
    assert f"(uncovered) -> {world.grids['SW'].code}: 2" in result.output
    again = invoke(runner, "assign", "--area", world.community.code)
    assert "assigned 2, uncovered 0, moved 0 (of 2 households)" in again.output


def test_assign_needs_exactly_one_target_and_a_known_area(runner, session):
    build_world(session)
    session.commit()
    assert invoke(runner, "assign").exit_code == 2
    result = invoke(runner, "assign", "--area", "123")
    assert result.exit_code == 1
    assert "No live area with code '123'" in result.output


def test_import_households_lists_bad_rows_and_imports_nothing(runner, session, tmp_path):
    build_world(session)
    session.commit()  # as in real use: a failed command rolls back only its own work
    path = tmp_path / "h.csv"
    path.write_text(
        "external_id,lon,lat,address,head_name,phone,members,tags\n"
        f"A,{X0 + 0.005},{Y0 + 0.005},x,y,,2,\nB,abc,{Y0},x,y,,2,\n"
    )
    result = invoke(runner, "import-households", str(path))
    assert result.exit_code == 1
    assert "1 of 2 rows are invalid; nothing was imported." in result.output
    assert "row 3, field lon/lat: lon and lat must be numbers" in result.output
    assert session.scalar(select(func.count()).select_from(Household)) == 0
    path.write_text(
        "external_id,lon,lat,address,head_name,phone,members,tags\n"
        f"A,{X0 + 0.005},{Y0 + 0.005},x,y,,2,\n"
    )
    ok = invoke(runner, "import-households", str(path))
    assert "imported 1 households: 1 assigned to grids, 0 in no grid" in ok.output


def test_import_areas_reports_feature_faults(runner, session, tmp_path):
    world = build_world(session)
    session.commit()
    path = tmp_path / "a.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [X0, Y0],
                                    [X0 + 0.01, Y0 + 0.01],
                                    [X0 + 0.01, Y0],
                                    [X0, Y0 + 0.01],
                                    [X0, Y0],
                                ]
                            ],
                        },
                    }
                ],
            }
        )
    )
    result = invoke(
        runner, "import-areas", str(path), "--level", "grid", "--parent", world.community.code
    )
    assert result.exit_code == 1
    assert "feature 1:" in result.output and "at 105.965000,31.575000" in result.output


def test_coverage_json(runner, session):
    world = build_world(session)
    result = invoke(runner, "coverage", "--area", world.community.code, "--json")
    report = json.loads(result.output)
    assert report["areas_checked"] == 5
    assert (report["overlaps"], report["gaps"], report["outside_parent"]) == ([], [], [])
    assert len(report["grids_without_worker"]) == 4
    text_result = invoke(runner, "coverage")
    assert "grids without a worker: 4" in text_result.output


def test_create_user_and_issue_token_give_api_access(runner, client, session):
    build_world(session)
    session.commit()
    created = invoke(
        runner, "create-user", "ops", "--role", "leader", "--password", "long-password"
    )
    assert created.output.strip() == "created leader ops"
    duplicate = invoke(
        runner, "create-user", "ops", "--role", "leader", "--password", "long-password"
    )
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    short = invoke(runner, "create-user", "x", "--role", "leader", "--password", "short")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    token = invoke(runner, "issue-token", "ops").stdout.strip()
    assert token.startswith("wg_")
    response = client.get("/api/v1/areas?level=grid", headers={"Authorization": f"Bearer {token}"})
    assert response.json["total"] == 4
    assert session.scalar(select(User.role).where(User.username == "ops")) == "leader"


def test_demo_builds_a_small_city_and_is_idempotent(runner, session):
    result = invoke(runner, "demo", "--households", "300", "--seed", "7")
    assert result.exit_code == 0, result.output
    for line in (
        "demo city built:",
        "communities: 40",
        "grids: 280",
        "grids_without_worker: 6",
        "households: 300",
        "uncovered_households: 1",
        "incidents: 2000",
        "sites: 30",
    ):
        assert line in result.output
    assert "worker" in result.output and "leader" in result.output
    again = invoke(runner, "demo")
    assert "demo city already present (nothing changed):" in again.output
    assert "households: 300" in again.output
