"""The dashboard's figures against a small world whose every figure is worked out by hand:
per grid, community and street, with category filters, the weekly trend and the incident
map's incidents per 1,000 households."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import text

from app.errors import BadRequest
from app.services import dashboard as service
from app.services.assignment import assign_all
from app.store.scope import Scope
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_households,
    add_incident,
    add_user,
    build_world,
)

SH = service.SHANGHAI
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=SH)
TODAY = NOW.date()
PERIOD = {"from": "2026-06-01", "to": "2026-06-14"}  # Monday 1 June to Sunday 14 June
HOUSEHOLDS = {"NW": 5, "NE": 2, "SW": 0, "SE": 1}
CORNERS = {
    "NW": (X0, Y0 + STEP),
    "NE": (X0 + STEP, Y0 + STEP),
    "SW": (X0, Y0),
    "SE": (X0 + STEP, Y0),
}


def at(day: int, hour: int = 0, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


# grid, category, status, created, deadline, closed, rating
INCIDENTS = [
    ("NW", "road", "rated", at(1, 10), at(4, 10), at(3, 10), 5),  # 1: 48 h, on time
    ("NW", "road", "closed", at(2, 8), at(5, 8), at(6, 8), None),  # 2: 96 h, late
    ("NW", "road", "in_progress", at(10, 9), at(12, 9), None, None),  # 3: overdue
    ("NW", "trash", "rejected", at(5, 9), at(8, 9), None, None),  # 4: not counted
    ("NW", "road", "submitted", at(12), at(20), None, None),  # 5: open, not yet due
    ("NE", "trash", "rated", at(3), at(6), at(4), 3),  # 6: 24 h, on time
    ("NE", "road", "duplicate", at(4), at(7), None, None),  # 7: not counted
    ("NE", "road", "reopened", at(5), at(8), None, None),  # 8: open, overdue
    ("SE", "trash", "rated", at(8, 12), at(9, 12), at(10, 12), 4),  # 9: 48 h, late
    ("SE", "road", "closed", at(20, month=5), at(25, month=5), at(9, 10), None),  # 10: before
    ("SE", "road", "closed", at(14, 23, 30), at(18), at(15, 1, 30), None),  # 11: 2 h, on time
    ("SE", "road", "submitted", at(15, 0, 30), at(20), None, None),  # 12: after the period
]


@pytest.fixture
def world(session):
    world = build_world(session)
    for key, count in HOUSEHOLDS.items():
        x, y = CORNERS[key]
        add_households(session, [(x + 0.001 * (i + 1), y + 0.001 * (i + 1)) for i in range(count)])
    add_user(session, "wang", "worker", grids=[world.grids["NW"], world.grids["NE"]])
    add_user(session, "li", "worker", grids=[world.grids["NE"]])
    add_user(session, "zhao", "worker", grids=[world.grids["SE"]])
    categories = {"road": add_category(session, "road", "道路破损"), "trash": None}
    categories["trash"] = add_category(session, "trash", "垃圾堆放")
    for grid, category, status, created, deadline, closed, rating in INCIDENTS:
        add_incident(
            session,
            world,
            grid,
            categories[category],
            status=status,
            created_at=created,
            deadline_at=deadline,
            closed_at=closed,
            rating=rating,
        )
    assign_all(session)
    return world


def report(session, scope=None, **args):
    filters = service.parse_dashboard_filters(PERIOD | args, TODAY)
    return service.dashboard(session, scope or Scope.everything(), filters, NOW)


def figures(row) -> dict:
    return {
        "counted": row.counted,
        "open": row.open,
        "closed": row.closed,
        "resolution": row.resolution_rate,
        "on_time": row.on_time_rate,
        "hours": None if row.hours_to_close is None else round(row.hours_to_close, 6),
        "rating": None if row.mean_rating is None else round(row.mean_rating, 6),
        "satisfied": row.satisfied_share,
        "overdue": row.overdue,
        "households": row.households,
        "workers": row.workers,
        "per_worker": row.households_per_worker,
    }


# Worked out by hand from INCIDENTS (created 1-14 June; rejected and duplicate not counted).
EXPECTED_GRIDS = {
    "第1网格": {  # NW: incidents 1, 2, 3, 5 counted
        "counted": 4, "open": 2, "closed": 2, "resolution": 0.5, "on_time": 0.5,
        "hours": 72.0, "rating": 5.0, "satisfied": 1.0, "overdue": 1,
        "households": 5, "workers": 1, "per_worker": 5.0,
    },
    "第2网格": {  # NE: incidents 6 and 8 counted
        "counted": 2, "open": 1, "closed": 1, "resolution": 0.5, "on_time": 1.0,
        "hours": 24.0, "rating": 3.0, "satisfied": 0.0, "overdue": 1,
        "households": 2, "workers": 2, "per_worker": 1.0,
    },
    "第3网格": {  # SW: nothing
        "counted": 0, "open": 0, "closed": 0, "resolution": None, "on_time": None,
        "hours": None, "rating": None, "satisfied": None, "overdue": 0,
        "households": 0, "workers": 0, "per_worker": None,
    },
    "第4网格": {  # SE: incidents 9 and 11 (10 was created before, 12 after the period)
        "counted": 2, "open": 0, "closed": 2, "resolution": 1.0, "on_time": 0.5,
        "hours": 25.0, "rating": 4.0, "satisfied": 1.0, "overdue": 0,
        "households": 1, "workers": 1, "per_worker": 1.0,
    },
}  # fmt: skip
EXPECTED_TOTAL = {
    "counted": 8, "open": 3, "closed": 5, "resolution": 5 / 8, "on_time": 3 / 5,
    "hours": (48 + 96 + 24 + 48 + 2) / 5, "rating": 4.0, "satisfied": 2 / 3, "overdue": 2,
    "households": 8, "workers": 3, "per_worker": 8 / 3,
}  # fmt: skip


def test_grid_rows_and_total_match_the_figures_worked_out_by_hand(session, world):
    result = report(session, level="grid", parent=world.community.code)
    assert {row.name: figures(row) for row in result.rows} == EXPECTED_GRIDS
    assert [row.code for row in result.rows] == [g.code for g in world.grids.values()]
    assert figures(result.total) == pytest.approx(EXPECTED_TOTAL)
    assert result.total.name == "合计"
    assert [a["code"] for a in result.breadcrumbs] == [
        world.district.code,
        world.street.code,
        world.community.code,
    ]
    assert result.child_level is None


def test_community_and_street_levels_roll_up_the_same_incidents(session, world):
    community = report(session, level="community", parent=world.street.code)
    assert [row.name for row in community.rows] == ["测试社区"]
    assert figures(community.rows[0]) == pytest.approx(EXPECTED_TOTAL)
    assert community.child_level == "grid"

    street = report(session)  # level=street, whole district
    assert [(row.code, row.name) for row in street.rows] == [(world.street.code, "保宁街道")]
    assert figures(street.rows[0]) == pytest.approx(EXPECTED_TOTAL)
    assert figures(street.total) == pytest.approx(EXPECTED_TOTAL)
    assert street.child_level == "community"


def test_a_whole_level_and_a_drill_down_to_the_same_grids_agree(session, world):
    # Two ways to the same rows: every grid of the district (one pass over the incidents),
    # the grids of the one community (found through the index).
    whole = report(session, level="grid")
    drill = report(session, level="grid", parent=world.community.code)
    assert [(r.code, figures(r)) for r in whole.rows] == [(r.code, figures(r)) for r in drill.rows]
    assert figures(whole.total) == pytest.approx(EXPECTED_TOTAL)


def test_a_retired_grid_and_its_incidents_are_left_out_at_every_depth(session, world):
    session.execute(
        text("UPDATE areas SET valid_to = valid_from + interval '1 second' WHERE id = :id"),
        {"id": world.grids["SE"].id},
    )
    for result in (
        report(session, level="grid"),
        report(session, level="grid", parent=world.community.code),
    ):
        assert "第4网格" not in [row.name for row in result.rows]
        assert result.total.counted == 6  # 8 less SE's incidents 9 and 11
        assert result.total.counted == sum(row.counted for row in result.rows)


def test_a_category_filter_counts_only_that_category(session, world):
    result = report(session, level="grid", parent=world.community.code, category="road")
    rows = {row.name: row for row in result.rows}
    # NW: 1, 2, 3, 5 are all road incidents; NE: only 8 (7 is a duplicate); SE: only 11.
    assert (rows["第1网格"].counted, rows["第1网格"].closed) == (4, 2)
    assert (rows["第2网格"].counted, rows["第2网格"].closed, rows["第2网格"].overdue) == (1, 0, 1)
    assert rows["第2网格"].resolution_rate == 0.0 and rows["第2网格"].on_time_rate is None
    assert rows["第2网格"].mean_rating is None
    assert rows["第4网格"].hours_to_close == pytest.approx(2.0)
    assert (result.total.counted, result.total.closed, result.total.on_time) == (6, 3, 2)
    assert result.total.on_time_rate == pytest.approx(2 / 3)
    assert result.total.mean_rating == pytest.approx(5.0)


def test_the_period_takes_whole_days_in_shanghai_time(session, world):
    # 14 June alone: only incident 11, created at 23:30 Shanghai time (15:30 UTC).
    one_day = report(session, level="grid", parent=world.community.code, **{"from": "2026-06-14"})
    assert (one_day.total.counted, one_day.total.closed, one_day.total.on_time) == (1, 1, 1)
    assert one_day.total.hours_to_close == pytest.approx(2.0)


def test_the_weekly_trend_counts_openings_by_creation_and_closings_by_closing(session, world):
    result = report(session, level="grid", parent=world.community.code)
    weeks = [(w.start, w.opened, w.closed, w.on_time) for w in result.weeks]
    # Week of 1 June: opened 1, 2, 6, 8; closed 1, 6 (on time) and 2 (late).
    # Week of 8 June: opened 3, 5, 9, 11; closed 9 (late) and 10 (created in May, late);
    # 11 closed on 15 June, after the period.
    assert weeks == [(date(2026, 6, 1), 4, 3, 2), (date(2026, 6, 8), 4, 2, 0)]
    assert [w.on_time_rate for w in result.weeks] == [pytest.approx(2 / 3), 0.0]


def test_a_scope_limited_to_some_grids_sees_only_those(session, world):
    scope = Scope(
        user_id=None, grid_ids=frozenset({world.grids["NW"].id}), sees_personal_data=False
    )
    result = report(session, scope, level="grid", parent=world.community.code)
    assert [row.name for row in result.rows] == ["第1网格"]
    assert figures(result.total) == EXPECTED_GRIDS["第1网格"]


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        ({"level": "town"}, "level", "未知的层级"),
        ({"from": "2026-13-01"}, "from", "无法识别"),
        ({"to": "yesterday"}, "to", "无法识别"),
        ({"from": "2026-06-10", "to": "2026-06-01"}, "from", "晚于结束日期"),
        ({"from": "2020-01-01"}, "from", "最长"),
    ],
)
def test_malformed_filters_are_refused_with_the_reason(args, field, reason):
    with pytest.raises(BadRequest) as error:
        service.parse_dashboard_filters(PERIOD | args, TODAY)
    assert error.value.details["field"] == field
    assert reason in error.value.message


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"category": "no-such"}, "category"),
        ({"level": "grid", "parent": "999999999999"}, "parent"),
        ({"level": "grid", "parent": "511381001"}, "parent"),  # a street, not a community
    ],
)
def test_unknown_filter_values_are_refused(session, world, args, field):
    with pytest.raises(BadRequest) as error:
        report(session, **args)
    assert error.value.details == {"field": field, "value": args[field]}


def test_the_default_period_is_the_last_ninety_days():
    filters = service.parse_dashboard_filters({}, TODAY)
    assert (filters.level, filters.period.first, filters.period.last) == (
        "street",
        date(2026, 3, 18),
        TODAY,
    )
    assert (filters.period.last - filters.period.first).days == 89


def test_exports_hold_the_table_with_the_total_last(session, world):
    rows = service.export_rows(report(session, level="grid", parent=world.community.code))
    assert len(service.EXPORT_HEADERS) == len(rows[0]) == 14
    assert rows[0] == [
        world.grids["NW"].code,
        "第1网格",
        4,
        2,
        2,
        0.5,
        0.5,
        72.0,
        5.0,
        1.0,
        1,
        5,
        1,
        5.0,
    ]
    assert rows[2][5:11] == [None, None, None, None, None, 0]
    assert rows[-1] == ["", "合计", 8, 3, 5, 0.625, 0.6, 43.6, 4.0, 0.6667, 2, 8, 3, 2.7]


# --- incident map -------------------------------------------------------------------------


def incident_map(session, scope=None, **args):
    filters = service.parse_map_filters(PERIOD | args, TODAY)
    return service.incident_map(session, scope or Scope.everything(), filters)


def test_incidents_per_thousand_households_per_grid(session, world):
    data = incident_map(session, view="rate")
    rates = {f["properties"]["name"]: f["properties"] for f in data.grids}
    # Rejected and duplicate incidents are left out unless asked for.
    assert {name: (p["incidents"], p["households"], p["rate"]) for name, p in rates.items()} == {
        "第1网格": (4, 5, 800.0),
        "第2网格": (2, 2, 1000.0),
        "第3网格": (0, 0, None),  # no households: no data, not infinity
        "第4网格": (2, 1, 2000.0),
    }
    assert data.total == 8


def test_map_filters_by_status_and_category(session, world):
    open_road = incident_map(session, status="open", category="road")
    assert open_road.total == 3  # 3, 5 and 8
    assert sorted(len(p) for p in open_road.heat) == [2, 2, 2]  # points, not cells
    assert open_road.aggregated is False
    rejected = incident_map(session, status="rejected")
    assert rejected.total == 1
    assert [i["id"] for i in rejected.latest] == [
        i["id"] for i in incident_map(session, status="rejected").latest
    ]
    done = incident_map(session, status="done")
    assert done.total == 5
    assert {i["status"] for i in done.latest} == {"closed", "rated"}
    assert set(done.latest[0]) == {"id", "category", "status", "created_at", "grid"}


def test_the_heat_map_counts_cells_above_the_point_limit(session, world, monkeypatch):
    monkeypatch.setattr(service, "MAX_HEAT_POINTS", 3)
    data = incident_map(session)
    assert data.aggregated is True
    # Every grid's incidents lie at its centre: one cell per grid with incidents.
    assert sorted(round(weight, 4) for *_, weight in data.heat) == [0.5, 0.5, 1.0]


def test_the_weekly_heat_map_has_one_frame_per_week(session, world):
    data = incident_map(session, view="weekly")
    assert data.weeks == ["2026-06-01", "2026-06-08"]
    # Week 1: NW (1, 2) and NE (6, 8); week 2: NW (3, 5) and SE (9, 11).
    assert [sorted(w for *_, w in frame) for frame in data.weekly] == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize(
    ("args", "field"),
    [({"view": "pie"}, "view"), ({"status": "lost"}, "status"), ({"to": "06/14"}, "to")],
)
def test_bad_map_filters_are_refused(args, field):
    with pytest.raises(BadRequest) as error:
        service.parse_map_filters(PERIOD | args, TODAY)
    assert error.value.details["field"] == field
