"""Trends of a region's chain: births, deaths, net change, LQ then vs now, cluster quadrant."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from chainatlas.metrics.lq import location_quotient

STAR, MATURE, EMERGING, TRANSFORMING, NONE = "star", "mature", "emerging", "transforming", "none"
QUADRANTS = (STAR, MATURE, EMERGING, TRANSFORMING, NONE)
QUADRANT_ZH = {STAR: "明星", MATURE: "成熟", EMERGING: "新兴", TRANSFORMING: "转型", NONE: "无企业"}
QUADRANT_EN = {
    STAR: "Star",
    MATURE: "Mature",
    EMERGING: "Emerging",
    TRANSFORMING: "Transforming",
    NONE: "No firms",
}
# an LQ change smaller than this is no change (floating-point noise of equal shares)
RISING_EPS = 1e-9


def births_deaths(
    events: pl.DataFrame,
    years: Sequence[int],
    by: Sequence[str] = ("node_id",),
    keys: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Births, deaths and net change on a dense grid of `by` keys × `years`.

    events: *by, year, births, deaths — births are firms established in the year, deaths
    firms deregistered in it; years without events may be absent (they become 0), rows of
    the same key and year are summed, years outside `years` are dropped.
    keys: every key that must appear (e.g. all nodes of the chain, even those without
    events); default the keys present in `events`.
    Returns *by, year, births, deaths, net (= births − deaths), sorted by key and year.
    """
    cols = list(by)
    grid = pl.DataFrame({"year": sorted(set(years))}, schema={"year": pl.Int64})
    if cols:
        key_frame = (keys if keys is not None else events).select(cols).unique()
        grid = key_frame.join(grid, how="cross")
    summed = (
        events.with_columns(pl.col("year").cast(pl.Int64))
        .group_by([*cols, "year"])
        .agg(pl.col("births").sum().cast(pl.Int64), pl.col("deaths").sum().cast(pl.Int64))
    )
    out = grid.join(summed, on=[*cols, "year"], how="left").with_columns(
        pl.col("births").fill_null(0), pl.col("deaths").fill_null(0)
    )
    return out.with_columns((pl.col("births") - pl.col("deaths")).alias("net")).sort(
        [*cols, "year"]
    )


def lq_change(
    node_active: pl.DataFrame,
    chain_active: pl.DataFrame,
    *,
    year_then: int,
    year_now: int,
    by: Sequence[str] = ("node_id",),
) -> pl.DataFrame:
    """LQ of each node N years ago and now, from firms active at the end of each year.

    node_active: *by, year, firm_count (x_rn), national_firm_count (X_n).
    chain_active: year, firm_count (x_r: distinct firms on the chain), national_firm_count (X),
    plus any of the `by` keys other than node_id (e.g. region_code) to join on.
    LQ_rn = (x_rn / x_r) / (X_n / X) at each year (DESIGN §6, national denominator); null
    where undefined (no firm of the region on the chain, or none in the node nationally).
    lq_delta = lq_now − lq_then with an undefined LQ counted as 0 (a node without firms at
    either date holds no specialisation then).
    Returns *by, firms_then, firms_now, lq_then, lq_now, lq_delta.
    """
    cols = list(by)
    chain_keys = [c for c in cols if c in chain_active.columns]
    chain = chain_active.select(
        *chain_keys,
        pl.col("year").cast(pl.Int64),
        pl.col("firm_count").alias("_x_r"),
        pl.col("national_firm_count").alias("_X"),
    )
    with_lq = (
        node_active.with_columns(pl.col("year").cast(pl.Int64))
        .join(chain, on=[*chain_keys, "year"], how="left")
        .with_columns(pl.col("_x_r").fill_null(0), pl.col("_X").fill_null(0))
        .with_columns(location_quotient("firm_count", "_x_r", "national_firm_count", "_X"))
    )

    def at(year: int, suffix: str) -> pl.DataFrame:
        return with_lq.filter(pl.col("year") == year).select(
            *cols, pl.col("firm_count").alias(f"firms_{suffix}"), pl.col("lq").alias(f"lq_{suffix}")
        )

    keys = with_lq.select(cols).unique()
    out = (
        keys.join(at(year_then, "then"), on=cols, how="left")
        .join(at(year_now, "now"), on=cols, how="left")
        .with_columns(pl.col("firms_then").fill_null(0), pl.col("firms_now").fill_null(0))
    )
    return out.select(
        *cols,
        "firms_then",
        "firms_now",
        "lq_then",
        "lq_now",
        (pl.col("lq_now").fill_null(0.0) - pl.col("lq_then").fill_null(0.0)).alias("lq_delta"),
    ).sort(cols)


def cluster_quadrant(
    lq_now: str = "lq_now",
    lq_delta: str = "lq_delta",
    *,
    high: float = 1.0,
    eps: float = RISING_EPS,
    name: str = "quadrant",
) -> pl.Expr:
    """Cluster quadrant of a node from its LQ now and its change (Boston-consulting style
    cluster map as used in regional cluster analysis):

      star          LQ ≥ high and rising  (明星)
      mature        LQ ≥ high, not rising (成熟)
      emerging      LQ < high and rising  (新兴)
      transforming  LQ < high, not rising (转型)
      none          no firm now and none then: LQ now undefined or 0 and no change (无企业)

    Rising means lq_delta > eps; a change of exactly 0 counts as not rising. LQ exactly at
    `high` (1: the national share) counts as high, as the status rule does (weak is LQ < 1).
    An undefined LQ now counts as 0.
    """
    level = pl.col(lq_now).fill_null(0.0)
    delta = pl.col(lq_delta).fill_null(0.0)
    rising = delta > eps
    return (
        pl.when((level == 0) & (delta.abs() <= eps))
        .then(pl.lit(NONE))
        .when((level >= high) & rising)
        .then(pl.lit(STAR))
        .when(level >= high)
        .then(pl.lit(MATURE))
        .when(rising)
        .then(pl.lit(EMERGING))
        .otherwise(pl.lit(TRANSFORMING))
        .alias(name)
    )
