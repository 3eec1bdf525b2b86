"""Location quotient."""

from __future__ import annotations

import polars as pl


def location_quotient(x_rn: str, x_r: str, x_n: str, x_total: str, *, name: str = "lq") -> pl.Expr:
    """LQ_rn = (x_rn / x_r) / (X_n / X)  (DESIGN §6; national denominator).

    x_rn: region's amount in node n; x_r: region's amount in the whole chain;
    X_n, X: the same nationally. Null where the region has nothing on the chain or the node
    has nothing nationally (the quotient is undefined there, not zero).
    """
    share_local = pl.when(pl.col(x_r) > 0).then(pl.col(x_rn) / pl.col(x_r))
    share_national = pl.when(pl.col(x_total) > 0).then(pl.col(x_n) / pl.col(x_total))
    return (
        pl.when(share_national > 0).then(share_local / share_national).otherwise(None).alias(name)
    )
