"""Supply-network figures on frames: local sourcing rate, single points of failure, the share
of a region's local purchases a firm takes part in (DESIGN §6).

The inputs are purchase totals as the warehouse keeps them (`engine/network.py`): `links`
(on-chain purchases), `amount_links` (those with an amount), `amount` (their sum, 万元),
`local_links` and `local_amount` (the part bought from suppliers in the same region).

Basis — "by amount, or by link count where amounts are absent": a figure is computed by
amount when at least `min_amount_coverage` of its links carry an amount and the amounts sum
to more than zero; otherwise by link count (links without an amount still count as one).
"""

from __future__ import annotations

import polars as pl

AMOUNT, COUNT = "amount", "count"
SUPPLIER, REGION = "supplier", "region"


def basis(
    *,
    min_amount_coverage: float,
    links: str = "links",
    amount_links: str = "amount_links",
    amount: str = "amount",
) -> pl.Expr:
    """ "amount" when amount_links / links ≥ min_amount_coverage and amount > 0, "count"
    when there are links but not enough amounts, null when there are no links."""
    n = pl.col(links)
    by_amount = (pl.col(amount_links) >= min_amount_coverage * n) & (pl.col(amount) > 0)
    return (
        pl.when(n.fill_null(0) <= 0)
        .then(pl.lit(None, pl.String))
        .when(by_amount)
        .then(pl.lit(AMOUNT))
        .otherwise(pl.lit(COUNT))
    )


def _share(part_amount: pl.Expr, part_links: pl.Expr, basis_col: str = "basis") -> pl.Expr:
    """part / whole on the row's basis (whole = `amount` or `links`); null without a basis."""
    return (
        pl.when(pl.col(basis_col) == AMOUNT)
        .then(part_amount.cast(pl.Float64) / pl.col("amount"))
        .when(pl.col(basis_col) == COUNT)
        .then(part_links.cast(pl.Float64) / pl.col("links"))
        .otherwise(None)
    )


def local_sourcing_rate(frame: pl.DataFrame, *, min_amount_coverage: float) -> pl.DataFrame:
    """Add `basis`, `amount_coverage` and `local_sourcing_rate` (DESIGN §6):

        local_sourcing_rate = local_amount / amount     (basis "amount")
                            = local_links / links       (basis "count")

    of the on-chain purchases of the region's firms, the share bought from on-chain
    suppliers in the same region. Null (with a null basis) where there are no purchases.
    frame: links, amount_links, amount, local_links, local_amount (any other columns kept).
    """
    return frame.with_columns(
        basis(min_amount_coverage=min_amount_coverage).alias("basis"),
        pl.when(pl.col("links") > 0)
        .then(pl.col("amount_links").cast(pl.Float64) / pl.col("links"))
        .otherwise(None)
        .alias("amount_coverage"),
    ).with_columns(
        _share(pl.col("local_amount"), pl.col("local_links")).alias("local_sourcing_rate")
    )


def dependency_shares(inputs: pl.DataFrame, *, min_amount_coverage: float) -> pl.DataFrame:
    """Per input-node row (`sourcing_inputs`): on the row's basis, the largest single
    supplier's share and the largest single outside region's share of the purchases.

    Adds basis, local_sourcing_rate, top_supplier, top_supplier_name, top_supplier_share,
    top_region, top_region_share (null where no outside region sells to the region).
    """
    by_amount = pl.col("basis") == AMOUNT
    out = local_sourcing_rate(inputs, min_amount_coverage=min_amount_coverage)
    return out.with_columns(
        pl.when(by_amount)
        .then(pl.col("top_supplier_by_amount"))
        .otherwise(pl.col("top_supplier_by_links"))
        .alias("top_supplier"),
        pl.when(by_amount)
        .then(pl.col("top_supplier_by_amount_name"))
        .otherwise(pl.col("top_supplier_by_links_name"))
        .alias("top_supplier_name"),
        _share(pl.col("top_supplier_amount"), pl.col("top_supplier_links")).alias(
            "top_supplier_share"
        ),
        pl.when(by_amount)
        .then(pl.col("top_region_by_amount"))
        .otherwise(pl.col("top_region_by_links"))
        .alias("top_region"),
        _share(pl.col("top_region_amount"), pl.col("top_region_links")).alias("top_region_share"),
    )


def single_points_of_failure(
    inputs: pl.DataFrame,
    *,
    spof_share: float,
    min_links: int,
    min_amount_coverage: float,
    keys: tuple[str, ...] = ("region_code", "chain_id"),
) -> pl.DataFrame:
    """Input nodes on which the region's firms depend on ONE supplier or ONE outside region.

    For region r, chain c and input node m (the purchases of r's on-chain firms from
    on-chain suppliers of m, at least `min_links` of them): a `supplier` point of failure
    when the largest single supplier's share > spof_share; a `region` point of failure when
    the largest single outside region's (same level as r) share > spof_share. Shares on the
    basis of `local_sourcing_rate`. A node may have both kinds.

    inputs: `sourcing_inputs` rows. Returns keys…, node_id, kind (supplier|region), code
    (uscc or region code), name (the supplier's name; null for a region), share, basis,
    links, amount — sorted by keys, share descending.
    """
    shares = dependency_shares(inputs, min_amount_coverage=min_amount_coverage).filter(
        pl.col("links") >= min_links
    )
    common = [*keys, "node_id"]
    tail = ["basis", "links", "amount"]
    supplier = shares.filter(pl.col("top_supplier_share") > spof_share).select(
        *common,
        pl.lit(SUPPLIER).alias("kind"),
        pl.col("top_supplier").cast(pl.String).alias("code"),
        pl.col("top_supplier_name").cast(pl.String).alias("name"),
        pl.col("top_supplier_share").cast(pl.Float64).alias("share"),
        *tail,
    )
    region = shares.filter(pl.col("top_region_share") > spof_share).select(
        *common,
        pl.lit(REGION).alias("kind"),
        pl.col("top_region").cast(pl.String).alias("code"),
        pl.lit(None, pl.String).alias("name"),
        pl.col("top_region_share").cast(pl.Float64).alias("share"),
        *tail,
    )
    order = [*keys, "share", "node_id", "kind"]
    descending = [False] * len(keys) + [True, False, False]
    return pl.concat([supplier, region]).sort(order, descending=descending)


def local_purchases_share(
    firms: pl.DataFrame,
    *,
    local_links: int | pl.Expr,
    local_amount: float | pl.Expr,
    basis_used: str | pl.Expr | None,
) -> pl.DataFrame:
    """Add `local_purchases_share`: the share of the region's local on-chain purchases a
    firm takes part in, as buyer or as seller:

        (purchases_in + sales_in) / local_amount            (basis "amount")
        (purchase_links_in + sale_links_in) / local_links   (basis "count")

    where *_in are the firm's on-chain purchases from and sales to firms in the same region
    (`diagnose.data.firm_networks`) and local_* the region's on-chain purchases from local
    suppliers (`sourcing_chain_facts`); `basis_used` is the basis of the region's
    `local_sourcing_rate`, falling back to count when the local amounts sum to zero. In
    [0, 1]; 0 without local purchases. Each local link has two local parties, so the shares
    of all the region's firms sum to 2.
    firms: purchase_links_in, sale_links_in, purchases_in, sales_in (null = 0). The region's
    figures are numbers, or expressions (columns) when `firms` holds many regions.
    """
    links, amount, basis_of = (
        x if isinstance(x, pl.Expr) else pl.lit(x) for x in (local_links, local_amount, basis_used)
    )
    by_amount = pl.col("purchases_in").fill_null(0.0) + pl.col("sales_in").fill_null(0.0)
    by_count = pl.col("purchase_links_in").fill_null(0) + pl.col("sale_links_in").fill_null(0)
    share = (
        pl.when((basis_of == AMOUNT).fill_null(False) & (amount > 0))
        .then(by_amount / amount)
        .when(basis_of.is_not_null() & (links > 0))
        .then(by_count.cast(pl.Float64) / links)
        .otherwise(0.0)
    )
    return firms.with_columns(share.clip(0.0, 1.0).alias("local_purchases_share"))
