"""Targets for all gap nodes of one chain for one city, on a large warehouse (goal < 2 s),
with a baseline measured in the same run.

    python benchmarks/bench_targets.py [--warehouse benchmarks/out/wh10000000/warehouse.duckdb]
        [--cities 450400,330100,510100,620100] [--chains sugarcane,new_energy_vehicle,biomedicine]
        [--top 20] [--repeat 3] [--baseline-cases 2]

The warehouse is opened read-only (build it with bench_diagnose.py). Measured, per city ×
chain (median of `--repeat` runs after a warm-up):
- end to end as `chainatlas targets` runs it: the diagnosis, then `find_targets`;
- baseline 1: the same list without pruning — every firm of the gap nodes nationally is
  read (code, name, date) and scored, then the top kept (`score_pool(top=None)`); checked to
  give the same targets;
- baseline 2: the plain read a first version would make — the whole pool with names and
  dates, assignments ⋈ enterprises — timed alone, before any scoring (a lower bound).
`chain_firms` carries `established` and the assignment `score` (engine/cube.py); a
warehouse built before that falls back to looking both up, and the script says which
layout it measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import time
from pathlib import Path

from chainatlas.atlas import load_atlas
from chainatlas.atlas.model import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.targets.pipeline import find_targets, gap_nodes, score_pool
from chainatlas.targets.weights import TargetWeights

AS_OF = dt.date(2026, 11, 22)


def end_to_end(wh: Warehouse, chain: Chain, city: str, top: int) -> tuple[float, float, int]:
    """(seconds for the diagnosis, seconds for the targets, targets listed)."""
    t = time.perf_counter()
    diagnosis = diagnose(wh, chain, city)
    t_diag = time.perf_counter() - t
    t = time.perf_counter()
    result = find_targets(wh, chain, diagnosis, top=top, as_of=AS_OF)
    t_targets = time.perf_counter() - t
    return t_diag, t_targets, sum(len(n.targets) for n in result.nodes)


def baseline(wh: Warehouse, chain: Chain, city: str, top: int) -> tuple[float, bool, int]:
    """(seconds, same targets as the pruned run, pool size)."""
    diagnosis = diagnose(wh, chain, city)
    ids = [n.id for n in gap_nodes(diagnosis)]
    kw = {"weights": TargetWeights(), "as_of": AS_OF}
    t = time.perf_counter()
    full, _, counts = score_pool(wh, chain, diagnosis, ids, top=None, **kw)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t
    pruned, _, _ = score_pool(wh, chain, diagnosis, ids, top=top, **kw)  # type: ignore[arg-type]
    columns = ["node_id", "rank", "uscc"]
    kept = full.filter(full["rank"] <= top)
    same = kept.select(columns).equals(pruned.select(columns)) and bool(
        (kept["score"] - pruned["score"]).abs().max() < 1e-12  # type: ignore[operator]
    )
    return seconds, same, sum(counts["candidates"].values())


def naive_read(wh: Warehouse, chain: Chain, city: str) -> float:
    """Seconds to read the gap nodes' whole pool with names and dates in one join."""
    ids = [n.id for n in gap_nodes(diagnose(wh, chain, city))]
    marks = ", ".join("?" for _ in ids)
    t = time.perf_counter()
    wh.sql(
        "SELECT a.uscc, a.node_id, a.score, a.national_rank, e.name, e.region_code, "
        "e.established, e.registered_capital, e.tags FROM assignments a "
        "JOIN enterprises e USING (uscc) WHERE a.chain_id = ? AND a.node_id IN "
        f"({marks}) AND e.deregistered IS NULL AND e.city_code IS DISTINCT FROM ?",
        [chain.id, *ids, city],
    )
    return time.perf_counter() - t


def measure(wh: Warehouse, atlas: dict[str, Chain], args: argparse.Namespace) -> list[float]:
    totals, diags, targets = [], [], []
    for city in args.cities:
        for chain_id in args.chains:
            runs = [end_to_end(wh, atlas[chain_id], city, args.top) for _ in range(args.repeat)]
            d = statistics.median(r[0] for r in runs)
            g = statistics.median(r[1] for r in runs)
            totals.append(d + g)
            diags.append(d)
            targets.append(g)
            print(
                f"  {city} {chain_id:<20} {d + g:5.2f} s  (diagnosis {d:.2f} + targets {g:.2f}; "
                f"{runs[0][2]} targets)"
            )
    print(
        f"  median {statistics.median(totals):.2f} s (diagnosis {statistics.median(diags):.2f} "
        f"+ targets {statistics.median(targets):.2f}), worst {max(totals):.2f} s "
        f"over {len(totals)} city × chain"
    )
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--warehouse", type=Path, default=Path("benchmarks/out/wh10000000/warehouse.duckdb")
    )
    parser.add_argument(
        "--cities", type=lambda s: s.split(","), default="450400,330100,510100,620100"
    )
    parser.add_argument(
        "--chains", type=lambda s: s.split(","), default="sugarcane,new_energy_vehicle,biomedicine"
    )
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-cases", type=int, default=2)
    args = parser.parse_args()
    atlas = load_atlas()

    with Warehouse(args.warehouse, read_only=True) as wh:
        print(
            f"warehouse: {wh.count('enterprises'):,} enterprises, "
            f"{wh.count('assignments'):,} assignments, {wh.count('supply_links'):,} supply links"
        )
        columns = wh.table("chain_firms").columns
        layout = "carries" if {"established", "score"} <= set(columns) else "lacks (old build)"
        print(f"chain_firms {layout} established and score")
        end_to_end(wh, atlas[args.chains[0]], args.cities[0], args.top)  # warm-up
        print(f"targets, top {args.top} per gap node (diagnosis + find_targets):")
        measure(wh, atlas, args)

        cases = [(c, k) for c in args.cities for k in args.chains][: args.baseline_cases]
        base, naive, ours = [], [], []
        for city, chain_id in cases:
            seconds, same, pool = baseline(wh, atlas[chain_id], city, args.top)
            read = naive_read(wh, atlas[chain_id], city)
            _, g, _ = end_to_end(wh, atlas[chain_id], city, args.top)
            base.append(seconds)
            naive.append(read)
            ours.append(g)
            print(
                f"baseline {city} {chain_id}: {seconds:.2f} s scoring all {pool:,} candidates "
                f"unpruned (same targets: {same}); {read:.2f} s for the plain "
                f"assignments⋈enterprises read alone; {g:.2f} s pruned"
            )
        if base:
            mine = statistics.median(ours)
            print(
                f"ratio unpruned/pruned (targets step, median): {statistics.median(base) / mine:.1f}x;"
                f" plain read/pruned: {statistics.median(naive) / mine:.1f}x"
            )

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
