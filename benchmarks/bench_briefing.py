"""Briefing pack (N图N清单) end to end on a large warehouse, with baselines from the same run.

    python benchmarks/bench_briefing.py [--home benchmarks/out/wh10000000] [--repeat 3]

The warehouse is opened read-only (build it first with bench_diagnose.py). For each city ×
chain, `build_briefing` writes the default pack — five maps as SVG and PNG, the workbook,
the PDF report — plus the optional lists, with a stand-in target list of 200 firms from
outside the region on the gap nodes (the targets service lands separately). Figure: the
median wall time of one pack. Baselines measured in the same run:

1. the single-page diagnosis briefing (`diagnose` + HTML + XLSX, what `chainatlas diagnose`
   writes), so the ratio says what the pack costs on top of it;
2. the same pack rendered with a fresh Chromium per file (the naive way), against the one
   browser per pack that `briefing.pdf.Renderer` keeps.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from chainatlas.atlas import load_atlas
from chainatlas.briefing.pdf import Renderer, footer_template, map_stem, pack_html
from chainatlas.services.briefing import build_briefing
from chainatlas.services.diagnosis import open_warehouse, run_diagnosis, write_diagnosis
from chainatlas.settings import Settings

CASES = [("450400", "sugarcane"), ("440100", "new_energy_vehicle"), ("320500", "photovoltaic")]
LISTS = ("targets", "projects", "problems", "policies")


def stand_in_targets(settings: Settings, chain_id: str, region: str, n: int = 200) -> pl.DataFrame:
    """Firms outside the region's province on the chain's weakest nodes, random scores."""
    atlas = load_atlas()
    diagnosis = run_diagnosis(settings, atlas[chain_id], region)
    gaps = [x.id for x in diagnosis.nodes if x.is_break or x.status in ("missing", "weak")]
    gaps = gaps or [x.id for x in diagnosis.nodes]
    with open_warehouse(settings) as wh:
        frame = wh.sql(
            "SELECT uscc, name, node_id, region_code, province_code, city_code, "
            "registered_capital FROM chain_firms WHERE chain_id = ? AND province_code <> ? "
            "AND list_contains(?, node_id) ORDER BY national_rank, uscc LIMIT ?",
            [chain_id, region[:2] + "0000", gaps, n],
        )
    rnd = random.Random(7)
    return frame.with_columns(
        pl.Series("score", [round(rnd.random(), 4) for _ in range(frame.height)]),
        pl.lit("（基准测试用的替身理由）").alias("reason_zh"),
        pl.lit("(stand-in reason for the benchmark)").alias("reason_en"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/out/wh10000000"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = Settings(home=args.home)
    if not settings.warehouse_path.exists():
        raise SystemExit(f"no warehouse at {settings.warehouse_path}: run bench_diagnose.py")
    atlas = load_atlas()
    out = Path(tempfile.mkdtemp(prefix="bench-briefing-", dir="benchmarks/out"))
    packs: list[float] = []
    singles: list[float] = []
    print(f"warehouse {settings.warehouse_path} (read-only), output {out}")
    for region, chain_id in CASES:
        targets = stand_in_targets(settings, chain_id, region)
        for i in range(args.repeat):
            t = time.perf_counter()
            result = build_briefing(
                settings,
                atlas,
                region,
                chain_id,
                out / f"{region}-{chain_id}",
                lists=LISTS,
                targets=targets,
            )
            packs.append(time.perf_counter() - t)
            steps = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
            print(f"pack {region} {chain_id} #{i + 1}: {packs[-1]:.2f} s ({steps})")
            t = time.perf_counter()
            diagnosis = run_diagnosis(settings, atlas[chain_id], region)
            stem = out / f"single-{region}-{chain_id}"
            write_diagnosis(diagnosis, atlas[chain_id], "html", stem.with_suffix(".html"))
            write_diagnosis(diagnosis, atlas[chain_id], "xlsx", stem.with_suffix(".xlsx"))
            singles.append(time.perf_counter() - t)

    # naive rendering: one Chromium per PNG and for the PDF, on the last pack
    from chainatlas.briefing.pack import assemble_pack
    from chainatlas.services.briefing import county_firms

    region, chain_id = CASES[0]
    diagnosis = run_diagnosis(settings, atlas[chain_id], region)
    with open_warehouse(settings) as wh:
        counties = county_firms(wh, chain_id, region[:2] + "0000")
    pack = assemble_pack(
        atlas[chain_id],
        diagnosis,
        counties,
        stand_in_targets(settings, chain_id, region),
        lists=LISTS,
    )
    naive_dir = out / "naive"
    naive_dir.mkdir()
    t = time.perf_counter()
    for i, item in enumerate(pack.maps):
        with Renderer() as r:
            r.png([(item.svg, naive_dir / f"{map_stem(pack, i)}.png")])
    with Renderer() as r:
        r.pdf(pack_html(pack), naive_dir / "report.pdf", footer=footer_template(pack))
    naive = time.perf_counter() - t
    t = time.perf_counter()
    with Renderer() as r:
        r.png(
            [(m.svg, naive_dir / f"{map_stem(pack, i)}-once.png") for i, m in enumerate(pack.maps)]
        )
        r.pdf(pack_html(pack), naive_dir / "report-once.pdf", footer=footer_template(pack))
    once = time.perf_counter() - t

    pack_median = statistics.median(packs)
    single_median = statistics.median(singles)
    print()
    print(
        f"briefing pack, one city × one chain: median {pack_median:.2f} s, max {max(packs):.2f} s "
        f"over {len(packs)} runs (goal < 20 s)"
    )
    print(
        f"baseline 1, diagnosis HTML + XLSX: median {single_median:.2f} s "
        f"→ pack / baseline = {pack_median / single_median:.1f}×"
    )
    print(
        f"baseline 2, rendering with a Chromium per file: {naive:.2f} s; one browser per pack: "
        f"{once:.2f} s → {naive / once:.1f}× faster"
    )


if __name__ == "__main__":
    main()
