"""Classification throughput on synthetic enterprises, against baselines in the same run.

    python benchmarks/bench_classify.py [--rows 1000000] [--naive-rows 20000] [--data DIR]
        [--repeats 5] [--threads N] [--save-reference DIR | --check DIR]

(a) naive: for each firm, `keyword in text` over every keyword (pure Python), on a sample;
(b) raw scan: the Aho-Corasick automaton alone (Polars `str.extract_many`, overlapping, ASCII
    case-insensitive — the options `classify` uses) over the same text, no joins, no scoring:
    the ceiling for any classifier built on the scan. Measured two ways: one `select` over both
    columns (Polars runs the two columns in parallel, the longer one bounds it), and split into
    the same row ranges on the same threads as `classify` (both cores busy: the fair ceiling
    for a classifier that splits its input).
(c) scan + hit ids: the raw scan plus the least any classifier built on it must do — turn each
    of the ~2.7 M hits per million rows into (row, keyword id); its rate bounds what any
    classifier on the scan can reach.
Every variant runs `--repeats` times, interleaved (machine load shifts over a run); the
medians are printed with the spread (min–max) and the ratios of medians.

--save-reference DIR writes classify's output on the benchmark rows and on the labelled dev and
test sets to DIR; --check DIR compares the current output with those files row for row and
exits non-zero on any difference (the classifier's rules must not drift while it is tuned).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

from chainatlas.atlas import load_atlas
from chainatlas.classify import Vocabulary, build_vocabulary, classify
from chainatlas.classify.assign import TEXT_COLUMNS, default_threads
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


def labelled_sets() -> dict[str, pl.DataFrame]:
    from chainatlas.ingest.normalize import normalize_frame
    from chainatlas.services.evaluation import SHIPPED_SETS, read_labelled
    from chainatlas.services.evaluation import _shipped as shipped

    return {
        name: normalize_frame(read_labelled(shipped(name), name)[0], ["business_scope", "products"])
        for name in SHIPPED_SETS
    }


def compare(name: str, got: pl.DataFrame, path: Path) -> bool:
    want = pl.read_parquet(path)
    if got.equals(want):
        print(f"check {name}: identical ({got.height:,} assignments) to {path}")
        return True
    if got.shape != want.shape:
        print(f"check {name}: DIFFERENT shape {got.shape} vs {want.shape} in {path}")
        return False
    differing = {c: int((got[c].ne_missing(want[c])).sum()) for c in want.columns}
    print(f"check {name}: DIFFERENT rows per column {differing} vs {path}")
    return False


def reference_outputs(frame: pl.DataFrame, vocab: Vocabulary) -> dict[str, pl.DataFrame]:
    outputs = {f"rows{frame.height}": classify(frame, vocab)}
    outputs.update({name: classify(items, vocab) for name, items in labelled_sets().items()})
    return outputs


def timed(
    runs: dict[str, Callable[[], object]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each variant `repeats` times, interleaved round by round: wall seconds and process CPU
    seconds (all threads; less sensitive than wall time to other jobs on the machine)."""
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="classify threads (default: one per core)")
    parser.add_argument("--save-reference", type=Path, metavar="DIR")
    parser.add_argument("--check", type=Path, metavar="DIR")
    args = parser.parse_args()

    frame = synthetic_text(args.rows, args.data)
    vocab = build_vocabulary(load_atlas())
    weights = ClassifyWeights()

    if args.save_reference or args.check:
        outputs = reference_outputs(frame, vocab)
        if args.save_reference:
            args.save_reference.mkdir(parents=True, exist_ok=True)
            for name, out in outputs.items():
                out.write_parquet(args.save_reference / f"classify_{name}.parquet")
            print(f"reference outputs written to {args.save_reference}: {', '.join(outputs)}")
            return
        ok = [compare(n, out, args.check / f"classify_{n}.parquet") for n, out in outputs.items()]
        if not all(ok):
            sys.exit(1)
        return

    threads = args.threads or default_threads(frame.height)
    text = frame.select(pl.col(*TEXT_COLUMNS).fill_null(""))
    megabytes = sum(text[c].str.len_bytes().sum() for c in TEXT_COLUMNS) / 1e6
    scan = [
        pl.col(c).str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
        for c in TEXT_COLUMNS
    ]
    step = -(-text.height // threads)
    slices = [text.slice(offset, step) for offset in range(0, text.height, step)]

    def raw_scan_split() -> None:
        with ThreadPoolExecutor(len(slices)) as pool:
            list(pool.map(lambda part: part.select(scan), slices))

    keyword_enum = pl.Enum(vocab.patterns)

    def hits_to_ids(part: pl.DataFrame) -> None:
        """The least any classifier on the scan must add: each hit as (row, keyword id)."""
        found = part.select(scan)
        rows = np.arange(part.height)
        for column in TEXT_COLUMNS:
            lists = found.get_column(column)
            np.repeat(rows, lists.list.len().to_numpy())
            lists.explode(empty_as_null=False, keep_nulls=False).cast(keyword_enum, strict=False)

    def floor_split() -> None:
        with ThreadPoolExecutor(len(slices)) as pool:
            list(pool.map(hits_to_ids, slices))

    runs: dict[str, Callable[[], object]] = {
        "classify": lambda: classify(frame, vocab, weights, threads=threads),
        "raw scan, one select": lambda: text.select(scan),
        f"raw scan, {threads} threads": raw_scan_split,
        f"scan + hit ids, {threads} thr": floor_split,
    }
    if threads != 1:
        runs["classify, 1 thread"] = lambda: classify(frame, vocab, weights, threads=1)
    times, cpu = timed(runs, args.repeats)

    sample = frame.head(args.naive_rows)
    keywords = vocab.patterns
    texts = [
        f"{p or ''}\n{s or ''}".upper()
        for p, s in zip(sample["products"], sample["business_scope"], strict=True)
    ]
    start = time.perf_counter()
    for one in texts:
        _ = [k for k in keywords if k in one]
    rate_naive = sample.height / (time.perf_counter() - start)

    n = frame.height
    median = {name: statistics.median(t) for name, t in times.items()}
    median_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    print(
        f"rows: {n:,}  text: {megabytes:,.1f} MB  keywords: {len(keywords):,}  "
        f"classify threads: {threads}  repeats: {args.repeats} (interleaved; median, min–max)"
    )
    for name, t in times.items():
        print(
            f"{name:26s} {n / median[name]:10,.0f} rows/s  {megabytes / median[name]:6.1f} MB/s"
            f"  {median[name]:5.2f} s ({min(t):.2f}–{max(t):.2f})  CPU {median_cpu[name]:5.2f} s"
        )
    print(f"{'naive `in` loop':26s} {rate_naive:10,.0f} rows/s  (on {sample.height:,} rows)")
    baselines = [name for name in runs if name.startswith(("raw", "scan"))]
    for name in baselines:
        print(
            f"ratio classify / {name}: {median[name] / median['classify']:.2f} (wall), "
            f"{median_cpu[name] / median_cpu['classify']:.2f} (CPU)"
        )
    print(f"ratio classify / naive: {n / median['classify'] / rate_naive:.0f}x")
    if "classify, 1 thread" in median:
        print(f"{threads} threads vs 1: {median['classify, 1 thread'] / median['classify']:.2f}x")


if __name__ == "__main__":
    main()
