"""Diagnose every region of one level on every chain at once (provincial planners, J8).

The same figures as `pipeline.diagnose` (LQ, status, break, completeness) computed with frame
operations over the whole cube instead of a loop over regions; a test checks both agree.
Lead-firm lists are left to the single-region diagnosis; the strong-by-lead-firm rule uses
the best national rank of a local firm per node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.data import LEVEL_COLUMN
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.lq import location_quotient
from chainatlas.metrics.status import MISSING, breaks, node_status
from chainatlas.reference.regions import load_regions
from chainatlas.settings import StatusThresholds


@dataclass
class BatchDiagnosis:
    nodes: pl.DataFrame  # region_code, chain_id, node_id, firm_count, …, lq, status, break
    chains: pl.DataFrame  # region_code, chain_id, firm_count, completeness, status counts


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
) -> BatchDiagnosis:
    t = thresholds or StatusThresholds()
    col = LEVEL_COLUMN[level]
    regions = (
        load_regions()
        .filter(pl.col("level") == level)
        .select(pl.col("region_code").alias("region"))
    )
    node_facts = wh.sql(
        f"SELECT {col} AS region, chain_id, node_id, sum(firm_count)::BIGINT AS firm_count, "
        "sum(capital) AS capital FROM node_facts GROUP BY ALL"
    )
    chain_facts = wh.sql(
        f"SELECT {col} AS region, chain_id, sum(firm_count)::BIGINT AS chain_firms, "
        "sum(capital) AS chain_capital FROM chain_facts GROUP BY ALL"
    )
    best_rank = wh.sql(
        f"SELECT e.{col} AS region, a.chain_id, a.node_id, min(a.national_rank) AS best_national_rank "
        "FROM assignments a JOIN enterprises e USING (uscc) WHERE a.national_rank IS NOT NULL "
        "GROUP BY ALL"
    )
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
    chains = frame.group_by("region_code", "chain_id").agg(
        pl.col("chain_firms").first().alias("firm_count"),
        ((pl.col("weight") * (pl.col("status") != MISSING)).sum() / pl.col("weight").sum()).alias(
            "completeness"
        ),
        *[(pl.col("status") == s).sum().alias(s) for s in ("missing", "weak", "present", "strong")],
        pl.col("break").sum().alias("break"),
    )
    return BatchDiagnosis(
        nodes=frame.sort("region_code", "chain_id", "node_id"),
        chains=chains.sort("region_code", "chain_id"),
    )
