"""`chainatlas build` on DuckDB and on Spark local, per stage, in one run.

    python benchmarks/bench_build.py --firms 100000 [--seed 42] [--home benchmarks/out/build]
        [--master local[2]] [--engines duckdb,spark] [--memory-limit 3GB] [--input DIR]
        [--json out.json]

Writes (once, cached under --home) a seeded synthetic population of --firms enterprises and
its supply links as Parquet, then runs `chainatlas build` for each engine in a fresh process
(the command a user runs; the atlas is the shipped one) and prints, per stage, rows, seconds
and rows/s, and the ratio spark / duckdb of the seconds of the stages both have and of the
whole build. Peak memory is the sum over the build's processes (the CLI, and for Spark the
JVM and its Python workers) of each one's peak RSS (VmHWM, sampled from /proc every 0.2 s):
an upper bound of the build's peak.

Stages do not line up one to one: Spark writes each stage's Parquet inside the stage, and
its `start` is the JVM and session start-up; DuckDB loads into a warehouse (`load`) and
writes all the Parquet at the end (`export`). The whole-build ratio is the fair one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

COMMON_STAGES = ("read", "classify", "cube", "network", "diagnose")


def synth_input(home: Path, firms: int, seed: int) -> Path:
    """The seeded input (enterprises.parquet, supply_links.parquet), generated once."""
    from chainatlas.atlas import load_atlas
    from chainatlas.synth import generate

    target = home / f"input-{firms}-{seed}"
    if (target / "done").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    generate(firms, seed, target, atlas=load_atlas([]))
    (target / "labels.parquet").unlink()
    (target / "done").write_text("")
    print(f"synth {firms:,} firms: {time.perf_counter() - start:.1f} s", flush=True)
    return target


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _peak_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_engine(
    engine: str,
    input_dir: Path,
    output_dir: Path,
    master: str | None,
    memory_limit: str | None = None,
) -> dict[str, Any]:
    command = [sys.executable, "-m", "chainatlas", "build", "--engine", engine]
    command += ["--input", str(input_dir), "--output", str(output_dir)]
    if master:
        command += ["--master", master]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}

    def sample() -> None:
        while process.poll() is None:
            for pid in _descendants(process.pid):
                kb = _peak_kb(pid)
                if kb:
                    peaks[pid] = max(peaks.get(pid, 0), kb)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{engine} build failed:\n{stderr}")
    result: dict[str, Any] = json.loads(stdout)
    result["wall_seconds"] = wall
    result["peak_rss_mb"] = round(sum(peaks.values()) / 1024)
    result["processes"] = len(peaks)
    return result


def report(results: dict[str, dict[str, Any]], firms: int) -> None:
    for engine, result in results.items():
        print(f"\n{engine}: {firms:,} firms, build {result['seconds']:.1f} s "
              f"(process {result['wall_seconds']:.1f} s, peak RSS ≤ {result['peak_rss_mb']} MB "
              f"over {result['processes']} processes)")  # fmt: skip
        print(f"  {'stage':<10}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
        for s in result["stages"]:
            rate = f"{s['rows_per_second']:,}" if s["rows_per_second"] and s["rows"] else "-"
            print(f"  {s['stage']:<10}{s['rows']:>12,}{s['seconds']:>10.2f}{rate:>12}")
    if {"duckdb", "spark"} <= set(results):
        duck = {s["stage"]: s for s in results["duckdb"]["stages"]}
        spark = {s["stage"]: s for s in results["spark"]["stages"]}
        print("\nspark / duckdb (seconds; > 1: Spark local is slower)")
        for stage in COMMON_STAGES:
            if duck[stage]["seconds"] > 0:
                ratio = spark[stage]["seconds"] / duck[stage]["seconds"]
                print(f"  {stage:<10}{ratio:>8.2f}")
        total = results["spark"]["seconds"] / results["duckdb"]["seconds"]
        print(f"  {'build':<10}{total:>8.2f}  (whole build, Spark start-up included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/out/build"))
    parser.add_argument("--master", default=None, help="Spark master (default local[2])")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--memory-limit", default=None, help="DuckDB's, e.g. 3GB")
    parser.add_argument("--input", type=Path, default=None, help="an existing input directory")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    input_dir = args.input or synth_input(args.home, args.firms, args.seed)
    results = {}
    for engine in args.engines.split(","):
        output_dir = args.home / f"output-{args.firms}-{engine}"
        results[engine] = run_engine(
            engine,
            input_dir,
            output_dir,
            args.master if engine == "spark" else None,
            args.memory_limit if engine == "duckdb" else None,
        )
        print(f"{engine}: {results[engine]['seconds']:.1f} s", flush=True)
    report(results, args.firms)
    if args.json:
        args.json.write_text(json.dumps({"firms": args.firms, **results}, indent=2))


if __name__ == "__main__":
    main()
