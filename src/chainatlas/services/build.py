"""`chainatlas build`: the batch pipeline from Parquet to Parquet, on DuckDB or on Spark.

Input: a directory with `enterprises.parquet` and `supply_links.parquet` (each a file or a
directory of Parquet parts) in the table contracts (docs/contracts-tables.md): validated
data, as `chainatlas ingest` accepts it or `chainatlas synth` writes it. Output: one
directory per table (`OUTPUT_TABLES`), each holding Parquet parts.

Both engines compute every table with the same Ibis expressions (engine/cube.py,
engine/history.py, engine/network.py) and the same classifier: the DuckDB engine loads the
input into a fresh warehouse with the ordinary load services and exports its tables; the
Spark engine compiles the expressions for Spark (chainatlas.spark). Integer columns are
written as 64-bit by both, so the files have the same schema (tests/spark checks the rows).

Nothing is written to the output directory unless the whole build succeeds: inputs are
checked first (a missing file or column is a UserError naming both), the tables are built
in a staging directory beside it and moved in at the end.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from chainatlas.atlas.model import Chain
from chainatlas.engine.tables import CONTRACTS
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.settings import ClassifyWeights

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")
WORK_DIR = "_work"  # an engine's working files inside the staging directory, removed
INPUT_TABLES = ("enterprises", "supply_links")
# derived by the build, not expected in the input
DERIVED_COLUMNS = {"enterprises": ("province_code", "city_code")}
OUTPUT_TABLES = (
    "enterprises",
    "assignments",
    "node_facts",
    "chain_facts",
    "node_cohorts",
    "chain_cohorts",
    "firm_search",
    "firm_partners",
    "chain_firms",
    "network_link_counts",
    "sourcing_chain_facts",
    "sourcing_node_facts",
    "firm_links",
    "sourcing_inputs",
)

# Arrow types a contract column accepts (the build casts them to the contract's type)
_ACCEPTS: dict[str, Callable[[pa.DataType], bool]] = {
    "VARCHAR": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "DATE": lambda t: pa.types.is_date(t),
    "DOUBLE": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "BIGINT": pa.types.is_integer,
    "INTEGER": pa.types.is_integer,
    "BOOLEAN": pa.types.is_boolean,
}


@dataclass(frozen=True)
class StageResult:
    """One stage's input rows (read, classify, load: enterprises; cube: assignments;
    network: supply links; export: rows written) and wall seconds."""

    stage: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class BuildResult:
    engine: Engine
    output_dir: Path
    stages: list[StageResult] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # table → rows written
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "output_dir": str(self.output_dir),
            "seconds": round(self.seconds, 2),
            "stages": [
                {
                    "stage": s.stage,
                    "rows": s.rows,
                    "seconds": round(s.seconds, 3),
                    "rows_per_second": round(s.rows_per_second) if s.rows and s.seconds else None,
                }
                for s in self.stages
            ],
            "tables": self.tables,
        }


def engine_named(name: str) -> Engine:
    """The engine called `name` (what the CLI's --engine says)."""
    for engine in ENGINES:
        if name == engine:
            return engine
    raise UserError(
        f"未知引擎 {name}（可选 duckdb、spark）", f"unknown engine {name} (duckdb or spark)"
    )


# --- inputs ---------------------------------------------------------------------------------
def input_path(input_dir: Path, table: str) -> Path:
    """`<table>.parquet` (a file or a directory of parts) or `<table>/` in `input_dir`."""
    for candidate in (input_dir / f"{table}.parquet", input_dir / table):
        if candidate.exists():
            return candidate
    raise UserError(
        f"缺少输入文件：{input_dir / (table + '.parquet')}（{table} 表）",
        f"missing input file: {input_dir / (table + '.parquet')} (table {table})",
    )


def check_input(path: Path, table: str) -> None:
    """Every contract column of `table` is in the file with a usable type (reads only the
    Parquet footers)."""
    try:
        schema = ds.dataset(path, format="parquet").schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise UserError(
            f"无法读取 Parquet 文件 {path}：{exc}", f"cannot read Parquet file {path}: {exc}"
        ) from exc
    derived = DERIVED_COLUMNS.get(table, ())
    for column, ddl in CONTRACTS[table].items():
        if column in derived:
            continue
        if column not in schema.names:
            raise UserError(
                f"输入文件 {path} 缺少列 {column}（{table} 表）",
                f"input file {path} has no column {column} (table {table})",
            )
        found = schema.field(column).type
        if pa.types.is_dictionary(found):  # categorical columns (pandas, R)
            found = found.value_type
        kind = ddl.split()[0]
        if not (pa.types.is_null(found) or _ACCEPTS[kind](found)):
            raise UserError(
                f"输入文件 {path} 的列 {column} 类型为 {found}，应为 {kind}",
                f"input file {path}: column {column} is {found}, expected {kind}",
            )


def check_inputs(input_dir: Path) -> dict[str, Path]:
    if not input_dir.is_dir():
        raise UserError(f"输入目录不存在：{input_dir}", f"no such input directory: {input_dir}")
    paths = {table: input_path(input_dir, table) for table in INPUT_TABLES}
    for table, path in paths.items():
        check_input(path, table)
    check_region_codes(paths["enterprises"])
    return paths


def read_input(path: Path, table: str) -> pl.DataFrame:
    """A whole input table as polars, in the contract's columns (for the DuckDB engine)."""
    from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA
    from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA

    schema = ENTERPRISES_SCHEMA if table == "enterprises" else SUPPLY_LINKS_SCHEMA
    frame = pl.from_arrow(ds.dataset(path, format="parquet").to_table(columns=list(schema)))
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(schema)  # type: ignore[arg-type]


def check_region_codes(path: Path) -> None:
    """Every firm's region code is a known GB/T 2260 code (it places the firm in its province
    and city). Reads the one column batch by batch: memory stays bounded."""
    from chainatlas.reference.regions import region_codes

    known = pa.array(sorted(region_codes()), pa.string())
    unknown: set[str | None] = set()
    for batch in ds.dataset(path, format="parquet").to_batches(columns=["region_code"]):
        codes = pc.unique(batch.column(0).cast(pa.string()))
        unknown.update(c for c in codes.filter(pc.invert(pc.is_in(codes, known))).to_pylist())
    if unknown:
        examples = "、".join(sorted("(空 empty)" if c is None else c for c in unknown)[:3])
        raise UserError(
            f"输入文件 {path} 的列 region_code 有 {len(unknown)} 个未知行政区划代码（如 {examples}）",
            f"input file {path}: column region_code has {len(unknown)} unknown region code(s) "
            f"(e.g. {examples})",
        )


# --- engines --------------------------------------------------------------------------------
class _StageClock:
    """Times the stages a load service reports through its progress callback."""

    def __init__(self, rows: Mapping[str, int]) -> None:
        self.rows = rows
        self.stages: list[StageResult] = []
        self.current: str | None = None
        self.started = 0.0

    def enter(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self.current is not None:
            self.stages.append(
                StageResult(self.current, self.rows.get(self.current, 0), now - self.started)
            )
        self.current, self.started = stage, now

    def progress(self, prefix: str = "") -> Callable[[float, str], None]:
        def report(_fraction: float, stage: str) -> None:
            name = f"{prefix}{stage}"
            if name != self.current:
                self.enter(name)

        return report


def _duckdb_columns(wh: Warehouse, table: str) -> str:
    """The table's columns, integers of every width as BIGINT (the Spark writer's type)."""
    integers = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT"}  # fmt: skip
    described = wh.raw.execute(f"DESCRIBE {table}").fetchall()
    return ", ".join(
        f'CAST("{name}" AS BIGINT) AS "{name}"' if kind in integers else f'"{name}"'
        for name, kind, *_ in described
    )


def build_duckdb(
    paths: Mapping[str, Path],
    out_dir: Path,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
) -> list[StageResult]:
    """Load the input into a fresh DuckDB warehouse (the ordinary load services: classify,
    cube, network) and export the tables."""
    from chainatlas.services.load import load_enterprises, load_links

    clock = _StageClock({})
    clock.enter("read")
    firms = read_input(paths["enterprises"], "enterprises")
    links = read_input(paths["supply_links"], "supply_links")
    # rows per stage as the Spark pipeline counts them: read, classify, load → enterprises;
    # cube → assignments (set once known); network → supply links; export → rows written
    clock.rows = {
        "read": firms.height,
        "classify": firms.height,
        "write": firms.height,
        "links:write": links.height,
        "links:cube": links.height,
        "export": 0,
    }
    # the warehouse is a working file beside the tables (same disk as the output, not /tmp)
    scratch = out_dir / WORK_DIR
    scratch.mkdir(parents=True)
    try:
        with Warehouse(scratch / "warehouse.duckdb") as wh:
            load_enterprises(wh, firms, atlas, weights, clock.progress())
            clock.rows = {**clock.rows, "cube": wh.count("assignments")}  # the open stage
            load_links(wh, links, clock.progress("links:"))
            clock.enter("export")
            exported = 0
            for table in OUTPUT_TABLES:
                target = out_dir / table
                target.mkdir(parents=True)
                query = f"SELECT {_duckdb_columns(wh, table)} FROM {table}"
                wh.raw.execute(f"COPY ({query}) TO '{target / 'part-0.parquet'}' (FORMAT parquet)")
                exported += wh.count(table)
            clock.rows = {**clock.rows, "export": exported}
        clock.enter(None)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _merged_duckdb_stages(clock.stages)


def _merged_duckdb_stages(stages: list[StageResult]) -> list[StageResult]:
    """The load services' steps under the pipeline's stage names: read, classify, load
    (writing enterprises and assignments), cube, network (writing the links, partners,
    on-chain firms and the network tables), export."""
    names = {
        "read": "read",
        "classify": "classify",
        "write": "load",
        "cube": "cube",
        "links:write": "network",
        "links:cube": "network",
        "export": "export",
    }
    merged: dict[str, StageResult] = {}
    for s in stages:
        name = names[s.stage]
        before = merged.get(name)
        merged[name] = (
            StageResult(name, max(before.rows, s.rows), before.seconds + s.seconds)
            if before
            else StageResult(name, s.rows, s.seconds)
        )
    return list(merged.values())


def build_spark(
    paths: Mapping[str, Path],
    out_dir: Path,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
    master: str | None,
) -> list[StageResult]:
    try:
        from chainatlas.spark.pipeline import run_pipeline
        from chainatlas.spark.session import build_session
    except ImportError as exc:  # pyspark is an optional dependency
        raise UserError(
            "Spark 引擎需要 pyspark：pip install 'chainatlas[spark]'",
            "the Spark engine needs pyspark: pip install 'chainatlas[spark]'",
        ) from exc
    start = time.perf_counter()
    with build_session(master) as spark:
        started = StageResult("start", 0, time.perf_counter() - start)
        timings = run_pipeline(
            spark, paths["enterprises"], paths["supply_links"], out_dir, atlas, weights
        )
    return [started, *(StageResult(t.stage, t.rows, t.seconds) for t in timings)]


def table_rows(out_dir: Path) -> dict[str, int]:
    """Rows of each table written (from the Parquet footers)."""
    return {t: ds.dataset(out_dir / t, format="parquet").count_rows() for t in OUTPUT_TABLES}


def run_build(
    engine: Engine,
    input_dir: Path,
    output_dir: Path,
    *,
    master: str | None = None,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
) -> BuildResult:
    """Build every output table from the input directory with `engine`; the tables replace
    those of the same name in `output_dir` only when the whole build succeeded."""
    engine = engine_named(engine)
    if master and engine != "spark":
        raise UserError("--master 只用于 Spark 引擎", "--master applies to the Spark engine only")
    start = time.perf_counter()
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    paths = check_inputs(input_dir)
    weights = weights or ClassifyWeights()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.building-", dir=output_dir.parent))
    try:
        if engine == "duckdb":
            stages = build_duckdb(paths, staging, atlas, weights)
        else:
            stages = build_spark(paths, staging, atlas, weights, master)
        written = sorted(p.name for p in staging.iterdir() if p.is_dir())
        if written != sorted(OUTPUT_TABLES):  # the two engines must write the same tables
            raise RuntimeError(f"{engine} build wrote {written}, expected {OUTPUT_TABLES}")
        tables = table_rows(staging)
        output_dir.mkdir(exist_ok=True)
        for table in OUTPUT_TABLES:
            shutil.rmtree(output_dir / table, ignore_errors=True)
            (staging / table).rename(output_dir / table)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(engine, output_dir, stages, tables, time.perf_counter() - start)
