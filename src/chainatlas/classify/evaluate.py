"""Precision, recall and F1 of assignments against a labelled set."""

from __future__ import annotations

import polars as pl


def _prf(tp: pl.Expr, predicted: pl.Expr, gold: pl.Expr) -> list[pl.Expr]:
    precision = pl.when(predicted > 0).then(tp / predicted).otherwise(None)
    recall = pl.when(gold > 0).then(tp / gold).otherwise(None)
    f1 = (
        pl.when((precision + recall) > 0)
        .then(2 * precision * recall / (precision + recall))
        .otherwise(0.0)
    )
    return [precision.alias("precision"), recall.alias("recall"), f1.alias("f1")]


def scores(predicted: pl.DataFrame, gold: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per chain and overall ('*') scores of `predicted` against `gold`.

    Both frames hold one row per (item_id, *keys), e.g. keys = [chain_id, node_id] for node
    assignments or [chain_id] for chain membership. A prediction counts as true when the same
    (item_id, *keys) is in gold.
    """
    on = ["item_id", *keys]
    predicted = predicted.select(on).unique()
    gold = gold.select(on).unique()
    tp = predicted.join(gold, on=on, how="semi")
    by_chain = (
        gold.group_by("chain_id")
        .agg(pl.len().alias("gold"))
        .join(
            predicted.group_by("chain_id").agg(pl.len().alias("predicted")),
            on="chain_id",
            how="full",
            coalesce=True,
        )
        .join(tp.group_by("chain_id").agg(pl.len().alias("tp")), on="chain_id", how="left")
        .fill_null(0)
    )
    overall = by_chain.select(
        pl.lit("*").alias("chain_id"),
        pl.col("gold").sum(),
        pl.col("predicted").sum(),
        pl.col("tp").sum(),
    )
    frame = pl.concat([by_chain.sort("chain_id"), overall], how="vertical_relaxed")
    return frame.with_columns(_prf(pl.col("tp"), pl.col("predicted"), pl.col("gold")))
