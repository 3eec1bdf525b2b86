"""简报 page: a pack built as a job (XLSX, PDF, PNG, SVG), downloads one by one and as a
ZIP, no path traversal, rights and chain scope, form errors."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import OTHER_CHAIN, PASSWORD, REGION, SCOPED_CHAIN, csrf_of, login

from chainatlas.accounts.service import add_user
from chainatlas.briefing.pack import DEFAULT_LISTS, DEFAULT_MAPS
from chainatlas.settings import Settings
from chainatlas.web import jobs
from chainatlas.web.app import create_app
from chainatlas.web.state import AppState

CHAIN = SCOPED_CHAIN  # sugarcane: demo firms in 梧州


@pytest.fixture(scope="module")
def own_app(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    home = tmp_path_factory.mktemp("briefhome")
    shutil.copy(web_settings.warehouse_path, home / "warehouse.duckdb")
    settings = Settings(home=home, web=web_settings.web)
    app = create_app(settings)
    with app.state.chainatlas.db.session() as session:
        for role in ("analyst", "viewer", "chain_office"):
            add_user(
                session,
                settings.web,
                role,
                PASSWORD,
                role,
                chains=[CHAIN] if role == "chain_office" else [],
                region_code=REGION,
                actor="t",
            )
    return app


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


def request_pack(client: TestClient, **fields: str | list[str]) -> tuple[int, int | None, str]:
    data: dict[str, str | list[str]] = {
        "region": REGION,
        "chain": CHAIN,
        "maps": list(DEFAULT_MAPS),
        "lists": list(DEFAULT_LISTS),
        "lang": "zh",
        "csrf_token": csrf_of(client, "/briefings"),
    }
    data.update(fields)
    response = client.post("/briefings", data=data, follow_redirects=False)
    job_id = None
    if response.status_code == 303:
        job_id = int(response.headers["location"].split("#job-")[1])
    return response.status_code, job_id, response.text


@pytest.fixture(scope="module")
def analyst(own_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(own_app) as client:
        yield login(client, "analyst")


@pytest.fixture(scope="module")
def built(analyst: TestClient, own_app: FastAPI) -> jobs.JobView:
    """One pack of 梧州 × sugarcane, built through the page (read under the gate)."""
    page = analyst.get("/briefings")
    assert page.status_code == 200  # the gate's read-only connection is open from here on
    with state_of(own_app).warehouse.read() as wh:
        assert wh.count("enterprises") > 0
    status, job_id, _ = request_pack(analyst)
    assert status == 303 and job_id is not None
    jobs.wait(state_of(own_app), job_id, timeout=600)
    job = jobs.get_job(state_of(own_app).db, job_id)
    assert job is not None
    assert job.state == "done", job.error_en
    return job


def test_a_pack_job_writes_pdf_xlsx_and_every_map(
    analyst: TestClient, own_app: FastAPI, built: jobs.JobView, tmp_path: Path
) -> None:
    files = built.result["files"]
    suffixes = [Path(name).suffix for name in files]
    assert suffixes.count(".pdf") == 1 and suffixes.count(".xlsx") == 1
    assert suffixes.count(".svg") == suffixes.count(".png") == len(DEFAULT_MAPS)
    out = state_of(own_app).settings.home / "briefings" / "web" / str(built.id)
    assert sorted(p.name for p in out.iterdir()) == sorted(files)

    row = analyst.get(f"/briefings/{built.id}/row")
    assert row.status_code == 200 and "已完成" in row.text and "hx-trigger" not in row.text
    page = analyst.get(f"/briefings?chain={CHAIN}")
    assert f'href="/briefings/{built.id}/zip"' in page.text
    assert f'<option value="{CHAIN}" selected>' in page.text  # ?chain= preselects

    [workbook_name] = [n for n in files if n.endswith(".xlsx")]
    workbook = analyst.get(f"/briefings/{built.id}/files/{workbook_name}")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert len(book.sheetnames) >= len(DEFAULT_LISTS)
    assert any(sheet.max_row > 1 for sheet in book.worksheets)

    [report_name] = [n for n in files if n.endswith(".pdf")]
    report = analyst.get(f"/briefings/{built.id}/files/{report_name}")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report.content)
    subprocess.run(["pdftoppm", "-png", "-r", "20", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) >= 2  # cover plus maps and lists

    [png] = [n for n in files if n.endswith(".png")][:1]
    image = analyst.get(f"/briefings/{built.id}/files/{png}")
    assert image.content.startswith(b"\x89PNG") and image.headers["content-type"] == "image/png"

    archive = analyst.get(f"/briefings/{built.id}/zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert sorted(z.namelist()) == sorted(files)
        assert z.read(report_name) == report.content


@pytest.mark.parametrize(
    "name",
    ["..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "%2e%2e", "passwd", "stray.txt", ".."],
)
def test_only_files_the_job_produced_can_be_downloaded(
    analyst: TestClient, own_app: FastAPI, built: jobs.JobView, name: str
) -> None:
    out = state_of(own_app).settings.home / "briefings" / "web" / str(built.id)
    (out / "stray.txt").write_text("not produced by the job")
    response = analyst.get(f"/briefings/{built.id}/files/{name}")
    assert response.status_code == 404
    assert b"root:" not in response.content and b"not produced" not in response.content


def test_the_scoped_role_sees_only_its_chains(own_app: FastAPI, built: jobs.JobView) -> None:
    with TestClient(own_app) as client:
        login(client, "chain_office")
        assert client.get(f"/briefings/{built.id}/zip").status_code == 200
        page = client.get("/briefings")
        assert f'value="{OTHER_CHAIN}"' not in page.text and f'value="{CHAIN}"' in page.text
        status, job_id, _ = request_pack(client, chain=OTHER_CHAIN)
        assert status == 403 and job_id is None


def test_viewers_download_but_do_not_build(own_app: FastAPI, built: jobs.JobView) -> None:
    with TestClient(own_app) as client:
        login(client, "viewer")
        page = client.get("/briefings")
        assert page.status_code == 200 and 'action="/briefings"' not in page.text
        assert f'href="/briefings/{built.id}/zip"' in page.text
        assert client.get(f"/briefings/{built.id}/zip").status_code == 200
        status, job_id, _ = request_pack(client)
        assert status == 403 and job_id is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"region": "999999"}, "region"),
        ({"chain": "no_such_chain"}, "chain"),
        ({"maps": [], "lists": []}, "均为空"),
        ({"maps": ["panorama", "nonsense"]}, "nonsense"),
    ],
)
def test_a_bad_form_is_refused_with_the_field(
    analyst: TestClient, fields: dict[str, str | list[str]], expected: str
) -> None:
    status, job_id, body = request_pack(analyst, **fields)
    assert status == 422 and job_id is None
    assert expected in body and 'role="alert"' in body


def test_a_post_without_csrf_token_is_refused(analyst: TestClient) -> None:
    response = analyst.post(
        "/briefings", data={"region": REGION, "chain": CHAIN, "maps": ["status"]}
    )
    assert response.status_code == 403
