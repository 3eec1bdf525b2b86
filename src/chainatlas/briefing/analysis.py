"""Terminal tables and workbooks for trends, peer regions and region comparisons."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.console import Group
from rich.text import Text

from chainatlas.briefing.frames import Column, Sheet, frame_table, frames_xlsx
from chainatlas.briefing.html import status_name
from chainatlas.metrics.trends import QUADRANT_EN, QUADRANT_ZH
from chainatlas.services.peers import PeerRegions, RegionComparison
from chainatlas.services.trends import RegionTrends

TREND_COLUMNS = [
    Column("node", "环节", "node"),
    Column("firms_then", "期初企业", "firms then", "int"),
    Column("firms_now", "现有企业", "firms now", "int"),
    Column("births", "新设", "births", "int"),
    Column("deaths", "注销", "deaths", "int"),
    Column("net", "净增", "net", "int"),
    Column("lq_then", "期初 LQ", "LQ then", "float"),
    Column("lq_now", "现 LQ", "LQ now", "float"),
    Column("lq_delta", "LQ 变化", "LQ change", "float"),
    Column("quadrant_label", "象限", "quadrant"),
]
SERIES_COLUMNS = [
    Column("node_id", "环节", "node"),
    Column("year", "年份", "year", "int"),
    Column("births", "新设", "births", "int"),
    Column("deaths", "注销", "deaths", "int"),
    Column("net", "净增", "net", "int"),
]
PEER_COLUMNS = [
    Column("rank", "序号", "rank", "int"),
    Column("region_code", "代码", "code"),
    Column("full_name", "地区", "region"),
    Column("similarity", "相似度", "similarity", "float"),
    Column("shared_strong", "共同优势环节", "shared strong nodes", "int"),
    Column("strong", "优势环节", "strong nodes", "int"),
    Column("firm_count", "链上企业", "chain firms", "int"),
]
COMPARE_COLUMNS = [
    Column("region_code", "代码", "code"),
    Column("name", "地区", "region"),
    Column("firm_count", "链上企业", "chain firms", "int"),
    Column("completeness", "完整度", "completeness", "pct"),
    Column("missing", "缺失", "missing", "int"),
    Column("weak", "薄弱", "weak", "int"),
    Column("present", "具备", "present", "int"),
    Column("strong", "优势", "strong", "int"),
    Column("break", "断点", "break", "int"),
    Column("lead_name", "首位链主候选", "top lead firm"),
]


def _trend_frame(result: RegionTrends, lang: str) -> pl.DataFrame:
    zh = lang == "zh"
    frame = result.nodes_frame()
    return frame.with_columns(
        (pl.col("name_zh") if zh else pl.col("name_en")).alias("node"),
        (
            pl.col("quadrant_zh")
            if zh
            else pl.col("quadrant").replace_strict(QUADRANT_EN, default=pl.col("quadrant"))
        ).alias("quadrant_label"),
    )


def trends_view(result: RegionTrends, lang: str = "zh") -> Group:
    zh = lang == "zh"
    r = result.region
    title = (
        f"{r.full_name} · {result.chain.name_zh}：{result.year_then}–{result.year_now} 年变化"
        if zh
        else f"{r.full_name} · {result.chain.name_en}: {result.year_then}–{result.year_now}"
    )
    label = QUADRANT_ZH if zh else QUADRANT_EN
    counts = ("，" if zh else ", ").join(
        f"{label.get(k, k)} {v}" for k, v in result.quadrant_counts.items()
    )
    return Group(
        frame_table(_trend_frame(result, lang), TREND_COLUMNS, title=title, lang=lang),
        Text(("象限：" if zh else "quadrants: ") + counts),
    )


def trends_xlsx(result: RegionTrends, path: Path, lang: str = "zh") -> None:
    frames_xlsx(
        [
            Sheet("环节变化", "Nodes", _trend_frame(result, lang), TREND_COLUMNS),
            Sheet("逐年新设注销", "By year", result.series_frame(), SERIES_COLUMNS),
        ],
        path,
        lang=lang,
    )


def peers_view(result: PeerRegions, lang: str = "zh") -> Group:
    zh = lang == "zh"
    title = (
        f"与{result.region.full_name}产业结构最相近的同级地区"
        if zh
        else f"Regions most similar to {result.region.full_name}"
    )
    return Group(frame_table(result.frame(), PEER_COLUMNS, title=title, lang=lang))


def peers_xlsx(result: PeerRegions, path: Path, lang: str = "zh") -> None:
    frames_xlsx([Sheet("相似地区", "Peers", result.frame(), PEER_COLUMNS)], path, lang=lang)


def _status_wide(result: RegionComparison, lang: str) -> tuple[pl.DataFrame, list[Column]]:
    wide = result.wide_frame("status")
    names = {r.region.code: r.region.name for r in result.regions}
    codes = [r.region.code for r in result.regions]
    wide = wide.with_columns(
        pl.col(c).map_elements(lambda s: status_name(s, lang), return_dtype=pl.String)
        for c in codes
    )
    columns = [Column("name_zh", "环节", "node")] + [Column(c, names[c], names[c]) for c in codes]
    return wide, columns


def _lq_wide(result: RegionComparison) -> tuple[pl.DataFrame, list[Column]]:
    wide = result.wide_frame("lq")
    names = {r.region.code: r.region.name for r in result.regions}
    codes = [r.region.code for r in result.regions]
    return wide, [Column("name_zh", "环节", "node")] + [
        Column(c, names[c], names[c], "float") for c in codes
    ]


def compare_view(result: RegionComparison, lang: str = "zh") -> Group:
    zh = lang == "zh"
    status, status_columns = _status_wide(result, lang)
    chain = result.chain.name_zh if zh else result.chain.name_en
    return Group(
        frame_table(
            result.regions_frame(),
            COMPARE_COLUMNS,
            title=f"{chain} · 地区对比" if zh else f"{chain} · regions compared",
            lang=lang,
        ),
        frame_table(status, status_columns, title="各环节状态" if zh else "node status", lang=lang),
    )


def compare_xlsx(result: RegionComparison, path: Path, lang: str = "zh") -> None:
    status, status_columns = _status_wide(result, lang)
    lq, lq_columns = _lq_wide(result)
    frames_xlsx(
        [
            Sheet("地区概况", "Regions", result.regions_frame(), COMPARE_COLUMNS),
            Sheet("环节状态", "Node status", status, status_columns),
            Sheet("区位熵", "LQ", lq, lq_columns),
        ],
        path,
        lang=lang,
    )
