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

import dataclasses
import datetime as dt
import json
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
from pydantic import BaseModel

from chainatlas.atlas.model import Chain
from chainatlas.engine.tables import CONTRACTS
from chainatlas.engine.warehouse import Warehouse, parquet_source, select_sql
from chainatlas.errors import UserError
from chainatlas.settings import ClassifyWeights, LeadFirmWeights, StatusThresholds
from chainatlas.targets.weights import TargetWeights

Engine = Literal["duckdb", "spark"]
Progress = Callable[[float, str], None]  # (fraction of the stage, stage id)
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")
INPUT_TABLES = ("enterprises", "supply_links")
# derived by the build, not expected in the input
DERIVED_COLUMNS = {"enterprises": ("province_code", "city_code")}
OUTPUT_TABLES = (
    "enterprises",
    "supply_links",
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
# the diagnosis of every region of every level on every chain, computed from the tables
# above by `diagnose.batch.diagnose_all` on the driver (the same code after either engine),
# and relatedness and complexity of every region × node of each level (`relatedness`:
# `metrics.complexity.complexity_table` over the level's region × node firm counts, as
# `chainatlas opportunities` computes them)
DIAGNOSIS_TABLES = (
    "diagnosis_nodes",
    "diagnosis_chains",
    "single_points_of_failure",
    "relatedness",
)
# the lead firms of every region × chain × node (`diagnose.batch.lead_firms_all`) and the
# best targets of every region × chain × gap node (`targets.batch.targets_all`, the default
# weights of the settings, no exclusion list): the lists `chainatlas diagnose` and
# `chainatlas targets` give one region at a time
TARGET_TABLES = ("lead_firms", "targets")
# one row: the options the results above were computed with (as_of, targets_top and the
# weights and thresholds as JSON), so a reader can say what a list means
RESULTS_INFO = "results_info"
RESULT_TABLES = (*DIAGNOSIS_TABLES, *TARGET_TABLES, RESULTS_INFO)
LEVELS = ("province", "city", "county")
TARGETS_TOP = 10

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
    resumed: list[str] = field(default_factory=list)  # steps an interrupted run had finished

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
            "resumed": self.resumed,
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
def build_duckdb(
    paths: Mapping[str, Path],
    out_dir: Path,
    work_dir: Path,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> tuple[list[StageResult], list[str]]:
    """Stream the input through a working DuckDB warehouse in `work_dir` (resuming an
    interrupted build of the same input there, services/build_duckdb.py) and export the
    tables to `out_dir`. Returns the stages run and the steps resumed."""
    from chainatlas.services import build_duckdb as streamed

    wh, times, resumed = streamed.build(
        paths, work_dir, atlas, weights, memory_limit=memory_limit, progress=progress
    )
    try:
        if progress:
            progress(0.0, "export")
        start = time.perf_counter()
        exported = 0
        # the tables' row order (firm_search, chain_firms: by region) is what makes a region's
        # reads cheap once imported: the export keeps it
        wh.raw.execute("SET preserve_insertion_order = true")
        for table in OUTPUT_TABLES:
            target = out_dir / table
            target.mkdir(parents=True)
            query = select_sql(wh.table(table))  # integers as BIGINT, as Spark writes them
            file = str(target / "part-0.parquet").replace("'", "''")
            wh.raw.execute(f"COPY ({query}) TO '{file}' (FORMAT parquet)")
            exported += wh.count(table)
        times["export"] = (exported, time.perf_counter() - start)
    finally:
        wh.close()
    stages = [
        StageResult(name, *times[name]) for name in (*streamed.STEPS, "export") if name in times
    ]
    return stages, resumed


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
    return {
        t: ds.dataset(out_dir / t, format="parquet").count_rows()
        for t in (*OUTPUT_TABLES, *RESULT_TABLES)
    }


@dataclass(frozen=True)
class ResultOptions:
    """What the diagnosis and target stages use: the settings' thresholds and weights, the
    length of each target list and the date growth is measured at."""

    thresholds: StatusThresholds = field(default_factory=StatusThresholds)
    lead_weights: LeadFirmWeights = field(default_factory=LeadFirmWeights)
    target_weights: TargetWeights = field(default_factory=TargetWeights)
    targets_top: int = TARGETS_TOP
    as_of: dt.date = field(default_factory=dt.date.today)

    def __post_init__(self) -> None:
        # checked when the options are made: before the build runs, not after
        if self.targets_top < 1:
            raise UserError(
                f"--targets-top 须为正整数，而不是 {self.targets_top}",
                f"--targets-top must be at least 1, not {self.targets_top}",
            )


def build_results(
    out_dir: Path,
    atlas: Mapping[str, Chain],
    options: ResultOptions,
    progress: Progress | None = None,
) -> list[StageResult]:
    """Diagnose every region of every level on every chain from the written tables (read in
    place through DuckDB views), then name their lead firms and targets; write
    RESULT_TABLES, one part per level. Rows: `diagnose` region × node rows, `targets` the
    targets written."""
    from chainatlas.diagnose.batch import diagnose_all, lead_firms_all
    from chainatlas.targets.batch import targets_by_chain

    seconds = {"diagnose": 0.0, "targets": 0.0}
    rows = {"diagnose": 0, "targets": 0}
    frames: dict[str, list[pl.DataFrame]] = {t: [] for t in DIAGNOSIS_TABLES}
    for table in TARGET_TABLES:
        (out_dir / table).mkdir()

    def tagged(level: str, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(pl.lit(level).alias("level"), pl.all())

    with Warehouse.over_parquet(out_dir, OUTPUT_TABLES) as wh:
        for done, level in enumerate(LEVELS):
            if progress:
                progress(done / len(LEVELS), f"diagnose {level}")
            start = time.perf_counter()
            batch = diagnose_all(wh, atlas, level, options.thresholds)
            results = [batch.nodes, batch.chains, batch.spof, relatedness(wh, level)]
            for table, frame in zip(DIAGNOSIS_TABLES, results, strict=True):
                frames[table].append(tagged(level, frame))
            rows["diagnose"] += batch.nodes.height
            seconds["diagnose"] += time.perf_counter() - start
            if progress:
                progress(done / len(LEVELS), f"targets {level}")
            start = time.perf_counter()
            leads = lead_firms_all(
                wh, atlas, level, batch.nodes, options.thresholds, options.lead_weights
            )
            # a part per level and chain: the county lists are millions of rows
            tagged(level, leads).write_parquet(out_dir / "lead_firms" / f"part-{level}.parquet")
            chains = targets_by_chain(
                wh,
                atlas,
                level,
                batch.nodes,
                leads,
                weights=options.target_weights,
                as_of=options.as_of,
                top=options.targets_top,
            )
            for chain_id, targets in zip(atlas, chains, strict=True):
                part = out_dir / "targets" / f"part-{level}-{chain_id}.parquet"
                tagged(level, targets).write_parquet(part)
                rows["targets"] += targets.height
            seconds["targets"] += time.perf_counter() - start
    start = time.perf_counter()
    for table, parts in frames.items():
        target = out_dir / table
        target.mkdir()
        pl.concat(parts, how="diagonal_relaxed").write_parquet(target / "part-0.parquet")
    seconds["diagnose"] += time.perf_counter() - start
    (out_dir / RESULTS_INFO).mkdir()
    results_info(options).write_parquet(out_dir / RESULTS_INFO / "part-0.parquet")
    return [StageResult(stage, rows[stage], seconds[stage]) for stage in seconds]


def results_info(options: ResultOptions) -> pl.DataFrame:
    """The `results_info` row of `options`."""

    def as_json(model: BaseModel) -> str:
        return json.dumps(model.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)

    return pl.DataFrame(
        {
            "as_of": [options.as_of],
            "targets_top": [options.targets_top],
            "target_weights": [as_json(options.target_weights)],
            "lead_weights": [as_json(options.lead_weights)],
            "thresholds": [as_json(options.thresholds)],
        },
        schema={
            "as_of": pl.Date,
            "targets_top": pl.Int64,
            "target_weights": pl.String,
            "lead_weights": pl.String,
            "thresholds": pl.String,
        },
    )


def drop_results(wh: Warehouse) -> None:
    """Remove imported build results: they describe the data of the build, so a load that
    changes the data drops them in its own transaction (a reader never sees lists computed
    from other data)."""
    for table in RESULT_TABLES:
        wh.raw.execute(f"DROP TABLE IF EXISTS {table}")


def relatedness(wh: Warehouse, level: str) -> pl.DataFrame:
    """RCA, presence, diversity, ubiquity, ECI, PCI, density, COI and COG of every region of
    `level` with firms × every node with firms: region_code, chain_id, node_id, firm_count
    and the figures (DESIGN §6; nodes keyed as `chain/node` by the complexity code)."""
    from chainatlas.diagnose.opportunities import region_matrix
    from chainatlas.metrics.complexity import complexity_table

    matrix = region_matrix(wh, level)
    if not matrix.height:
        names = ("region_code", "chain_id", "node_id")
        return pl.DataFrame(schema={**dict.fromkeys(names, pl.String), "firm_count": pl.Int64})
    table = complexity_table(matrix, region="region_code", product="product", value="firm_count")
    keys = pl.col("product").str.split_exact("/", 1)
    return table.select(
        "region_code",
        keys.struct.field("field_0").alias("chain_id"),
        keys.struct.field("field_1").alias("node_id"),
        pl.col("firm_count").cast(pl.Int64),
        pl.exclude("region_code", "product", "firm_count"),
    )


def resume_dir(output_dir: Path) -> Path:
    """Where the DuckDB engine keeps its working warehouse (beside the output, on its disk):
    left behind by an interrupted build, which the same command resumes."""
    return output_dir.parent / f".{output_dir.name}.work"


def run_build(
    engine: Engine,
    input_dir: Path,
    output_dir: Path,
    *,
    master: str | None = None,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
    thresholds: StatusThresholds | None = None,
    results: ResultOptions | None = None,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build every output table from the input directory with `engine`; the tables replace
    those of the same name in `output_dir` only when the whole build succeeded."""
    engine = engine_named(engine)
    if master and engine != "spark":
        raise UserError("--master 只用于 Spark 引擎", "--master applies to the Spark engine only")
    if memory_limit and engine != "duckdb":
        raise UserError(
            "--memory-limit 只用于 DuckDB 引擎（Spark 的内存在 spark-defaults.conf 中设置）",
            "--memory-limit applies to the DuckDB engine only (Spark's is set in "
            "spark-defaults.conf)",
        )
    start = time.perf_counter()
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    paths = check_inputs(input_dir)
    weights = weights or ClassifyWeights()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.building-", dir=output_dir.parent))
    work_dir = resume_dir(output_dir)
    try:
        resumed: list[str] = []
        if engine == "duckdb":
            stages, resumed = build_duckdb(
                paths, staging, work_dir, atlas, weights, memory_limit, progress
            )
        else:
            stages = build_spark(paths, staging, atlas, weights, master)
        written = sorted(p.name for p in staging.iterdir() if p.is_dir())
        if written != sorted(OUTPUT_TABLES):  # the two engines must write the same tables
            raise RuntimeError(f"{engine} build wrote {written}, expected {OUTPUT_TABLES}")
        options = results or ResultOptions()
        if thresholds is not None:
            options = dataclasses.replace(options, thresholds=thresholds)
        stages += build_results(staging, atlas, options, progress)
        tables = table_rows(staging)
        output_dir.mkdir(exist_ok=True)
        for table in (*OUTPUT_TABLES, *RESULT_TABLES):
            shutil.rmtree(output_dir / table, ignore_errors=True)
            (staging / table).rename(output_dir / table)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # kept when the build failed: the same command resumes from it
    shutil.rmtree(work_dir, ignore_errors=True)
    return BuildResult(engine, output_dir, stages, tables, time.perf_counter() - start, resumed)


def import_build(out_dir: Path, warehouse_path: Path) -> dict[str, Any]:
    """Make a build's output the warehouse the CLI and the web read: its tables are copied
    into a new DuckDB file beside `warehouse_path`, which replaces the old one only once
    complete (a failed import leaves it as it was)."""
    from chainatlas.services.load import ensure_regions

    out_dir = Path(out_dir)
    missing = [t for t in OUTPUT_TABLES if not any((out_dir / t).glob("*.parquet"))]
    if missing:
        raise UserError(
            f"{out_dir} 不是完整的 chainatlas build 输出：缺少 {'、'.join(missing)}",
            f"{out_dir} is not a complete `chainatlas build` output: missing {', '.join(missing)}",
        )
    start = time.perf_counter()
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    partial = warehouse_path.with_name(f".{warehouse_path.name}.importing")
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    try:
        with Warehouse(partial) as wh:
            ensure_regions(wh)
            with wh.transaction():
                for table in OUTPUT_TABLES:
                    source = parquet_source(out_dir / table)
                    if table in CONTRACTS:  # created by the warehouse with the contract's types
                        columns = ", ".join(CONTRACTS[table])
                        wh.raw.execute(
                            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {source}"
                        )
                    else:
                        wh.raw.execute(f"CREATE TABLE {table} AS SELECT * FROM {source}")
                    rows[table] = wh.count(table)
                # the results come along when the build wrote them (a build older than the
                # batch targets did not); imported together or not at all
                if all(any((out_dir / t).glob("*.parquet")) for t in RESULT_TABLES):
                    for table in RESULT_TABLES:
                        source = parquet_source(out_dir / table)
                        wh.raw.execute(f"CREATE TABLE {table} AS SELECT * FROM {source}")
                        rows[table] = wh.count(table)
        partial.replace(warehouse_path)
    finally:
        for leftover in (partial, partial.with_name(partial.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return {
        "build": str(out_dir),
        "warehouse": str(warehouse_path),
        "tables": rows,
        "seconds": round(time.perf_counter() - start, 2),
    }
