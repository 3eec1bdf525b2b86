"""Throughput and peak memory of `chainatlas.synth.generate`, against a row-by-row baseline.

    python benchmarks/bench_synth.py [N] [--chunk-size 250000] [--seed 42] [--out DIR]

Prints enterprises/s (wall and per CPU second), peak RSS (ru_maxrss), file sizes, and the
same figure for a straightforward pure-Python generator of the same columns (one row at a
time: `random`, string joins, a scalar USCC check char) on a 50k sample, with the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from chainatlas.atlas import load_atlas
from chainatlas.reference.regions import load_regions
from chainatlas.synth import generate, schema
from chainatlas.synth.sectors import SECTORS
from chainatlas.synth.uscc import USCC_ALPHABET, uscc_check_char
from chainatlas.synth.vocabulary import BRAND_CHARS, GENERIC_ITEMS, UNRELATED_ITEMS

BASELINE_ROWS = 50_000
CLOSING = "(除依法须经批准的项目外,凭营业执照依法自主开展经营活动)"


def baseline(n: int, seed: int, out: Path) -> float:
    """Rows/s of the obvious generator: a Python loop building each row's fields."""
    rnd = random.Random(seed)
    atlas = load_atlas()
    counties = load_regions().filter(level="county")
    codes, names = counties["region_code"].to_list(), counties["name"].to_list()
    nodes = [n for chain in atlas.values() for n in chain.nodes]
    started = time.perf_counter()
    rows = []
    for i in range(n):
        r = rnd.randrange(len(codes))
        on_chain = rnd.random() < 0.65
        if on_chain:
            node = rnd.choice(nodes)
            items = rnd.sample(
                list(node.include) + [p + "生产" for p in node.products],
                k=min(2, len(node.include)),
            )
            code = rnd.choice(node.industry_codes) if node.industry_codes else None
            products = "、".join(node.products[:2]) or None
        else:
            sector = rnd.choice(SECTORS)
            items = rnd.sample(sector.items, k=2)
            code, products = rnd.choice(sector.codes), None
        items += rnd.sample(GENERIC_ITEMS, k=2)
        if rnd.random() < 0.12:
            items.append(rnd.choice(UNRELATED_ITEMS))
        scope = "一般项目:" + ";".join(items) + CLOSING
        body = f"{(i * 7919 + 13) % 10**8:08d}"
        org = body + rnd.choice("0123456789X")
        first17 = "91" + codes[r] + org
        established = dt.date(1980, 1, 1) + dt.timedelta(days=rnd.randrange(46 * 365))
        capital = round(rnd.lognormvariate(5.0, 1.3), 2)
        rows.append(
            {
                "uscc": first17 + uscc_check_char(first17),
                "name": (
                    names[r][:2]
                    + rnd.choice(BRAND_CHARS)
                    + rnd.choice(BRAND_CHARS)
                    + "科技有限公司"
                ),
                "region_code": codes[r],
                "industry_code": code,
                "established": established,
                "deregistered": established + dt.timedelta(days=400)
                if rnd.random() < 0.08
                else None,
                "registered_capital": capital,
                "revenue": round(capital * rnd.lognormvariate(0.3, 0.7), 2)
                if rnd.random() < 0.4
                else None,
                "employees": max(1, int(rnd.lognormvariate(2.0, 1.0))),
                "business_scope": scope,
                "products": products,
                "tags": "高新技术企业" if rnd.random() < 0.05 else None,
                "synthetic": True,
            }
        )
    pq.write_table(
        pa.Table.from_pylist(rows, schema=schema.ENTERPRISES),
        out / "baseline.parquet",
        compression="zstd",
    )
    assert all(c in USCC_ALPHABET for c in rows[0]["uscc"])
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    atlas, regions = load_atlas(), load_regions()  # loaded once, outside the timing
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()
    summary = generate(
        args.n, args.seed, out, atlas=atlas, regions=regions, chunk_size=args.chunk_size
    )
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"synth      n={args.n:,}  chunk={args.chunk_size:,}  chains={len(atlas)}")
    rate = summary.enterprises_per_second
    print(f"  wall     {summary.seconds:8.1f} s   {rate:12,.0f} enterprises/s")
    print(f"  cpu      {cpu:8.1f} s   {args.n / cpu:12,.0f} enterprises per CPU-second")
    print(f"  peak RSS {peak / 1024:8.0f} MiB (before generate: {rss_before / 1024:.0f} MiB)")
    per_firm = summary.n_links / summary.n_chain_firms
    print(
        f"  links    {summary.n_links:,} ({per_firm:.2f} per chain firm); "
        f"labels {summary.n_labels:,}"
    )
    for name, size in summary.file_bytes.items():
        print(f"  {name:13s} {size / 2**20:9.1f} MiB")
    slow = baseline(BASELINE_ROWS, args.seed, out)
    print(f"baseline   row-by-row Python, {BASELINE_ROWS:,} rows: {slow:,.0f} enterprises/s")
    print(f"ratio      {rate / slow:.1f}x")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
