"""Node status in a region: missing / weak / present / strong, and break (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

MISSING, WEAK, PRESENT, STRONG = "missing", "weak", "present", "strong"


def node_status(
    frame: pl.DataFrame,
    *,
    min_firms: int = 1,
    strong_lq: float = 1.5,
    strong_lead_rank: int = 10,
    weak_lq: float = 1.0,
) -> pl.DataFrame:
    """Add `status` from firm_count, lq and best_national_rank (best rank of a local firm).

    missing: firm_count < min_firms; strong: LQ ≥ strong_lq or a local firm of national rank
    ≤ strong_lead_rank in the node; weak: present, not strong, LQ < weak_lq; else present.
    """
    lead = pl.col("best_national_rank").is_not_null() & (
        pl.col("best_national_rank") <= strong_lead_rank
    )
    lq = pl.col("lq").fill_null(0.0)
    return frame.with_columns(
        pl.when(pl.col("firm_count") < min_firms)
        .then(pl.lit(MISSING))
        .when((lq >= strong_lq) | lead)
        .then(pl.lit(STRONG))
        .when(lq < weak_lq)
        .then(pl.lit(WEAK))
        .otherwise(pl.lit(PRESENT))
        .alias("status")
    )


def breaks(
    status: pl.DataFrame, edges: pl.DataFrame | Iterable[tuple[str, str]], by: Sequence[str] = ()
) -> pl.DataFrame:
    """Add boolean `break`: the node is missing or weak while at least one supplier
    neighbour and one customer neighbour are present or strong — the local flow is cut here.

    status: node_id, status (and the `by` keys, e.g. region_code, chain_id, for many regions
    at once). edges: (supplier, customer) pairs, or a frame with supplier, customer and the
    chain key when `by` holds one; recycling edges count.
    """
    edge_frame = (
        edges
        if isinstance(edges, pl.DataFrame)
        else pl.DataFrame(
            list(edges), schema={"supplier": pl.String, "customer": pl.String}, orient="row"
        )
    )
    keys = list(by)
    edge_keys = [k for k in keys if k in edge_frame.columns]
    holding = status.filter(pl.col("status").is_in([PRESENT, STRONG])).select(*keys, "node_id")
    has_up = (
        edge_frame.join(holding, left_on=[*edge_keys, "supplier"], right_on=[*edge_keys, "node_id"])
        .select(*keys, pl.col("customer").alias("node_id"))
        .unique()
        .with_columns(pl.lit(True).alias("up"))
    )
    has_down = (
        edge_frame.join(holding, left_on=[*edge_keys, "customer"], right_on=[*edge_keys, "node_id"])
        .select(*keys, pl.col("supplier").alias("node_id"))
        .unique()
        .with_columns(pl.lit(True).alias("down"))
    )
    out = status.join(has_up, on=[*keys, "node_id"], how="left").join(
        has_down, on=[*keys, "node_id"], how="left"
    )
    return out.with_columns(
        (
            pl.col("status").is_in([MISSING, WEAK])
            & pl.col("up").fill_null(False)
            & pl.col("down").fill_null(False)
        ).alias("break")
    ).drop("up", "down")


CONFIRMED, INTACT, NO_EVIDENCE = "confirmed", "intact", "no_evidence"


def break_evidence(
    frame: pl.DataFrame, *, local_share_below: float = 0.5, min_links: int = 3
) -> pl.DataFrame:
    """Add `break_evidence` from the supply links, for the nodes where `break` holds:

    - `confirmed`: the region's on-chain firms bought the node's output mostly from outside
      — its input `local_sourcing_rate` < local_share_below;
    - `intact`: they bought at least that share from local suppliers: the flow the rule
      expected cut is evidenced as running locally;
    - `no_evidence`: fewer than `min_links` such purchases are recorded.
    Null where `break` is false (the rule itself is unchanged).

    frame: break, input_links (the region's on-chain purchases of the node's output) and
    input_local_sourcing_rate (`metrics.network.local_sourcing_rate` of those purchases).
    """
    links = pl.col("input_links").fill_null(0)
    rate = pl.col("input_local_sourcing_rate")
    return frame.with_columns(
        pl.when(~pl.col("break"))
        .then(pl.lit(None, pl.String))
        .when((links < min_links) | rate.is_null())
        .then(pl.lit(NO_EVIDENCE))
        .when(rate < local_share_below)
        .then(pl.lit(CONFIRMED))
        .otherwise(pl.lit(INTACT))
        .alias("break_evidence")
    )
