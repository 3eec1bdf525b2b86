"""The supply-network rebuild under a DuckDB memory limit: every chain at once (the
expressions as Spark runs them, and as the DuckDB build ran them before) against a chain at
a time (`engine.network.rebuild_network`), in one run.

    python benchmarks/bench_network_memory.py --warehouse benchmarks/out/net10m/warehouse.duckdb \
        [--work /tmp/netmem] [--memory-limit 700MB,2GB]

The warehouse is copied once into --work (never modified); each variant × limit runs in a
fresh process on that copy (the network tables are rewritten, the inputs are not), with
`preserve_insertion_order = false` and a spill directory as the build sets them. Prints,
per limit, each variant's outcome (done, or the statement that ran out of memory), seconds
and peak RSS, and the ratio of the seconds when both finish.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("every chain at once", "a chain at a time")


def run_variant(path: str, limit: str, variant: str, spill: str) -> None:
    """In a child process: rebuild the network tables one way; print a JSON line."""
    from chainatlas.engine import network
    from chainatlas.engine.warehouse import Warehouse

    wh = Warehouse(path)
    for setting in (
        f"SET memory_limit = '{limit}'",
        f"SET temp_directory = '{spill}'",
        "SET preserve_insertion_order = false",
    ):
        wh.raw.execute(setting)
    current = ""

    def execute(sql: str) -> None:
        nonlocal current
        current = sql[:90]
        wh.raw.execute(sql)

    start = time.perf_counter()
    outcome = "done"
    try:
        if variant == VARIANTS[0]:
            for name, expr, append in network.network_expressions():
                execute(network._write_sql(name, expr, append))
                if name == network._INPUT_GRAIN:
                    execute(f"DROP TABLE {network._CHAIN_LINKS}")
            execute(f"DROP TABLE {network._INPUT_GRAIN}")
        else:
            network.rebuild_network(wh, execute=execute)
    except Exception as exc:  # the out-of-memory error is the figure
        outcome = f"failed: {str(exc).splitlines()[0][:120]} — in {current}"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_gb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/netmem"))
    parser.add_argument("--memory-limit", default="700MB,2GB")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    copy = args.work / "warehouse.duckdb"
    if not copy.exists():
        shutil.copy(args.warehouse, copy)
    for limit in args.memory_limit.split(","):
        results = {}
        for variant in VARIANTS:
            spill = args.work / "spill"
            shutil.rmtree(spill, ignore_errors=True)
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(copy), limit, variant, str(spill)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
            r = results[variant]
            print(
                f"limit {limit:>6}  {variant:<20}  {r['seconds']:7.1f} s  "
                f"peak RSS {r['peak_gb']:.2f} GB  {r['outcome']}",
                flush=True,
            )
        a, b = (results[v] for v in VARIANTS)
        if a["outcome"] == b["outcome"] == "done":
            print(
                f"limit {limit:>6}  a chain at a time / every chain: {b['seconds'] / a['seconds']:.2f}x time"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_variant(*sys.argv[2:6])
    else:
        main()
