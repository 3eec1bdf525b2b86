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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field
from rich.table import Table

from chainatlas.atlas.model import Chain
from chainatlas.briefing.frames import Column, Sheet, frame_table, frames_xlsx
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions, region_full_name
from chainatlas.services.build import RESULTS_INFO, TARGET_TABLES
from chainatlas.services.diagnosis import open_warehouse
from chainatlas.services.targets import COMPONENT_NAMES, STATUS_NAMES, TARGET_COLUMNS
from chainatlas.settings import Settings
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


def _level(code: str) -> str:
    """The level of a region code; an unknown code is the user's error."""
    row = load_regions().filter(pl.col("region_code") == code)
    if not row.height:
        raise UserError(f"「地区」无效：{code}", f"'region': {code} is not a region code")
    return str(row["level"][0])


def levels_under(code: str) -> tuple[str, ...]:
    """The levels whose regions lie under region `code` (none under a county)."""
    return LEVELS_BELOW[_level(code)]


def scope(within: str, level: str) -> pl.DataFrame:
    """region_code, name of the regions of `level` under `within` (a province's cities, …)."""
    within_level = _level(within)
    if level not in LEVELS_BELOW[within_level]:
        raise UserError(
            f"「层级」无效：{within_level} 之下没有 {level} 层级",
            f"'level': there is no {level} level under a {within_level}",
        )
    regions = load_regions()
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


SUMMARY_COLUMNS = [
    Column("region_code", "地区代码", "region code"),
    Column("region", "地区", "region"),
    Column("firm_count", "链上企业", "firms on the chain", "int"),
    Column("completeness", "完整度", "completeness", "pct"),
    Column("missing", "缺链", "missing", "int"),
    Column("weak", "弱链", "weak", "int"),
    Column("break", "断链", "break", "int"),
    Column("gaps", "有清单的缺口环节", "gap nodes listed", "int"),
    Column("targets", "目标企业数", "targets", "int"),
    Column("best_name", "得分最高的目标", "best target"),
    Column("best_score", "其得分", "its score", "float"),
    Column("best_node_name", "其环节", "its node"),
]
# the single-region workbook's columns where they mean the same (services.targets)
_SAME = {c.id: c for c in TARGET_COLUMNS}
ROW_COLUMNS = [
    Column("region_code", "地区代码", "region code"),
    Column("region", "地区", "region"),
    _SAME["node"],
    Column("node_status", "状态", "status"),
    *(_SAME[k] for k in ("rank", "uscc", "name")),
    Column("location", "所在地", "location"),
    *(_SAME[k] for k in ("registered_capital", "established")),
    Column("tags", "企业标签", "tags"),  # the build keeps them as text
    _SAME["score"],
    *(replace(_SAME[f"c_{k}"], id=f"{k}_component") for k in COMPONENTS),
    _SAME["distance_km"],
    Column("partner_name", "最强本地伙伴", "strongest local partner"),
    _SAME["reason"],
]
PARAMETER_COLUMNS = [Column("parameter", "参数", "parameter"), Column("value", "取值", "value")]


def _name(item: Any, lang: str) -> str:
    return str(item.name_en if lang == "en" and item.name_en else item.name_zh)


def summary_frame(summary: pl.DataFrame, chain: Chain, lang: str = "zh") -> pl.DataFrame:
    """The summary with the region's full name and the best target's node by name."""
    names = {n.id: _name(n, lang) for n in chain.nodes}
    return summary.with_columns(
        pl.col("region_code").map_elements(region_full_name, pl.String).alias("region"),
        pl.col("best_node").replace_strict(names, default=None).alias("best_node_name"),
    )


def rows_frame(targets: pl.DataFrame, chain: Chain, lang: str = "zh") -> pl.DataFrame:
    """Every listed target, named for reading: region, node, status (with break), location,
    reasons in `lang`."""
    names = {n.id: _name(n, lang) for n in chain.nodes}
    words = {k: v[0 if lang == "zh" else 1] for k, v in STATUS_NAMES.items()}
    broken = "·断链" if lang == "zh" else " · break"
    return targets.with_columns(
        pl.col("region_code").map_elements(region_full_name, pl.String).alias("region"),
        pl.col("node_id").replace_strict(names).alias("node"),
        (
            pl.col("status").replace_strict(words, default=pl.col("status"))
            + pl.when(pl.col("is_break")).then(pl.lit(broken)).otherwise(pl.lit(""))
        ).alias("node_status"),
        pl.col("target_region_code").map_elements(region_full_name, pl.String).alias("location"),
        pl.col("reason_zh" if lang == "zh" else "reason_en").alias("reason"),
    )


def parameters_frame(
    chain: Chain, within: str, level: str, info: ResultsInfo, lang: str = "zh"
) -> pl.DataFrame:
    zh = lang == "zh"
    levels = {"city": ("各市", "cities"), "county": ("各县（区）", "counties")}
    rows = [
        ("范围" if zh else "scope", f"{region_full_name(within)}（{within}）"),
        ("层级" if zh else "level", levels[level][0 if zh else 1]),
        ("产业链" if zh else "chain", _name(chain, lang)),
        ("增长截至" if zh else "growth as of", info.as_of.isoformat()),
        ("每个缺口环节列出" if zh else "listed per gap node", str(info.targets_top)),
        (
            "来源" if zh else "source",
            "chainatlas build 的批量结果（默认权重，无排除名单）"
            if zh
            else "the results of chainatlas build (default weights, no exclusion list)",
        ),
    ]
    rows += [
        (
            f"{'权重' if zh else 'weight'} · {COMPONENT_NAMES[k][0 if zh else 1]}",
            f"{info.target_weights.get(k, '')}",
        )
        for k in COMPONENTS
    ]
    return pl.DataFrame(rows, schema=["parameter", "value"], orient="row")


def region_lists_xlsx(
    path: Path,
    chain: Chain,
    within: str,
    level: str,
    summary: pl.DataFrame,
    targets: pl.DataFrame,
    info: ResultsInfo,
    lang: str = "zh",
) -> None:
    """A workbook: 地区 (the summary per region), 目标企业 (every listed target) and 参数
    (scope, the build's date, list length and weights)."""
    frames_xlsx(
        [
            Sheet("地区", "Regions", summary_frame(summary, chain, lang), SUMMARY_COLUMNS),
            Sheet("目标企业", "Targets", rows_frame(targets, chain, lang), ROW_COLUMNS),
            Sheet(
                "参数",
                "Parameters",
                parameters_frame(chain, within, level, info, lang),
                PARAMETER_COLUMNS,
            ),
        ],
        path,
        lang=lang,
    )


def run_region_lists(
    settings: Settings,
    atlas: Mapping[str, Chain],
    within: str,
    chain_id: str,
    level: str,
    node_id: str | None = None,
) -> tuple[ResultsInfo, pl.DataFrame, pl.DataFrame]:
    """(info, summary, targets) for the CLI, with errors a user can act on."""
    if chain_id not in atlas:
        raise UserError(f"没有产业链 {chain_id}", f"there is no chain {chain_id}")
    chain = atlas[chain_id]
    if node_id is not None and node_id not in chain.node_ids:
        raise UserError(
            f"产业链 {chain_id} 没有环节 {node_id}", f"chain {chain_id} has no node {node_id}"
        )
    with open_warehouse(settings) as wh:
        info = results_info(wh)
        if info is None:
            raise UserError(
                "仓库中没有批量结果：先运行 chainatlas build --input DIR --output OUT，"
                "再运行 chainatlas ingest build OUT",
                "the warehouse holds no batch results: run chainatlas build --input DIR "
                "--output OUT, then chainatlas ingest build OUT",
            )
        summary, targets = region_lists(wh, chain, within, level, node_id)
    return info, summary, targets


class ListedTarget(BaseModel):
    """One target of a region's list, as the build wrote it, with its node's status there."""

    node_id: str
    status: str
    is_break: bool
    rank: int
    uscc: str
    name: str | None
    target_region_code: str | None
    registered_capital: float | None
    revenue: float | None
    established: dt.date | None
    tags: str | None
    national_rank: int | None
    node_fit: float | None
    distance_km: float | None
    origin_code: str | None
    origin_lq: float | None
    origin_node_firms: int | None
    origin_source: bool | None
    local_partners: int | None
    partner_uscc: str | None
    partner_name: str | None
    partner_relation: str | None
    partner_lead: bool | None
    partner_via: str | None
    fit_component: float
    size_component: float
    growth_component: float
    tags_component: float
    partner_referral_component: float
    relocation_component: float
    distance_component: float
    score: float
    primary_reason: str | None
    reason_zh: str | None
    reason_en: str | None


class RegionListing(BaseModel):
    """A region of the scope: its chain figures, its best target and its lists."""

    model_config = ConfigDict(populate_by_name=True)

    region_code: str
    region_name: str
    firm_count: int
    completeness: float
    missing: int
    weak: int
    break_: int = Field(alias="break")
    gaps: int = Field(description="gap nodes with a list")
    listed: int = Field(description="targets listed")
    best_name: str | None
    best_score: float | None
    best_node: str | None
    node_status: str | None = Field(description="with node_id: the node's status there")
    targets: list[ListedTarget]


class RegionTargets(BaseModel):
    """`chainatlas.region_targets/1`: the target lists of every region under one, from the
    results of `chainatlas build`."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["chainatlas.region_targets/1"] = Field(
        "chainatlas.region_targets/1", alias="schema"
    )
    scope: dict[str, str] = Field(description="code, full_name, level (of the regions listed)")
    chain: dict[str, str] = Field(description="id, name_zh, name_en")
    node_id: str | None
    results: dict[str, Any] = Field(description="as_of, targets_top, weights of the build")
    regions: list[RegionListing]


def region_lists_json(
    chain: Chain,
    within: str,
    level: str,
    node_id: str | None,
    info: ResultsInfo,
    summary: pl.DataFrame,
    targets: pl.DataFrame,
) -> str:
    """The `chainatlas.region_targets/1` document (RegionTargets)."""
    fields = list(ListedTarget.model_fields)
    by_region: dict[str, list[ListedTarget]] = {}
    for row in targets.iter_rows(named=True):
        target = ListedTarget(**{k: row[k] for k in fields})
        by_region.setdefault(row["region_code"], []).append(target)
    document = RegionTargets(
        scope={"code": within, "full_name": region_full_name(within), "level": level},
        chain={"id": chain.id, "name_zh": chain.name_zh, "name_en": chain.name_en},
        node_id=node_id,
        results={
            "as_of": info.as_of.isoformat(),
            "targets_top": info.targets_top,
            "weights": info.target_weights,
        },
        regions=[
            RegionListing(
                **{k: v for k, v in row.items() if k not in ("targets", "region_name")},
                listed=row["targets"],
                region_name=region_full_name(row["region_code"]),
                targets=by_region.get(row["region_code"], []),
            )
            for row in summary.to_dicts()
        ],
    )
    return document.model_dump_json(by_alias=True, indent=2) + "\n"


def region_lists_table(
    chain: Chain, within: str, level: str, summary: pl.DataFrame, info: ResultsInfo, lang: str
) -> Table:
    zh = lang == "zh"
    title = (
        f"{region_full_name(within)} · {_name(chain, lang)} · 各地区招商清单"
        f"（增长截至 {info.as_of}，每个缺口前 {info.targets_top} 名）"
        if zh
        else f"{region_full_name(within)} · {_name(chain, lang)} · target lists of every region"
        f" (growth as of {info.as_of}, best {info.targets_top} per gap node)"
    )
    # a terminal is narrow: the short name, and no firm count, gap count or best node
    short = Column("region_name", "地区", "region")
    kept = ("completeness", "missing", "weak", "break", "targets", "best_name", "best_score")
    columns = [short, *(c for c in SUMMARY_COLUMNS if c.id in kept)]
    return frame_table(summary_frame(summary, chain, lang), columns, title=title, lang=lang)
