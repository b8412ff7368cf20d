"""The "three colours" rule of reconstruction sites, at its boundaries (pure, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.services.sites import Milestone, Thresholds, planned_percent, site_status

START = date(2026, 1, 1)
END = date(2026, 1, 1) + timedelta(days=200)  # 0.5 points of plan per day
HALFWAY = START + timedelta(days=100)  # plan: exactly 50 %
DEFAULT = Thresholds()


def colour(actual, milestones=(), on=HALFWAY, thresholds=DEFAULT):
    return site_status(START, END, actual, milestones, on, thresholds).colour


def test_planned_percent_is_linear_and_clamped():
    assert planned_percent(START, END, START) == 0.0
    assert planned_percent(START, END, HALFWAY) == 50.0
    assert planned_percent(START, END, END) == 100.0
    assert planned_percent(START, END, START - timedelta(days=5)) == 0.0
    assert planned_percent(START, END, END + timedelta(days=5)) == 100.0


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (50, "green"),
        (60, "green"),  # ahead of plan
        (40, "green"),  # exactly 10 points behind
        (39.9, "yellow"),  # 10.1 behind
        (25, "yellow"),  # exactly 25 behind
        (24.9, "red"),  # 25.1 behind
        (0, "red"),
        (None, "red"),  # no report yet counts as 0 %
    ],
)
def test_points_behind_plan(actual, expected):
    assert colour(actual) == expected


def test_status_reports_figures_and_reasons():
    status = site_status(START, END, 39.9, [], HALFWAY)
    assert (status.planned_percent, status.actual_percent, status.behind_points) == (
        50.0,
        39.9,
        10.1,
    )
    assert status.label == "滞后"
    assert status.reasons == ("落后计划 10.1 个百分点（计划 50%，实际 39.9%）",)


@pytest.mark.parametrize(
    ("days_late", "expected"),
    [(0, "green"), (1, "yellow"), (14, "yellow"), (15, "red")],
)
def test_late_milestone(days_late, expected):
    milestone = Milestone("主体完工", HALFWAY - timedelta(days=days_late))
    status = site_status(START, END, 50, [milestone], HALFWAY)
    assert status.colour == expected
    if days_late:
        assert status.late_milestones == (("主体完工", days_late),)
        assert f"里程碑“主体完工”逾期 {days_late} 天" in status.reasons


def test_a_done_milestone_is_never_late():
    milestone = Milestone("开工", START, done_date=START + timedelta(days=40))
    assert colour(50, [milestone]) == "green"


def test_the_worse_of_points_and_milestones_wins():
    late = Milestone("开工", HALFWAY - timedelta(days=3))
    assert colour(45, [late]) == "yellow"
    very_late = Milestone("开工", HALFWAY - timedelta(days=20))
    assert colour(45, [very_late]) == "red"
    assert colour(20, [late]) == "red"


def test_a_finished_site_is_green():
    done = [Milestone("竣工验收", END, done_date=END)]
    on = END + timedelta(days=90)
    status = site_status(START, END, 100, done, on)
    assert (status.colour, status.planned_percent, status.behind_points) == ("green", 100.0, 0.0)


def test_a_site_not_started_yet_is_green():
    on = START - timedelta(days=30)
    status = site_status(START, END, None, [Milestone("开工", START)], on)
    assert (status.colour, status.planned_percent, status.actual_percent) == ("green", 0.0, 0.0)


def test_a_site_past_its_end_and_unfinished_is_red():
    assert colour(80, on=END + timedelta(days=1)) == "yellow"
    assert colour(70, on=END + timedelta(days=1)) == "red"


def test_thresholds_are_settings():
    strict = Thresholds(yellow_points=2, red_points=5, late_days=3)
    assert colour(47, thresholds=strict) == "yellow"
    assert colour(44, thresholds=strict) == "red"
    late = Milestone("开工", HALFWAY - timedelta(days=4))
    assert colour(50, [late], thresholds=strict) == "red"
    config = {
        "WANGGE_SITE_YELLOW_POINTS": 5,
        "WANGGE_SITE_RED_POINTS": 8,
        "WANGGE_SITE_LATE_DAYS": 7,
    }
    assert Thresholds.from_config(config) == Thresholds(5.0, 8.0, 7)
