"""The target lists of every region under one — a province's cities or counties, a city's
counties — read from the results a build wrote (`chainatlas build`) and `chainatlas ingest
build` imported: what a provincial planner reads for all its regions at once, instead of
asking `chainatlas targets` region by region.

The lists are the build's: the default weights of its settings, no exclusion list, its
`--targets-top` and `--as-of` (`results_info`). A load that changes the data drops them
(`services.build.drop_results`), so they always describe the warehouse's data."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions, region_full_name
from chainatlas.services.build import RESULTS_INFO, TARGET_TABLES
from chainatlas.targets.weights import COMPONENTS

LEVELS_BELOW = {"province": ("city", "county"), "city": ("county",), "county": ()}


@dataclass(frozen=True)
class ResultsInfo:
    as_of: dt.date
    targets_top: int
    target_weights: dict[str, Any]


def results_info(wh: Warehouse) -> ResultsInfo | None:
    """The options of the imported build results, or None when none are imported."""
    if not all(wh.has_table(t) for t in (RESULTS_INFO, *TARGET_TABLES)):
        return None
    row = wh.sql(f"SELECT as_of, targets_top, target_weights FROM {RESULTS_INFO}").row(0)
    return ResultsInfo(row[0], int(row[1]), json.loads(row[2]))


def scope_levels(within_level: str) -> tuple[str, ...]:
    """The levels whose regions lie under a region of `within_level`."""
    return LEVELS_BELOW[within_level]


def scope(within: str, level: str) -> pl.DataFrame:
    """region_code, name of the regions of `level` under `within` (a province's cities, …)."""
    regions = load_regions()
    row = regions.filter(pl.col("region_code") == within)
    if not row.height:
        raise UserError(f"「地区」无效：{within}", f"'region': {within} is not a region code")
    within_level = row["level"][0]
    if level not in LEVELS_BELOW[within_level]:
        raise UserError(
            f"「层级」无效：{within_level} 之下没有 {level} 层级",
            f"'level': there is no {level} level under a {within_level}",
        )
    column = f"{within_level}_code"
    return (
        regions.filter((pl.col(column) == within) & (pl.col("level") == level))
        .select("region_code", "name")
        .sort("region_code")
    )


def region_lists(
    wh: Warehouse, chain: Chain, within: str, level: str, node_id: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(regions, targets) of `chain` for the regions of `level` under `within`.

    regions: one row per region of the scope with firms on the chain — region_code,
    region_name, firm_count, completeness, missing, weak, break, gaps (gap nodes with a
    list), targets (rows listed), best_name / best_score / best_node (the highest-scoring
    target of the region), node_status (with `node_id`: the node's status there, else null)
    — sorted by completeness, weakest first.
    targets: every listed target, with the gap node's status and break flag, sorted by
    region, node order and rank. With `node_id`, that node's lists only."""
    regions = scope(within, level)
    wh._register(regions.select("region_code"), "_scope")
    try:
        node_filter = "AND t.node_id = ?" if node_id else ""
        params: list[Any] = [level, chain.id] + ([node_id] if node_id else [])
        targets = wh.sql(
            f"""
            SELECT t.*, d.status, d."break" AS is_break
            FROM targets t
            JOIN _scope s USING (region_code)
            JOIN diagnosis_nodes d
              ON d.level = t.level AND d.region_code = t.region_code
             AND d.chain_id = t.chain_id AND d.node_id = t.node_id
            WHERE t.level = ? AND t.chain_id = ? {node_filter}
            """,
            params,
        )
        chains = wh.sql(
            """
            SELECT c.region_code, c.firm_count, c.completeness, c.missing, c.weak,
                   c."break"
            FROM diagnosis_chains c JOIN _scope s USING (region_code)
            WHERE c.level = ? AND c.chain_id = ? AND c.firm_count > 0
            """,
            [level, chain.id],
        )
        # the node's own status in every region: a region without a list on it holds it
        status = wh.sql(
            """
            SELECT d.region_code, d.status AS node_status
            FROM diagnosis_nodes d JOIN _scope s USING (region_code)
            WHERE d.level = ? AND d.chain_id = ? AND d.node_id = ?
            """,
            [level, chain.id, node_id or ""],
        )
    finally:
        wh.raw.unregister("_scope")
    order = {node.id: i for i, node in enumerate(chain.nodes)}
    targets = (
        targets.with_columns(pl.col("node_id").replace_strict(order).alias("_order"))
        .sort("region_code", "_order", "rank")
        .drop("_order")
    )
    best = (
        targets.sort("score", descending=True)
        .unique("region_code", keep="first")
        .select(
            "region_code",
            pl.col("name").alias("best_name"),
            pl.col("score").alias("best_score"),
            pl.col("node_id").alias("best_node"),
        )
    )
    listed = targets.group_by("region_code").agg(
        pl.col("node_id").n_unique().alias("gaps"), pl.len().alias("targets")
    )
    summary = (
        chains.join(regions.rename({"name": "region_name"}), on="region_code")
        .join(listed, on="region_code", how="left")
        .join(best, on="region_code", how="left")
        .join(status, on="region_code", how="left")
        .with_columns(
            pl.col("gaps").fill_null(0).cast(pl.Int64),
            pl.col("targets").fill_null(0).cast(pl.Int64),
            *(pl.col(c).cast(pl.Int64) for c in ("missing", "weak", "break")),
        )
        .sort("completeness", "region_code")
        .select(
            "region_code",
            "region_name",
            "firm_count",
            "completeness",
            "missing",
            "weak",
            "break",
            "gaps",
            "targets",
            "best_name",
            "best_score",
            "best_node",
            "node_status",
        )
    )
    return summary, targets


def region_lists_xlsx(
    path: Path,
    chain: Chain,
    within: str,
    level: str,
    summary: pl.DataFrame,
    targets: pl.DataFrame,
    info: ResultsInfo,
    lang: str = "zh",
) -> Path:
    """A workbook: 地区 (the summary per region), 目标企业 (every listed target) and 参数
    (scope, the build's date, list length and weights) — frozen headers, filters, widths."""
    import xlsxwriter

    en = lang == "en"
    names = {n.id: (n.name_en if en and n.name_en else n.name_zh) for n in chain.nodes}
    status_words = {
        "missing": ("缺失", "missing"),
        "weak": ("薄弱", "weak"),
        "present": ("已有", "present"),
        "strong": ("优势", "strong"),
    }

    def word(zh: str, english: str) -> str:
        return english if en else zh

    book = xlsxwriter.Workbook(str(path))
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    pct = book.add_format({"num_format": "0.0%"})
    score = book.add_format({"num_format": "0.000"})
    money = book.add_format({"num_format": "#,##0"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})

    def sheet(title: str, columns: list[tuple[str, int, Any]], rows: list[list[Any]]) -> None:
        ws = book.add_worksheet(title)
        for c, (label, width, fmt) in enumerate(columns):
            ws.write(0, c, label, head)
            ws.set_column(c, c, width, fmt)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
                else:
                    ws.write(r, c, value)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)

    sheet(
        word("地区", "Regions"),
        [
            (word("地区代码", "Region code"), 11, None),
            (word("地区", "Region"), 28, None),
            (word("链上企业", "Firms on the chain"), 11, money),
            (word("完整度", "Completeness"), 10, pct),
            (word("缺失", "Missing"), 7, None),
            (word("薄弱", "Weak"), 7, None),
            (word("断链", "Break"), 7, None),
            (word("有清单的缺口环节", "Gap nodes listed"), 12, None),
            (word("目标企业数", "Targets"), 10, None),
            (word("得分最高的目标", "Best target"), 32, None),
            (word("其得分", "Its score"), 9, score),
            (word("其环节", "Its node"), 22, None),
        ],
        [
            [
                r["region_code"],
                region_full_name(r["region_code"]),
                r["firm_count"],
                r["completeness"],
                r["missing"],
                r["weak"],
                r["break"],
                r["gaps"],
                r["targets"],
                r["best_name"],
                r["best_score"],
                names.get(r["best_node"] or "", r["best_node"]),
            ]
            for r in summary.iter_rows(named=True)
        ],
    )
    components = [
        (f"{c}_component", word(f"分项 {c}", f"{c} component"), 10, score) for c in COMPONENTS
    ]
    sheet(
        word("目标企业", "Targets"),
        [
            (word("地区代码", "Region code"), 11, None),
            (word("地区", "Region"), 24, None),
            (word("环节", "Node"), 22, None),
            (word("环节状态", "Node status"), 9, None),
            (word("断链", "Break"), 6, None),
            (word("名次", "Rank"), 6, None),
            (word("统一社会信用代码", "USCC"), 21, None),
            (word("企业名称", "Firm"), 32, None),
            (word("所在地", "Location"), 24, None),
            (word("注册资本（万元）", "Registered capital (10k yuan)"), 14, money),
            (word("成立日期", "Established"), 11, date),
            (word("标签", "Tags"), 18, None),
            (word("得分", "Score"), 8, score),
            *((label, width, fmt) for _, label, width, fmt in components),
            (word("距离（公里）", "Distance (km)"), 10, money),
            (word("最强本地伙伴", "Strongest local partner"), 28, None),
            (word("理由", "Reasons"), 60, None),
        ],
        [
            [
                r["region_code"],
                region_full_name(r["region_code"]),
                names.get(r["node_id"], r["node_id"]),
                word(*status_words.get(r["status"], (r["status"], r["status"]))),
                word("是", "yes") if r["is_break"] else "",
                r["rank"],
                r["uscc"],
                r["name"],
                region_full_name(r["target_region_code"]) if r["target_region_code"] else "",
                r["registered_capital"],
                r["established"],
                r["tags"],
                r["score"],
                *(r[column] for column, *_ in components),
                r["distance_km"],
                r["partner_name"],
                r["reason_en"] if en else r["reason_zh"],
            ]
            for r in targets.iter_rows(named=True)
        ],
    )
    weights = ", ".join(f"{c} {info.target_weights.get(c, '')}" for c in COMPONENTS)
    sheet(
        word("参数", "Settings"),
        [(word("项目", "Item"), 24, None), (word("值", "Value"), 60, None)],
        [
            [word("范围", "Scope"), f"{region_full_name(within)} · {level}"],
            [word("产业链", "Chain"), chain.name_en if en and chain.name_en else chain.name_zh],
            [word("批量计算日期（增长截至）", "As of (growth measured at)"), info.as_of],
            [word("每个缺口列出", "Listed per gap node"), info.targets_top],
            [word("权重", "Weights"), weights],
            [
                word("来源", "Source"),
                word(
                    "chainatlas build 的批量结果（默认权重，无排除名单）",
                    "the results of chainatlas build (default weights, no exclusion list)",
                ),
            ],
        ],
    )
    book.close()
    return path
