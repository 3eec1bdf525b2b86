"""A monthly registry snapshot loaded incrementally, against rebuilding, in one run.

    python benchmarks/bench_update.py --firms 1000000 [--seed 42] [--home benchmarks/out/update]

Builds (once, cached under --home) a seeded synthetic registry of --firms enterprises with
its supply links and a warehouse of "last month": the registry without this month's births.
This month's snapshot then has typical monthly churn — births 1 %, deaths 0.5 %, larger
capital 1 %, moves to another county 0.2 %, a new business scope 0.5 %, new names 0.3 %,
firms gone from the registry 0.1 % — and is loaded three ways, each on a fresh copy of last
month's warehouse (or a fresh warehouse):

- incremental: `load_enterprises(..., deregister_absent=date)` choosing by itself (only new
  and changed firms are classified, the cube is updated group by group);
- full cube: the same, `incremental=False` (changed firms classified, whole cube rebuilt);
- rebuild: a new warehouse loaded with the whole registry of this month and its links —
  what a user without incremental updates would run.

and a second, small change the same two first ways: a county's correction file (200 of its
firms with a new capital and a new tag), as a county office uploads it on the web page.

Prints seconds of each and the ratios rebuild / incremental and full cube / incremental,
and checks that the incremental warehouse's facts equal the rebuild's (counts and sums).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_build import synth_input

SNAPSHOT_DATE = dt.date(2026, 10, 31)


def monthly_change(firms: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(last month's registry, this month's snapshot)."""
    births = int(firms.height * 0.01)
    draw = pl.Series("u", pl.int_range(firms.height, eager=True)).shuffle(seed) / firms.height
    firms = firms.with_columns(_u=draw)
    counties = firms["region_code"].unique().sort()

    def share(lo: float, hi: float) -> pl.Expr:
        return (pl.col("_u") >= lo) & (pl.col("_u") < hi)

    snapshot = firms.with_columns(
        deregistered=pl.when(share(0.0, 0.005) & pl.col("deregistered").is_null())
        .then(pl.lit(dt.date(2026, 10, 12)))
        .otherwise(pl.col("deregistered")),
        registered_capital=pl.when(share(0.005, 0.015))
        .then(pl.col("registered_capital").fill_null(10.0) * 3)
        .otherwise(pl.col("registered_capital")),
        region_code=pl.when(share(0.015, 0.017))
        .then(pl.lit(counties[len(counties) // 3]))
        .otherwise(pl.col("region_code")),
        business_scope=pl.when(share(0.017, 0.022))
        .then(pl.col("business_scope").shift(11))
        .otherwise(pl.col("business_scope")),
        products=pl.when(share(0.017, 0.022))
        .then(pl.col("products").shift(11))
        .otherwise(pl.col("products")),
        name=pl.when(share(0.022, 0.025))
        .then(pl.col("name") + "（更名）")
        .otherwise(pl.col("name")),
    ).filter(~share(0.025, 0.026))
    return firms.head(firms.height - births).drop("_u"), snapshot.drop("_u")


def facts(wh_path: Path) -> pl.DataFrame:
    from chainatlas.engine.warehouse import Warehouse

    with Warehouse(wh_path, read_only=True) as wh:
        return wh.sql(
            "SELECT chain_id, node_id, sum(firm_count) AS firms, round(sum(capital), 2) AS capital"
            " FROM node_facts GROUP BY ALL ORDER BY ALL"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/out/update"))
    args = parser.parse_args()

    from chainatlas.atlas import load_atlas
    from chainatlas.engine.warehouse import Warehouse
    from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA
    from chainatlas.services.load import load_enterprises, load_links

    atlas = load_atlas([])
    data = synth_input(args.home, args.firms, args.seed)
    firms = pl.read_parquet(data / "enterprises.parquet").select(list(ENTERPRISES_SCHEMA))
    links = pl.read_parquet(data / "supply_links.parquet")
    before, snapshot = monthly_change(firms, args.seed)
    base = args.home / f"last-month-{args.firms}-{args.seed}.duckdb"
    if not base.exists():
        start = time.perf_counter()
        with Warehouse(base.with_suffix(".tmp")) as wh:
            load_enterprises(wh, before, atlas)
            load_links(wh, links)
        base.with_suffix(".tmp").rename(base)
        print(f"last month's warehouse: {time.perf_counter() - start:.1f} s", flush=True)

    county = before.group_by("region_code").len().sort("len", "region_code").row(-50)[0]
    corrections = (
        before.filter(pl.col("region_code") == county)
        .head(200)
        .with_columns(
            registered_capital=pl.col("registered_capital").fill_null(1.0) * 1.1,
            tags=pl.lit("专精特新"),
        )
    )
    scenarios = {
        "snapshot": (snapshot, SNAPSHOT_DATE),
        "corrections": (corrections, None),
    }
    seconds: dict[str, float] = {}
    work = args.home / "work"
    for scenario, (rows, absent_date) in scenarios.items():
        for mode in ("incremental", "full cube"):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            shutil.copy(base, work / "w.duckdb")
            with Warehouse(work / "w.duckdb") as wh:
                start = time.perf_counter()
                result = load_enterprises(
                    wh,
                    rows,
                    atlas,
                    deregister_absent=absent_date,
                    incremental=None if mode == "incremental" else False,
                )
                seconds[f"{scenario} {mode}"] = time.perf_counter() - start
            print(
                f"{scenario:11s} {mode:12s} {seconds[f'{scenario} {mode}']:7.1f} s  (cube: "
                f"{result.mode}; changed {result.changed:,}, classified "
                f"{result.reclassified:,}, unchanged {result.unchanged:,}, deregistered for "
                f"absence {result.deregistered_absent:,})",
                flush=True,
            )
            if (scenario, mode) == ("snapshot", "incremental"):
                incremental_facts = facts(work / "w.duckdb")

    gone = before.filter(~pl.col("uscc").is_in(snapshot["uscc"].implode())).with_columns(
        deregistered=pl.col("deregistered").fill_null(SNAPSHOT_DATE)
    )
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = time.perf_counter()
    with Warehouse(work / "w.duckdb") as wh:
        load_enterprises(wh, pl.concat([snapshot, gone]), atlas)
        load_links(wh, links)
    seconds["rebuild"] = time.perf_counter() - start
    print(f"{'rebuild':12s} {seconds['rebuild']:7.1f} s", flush=True)
    same = facts(work / "w.duckdb").equals(incremental_facts)
    shutil.rmtree(work, ignore_errors=True)

    inc = seconds["snapshot incremental"]
    print(
        f"\n{args.firms:,} firms. Monthly snapshot ({snapshot.height:,} rows): incremental "
        f"{inc:.1f} s; rebuild / incremental = {seconds['rebuild'] / inc:.1f}×, full cube / "
        f"incremental = {seconds['snapshot full cube'] / inc:.1f}×; node facts equal to the "
        f"rebuild's: {same}. County corrections ({corrections.height} firms of {county}): "
        f"incremental {seconds['corrections incremental']:.1f} s, full cube / incremental = "
        f"{seconds['corrections full cube'] / seconds['corrections incremental']:.1f}×"
    )


if __name__ == "__main__":
    main()
