"""Schemathesis against the API's own OpenAPI document: every operation, generated valid and
invalid inputs plus the documented examples, an admin token — the API never answers with a
server error, and every answer matches the status codes, content types and schemas the
document declares.

The operations are read from the running app inside the test (schemathesis'
`pytest.from_fixture` needs a pytest internal that pytest 9 no longer has)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.web.conftest import REGION, SCOPED_CHAIN

from chainatlas.accounts.service import create_token
from chainatlas.db.base import utcnow
from chainatlas.db.jobs import Job, JobState

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def admin_token(web_app: FastAPI) -> str:
    with web_app.state.chainatlas.db.session() as session:
        return create_token(session, "admin", name="test_web_fuzz", actor="test")


@pytest.fixture(scope="module")
def api_schema(web_app: FastAPI, admin_token: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi(
        "/api/openapi.json", web_app, headers={"Authorization": f"Bearer {admin_token}"}
    )


def fuzz(
    strategy: st.SearchStrategy[schemathesis.Case], max_examples: int, token: str
) -> Callable[[], None]:
    @given(case=strategy)
    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    return run


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_the_api_never_fails_with_a_server_error(
    api_schema: schemathesis.BaseSchema, admin_token: str, mode: schemathesis.GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"GET /api/v1/diagnosis", "POST /api/v1/briefings"} <= labels
    assert all(" /api/v1/" in label for label in labels), labels
    failures = []
    for operation in operations:
        runs = [fuzz(operation.as_strategy(mode), EXAMPLES_PER_OPERATION, admin_token)]
        if mode is schemathesis.GenerationMode.POSITIVE:
            runs += [fuzz(s, 1, admin_token) for s in operation.get_strategies_from_examples()]
        for run in runs:
            try:
                run()
            except Exception as exc:  # each operation's failure, reported together
                failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_real_objects_conform_to_the_document(
    web_app: FastAPI, api_schema: schemathesis.BaseSchema, admin_token: str
) -> None:
    """Generated ids rarely exist: call each operation once more with real ones."""
    state = web_app.state.chainatlas
    with state.db.session() as session:
        done = Job(
            kind="briefing",
            state=JobState.done,
            progress=1.0,
            params=json.dumps({"region": REGION, "chain": SCOPED_CHAIN}),
            result=json.dumps({"files": ["450400-sugarcane-简报.pdf"]}),
            finished_at=utcnow(),
        )
        failed = Job(
            kind="briefing",
            state=JobState.failed,
            params=json.dumps({"region": REGION, "chain": SCOPED_CHAIN}),
            error=json.dumps({"zh": "失败", "en": "failed"}),
            finished_at=utcnow(),
        )
        session.add_all([done, failed])
        session.flush()
        job_ids = [done.id, failed.id]
    with state.warehouse.read() as wh:
        uscc = wh.sql("SELECT uscc FROM assignments LIMIT 1")["uscc"][0]
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("GET /api/v1/chains", {}, {}),
        ("GET /api/v1/chains/{chain_id}/nodes", {"chain_id": SCOPED_CHAIN}, {}),
        ("GET /api/v1/regions", {}, {"level": "county", "parent": REGION}),
        ("GET /api/v1/enterprises", {}, {"region": REGION, "chain": SCOPED_CHAIN}),
        ("GET /api/v1/enterprises/{uscc}", {"uscc": uscc}, {}),
        ("GET /api/v1/targets", {}, {"region": REGION, "chain": SCOPED_CHAIN, "top": 3}),
        *[("GET /api/v1/briefings/{job_id}", {"job_id": i}, {}) for i in job_ids],
        *[("GET /api/v1/chains/{chain_id}", {"chain_id": c}, {}) for c in sorted(state.atlas)],
        *[
            ("GET /api/v1/diagnosis", {}, {"region": REGION, "chain": c})
            for c in (SCOPED_CHAIN, "green_home", "tcm_ethnic_medicine")
        ],
    ]
    for label, path_parameters, query in calls:
        operation = api_schema.find_operation_by_label(label)
        assert operation is not None, label
        case = operation.Case(path_parameters=path_parameters, query=query)
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS
        )
        assert response.status_code == 200, (label, response.text[:300])
