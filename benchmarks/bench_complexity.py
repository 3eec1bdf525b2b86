"""Complexity figures vs `ecomplexity` 0.5.3 on the same matrix, in the same run.

    python benchmarks/bench_complexity.py [--regions 2800 --products 400 --density 0.3
                                           --seed 0 --repeat 3]

Builds a seeded region × product long table (a share `--density` of cells non-zero, values
lognormal), then times `complexity_table` (polars in, polars out) and `ecomplexity` (pandas
in, pandas out; input converted beforehand, not timed) alternately, `--repeat` times each,
and prints both medians, their ratio and the largest absolute difference per column
(every row, aligned on region and product). Writes the figures to benchmarks/out/.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl

from chainatlas.metrics.complexity import complexity_table

COLUMNS = ("value", "rca", "mcp", "diversity", "ubiquity", "eci", "pci", "density", "coi", "cog")


def long_table(regions: int, products: int, density: float, seed: int) -> pl.DataFrame:
    """year, region (6-digit code), product (node id), value > 0 for the non-zero cells."""
    rng = np.random.default_rng(seed)
    present = rng.random((regions, products)) < density
    r, p = np.nonzero(present)
    values = rng.lognormal(mean=2.0, sigma=1.5, size=r.size)
    order = rng.permutation(r.size)  # rows in no particular order, as in a real file
    return pl.DataFrame(
        {
            "year": np.full(r.size, 2024, dtype=np.int64),
            "region": [f"{100000 + i:06d}" for i in r[order]],
            "product": [f"n{j:04d}" for j in p[order]],
            "value": values[order],
        }
    )


def run_ecomplexity(frame: object) -> pl.DataFrame:
    from ecomplexity import ecomplexity

    columns = {"time": "year", "loc": "region", "prod": "product", "val": "value"}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # log-supermodularity notice, pandas notices
        out = ecomplexity(frame, columns)
    return pl.from_pandas(out)


def max_differences(ours: pl.DataFrame, ref: pl.DataFrame) -> dict[str, float]:
    keys = ["year", "region", "product"]
    joined = ours.join(ref, on=keys, how="full", suffix="_ref", coalesce=True)
    if joined.height != ours.height or joined.height != ref.height:
        raise SystemExit(f"row sets differ: ours {ours.height}, ecomplexity {ref.height}")
    diffs = {}
    for c in COLUMNS:
        a = joined.get_column(c).cast(pl.Float64)
        b = joined.get_column(f"{c}_ref").cast(pl.Float64)
        if not (a.is_null() == b.is_nan().fill_null(True)).all():
            raise SystemExit(f"column {c}: null cells differ")
        diffs[c] = float((a - b).abs().max() or 0.0)
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=2800)
    parser.add_argument("--products", type=int, default=400)
    parser.add_argument("--density", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/complexity.json"))
    args = parser.parse_args()

    frame = long_table(args.regions, args.products, args.density, args.seed)
    pandas_frame = frame.to_pandas()
    print(
        f"{args.regions:,} regions × {args.products:,} products, {frame.height:,} non-zero "
        f"cells ({args.density:.0%}), seed {args.seed}"
    )
    complexity_table(frame.head(1000), year="year")  # warm-up: imports, thread pools

    ours_times: list[float] = []
    ref_times: list[float] = []
    ours = ref = pl.DataFrame()
    for _ in range(args.repeat):
        t = time.perf_counter()
        ref = run_ecomplexity(pandas_frame)
        ref_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ours = complexity_table(frame, year="year")
        ours_times.append(time.perf_counter() - t)

    ours_s = statistics.median(ours_times)
    ref_s = statistics.median(ref_times)
    diffs = max_differences(ours, ref)
    worst = max(diffs.values())
    print(f"chainatlas complexity_table: {ours_s * 1e3:8.1f} ms (median of {args.repeat})")
    print(f"ecomplexity 0.5.3          : {ref_s * 1e3:8.1f} ms (median of {args.repeat})")
    print(f"ratio                      : {ref_s / ours_s:8.1f}× faster")
    print(f"rows compared              : {ours.height:,}")
    print("max |ours − ecomplexity|   : " + ", ".join(f"{c} {d:.1e}" for c, d in diffs.items()))
    print(f"all columns within 1e-6    : {'yes' if worst <= 1e-6 else 'NO'} (max {worst:.1e})")
    load = os.getloadavg()
    print(f"load average at the end    : {load[0]:.1f} (1 min) on {os.cpu_count()} cores")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {
        "regions": args.regions,
        "products": args.products,
        "density": args.density,
        "seed": args.seed,
        "repeat": args.repeat,
        "ours_ms": [round(t * 1e3, 2) for t in ours_times],
        "ecomplexity_ms": [round(t * 1e3, 2) for t in ref_times],
        "ratio": ref_s / ours_s,
        "max_abs_difference": diffs,
        "load_average_1min": os.getloadavg()[0],
    }
    args.out.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
