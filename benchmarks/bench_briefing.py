"""Briefing pack (N图N清单) end to end on a large warehouse, with baselines from the same run.

    python benchmarks/bench_briefing.py [--home benchmarks/out/net10m] [--repeat 3]

The warehouse is opened read-only (build it first with bench_diagnose.py or bench_network.py).
For each city × chain, `build_briefing` writes the default pack — five maps as SVG and PNG,
the workbook, the PDF report — plus the optional lists, exactly as `chainatlas briefing`
does: the diagnosis, the target lists of every gap node (`find_targets`, the configured
weights) and the county counts are computed inside (its `diagnose` step). Figure: the median
wall time of one pack. Baselines measured in the same run:

1. the single-page diagnosis briefing (`diagnose` + HTML + XLSX, what `chainatlas diagnose`
   writes), so the ratio says what the pack costs on top of it;
2. the same pack rendered with a fresh Chromium per file (the naive way), against the one
   browser per pack that `briefing.pdf.Renderer` keeps.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from chainatlas.atlas import load_atlas
from chainatlas.briefing.pdf import Renderer, footer_template, map_stem, pack_html
from chainatlas.services.briefing import build_briefing
from chainatlas.services.diagnosis import run_diagnosis, write_diagnosis
from chainatlas.settings import Settings

CASES = [("450400", "sugarcane"), ("440100", "new_energy_vehicle"), ("320500", "photovoltaic")]
LISTS = ("targets", "projects", "problems", "policies")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/out/net10m"))
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
        for i in range(args.repeat):
            t = time.perf_counter()
            result = build_briefing(
                settings,
                atlas,
                region,
                chain_id,
                out / f"{region}-{chain_id}",
                lists=LISTS,
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

    # naive rendering: one Chromium per PNG and for the PDF, on the first case's pack
    from chainatlas.briefing.pack import assemble_pack
    from chainatlas.services.briefing import _diagnose

    region, chain_id = CASES[0]
    diagnosis, counties, targets = _diagnose(settings, atlas[chain_id], region, True, True)
    pack = assemble_pack(atlas[chain_id], diagnosis, counties, targets, lists=LISTS)
    print(f"{pack.target_count} targets in the {region} × {chain_id} pack")
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
