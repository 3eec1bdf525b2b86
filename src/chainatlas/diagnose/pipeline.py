"""Diagnosis of one region × one chain: an explicit tuple of steps run by one function.

Each step takes and returns the working state; data access is in `data.py`, the figures
are the pure functions of `chainatlas.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from chainatlas.atlas.graph import customers, suppliers
from chainatlas.atlas.model import Chain
from chainatlas.diagnose import data
from chainatlas.diagnose.actions import recommend_actions
from chainatlas.diagnose.model import (
    ChainRef,
    DiagnosedNode,
    Diagnosis,
    LeadFirm,
    RegionRef,
)
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.completeness import completeness
from chainatlas.metrics.lead_firm import lead_firm_score
from chainatlas.metrics.lq import location_quotient
from chainatlas.metrics.status import breaks, node_status
from chainatlas.reference.regions import load_regions, region_full_name
from chainatlas.settings import LeadFirmWeights, StatusThresholds

LEAD_FIRMS_PER_NODE = 3
CANDIDATE_POOL = 10


class UnknownRegionError(ValueError):
    pass


@dataclass
class State:
    wh: Warehouse
    chain: Chain
    region: RegionRef
    thresholds: StatusThresholds
    weights: LeadFirmWeights
    nodes: pl.DataFrame = field(default_factory=pl.DataFrame)
    totals: dict[str, float] = field(default_factory=dict)
    leads: pl.DataFrame = field(default_factory=pl.DataFrame)


def resolve_region(code: str) -> RegionRef:
    hit = load_regions().filter(pl.col("region_code") == code)
    if not hit.height:
        raise UnknownRegionError(f"未知的行政区划代码 {code} / unknown region code {code}")
    row = hit.row(0, named=True)
    return RegionRef(
        code=code, name=row["name"], full_name=region_full_name(code), level=row["level"]
    )


def count_firms(s: State) -> State:
    skeleton = pl.DataFrame(
        {
            "node_id": [n.id for n in s.chain.nodes],
            "stage": [n.stage for n in s.chain.nodes],
            "weight": [n.weight for n in s.chain.nodes],
        }
    )
    counts = data.node_counts(s.wh, s.chain.id, s.region.level, s.region.code)
    s.nodes = skeleton.join(counts, on="node_id", how="left").fill_null(0)
    s.totals = data.chain_totals(s.wh, s.chain.id, s.region.level, s.region.code)
    return s


def compute_lq(s: State) -> State:
    t = s.totals
    s.nodes = (
        s.nodes.with_columns(
            pl.lit(t["local_firms"]).alias("_xr"),
            pl.lit(t["national_firms"]).alias("_X"),
            pl.lit(t["local_capital"]).alias("_cr"),
            pl.lit(t["national_capital"]).alias("_C"),
            pl.lit(t["local_revenue"]).alias("_vr"),
            pl.lit(t["national_revenue"]).alias("_V"),
        )
        .with_columns(
            location_quotient("firm_count", "_xr", "national_firm_count", "_X"),
            location_quotient("capital", "_cr", "national_capital", "_C", name="lq_capital"),
            location_quotient("revenue", "_vr", "national_revenue", "_V", name="lq_revenue"),
            pl.when(pl.col("national_firm_count") > 0)
            .then(pl.col("firm_count") / pl.col("national_firm_count"))
            .otherwise(0.0)
            .alias("national_share"),
        )
        .drop("_xr", "_X", "_cr", "_C", "_vr", "_V")
    )
    return s


def find_lead_firms(s: State) -> State:
    pool = data.local_firms_by_rank(
        s.wh, s.chain.id, s.region.level, s.region.code, CANDIDATE_POOL
    ).join(
        s.nodes.select("node_id", "stage", pl.col("national_firm_count").alias("node_firms")),
        on="node_id",
    )
    w = s.weights
    scored = [
        lead_firm_score(
            group, size=w.size, partners=w.partners, tags=w.tags, downstream=w.downstream
        ).head(LEAD_FIRMS_PER_NODE)
        for _, group in pool.group_by("node_id")
    ]
    s.leads = pl.concat(scored) if scored else pool.clear()
    best = pool.group_by("node_id").agg(pl.col("national_rank").min().alias("best_national_rank"))
    s.nodes = s.nodes.join(best, on="node_id", how="left")
    return s


def classify_status(s: State) -> State:
    t = s.thresholds
    s.nodes = node_status(
        s.nodes,
        min_firms=t.min_firms,
        strong_lq=t.strong_lq,
        strong_lead_rank=t.strong_lead_rank,
        weak_lq=t.weak_lq,
    )
    return s


def find_breaks(s: State) -> State:
    s.nodes = breaks(s.nodes, [(e.supplier, e.customer) for e in s.chain.edges])
    return s


STEPS: tuple[Callable[[State], State], ...] = (
    count_firms,
    compute_lq,
    find_lead_firms,
    classify_status,
    find_breaks,
)


def _lead_models(s: State, node_id: str) -> list[LeadFirm]:
    rows = s.leads.filter(pl.col("node_id") == node_id) if s.leads.height else s.leads
    weights = s.weights.model_dump()
    return [
        LeadFirm(
            uscc=r["uscc"],
            name=r["name"],
            region_code=r["region_code"],
            registered_capital=r["registered_capital"],
            revenue=r["revenue"],
            tags=[t for t in (r["tags"] or "").split(";") if t],
            national_rank=int(r["national_rank"]),
            local_partners=int(r["local_partners"]),
            lead_score=round(float(r["lead_score"]), 4),
            components={k: round(float(r[f"{k}_component"]), 4) for k in weights},
            weights=weights,
        )
        for r in rows.iter_rows(named=True)
    ]


def _opt(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def diagnose(
    wh: Warehouse,
    chain: Chain,
    region_code: str,
    thresholds: StatusThresholds | None = None,
    weights: LeadFirmWeights | None = None,
) -> Diagnosis:
    state = State(
        wh,
        chain,
        resolve_region(region_code),
        thresholds or StatusThresholds(),
        weights or LeadFirmWeights(),
    )
    for step in STEPS:
        state = step(state)
    rows = {r["node_id"]: r for r in state.nodes.iter_rows(named=True)}
    nodes = [
        DiagnosedNode(
            id=n.id,
            name_zh=n.name_zh,
            name_en=n.name_en,
            stage=n.stage,
            weight=n.weight,
            firm_count=int(rows[n.id]["firm_count"]),
            capital=round(float(rows[n.id]["capital"]), 2),
            revenue=round(float(rows[n.id]["revenue"]), 2) if rows[n.id]["revenue_firms"] else None,
            national_firm_count=int(rows[n.id]["national_firm_count"]),
            national_share=round(float(rows[n.id]["national_share"]), 6),
            lq=_opt(rows[n.id]["lq"]),
            lq_capital=_opt(rows[n.id]["lq_capital"]),
            lq_revenue=_opt(rows[n.id]["lq_revenue"]) if rows[n.id]["revenue_firms"] else None,
            status=rows[n.id]["status"],
            is_break=bool(rows[n.id]["break"]),
            suppliers=suppliers(chain, n.id),
            customers=customers(chain, n.id),
            lead_firms=_lead_models(state, n.id),
        )
        for n in chain.nodes
    ]
    counts = {
        k: sum(1 for n in nodes if n.status == k) for k in ("missing", "weak", "present", "strong")
    }
    counts["break"] = sum(1 for n in nodes if n.is_break)
    return Diagnosis(
        region=state.region,
        chain=ChainRef(id=chain.id, name_zh=chain.name_zh, name_en=chain.name_en),
        synthetic_data=data.warehouse_is_synthetic(wh),
        thresholds=state.thresholds.model_dump(),
        firm_count=int(state.totals["local_firms"]),
        national_firm_count=int(state.totals["national_firms"]),
        completeness=round(completeness(state.nodes.select("node_id", "weight", "status")), 4),
        status_counts=counts,
        nodes=nodes,
        actions=recommend_actions(chain, nodes),
    )
