"""数据 page: uploads validated and loaded as jobs, error reports, atomic loads, rights, CSRF,
reclassification, freshness, and jobs a killed process left behind.

Uploads change the warehouse, so they go to an app of this module's own built on a copy of
the shared demo warehouse (other test modules read the shared one)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.web.conftest import PASSWORD, csrf_of, login

from chainatlas.accounts.service import add_user
from chainatlas.db.audit import AuditEntry
from chainatlas.db.jobs import Job
from chainatlas.engine import cube, incremental
from chainatlas.settings import Settings
from chainatlas.synth.uscc import uscc_check_char
from chainatlas.web import jobs
from chainatlas.web.app import create_app
from chainatlas.web.state import AppState

ROLES = ("admin", "analyst", "viewer")
TABLES = ("enterprises", "assignments", "supply_links", "node_facts", "chain_facts")


def make_app(home: Path, source: Settings | None) -> FastAPI:
    """An app on `home`, with the shared warehouse copied in when `source` is given."""
    if source is not None:
        shutil.copy(source.warehouse_path, home / "warehouse.duckdb")
    web = source.web if source is not None else Settings().web
    settings = Settings(home=home, web=web.model_copy(update={"secret_key": "own-secret"}))
    app = create_app(settings)
    with app.state.chainatlas.db.session() as session:
        for role in ROLES:
            add_user(session, settings.web, role, PASSWORD, role, region_code="450400", actor="t")
    return app


@pytest.fixture(scope="module")
def own_app(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("datahome"), web_settings)


@pytest.fixture()
def manager(own_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(own_app) as client:
        yield login(client, "analyst")


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


def uscc(serial: int, *, valid: bool = True) -> str:
    first = f"91450400MA5T{serial:05d}"
    check = uscc_check_char(first)
    if not valid:
        check = "1" if check != "1" else "2"
    return first + check


def csv_bytes(rows: list[tuple[str, str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["统一社会信用代码", "企业名称", "行政区划代码", "经营范围"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def counts(app: FastAPI) -> dict[str, int]:
    with state_of(app).warehouse.read() as wh:
        return {name: wh.count(name) for name in TABLES}


def present(app: FastAPI, codes: list[str]) -> set[str]:
    with state_of(app).warehouse.read() as wh:
        found = wh.sql("SELECT uscc FROM enterprises WHERE uscc IN (SELECT unnest(?))", [codes])
    return set(found["uscc"].to_list())


def upload(
    client: TestClient, name: str, content: bytes, kind: str = "enterprises", csrf: bool = True
) -> tuple[int, int | None, str]:
    """POST /data/upload: (status, job id or None, body)."""
    data = {"kind": kind}
    if csrf:
        data["csrf_token"] = csrf_of(client, "/data")
    response = client.post(
        "/data/upload", data=data, files={"file": (name, content)}, follow_redirects=False
    )
    job_id = None
    if response.status_code == 303:
        job_id = int(response.headers["location"].split("#job-")[1])
    return response.status_code, job_id, response.text


def finish(client: TestClient, app: FastAPI, job_id: int, path: str) -> str:
    """Wait for the job, polling its row as the page does; the final row's HTML."""
    jobs.wait(state_of(app), job_id, timeout=300)
    row = client.get(path)
    assert row.status_code == 200
    return row.text


def audit_actions(app: FastAPI) -> list[tuple[str, str]]:
    with state_of(app).db.session() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.target)).all()
    return [(a, t) for a, t in rows]


GOOD = [
    (uscc(1), "梧州测试糖业有限公司", "450403", "甘蔗种植；白砂糖生产、销售"),
    (uscc(2), "苍梧测试蔗业合作社", "450421", "糖料蔗种植；甘蔗收购"),
    (uscc(3), "岑溪测试制糖有限公司", "450481", "机制糖生产；白砂糖生产"),
]
BAD = [
    (uscc(4, valid=False), "校验位错误公司", "450403", "甘蔗种植"),
    (uscc(5), "区划错误公司", "459999", "甘蔗种植"),
    (uscc(6), "", "450403", "甘蔗种植"),
]


def test_an_upload_loads_good_rows_and_reports_bad_ones(
    manager: TestClient, own_app: FastAPI
) -> None:
    before = counts(own_app)
    assert not present(own_app, [r[0] for r in GOOD + BAD])
    status, job_id, _ = upload(manager, "../../企业 名录.csv", csv_bytes(GOOD + BAD))
    assert status == 303 and job_id is not None
    row = finish(manager, own_app, job_id, f"/data/jobs/{job_id}")
    assert "已完成" in row and "hx-trigger" not in row  # a finished row stops polling
    job = jobs.get_job(state_of(own_app).db, job_id)
    assert job is not None and job.state == "done", job
    assert job.params["name"] == "企业_名录.csv"  # the client's folders are dropped
    assert (job.result["rows"], job.result["accepted"], job.result["rejected"]) == (6, 3, 3)
    assert job.result["loaded"] == 3
    assert (job.result["changed"], job.result["unchanged"]) == (3, 0)
    assert "新增或变化" in row and "未变（跳过）" in row

    assert present(own_app, [r[0] for r in GOOD + BAD]) == {r[0] for r in GOOD}
    after = counts(own_app)
    assert after["enterprises"] == before["enterprises"] + 3
    assert after["assignments"] > before["assignments"]  # the sugar firms were classified
    saved = state_of(own_app).settings.home / "uploads" / str(job_id) / "企业_名录.csv"
    assert saved.read_bytes() == csv_bytes(GOOD + BAD)

    report = manager.get(f"/data/jobs/{job_id}/errors")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["行号 row", "字段 field", "值 value", "原因", "reason"]
    problems = {(int(r[0]), r[1]): (r[3], r[4]) for r in lines[1:]}
    assert set(problems) == {(5, "统一社会信用代码"), (6, "行政区划代码"), (7, "企业名称")}
    zh, en = problems[(5, "统一社会信用代码")]
    assert "校验位" in zh and "check digit" in en
    zh, en = problems[(6, "行政区划代码")]
    assert "区划" in zh and "region code" in en
    zh, en = problems[(7, "企业名称")]
    assert "名称" in zh and "name" in en

    page = manager.get("/data")
    assert page.status_code == 200
    assert f'href="/data/jobs/{job_id}/errors"' in page.text
    assert "企业_名录.csv" in page.text
    assert ("data.upload", f"job/{job_id}") in audit_actions(own_app)
    # freshness reflects the load
    assert f"{after['enterprises']:,}" in manager.get("/data/freshness").text


def test_a_load_that_fails_midway_changes_nothing(
    manager: TestClient, own_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_rebuild(wh: object) -> None:
        raise RuntimeError("cube rebuild broke midway")

    # a small upload updates the cube incrementally, a large one rebuilds it: break both
    monkeypatch.setattr(cube, "rebuild", broken_rebuild)
    monkeypatch.setattr(incremental, "refresh", broken_rebuild)
    rows = [(uscc(100 + i), f"失败测试企业{i}", "450403", "甘蔗种植") for i in range(5)]
    before = counts(own_app)
    status, job_id, _ = upload(manager, "fail.csv", csv_bytes(rows))
    assert status == 303 and job_id is not None
    row = finish(manager, own_app, job_id, f"/data/jobs/{job_id}")
    assert "失败" in row and "cube rebuild broke midway" in row
    job = jobs.get_job(state_of(own_app).db, job_id)
    assert job is not None and job.state == "failed"
    assert counts(own_app) == before
    assert not present(own_app, [r[0] for r in rows])


@pytest.mark.parametrize(
    ("name", "content", "kind", "expected"),
    [
        ("empty.csv", b"", "enterprises", "为空"),
        ("firms.exe", b"a,b\n1,2\n", "enterprises", "不支持"),
        ("firms.csv", b"a,b\n1,2\n", "factories", "kind"),
    ],
)
def test_a_bad_upload_is_refused_with_the_reason(
    manager: TestClient, own_app: FastAPI, name: str, content: bytes, kind: str, expected: str
) -> None:
    with state_of(own_app).db.session() as session:
        before = session.scalar(select(func.count(Job.id)))
    status, job_id, body = upload(manager, name, content, kind)
    assert status == 422 and job_id is None
    assert expected in body and 'role="alert"' in body
    with state_of(own_app).db.session() as session:
        assert session.scalar(select(func.count(Job.id))) == before


def test_a_file_that_cannot_be_read_fails_its_job_with_the_reason(
    manager: TestClient, own_app: FastAPI
) -> None:
    status, job_id, _ = upload(manager, "no-header.csv", b"x,y\n")
    assert status == 303 and job_id is not None
    finish(manager, own_app, job_id, f"/data/jobs/{job_id}")
    job = jobs.get_job(state_of(own_app).db, job_id)
    assert job is not None and job.state == "failed"
    assert "缺少" in job.error_zh and "missing" in job.error_en
    assert manager.get(f"/data/jobs/{job_id}/errors").status_code == 404


def test_viewers_may_not_manage_data(own_app: FastAPI) -> None:
    with TestClient(own_app) as client:
        login(client, "viewer")
        assert client.get("/data").status_code == 403
        assert 'href="/data"' not in client.get("/").text
        token = csrf_of(client, "/")
        refused = client.post(
            "/data/upload",
            data={"kind": "enterprises", "csrf_token": token},
            files={"file": ("a.csv", csv_bytes(GOOD))},
        )
        assert refused.status_code == 403
        reclassify = client.post("/data/reclassify", data={"csrf_token": token})
        assert reclassify.status_code == 403


def test_a_post_without_csrf_token_is_refused(manager: TestClient, own_app: FastAPI) -> None:
    with state_of(own_app).db.session() as session:
        before = session.scalar(select(func.count(Job.id)))
    status, job_id, _ = upload(manager, "x.csv", csv_bytes(GOOD), csrf=False)
    assert status == 403 and job_id is None
    assert manager.post("/data/reclassify", follow_redirects=False).status_code == 403
    with state_of(own_app).db.session() as session:
        assert session.scalar(select(func.count(Job.id))) == before


def test_reclassify_runs_as_a_job(manager: TestClient, own_app: FastAPI) -> None:
    token = csrf_of(manager, "/data")
    response = manager.post("/data/reclassify", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    job_id = int(response.headers["location"].split("#job-")[1])
    row = finish(manager, own_app, job_id, f"/data/jobs/{job_id}")
    assert "已完成" in row
    job = jobs.get_job(state_of(own_app).db, job_id)
    assert job is not None and job.state == "done"
    now = counts(own_app)
    assert job.result["enterprises"] == now["enterprises"]
    assert job.result["assignments"] == now["assignments"] > 0
    assert ("data.reclassify", f"job/{job_id}") in audit_actions(own_app)


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def test_jobs_of_a_dead_process_are_marked_failed_on_start(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)  # no warehouse yet: the page still opens
    here = socket.gethostname()
    runners = {
        "dead": {"host": here, "pid": _dead_pid()},
        "unknown": None,
        "alive": {"host": here, "pid": os.getpid()},
    }
    ids = {}
    with state_of(app).db.session() as session:
        for label, runner in runners.items():
            job = Job(
                kind="data.upload",
                state="running" if label != "unknown" else "queued",
                params=json.dumps({"kind": "enterprises", "name": f"{label}.csv"}),
                result=json.dumps({"runner": runner} if runner else {}),
            )
            session.add(job)
            session.flush()
            ids[label] = job.id
    with TestClient(app) as client:  # the app starts here
        for label in ("dead", "unknown"):
            job = jobs.get_job(state_of(app).db, ids[label])
            assert job is not None and job.state == "failed" and job.finished_at is not None
            assert "中断" in job.error_zh and "interrupted" in job.error_en
        alive = jobs.get_job(state_of(app).db, ids["alive"])
        assert alive is not None and alive.state == "running"
        login(client, "admin")
        page = client.get("/data")
        assert page.status_code == 200
        assert "仓库尚未建立" in page.text and "中断" in page.text
        # the live one still polls; the interrupted ones do not
        assert f'hx-get="/data/jobs/{ids["alive"]}"' in page.text
        assert f'hx-get="/data/jobs/{ids["dead"]}"' not in page.text
