"""Reasons of a target: which components count as reasons, and one line of them in Chinese
and English built only from facts the warehouse holds (docs/targets.md).

A component is a *reason* when it reaches its threshold (`TargetScales`): partner_referral
and tags when above 0; relocation from `relocation_reason`; growth for firms at most
`recent_years` old; size from `large_capital`; fit from `good_fit`; distance within
`near_km`. `--reason KIND` keeps the targets that have KIND among their reasons; the reasons
are listed (and `primary_reason` chosen) by their weighted contribution, largest first, and
the line names the first MAX_IN_LINE of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from chainatlas.targets.score import component, distance_of, known_tags, size_of_capital
from chainatlas.targets.weights import COMPONENTS, TargetScales, TargetWeights

REASON_KINDS: tuple[str, ...] = COMPONENTS
# a threshold met exactly still counts despite floating-point noise in the transforms
_EPS = 1e-9
MAX_IN_LINE = 3

TAG_EN = {
    "上市": "listed",
    "专精特新小巨人": "SRDI 'little giant'",
    "小巨人": "SRDI 'little giant'",
    "专精特新": "SRDI firm",
    "高新技术企业": "high-tech enterprise",
}
RELATION_ZH = {
    "supplier": "供应商",
    "customer": "客户",
    "both": "供应商兼客户",
    "supplier_tier2": "二级供应商",
    "customer_tier2": "二级客户",
}
RELATION_EN = {
    "supplier": "supplier",
    "customer": "customer",
    "both": "supplier and customer",
    "supplier_tier2": "second-tier supplier",
    "customer_tier2": "second-tier customer",
}


def reason_threshold(kind: str, scales: TargetScales) -> tuple[float, bool]:
    """(threshold, strict): the component `kind` is a reason when it is above the threshold
    (strict) or at least the threshold."""
    if kind in ("partner_referral", "tags"):
        return 0.0, True
    if kind == "relocation":
        return (scales.relocation_reason, False) if scales.relocation_reason > 0 else (0.0, True)
    if kind == "growth":
        bar = 1.0 - scales.recent_years / scales.growth_horizon_years
        return (bar, False) if bar > 0 else (0.0, True)
    if kind == "size":
        return size_of_capital(scales.large_capital, scales), False
    if kind == "fit":
        return scales.good_fit, False
    if kind == "distance":
        return distance_of(scales.near_km, scales), False
    raise ValueError(f"unknown reason kind {kind!r}")


def reason_condition(kind: str, scales: TargetScales) -> pl.Expr:
    """True where the component `kind` is a reason (its column must be there)."""
    bar, strict = reason_threshold(kind, scales)
    c = pl.col(component(kind))
    return c > bar if strict else c >= bar - _EPS


def with_reasons(frame: pl.DataFrame, weights: TargetWeights) -> pl.DataFrame:
    """Add `reasons` (the kinds that are reasons, largest weighted contribution first; ties
    in the order of COMPONENTS) and `primary_reason` (the first, or null)."""
    scales = weights.scales
    w = weights.component_weights()
    is_reason = {k: pl.col(f"_is_{k}") for k in COMPONENTS}
    share = {k: pl.col(f"_by_{k}") for k in COMPONENTS}

    def ahead(j: str, k: str) -> pl.Expr:  # j is listed before k
        before = share[j] > share[k]
        if COMPONENTS.index(j) < COMPONENTS.index(k):
            before = before | (share[j] == share[k])
        return is_reason[j] & before

    # each reason's place in the list: how many reasons come before it
    place = {
        k: pl.sum_horizontal([ahead(j, k).cast(pl.Int32) for j in COMPONENTS if j != k])
        for k in COMPONENTS
    }
    # each row's order of reasons as one number (3 bits a kind: its place + 1, 0 = not a
    # reason): rows share a handful of orders, each turned into its list once
    order = (
        frame.select(
            *[reason_condition(k, scales).fill_null(False).alias(f"_is_{k}") for k in COMPONENTS],
            *[(w[k] * pl.col(component(k))).fill_null(0.0).alias(f"_by_{k}") for k in COMPONENTS],
        )
        .select(
            pl.sum_horizontal(
                pl.when(is_reason[k]).then(place[k] + 1).otherwise(0).cast(pl.Int64)
                * (1 << (3 * i))
                for i, k in enumerate(COMPONENTS)
            ).alias("_order")
        )
        .to_series()
    )
    lists = {}
    for code in order.unique().to_list():
        places = {k: (code >> (3 * i)) & 7 for i, k in enumerate(COMPONENTS)}
        lists[code] = sorted((k for k in COMPONENTS if places[k]), key=lambda k: places[k])
    reasons = order.replace_strict(lists, return_dtype=pl.List(pl.String)).alias("reasons")
    return frame.with_columns(reasons).with_columns(
        pl.col("reasons").list.first().alias("primary_reason")
    )


def _number(x: float) -> str:
    return f"{x:g}"


def _capital_zh(capital: float) -> str:
    return f"{capital / 1e4:.1f}亿元" if capital >= 1e4 else f"{capital:,.0f}万元"


# the facts each kind's words are made of
PART_FACTS: dict[str, tuple[str, ...]] = {
    "partner_referral": (
        "partner_name",
        "partner_relation",
        "partner_lead",
        "partner_via",
        "local_partners",
    ),
    "relocation": ("origin_name", "origin_lq", "origin_node_firms"),
    "tags": ("tags",),
    "growth": ("established",),
    "size": ("registered_capital", "national_rank"),
    "fit": ("node_fit",),
    "distance": ("distance_km",),
}


def _part(kind: str, row: dict[str, Any], scales: TargetScales) -> tuple[str, str]:
    """The words (zh, en) of one reason of a target, from the facts of PART_FACTS[kind]."""
    if kind == "partner_referral":
        rel = row["partner_relation"]
        who_zh = "本地链主" if row["partner_lead"] else "本地企业"
        who_en = "local lead firm" if row["partner_lead"] else "local firm"
        more = int(row["local_partners"] or 0)
        via = row.get("partner_via")
        return (
            f"{who_zh}{row['partner_name']}的{RELATION_ZH[rel]}"
            + (f"（经{via}）" if via else "")
            + (f"（共{more}家本地伙伴）" if more > 1 else ""),
            f"{RELATION_EN[rel]} of {who_en} {row['partner_name']}"
            + (f" (through {via})" if via else "")
            + (f" ({more} local partners in all)" if more > 1 else ""),
        )
    if kind == "relocation":
        lq = row["origin_lq"]
        return (
            f"来自产业转出地{row['origin_name']}（该环节LQ {lq:.1f}，同业{row['origin_node_firms']}家）",
            f"from source region {row['origin_name']}, saturated in the node "
            f"(LQ {lq:.1f}, {row['origin_node_firms']} firms)",
        )
    if kind == "tags":
        tags = known_tags(row["tags"])
        return "、".join(tags), ", ".join(dict.fromkeys(TAG_EN[t] for t in tags))
    if kind == "growth":
        year = row["established"].year if isinstance(row["established"], dt.date) else "?"
        recent = _number(scales.recent_years)
        return (
            f"近{recent}年新设（{year}年成立）",
            f"new within {recent} years (established {year})",
        )
    if kind == "size":
        capital = float(row["registered_capital"] or 0.0)
        rank = row["national_rank"]
        return (
            f"注册资本{_capital_zh(capital)}" + (f"，全国同环节第{rank}位" if rank else ""),
            f"registered capital CNY {capital / 100:,.1f} m"
            + (f", no. {rank} nationally in the node" if rank else ""),
        )
    if kind == "fit":
        return f"归链得分{row['node_fit']:.2f}", f"node fit {row['node_fit']:.2f}"
    if kind == "distance":
        return f"距本地约{row['distance_km']:.0f}公里", f"about {row['distance_km']:.0f} km away"
    raise ValueError(f"unknown reason kind {kind!r}")


REASON_FACTS = (
    "reasons",
    "partner_name",
    "partner_relation",
    "partner_lead",
    "partner_via",
    "local_partners",
    "origin_name",
    "origin_lq",
    "origin_node_firms",
    "tags",
    "established",
    "registered_capital",
    "national_rank",
    "node_fit",
    "distance_km",
)


def reason_lines(frame: pl.DataFrame, scales: TargetScales) -> pl.DataFrame:
    """Add `reason_zh` and `reason_en`: the reasons in order, joined by ；/ ;. Needs the
    columns of REASON_FACTS (`with_reasons` first); a row without reasons says it was chosen
    on the overall score (`partner_via`, the firm between a second-tier target and the lead
    firm, may be absent).

    Each kind's words are formed once per distinct set of its facts (a firm listed for many
    regions has the same size, tags and origin in all), then placed by the order of
    `reasons`."""
    facts = frame.with_row_index("_row")
    if "partner_via" not in facts.columns:
        facts = facts.with_columns(pl.lit(None, pl.String).alias("partner_via"))
    slots = [pl.col("reasons").list.get(i, null_on_oob=True) for i in range(MAX_IN_LINE)]
    words: dict[str, dict[str, pl.Expr]] = {"zh": {}, "en": {}}
    for kind, columns in PART_FACTS.items():
        wanted = facts.filter(pl.any_horizontal([s == kind for s in slots]).fill_null(False))
        keys = list(columns)
        distinct = wanted.select(keys).unique()
        made = [_part(kind, row, scales) for row in distinct.iter_rows(named=True)]
        table = distinct.with_columns(
            pl.Series(f"_zh_{kind}", [m[0] for m in made], dtype=pl.String),
            pl.Series(f"_en_{kind}", [m[1] for m in made], dtype=pl.String),
        )
        facts = facts.join(table, on=keys, how="left", nulls_equal=True)
        for lang in ("zh", "en"):
            words[lang][kind] = pl.col(f"_{lang}_{kind}")
    lines = {}
    for lang, separator, none in (
        ("zh", "；", "无单项突出理由，按综合得分入选"),
        ("en", "; ", "no single strong reason; chosen on the overall score"),
    ):
        placed = [
            pl.coalesce([pl.when(slot == k).then(text) for k, text in words[lang].items()])
            for slot in slots
        ]
        line = pl.concat_str(placed, separator=separator, ignore_nulls=True)
        lines[f"reason_{lang}"] = pl.when(line == "").then(pl.lit(none)).otherwise(line)
    made_lines = facts.sort("_row").select(**lines)
    return frame.with_columns(made_lines["reason_zh"], made_lines["reason_en"])
