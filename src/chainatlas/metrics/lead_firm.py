"""Lead-firm (链主企业) score: an explainable weighted sum (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

TAG_POINTS: dict[str, float] = {
    "上市": 1.0,
    "专精特新小巨人": 0.8,
    "专精特新": 0.5,
    "高新技术企业": 0.3,
}
STAGE_POSITION: dict[str, float] = {
    "upstream": 0.0,
    "support": 0.25,
    "midstream": 0.5,
    "downstream": 1.0,
}


def lead_firm_score(
    candidates: pl.DataFrame,
    *,
    size: float,
    partners: float,
    tags: float,
    downstream: float,
    local_purchases: float = 0.0,
    by: Sequence[str] = (),
) -> pl.DataFrame:
    """Score candidate firms of one region and chain (of each group of `by` — region, chain,
    node — when given: the maxima are then the group's).

    candidates: uscc, national_rank, node_firms (national firms in the node),
    local_partners (distinct local suppliers + customers), tags (';'-joined), stage, and
    optionally local_purchases_share (`metrics.network.local_purchases_share`; 0 if absent).
    Components, each in [0, 1]:
      size_component            = 1 − (national_rank − 1) / node_firms (national size rank)
      partners_component        = local_partners / max(local_partners over candidates)
      local_purchases_component = local_purchases_share / max(… over candidates): how much
                                  of the region's local on-chain purchases the firm drives
      tags_component            = max tag points (上市 1, 小巨人 0.8, 专精特新 0.5, 高新 0.3)
      downstream_component      = stage position (upstream 0 … downstream 1): firms nearer
                                  the final product pull more of the chain behind them
    score = Σ weight × component.
    """
    if "local_purchases_share" not in candidates.columns:
        candidates = candidates.with_columns(pl.lit(0.0).alias("local_purchases_share"))

    def of_most(column: str) -> pl.Expr:
        most = pl.col(column).max()
        most = most.over(by) if by else most
        return pl.when(most > 0).then(pl.col(column) / most).otherwise(0.0).cast(pl.Float64)

    tag_expr = pl.max_horizontal(
        *[
            pl.when(pl.col("tags").fill_null("").str.split(";").list.contains(tag))
            .then(pl.lit(points))
            .otherwise(pl.lit(0.0))
            for tag, points in TAG_POINTS.items()
        ]
    )
    out = candidates.with_columns(
        (1 - (pl.col("national_rank") - 1) / pl.max_horizontal(pl.col("node_firms"), pl.lit(1)))
        .clip(0, 1)
        .alias("size_component"),
        of_most("local_partners").alias("partners_component"),
        of_most("local_purchases_share").alias("local_purchases_component"),
        tag_expr.alias("tags_component"),
        pl.col("stage").replace_strict(STAGE_POSITION, default=0.0).alias("downstream_component"),
    )
    return out.with_columns(
        (
            size * pl.col("size_component")
            + partners * pl.col("partners_component")
            + local_purchases * pl.col("local_purchases_component")
            + tags * pl.col("tags_component")
            + downstream * pl.col("downstream_component")
        ).alias("lead_score")
    ).sort(
        [*by, "lead_score", "national_rank", "uscc"],
        descending=[*[False] * len(by), True, False, False],
    )
