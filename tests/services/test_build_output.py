"""`chainatlas build` output: the diagnosis of every region × chain it writes equals the
warehouse's batch diagnosis, and once imported (`chainatlas ingest build`) the CLI's reads
give what they give on a warehouse loaded directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from chainatlas.atlas import Chain, load_atlas
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all
from chainatlas.diagnose.opportunities import region_matrix
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.metrics.complexity import complexity_table
from chainatlas.services.build import (
    LEVELS,
    OUTPUT_TABLES,
    RESULT_TABLES,
    BuildResult,
    ResultOptions,
    import_build,
    run_build,
)
from chainatlas.services.load import load_enterprises, load_links
from chainatlas.synth import generate
from chainatlas.targets.pipeline import find_targets

CITY = "450400"  # 梧州, the synthetic data's focus city
AS_OF = dt.date(2026, 6, 1)
TOL = {"rel_tol": 1e-9, "abs_tol": 1e-9}


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas([])


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, atlas: dict[str, Chain]
) -> tuple[BuildResult, Path]:
    """A DuckDB build of 3,000 seeded firms, and a warehouse loaded directly from the same
    files."""
    raw = tmp_path_factory.mktemp("input")
    generate(3_000, 11, raw, atlas=atlas, chunk_size=1_000)
    (raw / "labels.parquet").unlink()
    out = tmp_path_factory.mktemp("out") / "build"
    result = run_build("duckdb", raw, out, atlas=atlas, results=ResultOptions(as_of=AS_OF))
    direct = tmp_path_factory.mktemp("direct") / "warehouse.duckdb"
    with Warehouse(direct) as wh:
        load_enterprises(wh, pl.read_parquet(raw / "enterprises.parquet"), atlas)
        load_links(wh, pl.read_parquet(raw / "supply_links.parquet"))
    return result, direct


def read(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / table / "*.parquet")


@pytest.mark.parametrize("level", LEVELS)
def test_the_build_diagnoses_every_region_of_every_level_as_the_warehouse_does(
    built: tuple[BuildResult, Path], atlas: dict[str, Chain], level: str
) -> None:
    result, direct = built
    nodes = read(result.output_dir, "diagnosis_nodes").filter(pl.col("level") == level)
    chains = read(result.output_dir, "diagnosis_chains").filter(pl.col("level") == level)
    with Warehouse(direct, read_only=True) as wh:
        want = diagnose_all(wh, atlas, level)
    assert_frame_equal(nodes.drop("level"), want.nodes, check_dtypes=False, **TOL)
    assert_frame_equal(chains.drop("level"), want.chains, check_dtypes=False, **TOL)
    # every region of the level × every node of every chain, with firms somewhere
    assert nodes.height == nodes["region_code"].n_unique() * sum(
        len(c.nodes) for c in atlas.values()
    )
    assert nodes.filter(pl.col("firm_count") > 0).height > 0
    assert set(nodes["status"]) >= {"missing", "present"}


@pytest.mark.parametrize("level", LEVELS)
def test_the_build_writes_relatedness_as_opportunities_computes_it(
    built: tuple[BuildResult, Path], level: str
) -> None:
    result, direct = built
    got = read(result.output_dir, "relatedness").filter(pl.col("level") == level)
    with Warehouse(direct, read_only=True) as wh:
        matrix = region_matrix(wh, level)
    want = complexity_table(matrix, region="region_code", product="product", value="firm_count")
    assert got.height == want.height > 0
    got = got.with_columns(pl.concat_str("chain_id", pl.lit("/"), "node_id").alias("product"))
    columns = ["rca", "mcp", "diversity", "ubiquity", "eci", "pci", "density", "coi", "cog"]
    assert_frame_equal(
        got.sort("region_code", "product").select("region_code", "product", *columns),
        want.sort("region_code", "product").select("region_code", "product", *columns),
        check_dtypes=False,
        **TOL,
    )
    assert got.filter(pl.col("mcp") == 1).height > 0 and got["density"].drop_nulls().len() > 0
    if level != "county":  # 3,000 firms over 2,800 counties leave the county ECI undefined
        assert got["eci"].drop_nulls().len() > 0


def test_the_build_reports_its_diagnosis_stage_and_tables(
    built: tuple[BuildResult, Path],
) -> None:
    result, _ = built
    assert {"diagnose", "targets"} <= {s.stage for s in result.stages}
    assert set(result.tables) == {*OUTPUT_TABLES, *RESULT_TABLES}
    targets = next(s for s in result.stages if s.stage == "targets")
    assert targets.rows == result.tables["targets"] > 0
    assert result.tables["supply_links"] > 0
    assert (
        result.tables["single_points_of_failure"]
        == read(result.output_dir, "single_points_of_failure").height
    )


@pytest.mark.parametrize(
    "level,code", [("city", CITY), ("county", "450403"), ("province", "450000")]
)
def test_the_build_writes_each_regions_targets_as_find_targets_lists_them(
    built: tuple[BuildResult, Path], atlas: dict[str, Chain], level: str, code: str
) -> None:
    result, direct = built
    targets = read(result.output_dir, "targets").filter(
        (pl.col("level") == level) & (pl.col("region_code") == code)
    )
    leads = read(result.output_dir, "lead_firms").filter(
        (pl.col("level") == level) & (pl.col("region_code") == code)
    )
    assert targets.height > 0
    compared = 0
    with Warehouse(direct, read_only=True) as wh:
        for chain_id in ("sugarcane", "green_home", "calcium_materials"):
            diagnosis = diagnose(wh, atlas[chain_id], code, top_partners=0)
            want_leads = sorted((n.id, f.uscc) for n in diagnosis.nodes for f in n.lead_firms)
            mine = leads.filter(pl.col("chain_id") == chain_id).select("node_id", "uscc")
            assert sorted(mine.iter_rows()) == want_leads
            want = find_targets(wh, atlas[chain_id], diagnosis, top=10, as_of=AS_OF)
            for node in want.nodes:
                got = targets.filter(
                    (pl.col("chain_id") == chain_id) & (pl.col("node_id") == node.id)
                ).sort("rank")
                assert [
                    (r, u, round(s, 4), z)
                    for r, u, s, z in got.select("rank", "uscc", "score", "reason_zh").iter_rows()
                ] == [(t.rank, t.uscc, t.score, t.reason_zh) for t in node.targets]
                compared += len(node.targets)
    assert compared > 0


def test_an_imported_build_answers_as_a_directly_loaded_warehouse(
    built: tuple[BuildResult, Path], atlas: dict[str, Chain], tmp_path: Path
) -> None:
    result, direct = built
    imported = tmp_path / "home" / "warehouse.duckdb"
    summary = import_build(result.output_dir, imported)
    assert summary["tables"]["enterprises"] == 3_000
    for chain_id in ("sugarcane", "green_home"):
        with Warehouse(imported, read_only=True) as a, Warehouse(direct, read_only=True) as b:
            got, want = diagnose(a, atlas[chain_id], CITY), diagnose(b, atlas[chain_id], CITY)
            assert got.model_dump() == want.model_dump()
            gap = next(n.id for n in want.nodes if n.status == "missing")
            got_t = find_targets(a, atlas[chain_id], got, node_id=gap)
            want_t = find_targets(b, atlas[chain_id], want, node_id=gap)
            assert got_t.model_dump() == want_t.model_dump()


def test_an_incomplete_build_is_refused_and_the_warehouse_kept(
    built: tuple[BuildResult, Path], tmp_path: Path
) -> None:
    result, direct = built
    partial = tmp_path / "partial"
    for table in OUTPUT_TABLES[:-1]:
        (partial / table).mkdir(parents=True)
        for part in (result.output_dir / table).glob("*.parquet"):
            (partial / table / part.name).write_bytes(part.read_bytes())
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(direct.read_bytes())
    before = target.read_bytes()
    with pytest.raises(UserError) as err:
        import_build(partial, target)
    assert OUTPUT_TABLES[-1] in err.value.message_en and OUTPUT_TABLES[-1] in err.value.message_zh
    assert target.read_bytes() == before


def test_the_search_and_firm_tables_keep_their_region_order(
    built: tuple[BuildResult, Path],
) -> None:
    """A region's rows sit together (what makes a city's search read a few row groups once
    the build is imported): the export keeps the order the expressions set."""
    result, _ = built
    search = read(result.output_dir, "firm_search")
    keys = ["province_code", "city_code", "region_code", "uscc"]
    assert search.equals(search.sort(keys, nulls_last=True))
    firms = read(result.output_dir, "chain_firms")
    chain_keys = ["chain_id", "province_code", "city_code", "region_code", "node_id"]
    assert firms.select(chain_keys).equals(
        firms.select(chain_keys).sort(chain_keys, nulls_last=True)
    )
