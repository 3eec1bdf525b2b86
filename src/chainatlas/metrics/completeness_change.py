"""Completeness and gap changes of a region over a period (the 考核 page's analytics KPIs).

The status of every node at a year Y is the one the diagnosis gives on the warehouse as its
firms stood at the end of Y (DESIGN §6, with the pure functions the diagnosis uses):

- x_rn, x_r, X_n, X — local and national firms in the node and on the chain (distinct
  firms), counting the firms active at the end of Y (`engine.history`); national
  denominators at Y too;
- LQ_rn = (x_rn / x_r) / (X_n / X)  (`metrics.lq.location_quotient`);
- best_national_rank: the best national size rank, among the firms active at Y, of a local
  firm in the node;
- status by `metrics.status.node_status`, completeness by `metrics.completeness.completeness`.

Over a period from year_then to year_now, per chain:

- completeness_change = 100 · (completeness_now − completeness_then), in percentage points;
- gaps_filled: nodes that were a gap (missing or weak) at year_then and are held (present
  or strong) at year_now; gaps_opened: held then, a gap now.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from chainatlas.metrics.completeness import completeness
from chainatlas.metrics.lq import location_quotient
from chainatlas.metrics.status import MISSING, PRESENT, STRONG, WEAK, node_status

GAP = (MISSING, WEAK)
HELD = (PRESENT, STRONG)

CHANGE_SCHEMA = pl.Schema(
    {
        "chain_id": pl.String(),
        "completeness_then": pl.Float64(),
        "completeness_now": pl.Float64(),
        "completeness_change": pl.Float64(),
        "gaps_filled": pl.Int64(),
        "gaps_opened": pl.Int64(),
        "filled_nodes": pl.List(pl.String()),
        "opened_nodes": pl.List(pl.String()),
    }
)


def statuses_at(
    nodes: pl.DataFrame,
    node_active: pl.DataFrame,
    chain_active: pl.DataFrame,
    best_ranks: pl.DataFrame,
    years: Sequence[int],
    *,
    min_firms: int = 1,
    strong_lq: float = 1.5,
    strong_lead_rank: int = 10,
    weak_lq: float = 1.0,
) -> pl.DataFrame:
    """The status of every node of every chain at the end of each year in `years`.

    nodes: chain_id, node_id, weight — every node of every chain (the atlas);
    node_active: chain_id, node_id, year, firm_count (x_rn), national_firm_count (X_n);
    chain_active: chain_id, year, firm_count (x_r), national_firm_count (X);
    best_ranks: chain_id, node_id, year, best_national_rank (nodes without a local firm may
    be absent). Counts missing from the frames are 0.
    Returns chain_id, node_id, weight, year, firm_count, national_firm_count, chain_firms,
    national_chain_firms, lq, best_national_rank, status — sorted by chain, node, year.
    """
    grid = nodes.select("chain_id", "node_id", "weight").join(
        pl.DataFrame({"year": sorted(set(years))}, schema={"year": pl.Int64}), how="cross"
    )
    node_counts = node_active.select(
        "chain_id",
        "node_id",
        pl.col("year").cast(pl.Int64),
        "firm_count",
        "national_firm_count",
    )
    chain_counts = chain_active.select(
        "chain_id",
        pl.col("year").cast(pl.Int64),
        pl.col("firm_count").alias("chain_firms"),
        pl.col("national_firm_count").alias("national_chain_firms"),
    )
    ranks = best_ranks.select(
        "chain_id", "node_id", pl.col("year").cast(pl.Int64), "best_national_rank"
    )
    counts = ("firm_count", "national_firm_count", "chain_firms", "national_chain_firms")
    frame = (
        grid.join(node_counts, on=["chain_id", "node_id", "year"], how="left")
        .join(chain_counts, on=["chain_id", "year"], how="left")
        .join(ranks, on=["chain_id", "node_id", "year"], how="left")
        .with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        .with_columns(
            location_quotient(
                "firm_count", "chain_firms", "national_firm_count", "national_chain_firms"
            )
        )
    )
    return node_status(
        frame,
        min_firms=min_firms,
        strong_lq=strong_lq,
        strong_lead_rank=strong_lead_rank,
        weak_lq=weak_lq,
    ).sort("chain_id", "node_id", "year")


def completeness_by_year(statuses: pl.DataFrame) -> pl.DataFrame:
    """chain_id, year, completeness — from `statuses_at` (chain_id, node_id, weight, year,
    status), each chain and year by `metrics.completeness.completeness`."""
    rows = [
        (chain_id, year, completeness(group.select("node_id", "weight", "status")))
        for (chain_id, year), group in statuses.group_by("chain_id", "year")
    ]
    return pl.DataFrame(
        rows,
        schema={"chain_id": pl.String, "year": pl.Int64, "completeness": pl.Float64},
        orient="row",
    ).sort("chain_id", "year")


def completeness_change(statuses: pl.DataFrame, *, year_then: int, year_now: int) -> pl.DataFrame:
    """Per chain: completeness_then, completeness_now, completeness_change (percentage
    points), gaps_filled and gaps_opened (counts) and the node ids of each (filled_nodes,
    opened_nodes, by node id). `statuses` from `statuses_at`, holding both years."""

    def held(year: int, name: str) -> pl.DataFrame:
        return statuses.filter(pl.col("year") == year).select(
            "chain_id", "node_id", pl.col("status").alias(f"status_{name}")
        )

    pairs = held(year_then, "then").join(
        held(year_now, "now"), on=["chain_id", "node_id"], how="full"
    )
    pairs = pairs.with_columns(
        pl.coalesce("chain_id", "chain_id_right").alias("chain_id"),
        pl.coalesce("node_id", "node_id_right").alias("node_id"),
    ).select("chain_id", "node_id", "status_then", "status_now")
    filled = pl.col("status_then").is_in(GAP) & pl.col("status_now").is_in(HELD)
    opened = pl.col("status_then").is_in(HELD) & pl.col("status_now").is_in(GAP)
    gaps = (
        pairs.sort("chain_id", "node_id")
        .group_by("chain_id", maintain_order=True)
        .agg(
            filled.sum().cast(pl.Int64).alias("gaps_filled"),
            opened.sum().cast(pl.Int64).alias("gaps_opened"),
            pl.col("node_id").filter(filled).alias("filled_nodes"),
            pl.col("node_id").filter(opened).alias("opened_nodes"),
        )
    )
    shares = completeness_by_year(statuses)

    def at(year: int, name: str) -> pl.DataFrame:
        return shares.filter(pl.col("year") == year).select(
            "chain_id", pl.col("completeness").alias(name)
        )

    out = (
        gaps.join(at(year_then, "completeness_then"), on="chain_id", how="left")
        .join(at(year_now, "completeness_now"), on="chain_id", how="left")
        .with_columns(
            ((pl.col("completeness_now") - pl.col("completeness_then")) * 100.0).alias(
                "completeness_change"
            )
        )
    )
    return out.select(list(CHANGE_SCHEMA)).cast(CHANGE_SCHEMA).sort("chain_id")
