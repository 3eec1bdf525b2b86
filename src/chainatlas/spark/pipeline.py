"""The batch pipeline on Spark: the engine's own Ibis expressions, compiled for Spark.

Stages (each ends with its tables written, so its time is its own — Spark is lazy):
- `read`: enterprises from Parquet, cast to the contract, with province and city codes
  (the same region lookup the DuckDB load does) → table `enterprises`;
- `classify`: the automaton per partition through Arrow (`chainatlas.spark.classify`);
- `cube`: national ranks (`assignments`), `node_facts`, `chain_facts`, `node_cohorts`,
  `chain_cohorts`, `firm_search`;
- `network`: supply links from Parquet → `firm_partners`, `chain_firms` and the supply
  network tables of `engine.network.network_expressions()`.

Every table is the result of the same Ibis expression the DuckDB warehouse materialises,
built over unbound contract tables and compiled by Ibis' pyspark backend; the tables the
expressions read are Spark temporary views of the same names. One build at a time per
Spark session (the views are the session's). Integer columns are written as 64-bit, as the
DuckDB export writes them, so both engines write the same Parquet schema.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow.dataset as ds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ByteType, IntegerType, ShortType

from chainatlas.atlas.model import Chain
from chainatlas.engine import cube, history, network
from chainatlas.engine.tables import CONTRACTS
from chainatlas.reference.regions import load_regions
from chainatlas.settings import ClassifyWeights
from chainatlas.spark.classify import classify_enterprises

WORK_DIR = "_work"  # working tables, removed when the build ends
DERIVED_ENTERPRISE_COLUMNS = ("province_code", "city_code")
_SPARK_TYPES = {
    "VARCHAR": "string",
    "DOUBLE": "double",
    "DATE": "date",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "BOOLEAN": "boolean",
}


@dataclass(frozen=True)
class StageTiming:
    stage: str
    rows: int  # input rows the stage processed
    seconds: float


def contract_columns(name: str) -> list[str]:
    return list(CONTRACTS[name])


def cast_to_contract(frame: DataFrame, name: str, skip: tuple[str, ...] = ()) -> DataFrame:
    """The contract's columns of `name` (less `skip`) in its order, with its types."""
    return frame.select(
        *(
            F.col(column).cast(_SPARK_TYPES[ddl.split()[0]]).alias(column)
            for column, ddl in CONTRACTS[name].items()
            if column not in skip
        )
    )


def with_wide_integers(frame: DataFrame) -> DataFrame:
    """Integer columns as 64-bit (BIGINT), the type the DuckDB export writes them in."""
    narrow = (IntegerType, ShortType, ByteType)
    return frame.select(
        *(
            F.col(f.name).cast("bigint").alias(f.name)
            if isinstance(f.dataType, narrow)
            else F.col(f.name)
            for f in frame.schema.fields
        )
    )


class SparkBuild:
    """One build: compiles the engine's expressions, writes tables under `out_dir`."""

    def __init__(self, spark: SparkSession, out_dir: Path) -> None:
        self.spark = spark
        self.out_dir = out_dir
        self.work_dir = out_dir / WORK_DIR
        self.ibis = ibis.pyspark.connect(spark)
        self.views: set[str] = set()

    def run(self, expr: ir.Table) -> DataFrame:
        """The Spark DataFrame of an Ibis expression over the registered views."""
        return self.spark.sql(self.ibis.compile(expr))

    def view(self, name: str, frame: DataFrame) -> None:
        frame.createOrReplaceTempView(name)
        self.views.add(name)

    def write(
        self, name: str, frame: DataFrame, *, append: bool = False, work: bool = False
    ) -> Path:
        """Write `frame` as table `name` (a directory of Parquet parts) and register the
        written table as the view `name`: what later stages read is the materialised data,
        not the plan that produced it."""
        path = (self.work_dir if work else self.out_dir) / name
        with_wide_integers(frame).write.mode("append" if append else "overwrite").parquet(str(path))
        self.view(name, self.spark.read.parquet(str(path)))
        return path

    def rows(self, name: str) -> int:
        """Rows of a written table, from its Parquet footers."""
        return parquet_rows(self.out_dir / name)

    def drop_work(self) -> None:
        """Drop this build's views and working tables (the written tables stay)."""
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        shutil.rmtree(self.work_dir, ignore_errors=True)


def parquet_rows(path: Path) -> int:
    return ds.dataset(path, format="parquet").count_rows()


def row_groups(path: Path) -> int:
    """Row groups of a Parquet file or directory (from the footers)."""
    fragments = ds.dataset(path, format="parquet").get_fragments()
    return sum(f.metadata.num_row_groups for f in fragments)


def _regions(spark: SparkSession) -> DataFrame:
    arrow = load_regions().select(contract_columns("regions")).to_arrow()
    return cast_to_contract(spark.createDataFrame(arrow), "regions")


def stage_read(build: SparkBuild, enterprises_path: Path) -> int:
    """Enterprises with their province and city codes (the region lookup of the DuckDB
    load: `services.load.with_region_keys`)."""
    build.view("regions", _regions(build.spark))
    raw = cast_to_contract(
        build.spark.read.parquet(str(enterprises_path)),
        "enterprises",
        skip=DERIVED_ENTERPRISE_COLUMNS,
    )
    keys = build.spark.table("regions").select("region_code", "province_code", "city_code")
    located = raw.join(F.broadcast(keys), "region_code", "left")
    # Spark splits Parquet by row group: an input of fewer row groups than cores (one
    # file from polars or DuckDB) would classify on one core — spread it first
    cores = build.spark.sparkContext.defaultParallelism
    if row_groups(enterprises_path) < cores:
        located = located.repartition(cores)
    build.write("enterprises", located.select(*contract_columns("enterprises")))
    return build.rows("enterprises")


def stage_classify(build: SparkBuild, atlas: Mapping[str, Chain], weights: ClassifyWeights) -> int:
    """Assignments of every firm (national ranks come in the cube stage)."""
    assigned = classify_enterprises(build.spark.table("enterprises"), atlas, weights)
    unranked = assigned.withColumn("national_rank", F.lit(None).cast("bigint"))
    build.write("assignments", cast_to_contract(unranked, "assignments"), work=True)
    return build.rows("enterprises")


def stage_cube(build: SparkBuild) -> int:
    """Ranks, facts, cohorts and the search table, as `engine.cube.rebuild` writes them."""
    ents = network.contract_table("enterprises")
    ranked = cube.ranked_assignments(network.contract_table("assignments"), ents)
    build.write("assignments", build.run(ranked))
    assignments = network.contract_table("assignments")
    build.write("node_facts", build.run(cube.node_facts(assignments, ents)))
    build.write("chain_facts", build.run(cube.chain_facts(assignments, ents)))
    spans = history.node_lifespans(assignments, ents)
    node_keys = [*cube.REGION_KEYS, "chain_id", "node_id"]
    build.write("node_cohorts", build.run(history.cohorts(spans, node_keys)))
    chain_spans = history.chain_lifespans(spans)
    chain_keys = [*cube.REGION_KEYS, "chain_id"]
    build.write("chain_cohorts", build.run(history.cohorts(chain_spans, chain_keys)))
    build.write("firm_search", build.run(cube.firm_search(ents)))
    return build.rows("assignments")


def stage_network(build: SparkBuild, links_path: Path) -> int:
    """Partners per firm, the on-chain firm table and the supply network tables, as
    `engine.cube.rebuild_firm_tables` writes them."""
    links = cast_to_contract(build.spark.read.parquet(str(links_path)), "supply_links")
    build.write("supply_links", links)
    ents = network.contract_table("enterprises")
    partners = cube.firm_partners(network.contract_table("supply_links"), ents)
    build.write("firm_partners", build.run(partners))
    firms = cube.chain_firms(
        network.contract_table("assignments"),
        ents,
        ibis.table(partners.schema(), name="firm_partners"),
    )
    build.write("chain_firms", build.run(firms))
    for name, expr, append in network.network_expressions():
        build.write(name, build.run(expr), append=append, work=name.startswith("_"))
    return parquet_rows(links_path)


def run_pipeline(
    spark: SparkSession,
    enterprises_path: Path,
    links_path: Path,
    out_dir: Path,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
    on_stage: Callable[[StageTiming], None] | None = None,
) -> list[StageTiming]:
    """Run every stage, writing each table as `out_dir/<table>/part-*.parquet`."""
    build = SparkBuild(spark, out_dir)
    weights = weights or ClassifyWeights()
    stages: list[tuple[str, Callable[[], int]]] = [
        ("read", lambda: stage_read(build, enterprises_path)),
        ("classify", lambda: stage_classify(build, atlas, weights)),
        ("cube", lambda: stage_cube(build)),
        ("network", lambda: stage_network(build, links_path)),
    ]
    timings = []
    try:
        for stage, step in stages:
            start = time.perf_counter()
            rows = step()
            timing = StageTiming(stage, rows, time.perf_counter() - start)
            timings.append(timing)
            if on_stage:
                on_stage(timing)
    finally:
        build.drop_work()
    return timings
