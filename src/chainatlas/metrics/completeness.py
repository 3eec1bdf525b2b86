"""Chain completeness."""

from __future__ import annotations

import polars as pl

from chainatlas.metrics.status import MISSING


def completeness(status: pl.DataFrame) -> float:
    """Share of the chain's nodes that are not missing, weighted by node `weight` (DESIGN §6).

    status: node_id, weight, status — one row per node of the chain.
    """
    total = float(status["weight"].sum())
    if total <= 0:
        return 0.0
    held = float(status.filter(pl.col("status") != MISSING)["weight"].sum())
    return held / total
