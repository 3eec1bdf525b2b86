"""Diagnosis of one region × one chain: an explicit tuple of steps run by one function.

Each step takes and returns the working state; data access is in `data.py`, the figures
are the pure functions of `chainatlas.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from chainatlas.atlas.graph import customers, suppliers
from chainatlas.atlas.model import Chain
from chainatlas.diagnose import data
from chainatlas.diagnose.actions import recommend_actions
from chainatlas.diagnose.model import (
    BreakEvidence,
    ChainRef,
    DiagnosedNode,
    Diagnosis,
    FirmNetwork,
    LeadFirm,
    Partner,
    RegionRef,
    SinglePointOfFailure,
    Sourcing,
)
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.completeness import completeness
from chainatlas.metrics.lead_firm import lead_firm_score
from chainatlas.metrics.lq import location_quotient
from chainatlas.metrics.network import (
    local_purchases_share,
    local_sourcing_rate,
    single_points_of_failure,
)
from chainatlas.metrics.status import break_evidence, breaks, node_status
from chainatlas.metrics.trends import cluster_quadrant, lq_change
from chainatlas.reference.regions import load_regions, region_full_name
from chainatlas.settings import LeadFirmWeights, StatusThresholds

LEAD_FIRMS_PER_NODE = 3
CANDIDATE_POOL = 10
TOP_PARTNERS = 3  # largest suppliers and customers listed per lead firm
TREND_YEARS = 5  # the quadrant compares LQ now with LQ this many years before


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
    # supply network; empty / None on a warehouse without the network tables
    network: bool = False
    sourcing: dict[str, Any] | None = None
    node_sourcing: pl.DataFrame = field(default_factory=pl.DataFrame)
    inputs: pl.DataFrame = field(default_factory=pl.DataFrame)
    spof: pl.DataFrame = field(default_factory=pl.DataFrame)
    partners: pl.DataFrame = field(default_factory=pl.DataFrame)
    top_partners: int = TOP_PARTNERS
    # trend: (year_then, year_now) when the warehouse has cohort tables and dates
    trend_years: tuple[int, int] | None = None


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


def assess_trend(s: State) -> State:
    """LQ `TREND_YEARS` ago and the cluster quadrant of each node (docs/trends-peers.md)."""
    activity = data.trend_activity(s.wh, s.chain.id, s.region.level, s.region.code, TREND_YEARS)
    if activity is None:
        s.nodes = s.nodes.with_columns(
            pl.lit(None, pl.Float64).alias("lq_then"), pl.lit(None, pl.String).alias("quadrant")
        )
        return s
    year_then, year_now, node_active, chain_active = activity
    change = lq_change(node_active, chain_active, year_then=year_then, year_now=year_now)
    change = change.select("node_id", "lq_then", "lq_now", "lq_delta")
    s.nodes = (
        s.nodes.join(change, on="node_id", how="left")
        .with_columns(pl.col("lq_delta").fill_null(0.0))
        .with_columns(cluster_quadrant())
        .drop("lq_now", "lq_delta")
    )
    s.trend_years = (year_then, year_now)
    return s


def measure_sourcing(s: State) -> State:
    """Local sourcing rate of the chain, per buying node and per input node."""
    s.network = data.has_network(s.wh)
    level, code, coverage = s.region.level, s.region.code, s.thresholds.min_amount_coverage
    if not s.network:
        s.nodes = s.nodes.with_columns(
            pl.lit(0, pl.Int64).alias("input_links"),
            pl.lit(None, pl.Float64).alias("input_local_sourcing_rate"),
        )
        return s
    chain = data.chain_sourcing(s.wh, level, s.chain.id, code)
    if not chain.height:  # no purchases: a zero row, so the rate is null with a null basis
        chain = pl.DataFrame({c: [0] for c in data.PURCHASE_COLUMNS})
    s.sourcing = local_sourcing_rate(chain, min_amount_coverage=coverage).row(0, named=True)
    s.node_sourcing = local_sourcing_rate(
        data.node_sourcing(s.wh, level, s.chain.id, code), min_amount_coverage=coverage
    )
    s.inputs = local_sourcing_rate(
        data.input_sourcing(s.wh, level, s.chain.id, code), min_amount_coverage=coverage
    )
    evidence = s.inputs.select(
        "node_id",
        pl.col("links").alias("input_links"),
        pl.col("local_sourcing_rate").alias("input_local_sourcing_rate"),
    )
    s.nodes = s.nodes.join(evidence, on="node_id", how="left").with_columns(
        pl.col("input_links").fill_null(0)
    )
    return s


def _with_network(s: State, pool: pl.DataFrame) -> pl.DataFrame:
    """The candidates' on-chain partners inside the region and their local purchases share."""
    if not s.network or s.sourcing is None:
        return pool
    usccs = pool["uscc"].unique().to_list()
    nets = data.firm_networks(s.wh, s.chain.id, s.region.level, s.region.code, usccs)
    pool = pool.join(nets, on="uscc", how="left")
    return local_purchases_share(
        pool,
        local_links=int(s.sourcing["local_links"]),
        local_amount=float(s.sourcing["local_amount"]),
        basis_used=s.sourcing["basis"],
    )


def find_lead_firms(s: State) -> State:
    pool = data.local_firms_by_rank(
        s.wh, s.chain.id, s.region.level, s.region.code, CANDIDATE_POOL
    ).join(
        s.nodes.select("node_id", "stage", pl.col("national_firm_count").alias("node_firms")),
        on="node_id",
    )
    pool = _with_network(s, pool)
    weights = s.weights.model_dump()
    scored = [
        lead_firm_score(group, **weights).head(LEAD_FIRMS_PER_NODE)
        for _, group in pool.group_by("node_id")
    ]
    s.leads = pl.concat(scored, how="diagonal_relaxed") if scored else pool.clear()
    if s.network and s.leads.height and s.top_partners > 0:
        usccs = s.leads["uscc"].unique().to_list()
        s.partners = data.top_partners(s.wh, s.chain.id, usccs, s.top_partners)
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


def weigh_break_evidence(s: State) -> State:
    t = s.thresholds
    s.nodes = break_evidence(
        s.nodes, local_share_below=t.break_local_share, min_links=t.network_min_links
    )
    return s


def find_single_points_of_failure(s: State) -> State:
    if s.inputs.height:
        t = s.thresholds
        s.spof = single_points_of_failure(
            s.inputs,
            spof_share=t.spof_share,
            min_links=t.network_min_links,
            min_amount_coverage=t.min_amount_coverage,
        )
    return s


STEPS: tuple[Callable[[State], State], ...] = (
    count_firms,
    compute_lq,
    assess_trend,
    measure_sourcing,
    find_lead_firms,
    classify_status,
    find_breaks,
    weigh_break_evidence,
    find_single_points_of_failure,
)


def _sourcing(row: dict[str, Any] | None) -> Sourcing | None:
    if row is None:
        return None
    return Sourcing(
        links=int(row["links"] or 0),
        amount_links=int(row["amount_links"] or 0),
        amount=round(float(row["amount"] or 0), 2),
        local_links=int(row["local_links"] or 0),
        local_amount=round(float(row["local_amount"] or 0), 2),
        basis=row["basis"],
        local_sourcing_rate=_opt(row["local_sourcing_rate"]),
    )


def _node_sourcing(frame: pl.DataFrame, node_id: str) -> Sourcing | None:
    if not frame.height:
        return None
    hit = frame.filter(pl.col("node_id") == node_id)
    if hit.height:
        return _sourcing(hit.row(0, named=True))
    empty = dict.fromkeys(("links", "amount_links", "amount", "local_links", "local_amount"), 0)
    return _sourcing({**empty, "basis": None, "local_sourcing_rate": None})


def _inside(row: dict[str, Any], s: State) -> bool:
    column = data.LEVEL_COLUMN[s.region.level]
    return bool(row[column] == s.region.code)


def _partner_models(s: State, uscc: str, role: str) -> list[Partner]:
    if not s.partners.height:
        return []
    rows = s.partners.filter((pl.col("uscc") == uscc) & (pl.col("role") == role))
    return [
        Partner(
            uscc=r["partner_uscc"],
            name=r["name"],
            region_code=r["region_code"],
            inside=_inside(r, s),
            links=int(r["links"]),
            amount=_opt(r["amount"]),
        )
        for r in rows.iter_rows(named=True)
    ]


def _firm_network(s: State, r: dict[str, Any]) -> FirmNetwork | None:
    if not s.network:
        return None

    def n(key: str) -> float:
        return float(r.get(key) or 0)

    return FirmNetwork(
        suppliers_inside=int(n("suppliers_in")),
        suppliers_outside=int(n("suppliers") - n("suppliers_in")),
        customers_inside=int(n("customers_in")),
        customers_outside=int(n("customers") - n("customers_in")),
        purchases_inside=round(n("purchases_in"), 2),
        purchases_outside=round(n("purchases") - n("purchases_in"), 2),
        sales_inside=round(n("sales_in"), 2),
        sales_outside=round(n("sales") - n("sales_in"), 2),
        top_suppliers=_partner_models(s, r["uscc"], "supplier"),
        top_customers=_partner_models(s, r["uscc"], "customer"),
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
            local_purchases_share=round(float(r.get("local_purchases_share") or 0), 4),
            lead_score=round(float(r["lead_score"]), 4),
            components={k: round(float(r[f"{k}_component"]), 4) for k in weights},
            weights=weights,
            network=_firm_network(s, r),
        )
        for r in rows.iter_rows(named=True)
    ]


def _opt(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _break_evidence(s: State, row: dict[str, Any]) -> BreakEvidence | None:
    if row["break_evidence"] is None:
        return None
    inputs = s.inputs.filter(pl.col("node_id") == row["node_id"]) if s.inputs.height else None
    basis = inputs["basis"][0] if inputs is not None and inputs.height else None
    return BreakEvidence(
        verdict=row["break_evidence"],
        local_sourcing_rate=_opt(row["input_local_sourcing_rate"]),
        basis=basis,
        links=int(row["input_links"] or 0),
        threshold=s.thresholds.break_local_share,
    )


def _spof_models(s: State) -> list[SinglePointOfFailure]:
    return [
        SinglePointOfFailure(
            node_id=r["node_id"],
            kind=r["kind"],
            code=r["code"],
            name=r["name"] if r["kind"] == "supplier" else region_full_name(r["code"]),
            share=round(float(r["share"]), 4),
            basis=r["basis"],
            links=int(r["links"]),
        )
        for r in s.spof.iter_rows(named=True)
    ]


def diagnose(
    wh: Warehouse,
    chain: Chain,
    region_code: str,
    thresholds: StatusThresholds | None = None,
    weights: LeadFirmWeights | None = None,
    *,
    top_partners: int = TOP_PARTNERS,
) -> Diagnosis:
    """Diagnose `chain` in region `region_code` (any level) from the warehouse.

    `top_partners`: how many of each lead firm's largest suppliers and customers to name
    (0 skips the scan of supply_links this needs — about 2 s on 30 M links)."""
    state = State(
        wh,
        chain,
        resolve_region(region_code),
        thresholds or StatusThresholds(),
        weights or LeadFirmWeights(),
        top_partners=top_partners,
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
            lq_then=_opt(rows[n.id]["lq_then"]),
            quadrant=rows[n.id]["quadrant"],
            is_break=bool(rows[n.id]["break"]),
            break_evidence=_break_evidence(state, rows[n.id]),
            sourcing=_node_sourcing(state.node_sourcing, n.id) if state.network else None,
            input_sourcing=_node_sourcing(state.inputs, n.id) if state.network else None,
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
        sourcing=_sourcing(state.sourcing),
        single_points_of_failure=_spof_models(state),
        link_counts=data.link_counts(wh) if state.network else None,
        trend_years=list(state.trend_years) if state.trend_years else None,
        nodes=nodes,
        actions=recommend_actions(chain, nodes),
    )
