"""`chainatlas build` in this process, logging each stage as it starts: wall time, the
process's peak RSS so far and free disk beside the output.

    python benchmarks/build_stages.py --input DIR --output DIR [--memory-limit 6GB]
        [--stop-at "targets province"]

For long national runs where the build's closing JSON comes hours later (or never: a stage
out of memory): the log says how far it got and what each stage took. `--stop-at` ends the
build when a stage starts (a prefix of its id, e.g. `targets`): the build then stops as an
interrupted one does — its output is not written, its working directory is kept and the
same `chainatlas build` command resumes from it.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any


class StopAt(Exception):
    pass


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--memory-limit")
    parser.add_argument("--stop-at", help="stop when a stage whose id starts so begins")
    args = parser.parse_args()

    from chainatlas.atlas import load_atlas
    from chainatlas.services.build import run_build

    start = time.perf_counter()
    last: dict[str, Any] = {"stage": "", "at": start}

    def log(stage: str) -> None:
        now = time.perf_counter()
        free = shutil.disk_usage(args.output.parent).free / 1e9
        took = f"{last['stage']} took {now - last['at']:.1f} s; " if last["stage"] else ""
        print(
            f"[{now - start:8.1f} s] {took}start {stage}: peak RSS {peak_rss_mb():,.0f} MB, "
            f"{free:.1f} GB free",
            flush=True,
        )
        last.update(stage=stage, at=now)

    def progress(_fraction: float, stage: str) -> None:
        if stage != last["stage"]:
            log(stage)
            if args.stop_at and stage.startswith(args.stop_at):
                raise StopAt(stage)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = run_build(
            "duckdb",
            args.input,
            args.output,
            atlas=load_atlas([]),
            memory_limit=args.memory_limit,
            progress=progress,
        )
    except StopAt as stop:
        print(f"stopped at {stop} after {time.perf_counter() - start:.1f} s", flush=True)
        return
    log("end")
    for stage in result.stages:
        print(f"  {stage.stage:<10}{stage.rows:>14,}{stage.seconds:>10.1f} s")
    print(f"resumed: {result.resumed}; total {result.seconds:.1f} s; peak {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
