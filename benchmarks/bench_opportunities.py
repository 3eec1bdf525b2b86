"""Opportunities of one region (J4, `chainatlas opportunities`) on a large warehouse, with a
baseline measured in the same run.

    python benchmarks/bench_opportunities.py [--warehouse benchmarks/out/net10m/warehouse.duckdb]
        [--regions 450400,330100,510100,450403] [--repeat 3]

Measured per region (median of `--repeat` runs after a warm-up): `find_opportunities` end to
end, and its status step alone two ways — the held chains' node statuses from one batch pass
over the region (`diagnose_all(region_code=…, network=False)`, what it uses) against a full
`diagnose` per held chain (what it used before, the baseline) — checked to give the same
statuses.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from chainatlas.atlas import Chain, load_atlas
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all
from chainatlas.diagnose.opportunities import find_opportunities, region_matrix
from chainatlas.diagnose.pipeline import resolve_region
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.complexity import complexity_table
from chainatlas.settings import OpportunityWeights, StatusThresholds


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    result = run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def held_chains(wh: Warehouse, code: str, level: str) -> list[str]:
    matrix = region_matrix(wh, level)
    cx = complexity_table(matrix, region="region_code", product="product", value="firm_count")
    mine = cx.filter((pl.col("region_code") == code) & (pl.col("mcp") == 1))
    return sorted({p.split("/")[0] for p in mine["product"].to_list()})


def measure(wh: Warehouse, atlas: dict[str, Chain], code: str, repeat: int) -> float:
    """Print one region's figures; return the status step's ratio (baseline / one pass)."""
    thresholds = StatusThresholds()
    level = resolve_region(code).level
    held = {c: atlas[c] for c in held_chains(wh, code, level)}
    whole, result = timed(
        lambda: find_opportunities(
            wh, atlas, code, weights=OpportunityWeights(), thresholds=thresholds
        ),
        repeat,
    )
    batch, statuses = timed(
        lambda: diagnose_all(
            wh, held, level, thresholds, region_code=code, network=False
        ).nodes.select("chain_id", "node_id", "status"),
        repeat,
    )
    single, rows = timed(
        lambda: [
            (c.id, n.id, n.status) for c in held.values() for n in diagnose(wh, c, code).nodes
        ],
        repeat,
    )
    expected = pl.DataFrame(rows, schema=["chain_id", "node_id", "status"], orient="row")
    assert isinstance(statuses, pl.DataFrame)
    same = statuses.sort("chain_id", "node_id").equals(expected.sort("chain_id", "node_id"))
    items = len(result.items)  # type: ignore[attr-defined]
    print(
        f"  {code} ({level}, {len(held)} held chains): opportunities {whole:.2f} s "
        f"({items} listed); statuses {batch:.2f} s in one pass vs {single:.2f} s "
        f"diagnosing each chain ({single / batch:.1f}×, same statuses: {same})"
    )
    return single / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", type=Path, default=Path("benchmarks/out/net10m/warehouse.duckdb")
    )
    parser.add_argument("--regions", default="450400,330100,510100,450403")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    atlas = load_atlas()
    with Warehouse(args.warehouse, read_only=True) as wh:
        print(f"warehouse: {wh.count('enterprises'):,} enterprises; median of {args.repeat} runs")
        ratios = [measure(wh, atlas, code, args.repeat) for code in args.regions.split(",")]
    print(
        f"median ratio (statuses: a diagnosis per chain / one pass): {statistics.median(ratios):.1f}×"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
