"""The briefing pack (N图N清单) of one region × chain: which maps and lists, and their content.

`assemble_pack` is pure: from the chain, its diagnosis, the firms per county and the target
list it builds every map (SVG) and every list (a polars frame with declared columns). The
files are written by `pack_xlsx` (workbook) and `pdf` (report, PNG) through the service.

Maps: panorama 产业链全景图 · status 本地现状图 · distribution 企业分布图 ·
technology 技术路线图 · investment_route 招商路线图.
Lists: targets 目标企业清单 · projects 招商项目清单 (a template until projects exist) ·
problems 问题清单 (gaps, breaks, single points of failure) · policies 政策清单 (a template).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.briefing import maps as m
from chainatlas.briefing.chain_map import STAGE_NAMES, STAGE_ORDER, STATUS_NAMES
from chainatlas.diagnose.model import DiagnosedNode, Diagnosis
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions

MAP_IDS = ("panorama", "status", "distribution", "technology", "investment_route")
LIST_IDS = ("targets", "projects", "problems", "policies")
DEFAULT_MAPS: tuple[str, ...] = MAP_IDS
DEFAULT_LISTS: tuple[str, ...] = ("targets", "projects")
PDF_ROWS = 20

ColumnKind = Literal["text", "int", "firms", "money", "score", "lq", "pct", "date"]

CN_DIGITS = "零一二三四五六七八九十"
ACTION_NAMES = {"build": "建链", "fill": "补链", "extend": "延链", "strengthen": "强链"}
ACTION_NAMES_EN = {"build": "Build", "fill": "Fill", "extend": "Extend", "strengthen": "Strengthen"}


def cn_number(n: int, *, two: str = "二") -> str:
    """1 → 一 … 10 → 十, 11 → 十一, 20 → 二十 (up to 99); `two="两"` for counts (两清单)."""
    if not 0 <= n < 100:
        return str(n)
    if n == 2:
        return two
    if n <= 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else CN_DIGITS[tens]) + "十"
    return head + (CN_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class MapSpec:
    id: str
    name_zh: str
    name_en: str
    caption_zh: str
    caption_en: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def caption(self, lang: str) -> str:
        return self.caption_zh if lang == "zh" else self.caption_en


@dataclass(frozen=True)
class ListColumn:
    id: str
    zh: str
    en: str
    kind: ColumnKind = "text"
    width: float | None = None  # Excel width; None: fitted to the content

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class ListSpec:
    id: str
    name_zh: str
    name_en: str
    note_zh: str
    note_en: str
    columns: tuple[ListColumn, ...]
    pdf_columns: tuple[str, ...]
    template: bool = False  # a form to fill in: headers, formats and input lists only

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note_en

    def column(self, column_id: str) -> ListColumn:
        for c in self.columns:
            if c.id == column_id:
                return c
        raise KeyError(column_id)


MAP_SPECS: dict[str, MapSpec] = {
    "panorama": MapSpec(
        "panorama",
        "产业链全景图",
        "Chain panorama",
        "产业链全部环节按上游、中游、下游与配套服务分带排列，箭头为供应关系，虚线为循环利用。",
        "Every node of the chain in bands by stage; arrows are supply relations, dashed arrows "
        "recycling.",
    ),
    "status": MapSpec(
        "status",
        "本地现状图",
        "Local status map",
        "各环节按本地状态着色（缺链、弱链、一般、强链），红框为断链；框内为本地企业数与区位熵。",
        "Nodes coloured by local status (missing, weak, present, strong), breaks framed in red; "
        "boxes show local firms and LQ.",
    ),
    "distribution": MapSpec(
        "distribution",
        "企业分布图",
        "Firm distribution map",
        "按区县统计本产业链在营企业数，圆面积与企业数成正比；本地区县为橙色，省内其他区县为灰色。",
        "Active firms of the chain per county, dot area proportional to the count; the region's "
        "counties in orange, the rest of the province in grey.",
    ),
    "technology": MapSpec(
        "technology",
        "技术路线图",
        "Technology map",
        "各环节的关键技术（取自产业链模板），色条为本地状态；缺链、弱链、断链环节的技术是引进与攻关方向。",
        "Key technologies of each node (from the chain template), with the local status; those "
        "of missing, weak and broken nodes are what to bring in.",
    ),
    "investment_route": MapSpec(
        "investment_route",
        "招商路线图",
        "Investment route map",
        "箭头由目标企业所在城市指向本地，线宽为目标企业数。",
        "Arrows from the cities where the target firms are to the region; width = number of "
        "targets.",
    ),
}

TARGET_COLUMNS = (
    ListColumn("rank", "序号", "#", "int", 6),
    ListColumn("node", "目标环节", "Node"),
    ListColumn("node_id", "环节代码", "Node id"),
    ListColumn("name", "企业名称", "Enterprise"),
    ListColumn("uscc", "统一社会信用代码", "USCC", width=22),
    ListColumn("location", "所在地", "Location"),
    ListColumn("region_code", "行政区划代码", "Region code", width=13),
    ListColumn("registered_capital", "注册资本", "Registered capital (10k CNY)", "money"),
    ListColumn("score", "综合得分", "Score", "score", 10),
    ListColumn("reason", "推荐理由", "Reasons", width=60),
)
# the stages of the projects pipeline (链长制 招商项目库, `workflow.models.STAGE_NAMES`)
PROJECT_STAGES: dict[str, tuple[str, str]] = {
    "lead": ("线索", "lead"),
    "negotiating": ("洽谈", "negotiating"),
    "signed": ("签约", "signed"),
    "started": ("开工", "started"),
    "in_production": ("投产", "in production"),
    "lost": ("流失", "lost"),
    "on_hold": ("暂缓", "on hold"),
}
PROJECT_STAGES_ZH = tuple(zh for zh, _ in PROJECT_STAGES.values())
PROJECT_STAGES_EN = tuple(en for _, en in PROJECT_STAGES.values())
# what `project_list` reads: one row per project of the pipeline
PROJECT_INPUT_COLUMNS = (
    "name",
    "node_id",
    "investor_name",
    "investor_region",
    "amount_wan",
    "stage",
    "unit",
    "contact",
    "phone",
    "progress",
    "updated",
)
PROJECT_COLUMNS = (
    ListColumn("rank", "序号", "#", "int", 6),
    ListColumn("project", "项目名称", "Project", width=30),
    ListColumn("node", "目标环节", "Node", width=22),
    ListColumn("investor", "投资方", "Investor", width=28),
    ListColumn("investor_location", "投资方所在地", "Investor location", width=18),
    ListColumn("investment", "计划总投资", "Planned investment (10k CNY)", "money", 16),
    ListColumn("stage", "项目阶段", "Stage", width=12),
    ListColumn("unit", "对接责任单位", "Responsible unit", width=18),
    ListColumn("contact", "责任人", "Contact person", width=10),
    ListColumn("phone", "联系方式", "Phone", width=15),
    ListColumn("progress", "最新进展", "Latest progress", width=40),
    ListColumn("updated", "更新日期", "Updated", "date", 16),
)
PROBLEM_COLUMNS = (
    ListColumn("rank", "序号", "#", "int", 6),
    ListColumn("kind", "问题类型", "Problem"),
    ListColumn("node", "环节", "Node"),
    ListColumn("node_id", "环节代码", "Node id"),
    ListColumn("stage", "阶段", "Stage"),
    ListColumn("status", "本地状态", "Local status"),
    ListColumn("firm_count", "本地企业数", "Local firms", "firms"),
    ListColumn("national_firm_count", "全国企业数", "National firms", "firms"),
    ListColumn("lq", "区位熵", "LQ", "lq", 9),
    ListColumn("local_sourcing_rate", "本地配套率", "Local sourcing", "pct", 11),
    ListColumn("actions", "建议举措", "Actions"),
    ListColumn("known", "已知情况", "What is known", width=70),
)
POLICY_MEANS_ZH = ("资金补助", "贷款贴息", "用地保障", "人才支持", "税收优惠", "设备补贴", "其他")
POLICY_MEANS_EN = ("grant", "interest subsidy", "land", "talent", "tax", "equipment", "other")
POLICY_COLUMNS = (
    ListColumn("rank", "序号", "#", "int", 6),
    ListColumn("policy", "政策名称", "Policy", width=36),
    ListColumn("issuer", "发文单位", "Issued by", width=20),
    ListColumn("doc_no", "文号", "Document no.", width=18),
    ListColumn("issued", "发布日期", "Issued on", "date", 16),
    ListColumn("node", "适用环节", "Nodes", width=22),
    ListColumn("means", "支持方式", "Support", width=12),
    ListColumn("standard", "支持标准", "Terms", width=40),
    ListColumn("valid_until", "有效期至", "Valid until", "date", 16),
    ListColumn("unit", "责任单位", "Responsible unit", width=18),
    ListColumn("remarks", "备注", "Remarks", width=24),
)

LIST_SPECS: dict[str, ListSpec] = {
    "targets": ListSpec(
        "targets",
        "目标企业清单",
        "Target firms",
        "缺链、弱链、断链环节在外地的招商目标企业，按综合得分排序，附推荐理由。",
        "Firms elsewhere for the missing, weak and broken nodes, ranked by score, with reasons.",
        TARGET_COLUMNS,
        ("rank", "node", "name", "location", "registered_capital", "score", "reason"),
    ),
    "projects": ListSpec(
        "projects",
        "招商项目清单",
        "Investment projects",
        "本链招商项目库中在谈、在建和投产的项目（流失的除外）；项目库为空时为台账模板，"
        "项目阶段与目标环节可从下拉列表选择。",
        "The chain's projects in the pipeline (lost ones left out); with an empty pipeline a "
        "register template whose stage and node have drop-down lists.",
        PROJECT_COLUMNS,
        ("rank", "project", "node", "investor", "investment", "stage", "unit", "progress"),
        template=True,
    ),
    "problems": ListSpec(
        "problems",
        "问题清单",
        "Problems",
        "诊断发现的断链、缺链、弱链与单一来源依赖，附已知情况与建议举措。",
        "Breaks, missing and weak nodes and single points of failure found by the diagnosis, "
        "with what is known and the recommended actions.",
        PROBLEM_COLUMNS,
        ("rank", "kind", "node", "firm_count", "lq", "actions", "known"),
    ),
    "policies": ListSpec(
        "policies",
        "政策清单",
        "Policies",
        "支持本产业链的政策台账模板：逐条填写政策名称、文号、适用环节与支持标准。",
        "Policy register template: one row per policy, with document number, nodes and terms.",
        POLICY_COLUMNS,
        ("rank", "policy", "issuer", "doc_no", "node", "means", "standard"),
        template=True,
    ),
}

TARGET_INPUT_COLUMNS = (
    "uscc",
    "name",
    "node_id",
    "region_code",
    "province_code",
    "city_code",
    "score",
    "reason_zh",
    "reason_en",
    "registered_capital",
)


def check_selection(maps: Sequence[str], lists: Sequence[str]) -> None:
    """Unknown map or list ids are a user error naming the valid ones."""
    bad_maps = [x for x in maps if x not in MAP_SPECS]
    if bad_maps:
        raise UserError(
            f"未知的图：{'、'.join(bad_maps)}；可选：{'、'.join(MAP_IDS)}",
            f"unknown map(s): {', '.join(bad_maps)}; choose from {', '.join(MAP_IDS)}",
        )
    bad_lists = [x for x in lists if x not in LIST_SPECS]
    if bad_lists:
        raise UserError(
            f"未知的清单：{'、'.join(bad_lists)}；可选：{'、'.join(LIST_IDS)}",
            f"unknown list(s): {', '.join(bad_lists)}; choose from {', '.join(LIST_IDS)}",
        )
    if not maps and not lists:
        raise UserError("图与清单均为空", "no map and no list selected")


def check_targets(targets: pl.DataFrame) -> None:
    missing = [c for c in TARGET_INPUT_COLUMNS if c not in targets.columns]
    if missing:
        raise UserError(
            f"目标企业表缺少列：{'、'.join(missing)}",
            f"the target frame lacks column(s): {', '.join(missing)}",
        )


# ---------------------------------------------------------------- lists


def _empty(spec: ListSpec) -> pl.DataFrame:
    dtypes: dict[ColumnKind, pl.DataType] = {
        "int": pl.Int64(),
        "firms": pl.Int64(),
        "money": pl.Float64(),
        "score": pl.Float64(),
        "lq": pl.Float64(),
        "pct": pl.Float64(),
        "date": pl.Date(),
        "text": pl.String(),
    }
    return pl.DataFrame(schema={c.id: dtypes[c.kind] for c in spec.columns})


def full_names(codes: Sequence[str]) -> dict[str, str]:
    """`reference.regions.region_full_name` for many codes at once (one pass over the
    regions table instead of one per code)."""
    regions = load_regions()
    names = dict(regions.select("region_code", "name").iter_rows())
    parents = dict(regions.select("region_code", "parent_code").iter_rows())
    out: dict[str, str] = {}
    for code in codes:
        parts: list[str] = []
        cursor: str | None = code
        while cursor is not None and cursor in names:
            if not parts or parts[-1] != names[cursor]:  # 北京市 › 北京市 said once
                parts.append(names[cursor])
            cursor = parents.get(cursor)
        out[code] = "".join(reversed(parts)) or code
    return out


def target_list(targets: pl.DataFrame | None, chain: Chain, lang: str = "zh") -> pl.DataFrame:
    """目标企业清单: one row per target, best score first (ties: uscc), `rank` from 1.

    Columns: rank, node (node name), node_id, name, uscc, location (full region name of the
    target's county), region_code, registered_capital (万元), score, reason (zh or en)."""
    spec = LIST_SPECS["targets"]
    if targets is None or not targets.height:
        return _empty(spec)
    check_targets(targets)
    names = {n.id: (n.name_zh if lang == "zh" else n.name_en) for n in chain.nodes}
    where = full_names(targets["region_code"].drop_nulls().unique().to_list())
    reason = "reason_zh" if lang == "zh" else "reason_en"
    ordered = targets.sort(["score", "uscc"], descending=[True, False], nulls_last=True)
    return ordered.select(
        pl.int_range(1, ordered.height + 1, dtype=pl.Int64).alias("rank"),
        pl.col("node_id").replace_strict(names, default=pl.col("node_id")).alias("node"),
        pl.col("node_id"),
        pl.col("name"),
        pl.col("uscc"),
        pl.col("region_code")
        .replace_strict(where, default=pl.col("region_code"))
        .alias("location"),
        pl.col("region_code"),
        pl.col("registered_capital").cast(pl.Float64),
        pl.col("score").cast(pl.Float64),
        pl.col(reason).alias("reason"),
    )


def project_list(projects: pl.DataFrame | None, chain: Chain, lang: str) -> pl.DataFrame:
    """The projects list (招商项目清单) from the pipeline's rows (PROJECT_INPUT_COLUMNS):
    furthest stage first (投产 → 线索, then 暂缓), larger investment first within a stage;
    `lost` projects left out. None or no rows: the empty template."""
    spec = LIST_SPECS["projects"]
    if projects is None or not projects.height:
        return _empty(spec)
    missing = [c for c in PROJECT_INPUT_COLUMNS if c not in projects.columns]
    if missing:
        raise ValueError(f"projects lack columns {missing}")
    pick = 0 if lang == "zh" else 1
    order = ("in_production", "started", "signed", "negotiating", "lead", "on_hold")
    nodes = {n.id: (n.name_zh, n.name_en)[pick] or n.name_zh for n in chain.nodes}
    stages = {k: v[pick] for k, v in PROJECT_STAGES.items()}
    where = full_names(projects["investor_region"].drop_nulls().unique().to_list())
    live = projects.filter(pl.col("stage") != "lost").with_columns(
        pl.col("stage").replace_strict({k: i for i, k in enumerate(order)}, default=99).alias("_o")
    )
    ordered = live.sort(
        ["_o", "amount_wan", "name"], descending=[False, True, False], nulls_last=True
    )
    return ordered.select(
        pl.int_range(1, ordered.height + 1, dtype=pl.Int64).alias("rank"),
        pl.col("name").alias("project"),
        pl.col("node_id").replace_strict(nodes, default=pl.col("node_id")).alias("node"),
        pl.col("investor_name").alias("investor"),
        pl.col("investor_region")
        .replace_strict(where, default=pl.col("investor_region"))
        .alias("investor_location"),
        pl.col("amount_wan").cast(pl.Float64).alias("investment"),
        pl.col("stage").replace_strict(stages, default=pl.col("stage")).alias("stage"),
        pl.col("unit"),
        pl.col("contact"),
        pl.col("phone"),
        pl.col("progress"),
        pl.col("updated").cast(pl.Date),
    )


def template_list(list_id: str) -> pl.DataFrame:
    """The empty frame of a template list (projects, policies): headers only."""
    return _empty(LIST_SPECS[list_id])


def _stage_label(stage: str, lang: str) -> str:
    return STAGE_NAMES.get(stage, (stage, stage))[0 if lang == "zh" else 1]


def _status_label(status: str, lang: str) -> str:
    return STATUS_NAMES[status][0 if lang == "zh" else 1]


def _known(n: DiagnosedNode, names: dict[str, str], status: dict[str, str], lang: str) -> str:
    zh = lang == "zh"
    sep = "、" if zh else ", "
    parts: list[str] = []
    if n.is_break:
        held_up = [names[s] for s in n.suppliers if status.get(s) in ("present", "strong")]
        held_down = [names[c] for c in n.customers if status.get(c) in ("present", "strong")]
        parts.append(
            f"上游「{sep.join(held_up)}」与下游「{sep.join(held_down)}」在本地为一般或强链，"
            "链条在此断开"
            if zh
            else f"suppliers ({sep.join(held_up)}) and customers ({sep.join(held_down)}) are "
            "held locally: the flow is cut here"
        )
        ev = n.break_evidence
        if ev is not None and ev.verdict != "no_evidence" and ev.local_sourcing_rate is not None:
            verdict = (
                ("供应关系印证断链" if zh else "supply links confirm the break")
                if ev.verdict == "confirmed"
                else ("供应关系显示本地流转尚通" if zh else "supply links show the flow intact")
            )
            parts.append(
                f"{verdict}：本地采购该环节产品{ev.links}笔，本地配套率{ev.local_sourcing_rate:.0%}"
                if zh
                else f"{verdict}: {ev.links} purchases of its output, "
                f"{ev.local_sourcing_rate:.0%} bought locally"
            )
    if n.status == "missing":
        parts.append(
            f"本地无该环节企业；全国{n.national_firm_count:,}家"
            if zh
            else f"no local firm; {n.national_firm_count:,} nationally"
        )
    elif n.status == "weak":
        lq = f"{n.lq:.2f}" if n.lq is not None else "—"
        parts.append(
            f"本地{n.firm_count:,}家，区位熵{lq}，低于全国平均"
            if zh
            else f"{n.firm_count:,} local firms, LQ {lq}, below the national share"
        )
    return ("；" if zh else "; ").join(parts)


def problem_list(diagnosis: Diagnosis, chain: Chain, lang: str = "zh") -> pl.DataFrame:
    """问题清单: breaks first, then missing and weak nodes (stage order, then chain order),
    then single points of failure. Columns as `PROBLEM_COLUMNS`; `known` states what the
    diagnosis knows (neighbours held, supply-link evidence, counts, LQ)."""
    zh = lang == "zh"
    names = {n.id: (n.name_zh if zh else n.name_en) for n in chain.nodes}
    status: dict[str, str] = {n.id: n.status for n in diagnosis.nodes}
    actions: dict[str, list[str]] = {}
    for a in diagnosis.actions:
        for nid in a.node_ids:
            label = ACTION_NAMES[a.kind] if zh else ACTION_NAMES_EN[a.kind]
            actions.setdefault(nid, []).append(label)
    stage_rank = {s: i for i, s in enumerate(STAGE_ORDER)}
    order = {n.id: i for i, n in enumerate(chain.nodes)}
    by_id = {n.id: n for n in diagnosis.nodes}
    rows: list[dict[str, object]] = []
    sep = "、" if zh else ", "

    def priority(n: DiagnosedNode) -> tuple[int, int, int]:
        kind = 0 if n.is_break else 1 if n.status == "missing" else 2
        return (kind, stage_rank.get(n.stage, 9), order.get(n.id, 0))

    gaps = [n for n in diagnosis.nodes if n.is_break or n.status in ("missing", "weak")]
    for n in sorted(gaps, key=priority):
        kind = "break" if n.is_break else n.status
        sourcing = n.input_sourcing.local_sourcing_rate if n.input_sourcing else None
        rows.append(
            {
                "kind": _status_label(kind, lang),
                "node": names.get(n.id, n.id),
                "node_id": n.id,
                "stage": _stage_label(n.stage, lang),
                "status": _status_label(n.status, lang),
                "firm_count": n.firm_count,
                "national_firm_count": n.national_firm_count,
                "lq": n.lq,
                "local_sourcing_rate": sourcing,
                "actions": sep.join(actions.get(n.id, [])),
                "known": _known(n, names, status, lang),
            }
        )
    for s in diagnosis.single_points_of_failure:
        node = by_id.get(s.node_id)
        who = ("供应商" if s.kind == "supplier" else "外地") if zh else s.kind
        rows.append(
            {
                "kind": "单一来源依赖" if zh else "single point of failure",
                "node": names.get(s.node_id, s.node_id),
                "node_id": s.node_id,
                "stage": _stage_label(node.stage, lang) if node else "",
                "status": _status_label(node.status, lang) if node else "",
                "firm_count": node.firm_count if node else None,
                "national_firm_count": node.national_firm_count if node else None,
                "lq": node.lq if node else None,
                "local_sourcing_rate": (
                    node.input_sourcing.local_sourcing_rate
                    if node and node.input_sourcing
                    else None
                ),
                "actions": sep.join(actions.get(s.node_id, [])),
                "known": (
                    f"本地采购该环节产品{s.links}笔，{s.share:.0%}来自{who}{s.name}"
                    if zh
                    else f"{s.share:.0%} of {s.links} purchases of the node come from {who} "
                    f"{s.name}"
                ),
            }
        )
    if not rows:
        return _empty(LIST_SPECS["problems"])
    frame = pl.DataFrame(
        rows,
        schema={
            c.id: (
                pl.Int64
                if c.kind in ("int", "firms")
                else pl.Float64
                if c.kind in ("lq", "pct")
                else pl.String
            )
            for c in PROBLEM_COLUMNS
            if c.id != "rank"
        },
    )
    return frame.select(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("rank"), pl.all())


# ---------------------------------------------------------------- the pack


@dataclass(frozen=True)
class PackMap:
    spec: MapSpec
    svg: str  # standalone, with heading and source line
    body: str  # without them, for the PDF page that has its own heading


@dataclass(frozen=True)
class PackList:
    spec: ListSpec
    frame: pl.DataFrame
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # drop-downs of a form


@dataclass(frozen=True)
class Pack:
    chain: Chain
    diagnosis: Diagnosis
    lang: str
    maps: tuple[PackMap, ...]
    lists: tuple[PackList, ...]
    generated_at: dt.datetime
    target_count: int

    @property
    def region_code(self) -> str:
        return self.diagnosis.region.code

    @property
    def chain_name(self) -> str:
        return self.chain.name_zh if self.lang == "zh" else self.chain.name_en

    @property
    def title(self) -> str:
        """梧州市·甘蔗制糖产业链五图两清单 / Sugarcane … — 5 maps, 2 lists."""
        region = self.diagnosis.region.full_name
        nm, nl = len(self.maps), len(self.lists)
        if self.lang == "zh":
            return f"{region}·{self.chain.name_zh}产业链{cn_number(nm, two='两')}图" + (
                f"{cn_number(nl, two='两')}清单" if nl else ""
            )
        return f"{self.chain.name_en} — {region}: {nm} maps, {nl} lists"

    @property
    def data_note(self) -> str:
        if not self.diagnosis.synthetic_data:
            return ""
        return "合成数据，仅供演示" if self.lang == "zh" else "synthetic data, for demonstration"

    def file_stem(self) -> str:
        return f"{self.region_code}-{self.chain.id}"


def _drawings(
    chain: Chain,
    diagnosis: Diagnosis,
    county_firms: pl.DataFrame,
    targets: pl.DataFrame | None,
    lang: str,
    note: str,
) -> dict[str, Callable[[], m.Drawing]]:
    region = diagnosis.region
    return {
        "panorama": lambda: m.panorama_drawing(chain, lang, data_note=note),
        "status": lambda: m.status_drawing(chain, diagnosis, lang, data_note=note),
        "distribution": lambda: m.distribution_drawing(
            county_firms, region, chain, lang, data_note=note
        ),
        "technology": lambda: m.technology_drawing(chain, diagnosis, lang, data_note=note),
        "investment_route": lambda: m.investment_route_drawing(
            targets, region, chain, lang, data_note=note
        ),
    }


def assemble_pack(
    chain: Chain,
    diagnosis: Diagnosis,
    county_firms: pl.DataFrame,
    targets: pl.DataFrame | None = None,
    *,
    maps: Sequence[str] = DEFAULT_MAPS,
    lists: Sequence[str] = DEFAULT_LISTS,
    lang: str = "zh",
    generated_at: dt.datetime | None = None,
    projects: pl.DataFrame | None = None,
) -> Pack:
    """Every selected map (in the order given) and list, for `diagnosis` of `chain`.

    `county_firms`: region_code (county) and firm_count, for the province of the region
    (see `maps.distribution_map`); `targets`: the target list or None before one exists;
    `projects`: the chain's projects (PROJECT_INPUT_COLUMNS) or None for the template."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    if diagnosis.chain.id != chain.id:
        raise ValueError(f"diagnosis is for chain {diagnosis.chain.id!r}, not {chain.id!r}")
    check_selection(maps, lists)
    if targets is not None:
        check_targets(targets)
    when = (generated_at or dt.datetime.now()).replace(microsecond=0)
    shell = Pack(chain, diagnosis, lang, (), (), when, 0)
    note = shell.data_note
    builders = _drawings(chain, diagnosis, county_firms, targets, lang, note)
    drawings = {k: builders[k]() for k in dict.fromkeys(maps)}
    pack_maps = tuple(
        PackMap(MAP_SPECS[k], d.svg(title=True), d.svg(title=False)) for k, d in drawings.items()
    )
    node_names = tuple(n.name_zh if lang == "zh" else n.name_en for n in chain.nodes)
    pack_lists: list[PackList] = []
    for k in dict.fromkeys(lists):
        spec = LIST_SPECS[k]
        if k == "targets":
            pack_lists.append(PackList(spec, target_list(targets, chain, lang)))
        elif k == "problems":
            pack_lists.append(PackList(spec, problem_list(diagnosis, chain, lang)))
        elif k == "projects":
            stages = PROJECT_STAGES_ZH if lang == "zh" else PROJECT_STAGES_EN
            pack_lists.append(
                PackList(
                    spec, project_list(projects, chain, lang), {"node": node_names, "stage": stages}
                )
            )
        else:
            means = POLICY_MEANS_ZH if lang == "zh" else POLICY_MEANS_EN
            pack_lists.append(PackList(spec, template_list(k), {"means": means}))
    return Pack(
        chain,
        diagnosis,
        lang,
        pack_maps,
        tuple(pack_lists),
        when,
        0 if targets is None else targets.height,
    )
