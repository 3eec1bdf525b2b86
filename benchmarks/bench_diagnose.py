"""Diagnosis speed on a large synthetic warehouse, with baselines measured in the same run.

    python benchmarks/bench_diagnose.py --enterprises 10000000 [--home benchmarks/out/wh10m]

Builds (once, cached under --home) a warehouse from `chainatlas synth` output through the
normal validate → classify → atomic load path, then measures:
1. one region × one chain with `diagnose()` (median over several cities and chains), against
   a baseline that answers the same counts by scanning assignments ⋈ enterprises directly
   (no cube);
2. all counties × all chains with `diagnose_all()`, against the single-region loop timed on
   a sample of counties and extrapolated.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from chainatlas.atlas import load_atlas
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all
from chainatlas.engine.warehouse import Warehouse
from chainatlas.reference.regions import load_regions

CITIES = ["450400", "440100", "320500", "510100", "420100", "450100", "330100", "370200"]
CHAINS = ["sugarcane", "new_energy_vehicle", "green_home", "photovoltaic"]


def build(home: Path, n: int, seed: int) -> Path:
    from chainatlas.ingest.enterprises import validate_enterprises
    from chainatlas.ingest.links import validate_links
    from chainatlas.ingest.readers import read_table
    from chainatlas.services.load import load_enterprises, load_links
    from chainatlas.synth import generate

    path = home / "warehouse.duckdb"
    if path.exists():
        return path
    data = home / "data"
    atlas = load_atlas()
    t = time.perf_counter()
    generate(n, seed, data, atlas=atlas)
    print(f"synth {n:,}: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    regions = set(load_regions()["region_code"].to_list())
    firms = validate_enterprises(read_table(data / "enterprises.parquet"), regions)
    links = validate_links(read_table(data / "supply_links.parquet"), None)
    print(f"validate: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    with Warehouse(path) as wh:
        load_enterprises(wh, firms.accepted, atlas)
        load_links(wh, links.accepted)
    print(f"classify + load: {time.perf_counter() - t:.1f} s")
    return path


def naive_counts(wh: Warehouse, chain_id: str, city: str) -> None:
    wh.sql(
        "SELECT a.node_id, count(*) FILTER (WHERE e.city_code = ?) AS local, count(*) AS national "
        "FROM assignments a JOIN enterprises e USING (uscc) "
        "WHERE a.chain_id = ? AND e.deregistered IS NULL GROUP BY a.node_id",
        [city, chain_id],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--sample-counties", type=int, default=30)
    args = parser.parse_args()
    home = args.home or Path("benchmarks/out") / f"wh{args.enterprises}"
    home.mkdir(parents=True, exist_ok=True)
    path = build(home, args.enterprises, args.seed)
    atlas = load_atlas()

    with Warehouse(path, read_only=True) as wh:
        firms = wh.count("enterprises")
        print(
            f"warehouse: {firms:,} enterprises, {wh.count('assignments'):,} assignments, "
            f"{wh.count('supply_links'):,} supply links"
        )
        diagnose(wh, atlas["sugarcane"], "450400")  # warm-up
        single, naive = [], []
        for city in CITIES:
            for chain_id in CHAINS:
                t = time.perf_counter()
                diagnose(wh, atlas[chain_id], city)
                single.append(time.perf_counter() - t)
                t = time.perf_counter()
                naive_counts(wh, chain_id, city)
                naive.append(time.perf_counter() - t)
        med, med_naive = statistics.median(single), statistics.median(naive)
        print(f"one region × one chain (diagnose, median of {len(single)}): {med * 1000:.0f} ms")
        print(
            f"baseline: counts only, scanning assignments⋈enterprises: {med_naive * 1000:.0f} ms "
            f"(ratio baseline/diagnose {med_naive / med:.2f})"
        )

        t = time.perf_counter()
        batch = diagnose_all(wh, atlas, "county")
        t_all = time.perf_counter() - t
        counties = batch.chains["region_code"].n_unique()
        print(
            f"all counties × all chains (diagnose_all): {t_all:.1f} s "
            f"({counties:,} counties × {len(atlas)} chains = {batch.chains.height:,} diagnoses)"
        )
        sample = (
            load_regions()
            .filter(load_regions()["level"] == "county")["region_code"]
            .head(args.sample_counties)
            .to_list()
        )
        t = time.perf_counter()
        for code in sample:
            diagnose(wh, atlas["sugarcane"], code)
        per = (time.perf_counter() - t) / len(sample)
        loop = per * counties * len(atlas)
        print(
            f"baseline: per-region loop, {per * 1000:.0f} ms each → {loop / 60:.1f} min "
            f"extrapolated (ratio loop/batch {loop / t_all:.0f}x)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
