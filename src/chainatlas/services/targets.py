"""Targets (J3) against the configured warehouse, and their renderings (docs/targets.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
from rich.console import Group
from rich.text import Text

from chainatlas.atlas.model import Chain
from chainatlas.briefing.frames import Column, Sheet, frame_table, frames_xlsx
from chainatlas.diagnose.pipeline import UnknownRegionError, diagnose
from chainatlas.errors import UserError
from chainatlas.ingest.errors import IngestError
from chainatlas.ingest.readers import read_table
from chainatlas.reference.regions import load_regions
from chainatlas.services.diagnosis import open_warehouse
from chainatlas.settings import Settings
from chainatlas.targets.exclusions import exclusion_list
from chainatlas.targets.model import TargetList, TargetNode
from chainatlas.targets.pipeline import find_targets
from chainatlas.targets.reasons import RELATION_EN, RELATION_ZH
from chainatlas.targets.weights import COMPONENTS, TargetWeights

STATUS_NAMES = {
    "missing": ("缺链", "missing"),
    "weak": ("弱链", "weak"),
    "present": ("具备", "present"),
    "strong": ("强链", "strong"),
}
COMPONENT_NAMES = {
    "fit": ("环节契合", "fit"),
    "size": ("规模", "size"),
    "growth": ("新设成长", "growth"),
    "tags": ("资质标签", "tags"),
    "partner_referral": ("以商招商", "partner referral"),
    "relocation": ("承接转移", "relocation"),
    "distance": ("距离", "distance"),
}
# the same words as the reasons (supplier … second-tier customer)
RELATION_NAMES = {k: (RELATION_ZH[k], RELATION_EN[k]) for k in RELATION_ZH}


def read_exclusions(path: Path, *, today: dt.date | None = None) -> pl.DataFrame:
    """The exclusion list file (CSV / XLSX / Parquet) as uscc, note, date."""
    try:
        table = read_table(path)
    except IngestError as error:
        raise UserError(
            f"无法读取排除名单 {path}：{error.message_zh}",
            f"cannot read the exclusion list {path}: {error.message_en}",
        ) from None
    return exclusion_list(table, today=today or dt.date.today())


def resolve_provinces(names: Sequence[str]) -> list[str]:
    """Province codes for codes or names (江苏, 江苏省, 320000); unknown → UserError."""
    provinces = load_regions().filter(pl.col("level") == "province")
    by_code = dict(provinces.select("region_code", "name").iter_rows())
    codes: list[str] = []
    for raw in names:
        name = raw.strip()
        if name in by_code:
            codes.append(name)
            continue
        hits = [c for c, n in by_code.items() if n == name or n.startswith(name)]
        if len(hits) != 1:
            raise UserError(
                f"无法识别的省份：{raw}（可写省份代码或名称，如 320000 或 江苏）",
                f"unknown province: {raw} (give a province code or name, e.g. 320000 or 江苏)",
            )
        codes.append(hits[0])
    return list(dict.fromkeys(codes))


def run_targets(
    settings: Settings,
    atlas: Mapping[str, Chain],
    region_code: str,
    chain_id: str,
    *,
    node_id: str | None = None,
    top: int = 20,
    reason: str | None = None,
    exclude_file: Path | None = None,
    weights: TargetWeights | None = None,
    sources: Sequence[str] | None = None,
    as_of: dt.date | None = None,
) -> TargetList:
    """Diagnose the region on the chain, then rank targets for its gap nodes (or `node_id`).

    weights: the score's weights and scales (settings `targets`); `sources` (province codes
    or names) replaces their source provinces of relocation."""
    if chain_id not in atlas:
        raise UserError(f"没有产业链 {chain_id}", f"no chain {chain_id}")
    weights = weights or TargetWeights()
    if sources is not None:
        weights = weights.model_copy(update={"source_provinces": resolve_provinces(sources)})
    excluded = read_exclusions(exclude_file) if exclude_file is not None else None
    chain = atlas[chain_id]
    with open_warehouse(settings) as wh:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        try:
            diagnosis = diagnose(wh, chain, region_code, settings.status, settings.lead_firm)
        except UnknownRegionError as exc:
            raise UserError(
                f"未知的行政区划代码 {region_code}", f"unknown region code {region_code}"
            ) from exc
        return find_targets(
            wh,
            chain,
            diagnosis,
            node_id=node_id,
            top=top,
            reason=reason,
            excluded=frozenset(excluded["uscc"].to_list()) if excluded is not None else (),
            exclusion_file=str(exclude_file) if exclude_file is not None else None,
            weights=weights,
            as_of=as_of,
        )


# --- renderings -------------------------------------------------------------------------------
def _label(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _node_status(node: TargetNode, lang: str) -> str:
    text = _label(STATUS_NAMES[node.status], lang)
    if node.is_break:
        text += "·断链" if lang == "zh" else " · break"
    return text


def targets_frame(result: TargetList, lang: str = "zh") -> pl.DataFrame:
    """One row per target, nodes in chain order: node_id, node, status, rank, uscc, name, region,
    registered_capital, established, tags, score, the seven components (c_fit …), distance_km,
    partner (the strongest local partner and the relation), primary reason, reasons."""
    zh = lang == "zh"
    rows = []
    for node in result.nodes:
        for t in node.targets:
            best = t.partners[0] if t.partners else None
            partner = None
            if best is not None:
                relation = _label(RELATION_NAMES[best.relation], lang)
                if best.via_name:
                    relation += f"，经{best.via_name}" if zh else f", through {best.via_name}"
                lead = ("链主" if zh else "lead firm ") if best.lead_firm else ""
                partner = (
                    f"{lead}{best.name}（{relation}）" if zh else f"{lead}{best.name} ({relation})"
                )
            rows.append(
                {
                    "node_id": node.id,
                    "node": node.name_zh if zh else node.name_en,
                    "status": _node_status(node, lang),
                    "rank": t.rank,
                    "uscc": t.uscc,
                    "name": t.name,
                    "region": t.region_name,
                    "registered_capital": t.registered_capital,
                    "established": t.established.isoformat() if t.established else None,
                    "tags": t.tags,
                    "score": t.score,
                    **{f"c_{k}": t.components[k] for k in COMPONENTS},  # type: ignore[index]
                    "distance_km": t.distance_km,
                    "partner": partner,
                    "primary_reason": (
                        _label(COMPONENT_NAMES[t.primary_reason], lang)
                        if t.primary_reason
                        else None
                    ),
                    "reason": t.reason_zh if zh else t.reason_en,
                }
            )
    schema: dict[str, pl.DataType] = {
        "node_id": pl.String(),
        "node": pl.String(),
        "status": pl.String(),
        "rank": pl.Int64(),
        "uscc": pl.String(),
        "name": pl.String(),
        "region": pl.String(),
        "registered_capital": pl.Float64(),
        "established": pl.String(),
        "tags": pl.List(pl.String()),
        "score": pl.Float64(),
        **{f"c_{k}": pl.Float64() for k in COMPONENTS},
        "distance_km": pl.Float64(),
        "partner": pl.String(),
        "primary_reason": pl.String(),
        "reason": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


# the score's parts, headed apart from the facts they come from (企业标签 vs 资质标签得分)
COMPONENT_COLUMNS = [
    Column(f"c_{k}", f"{COMPONENT_NAMES[k][0]}得分", f"{COMPONENT_NAMES[k][1]} score", "float")
    for k in COMPONENTS
]
TARGET_COLUMNS = [
    Column("node_id", "环节代码", "node id"),
    Column("node", "环节", "node"),
    Column("status", "状态", "status"),
    Column("rank", "序号", "rank", "int"),
    Column("uscc", "统一社会信用代码", "credit code"),
    Column("name", "企业名称", "enterprise"),
    Column("region", "所在地", "location"),
    Column("registered_capital", "注册资本（万元）", "registered capital (10k CNY)", "money"),
    Column("established", "成立日期", "established", "date"),
    Column("tags", "企业标签", "tags", "list"),
    Column("score", "得分", "score", "float"),
    *COMPONENT_COLUMNS,
    Column("distance_km", "距离（公里）", "distance (km)", "km"),
    Column("partner", "本地伙伴", "local partner"),
    Column("primary_reason", "首要理由", "primary reason"),
    Column("reason", "理由", "reasons"),
]
TABLE_COLUMNS = [
    Column("rank", "序号", "#", "int"),
    Column("name", "企业名称", "enterprise"),
    Column("region", "所在地", "location"),
    Column("score", "得分", "score", "float"),
    *[Column(f"c_{k}", COMPONENT_NAMES[k][0], COMPONENT_NAMES[k][1], "float") for k in COMPONENTS],
]
NODE_COLUMNS = [
    Column("id", "环节代码", "node id"),
    Column("name", "环节", "node"),
    Column("status", "状态", "status"),
    Column("firm_count", "本地企业", "local firms", "int"),
    Column("national_firm_count", "全国企业", "national firms", "int"),
    Column("candidates", "候选企业", "candidates", "int"),
    Column("excluded_contacted", "已接触排除", "excluded (contacted)", "int"),
    Column("matching", "符合理由", "matching the reason", "int"),
    Column("targets", "目标企业", "targets", "int"),
]
PARAMETER_COLUMNS = [
    Column("parameter", "参数", "parameter"),
    Column("value", "取值", "value"),
]


def nodes_frame(result: TargetList, lang: str = "zh") -> pl.DataFrame:
    zh = lang == "zh"
    return pl.DataFrame(
        [
            {
                "id": n.id,
                "name": n.name_zh if zh else n.name_en,
                "status": _node_status(n, lang),
                "firm_count": n.firm_count,
                "national_firm_count": n.national_firm_count,
                "candidates": n.candidates,
                "excluded_contacted": n.excluded_contacted,
                "matching": n.matching,
                "targets": len(n.targets),
            }
            for n in result.nodes
        ],
        schema={
            "id": pl.String,
            "name": pl.String,
            "status": pl.String,
            "firm_count": pl.Int64,
            "national_firm_count": pl.Int64,
            "candidates": pl.Int64,
            "excluded_contacted": pl.Int64,
            "matching": pl.Int64,
            "targets": pl.Int64,
        },
    )


def _weights_line(result: TargetList, lang: str) -> str:
    parts = [f"{_label(COMPONENT_NAMES[k], lang)} {w:g}" for k, w in result.weights.items()]
    return ("权重：" if lang == "zh" else "weights: ") + ("，" if lang == "zh" else ", ").join(
        parts
    )


def parameters_frame(result: TargetList, lang: str = "zh") -> pl.DataFrame:
    """The weights, scales and inputs the list was made with, as text."""
    zh = lang == "zh"
    names = dict(load_regions().select("region_code", "name").iter_rows())
    rows: list[tuple[str, str]] = [
        ("地区" if zh else "region", f"{result.region.full_name}（{result.region.code}）"),
        ("产业链" if zh else "chain", result.chain.name_zh if zh else result.chain.name_en),
        ("计算日期" if zh else "as of", result.as_of.isoformat()),
        ("每环节目标数" if zh else "targets per node", str(result.top)),
        (
            "理由筛选" if zh else "reason filter",
            _label(COMPONENT_NAMES[result.reason], lang) if result.reason else "—",
        ),
        ("指定环节" if zh else "node asked for", result.node_id or "—"),
        (
            "排除名单" if zh else "exclusion list",
            f"{result.exclusions.file or '—'}（{result.exclusions.listed} / {result.exclusions.excluded}）",
        ),
        (
            "合成数据" if zh else "synthetic data",
            ("是" if zh else "yes") if result.synthetic_data else ("否" if zh else "no"),
        ),
    ]
    rows += [
        (f"{'权重' if zh else 'weight'} · {_label(COMPONENT_NAMES[k], lang)}", f"{w:g}")
        for k, w in result.weights.items()
    ]
    rows += [(f"{'标度' if zh else 'scale'} · {k}", f"{v:g}") for k, v in result.scales.items()]
    rows.append(
        (
            "产业转出地省份" if zh else "source provinces",
            "、".join(names.get(c, c) for c in result.source_provinces),
        )
    )
    return pl.DataFrame(rows, schema={"parameter": pl.String, "value": pl.String}, orient="row")


def _title(result: TargetList, lang: str) -> str:
    r, c = result.region, result.chain
    if lang == "zh":
        return f"{r.full_name}·{c.name_zh} 招商目标企业（每环节前 {result.top} 家）"
    return f"Investment targets for {r.full_name} · {c.name_en} (first {result.top} per node)"


def targets_table(result: TargetList, lang: str = "zh") -> Group:
    """Per node: a header line, the targets with their components, then one line of reasons
    per target (a terminal is too narrow for both side by side)."""
    zh = lang == "zh"
    parts: list[object] = [
        Text(_title(result, lang), style="bold"),
        Text(_weights_line(result, lang)),
    ]
    if result.synthetic_data:
        parts.append(Text("合成数据 / SYNTHETIC DATA", style="bold red"))
    if not result.nodes:
        parts.append(
            Text("没有缺链、弱链或断链环节。" if zh else "No missing, weak or break node.")
        )
    frame = targets_frame(result, lang)
    for node in result.nodes:
        name = node.name_zh if zh else node.name_en
        head = (
            f"{name}（{_node_status(node, lang)}）候选 {node.candidates:,} 家"
            + (f"，已排除 {node.excluded_contacted} 家" if node.excluded_contacted else "")
            if zh
            else f"{name} ({_node_status(node, lang)}): {node.candidates:,} candidates"
            + (f", {node.excluded_contacted} excluded" if node.excluded_contacted else "")
        )
        parts.append(Text(""))
        parts.append(Text(head, style="bold"))
        rows = frame.filter(pl.col("node_id") == node.id)
        if not rows.height:
            parts.append(Text("（无候选企业）" if zh else "(no candidates)"))
            continue
        parts.append(frame_table(rows, TABLE_COLUMNS, lang=lang))
        parts += [
            Text(f"{rank:>3}. {reason}", overflow="fold")
            for rank, reason in rows.select("rank", "reason").iter_rows()
        ]
    return Group(*parts)  # type: ignore[arg-type]


def targets_xlsx(result: TargetList, path: Path, lang: str = "zh") -> None:
    """Workbook: 目标企业 (one row per target), 环节 (counts per node), 参数 (weights and
    inputs used)."""
    frames_xlsx(
        [
            Sheet("目标企业", "Targets", targets_frame(result, lang), TARGET_COLUMNS),
            Sheet("环节", "Nodes", nodes_frame(result, lang), NODE_COLUMNS),
            Sheet("参数", "Parameters", parameters_frame(result, lang), PARAMETER_COLUMNS),
        ],
        path,
        lang=lang,
    )
