"""Atomic loads into the warehouse: enterprises (classified on the way in) and supply links.

Everything a load writes — rows, their assignments, ranks and the cube — happens in one
DuckDB transaction. A failed or killed load leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.classify import build_vocabulary, classify
from chainatlas.engine import cube
from chainatlas.engine.warehouse import Warehouse
from chainatlas.reference.regions import load_regions
from chainatlas.settings import ClassifyWeights

CLASSIFY_CHUNK = 500_000
# progress(fraction 0…1, stage id): stages "classify", "write", "cube" (the web's job runner
# shows them; the CLI passes nothing)
Progress = Callable[[float, str], None]
# Fault-injection point for the kill-a-load test: sleep inside the open transaction.
_PAUSE_ENV = "CHAINATLAS_FAULT_PAUSE_IN_LOAD"


@dataclass
class LoadResult:
    loaded: int
    assignments: int
    seconds: float


def ensure_regions(wh: Warehouse) -> None:
    if wh.count("regions") == 0:
        with wh.transaction():
            wh.append("regions", load_regions())


def with_region_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Attach province_code and city_code for roll-ups (region codes are validated upstream)."""
    keys = load_regions().select("region_code", "province_code", "city_code")
    return frame.drop("province_code", "city_code", strict=False).join(
        keys, on="region_code", how="left"
    )


def _scaled(progress: Progress | None, start: float, end: float) -> Progress | None:
    """`progress` mapped onto [start, end] of the caller's range."""
    if progress is None:
        return None
    outer = progress

    def report(fraction: float, stage: str) -> None:
        outer(start + (end - start) * fraction, stage)

    return report


def classify_in_chunks(
    frame: pl.DataFrame,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
    progress: Progress | None = None,
) -> pl.DataFrame:
    vocab = build_vocabulary(atlas)
    parts = []
    for offset in range(0, frame.height, CLASSIFY_CHUNK):
        if progress:
            progress(offset / frame.height, "classify")
        parts.append(classify(frame.slice(offset, CLASSIFY_CHUNK), vocab, weights))
    return pl.concat(parts) if parts else classify(frame.clear(), vocab, weights)


def _pause_for_fault_test() -> None:
    seconds = os.environ.get(_PAUSE_ENV)
    if seconds:
        print("FAULT-PAUSE", flush=True)
        time.sleep(float(seconds))


def load_enterprises(
    wh: Warehouse,
    accepted: pl.DataFrame,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Upsert validated enterprises by uscc, replace their assignments, rebuild the cube."""
    start = time.perf_counter()
    ensure_regions(wh)
    frame = with_region_keys(accepted)
    assignments = classify_in_chunks(
        frame, atlas, weights or ClassifyWeights(), _scaled(progress, 0.0, 0.6)
    ).with_columns(pl.lit(None, pl.Int64).alias("national_rank"))
    with wh.transaction():
        if progress:
            progress(0.6, "write")
        wh.replace_rows("enterprises", frame, "uscc")
        _pause_for_fault_test()
        wh.delete_where_in("assignments", "uscc", frame["uscc"])
        wh.append("assignments", assignments)
        if progress:
            progress(0.75, "cube")
        cube.rebuild(wh)
    return LoadResult(frame.height, assignments.height, time.perf_counter() - start)


def load_links(
    wh: Warehouse, accepted: pl.DataFrame, progress: Progress | None = None
) -> LoadResult:
    """Append validated supply links; a (supplier, customer, year) already stored is replaced."""
    start = time.perf_counter()
    with wh.transaction():
        if progress:
            progress(0.0, "write")
        wh._register(accepted.select("supplier_uscc", "customer_uscc", "year"), "_keys")
        try:
            wh.raw.execute(
                "DELETE FROM supply_links s USING _keys k WHERE s.supplier_uscc = k.supplier_uscc"
                " AND s.customer_uscc = k.customer_uscc AND s.year IS NOT DISTINCT FROM k.year"
            )
        finally:
            wh.raw.unregister("_keys")
        _pause_for_fault_test()
        wh.append("supply_links", accepted)
        if progress:
            progress(0.5, "cube")
        cube.rebuild_firm_tables(wh)
    return LoadResult(accepted.height, 0, time.perf_counter() - start)


def reclassify_all(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Re-run classification over the whole warehouse (after the atlas changed)."""
    start = time.perf_counter()
    frame = wh.sql("SELECT uscc, industry_code, business_scope, products FROM enterprises")
    assignments = classify_in_chunks(
        frame, atlas, weights or ClassifyWeights(), _scaled(progress, 0.0, 0.6)
    ).with_columns(pl.lit(None, pl.Int64).alias("national_rank"))
    with wh.transaction():
        if progress:
            progress(0.6, "write")
        wh.raw.execute("DELETE FROM assignments")
        wh.append("assignments", assignments)
        if progress:
            progress(0.75, "cube")
        cube.rebuild(wh)
    return LoadResult(frame.height, assignments.height, time.perf_counter() - start)
