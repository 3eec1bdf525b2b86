"""Supply-network metrics on a large synthetic warehouse, with a baseline in the same run.

    python benchmarks/bench_network.py --enterprises 10000000 --links-per-chain-firm 5 \
        [--home benchmarks/out/net10m] [--reuse benchmarks/out/wh10000000]

Builds (once, cached under --home) a warehouse through the normal path — `synth` with
`links_per_chain_firm` (5 gives ≈ 3 links per enterprise: ≈ 30 M links for 10 M firms), then
validate, classify and the atomic loads. With --reuse, a warehouse built from the same
enterprises (same N and seed, byte-identical enterprises.parquet) is copied — never
modified — and only the links are loaded into the copy. Then measures, in a fresh process:
1. `rebuild_network` (every network table for every region and level), seconds and peak RSS;
2. the network figures of all cities × all chains (`network_all`: rates, break evidence,
   single points of failure) and the whole `diagnose_all(level="city")`;
3. baseline: the chain-level local sourcing rate of one city straight from supply_links ⋈
   enterprises ⋈ assignments (no network tables), timed on a sample of cities and
   extrapolated to all cities;
4. one region × one chain `diagnose()` with its network part (median), and the share of it
   spent on the lead firms' top partners (a scan of supply_links).
"""

from __future__ import annotations

import argparse
import filecmp
import multiprocessing
import resource
import shutil
import statistics
import time
from pathlib import Path

CITIES = ["450400", "440100", "320500", "510100", "420100", "450100", "330100", "370200"]
CHAINS = ["sugarcane", "new_energy_vehicle", "green_home", "photovoltaic"]
VALIDATE_CHUNK = 5_000_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _validated_links(path: Path):  # type: ignore[no-untyped-def]
    import polars as pl

    from chainatlas.ingest.links import validate_links
    from chainatlas.ingest.readers import read_table

    raw = read_table(path)
    parts = []
    for offset in range(0, raw.height, VALIDATE_CHUNK):
        result = validate_links(raw.slice(offset, VALIDATE_CHUNK), None)
        parts.append(result.accepted)
    del raw
    return pl.concat(parts)


def build(
    home: Path, n: int, seed: int, links_per_firm: float, reuse: Path | None, memory: str
) -> Path:
    from chainatlas.atlas import load_atlas
    from chainatlas.engine.warehouse import Warehouse
    from chainatlas.synth import generate

    path = home / "warehouse.duckdb"
    if path.exists():
        return path
    data = home / "data"
    atlas = load_atlas()
    if not (data / "supply_links.parquet").exists():
        t = time.perf_counter()
        s = generate(n, seed, data, atlas=atlas, links_per_chain_firm=links_per_firm)
        print(f"synth {n:,} firms, {s.n_links:,} links: {time.perf_counter() - t:.1f} s")
    same = (
        reuse is not None
        and (reuse / "warehouse.duckdb").exists()
        and filecmp.cmp(reuse / "data" / "enterprises.parquet", data / "enterprises.parquet", False)
    )
    partial = home / "warehouse.partial.duckdb"
    for stale in (partial, partial.with_name(partial.name + ".wal")):  # an interrupted build
        stale.unlink(missing_ok=True)
    if same:
        assert reuse is not None
        t = time.perf_counter()
        shutil.copyfile(reuse / "warehouse.duckdb", partial)
        print(
            f"copied the warehouse of {reuse} (same enterprises): {time.perf_counter() - t:.1f} s"
        )
    else:
        from chainatlas.ingest.enterprises import validate_enterprises
        from chainatlas.ingest.readers import read_table
        from chainatlas.reference.regions import load_regions
        from chainatlas.services.load import load_enterprises

        t = time.perf_counter()
        regions = set(load_regions()["region_code"].to_list())
        firms = validate_enterprises(read_table(data / "enterprises.parquet"), regions)
        with Warehouse(partial) as wh:
            wh.raw.execute(f"SET memory_limit = '{memory}'")
            load_enterprises(wh, firms.accepted, atlas)
        del firms
        print(f"validate + classify + load enterprises: {time.perf_counter() - t:.1f} s")
    from chainatlas.services.load import load_links

    t = time.perf_counter()
    links = _validated_links(data / "supply_links.parquet")
    print(f"validate {links.height:,} links: {time.perf_counter() - t:.1f} s")
    with Warehouse(partial) as wh:
        wh.raw.execute(f"SET memory_limit = '{memory}'")
        wh.raw.execute("DELETE FROM supply_links")  # the copy's links are replaced
        result = load_links(wh, links)
    print(
        f"load links (atomic: links, firm tables, network tables): {result.seconds:.1f} s, "
        f"peak RSS of the build {_peak_mb():,.0f} MB"
    )
    partial.rename(path)
    return path


def naive_city_rate(wh, city: str) -> None:  # type: ignore[no-untyped-def]
    """The chain-level local sourcing rate of one city, straight from the base tables."""
    wh.sql(
        "WITH ch AS (SELECT DISTINCT uscc, chain_id FROM assignments) "
        "SELECT cc.chain_id, count(*) AS links, count(*) FILTER (WHERE s.city_code = c.city_code) "
        "AS local_links, sum(l.amount) AS amount, "
        "sum(l.amount) FILTER (WHERE s.city_code = c.city_code) AS local_amount "
        "FROM supply_links l JOIN enterprises c ON c.uscc = l.customer_uscc "
        "JOIN enterprises s ON s.uscc = l.supplier_uscc "
        "JOIN ch cc ON cc.uscc = l.customer_uscc "
        "JOIN ch sc ON sc.uscc = l.supplier_uscc AND sc.chain_id = cc.chain_id "
        "WHERE c.city_code = ? AND l.supplier_uscc <> l.customer_uscc "
        "AND c.deregistered IS NULL AND s.deregistered IS NULL GROUP BY cc.chain_id",
        [city],
    )


def measure(path: Path, sample_cities: int, memory: str) -> None:
    from chainatlas.atlas import load_atlas
    from chainatlas.diagnose import data as ddata
    from chainatlas.diagnose import diagnose
    from chainatlas.diagnose.batch import diagnose_all, network_all
    from chainatlas.engine.network import rebuild_statements
    from chainatlas.engine.warehouse import Warehouse
    from chainatlas.reference.regions import load_regions
    from chainatlas.settings import StatusThresholds

    atlas = load_atlas()
    rebuild_statements()  # compile once, outside the timing
    with Warehouse(path) as wh:
        wh.raw.execute(f"SET memory_limit = '{memory}'")
        counts = ddata.link_counts(wh)
        print(
            f"warehouse: {wh.count('enterprises'):,} enterprises, "
            f"{wh.count('assignments'):,} assignments, {counts['links']:,} supply links "
            f"({counts['located']:,} located)"
        )
        base = _peak_mb()
        steps: list[tuple[float, str]] = []
        t = time.perf_counter()
        with wh.transaction():  # rebuild_network, statement by statement
            for statement in rebuild_statements():
                s = time.perf_counter()
                wh.raw.execute(statement)
                steps.append((time.perf_counter() - s, " ".join(statement.split()[:6])))
        t_rebuild = time.perf_counter() - t
        print(
            f"rebuild_network (all regions, 3 levels): {t_rebuild:.1f} s, "
            f"peak RSS {_peak_mb():,.0f} MB (before: {base:,.0f} MB)"
        )
        for seconds, what in steps:
            print(f"  {seconds:6.1f} s  {what}")
        for table in ("sourcing_chain_facts", "sourcing_node_facts", "sourcing_inputs"):
            print(f"  {table}: {wh.count(table):,} rows")
        print(f"  firm_links: {wh.count('firm_links'):,} rows")

    with Warehouse(path, read_only=True) as wh:
        cities = load_regions().filter(load_regions()["level"] == "city")["region_code"]
        t = time.perf_counter()
        batch = diagnose_all(wh, atlas, "city")
        t_all = time.perf_counter() - t
        nodes = batch.nodes.select("region_code", "chain_id", "node_id", "break")
        t = time.perf_counter()
        _, chains, spof = network_all(wh, "city", nodes, StatusThresholds())
        t_net = time.perf_counter() - t
        print(
            f"network figures, all cities × all chains (network_all): {t_net:.2f} s "
            f"({chains.height:,} region × chain rates, {spof.height:,} single points of failure)"
        )
        print(
            f"diagnose_all(level=city) with the network: {t_all:.2f} s "
            f"({batch.chains.height:,} diagnoses)"
        )
        sample = CITIES[:sample_cities]
        t = time.perf_counter()
        for city in sample:
            naive_city_rate(wh, city)
        per = (time.perf_counter() - t) / len(sample)
        loop = per * cities.len()
        print(
            f"baseline: per-city query on the base tables, {per:.2f} s each → "
            f"{loop / 60:.1f} min for {cities.len()} cities, chain level only "
            f"(ratio loop / (rebuild + network_all) {loop / (t_rebuild + t_net):.1f}x)"
        )
        diagnose(wh, atlas["sugarcane"], "450400")  # warm-up
        single, partners = [], []
        for city in CITIES:
            for chain_id in CHAINS:
                t = time.perf_counter()
                d = diagnose(wh, atlas[chain_id], city)
                single.append(time.perf_counter() - t)
                leads = [f.uscc for n in d.nodes for f in n.lead_firms]
                if leads:
                    t = time.perf_counter()
                    ddata.top_partners(wh, chain_id, leads, 3)
                    partners.append(time.perf_counter() - t)
        print(
            f"one region × one chain diagnose() with the network (median of {len(single)}): "
            f"{statistics.median(single) * 1000:.0f} ms, of which top partners "
            f"{statistics.median(partners) * 1000:.0f} ms"
        )
    print(f"peak RSS: {_peak_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=10_000_000)
    parser.add_argument("--links-per-chain-firm", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--reuse", type=Path, help="a warehouse dir built from the same firms")
    parser.add_argument("--sample-cities", type=int, default=3)
    parser.add_argument(
        "--memory-limit", default="10GB", help="DuckDB memory_limit (it spills beyond)"
    )
    args = parser.parse_args()
    home = args.home or Path("benchmarks/out") / f"net{args.enterprises}"
    home.mkdir(parents=True, exist_ok=True)
    # the build runs in its own process so the measurements' peak RSS is their own
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(
        target=build,
        args=(
            home,
            args.enterprises,
            args.seed,
            args.links_per_chain_firm,
            args.reuse,
            args.memory_limit,
        ),
    )
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"build failed ({proc.exitcode})")
    measure(home / "warehouse.duckdb", args.sample_cities, args.memory_limit)


if __name__ == "__main__":
    main()
