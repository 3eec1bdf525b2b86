"""Location quotient."""

from __future__ import annotations

import polars as pl


def location_quotient(x_rn: str, x_r: str, x_n: str, x_total: str, *, name: str = "lq") -> pl.Expr:
    """LQ_rn = (x_rn / x_r) / (X_n / X)  (DESIGN §6; national denominator).

    x_rn: region's amount in node n; x_r: region's amount in the whole chain;
    X_n, X: the same nationally. Null where the region has nothing on the chain or the node
    has nothing nationally (the quotient is undefined there, not zero).
    """
    f64 = pl.Float64
    share_local = pl.when(pl.col(x_r) > 0).then(pl.col(x_rn).cast(f64) / pl.col(x_r).cast(f64))
    share_national = pl.when(pl.col(x_total) > 0).then(
        pl.col(x_n).cast(f64) / pl.col(x_total).cast(f64)
    )
    return (
        pl.when(share_national > 0).then(share_local / share_national).otherwise(None).alias(name)
    )
