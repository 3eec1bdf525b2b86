"""Opportunities of a region against the configured warehouse, and their renderings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl
from rich.console import Group
from rich.text import Text

from chainatlas.atlas.model import Chain
from chainatlas.briefing.frames import Column, Sheet, frame_table, frames_xlsx
from chainatlas.diagnose.opportunities import Opportunities, find_opportunities
from chainatlas.diagnose.pipeline import UnknownRegionError
from chainatlas.errors import UserError
from chainatlas.services.diagnosis import open_warehouse
from chainatlas.settings import Settings

KIND_NAMES = {
    "build": ("新建", "build"),
    "extend": ("延链", "extend"),
    "fill": ("补链", "fill"),
}


def run_opportunities(
    settings: Settings,
    atlas: Mapping[str, Chain],
    region_code: str,
    *,
    chain_id: str | None = None,
    top: int | None = 20,
) -> Opportunities:
    if chain_id is not None and chain_id not in atlas:
        raise UserError(f"没有产业链 {chain_id}", f"no chain {chain_id}")
    with open_warehouse(settings) as wh:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        try:
            return find_opportunities(
                wh,
                atlas,
                region_code,
                weights=settings.opportunity,
                thresholds=settings.status,
                chain_id=chain_id,
                top=top,
            )
        except UnknownRegionError as exc:
            raise UserError(
                f"未知的行政区划代码 {region_code}", f"unknown region code {region_code}"
            ) from exc


COLUMNS = [
    Column("rank", "序号", "rank", "int"),
    Column("kind_label", "类型", "kind"),
    Column("chain", "产业链", "chain"),
    Column("node", "环节", "node"),
    Column("score", "得分", "score", "float"),
    Column("density", "相关密度", "density", "float"),
    Column("pci", "PCI", "PCI", "float"),
    Column("cog", "COG", "COG", "float"),
    Column("growth", "全国增长", "national growth", "pct"),
    Column("firm_count", "本地企业", "local firms", "int"),
    Column("reason", "理由", "reasons"),
]


def opportunities_frame(result: Opportunities, lang: str = "zh") -> pl.DataFrame:
    zh = lang == "zh"
    return pl.DataFrame(
        [
            {
                "rank": o.rank,
                "kind_label": KIND_NAMES[o.kind][0 if zh else 1],
                "chain": o.chain_name_zh if zh else o.chain_name_en,
                "node": (o.node_name_zh or "（整条链）")
                if zh
                else (o.node_name_en or "(whole chain)"),
                "score": o.score,
                "density": o.density,
                "pci": o.pci,
                "cog": o.cog,
                "growth": o.growth,
                "firm_count": o.firm_count,
                "reason": o.reason_zh if zh else o.reason_en,
            }
            for o in result.items
        ],
        schema={
            "rank": pl.Int64,
            "kind_label": pl.String,
            "chain": pl.String,
            "node": pl.String,
            "score": pl.Float64,
            "density": pl.Float64,
            "pci": pl.Float64,
            "cog": pl.Float64,
            "growth": pl.Float64,
            "firm_count": pl.Int64,
            "reason": pl.String,
        },
    )


def _title(result: Opportunities, lang: str) -> str:
    r = result.region
    if lang == "zh":
        return (
            f"{r.full_name} 发展机会（与全国 {result.regions_compared} 个同级地区比较，"
            f"{result.nodes_compared} 个环节）"
        )
    return (
        f"Opportunities of {r.full_name} (against {result.regions_compared} regions of its "
        f"level, {result.nodes_compared} nodes)"
    )


def opportunities_table(result: Opportunities, lang: str = "zh") -> Group:
    """The figures as a table, then one line of reasons per row: a terminal is too narrow
    for both side by side."""
    frame = opportunities_frame(result, lang)
    table = frame_table(frame, COLUMNS[:-1], title=_title(result, lang), lang=lang)
    if frame.is_empty():  # docs/opportunities.md, defined edge cases
        if result.diversity == 0:
            why = (
                "本地区在任何产业链上都没有企业，无从计算相关性，因此没有可排序的机会。",
                "The region has no firm on any chain: nothing relates to it, so there is "
                "nothing to rank.",
            )
        else:
            why = (
                "本地区已具备所列的全部环节，没有待补、待延或待建的机会。",
                "The region already holds every node listed: nothing to fill, extend or build.",
            )
        return Group(table, Text(why[0] if lang == "zh" else why[1], style="bold"))
    lines = [
        Text(f"{rank:>3}. {reason}", overflow="fold")
        for rank, reason in frame.select("rank", "reason").iter_rows()
    ]
    return Group(
        table, Text("理由 / reasons:" if lang == "zh" else "Reasons:", style="bold"), *lines
    )


def opportunities_xlsx(result: Opportunities, path: Path, lang: str = "zh") -> None:
    frames_xlsx(
        [Sheet("发展机会", "Opportunities", opportunities_frame(result, lang), COLUMNS)],
        path,
        lang=lang,
    )
