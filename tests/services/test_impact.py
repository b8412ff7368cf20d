"""Impact analysis against a hand-made world whose every figure is known in advance.

A zone across the NW and NE grids holds 5 households (15 people, 2 vulnerable). Two more lie
50 m and 150 m south of the zone's edge (measured on the ellipsoid with pyproj.Geod, not by
the code under test), so a 100 m buffer adds exactly one and a 200 m buffer both.
"""

from __future__ import annotations

import math

import pytest
import shapely
from pyproj import Geod
from shapely import box
from sqlalchemy import func, select

from app.errors import InvalidData, NotFound
from app.models import PersonalDataRead
from app.models.hazards import Hazard, ImpactRun
from app.services import hazards as service
from app.services.assignment import assign_all
from app.services.auth import scope_for
from app.store.scope import Scope
from tests.factories import X0, Y0, add_households, add_user, build_world

GEOD = Geod(ellps="WGS84")
ZONE = box(X0 + 0.005, Y0 + 0.012, X0 + 0.015, Y0 + 0.018)  # across NW and NE
SOUTH_EDGE = Y0 + 0.012


def south_of_edge(x: float, metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(x, SOUTH_EDGE, 180, metres)
    return lon, lat


def geodesic_area(geojson: dict) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.geometry.shape(geojson))[0])


class Body:
    """A parsed request body, as the API hands it to the service."""

    def __init__(self, **values):
        self.name = self.description = self.crs = self.geometry = None
        self.hazard_class = self.severity = None
        vars(self).update(values)


@pytest.fixture
def world(session):
    world = build_world(session)
    ids = {}
    # Inside the zone: NW 3 households (2+3+4 people), NE 2 households (1+5 people).
    ids["nw"] = add_households(
        session, [(X0 + 0.007, Y0 + 0.015)], members=2, tags=["elderly_alone"]
    )
    ids["nw"] += add_households(session, [(X0 + 0.008, Y0 + 0.016)], members=3, tags=["key_person"])
    ids["nw"] += add_households(session, [(X0 + 0.009, Y0 + 0.014)], members=4)
    ids["ne"] = add_households(
        session,
        [(X0 + 0.012, Y0 + 0.015)],
        members=1,
        tags=["disabled", "low_income"],
        head_name="王小明",
        phone="13698765432",
    )
    ids["ne"] += add_households(session, [(X0 + 0.013, Y0 + 0.016)], members=5)
    # Outside: 50 m (NW, vulnerable, 6 people), 150 m (NE, 7 people), and far away (SW).
    ids["near"] = add_households(
        session, [south_of_edge(X0 + 0.007, 50)], members=6, tags=["low_income"]
    )
    ids["farther"] = add_households(session, [south_of_edge(X0 + 0.013, 150)], members=7)
    ids["far"] = add_households(session, [(X0 + 0.002, Y0 + 0.002)], members=9)
    world.users["wang"] = add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    world.users["li"] = add_user(session, "li", "worker", grids=[world.grids["NE"]])
    world.users["leader"] = add_user(session, "leader", "leader")
    world.users["admin"] = add_user(session, "admin", "admin")
    assign_all(session)
    world.household_ids = ids
    return world


def create(session, user, *, geometry=None, hazard_class="flood", severity=3, name="内涝区"):
    body = Body(
        name=name,
        hazard_class=hazard_class,
        severity=severity,
        geometry=geometry or shapely.geometry.mapping(ZONE),
    )
    scope = scope_for(session, user)
    return service.create_hazard(session, scope, body, max_vertices=10_000)["id"]


def run(session, user, hazard_ids, buffer_m):
    return service.run_impact(session, scope_for(session, user), hazard_ids, buffer_m)


def test_zone_without_buffer_counts_households_people_and_vulnerable(session, world):
    hazard = create(session, world.users["leader"])
    result = run(session, world.users["leader"], [hazard], 0)
    assert result["totals"] == {"households": 5, "people": 15, "vulnerable_households": 2}
    assert result["by_grid"] == [
        {
            "grid_code": "511381001001001",
            "grid_name": "第1网格",
            "workers": "wang",
            "households": 3,
            "people": 9,
            "vulnerable_households": 1,
        },
        {
            "grid_code": "511381001001002",
            "grid_name": "第2网格",
            "workers": "li",
            "households": 2,
            "people": 6,
            "vulnerable_households": 1,
        },
    ]
    assert result["by_class"] == [
        {
            "hazard_class": "flood",
            "label": "洪涝",
            "hazards": 1,
            "households": 5,
            "people": 15,
            "vulnerable_households": 2,
        }
    ]


@pytest.mark.parametrize(
    ("buffer_m", "households", "people", "vulnerable"),
    [(40, 5, 15, 2), (100, 6, 21, 3), (200, 7, 28, 3)],
)
def test_buffer_in_metres_adds_exactly_the_households_within_it(
    session, world, buffer_m, households, people, vulnerable
):
    hazard = create(session, world.users["leader"])
    result = run(session, world.users["leader"], [hazard], buffer_m)
    assert result["totals"] == {
        "households": households,
        "people": people,
        "vulnerable_households": vulnerable,
    }


def test_analysed_zone_is_the_rectangle_grown_by_the_buffer_on_the_ground(session, world):
    hazard = create(session, world.users["leader"])
    result = run(session, world.users["leader"], [hazard], 100)
    # Width and height measured on the ellipsoid; a rectangle grown by b has area
    # w*h + 2(w+h)b + pi*b^2.
    minx, miny, maxx, maxy = ZONE.bounds
    width = GEOD.inv(minx, miny, maxx, miny)[2]
    height = GEOD.inv(minx, miny, minx, maxy)[2]
    expected = width * height + 2 * (width + height) * 100 + math.pi * 100**2
    assert geodesic_area(result["zone"]) == pytest.approx(expected, rel=0.005)
    stored = session.get(ImpactRun, result["id"])
    assert stored.buffer_m == 100
    assert stored.params["hazard_ids"] == [hazard]
    assert stored.created_by == world.users["leader"].id


def test_point_hazard_with_a_buffer_takes_households_within_that_distance(session, world):
    centre = (X0 + 0.0035, Y0 + 0.0035)  # SW grid
    at_80 = GEOD.fwd(*centre, 90, 80)[:2]
    at_120 = GEOD.fwd(*centre, 0, 120)[:2]
    add_households(session, [at_80], members=2)
    add_households(session, [at_120], members=4)
    hazard = create(
        session,
        world.users["leader"],
        geometry={"type": "Point", "coordinates": list(centre)},
        hazard_class="fire",
    )
    assert run(session, world.users["leader"], [hazard], 100)["totals"]["households"] == 1
    assert run(session, world.users["leader"], [hazard], 130)["totals"]["households"] == 2
    assert run(session, world.users["leader"], [hazard], 0)["totals"]["households"] == 0


def test_several_hazards_give_figures_per_class_and_distinct_totals(session, world):
    flood = create(session, world.users["leader"])
    # A landslide zone over the NE half of the flood zone and the 150 m household.
    slope = box(X0 + 0.0105, Y0 + 0.0100, X0 + 0.015, Y0 + 0.018)
    landslide = create(
        session,
        world.users["leader"],
        geometry=shapely.geometry.mapping(slope),
        hazard_class="landslide",
        severity=4,
    )
    result = run(session, world.users["leader"], None, 0)  # all active hazards
    assert result["hazard_ids"] == [flood, landslide]
    by_class = {r["hazard_class"]: r for r in result["by_class"]}
    assert by_class["flood"]["households"] == 5
    assert by_class["landslide"]["households"] == 3  # the NE two and the 150 m one
    assert by_class["landslide"]["people"] == 1 + 5 + 7
    # The NE households lie in both zones but are counted once in the totals.
    assert result["totals"] == {"households": 6, "people": 22, "vulnerable_households": 2}
    # The set run is listed under each of its hazards.
    assert [r["id"] for r in service.impact_runs(session, landslide)] == [result["id"]]
    assert [r["id"] for r in service.impact_runs(session, flood)] == [result["id"]]


def test_door_knock_list_is_masked_for_a_leader_and_plain_for_the_grid_worker(session, world):
    hazard = create(session, world.users["leader"])
    run_id = run(session, world.users["leader"], [hazard], 0)["id"]

    leader = service.show_impact_run(session, scope_for(session, world.users["leader"]), run_id)
    assert leader["personal_data"] == "masked"
    assert [g["worker"] for g in leader["door_knock"]] == ["li", "wang"]
    li = leader["door_knock"][0]["households"]
    assert [h["household_id"] for h in li] == world.household_ids["ne"]
    assert li[0]["head_name"] == "王**" and li[0]["phone"] == "136****5432"
    assert li[0]["tags"] == ["残疾人", "低保户"] and li[0]["vulnerable"] is True

    reads_before = session.scalar(select(func.count()).select_from(PersonalDataRead))
    wang = service.show_impact_run(session, scope_for(session, world.users["wang"]), run_id)
    assert wang["personal_data"] == "shown"
    # A worker's list holds only the households of their own grids, unmasked.
    assert [g["worker"] for g in wang["door_knock"]] == ["wang"]
    households = wang["door_knock"][0]["households"]
    assert sorted(h["household_id"] for h in households) == world.household_ids["nw"]
    assert {(h["head_name"], h["phone"]) for h in households} == {("张三", "13812341234")}
    log = session.scalars(select(PersonalDataRead).order_by(PersonalDataRead.id.desc())).first()
    assert session.scalar(select(func.count()).select_from(PersonalDataRead)) == reads_before + 1
    assert log.user_id == world.users["wang"].id
    assert sorted(log.subject_ids) == world.household_ids["nw"]


def test_stored_result_holds_household_ids_and_no_personal_data(session, world):
    hazard = create(session, world.users["leader"])
    run_id = run(session, world.users["admin"], [hazard], 100)["id"]
    stored = session.get(ImpactRun, run_id).result
    assert stored["household_ids"] == sorted(
        world.household_ids["nw"] + world.household_ids["ne"] + world.household_ids["near"]
    )
    text = str(stored)
    assert "张三" not in text and "1381234" not in text and "王小明" not in text


def test_door_knock_list_is_re_read_when_the_run_is_shown_again(session, world):
    hazard = create(session, world.users["leader"])
    run_id = run(session, world.users["leader"], [hazard], 0)["id"]
    session.execute(
        Hazard.__table__.update().where(Hazard.id == hazard).values(name="改名")
    )  # the hazard may change; the run keeps what was analysed
    from app.models import Household

    session.get(Household, world.household_ids["ne"][1]).phone = "13500000000"
    session.flush()
    admin = service.show_impact_run(session, Scope.everything(user_id=None), run_id)
    phones = {h["phone"] for g in admin["door_knock"] for h in g["households"]}
    assert "13500000000" in phones
    assert admin["hazards"][0]["name"] == "内涝区"


@pytest.mark.parametrize("buffer_m", [-1, 10**6, float("nan"), "100"])
def test_bad_buffers_are_refused_and_nothing_is_stored(session, world, buffer_m):
    hazard = create(session, world.users["leader"])
    with pytest.raises(InvalidData) as refused:
        run(session, world.users["leader"], [hazard], buffer_m)
    assert refused.value.details == {"field": "buffer_m"}
    assert session.scalar(select(func.count()).select_from(ImpactRun)) == 0


def test_unknown_hazard_ids_are_refused(session, world):
    hazard = create(session, world.users["leader"])
    with pytest.raises(NotFound) as refused:
        run(session, world.users["leader"], [hazard, hazard + 1000], 0)
    assert refused.value.details == {"ids": [hazard + 1000]}
    assert session.scalar(select(func.count()).select_from(ImpactRun)) == 0
