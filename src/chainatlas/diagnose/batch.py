"""Diagnose every region of one level on every chain at once (provincial planners, J8).

The same figures as `pipeline.diagnose` (LQ, status, break, completeness) computed with frame
operations over the whole cube instead of a loop over regions; a test checks both agree.
Lead-firm lists are left to the single-region diagnosis; the strong-by-lead-firm rule uses
the best national rank of a local firm per node. The supply-network figures (local sourcing
rate, break evidence, single points of failure) come from the network tables rolled up to
the level, through the same pure functions as the single-region diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.diagnose import data
from chainatlas.diagnose.data import LEVEL_COLUMN
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.lead_firm import lead_firm_score
from chainatlas.metrics.lq import location_quotient
from chainatlas.metrics.network import (
    local_purchases_share,
    local_sourcing_rate,
    single_points_of_failure,
)
from chainatlas.metrics.status import MISSING, break_evidence, breaks, node_status
from chainatlas.reference.regions import load_regions
from chainatlas.settings import LeadFirmWeights, StatusThresholds


@dataclass
class BatchDiagnosis:
    # region_code, chain_id, node_id, firm_count, …, lq, status, break, and with the network
    # tables: local_sourcing_rate, sourcing_basis (of the node's buying firms),
    # input_links, input_local_sourcing_rate (the region's purchases of the node's output),
    # break_evidence
    nodes: pl.DataFrame
    # region_code, chain_id, firm_count, completeness, status counts, and links,
    # local_sourcing_rate, sourcing_basis, single_points_of_failure (count)
    chains: pl.DataFrame
    # single_points_of_failure: region_code, chain_id, node_id, kind, code, name, share, …
    spof: pl.DataFrame = field(default_factory=pl.DataFrame)


def _rates(frame: pl.DataFrame, coverage: float, prefix: str = "") -> pl.DataFrame:
    rated = local_sourcing_rate(frame, min_amount_coverage=coverage)
    keys = [c for c in ("region_code", "chain_id", "node_id") if c in frame.columns]
    return rated.select(
        *keys,
        pl.col("links").alias(f"{prefix}links"),
        pl.col("local_sourcing_rate").alias(f"{prefix}local_sourcing_rate"),
        pl.col("basis").alias(f"{prefix}sourcing_basis"),
    )


def network_all(
    wh: Warehouse, level: str, nodes: pl.DataFrame, thresholds: StatusThresholds
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Add the network figures to the batch's node frame (with `break`); return it, the
    per region × chain rates and the single points of failure."""
    t = thresholds
    coverage = t.min_amount_coverage
    inputs = data.input_sourcing(wh, level)
    by_node = _rates(data.node_sourcing(wh, level), coverage)
    by_input = _rates(inputs, coverage, prefix="input_").drop("input_sourcing_basis")
    keys = ["region_code", "chain_id", "node_id"]
    nodes = nodes.join(by_node.drop("links"), on=keys, how="left").join(
        by_input, on=keys, how="left"
    )
    nodes = break_evidence(
        nodes.with_columns(pl.col("input_links").fill_null(0)),
        local_share_below=t.break_local_share,
        min_links=t.network_min_links,
    )
    spof = single_points_of_failure(
        inputs,
        spof_share=t.spof_share,
        min_links=t.network_min_links,
        min_amount_coverage=coverage,
    )
    chains = _rates(data.chain_sourcing(wh, level), coverage).join(
        spof.group_by("region_code", "chain_id").agg(
            pl.len().cast(pl.Int64).alias("single_points_of_failure")
        ),
        on=["region_code", "chain_id"],
        how="left",
    )
    return nodes, chains, spof


def _atlas_frames(atlas: Mapping[str, Chain]) -> tuple[pl.DataFrame, pl.DataFrame]:
    nodes = pl.DataFrame(
        [(c.id, n.id, n.weight) for c in atlas.values() for n in c.nodes],
        schema={"chain_id": pl.String, "node_id": pl.String, "weight": pl.Float64},
        orient="row",
    )
    edges = pl.DataFrame(
        [(c.id, e.supplier, e.customer) for c in atlas.values() for e in c.edges],
        schema={"chain_id": pl.String, "supplier": pl.String, "customer": pl.String},
        orient="row",
    )
    return nodes, edges


def diagnose_all(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    level: str = "county",
    thresholds: StatusThresholds | None = None,
    *,
    region_code: str | None = None,
    network: bool = True,
) -> BatchDiagnosis:
    """Every region of `level` on every chain of `atlas`; with `region_code`, only that region
    of the level (its rows are those of the whole batch); `network=False` leaves out the
    supply-network figures (statuses and breaks do not depend on them)."""
    t = thresholds or StatusThresholds()
    col = LEVEL_COLUMN[level]
    regions = (
        load_regions()
        .filter(pl.col("level") == level)
        .select(pl.col("region_code").alias("region"))
    )
    only = ""
    if region_code is not None:
        regions = regions.filter(pl.col("region") == region_code)
        only = f"AND e.{col} = $region"
    node_facts = wh.sql(
        f"SELECT {col} AS region, chain_id, node_id, sum(firm_count)::BIGINT AS firm_count, "
        "sum(capital) AS capital FROM node_facts GROUP BY ALL"
    )
    chain_facts = wh.sql(
        f"SELECT {col} AS region, chain_id, sum(firm_count)::BIGINT AS chain_firms, "
        "sum(capital) AS chain_capital FROM chain_facts GROUP BY ALL"
    )
    best_rank = wh.raw.execute(
        f"SELECT e.{col} AS region, a.chain_id, a.node_id, min(a.national_rank) AS best_national_rank "
        f"FROM assignments a JOIN enterprises e USING (uscc) WHERE a.national_rank IS NOT NULL {only} "
        "GROUP BY ALL",
        {"region": region_code} if only else {},
    ).pl()
    national = node_facts.group_by("chain_id", "node_id").agg(
        pl.col("firm_count").sum().alias("national_firm_count"),
        pl.col("capital").sum().alias("national_capital"),
    )
    national_chain = chain_facts.group_by("chain_id").agg(
        pl.col("chain_firms").sum().alias("national_chain_firms"),
        pl.col("chain_capital").sum().alias("national_chain_capital"),
    )
    atlas_nodes, atlas_edges = _atlas_frames(atlas)
    grid = regions.join(atlas_nodes, how="cross")
    frame = (
        grid.join(node_facts, on=["region", "chain_id", "node_id"], how="left")
        .join(chain_facts, on=["region", "chain_id"], how="left")
        .join(national, on=["chain_id", "node_id"], how="left")
        .join(national_chain, on="chain_id", how="left")
        .join(best_rank, on=["region", "chain_id", "node_id"], how="left")
        .with_columns(
            pl.col(
                "firm_count",
                "capital",
                "chain_firms",
                "chain_capital",
                "national_firm_count",
                "national_capital",
                "national_chain_firms",
                "national_chain_capital",
            ).fill_null(0)
        )
        .with_columns(
            location_quotient(
                "firm_count", "chain_firms", "national_firm_count", "national_chain_firms"
            ),
            location_quotient(
                "capital",
                "chain_capital",
                "national_capital",
                "national_chain_capital",
                name="lq_capital",
            ),
        )
    )
    frame = node_status(
        frame,
        min_firms=t.min_firms,
        strong_lq=t.strong_lq,
        strong_lead_rank=t.strong_lead_rank,
        weak_lq=t.weak_lq,
    )
    frame = breaks(frame, atlas_edges, by=["region", "chain_id"])
    frame = frame.rename({"region": "region_code"})
    spof = pl.DataFrame()
    network_chains = None
    if network and data.has_network(wh):
        frame, network_chains, spof = network_all(wh, level, frame, t)
    chains = frame.group_by("region_code", "chain_id").agg(
        pl.col("chain_firms").first().alias("firm_count"),
        ((pl.col("weight") * (pl.col("status") != MISSING)).sum() / pl.col("weight").sum()).alias(
            "completeness"
        ),
        *[(pl.col("status") == s).sum().alias(s) for s in ("missing", "weak", "present", "strong")],
        pl.col("break").sum().alias("break"),
    )
    if network_chains is not None:
        chains = chains.join(
            network_chains, on=["region_code", "chain_id"], how="left"
        ).with_columns(pl.col("links", "single_points_of_failure").fill_null(0))
    return BatchDiagnosis(
        nodes=frame.sort("region_code", "chain_id", "node_id"),
        chains=chains.sort("region_code", "chain_id"),
        spof=spof,
    )


def lead_firms_all(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    level: str,
    nodes: pl.DataFrame,
    thresholds: StatusThresholds | None = None,
    weights: LeadFirmWeights | None = None,
) -> pl.DataFrame:
    """The lead firms (链主企业) of every region of `level` × chain × node, as the
    single-region diagnosis names them (`pipeline.find_lead_firms`): of each node's
    nationally best-ranked local firms, the best by `lead_firm_score`, with the network
    components when the warehouse has the network tables.

    nodes: the batch's node frame (region_code, chain_id, node_id, national_firm_count).
    Returns region_code, chain_id, node_id, lead_rank (1 = the best), uscc, name,
    firm_region_code, national_rank, local_partners, local_purchases_share, the components
    and lead_score."""
    from chainatlas.diagnose.pipeline import CANDIDATE_POOL, LEAD_FIRMS_PER_NODE

    weights = weights or LeadFirmWeights()
    stages = pl.DataFrame(
        [(c.id, n.id, n.stage) for c in atlas.values() for n in c.nodes],
        schema={"chain_id": pl.String, "node_id": pl.String, "stage": pl.String},
        orient="row",
    )
    national = nodes.select(
        "chain_id", "node_id", pl.col("national_firm_count").alias("node_firms")
    ).unique(["chain_id", "node_id"])
    pool = (
        data.local_firms_by_rank_all(wh, level, CANDIDATE_POOL)
        .join(stages, on=["chain_id", "node_id"])
        .join(national, on=["chain_id", "node_id"])
    )
    if data.has_network(wh):
        coverage = (thresholds or StatusThresholds()).min_amount_coverage
        sourcing = local_sourcing_rate(data.chain_sourcing(wh, level), min_amount_coverage=coverage)
        pool = (
            pool.join(data.local_trade_all(wh, level, pool), on=["chain_id", "uscc"], how="left")
            .join(
                sourcing.select("region_code", "chain_id", "local_links", "local_amount", "basis"),
                on=["region_code", "chain_id"],
                how="left",
            )
            .with_columns(pl.col("local_links").fill_null(0), pl.col("local_amount").fill_null(0.0))
        )
        pool = local_purchases_share(
            pool,
            local_links=pl.col("local_links"),
            local_amount=pl.col("local_amount"),
            basis_used=pl.col("basis"),
        )
    by = ["region_code", "chain_id", "node_id"]
    scored = lead_firm_score(pool, **weights.model_dump(), by=by).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias("lead_rank")
    )
    scored = scored.filter(pl.col("lead_rank") <= LEAD_FIRMS_PER_NODE)
    components = [f"{k}_component" for k in weights.model_dump()]
    return scored.select(
        *by,
        "lead_rank",
        "uscc",
        "name",
        "firm_region_code",
        pl.col("national_rank").cast(pl.Int64),
        pl.col("local_partners").cast(pl.Int64),
        pl.col("local_purchases_share").cast(pl.Float64),
        *components,
        "lead_score",
    )
