"""The access matrix: every route of the app (whatever page families exist when this runs)
× every role and an anonymous visitor. The permission a route must demand is read from its
own guards (security.require marks its dependency with `.permission`), so a new route is
covered without touching this file.

- anonymous: pages redirect to /login, the API answers 401 — except the public routes;
- each role: allowed GET routes answer (not 401/403, no 5xx), the others 403; scoped roles
  (chain office, member unit) get 403 for another chain on every route that takes a chain;
- every POST route: the wrong role is refused with 403 before any change, and so is a
  request without the CSRF token or with a wrong one;
- XSS / SQL strings in every query parameter: no 5xx, never echoed unescaped into HTML,
  and the enterprises table keeps its rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Mount
from tests.web.conftest import OTHER_CHAIN, REGION, SCOPED_CHAIN, csrf_of, login

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import SCOPED_ROLES, Permission, Role, allows
from chainatlas.db.jobs import Job, JobState
from chainatlas.db.models import metadata
from chainatlas.web.i18n import translate
from chainatlas.web.security import current_user
from chainatlas.web.state import AppState
from chainatlas.workflow.access import ACCESS, Action, Kind

ANONYMOUS = "anonymous"
ROLES = tuple(role.value for role in Role)
# the routes open without login (issue #5: the login page, static assets, a health check;
# plus logging out and switching the language)
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/lang/{code}"),
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PAYLOADS = ("<script>alert(1)</script>", "' OR 1=1 --", '"; DROP TABLE enterprises; --')
# every page reads ?region= (templating.current_region) without declaring it
ALWAYS_READ = ("region",)


# --- the routes and what they demand ----------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def dependants(self) -> Iterator[Dependant]:
        pending = [self.dependant]
        while pending:
            current = pending.pop()
            yield current
            pending.extend(current.dependencies)

    @property
    def needs_login(self) -> bool:
        return any(d.call is current_user for d in self.dependants())

    @property
    def permissions(self) -> set[Permission]:
        return {
            Permission(d.call.permission)  # type: ignore[union-attr]
            for d in self.dependants()
            if hasattr(d.call, "permission")
        }

    def allows(self, role: str) -> bool:
        return all(allows(role, p) for p in self.permissions)

    @property
    def path_params(self) -> list[Any]:
        return [p for d in self.dependants() for p in d.path_params]

    @property
    def query_params(self) -> list[Any]:
        return [q for d in self.dependants() for q in d.query_params]

    @property
    def chain_param(self) -> str | None:
        names = {p.name for p in self.path_params} | {q.alias for q in self.query_params}
        return next((n for n in ("chain_id", "chain") if n in names), None)


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            for method in sorted(context.methods or ()):
                found.append(Endpoint(method, str(context.path), context.dependant))
    return found


# --- example values ---------------------------------------------------------------------
@dataclass(frozen=True)
class Examples:
    uscc: str
    job_id: int
    nodes: dict[str, str]  # chain id → one of its nodes

    def value(self, name: str, annotation: Any, chain: str) -> str:
        by_name = {
            "chain": chain,
            "chain_id": chain,
            "node": self.nodes[chain],
            "node_id": self.nodes[chain],
            "region": REGION,
            "region_code": REGION,
            "parent": "450000",
            "level": "city",
            "each": "county",
            "uscc": self.uscc,
            "job_id": str(self.job_id),
            "name": "missing.pdf",
            "username": "viewer",
            "q": "梧州",
            "format": "json",
            "code": "zh",
        }
        if name in by_name:
            return by_name[name]
        text = str(annotation)
        if "int" in text:
            return "1"
        if "bool" in text:
            return "false"
        return "x"

    def url(
        self,
        endpoint: Endpoint,
        *,
        chain: str = SCOPED_CHAIN,
        query: dict[str, str] | None = None,
        with_chain: bool = False,
    ) -> str:
        """The route with a real value for each path parameter and each required query
        parameter (and the chain, with `with_chain`); `query` adds or replaces values."""
        values = {
            p.name: quote(self.value(p.name, p.field_info.annotation, chain), safe="")
            for p in endpoint.path_params
        }
        path = endpoint.path.format(**values)
        params = {
            q.alias: self.value(q.alias, q.field_info.annotation, chain)
            for q in endpoint.query_params
            if q.field_info.is_required() or (with_chain and q.alias in ("chain", "node"))
        }
        params.update(query or {})
        return f"{path}?{urlencode(params)}" if params else path


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


@pytest.fixture(scope="module")
def examples(web_app: FastAPI) -> Examples:
    state = state_of(web_app)
    with state.warehouse.read() as wh:
        uscc = wh.sql(
            "SELECT uscc FROM assignments WHERE chain_id = ? ORDER BY uscc LIMIT 1",
            [SCOPED_CHAIN],
        )["uscc"][0]
    # a finished briefing job on the scoped chain (no files): every role may look at it
    with state.db.session() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        job = Job(
            kind="briefing",
            state=JobState.done,
            progress=1.0,
            params=json.dumps({"region": REGION, "chain": SCOPED_CHAIN, "maps": [], "lists": []}),
            result=json.dumps({"files": []}),
            created_by=admin.id,
        )
        session.add(job)
        session.flush()
        job_id = job.id
    nodes = {cid: chain.nodes[0].id for cid, chain in state.atlas.items()}
    return Examples(uscc=str(uscc), job_id=job_id, nodes=nodes)


@pytest.fixture(scope="module")
def clients(web_app: FastAPI) -> Iterator[dict[str, TestClient]]:
    """A logged-in client per role and an anonymous one; server errors come back as 500
    responses so one sweep reports every failure."""
    made = {ANONYMOUS: TestClient(web_app, raise_server_exceptions=False)}
    for role in ROLES:
        made[role] = login(TestClient(web_app, raise_server_exceptions=False), role)
    yield made
    for client in made.values():
        client.close()


def row_counts(app: FastAPI) -> dict[str, int]:
    """Rows of every app-database table (a refused request must change none of them)."""
    with state_of(app).db.session() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def enterprise_rows(app: FastAPI) -> int:
    with state_of(app).warehouse.read() as wh:
        return wh.count("enterprises")


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def refused_for_login(endpoint: Endpoint, response: Any) -> bool:
    return response.status_code == 401 if endpoint.is_api else is_login_redirect(response)


# --- the tests ----------------------------------------------------------------------------
def test_only_the_login_static_files_and_health_check_are_public(web_app: FastAPI) -> None:
    public = {(e.method, e.path) for e in endpoints(web_app) if not e.needs_login}
    assert public == PUBLIC
    # nothing else is served around the routers: no framework page (/docs, /openapi.json)
    others = [
        getattr(route, "path", repr(route))
        for route in web_app.routes
        if not isinstance(route, Mount) and not hasattr(route, "original_router")
    ]
    assert others == [], (
        f"routes outside the routers are public: {others}; the API module serves "
        "/api/openapi.json and /api/docs behind the login (set openapi_url=None, "
        "docs_url=None in web/app.py)"
    )
    with TestClient(web_app) as anonymous:
        for path in ("/api/openapi.json", "/api/docs"):
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/static/app.css").status_code == 200
        assert anonymous.get("/login").status_code == 200


def test_only_api_routes_are_in_the_openapi_document(web_app: FastAPI) -> None:
    for context in iter_route_contexts(web_app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            in_schema = bool(context.include_in_schema)
            assert in_schema == str(context.path).startswith("/api/v1/"), context.path


def test_anonymous_visitors_are_sent_to_log_in(
    web_app: FastAPI, clients: dict[str, TestClient], examples: Examples
) -> None:
    before = row_counts(web_app)
    client = clients[ANONYMOUS]
    wrong = []
    for endpoint in endpoints(web_app):
        if not endpoint.needs_login:
            continue
        response = client.request(
            endpoint.method, examples.url(endpoint, with_chain=True), follow_redirects=False
        )
        if not refused_for_login(endpoint, response):
            wrong.append(f"{endpoint}: {response.status_code}")
    assert not wrong, wrong
    assert row_counts(web_app) == before


# pages showing one kind of workflow record, which the workflow access table
# (workflow/access.py ACCESS) may refuse as a whole to a role holding the coarse `view`
KIND_PAGES: dict[str, Kind] = {
    "/cppcc/plans": Kind.consultation_plan,
    "/cppcc/plans/{plan_id}": Kind.consultation_plan,
    "/cppcc/scoring": Kind.duty_scoring,
    "/cppcc/scoring.xlsx": Kind.duty_scoring,
}


def access_table_refuses(role: str, endpoint: Endpoint) -> bool:
    kind = KIND_PAGES.get(endpoint.path)
    return kind is not None and not ACCESS[Role(role)].get(kind, {}).get(Action.view)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_routes_it_may(
    web_app: FastAPI, clients: dict[str, TestClient], examples: Examples, role: str
) -> None:
    client = clients[role]
    scoped = Role(role) in SCOPED_ROLES
    wrong = []
    checked = 0
    for endpoint in endpoints(web_app):
        if endpoint.method != "GET" or not endpoint.needs_login:
            continue
        checked += 1
        response = client.get(examples.url(endpoint), follow_redirects=False)
        status = response.status_code
        if access_table_refuses(role, endpoint):
            if status != 403:
                wrong.append(f"{endpoint}: the access table refuses {role}, yet {status}")
            continue
        if endpoint.allows(role):
            if status in (401, 403) or status >= 500 or is_login_redirect(response):
                wrong.append(f"{endpoint}: allowed but {status} {response.text[:200]}")
        elif status != 403:
            wrong.append(f"{endpoint}: needs {endpoint.permissions} but {status}")
        if scoped and endpoint.chain_param and endpoint.allows(role):
            other = client.get(
                examples.url(endpoint, chain=OTHER_CHAIN, with_chain=True),
                follow_redirects=False,
            )
            if other.status_code != 403:
                wrong.append(f"{endpoint}: {OTHER_CHAIN} is not {role}'s, yet {other.status_code}")
    assert checked > 20
    assert not wrong, "\n".join(wrong)


def test_the_wrong_role_cannot_post_even_with_a_valid_csrf_token(
    web_app: FastAPI, clients: dict[str, TestClient], examples: Examples
) -> None:
    tokens = {role: csrf_of(clients[role]) for role in ROLES}
    before = row_counts(web_app)
    wrong = []
    checked = 0
    for endpoint in endpoints(web_app):
        if endpoint.method not in UNSAFE_METHODS or not endpoint.needs_login:
            continue
        for role in ROLES:
            if endpoint.allows(role):
                continue
            checked += 1
            response = clients[role].request(
                endpoint.method,
                examples.url(endpoint),
                headers={"X-CSRF-Token": tokens[role]},
                follow_redirects=False,
            )
            if response.status_code != 403:
                wrong.append(f"{role} {endpoint}: {response.status_code}")
    assert checked > 0
    assert not wrong, wrong
    assert row_counts(web_app) == before


def test_every_unsafe_route_needs_the_csrf_token(
    web_app: FastAPI, clients: dict[str, TestClient], examples: Examples
) -> None:
    client = clients["admin"]  # holds every permission: a 403 can only be the CSRF check
    csrf_message = translate("csrf_failed", "zh")
    before = row_counts(web_app)
    wrong = []
    unsafe = [e for e in endpoints(web_app) if e.method in UNSAFE_METHODS]
    assert {"/login", "/logout", "/api/v1/briefings"} <= {e.path for e in unsafe}
    for endpoint in unsafe:
        for headers in ({}, {"X-CSRF-Token": "forged-" + "x" * 32}):
            response = client.request(
                endpoint.method, examples.url(endpoint), headers=headers, follow_redirects=False
            )
            if endpoint.is_api:
                refused = response.status_code == 403 and response.json()["error"] == "csrf"
            else:
                refused = response.status_code == 403 and csrf_message in response.text
            if not refused:
                wrong.append(f"{endpoint} {headers or 'no token'}: {response.status_code}")
    assert not wrong, wrong
    assert row_counts(web_app) == before
    # and the session survived the refused logout
    assert client.get("/", follow_redirects=False).status_code == 200


def test_hostile_query_strings_are_harmless(
    web_app: FastAPI, clients: dict[str, TestClient], examples: Examples
) -> None:
    client = clients["admin"]
    rows = enterprise_rows(web_app)
    wrong = []
    sent = 0
    for endpoint in endpoints(web_app):
        if endpoint.method != "GET":
            continue
        names = {q.alias for q in endpoint.query_params} | set(ALWAYS_READ)
        for name in sorted(names):
            for payload in PAYLOADS:
                sent += 1
                url = examples.url(endpoint, query={name: payload})
                response = client.get(url, follow_redirects=False)
                if response.status_code >= 500:
                    wrong.append(f"{endpoint} {name}={payload!r}: {response.status_code}")
                html = response.headers.get("content-type", "").startswith("text/html")
                if html and "<script>alert(1)" in response.text:
                    wrong.append(f"{endpoint} {name}: the script came back unescaped")
    assert sent > 100
    assert not wrong, "\n".join(wrong)
    assert enterprise_rows(web_app) == rows
