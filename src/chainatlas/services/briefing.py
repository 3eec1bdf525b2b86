"""`chainatlas briefing`: the pack (N图N清单) of one region × chain, written to a folder.

Runs the diagnosis against the configured warehouse (read-only), reads the chain's firms per
county of the region's province, assembles the pack (pure, `briefing.pack`) and writes:
each map as SVG and PNG, one XLSX workbook with a sheet per list, one PDF report. SVG and
XLSX are written first: when Chromium is missing, the UserError that follows says so and
those files are already there.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rich.table import Table

from chainatlas.atlas.model import Chain
from chainatlas.briefing.pack import (
    DEFAULT_LISTS,
    DEFAULT_MAPS,
    TARGET_INPUT_COLUMNS,
    Pack,
    assemble_pack,
)
from chainatlas.briefing.pack import check_selection as _check_selection
from chainatlas.diagnose import Diagnosis, UnknownRegionError, diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions
from chainatlas.services.diagnosis import open_warehouse
from chainatlas.settings import Settings
from chainatlas.targets.model import TargetList
from chainatlas.targets.pipeline import find_targets


@dataclass
class BriefingResult:
    out_dir: Path
    diagnosis: Diagnosis
    workbook: Path
    svgs: list[Path] = field(default_factory=list)
    pngs: list[Path] = field(default_factory=list)
    report: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """Every file written: the report, the workbook, then each map's SVG and PNG."""
        out = [self.report] if self.report else []
        return [*out, self.workbook, *self.svgs, *self.pngs]

    def render(self) -> Table:
        table = Table(title="简报已生成 / briefing pack written", show_header=False)
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("目录 folder", str(self.out_dir))
        for path in self.files:
            table.add_row(path.suffix.lstrip(".").upper(), path.name)
        table.add_row("用时 seconds", "，".join(f"{k} {v:.2f}" for k, v in self.timings.items()))
        return table


def county_firms(wh: Warehouse, chain_id: str, province_code: str) -> pl.DataFrame:
    """Distinct active firms on the chain per county of a province: region_code, firm_count."""
    firms = wh.table("chain_firms")
    firms = firms.filter((firms.chain_id == chain_id) & (firms.province_code == province_code))
    expr = firms.group_by("region_code").aggregate(firm_count=firms.uscc.nunique())
    return wh.to_polars(expr).sort("region_code")


def _diagnose(
    settings: Settings, chain: Chain, region_code: str, with_counties: bool, with_targets: bool
) -> tuple[Diagnosis, pl.DataFrame, pl.DataFrame | None]:
    with open_warehouse(settings) as wh:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        try:
            diagnosis = diagnose(wh, chain, region_code, settings.status, settings.lead_firm)
        except UnknownRegionError as exc:
            raise UserError(
                f"未知的行政区划代码 {region_code}", f"unknown region code {region_code}"
            ) from exc
        counties = (
            county_firms(wh, chain.id, region_code[:2] + "0000")
            if with_counties
            else pl.DataFrame(schema={"region_code": pl.String, "firm_count": pl.Int64})
        )
        targets = (
            target_frame(find_targets(wh, chain, diagnosis, weights=settings.targets))
            if with_targets
            else None
        )
    return diagnosis, counties, targets


def _inside(region: str, code: str) -> bool:
    """Is region code `region` (6 digits) `code` or under it (province 45xxxx, city 4504xx)?"""
    if code.endswith("0000"):
        return region[:2] == code[:2]
    if code.endswith("00"):
        return region[:4] == code[:4]
    return region == code


def chain_projects(settings: Settings, chain_id: str, region_code: str) -> pl.DataFrame | None:
    """The chain's projects in the app database's pipeline (链长制 招商项目库) landing in the
    region (a project with no region lands in the deployment's own, `demo_region`), in `briefing.pack.PROJECT_INPUT_COLUMNS`; None when
    the app database does not exist yet or has no pipeline (the list is then a template).
    Read without creating anything: a briefing from the CLI never writes the app database."""
    url = settings.app_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    # imported here: the pack's CLI path needs no SQLAlchemy models unless a database exists
    from sqlalchemy import inspect, select

    from chainatlas.db.session import Database
    from chainatlas.workflow.models import Project

    home = settings.demo_region
    database = Database(url)
    try:
        if not inspect(database.engine).has_table("projects"):
            return None
        with database.session() as session:
            found = session.scalars(select(Project).where(Project.chain_id == chain_id)).all()
            rows = [
                {
                    "name": p.name,
                    "node_id": p.node_id,
                    "investor_name": p.investor_name,
                    # a credit code carries its registration region in characters 3–8
                    "investor_region": p.investor_uscc[2:8] if p.investor_uscc else None,
                    "amount_wan": p.amount_wan,
                    "stage": p.stage,
                    "unit": p.unit.name if p.unit else "",
                    "contact": p.unit.contact_person if p.unit else "",
                    "phone": p.unit.contact_phone if p.unit else "",
                    "progress": p.note,
                    "updated": p.updated_at.date(),
                }
                for p in found
                if _inside(p.region_code or home, region_code)
            ]
    finally:
        database.dispose()
    schema = {
        "name": pl.String,
        "node_id": pl.String,
        "investor_name": pl.String,
        "investor_region": pl.String,
        "amount_wan": pl.Float64,
        "stage": pl.String,
        "unit": pl.String,
        "contact": pl.String,
        "phone": pl.String,
        "progress": pl.String,
        "updated": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def target_frame(result: TargetList) -> pl.DataFrame:
    """The targets service's list in the columns the pack reads (TARGET_INPUT_COLUMNS)."""
    regions = load_regions().select("region_code", "province_code", "city_code")
    rows = [
        {
            "uscc": t.uscc,
            "name": t.name,
            "node_id": node.id,
            "region_code": t.region_code,
            "score": t.score,
            "reason_zh": t.reason_zh,
            "reason_en": t.reason_en,
            "registered_capital": t.registered_capital,
        }
        for node in result.nodes
        for t in node.targets
    ]
    schema = {
        "uscc": pl.String,
        "name": pl.String,
        "node_id": pl.String,
        "region_code": pl.String,
        "score": pl.Float64,
        "reason_zh": pl.String,
        "reason_en": pl.String,
        "registered_capital": pl.Float64,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.join(regions, on="region_code", how="left").select(TARGET_INPUT_COLUMNS)


def write_pack(
    pack: Pack,
    out_dir: Path,
    *,
    chromium: Path | str | None = None,
    timings: dict[str, float] | None = None,
) -> BriefingResult:
    """Write an assembled pack to `out_dir`: SVGs and the workbook, then PNGs and the PDF."""
    from chainatlas.briefing.pack_xlsx import pack_xlsx
    from chainatlas.briefing.pdf import (
        Renderer,
        find_chromium,
        footer_template,
        map_stem,
        pack_html,
        report_name,
        workbook_name,
    )

    timings = {} if timings is None else timings
    out_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    stems = [map_stem(pack, i) for i in range(len(pack.maps))]
    svgs = []
    for item, stem in zip(pack.maps, stems, strict=True):
        path = out_dir / f"{stem}.svg"
        path.write_text(item.svg, "utf-8")
        svgs.append(path)
    pngs = [out_dir / f"{stem}.png" for stem in stems]
    workbook = pack_xlsx(
        pack,
        out_dir / workbook_name(pack),
        map_files=[f"{stem}.svg / .png" for stem in stems],
    )
    result = BriefingResult(out_dir, pack.diagnosis, workbook, svgs, timings=timings)
    timings["svg+xlsx"] = time.perf_counter() - t
    executable = find_chromium(chromium)  # a UserError here leaves the SVG and XLSX written
    t = time.perf_counter()
    report = out_dir / report_name(pack)
    files = [report.name, workbook.name, *[p.name for p in svgs], *[p.name for p in pngs]]
    with Renderer(executable) as renderer:
        renderer.png([(item.svg, path) for item, path in zip(pack.maps, pngs, strict=True)])
        renderer.pdf(pack_html(pack, files=files), report, footer=footer_template(pack))
    result.pngs = pngs
    result.report = report
    timings["png+pdf"] = time.perf_counter() - t
    return result


def build_briefing(
    settings: Settings,
    atlas: Mapping[str, Chain],
    region_code: str,
    chain_id: str,
    out_dir: Path,
    *,
    maps: Sequence[str] = DEFAULT_MAPS,
    lists: Sequence[str] = DEFAULT_LISTS,
    targets: pl.DataFrame | None = None,
    lang: str = "zh",
    chromium: Path | str | None = None,
    generated_at: dt.datetime | None = None,
) -> BriefingResult:
    """The briefing pack of `region_code` × `chain_id` in `out_dir` (created if needed).

    `maps` / `lists`: ids from `briefing.pack.MAP_IDS` / `LIST_IDS`, in the order wanted;
    `targets`: the target list (columns `briefing.pack.TARGET_INPUT_COLUMNS`) or None;
    `chromium`: the browser executable (default: Debian's /usr/bin/chromium)."""
    if chain_id not in atlas:
        raise UserError(f"没有产业链 {chain_id}", f"no chain {chain_id}")
    if lang not in ("zh", "en"):
        raise UserError(
            f"不支持的语言 {lang}（zh 或 en）", f"unsupported language {lang} (zh or en)"
        )
    _check_selection(maps, lists)
    chain = atlas[chain_id]
    timings: dict[str, float] = {}
    t = time.perf_counter()
    wants_targets = targets is None and ("targets" in lists or "investment_route" in maps)
    diagnosis, counties, found = _diagnose(
        settings, chain, region_code, "distribution" in maps, wants_targets
    )
    targets = found if wants_targets else targets
    timings["diagnose"] = time.perf_counter() - t
    t = time.perf_counter()
    projects = chain_projects(settings, chain_id, region_code) if "projects" in lists else None
    pack = assemble_pack(
        chain,
        diagnosis,
        counties,
        targets,
        maps=maps,
        lists=lists,
        lang=lang,
        generated_at=generated_at,
        projects=projects,
    )
    timings["assemble"] = time.perf_counter() - t
    return write_pack(pack, out_dir, chromium=chromium, timings=timings)
