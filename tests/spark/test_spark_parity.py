"""The batch pipeline on DuckDB and on Spark, on the same seeded data: every output table
must hold the same rows.

Tolerance: integers, strings, dates and booleans are compared exactly; floating columns
within 1e-9 relative (1e-9 absolute near zero) — Spark and DuckDB add the same numbers in
another order, and floating addition is not associative (measured: they differ in the last
bits of capital and amount sums; everything else is bit-identical).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.dataset as ds
import pytest
from polars.testing import assert_frame_equal
from pyspark.sql import SparkSession
from tests.spark.conftest import UNKNOWN_CUSTOMER

from chainatlas.atlas import Chain
from chainatlas.classify import build_vocabulary, classify
from chainatlas.services.build import (
    ENGINES,
    OUTPUT_TABLES,
    RESULT_TABLES,
    BuildResult,
    ResultOptions,
    run_build,
)
from chainatlas.spark.classify import classify_enterprises

pytestmark = pytest.mark.spark

REL_TOL = 1e-9
ABS_TOL = 1e-9


@pytest.fixture(scope="module")
def builds(
    spark: SparkSession,
    seeded_input: Path,
    build_atlas: dict[str, Chain],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, BuildResult]:
    out = tmp_path_factory.mktemp("builds")
    # one date for both: the target lists' growth is measured at it
    results = ResultOptions(as_of=dt.date(2026, 6, 1))
    return {
        engine: run_build(engine, seeded_input, out / engine, atlas=build_atlas, results=results)
        for engine in ENGINES
    }


def read_table(result: BuildResult, table: str) -> pl.DataFrame:
    frame = pl.from_arrow(ds.dataset(result.output_dir / table, format="parquet").to_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in one order: by every exact column, then by the floating ones."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    exact = [c for c in frame.columns if c not in floats]
    return frame.sort([*exact, *floats], nulls_last=True)


@pytest.mark.parametrize("table", [*OUTPUT_TABLES, *RESULT_TABLES])
def test_the_table_is_the_same_on_both_engines(builds: dict[str, BuildResult], table: str) -> None:
    duck = read_table(builds["duckdb"], table)
    spark = read_table(builds["spark"], table)
    assert duck.height > 0, f"{table} is empty: the comparison would prove nothing"
    assert spark.schema == duck.schema
    assert_frame_equal(
        canonical(spark),
        canonical(duck),
        check_exact=False,
        rel_tol=REL_TOL,
        abs_tol=ABS_TOL,
    )


def test_both_engines_report_every_table_and_stage(builds: dict[str, BuildResult]) -> None:
    duck, spark = builds["duckdb"], builds["spark"]
    assert set(duck.tables) == set(spark.tables) == {*OUTPUT_TABLES, *RESULT_TABLES}
    assert duck.tables == spark.tables
    for result in (duck, spark):
        stages = {s.stage: s for s in result.stages}
        assert {"read", "classify", "cube", "network"} <= set(stages)
        assert stages["classify"].rows == result.tables["enterprises"]
        assert all(s.seconds >= 0 for s in result.stages)
    common = ("read", "classify", "cube", "network", "diagnose", "targets")
    rows = {r.engine: {s.stage: s.rows for s in r.stages} for r in (duck, spark)}
    assert [rows["duckdb"][s] for s in common] == [rows["spark"][s] for s in common]
    assert rows["spark"]["cube"] == duck.tables["assignments"]
    assert {s.stage for s in spark.stages} >= {"start"}
    assert {s.stage for s in duck.stages} >= {"export"}


def test_the_seeded_data_reaches_every_edge_case(builds: dict[str, BuildResult]) -> None:
    """The data exercises what could differ between the engines (else parity is cheap)."""
    counts = read_table(builds["spark"], "network_link_counts").row(0, named=True)
    for kind in ("located", "self_link", "unknown_supplier", "unknown_customer", "inactive"):
        assert counts[kind] > 0, kind
    facts = read_table(builds["spark"], "node_facts")
    assert facts.get_column("city_code").null_count() > 0  # 直辖市 districts: no city
    ranked = read_table(builds["spark"], "assignments")
    assert ranked.get_column("national_rank").null_count() > 0  # deregistered firms
    inputs = read_table(builds["spark"], "sourcing_inputs")
    assert set(inputs.get_column("level")) == {"county", "city", "province"}
    assert UNKNOWN_CUSTOMER not in set(read_table(builds["spark"], "firm_links")["partner"])


def test_spark_classification_does_not_depend_on_partitions_or_chunks(
    spark: SparkSession, seeded_input: Path, build_atlas: dict[str, Chain], tmp_path: Path
) -> None:
    firms = pl.read_parquet(seeded_input / "enterprises.parquet")
    expected = classify(firms, build_vocabulary(build_atlas))
    frame = spark.read.parquet(str(seeded_input / "enterprises.parquet")).repartition(3)
    classify_enterprises(frame, build_atlas, chunk_rows=500).write.parquet(str(tmp_path / "a"))
    got = pl.read_parquet(tmp_path / "a" / "*.parquet")
    keys = ["uscc", "chain_id", "node_id"]
    assert got.height == expected.height > 0
    assert_frame_equal(got.sort(keys), expected.sort(keys), check_exact=True)
