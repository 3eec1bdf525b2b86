"""Atomic loads into the warehouse: enterprises (classified on the way in) and supply links.

Everything a load writes — rows, their assignments, ranks and the cube — happens in one
DuckDB transaction. A failed or killed load leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.classify import build_vocabulary, classify
from chainatlas.engine import cube
from chainatlas.engine import incremental as incremental_cube
from chainatlas.engine.tables import CONTRACTS
from chainatlas.engine.warehouse import Warehouse
from chainatlas.reference.regions import load_regions
from chainatlas.services.build import drop_results
from chainatlas.settings import ClassifyWeights

CLASSIFY_CHUNK = 500_000
# progress(fraction 0…1, stage id): stages "classify", "write", "cube" (the web's job runner
# shows them; the CLI passes nothing)
Progress = Callable[[float, str], None]
# Fault-injection point for the kill-a-load test: sleep inside the open transaction.
_PAUSE_ENV = "CHAINATLAS_FAULT_PAUSE_IN_LOAD"


# a change touching more than this share of the stored firms rebuilds the whole cube: past
# it, recomputing group by group costs more than one pass over everything
FULL_REBUILD_SHARE = 0.2
# what classification reads besides the uscc (classify.assign): a firm whose other columns
# changed keeps its assignments
CLASSIFY_INPUTS = ("industry_code", "business_scope", "products")
LoadMode = Literal["full", "incremental", "none"]


@dataclass
class LoadResult:
    loaded: int  # rows given
    assignments: int  # assignments written (for the firms classified)
    seconds: float
    changed: int = 0  # firms written: new, changed, or deregistered for being absent
    unchanged: int = 0  # rows equal to the stored firm: nothing to do
    reclassified: int = 0  # firms classified: new, or industry code / scope / products changed
    deregistered_absent: int = 0  # stored active firms missing from a snapshot
    mode: LoadMode = "full"  # how the cube was brought up to date

    def as_dict(self) -> dict[str, object]:
        return {**vars(self), "seconds": round(self.seconds, 2)}


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


def _compare(wh: Warehouse, frame: pl.DataFrame) -> pl.DataFrame:
    """Per row of `frame`: uscc and whether, against the stored firm, it is new or differs —
    in any column (`changed`), in a classification input (`reclassify`), in its region or
    status (`located`), or in what the network tables read of it (`linked`: located, name,
    classification input)."""
    columns = list(CONTRACTS["enterprises"])

    def differs(names: Iterable[str]) -> str:
        return "e.uscc IS NULL OR " + " OR ".join(f"i.{c} IS DISTINCT FROM e.{c}" for c in names)

    located = ("region_code", "deregistered")
    wh._register(frame.select(columns), "_incoming")
    try:
        return wh.sql(
            f"SELECT i.uscc, {differs(c for c in columns if c != 'uscc')} AS changed, "
            f"{differs(CLASSIFY_INPUTS)} AS reclassify, {differs(located)} AS located, "
            f"{differs((*located, 'name', *CLASSIFY_INPUTS))} AS linked "
            "FROM _incoming i LEFT JOIN enterprises e USING (uscc)"
        ).filter("changed")
    finally:
        wh.raw.unregister("_incoming")


def _absent(wh: Warehouse, frame: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """Stored active firms of the counties `frame` covers that are missing from it,
    deregistered on `on` (a county's or a province's snapshot says nothing of the firms
    elsewhere)."""
    wh._register(frame.select("uscc", "region_code"), "_incoming")
    try:
        stored = wh.sql(
            "SELECT * FROM enterprises WHERE deregistered IS NULL "
            "AND region_code IN (SELECT region_code FROM _incoming) "
            "AND uscc NOT IN (SELECT uscc FROM _incoming)"
        )
    finally:
        wh.raw.unregister("_incoming")
    return stored.with_columns(deregistered=pl.lit(on, pl.Date))


def load_enterprises(
    wh: Warehouse,
    accepted: pl.DataFrame,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
    progress: Progress | None = None,
    *,
    deregister_absent: dt.date | None = None,
    incremental: bool | None = None,
) -> LoadResult:
    """Upsert validated enterprises by uscc and bring assignments and cube up to date.

    Rows equal to the stored firm are skipped; only new firms and firms whose industry code,
    business scope or products changed are classified (a changed atlas needs
    `reclassify_all`). With `deregister_absent`, the rows are a whole registry snapshot of
    the counties they cover: stored active firms of those counties missing from it are
    recorded as deregistered on that date. The cube
    is updated group by group (engine/incremental.py) when the change touches at most
    FULL_REBUILD_SHARE of the stored firms, else rebuilt; `incremental` forces either way.
    """
    start = time.perf_counter()
    ensure_regions(wh)
    frame = with_region_keys(accepted)
    stored = wh.count("enterprises")
    if stored:
        diff = _compare(wh, frame)
        changed = frame.filter(pl.col("uscc").is_in(diff["uscc"].implode()))
        to_classify = frame.filter(
            pl.col("uscc").is_in(diff.filter("reclassify")["uscc"].implode())
        )
    else:
        diff = frame.select("uscc", located=pl.lit(True), linked=pl.lit(True))
        changed = to_classify = frame
    absent = _absent(wh, frame, deregister_absent) if deregister_absent and stored else None
    if absent is not None and absent.height:
        changed = pl.concat([changed, absent.select(changed.columns).cast(changed.schema)])
        gone = absent.select("uscc", located=pl.lit(True), linked=pl.lit(True))
        diff = pl.concat([diff.select(gone.columns), gone])
    result = LoadResult(
        loaded=frame.height,
        assignments=0,
        seconds=0.0,
        changed=changed.height,
        unchanged=frame.height - (changed.height - (absent.height if absent is not None else 0)),
        reclassified=to_classify.height,
        deregistered_absent=absent.height if absent is not None else 0,
        mode="none",
    )
    if not changed.height:
        result.seconds = time.perf_counter() - start
        return result
    assignments = classify_in_chunks(
        to_classify, atlas, weights or ClassifyWeights(), _scaled(progress, 0.0, 0.6)
    ).with_columns(pl.lit(None, pl.Int64).alias("national_rank"))
    if incremental is None:
        incremental = stored > 0 and changed.height <= FULL_REBUILD_SHARE * stored
    incremental = incremental and incremental_cube.can_refresh(wh)
    with wh.transaction():
        if progress:
            progress(0.6, "write")
        drop_results(wh)
        if incremental:
            changes = diff.select(incremental_cube.CHANGED_COLUMNS)
            wh.replace_table(incremental_cube.CHANGED, changes, temporary=True)
            incremental_cube.capture_before(wh)
        wh.replace_rows("enterprises", changed, "uscc")
        _pause_for_fault_test()
        wh.delete_where_in("assignments", "uscc", to_classify["uscc"])
        wh.append("assignments", assignments)
        if progress:
            progress(0.75, "cube")
        if incremental:
            incremental_cube.refresh(wh)
            wh.raw.execute(f"DROP TABLE {incremental_cube.CHANGED}")
        else:
            cube.rebuild(wh)
    result.assignments = assignments.height
    result.mode = "incremental" if incremental else "full"
    result.seconds = time.perf_counter() - start
    return result


def load_links(
    wh: Warehouse, accepted: pl.DataFrame, progress: Progress | None = None
) -> LoadResult:
    """Append validated supply links; a (supplier, customer, year) already stored is replaced."""
    start = time.perf_counter()
    with wh.transaction():
        if progress:
            progress(0.0, "write")
        drop_results(wh)
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
        drop_results(wh)
        wh.raw.execute("DELETE FROM assignments")
        wh.append("assignments", assignments)
        if progress:
            progress(0.75, "cube")
        cube.rebuild(wh)
    return LoadResult(frame.height, assignments.height, time.perf_counter() - start)
