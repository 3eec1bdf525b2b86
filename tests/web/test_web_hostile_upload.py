"""An enterprise file whose names and business scopes carry markup and SQL, uploaded on the
数据 page: it loads like any other file, the strings come back escaped on the search results
and the enterprise page (never as live markup), and the warehouse keeps every table.

The upload changes the warehouse, so it goes to an app of this module's own on a copy of the
shared demo warehouse, as in test_web_data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from tests.web.conftest import login
from tests.web.test_web_data import TABLES, counts, make_app, state_of, upload, uscc

from chainatlas.settings import Settings
from chainatlas.web import jobs

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SQL = "'; DROP TABLE enterprises; --"
HOSTILE = (SCRIPT, IMG, SQL)

# (code, name, region, industry, business scope): each name and scope holds one of the strings
ROWS = [
    (uscc(901), f"梧州{SCRIPT}糖业有限公司", "450403", "1340", f"甘蔗制糖；{IMG}白砂糖生产"),
    (uscc(902), f"苍梧{IMG}蔗业有限公司", "450421", "1340", f"甘蔗种植；{SQL}甘蔗收购"),
    (uscc(903), f"岑溪{SQL}制糖有限公司", "450481", "1340", f"机制糖生产；{SCRIPT}"),
]


def hostile_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "经营范围"])
    writer.writerows(ROWS)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def own_app(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("hostilehome"), web_settings)


@pytest.fixture()
def manager(own_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(own_app) as client:
        yield login(client, "analyst")


def warehouse_tables(app: FastAPI) -> set[str]:
    with state_of(app).warehouse.read() as wh:
        found = wh.sql("SELECT table_name FROM information_schema.tables")
    return set(found["table_name"].to_list())


def assert_inert(html: str, *texts: str) -> None:
    """Each text is on the page only in its escaped form; no hostile string is live."""
    for text in texts:
        assert str(escape(text)) in html, text
    for raw in (SCRIPT, IMG, "<img", "onerror=alert(1)>", "'; DROP"):
        assert raw not in html, raw


def test_markup_and_sql_in_an_upload_stay_inert(manager: TestClient, own_app: FastAPI) -> None:
    tables, before = warehouse_tables(own_app), counts(own_app)
    status, job_id, _ = upload(manager, "企业名录.csv", hostile_csv())
    assert status == 303 and job_id is not None
    jobs.wait(state_of(own_app), job_id, timeout=300)
    job = jobs.get_job(state_of(own_app).db, job_id)
    # the validators take the strings as ordinary text: every row loads
    assert job is not None and job.state == "done", job
    assert (job.result["rows"], job.result["accepted"], job.result["rejected"]) == (3, 3, 0)
    assert_inert(manager.get(f"/data/jobs/{job_id}").text)

    # the warehouse keeps every table and holds the strings as text
    assert warehouse_tables(own_app) == tables
    after = counts(own_app)
    assert after["enterprises"] == before["enterprises"] + 3
    assert all(after[name] >= before[name] for name in TABLES)
    with state_of(own_app).warehouse.read() as wh:
        stored = wh.sql(
            "SELECT uscc, name, business_scope FROM enterprises WHERE uscc IN (SELECT unnest(?))",
            [[r[0] for r in ROWS]],
        )
    loaded = {code: (name, scope) for code, name, scope in stored.rows()}
    assert set(loaded) == {r[0] for r in ROWS}
    for code, name, _region, _industry, scope in ROWS:
        # normalised on the way in (full-width punctuation), the hostile strings verbatim
        assert loaded[code][0] == name
        assert [t for t in HOSTILE if t in loaded[code][1]] == [t for t in HOSTILE if t in scope]

    for code, (name, scope) in loaded.items():
        # the search by each hostile string finds its firm and shows the name escaped
        for text in HOSTILE:
            if text in name:
                response = manager.get("/enterprises?" + urlencode({"q": text, "region": ""}))
                assert response.status_code == 200
                assert f'href="/enterprises/{code}"' in response.text
                assert_inert(response.text, name)
        page = manager.get(f"/enterprises/{code}")
        assert page.status_code == 200
        assert_inert(page.text, name, scope)
