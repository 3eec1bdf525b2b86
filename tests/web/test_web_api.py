"""The HTTP API (/api/v1): token and session authentication, the JSON contracts (validated
against docs/schemas and equal to what the CLI and the services produce for the same
inputs), chain scoping, and bilingual errors for bad parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from tests.web.conftest import OTHER_CHAIN, PASSWORD, REGION, SCOPED_CHAIN, csrf_of, login
from typer.testing import CliRunner

from chainatlas.accounts.models import ApiToken
from chainatlas.accounts.service import add_user, create_token, find_user, set_disabled
from chainatlas.cli import app as cli_app
from chainatlas.db.audit import AuditEntry
from chainatlas.reference.regions import load_regions
from chainatlas.services.diagnosis import open_warehouse, run_diagnosis
from chainatlas.services.enterprise_search import enterprise_detail, search_enterprises
from chainatlas.services.opportunities import run_opportunities
from chainatlas.services.targets import run_targets
from chainatlas.settings import Settings
from chainatlas.web import jobs
from chainatlas.web.api_models import ChainDetail, EnterpriseDetailOut, EnterprisePage
from chainatlas.web.state import AppState

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas"


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


def token_for(app: FastAPI, username: str) -> str:
    with state_of(app).db.session() as session:
        return create_token(session, username, name="test_web_api", actor="test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def published_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return schema


def assert_valid(instance: Any, schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def assert_api_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert body["message_zh"] and body["message_en"]
    return body


@pytest.fixture(scope="module")
def api(web_app: FastAPI) -> Iterator[TestClient]:
    """A client without cookies that authenticates with an admin token."""
    with TestClient(web_app, headers=bearer(token_for(web_app, "admin"))) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(web_app: FastAPI) -> dict[str, str]:
    return {
        role: token_for(web_app, role)
        for role in ("analyst", "chain_office", "member_unit", "viewer")
    }


@pytest.fixture(scope="module")
def cli_env(web_settings: Settings) -> dict[str, str]:
    return {"CHAINATLAS_HOME": str(web_settings.home)}


def cli_json(args: list[str], env: dict[str, str]) -> Any:
    result = CliRunner().invoke(cli_app, args, env=env)
    assert result.exit_code == 0, result.output[:500]
    return json.loads(result.stdout)


# --- authentication ----------------------------------------------------------------------
def test_a_token_authenticates_and_a_bad_one_is_refused(web_app: FastAPI) -> None:
    state = state_of(web_app)
    with state.db.session() as session:
        add_user(session, state.settings.web, "api_tokens", PASSWORD, "viewer", actor="test")
    token = token_for(web_app, "api_tokens")
    with TestClient(web_app) as client:
        assert client.get("/api/v1/chains", headers=bearer(token)).status_code == 200
        anonymous = client.get("/api/v1/chains")
        assert_api_error(anonymous, 401, "unauthorized")
        assert anonymous.headers["www-authenticate"] == "Bearer"
        unknown = client.get("/api/v1/chains", headers=bearer("ca_" + "x" * 43))
        assert_api_error(unknown, 401, "unauthorized")
        with state.db.session() as session:
            user = find_user(session, "api_tokens")
            assert user is not None
            session.execute(
                update(ApiToken).where(ApiToken.user_id == user.id).values(revoked=True)
            )
        assert_api_error(client.get("/api/v1/chains", headers=bearer(token)), 401, "unauthorized")

        fresh = token_for(web_app, "api_tokens")
        assert client.get("/api/v1/chains", headers=bearer(fresh)).status_code == 200
        with state.db.session() as session:
            set_disabled(session, "api_tokens", True, actor="test")
        assert_api_error(client.get("/api/v1/chains", headers=bearer(fresh)), 401, "unauthorized")


def test_a_browser_session_works_and_its_posts_need_the_csrf_header(web_app: FastAPI) -> None:
    with TestClient(web_app) as client:
        login(client, "analyst")
        assert client.get("/api/v1/chains").status_code == 200
        jobs_before = count_jobs(web_app)
        no_token = client.post("/api/v1/briefings", json={"region": REGION, "chain": "x"})
        assert_api_error(no_token, 403, "csrf")
        wrong = client.post(
            "/api/v1/briefings",
            json={"region": REGION, "chain": "x"},
            headers={"X-CSRF-Token": "forged"},
        )
        assert_api_error(wrong, 403, "csrf")
        # with the page's token the request reaches validation (an unknown chain here)
        passed = client.post(
            "/api/v1/briefings",
            json={"region": REGION, "chain": "no_such_chain"},
            headers={"X-CSRF-Token": csrf_of(client)},
        )
        assert_api_error(passed, 404, "not_found")
        assert count_jobs(web_app) == jobs_before


def count_jobs(app: FastAPI) -> int:
    from chainatlas.db.jobs import Job

    with state_of(app).db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


# --- chains ------------------------------------------------------------------------------
def test_chains_equal_the_cli(api: TestClient, cli_env: dict[str, str]) -> None:
    listed = api.get("/api/v1/chains").json()
    cli = cli_json(["chains", "list", "--format", "json"], cli_env)
    # the same list, but no server folders: the template's file name only
    assert listed == [{**c, "source": Path(c["source"]).name} for c in cli]
    assert all(c["source"].endswith(".yaml") and "/" not in c["source"] for c in listed)
    assert {c["id"] for c in listed} >= {SCOPED_CHAIN, OTHER_CHAIN}

    detail = api.get(f"/api/v1/chains/{SCOPED_CHAIN}").json()
    assert detail == cli_json(["chains", "show", SCOPED_CHAIN, "--format", "json"], cli_env)
    assert_valid(detail, ChainDetail.model_json_schema(by_alias=True, mode="serialization"))
    assert detail["schema"] == "chainatlas.chain/1"
    nodes = api.get(f"/api/v1/chains/{SCOPED_CHAIN}/nodes").json()
    assert nodes == detail["nodes"] and len(nodes) > 5


def test_scoped_roles_see_only_their_chains(web_app: FastAPI, tokens: dict[str, str]) -> None:
    with TestClient(web_app) as client:
        for role in ("chain_office", "member_unit"):
            headers = bearer(tokens[role])
            assert [c["id"] for c in client.get("/api/v1/chains", headers=headers).json()] == [
                SCOPED_CHAIN
            ]
            assert client.get(f"/api/v1/chains/{SCOPED_CHAIN}", headers=headers).status_code == 200
            for path in (
                f"/api/v1/chains/{OTHER_CHAIN}",
                f"/api/v1/chains/{OTHER_CHAIN}/nodes",
                f"/api/v1/diagnosis?region={REGION}&chain={OTHER_CHAIN}",
                f"/api/v1/enterprises?chain={OTHER_CHAIN}",
            ):
                assert_api_error(client.get(path, headers=headers), 403, "forbidden")
        office = bearer(tokens["chain_office"])
        for path in (
            f"/api/v1/targets?region={REGION}&chain={OTHER_CHAIN}",
            f"/api/v1/opportunities?region={REGION}&chain={OTHER_CHAIN}",
        ):
            assert_api_error(client.get(path, headers=office), 403, "forbidden")
        # all chains at once would show the others: the scoped role must name one
        body = assert_api_error(
            client.get(f"/api/v1/opportunities?region={REGION}", headers=office), 422, "invalid"
        )
        assert SCOPED_CHAIN in body["message_zh"] and "chain=" in body["message_en"]


def permission_of(app: FastAPI, path: str, method: str = "GET") -> set[str]:
    """The permissions a route's guards demand (security.require marks its dependency)."""
    route = next(
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and context.path == path
        and method in (context.methods or ())
    )
    found: set[str] = set()
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if hasattr(dependency.call, "permission"):
            found.add(str(dependency.call.permission))
        pending.extend(dependency.dependencies)
    return found


@pytest.mark.parametrize(
    ("api_path", "page_path"),
    [
        ("/api/v1/diagnosis", "/diagnosis"),
        ("/api/v1/targets", "/targets"),
        ("/api/v1/opportunities", "/opportunities"),
        ("/api/v1/enterprises", "/enterprises"),
        ("/api/v1/enterprises/{uscc}", "/enterprises/{uscc}"),
    ],
)
def test_the_api_asks_the_same_permission_as_the_page(
    web_app: FastAPI, api_path: str, page_path: str
) -> None:
    """The same figures through the page and the API: one rule for who may read them."""
    assert permission_of(web_app, api_path) == permission_of(web_app, page_path) != set()


def test_reading_analyses_is_open_to_every_role_starting_briefings_is_not(
    web_app: FastAPI, tokens: dict[str, str]
) -> None:
    with TestClient(web_app) as client:
        for role in ("viewer", "member_unit"):
            targets = client.get(
                f"/api/v1/targets?region={REGION}&chain={SCOPED_CHAIN}&top=3",
                headers=bearer(tokens[role]),
            )
            assert targets.status_code == 200, targets.text[:300]
    assert permission_of(web_app, "/api/v1/briefings", "POST") == {"analyze"}
    assert permission_of(web_app, "/api/v1/briefings/{job_id}") == {"view"}


# --- regions -----------------------------------------------------------------------------
def test_regions_filter_by_level_and_parent(api: TestClient) -> None:
    cities = api.get("/api/v1/regions?level=city&parent=450000").json()
    expected = load_regions().filter(
        (load_regions()["level"] == "city") & (load_regions()["parent_code"] == "450000")
    )
    assert [r["code"] for r in cities] == expected["region_code"].to_list()
    wuzhou = next(r for r in cities if r["code"] == REGION)
    assert wuzhou["name"] == "梧州市" and wuzhou["parent"] == "450000"
    assert 110 < wuzhou["lon"] < 112 and 23 < wuzhou["lat"] < 24
    provinces = api.get("/api/v1/regions?level=province").json()
    assert len(provinces) >= 31 and all(r["parent"] is None for r in provinces)
    counties = api.get(f"/api/v1/regions?parent={REGION}").json()
    assert counties and all(r["level"] == "county" and r["parent"] == REGION for r in counties)
    assert_api_error(api.get("/api/v1/regions?parent=990000"), 404, "not_found")


# --- enterprises -------------------------------------------------------------------------
def test_enterprise_search_and_detail_equal_the_service(
    api: TestClient, web_settings: Settings
) -> None:
    response = api.get(
        f"/api/v1/enterprises?region={REGION}&chain={SCOPED_CHAIN}&page=2&page_size=5"
    )
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert_valid(body, EnterprisePage.model_json_schema(mode="serialization"))
    with open_warehouse(web_settings) as wh:
        frame, total = search_enterprises(
            wh, region=REGION, chain=SCOPED_CHAIN, page=2, page_size=5
        )
        assert body["total"] == total > 5
        assert [r["uscc"] for r in body["items"]] == frame["uscc"].to_list()
        assert [r["name"] for r in body["items"]] == frame["name"].to_list()
        uscc = body["items"][0]["uscc"]
        detail = enterprise_detail(wh, uscc)
    assert detail is not None
    one = api.get(f"/api/v1/enterprises/{uscc}").json()
    assert_valid(one, EnterpriseDetailOut.model_json_schema(mode="serialization"))
    assert one["firm"]["uscc"] == uscc and one["firm"]["name"] == detail.firm["name"]
    assert one["region_name"] == detail.region_name and one["tags"] == detail.tags
    assert [(a["chain_id"], a["node_id"]) for a in one["assignments"]] == [
        (a["chain_id"], a["node_id"]) for a in detail.assignments.to_dicts()
    ]
    assert SCOPED_CHAIN in {a["chain_id"] for a in one["assignments"]}
    assert one["supplier_count"] == detail.supplier_count

    # a well-formed credit code of no firm in the warehouse
    absent = "91450400" + "0" * 9 + "X"
    assert_api_error(api.get(f"/api/v1/enterprises/{absent}"), 404, "not_found")


# --- analysis ----------------------------------------------------------------------------
def test_diagnosis_is_the_cli_contract(
    api: TestClient, web_app: FastAPI, web_settings: Settings, cli_env: dict[str, str]
) -> None:
    response = api.get(f"/api/v1/diagnosis?region={REGION}&chain={SCOPED_CHAIN}")
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert_valid(body, published_schema("diagnosis-1"))
    chain = state_of(web_app).atlas[SCOPED_CHAIN]
    service = json.loads(run_diagnosis(web_settings, chain, REGION).to_json())
    assert body == service
    cli = cli_json(["diagnose", "-r", REGION, "-c", SCOPED_CHAIN, "--format", "json"], cli_env)
    assert body == cli
    assert body["region"]["code"] == REGION and body["firm_count"] > 0


def test_targets_are_the_cli_contract(
    api: TestClient, web_app: FastAPI, web_settings: Settings
) -> None:
    response = api.get(f"/api/v1/targets?region={REGION}&chain={SCOPED_CHAIN}&top=4")
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert_valid(body, published_schema("targets-1"))
    expected = run_targets(
        web_settings,
        state_of(web_app).atlas,
        REGION,
        SCOPED_CHAIN,
        top=4,
        weights=web_settings.targets,
    )
    assert body == json.loads(expected.to_json())
    assert body["nodes"] and all(len(n["targets"]) <= 4 for n in body["nodes"])

    node = body["nodes"][0]["id"]
    one = api.get(f"/api/v1/targets?region={REGION}&chain={SCOPED_CHAIN}&node={node}&top=2").json()
    assert [n["id"] for n in one["nodes"]] == [node] and one["node_id"] == node
    assert_api_error(
        api.get(f"/api/v1/targets?region={REGION}&chain={SCOPED_CHAIN}&node=no_such_node"),
        404,
        "not_found",
    )


def test_opportunities_are_the_cli_contract(
    api: TestClient, web_app: FastAPI, web_settings: Settings
) -> None:
    response = api.get(f"/api/v1/opportunities?region={REGION}&top=7")
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert_valid(body, published_schema("opportunities-1"))
    expected = run_opportunities(web_settings, state_of(web_app).atlas, REGION, top=7)
    assert body == json.loads(expected.to_json())
    assert 0 < len(body["items"]) <= 7
    # another `top` is the head of the same ranking
    three = api.get(f"/api/v1/opportunities?region={REGION}&top=3").json()
    assert three["items"] == body["items"][:3]


# --- briefing jobs -----------------------------------------------------------------------
def test_a_briefing_job_runs_and_reports_its_files(
    web_app: FastAPI, tokens: dict[str, str]
) -> None:
    state = state_of(web_app)
    with TestClient(web_app) as client:
        analyst = bearer(tokens["analyst"])
        body = {"region": REGION, "chain": SCOPED_CHAIN, "maps": ["status"], "lists": ["targets"]}
        started = client.post("/api/v1/briefings", json=body, headers=analyst)
        assert started.status_code == 202, started.text[:300]
        job_id = started.json()["job_id"]
        assert started.json()["status_url"] == f"/api/v1/briefings/{job_id}"
        jobs.wait(state, job_id, timeout=120)
        status = client.get(f"/api/v1/briefings/{job_id}", headers=analyst).json()
        assert status["state"] == "done", status
        assert status["params"]["maps"] == ["status"] and status["created_by"] == "analyst"
        names = [f["name"] for f in status["files"]]
        assert any(n.endswith(".xlsx") for n in names) and any(n.endswith(".svg") for n in names)
        download = client.get(status["files"][0]["url"], headers=analyst)
        assert download.status_code == 200 and download.content
        with state.db.session() as session:
            audited = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "briefing.build", AuditEntry.target == f"job/{job_id}"
                )
            ).all()
        assert len(audited) == 1

        # scoped roles: the job is on their chain; viewers may read but not start one
        office = bearer(tokens["chain_office"])
        assert client.get(f"/api/v1/briefings/{job_id}", headers=office).status_code == 200
        refused = client.post("/api/v1/briefings", json=body, headers=bearer(tokens["viewer"]))
        assert_api_error(refused, 403, "forbidden")
        other = {**body, "chain": OTHER_CHAIN}
        assert_api_error(
            client.post("/api/v1/briefings", json=other, headers=office), 403, "forbidden"
        )
        assert_api_error(
            client.get("/api/v1/briefings/2147483000", headers=analyst), 404, "not_found"
        )
        unknown_map = {**body, "maps": ["no_such_map"]}
        refused_map = assert_api_error(
            client.post("/api/v1/briefings", json=unknown_map, headers=analyst), 422, "invalid"
        )
        assert "no_such_map" in refused_map["message_en"]


# --- bad parameters ----------------------------------------------------------------------
BAD_PARAMETERS = [
    (f"/api/v1/diagnosis?region=4504&chain={SCOPED_CHAIN}", "region"),
    (f"/api/v1/diagnosis?region=abcdef&chain={SCOPED_CHAIN}", "region"),
    (f"/api/v1/diagnosis?chain={SCOPED_CHAIN}", "region"),
    (f"/api/v1/diagnosis?region={REGION}&chain=Sugar-Cane", "chain"),
    (f"/api/v1/diagnosis?region={REGION}", "chain"),
    ("/api/v1/chains/Bad Chain", "chain_id"),
    ("/api/v1/regions?level=village", "level"),
    ("/api/v1/regions?parent=45", "parent"),
    ("/api/v1/enterprises?page=0", "page"),
    ("/api/v1/enterprises?page=x", "page"),
    ("/api/v1/enterprises?page_size=201", "page_size"),
    ("/api/v1/enterprises?q=" + "长" * 101, "q"),
    ("/api/v1/enterprises/not-a-credit-code", "uscc"),
    (f"/api/v1/targets?region={REGION}&chain={SCOPED_CHAIN}&top=0", "top"),
    (f"/api/v1/targets?region={REGION}&chain={SCOPED_CHAIN}&reason=luck", "reason"),
    (f"/api/v1/opportunities?region={REGION}&top=1000", "top"),
    ("/api/v1/briefings/0", "job_id"),
]


@pytest.mark.parametrize(("path", "field"), BAD_PARAMETERS)
def test_bad_parameters_are_422_in_both_languages(api: TestClient, path: str, field: str) -> None:
    body = assert_api_error(api.get(path), 422, "invalid")
    assert field in body["message_zh"] and field in body["message_en"]
    assert [f["name"] for f in body["fields"]] == [field]


UNKNOWN_IDS = [
    f"/api/v1/diagnosis?region=999999&chain={SCOPED_CHAIN}",
    f"/api/v1/diagnosis?region={REGION}&chain=no_such_chain",
    "/api/v1/chains/no_such_chain",
    "/api/v1/enterprises?region=999999",
    f"/api/v1/enterprises?chain={SCOPED_CHAIN}&node=no_such_node",
]


@pytest.mark.parametrize("path", UNKNOWN_IDS)
def test_unknown_ids_are_404_in_both_languages(api: TestClient, path: str) -> None:
    body = assert_api_error(api.get(path), 404, "not_found")
    assert any(part in body["message_en"] for part in ("999999", "no_such"))


def test_a_bad_body_is_422_naming_the_field(api: TestClient) -> None:
    missing = assert_api_error(
        api.post("/api/v1/briefings", json={"region": REGION}), 422, "invalid"
    )
    assert "chain" in missing["message_zh"] and "chain" in missing["message_en"]
    extra = {"region": REGION, "chain": SCOPED_CHAIN, "colour": "red"}
    assert_api_error(api.post("/api/v1/briefings", json=extra), 422, "invalid")
    broken = api.post(
        "/api/v1/briefings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_api_error(broken, 422, "invalid")
    undecodable = api.post(
        "/api/v1/briefings", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert_api_error(undecodable, 422, "invalid")


# --- the OpenAPI document ----------------------------------------------------------------
def test_openapi_describes_every_api_route_and_no_page(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    paths = document["paths"]
    assert all(p.startswith("/api/v1/") for p in paths), [
        p for p in paths if not p.startswith("/api/v1/")
    ]
    for path in (
        "/api/v1/chains",
        "/api/v1/chains/{chain_id}",
        "/api/v1/chains/{chain_id}/nodes",
        "/api/v1/regions",
        "/api/v1/enterprises",
        "/api/v1/enterprises/{uscc}",
        "/api/v1/diagnosis",
        "/api/v1/targets",
        "/api/v1/opportunities",
        "/api/v1/briefings",
        "/api/v1/briefings/{job_id}",
    ):
        assert path in paths, path
        for operation in paths[path].values():
            assert operation["tags"], path
            ok = operation["responses"].get("200") or operation["responses"].get("202")
            assert ok["content"]["application/json"]["schema"], path
            error = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}, path
            assert operation["security"] == [{"token": []}], path
    components = document["components"]["schemas"]
    assert {"Diagnosis", "TargetList", "Opportunities", "ApiError"} <= set(components)


def test_the_api_reference_page_lists_the_operations(web_app: FastAPI) -> None:
    with TestClient(web_app) as client:
        login(client, "viewer")
        page = client.get("/api/docs")
        assert page.status_code == 200 and "接口文档" in page.text
        assert "/api/v1/diagnosis" in page.text and "/api/v1/briefings/{job_id}" in page.text
        assert not re.search(r"\bapi_[a-z_]+\b", page.text), "a message key shows untranslated"
        client.get("/lang/en")
        assert "API reference" in client.get("/api/docs").text
