"""Classification throughput on synthetic enterprises, against two baselines in the same run.

    python benchmarks/bench_classify.py [--rows 1000000] [--naive-rows 20000] [--data DIR]

(a) naive: for each firm, `keyword in text` over every keyword (pure Python), on a sample;
(b) raw scan: the Aho-Corasick automaton alone (Polars `str.extract_many`) over the same text,
    no joins, no scoring — the ceiling for any classifier built on the scan.
Prints rows/s and MB/s for each, and the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from chainatlas.atlas import load_atlas
from chainatlas.classify import build_vocabulary, classify
from chainatlas.settings import ClassifyWeights


def synthetic_text(rows: int, data: Path | None) -> pl.DataFrame:
    from chainatlas.ingest.normalize import normalize_frame
    from chainatlas.synth import generate

    directory = data or Path(tempfile.mkdtemp(prefix="bench-classify-"))
    if not (directory / "enterprises.parquet").exists():
        generate(rows, 7, directory)
    frame = pl.read_parquet(
        directory / "enterprises.parquet",
        columns=["uscc", "industry_code", "business_scope", "products"],
    ).head(rows)
    return normalize_frame(frame, ["business_scope", "products"])


def best_of(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    frame = synthetic_text(args.rows, args.data)
    vocab = build_vocabulary(load_atlas())
    weights = ClassifyWeights()
    megabytes = (
        frame["business_scope"].fill_null("").str.len_bytes().sum()
        + frame["products"].fill_null("").str.len_bytes().sum()
    ) / 1e6

    def raw_scan() -> None:
        frame.select(
            pl.col(c)
            .fill_null("")
            .str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
            for c in ("business_scope", "products")
        )

    t_raw = best_of(args.runs, raw_scan)
    t_full = best_of(args.runs, lambda: classify(frame, vocab, weights))

    sample = frame.head(args.naive_rows)
    keywords = vocab.patterns
    texts = [
        f"{p or ''}\n{s or ''}".upper()
        for p, s in zip(sample["products"], sample["business_scope"], strict=True)
    ]
    t = time.perf_counter()
    for text in texts:
        _ = [k for k in keywords if k in text]
    t_naive = time.perf_counter() - t

    n = frame.height
    rate_full, rate_raw, rate_naive = n / t_full, n / t_raw, sample.height / t_naive
    print(
        f"rows: {n:,}  text: {megabytes:,.1f} MB  keywords: {len(keywords):,}  (best of {args.runs})"
    )
    print(f"classify (full):   {rate_full:12,.0f} rows/s  {megabytes / t_full:8.1f} MB/s")
    print(f"raw automaton scan:{rate_raw:12,.0f} rows/s  {megabytes / t_raw:8.1f} MB/s")
    print(f"naive `in` loop:   {rate_naive:12,.0f} rows/s  (on {sample.height:,} rows)")
    print(f"ratio classify / raw scan: {rate_full / rate_raw:.2f}")
    print(f"ratio classify / naive:    {rate_full / rate_naive:.1f}x")


if __name__ == "__main__":
    main()
