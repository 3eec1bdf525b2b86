"""Targets of every region × chain at once (`targets.batch.targets_all`, what `chainatlas
build` writes) against one target list at a time (`diagnose` + `find_targets`, the loop a
batch would otherwise be), on a large warehouse, in the same run.

    python benchmarks/bench_batch_targets.py [--warehouse benchmarks/out/net10m/warehouse.duckdb]
        [--levels province,city,county] [--top 10] [--sample 6]

Per level: seconds of the batch diagnosis, of the batch lead firms and of the batch targets,
the lists and rows written, peak RSS. Baseline: `--sample` region × chain lists of the level
computed one at a time (the diagnosis with its partner scan skipped, as the batch does),
each checked to equal the batch's rows; their mean time × the level's lists is what the loop
would take. Prints one JSON line per level.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import time
from pathlib import Path

import polars as pl

from chainatlas.atlas import load_atlas
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all, lead_firms_all
from chainatlas.engine.warehouse import Warehouse
from chainatlas.targets.batch import gap_pairs, targets_by_chain
from chainatlas.targets.pipeline import find_targets

AS_OF = dt.date(2026, 6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", default="benchmarks/out/net10m/warehouse.duckdb")
    parser.add_argument("--levels", default="province,city,county")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--sample", type=int, default=6)
    args = parser.parse_args()
    atlas = load_atlas([])
    random.seed(7)
    with Warehouse(Path(args.warehouse), read_only=True) as wh:
        for level in args.levels.split(","):
            start = time.perf_counter()
            batch = diagnose_all(wh, atlas, level)
            diagnosed = time.perf_counter() - start
            start = time.perf_counter()
            leads = lead_firms_all(wh, atlas, level, batch.nodes)
            led = time.perf_counter() - start
            lists = gap_pairs(batch.nodes).select("region_code", "chain_id").unique()
            sample = random.sample(list(lists.iter_rows()), min(args.sample, lists.height))
            wanted = pl.DataFrame(sample, schema=["region_code", "chain_id"], orient="row")
            start = time.perf_counter()
            rows = 0
            kept: list[pl.DataFrame] = []  # only the sampled lists: the level's rows are millions
            for part in targets_by_chain(
                wh, atlas, level, batch.nodes, leads, as_of=AS_OF, top=args.top
            ):
                rows += part.height
                kept.append(part.join(wanted, on=["region_code", "chain_id"], how="semi"))
            targeted = time.perf_counter() - start
            targets = pl.concat(kept)
            loop: list[float] = []
            for code, chain_id in sample:
                chain = atlas[chain_id]
                start = time.perf_counter()
                diagnosis = diagnose(wh, chain, code, top_partners=0)
                want = find_targets(wh, chain, diagnosis, top=args.top, as_of=AS_OF)
                loop.append(time.perf_counter() - start)
                mine = targets.filter(
                    (pl.col("region_code") == code) & (pl.col("chain_id") == chain_id)
                )
                for node in want.nodes:
                    got = mine.filter(pl.col("node_id") == node.id).sort("rank")["uscc"].to_list()
                    assert got == [t.uscc for t in node.targets], (code, chain_id, node.id)
            per_list = sum(loop) / len(loop) if loop else float("nan")
            batch_seconds = diagnosed + led + targeted
            print(
                json.dumps(
                    {
                        "level": level,
                        "lists": lists.height,
                        "gap_nodes": gap_pairs(batch.nodes).height,
                        "rows": rows,
                        "diagnose_s": round(diagnosed, 1),
                        "lead_firms_s": round(led, 1),
                        "targets_s": round(targeted, 1),
                        "batch_s": round(batch_seconds, 1),
                        "one_list_s": round(per_list, 2),
                        "loop_estimate_s": round(per_list * lists.height),
                        "speedup": round(per_list * lists.height / batch_seconds, 1),
                        "checked_lists": len(loop),
                        "peak_rss_gb": round(
                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2
                        ),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
