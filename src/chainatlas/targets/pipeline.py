"""Targets of one region × chain (J3): for each gap node of the diagnosis, the firms
elsewhere to approach, scored, explained and ranked (docs/targets.md).

Reads go through `candidates` (Ibis); components, score and pruning are the pure functions
of `score`; the reasons those of `reasons`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from functools import cache
from typing import Any

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.data import warehouse_is_synthetic
from chainatlas.diagnose.model import DiagnosedNode, Diagnosis
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions
from chainatlas.targets import candidates
from chainatlas.targets.model import (
    Exclusions,
    LocalPartner,
    Origin,
    Target,
    TargetList,
    TargetNode,
)
from chainatlas.targets.reasons import REASON_KINDS, reason_condition, reason_lines, with_reasons
from chainatlas.targets.score import (
    component,
    distance_component,
    great_circle_km,
    partner_points,
    partner_referral,
    prune,
    rank_targets,
    relocation,
    tags_component,
    target_components,
    target_score,
    tier2_points,
)
from chainatlas.targets.weights import COMPONENTS, TargetScales, TargetWeights

GAP_STATUSES = ("missing", "weak")
# partner reads are limited to the gap nodes' firms when these hold less of the chain
LIMIT_READS_BELOW = 0.5
PARTNERS_SHOWN = 3


def gap_nodes(diagnosis: Diagnosis, node_id: str | None = None) -> list[DiagnosedNode]:
    """The `missing`, `weak` and `break` nodes in chain order, or the one node asked for."""
    if node_id is not None:
        hit = [n for n in diagnosis.nodes if n.id == node_id]
        if not hit:
            known = "、".join(n.id for n in diagnosis.nodes)
            raise UserError(
                f"产业链 {diagnosis.chain.id} 没有环节 {node_id}；可用：{known}",
                f"chain {diagnosis.chain.id} has no node {node_id}; known: {known}",
            )
        return hit
    return [n for n in diagnosis.nodes if n.status in GAP_STATUSES or n.is_break]


@cache
def _region_names() -> tuple[dict[str, str], dict[str, str | None]]:
    regions = load_regions()
    return (
        dict(regions.select("region_code", "name").iter_rows()),
        dict(regions.select("region_code", "parent_code").iter_rows()),
    )


def full_name(code: str) -> str:
    """Province, city, county names joined (as `region_full_name`, with the lookups built
    once: it is called for every target)."""
    names, parents = _region_names()
    parts: list[str] = []
    cursor: str | None = code
    while cursor is not None and cursor in names:
        if not parts or parts[-1] != names[cursor]:
            parts.append(names[cursor])
        cursor = parents.get(cursor)
    return "".join(reversed(parts)) or code


def region_facts(region_code: str, scales: TargetScales) -> pl.DataFrame:
    """Every region's origin (its city, or its province when it has no city), great-circle
    distance to `region_code` (null when a coordinate is missing) and distance component:
    region, origin (codes as numbers: the pool's join keys), distance_km,
    distance_component."""
    regions = load_regions()
    here = regions.filter(pl.col("region_code") == region_code)
    lon, lat = here.select("lon", "lat").row(0) if here.height else (None, None)
    km = great_circle_km(
        pl.col("lon"), pl.col("lat"), pl.lit(lon, pl.Float64), pl.lit(lat, pl.Float64)
    )
    return regions.select(
        pl.col("region_code").cast(pl.Int32).alias("region"),
        pl.coalesce("city_code", "province_code").cast(pl.Int32).alias("origin"),
        km.alias("distance_km"),
        distance_component(km, scales).alias(component("distance")),
    )


def _origins(origins: pl.DataFrame, node_ids: list[str]) -> pl.DataFrame:
    index = {n: i for i, n in enumerate(node_ids)}
    return origins.select(
        pl.col("origin_code").cast(pl.Int32).alias("origin"),
        pl.col("node_id").replace_strict(index, return_dtype=pl.Int64).alias("node"),
        pl.col("lq").alias("origin_lq"),
        pl.col("node_firms").alias("origin_node_firms"),
        pl.col("source").alias("origin_source"),
        component("relocation"),
    )


def _tag_points(frame: pl.DataFrame) -> pl.DataFrame:
    """tags_component through the distinct tag strings (a handful among many rows)."""
    kinds = (
        frame.select("tags")
        .unique()
        .with_columns(tags_component(pl.col("tags")).alias(component("tags")))
    )
    return frame.join(kinds, on="tags", how="left", nulls_equal=True)


def _counts(frame: pl.DataFrame, node_ids: list[str]) -> dict[str, int]:
    if not frame.height:
        return {}
    return {node_ids[k]: int(v) for k, v in frame.group_by("node").len().iter_rows()}


def best_partners(points: pl.DataFrame, keys: Sequence[str] = ()) -> pl.DataFrame:
    """Each firm's local partners (per `keys`, the region asking, when given), strongest
    first (points, amount, links, code), numbered `partner_rank` from 1."""
    firm = [*keys, "uscc"]
    return points.sort(
        [*firm, "points", "amount", "links", "local_uscc"],
        descending=[*[False] * len(firm), True, True, True, False],
        nulls_last=True,
    ).with_columns(pl.int_range(1, pl.len() + 1).over(firm).alias("partner_rank"))


def _target(row: dict[str, Any], partners: list[LocalPartner]) -> Target:
    def opt(key: str, digits: int = 2) -> float | None:
        value = row[key]
        return None if value is None else round(float(value), digits)

    return Target(
        rank=int(row["rank"]),
        uscc=row["uscc"],
        name=row["name"] or row["uscc"],
        region_code=row["region_code"],
        region_name=full_name(row["region_code"]),
        registered_capital=opt("registered_capital"),
        revenue=opt("revenue"),
        established=row["established"],
        tags=[t for t in (row["tags"] or "").split(";") if t],
        national_rank=row["national_rank"],
        node_fit=round(float(row["node_fit"] or 0.0), 4),
        distance_km=opt("distance_km", 1),
        origin=Origin(
            code=row["origin_code"],
            name=row["origin_name"],
            source=bool(row["origin_source"]),
            lq=opt("origin_lq", 4),
            node_firms=int(row["origin_node_firms"] or 0),
        ),
        local_partners=int(row["local_partners"] or 0),
        partners=partners,
        components={k: round(float(row[component(k)]), 4) for k in COMPONENTS},
        score=round(float(row["score"]), 4),
        reasons=list(row["reasons"]),
        primary_reason=row["primary_reason"],
        reason_zh=row["reason_zh"],
        reason_en=row["reason_en"],
    )


def _share_of_chain(diagnosis: Diagnosis, node_ids: Collection[str]) -> float:
    """The nodes' share of the chain's national firm count (firms on several nodes counted
    on each)."""
    counts = {n.id: n.national_firm_count for n in diagnosis.nodes}
    total = sum(counts.values())
    return sum(counts.get(n, 0) for n in node_ids) / total if total else 1.0


def score_pool(
    wh: Warehouse,
    chain: Chain,
    diagnosis: Diagnosis,
    node_ids: list[str],
    *,
    weights: TargetWeights,
    as_of: dt.date,
    excluded: Collection[str] = frozenset(),
    reason: str | None = None,
    top: int | None = 20,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, dict[str, int]]]:
    """The ranked targets of `node_ids` (every column the model needs), the local partners
    of the firms outside the region (`partner_points` rows, second tier included) and
    per-node counts (candidates, excluded_contacted,
    matching).

    With `top`, the pool is pruned (`score.prune`, exact) before codes, names and dates are
    read; `top=None` reads and scores the whole pool (slow on a national warehouse: the
    benchmark's baseline)."""
    scales = weights.scales
    level, code = diagnosis.region.level, diagnosis.region.code
    lead_usccs = {f.uscc for n in diagnosis.nodes for f in n.lead_firms}
    # reading only the links that can matter pays when the gap nodes hold a small part of the
    # chain's firms (a big city's links are mostly elsewhere); otherwise the filter costs more
    # than it saves
    limit = node_ids if _share_of_chain(diagnosis, node_ids) < LIMIT_READS_BELOW else None
    links = candidates.local_links(wh, chain.id, level, code, limit, lead_usccs)
    local = candidates.local_firms(wh, chain.id, level, code)
    points = partner_points(links, local, lead_usccs, scales)
    if scales.tier2_factor > 0:
        via = points.filter(pl.col("lead_firm")).select(
            pl.col("uscc").alias("via_uscc"), "relation"
        )
        tier2 = tier2_points(candidates.tier2_links(wh, chain.id, via, limit), points, scales)
        points = pl.concat([points, tier2], how="diagonal_relaxed")
    # candidates are outside the region: the region's own firms' rows served the second tier
    points = points.join(local.select("uscc").unique(), on="uscc", how="anti")
    facts = candidates.pool_facts(
        wh, chain.id, node_ids, level, code, partners=partner_referral(points), excluded=excluded
    )
    if "node_fit" not in facts.columns:
        facts = facts.join(candidates.node_fits(wh, chain.id, node_ids), on="pool_key")
    origins = relocation(
        candidates.origin_facts(wh, chain.id, node_ids), weights.source_provinces, scales
    )
    facts = (
        _tag_points(facts)
        .with_columns((pl.col("pool_key") // (1 << candidates.NODE_SHIFT)).alias("node"))
        .join(region_facts(code, scales), on="region", how="left")
        .join(_origins(origins, node_ids), on=["origin", "node"], how="left")
    )
    facts = target_components(facts, scales, as_of)
    counts = {
        "candidates": _counts(facts, node_ids),
        "excluded_contacted": candidates.excluded_counts(
            wh, chain.id, node_ids, level, code, excluded
        ),
    }
    dated = "established" in facts.columns
    if reason is not None and (reason != "growth" or dated):
        facts = facts.filter(reason_condition(reason, scales))
    counts["matching"] = _counts(facts, node_ids)
    pruned = top is not None and (reason != "growth" or dated)
    if pruned:
        assert top is not None
        facts = prune(facts, weights, top, unknown=[] if dated else ["growth"], by="node")
        rows = candidates.pool_rows(wh, chain.id, node_ids, facts["pool_key"])
    else:
        rows = candidates.all_pool_rows(wh, chain.id, node_ids, level, code, excluded)
    facts = facts.drop("registered_capital", "tags").join(rows, on="pool_key", how="inner")
    if not dated:
        dates = (
            candidates.establishment_dates(wh, facts["uscc"].to_list())
            if pruned
            else candidates.pool_dates(wh, chain.id, node_ids, level, code)
        )
        facts = target_components(facts.join(dates, on="uscc", how="left"), scales, as_of)
        if reason == "growth":  # not pruned: the whole pool is here
            facts = facts.filter(reason_condition(reason, scales))
            counts["matching"] = _counts(facts, node_ids)
    facts = facts.with_columns(pl.coalesce("city_code", "province_code").alias("origin_code"))
    ranked = rank_targets(target_score(facts, weights), top)
    return ranked, points, counts


def find_targets(
    wh: Warehouse,
    chain: Chain,
    diagnosis: Diagnosis,
    *,
    node_id: str | None = None,
    top: int = 20,
    reason: str | None = None,
    excluded: Collection[str] = frozenset(),
    exclusion_file: str | None = None,
    weights: TargetWeights | None = None,
    as_of: dt.date | None = None,
) -> TargetList:
    """Targets for the diagnosis' gap nodes (or `node_id`): the `top` best per node.

    excluded: credit codes of firms already contacted (the exclusion list)."""
    weights = weights or TargetWeights()
    as_of = as_of or dt.date.today()
    if top < 1:
        raise UserError(f"--top 须为正整数，而不是 {top}", f"--top must be at least 1, not {top}")
    if reason is not None and reason not in REASON_KINDS:
        raise UserError(
            f"未知的理由类型 {reason}；可用：{'、'.join(REASON_KINDS)}",
            f"unknown reason kind {reason}; use one of: {', '.join(REASON_KINDS)}",
        )
    nodes = gap_nodes(diagnosis, node_id)
    ids = [n.id for n in nodes]
    if ids:
        ranked, partners, counts = score_pool(
            wh,
            chain,
            diagnosis,
            ids,
            weights=weights,
            as_of=as_of,
            excluded=excluded,
            reason=reason,
            top=top,
        )
    else:
        ranked, partners, counts = pl.DataFrame(), pl.DataFrame(), {}
    targets = _targets(
        ranked, partners, weights, lambda usccs: candidates.firm_names(wh, chain.id, usccs)
    )
    listed = set(excluded)
    return TargetList(
        region=diagnosis.region,
        chain=diagnosis.chain,
        synthetic_data=warehouse_is_synthetic(wh),
        as_of=as_of,
        node_id=node_id,
        top=top,
        reason=reason,
        weights=weights.component_weights(),
        scales={k: float(v) for k, v in weights.scales.model_dump().items()},
        source_provinces=list(weights.source_provinces),
        exclusions=Exclusions(
            file=exclusion_file,
            listed=len(listed),
            excluded=sum(counts.get("excluded_contacted", {}).values()),
        ),
        nodes=[
            TargetNode(
                id=n.id,
                name_zh=n.name_zh,
                name_en=n.name_en,
                stage=n.stage,
                status=n.status,
                is_break=n.is_break,
                firm_count=n.firm_count,
                national_firm_count=n.national_firm_count,
                candidates=counts.get("candidates", {}).get(n.id, 0),
                excluded_contacted=counts.get("excluded_contacted", {}).get(n.id, 0),
                matching=counts.get("matching", {}).get(n.id, 0),
                targets=targets.get(n.id, []),
            )
            for n in nodes
        ],
    )


def _targets(
    ranked: pl.DataFrame,
    partners: pl.DataFrame,
    weights: TargetWeights,
    via_names: Callable[[list[str]], pl.DataFrame] | None = None,
) -> dict[str, list[Target]]:
    if not ranked.height:
        return {}
    # ranked first: sorting every firm's partners would cost more than the whole scoring
    ranked_partners = best_partners(partners.filter(pl.col("uscc").is_in(ranked["uscc"].implode())))
    shown = ranked_partners.filter(pl.col("partner_rank") <= PARTNERS_SHOWN)
    if "via_uscc" not in shown.columns:
        shown = shown.with_columns(
            pl.lit(None, pl.String).alias("via_uscc"), pl.lit(None, pl.String).alias("via_name")
        )
    elif via_names is not None and shown["via_uscc"].drop_nulls().len():
        names = via_names(shown["via_uscc"].drop_nulls().unique().to_list())
        shown = shown.drop("via_name").join(
            names.rename({"uscc": "via_uscc", "name": "via_name"}), on="via_uscc", how="left"
        )
    best = shown.filter(pl.col("partner_rank") == 1).select(
        "uscc",
        pl.col("local_name").alias("partner_name"),
        pl.col("relation").alias("partner_relation"),
        pl.col("lead_firm").alias("partner_lead"),
        pl.col("via_name").alias("partner_via"),
    )
    ranked = ranked.join(best, on="uscc", how="left").with_columns(
        pl.col("origin_code").map_elements(full_name, return_dtype=pl.String).alias("origin_name")
    )
    ranked = with_reasons(ranked, weights)
    ranked = reason_lines(ranked, weights.scales)
    by_firm: dict[str, list[LocalPartner]] = {}
    for p in shown.iter_rows(named=True):
        by_firm.setdefault(p["uscc"], []).append(
            LocalPartner(
                uscc=p["local_uscc"],
                name=p["local_name"],
                relation=p["relation"],
                lead_firm=bool(p["lead_firm"]),
                links=int(p["links"]),
                amount=None if p["amount"] is None else round(float(p["amount"]), 2),
                points=round(float(p["points"]), 4),
                via_uscc=p["via_uscc"],
                via_name=p["via_name"],
            )
        )
    out: dict[str, list[Target]] = {}
    for row in ranked.iter_rows(named=True):
        out.setdefault(row["node_id"], []).append(_target(row, by_firm.get(row["uscc"], [])))
    return out


__all__ = ["find_targets", "gap_nodes", "score_pool"]
