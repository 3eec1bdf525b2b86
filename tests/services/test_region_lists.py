"""Every region's target lists read from an imported build: the rows are the build's, the
summary counts its diagnosis, the workbook carries every row, and a load that changes the
data drops them."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions
from chainatlas.services.build import RESULT_TABLES, ResultOptions, import_build, run_build
from chainatlas.services.load import load_links
from chainatlas.services.region_lists import (
    RegionTargets,
    region_lists,
    region_lists_xlsx,
    results_info,
    scope,
)
from chainatlas.synth import generate
from chainatlas.targets.weights import TargetWeights

PROVINCE = "450000"
AS_OF = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas([])


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, atlas: dict[str, Chain]) -> Path:
    raw = tmp_path_factory.mktemp("input")
    generate(2_000, 5, raw, atlas=atlas, chunk_size=1_000)
    (raw / "labels.parquet").unlink()
    out = tmp_path_factory.mktemp("out") / "build"
    run_build("duckdb", raw, out, atlas=atlas, results=ResultOptions(as_of=AS_OF, targets_top=4))
    return out


@pytest.fixture(scope="module")
def warehouse(build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("home") / "warehouse.duckdb"
    import_build(build, path)
    return path


def built(build: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(build / table / "*.parquet")


def test_the_options_of_the_build_come_with_its_results(warehouse: Path) -> None:
    with Warehouse(warehouse, read_only=True) as wh:
        info = results_info(wh)
    assert info is not None
    assert info.as_of == AS_OF and info.targets_top == 4
    assert info.target_weights == json.loads(TargetWeights().model_dump_json())


@pytest.mark.parametrize("level", ["city", "county"])
def test_every_region_under_a_province_gets_the_builds_rows(
    warehouse: Path, build: Path, atlas: dict[str, Chain], level: str
) -> None:
    chain = atlas["sugarcane"]
    under = set(scope(PROVINCE, level)["region_code"])
    with Warehouse(warehouse, read_only=True) as wh:
        summary, targets = region_lists(wh, chain, PROVINCE, level)
    want = built(build, "targets").filter(
        (pl.col("level") == level)
        & (pl.col("chain_id") == chain.id)
        & pl.col("region_code").is_in(list(under))
    )
    assert targets.height == want.height > 0
    key = ["region_code", "node_id", "rank"]
    got = targets.select(*key, "uscc", "score").sort(key)
    assert got.equals(want.select(*key, "uscc", "score").sort(key))
    # each listed node is a gap of its region, in the build's diagnosis
    statuses = set(zip(targets["status"], targets["is_break"], strict=True))
    assert all(status in ("missing", "weak") or brk for status, brk in statuses)
    # the summary: every region of the scope with firms on the chain, weakest first
    chains = built(build, "diagnosis_chains").filter(
        (pl.col("level") == level)
        & (pl.col("chain_id") == chain.id)
        & pl.col("region_code").is_in(list(under))
        & (pl.col("firm_count") > 0)
    )
    assert set(summary["region_code"]) == set(chains["region_code"])
    assert summary["completeness"].is_sorted()
    for row in summary.iter_rows(named=True):
        mine = targets.filter(pl.col("region_code") == row["region_code"])
        assert row["targets"] == mine.height
        assert row["gaps"] == mine["node_id"].n_unique()
        if mine.height:
            assert row["best_score"] == mine["score"].max()
        source = chains.filter(pl.col("region_code") == row["region_code"]).row(0, named=True)
        assert (row["missing"], row["weak"], row["break"]) == (
            source["missing"],
            source["weak"],
            source["break"],
        )


def test_one_node_and_the_nodes_status_where_it_is_no_gap(
    warehouse: Path, atlas: dict[str, Chain]
) -> None:
    chain = atlas["sugarcane"]
    with Warehouse(warehouse, read_only=True) as wh:
        summary, targets = region_lists(wh, chain, PROVINCE, "county", "cane_planting")
        nodes = wh.sql(
            "SELECT region_code, status FROM diagnosis_nodes WHERE level = 'county' "
            "AND chain_id = 'sugarcane' AND node_id = 'cane_planting'"
        )
    assert set(targets["node_id"]) == {"cane_planting"}
    status = dict(nodes.iter_rows())
    for row in summary.iter_rows(named=True):
        assert row["node_status"] == status[row["region_code"]]
        if row["node_status"] in ("present", "strong"):
            assert row["targets"] == 0


def test_a_city_scope_and_bad_scopes(warehouse: Path, atlas: dict[str, Chain]) -> None:
    regions = load_regions()
    counties = regions.filter((pl.col("city_code") == "450400") & (pl.col("level") == "county"))
    assert set(scope("450400", "county")["region_code"]) == set(counties["region_code"])
    with pytest.raises(UserError, match="city"):
        scope("450400", "city")
    with pytest.raises(UserError):
        scope("450403", "county")  # nothing under a county
    with pytest.raises(UserError):
        scope("999999", "city")


def test_the_workbook_carries_every_row(
    warehouse: Path, atlas: dict[str, Chain], tmp_path: Path
) -> None:
    chain = atlas["sugarcane"]
    with Warehouse(warehouse, read_only=True) as wh:
        info = results_info(wh)
        summary, targets = region_lists(wh, chain, PROVINCE, "city")
    assert info is not None
    path = tmp_path / "lists.xlsx"
    region_lists_xlsx(path, chain, PROVINCE, "city", summary, targets, info)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["地区", "目标企业", "参数"]
    regions, rows, settings = book["地区"], book["目标企业"], book["参数"]
    assert regions.freeze_panes == "A2" and rows.auto_filter.ref
    assert regions.max_row == summary.height + 1 and rows.max_row == targets.height + 1
    header = [c.value for c in rows[1]]
    first = targets.row(0, named=True)
    values = dict(zip(header, [c.value for c in rows[2]], strict=True))
    assert values["统一社会信用代码"] == first["uscc"] and values["序号"] == first["rank"]
    assert values["得分"] == pytest.approx(first["score"])
    assert values["理由"] == first["reason_zh"]
    assert values["环节"] == chain.node(first["node_id"]).name_zh
    assert regions["A2"].value == summary["region_code"][0]
    items = {r[0].value: r[1].value for r in settings.iter_rows(min_row=2)}
    assert items["每个缺口环节列出"] == "4"
    assert items["增长截至"] == AS_OF.isoformat()


def test_a_load_drops_the_results_and_a_failed_one_keeps_them(
    warehouse: Path, build: Path, tmp_path: Path
) -> None:
    links = built(build, "supply_links").head(3)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    with Warehouse(copy) as wh:
        bad = links.with_columns(pl.lit("x").alias("year"))  # wrong type: the load fails
        with pytest.raises(Exception):  # noqa: B017 — any error of the engine
            load_links(wh, bad)
        assert results_info(wh) is not None  # rolled back with the failed load
        load_links(wh, links)
        assert results_info(wh) is None
        assert not any(wh.has_table(t) for t in RESULT_TABLES)


def test_a_build_without_results_imports_without_them(build: Path, tmp_path: Path) -> None:
    older = tmp_path / "older"
    shutil.copytree(build, older)
    shutil.rmtree(older / "targets")
    path = tmp_path / "warehouse.duckdb"
    summary = import_build(older, path)
    assert "targets" not in summary["tables"] and "diagnosis_nodes" not in summary["tables"]
    with Warehouse(path, read_only=True) as wh:
        assert results_info(wh) is None


def cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainatlas", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CHAINATLAS_HOME": str(home), "COLUMNS": "120"},
        timeout=300,
    )


def test_the_cli_gives_every_regions_lists(
    warehouse: Path, atlas: dict[str, Chain], tmp_path: Path
) -> None:
    home = warehouse.parent
    base = ["targets", "-r", PROVINCE, "-c", "sugarcane", "--each", "county"]
    done = cli([*base, "--format", "json"], home)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["schema"] == "chainatlas.region_targets/1"
    assert document["results"]["as_of"] == AS_OF.isoformat()
    with Warehouse(warehouse, read_only=True) as wh:
        summary, targets = region_lists(wh, atlas["sugarcane"], PROVINCE, "county")
    assert [r["region_code"] for r in document["regions"]] == summary["region_code"].to_list()
    for region, row in zip(document["regions"], summary.iter_rows(named=True), strict=True):
        assert region["listed"] == row["targets"] == len(region["targets"])
        assert region["break"] == row["break"] and region["completeness"] == row["completeness"]
    RegionTargets.model_validate(document)
    listed = [(r["region_code"], t["uscc"]) for r in document["regions"] for t in r["targets"]]
    assert sorted(listed) == sorted(zip(targets["region_code"], targets["uscc"], strict=True))
    done = cli(base, home)
    assert done.returncode == 0 and "各地区招商清单" in done.stdout
    out = tmp_path / "lists.xlsx"
    done = cli([*base, "--format", "xlsx", "--out", str(out)], home)
    assert done.returncode == 0, done.stderr
    assert openpyxl.load_workbook(out)["目标企业"].max_row == targets.height + 1
    # live-list options do not apply; a warehouse without results says how to get them
    done = cli([*base, "--top", "5"], home)
    assert done.returncode == 1 and "--top" in done.stderr
    bare = tmp_path / "bare"
    bare.mkdir()
    with Warehouse(bare / "warehouse.duckdb"):
        pass
    done = cli(base, bare)
    assert done.returncode == 1 and "chainatlas ingest build" in done.stderr
