"""The DuckDB engine of `chainatlas build`: streamed from Parquet, bounded memory, resumable.

The input never passes through Python whole: DuckDB reads the Parquet into a working
warehouse (`read`, `links`), Python classifies it chunk by chunk (`classify`: one
transaction per chunk of CHUNK firms), DuckDB computes the cube and the network with the
same Ibis expressions as every load (`cube`: `engine.cube.rebuild`) and writes the tables
as Parquet (`export`). DuckDB runs under a memory limit and spills to a directory beside
the warehouse, so memory stays bounded whatever the input's size.

Every finished step is recorded in the working warehouse (`_build_steps`) in the same
transaction as its data, with a fingerprint of the inputs, the atlas and the weights. A
build that is interrupted — killed, out of disk, Ctrl-C — is resumed by running the same
command again: finished steps are skipped, the classification restarts at the first
unfinished chunk. A different input or atlas starts afresh.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.classify import build_vocabulary, classify
from chainatlas.engine import cube
from chainatlas.engine.tables import CONTRACTS
from chainatlas.engine.warehouse import Warehouse, parquet_source
from chainatlas.services.load import ensure_regions
from chainatlas.settings import ClassifyWeights

CHUNK = 500_000  # firms classified per transaction (the classifier's memory is per chunk)
WAREHOUSE = "warehouse.duckdb"
SPILL = "spill"
# Fault-injection points for the resume tests: raise after this many classify chunks; sleep
# (to be killed) once the input is read, before classifying.
_STOP_ENV = "CHAINATLAS_FAULT_STOP_BUILD_AFTER_CHUNKS"
_PAUSE_ENV = "CHAINATLAS_FAULT_PAUSE_IN_BUILD"
# progress(fraction of the step 0…1, step id)
Progress = Callable[[float, str], None]
StepTimes = dict[str, tuple[int, float]]  # step → (rows, seconds)


class BuildInterrupted(RuntimeError):
    """Raised by the fault-injection point (tests only)."""


def fingerprint(
    paths: Mapping[str, Path], atlas: Mapping[str, Chain], weights: ClassifyWeights
) -> str:
    """What the working tables depend on: each input file's path, size and mtime, the atlas
    and the classification weights."""
    files = []
    for table, path in sorted(paths.items()):
        parts = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        files += [(table, str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in parts]
    atlas_dump = [dataclasses.asdict(c) for _, c in sorted(atlas.items())]
    blob = json.dumps([files, atlas_dump, weights.model_dump()], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _cast(table: str, skip: tuple[str, ...] = ()) -> str:
    return ", ".join(
        f"CAST(src.{c} AS {ddl.split()[0]}) AS {c}"
        for c, ddl in CONTRACTS[table].items()
        if c not in skip
    )


class DuckdbBuild:
    """One build's working warehouse in `work_dir` and the steps it has finished."""

    def __init__(self, work_dir: Path, memory_limit: str | None, fingerprint: str) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir = work_dir
        self.fingerprint = fingerprint
        self.wh = self._open(memory_limit)
        stale = self.wh.raw.execute(
            "SELECT count(*) FROM _build_steps WHERE fingerprint <> ?", [fingerprint]
        ).fetchone()
        if stale and stale[0]:  # built from another input or atlas: start afresh
            self.wh.close()
            for path in work_dir.glob(f"{WAREHOUSE}*"):
                path.unlink()
            self.wh = self._open(memory_limit)

    def _open(self, memory_limit: str | None) -> Warehouse:
        wh = Warehouse(self.work_dir / WAREHOUSE)
        sql = wh.raw.execute
        if memory_limit:
            sql("SET memory_limit = ?", [memory_limit])
        sql("SET temp_directory = ?", [str(self.work_dir / SPILL)])
        # output order is set by the expressions' ORDER BY; elsewhere order costs memory
        sql("SET preserve_insertion_order = false")
        sql("CREATE TABLE IF NOT EXISTS _build_steps (step VARCHAR, fingerprint VARCHAR)")
        return wh

    def close(self) -> None:
        self.wh.close()

    def finished(self) -> set[str]:
        rows = self.wh.raw.execute(
            "SELECT step FROM _build_steps WHERE fingerprint = ?", [self.fingerprint]
        ).fetchall()
        return {r[0] for r in rows}

    def mark(self, step: str) -> None:
        self.wh.raw.execute("INSERT INTO _build_steps VALUES (?, ?)", [step, self.fingerprint])


def _read(b: DuckdbBuild, path: Path) -> int:
    """Enterprises with their province and city codes (the regions lookup of every load)."""
    columns = _cast("enterprises", skip=("province_code", "city_code"))
    b.wh.raw.execute("DELETE FROM enterprises")
    b.wh.raw.execute(
        f"INSERT INTO enterprises SELECT {columns}, r.province_code, r.city_code "
        f"FROM {parquet_source(path)} src LEFT JOIN regions r ON r.region_code = src.region_code"
    )
    return b.wh.count("enterprises")


def _links(b: DuckdbBuild, path: Path) -> int:
    b.wh.raw.execute("DELETE FROM supply_links")
    b.wh.raw.execute(
        f"INSERT INTO supply_links SELECT {_cast('supply_links')} FROM {parquet_source(path)} src"
    )
    return b.wh.count("supply_links")


def _classify_chunks(
    b: DuckdbBuild,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
    done: set[str],
    progress: Progress | None,
) -> int:
    """Classify the firms CHUNK at a time, in rowid order; each chunk's assignments and its
    step mark commit together."""
    row = b.wh.raw.execute("SELECT min(rowid), max(rowid), count(*) FROM enterprises").fetchone()
    first, last, total = (row[0] or 0, row[1] or -1, row[2]) if row else (0, -1, 0)
    vocab = build_vocabulary(atlas)
    stop_after = int(os.environ.get(_STOP_ENV, "0") or 0)
    ran = 0
    for index, start in enumerate(range(first, last + 1, CHUNK)):
        step = f"classify:{index}"
        if progress:
            progress((start - first) / max(last + 1 - first, 1), "classify")
        if step in done:
            continue
        if stop_after and ran == stop_after:
            raise BuildInterrupted(f"stopped after {ran} chunks (fault injection)")
        firms = b.wh.sql(
            "SELECT uscc, industry_code, business_scope, products FROM enterprises "
            "WHERE rowid >= ? AND rowid < ?",
            [start, start + CHUNK],
        )
        assigned = classify(firms, vocab, weights).with_columns(
            pl.lit(None, pl.Int64).alias("national_rank")
        )
        with b.wh.transaction():
            b.wh.append("assignments", assigned)
            b.mark(step)
        ran += 1
    return int(total)


# step → what the pipeline calls the stage (the Spark engine's names)
STEPS = ("read", "links", "classify", "cube", "network")


def build(
    paths: Mapping[str, Path],
    work_dir: Path,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
    *,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> tuple[Warehouse, StepTimes, list[str]]:
    """Bring the working warehouse in `work_dir` to a finished cube and network, resuming
    what an earlier run of the same build finished. Returns the warehouse (still open, for
    the export), per step (rows, seconds) of the steps run now, and the steps an earlier
    run had finished."""
    b = DuckdbBuild(work_dir, memory_limit, fingerprint(paths, atlas, weights))
    done = b.finished()
    times: StepTimes = {}
    ensure_regions(b.wh)

    def step(name: str, run: Callable[[], int]) -> None:
        if name in done:
            return
        if progress:
            progress(0.0, name)
        start = time.perf_counter()
        with b.wh.transaction():
            rows = run()
            b.mark(name)
        times[name] = (rows, time.perf_counter() - start)

    def classify_all() -> None:
        if "classify" in done:
            return
        start = time.perf_counter()
        if not any(s.startswith("classify:") for s in done):
            b.wh.raw.execute("DELETE FROM assignments")
        rows = _classify_chunks(b, atlas, weights, done, progress)
        b.mark("classify")
        times["classify"] = (rows, time.perf_counter() - start)

    def rebuild_cube() -> int:
        cube.rebuild(b.wh, firm_tables=False)
        return b.wh.count("assignments")

    def rebuild_network() -> int:
        cube.rebuild_firm_tables(b.wh)
        return b.wh.count("supply_links")

    try:
        step("read", lambda: _read(b, paths["enterprises"]))
        step("links", lambda: _links(b, paths["supply_links"]))
        if os.environ.get(_PAUSE_ENV):
            print("FAULT-PAUSE", flush=True)
            time.sleep(float(os.environ[_PAUSE_ENV]))
        classify_all()
        step("cube", rebuild_cube)
        step("network", rebuild_network)
    except BaseException:
        b.close()
        raise
    resumed = [s for s in STEPS if s in done]
    return b.wh, times, resumed
