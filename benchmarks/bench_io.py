"""I-O linkages on a large random productive system, against pymrio in the same run.

    python benchmarks/bench_io.py [--sectors 4000] [--seed 0] [--repeat 3]

The system: Z with ~60 % non-zero cells drawn uniformly, x = column sums of Z divided by an
input share drawn in [0.3, 0.9], so every column sum of A is below 1 (productive).

Timed, median of --repeat rounds (the three take turns within a round):
- ours: `io_linkages(Z, x, sectors)` — validation, A, L, B, G, the linkages frame;
- pymrio, calc_system path: calc_A, calc_L, calc_B, calc_G(B) (a second inversion, what
  `IOSystem.calc_system(include_ghosh=True)` does), then the linkage sums;
- pymrio, fastest path: calc_A, calc_L, calc_B, calc_G(B, L=L, x=x), then the sums.
Prints the ratios (pymrio / ours), the max abs difference of L and of G, and writes
benchmarks/out/bench_io.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pymrio

from chainatlas.metrics.io_linkages import IOResult, io_linkages


def random_system(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.random((n, n))
    z[rng.random((n, n)) < 0.4] = 0.0
    z *= 1000.0
    x = z.sum(axis=0) / rng.uniform(0.3, 0.9, n)
    return z, x


def pymrio_linkages(z: np.ndarray, x: np.ndarray, *, fast_ghosh: bool) -> dict[str, np.ndarray]:
    a = pymrio.calc_A(z, x)
    big_l = pymrio.calc_L(a)
    b = pymrio.calc_B(z, x)
    g = pymrio.calc_G(b, L=big_l, x=x) if fast_ghosh else pymrio.calc_G(b)
    backward, forward = big_l.sum(axis=0), g.sum(axis=1)
    return {
        "L": big_l,
        "G": g,
        "backward_norm": backward / backward.mean(),
        "forward_norm": forward / forward.mean(),
    }


def timed(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, object]]:
    """Median seconds and last result per run; the runs take turns, so load spikes on a
    shared machine hit all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            t = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - t)
    return {name: (statistics.median(times[name]), results[name]) for name in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sectors", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/bench_io.json"))
    args = parser.parse_args()

    n = args.sectors
    z, x = random_system(n, args.seed)
    sectors = [f"s{i:05d}" for i in range(n)]
    print(f"system: {n:,} sectors, max column sum of A {(z.sum(axis=0) / x).max():.3f}")

    measured = timed(
        {
            "ours": lambda: io_linkages(z, x, sectors),
            "pymrio_calc_system": lambda: pymrio_linkages(z, x, fast_ghosh=False),
            "pymrio_fast_ghosh": lambda: pymrio_linkages(z, x, fast_ghosh=True),
        },
        args.repeat,
    )
    ours_s, ours = measured["ours"]
    slow_s, slow = measured["pymrio_calc_system"]
    fast_s, _ = measured["pymrio_fast_ghosh"]

    assert isinstance(ours, IOResult) and isinstance(slow, dict)
    result, reference = ours, slow
    l_diff = float(np.abs(result.L - reference["L"]).max())
    g_diff = float(np.abs(result.G - reference["G"]).max())
    g_rel = float(
        (np.abs(result.G - reference["G"]) / np.maximum(np.abs(reference["G"]), 1e-300)).max()
    )
    bl_diff = float(
        np.abs(result.linkages["backward_norm"].to_numpy() - reference["backward_norm"]).max()
    )
    fl_diff = float(
        np.abs(result.linkages["forward_norm"].to_numpy() - reference["forward_norm"]).max()
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"ours (A, L, B, G, linkages), median of {args.repeat}: {ours_s:.2f} s")
    print(
        f"pymrio calc_A+calc_L+calc_B+calc_G(B) + sums: {slow_s:.2f} s  → ratio {slow_s / ours_s:.2f}×"
    )
    print(
        f"pymrio calc_A+calc_L+calc_B+calc_G(B, L, x) + sums: {fast_s:.2f} s  → ratio {fast_s / ours_s:.2f}×"
    )
    print(
        f"max |L_ours − L_pymrio| = {l_diff:.3e}; max |G_ours − G_pymrio(inv(I−B))| = {g_diff:.3e} (relative {g_rel:.3e})"
    )
    print(f"max |Δ backward_norm| = {bl_diff:.3e}; max |Δ forward_norm| = {fl_diff:.3e}")
    print(f"peak RSS: {peak_mb:,.0f} MB")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "sectors": n,
                "seed": args.seed,
                "repeat": args.repeat,
                "ours_s": ours_s,
                "pymrio_calc_system_s": slow_s,
                "pymrio_fast_ghosh_s": fast_s,
                "ratio_calc_system": slow_s / ours_s,
                "ratio_fast_ghosh": fast_s / ours_s,
                "max_abs_diff_L": l_diff,
                "max_abs_diff_G": g_diff,
                "max_rel_diff_G": g_rel,
                "max_abs_diff_backward_norm": bl_diff,
                "max_abs_diff_forward_norm": fl_diff,
                "peak_rss_mb": peak_mb,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
