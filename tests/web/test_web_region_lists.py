"""各地区招商清单: the page and its XLSX over an imported build, the notice without one,
chain scopes, and English."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import OTHER_CHAIN, PASSWORD, SCOPED_CHAIN, client_for, login

from chainatlas.accounts.roles import Role
from chainatlas.accounts.service import add_user
from chainatlas.atlas import load_atlas
from chainatlas.db.session import Database
from chainatlas.services.build import ResultOptions, import_build, run_build
from chainatlas.settings import Settings, WebSettings
from chainatlas.synth import generate
from chainatlas.web.app import create_app

PROVINCE = "450000"
AS_OF = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def build_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Path]]:
    """The app over a warehouse imported from a build of 1,500 seeded firms (top 3)."""
    atlas = load_atlas()
    raw = tmp_path_factory.mktemp("input")
    generate(1_500, 3, raw, atlas=atlas, chunk_size=1_500)
    (raw / "labels.parquet").unlink()
    out = tmp_path_factory.mktemp("out") / "build"
    run_build("duckdb", raw, out, atlas=atlas, results=ResultOptions(as_of=AS_OF, targets_top=3))
    home = tmp_path_factory.mktemp("rlhome")
    settings = Settings(home=home, web=WebSettings(secret_key="rl-secret"))
    import_build(out, settings.warehouse_path)
    app = create_app(settings)
    db = Database(settings.app_database_url)
    with db.session() as session:
        for role in (Role.admin, Role.chain_office):
            chains = [SCOPED_CHAIN] if role == Role.chain_office else []
            add_user(
                session,
                settings.web,
                role.value,
                PASSWORD,
                role.value,
                chains=chains,
                region_code=PROVINCE,
                actor="test",
            )
    db.dispose()
    yield app, out


@pytest.fixture()
def admin_client(build_app: tuple[FastAPI, Path]) -> Iterator[TestClient]:
    with TestClient(build_app[0]) as client:
        yield login(client, "admin")


def test_the_summary_of_every_city_and_one_nodes_lists(
    admin_client: TestClient, build_app: tuple[FastAPI, Path]
) -> None:
    out = build_app[1]
    page = admin_client.get(f"/targets/regions?region={PROVINCE}&chain={SCOPED_CHAIN}")
    assert page.status_code == 200
    assert "各地区招商清单" in page.text and "2026-06-01" in page.text and "前 3 名" in page.text
    chains = pl.read_parquet(out / "diagnosis_chains" / "*.parquet").filter(
        (pl.col("level") == "city")
        & (pl.col("chain_id") == SCOPED_CHAIN)
        & pl.col("region_code").str.starts_with("45")
        & (pl.col("firm_count") > 0)
    )
    assert chains.height > 1
    for code in chains["region_code"]:
        assert f'data-region="{code}"' in page.text
    # one node across the counties: each region's best three with their reasons
    targets = pl.read_parquet(out / "targets" / "*.parquet").filter(
        (pl.col("level") == "county")
        & (pl.col("chain_id") == SCOPED_CHAIN)
        & pl.col("region_code").str.starts_with("45")
    )
    node = targets["node_id"].mode()[0]
    page = admin_client.get(
        f"/targets/regions?region={PROVINCE}&chain={SCOPED_CHAIN}&level=county&node={node}"
    )
    assert page.status_code == 200
    shown = targets.filter(pl.col("node_id") == node)
    assert shown.height > 0
    for row in shown.iter_rows(named=True):
        assert f"/enterprises/{row['uscc']}" in page.text
        assert row["reason_zh"].replace("'", "&#39;").replace('"', "&#34;")[:20] in page.text


def test_the_workbook_of_the_scope(
    admin_client: TestClient, build_app: tuple[FastAPI, Path]
) -> None:
    out = build_app[1]
    response = admin_client.get(
        f"/targets/regions/export?region={PROVINCE}&chain={SCOPED_CHAIN}&level=county"
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["地区", "目标企业", "参数"]
    targets = pl.read_parquet(out / "targets" / "*.parquet").filter(
        (pl.col("level") == "county")
        & (pl.col("chain_id") == SCOPED_CHAIN)
        & pl.col("region_code").str.starts_with("45")
    )
    assert book["目标企业"].max_row == targets.height + 1
    header = [c.value for c in book["目标企业"][1]]
    column = header.index("统一社会信用代码")
    listed = {row[column].value for row in book["目标企业"].iter_rows(min_row=2)}
    assert listed == set(targets["uscc"])


def test_english_a_county_and_a_chain_out_of_scope(build_app: tuple[FastAPI, Path]) -> None:
    with client_for(build_app[0], "chain_office") as office:
        page = office.get(f"/targets/regions?region={PROVINCE}&chain={OTHER_CHAIN}")
        assert page.status_code == 403
        page = office.get("/targets/regions?region=450403&chain=sugarcane")
        assert page.status_code == 200 and "县级地区之下没有下辖地区" in page.text
        office.get("/lang/en?back=/")
        page = office.get(f"/targets/regions?region={PROVINCE}&chain={SCOPED_CHAIN}")
        assert "Target lists of every region" in page.text and "Completeness" in page.text
        assert "rl_" not in page.text and "tgt_" not in page.text


def test_without_imported_results_the_page_says_how_to_get_them(web_app: FastAPI) -> None:
    with client_for(web_app, "admin") as admin:
        page = admin.get(f"/targets/regions?region={PROVINCE}&chain={SCOPED_CHAIN}")
        assert page.status_code == 200
        assert "尚未导入批量结果" in page.text and "chainatlas ingest build" in page.text
        assert (
            admin.get(f"/targets/regions/export?region={PROVINCE}&chain={SCOPED_CHAIN}").status_code
            == 404
        )
        # the region's own list links here
        assert "/targets/regions?region=" in admin.get(f"/targets?chain={SCOPED_CHAIN}").text


def test_the_api_returns_the_clis_document(
    admin_client: TestClient, build_app: tuple[FastAPI, Path]
) -> None:
    from chainatlas.services.region_lists import RegionTargets

    response = admin_client.get(
        f"/api/v1/targets/regions?region={PROVINCE}&chain={SCOPED_CHAIN}&each=county"
    )
    assert response.status_code == 200
    document = RegionTargets.model_validate(response.json())
    targets = pl.read_parquet(build_app[1] / "targets" / "*.parquet").filter(
        (pl.col("level") == "county")
        & (pl.col("chain_id") == SCOPED_CHAIN)
        & pl.col("region_code").str.starts_with("45")
    )
    assert sum(len(r.targets) for r in document.regions) == targets.height
    assert document.results["targets_top"] == 3
    bad = admin_client.get(
        f"/api/v1/targets/regions?region=450403&chain={SCOPED_CHAIN}&each=county"
    )
    assert bad.status_code in (400, 422) and "county" in bad.text
    with client_for(build_app[0], "chain_office") as office:
        assert (
            office.get(
                f"/api/v1/targets/regions?region={PROVINCE}&chain={OTHER_CHAIN}&each=city"
            ).status_code
            == 403
        )


def test_the_api_says_when_no_results_are_imported(web_app: FastAPI) -> None:
    with client_for(web_app, "admin") as admin:
        response = admin.get(
            f"/api/v1/targets/regions?region={PROVINCE}&chain={SCOPED_CHAIN}&each=city"
        )
        assert response.status_code == 404 and "ingest build" in response.text
