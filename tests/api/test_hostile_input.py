"""Never a 500 from input: every route of the app, every path variable and every query
parameter it reads, with hostile values, as anonymous, worker and admin.

The crawler finds the query parameters a route reads by recording which keys the view asks
``request.args`` for on an ordinary request; a view that iterates over all of them gets every
parameter name the app knows.
"""

from __future__ import annotations

import json
import re
import sys
from urllib.parse import quote, urlencode

import pytest
from flask import g
from werkzeug.datastructures import ImmutableMultiDict

from app.api import schemas
from app.services.auth import issue_token
from tests.conftest import FreshRequestClient, csrf_token, login
from tests.factories import add_category, add_incident, add_user, build_world

BIGINT_OVERFLOW = str(2**63)
HOSTILE = ("\x00", "a\x00b", BIGINT_OVERFLOW, "-1", "²", "٣", "9" * 400, "x" * 5000, "1e999")
# Every query parameter name the app reads somewhere, for views that read them all.
KNOWN_PARAMS = (
    "limit", "offset", "bbox", "bbox-crs", "level", "parent", "lon", "lat", "long", "crs",
    "grid", "status", "category", "mine", "overdue", "needs_review", "escalated", "since",
    "until", "order", "q", "class", "severity", "retired", "area", "format", "f", "n", "new",
    "page", "view", "user", "community", "next", "type", "owner", "week", "period",
    "service_code", "service_request_id", "start_date", "end_date", "api_key", "year",
)  # fmt: skip
DEEP = 50_000
NESTED_BODIES = ("[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP)
SKIPPED_ENDPOINTS = {"static"}


class RecordingArgs(ImmutableMultiDict):
    """Query/form values that note which keys a view reads ("*": it read them all)."""

    def _note(self, key) -> None:
        if sys._getframe(2).f_globals["__name__"] == "app.input_guard":
            return  # the guard reads every value of every request; the views are of interest
        g.setdefault("hostile_seen_keys", set()).add(key)

    def get(self, key, default=None, type=None):  # noqa: A002
        self._note(key)
        return super().get(key, default, type)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):  # noqa: A002
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def __iter__(self):
        self._note("*")
        return super().__iter__()

    def items(self, multi=False):
        self._note("*")
        return super().items(multi)

    def keys(self):
        self._note("*")
        return super().keys()

    def to_dict(self, flat=True):
        self._note("*")
        return super().to_dict(flat)


@pytest.fixture
def recording_app(app):
    original = app.request_class.parameter_storage_class
    app.request_class.parameter_storage_class = RecordingArgs
    yield app
    app.request_class.parameter_storage_class = original


class Crawl:
    def __init__(self, app, session):
        world = build_world(session)
        category = add_category(session)
        incident = add_incident(session, world, "NW", category)
        add_user(session, "hostile-admin", "admin")
        add_user(session, "hostile-worker", "worker", grids=[world.grids["NW"]])
        self.tokens = {
            "admin": issue_token(session, "hostile-admin"),
            "worker": issue_token(session, "hostile-worker"),
        }
        session.commit()
        self.app = app
        self.benign = {
            "code": world.grids["NW"].code,
            "incident_id": str(incident.id),
            "request_id": str(incident.id),
            "photo_id": "1",
            "site_id": "1",
            "hazard_id": "1",
            "run_id": "1",
            "collection_id": "areas",
            "feature_id": world.grids["NW"].code,
            "fmt": "json",
            "service_code": category.code,
            "layer": "grids",
            "z": "0",
            "x": "0",
            "y": "0",
            "anything": "x",
        }
        self.clients = {}
        for role in ("anonymous", "worker", "admin"):
            client = FreshRequestClient(app, app.response_class, use_cookies=True)
            if role != "anonymous":
                login(client, f"hostile-{role}")
            self.clients[role] = client
        self.csrf = {role: csrf_token(c, "/public/report") for role, c in self.clients.items()}
        self.failures: list[str] = []
        self.requests = 0

    def rules(self):
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint in SKIPPED_ENDPOINTS:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method

    def path(self, rule, **override) -> str:
        values = {name: override.get(name, self.benign[name]) for name in rule.arguments}
        return re.sub(
            r"<(?:[^:<>]+:)?([^<>]+)>",
            lambda m: quote(values[m.group(1)], safe=""),
            rule.rule,
        )

    def send(self, role: str, method: str, url: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if role in self.tokens and url.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        self.requests += 1
        response = self.clients[role].open(url, method=method, headers=headers, **kwargs)
        if response.status_code >= 500:
            self.failures.append(f"{role} {method} {url[:120]!r} {kwargs.get('data', '')!r:.80}")
        return response

    def read_keys(self, role: str, rule, method: str) -> set[str]:
        """The query parameters the route reads on an ordinary request."""
        self.send(role, method, self.path(rule))
        seen = set(getattr(g, "hostile_seen_keys", set()))
        if "*" in seen:
            seen |= set(KNOWN_PARAMS)
        return seen - {"*", "csrf_token"}


def body_fields() -> set[str]:
    fields = {"crs", "lon", "lat", "long", "service_code", "description", "address_string"}
    for model in vars(schemas).values():
        if (
            isinstance(model, type)
            and issubclass(model, schemas.Body)
            and model is not schemas.Body
        ):
            fields |= set(model.model_fields)
    return fields


@pytest.mark.parametrize("role", ["anonymous", "worker", "admin"])
def test_no_route_answers_hostile_input_with_a_server_error(recording_app, session, role):
    crawl = Crawl(recording_app, session)
    fields = body_fields()
    for rule, method in crawl.rules():
        for name in rule.arguments:
            for value in HOSTILE:
                crawl.send(role, method, crawl.path(rule, **{name: value}))
        if method == "GET":
            for key in sorted(crawl.read_keys(role, rule, method)):
                for value in HOSTILE:
                    crawl.send(role, method, f"{crawl.path(rule)}?{urlencode({key: value})}")
            continue
        url = crawl.path(rule)
        for raw in NESTED_BODIES:
            crawl.send(role, method, url, data=raw, content_type="application/json")
        for field in sorted(fields):
            for value in (["x"], {"x": 1}, 2**64, "\x00", 1.5, True):
                crawl.send(role, method, url, json={field: value})
            crawl.send(
                role,
                method,
                url,
                data={field: "a\x00b", "csrf_token": crawl.csrf[role]},
                content_type="application/x-www-form-urlencoded",
            )
    assert crawl.requests > 1000
    assert crawl.failures == [], f"{len(crawl.failures)} of {crawl.requests}:\n" + "\n".join(
        crawl.failures[:80]
    )


def test_a_nul_byte_names_the_parameter(client, session):
    Crawl(client.application, session)
    response = client.get("/api/v1/areas?parent=a%00b")
    assert response.status_code == 400  # refused before anything else, login included
    assert response.json["error"]["details"] == {"field": "parent"}
    assert response.json["error"]["message"].startswith("parent contains a NUL character")
    response = client.get("/public/report/track?n=1%002")
    assert response.status_code == 400
    response = client.post("/open311/v2/requests.json", json={"description": "a\x00b"})
    assert response.status_code == 400
    assert "description" in json.dumps(response.json)


def test_deep_json_is_refused_before_it_is_parsed(client, session):
    response = client.post(
        "/open311/v2/requests.json", data=NESTED_BODIES[0], content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested" in response.get_data(as_text=True)


@pytest.fixture
def admin_token(session):
    build_world(session)
    add_user(session, "hostile-admin", "admin")
    token = issue_token(session, "hostile-admin")
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/impact-runs/%C2%B2",
        "/api/v1/hazards/%D9%A3",
        f"/api/v1/hazards/{2**31}",
        f"/api/v1/incidents/{2**63}",
        f"/api/v1/incidents/1/photos/{2**63}",
        f"/api/v1/sites/photos/{2**31}",
        f"/public/report/{2**63}",
    ],
)
def test_ids_outside_the_columns_range_are_not_found(client, admin_token, path):
    response = client.get(path, headers=admin_token)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "not_found"


def test_ids_at_the_edge_of_the_range_are_looked_up(client, admin_token):
    response = client.get(f"/api/v1/incidents/{2**63 - 1}", headers=admin_token)
    assert response.status_code == 404
    assert "9223372036854775807" in response.json["error"]["message"]


def test_an_offset_past_the_range_is_a_400_naming_it(client, admin_token):
    response = client.get(f"/api/v1/households?offset={2**63}", headers=admin_token)
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"field": "offset"}
    response = client.get("/api/v1/incidents?limit=%C2%B2", headers=admin_token)
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"field": "limit"}


def test_wrong_json_types_name_the_field(client, admin_token):
    response = client.post(
        "/api/v1/areas",
        json={"parent": "511381001001", "geometry": {"type": "Polygon"}, "crs": ["x"]},
        headers=admin_token,
    )
    assert response.status_code == 422
    assert response.json["error"]["details"]["field"] == "crs"
    response = client.post(
        "/api/v1/incidents/1/transitions",
        json={"to": "duplicate", "duplicate_of": 2**63},
        headers=admin_token,
    )
    assert response.status_code == 422
    assert response.json["error"]["details"]["field"] == "duplicate_of"


def test_nul_in_a_json_body_names_the_field(client, admin_token):
    response = client.post(
        "/api/v1/hazards",
        json={"hazard_class": "flood", "severity": 2, "name": "x\x00", "geometry": {}},
        headers=admin_token,
    )
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"field": "name"}


def test_deep_json_is_a_400_on_the_api(client, admin_token):
    response = client.post(
        "/api/v1/incidents",
        data=NESTED_BODIES[1],
        content_type="application/json",
        headers=admin_token,
    )
    assert response.status_code == 400
    assert response.json["error"]["message"] == "The JSON body is nested deeper than 32 levels."


def test_days_at_the_ends_of_the_calendar_are_refused_not_overflowed(client, admin_token):
    for query in ("until=9999-12-31", "since=0001-01-01", "since=%D9%A2024-01-01"):
        response = client.get(f"/api/v1/incidents?{query}", headers=admin_token)
        assert response.status_code == 400, query
        assert response.json["error"]["details"] == {"field": query.split("=")[0]}
    response = client.get(
        "/api/v1/incidents?since=2024-01-01&until=2024-12-31", headers=admin_token
    )
    assert response.status_code == 200
    assert response.json["total"] == 0
