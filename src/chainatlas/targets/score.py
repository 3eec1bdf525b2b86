"""Target score: an explainable weighted sum of components, each in [0, 1] (docs/targets.md).

Every component is an *absolute* transform of the firm's own facts (its capital, age, tags,
distance, its local partners, its origin region's facts) — never a rank or a share within
the candidate pool. So a firm's score does not depend on which other firms are candidates:
adding or removing a firm elsewhere leaves the order of the rest unchanged, and a firm that
is at least as good on every component scores at least as high.

    fit              = clip(classification score, 0, 1)
    size             = min(1, ln(1 + capital) / ln(1 + full_capital))      capital in 万元
    growth           = max(0, 1 − age_years / growth_horizon_years)       age at `as_of`
    tags             = max tag points: 上市 1, 专精特新小巨人 (小巨人) 0.8, 专精特新 0.5,
                       高新技术企业 0.3
    partner_referral = 1 − Π (1 − p) over the firm's distinct local partners, p =
                       lead_partner_points for a local lead firm, else partner_base_points
                       + partner_size_points × size(partner's capital)
    relocation       = [origin in a source province] × √(lq_part × density_part),
                       lq_part = clip((LQ − 1) / (relocation_full_lq − 1), 0, 1),
                       density_part = min(1, ln(1 + node firms) / ln(1 + relocation_full_firms))
    distance         = 1 / (1 + km / distance_half_km)                    great circle
    score            = Σ weight × component
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence

import polars as pl

from chainatlas.metrics.lq import location_quotient
from chainatlas.targets.weights import COMPONENTS, TargetScales, TargetWeights

TAG_POINTS: dict[str, float] = {
    "上市": 1.0,
    "专精特新小巨人": 0.8,
    "小巨人": 0.8,
    "专精特新": 0.5,
    "高新技术企业": 0.3,
}
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
DAYS_PER_YEAR = 365.25


def component(kind: str) -> str:
    """Column name of a component."""
    return f"{kind}_component"


COMPONENT_COLUMNS: tuple[str, ...] = tuple(component(k) for k in COMPONENTS)


# --- one expression per component -----------------------------------------------------------
def size_component(capital: pl.Expr, scales: TargetScales) -> pl.Expr:
    """ln(1 + capital) / ln(1 + full_capital), in [0, 1]; unknown capital scores 0."""
    return (
        capital.cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0).log1p()
        / math.log1p(scales.full_capital)
    ).clip(0.0, 1.0)


def size_of_capital(capital: float, scales: TargetScales) -> float:
    """The same for one number (thresholds)."""
    return min(1.0, math.log1p(max(capital, 0.0)) / math.log1p(scales.full_capital))


def tags_component(tags: pl.Expr) -> pl.Expr:
    """The best tag's points; tags are `;`-joined."""
    split = tags.fill_null("").str.split(";")
    return pl.max_horizontal(
        *[
            pl.when(split.list.contains(tag)).then(pl.lit(points)).otherwise(pl.lit(0.0))
            for tag, points in TAG_POINTS.items()
        ]
    )


def known_tags(tags: str | None) -> list[str]:
    """The firm's recognised tags, best first."""
    have = {t.strip() for t in (tags or "").split(";")}
    return [t for t in sorted(TAG_POINTS, key=lambda t: -TAG_POINTS[t]) if t in have]


def growth_component(established: pl.Expr, as_of: dt.date, scales: TargetScales) -> pl.Expr:
    """1 − age / horizon, in [0, 1]; an unknown date scores 0 (establishment recency: the
    warehouse has no capital history and no branch table)."""
    age_years = (pl.lit(as_of) - established).dt.total_days() / DAYS_PER_YEAR
    return (1.0 - age_years / scales.growth_horizon_years).clip(0.0, 1.0).fill_null(0.0)


def great_circle_km(lon1: pl.Expr, lat1: pl.Expr, lon2: pl.Expr, lat2: pl.Expr) -> pl.Expr:
    """Haversine distance on a sphere of the Earth's mean radius."""
    rad = math.pi / 180
    dlat = (lat2 - lat1) * rad
    dlon = (lon2 - lon1) * rad
    h = (dlat / 2).sin() ** 2 + (lat1 * rad).cos() * (lat2 * rad).cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_RADIUS_KM * h.sqrt().clip(0.0, 1.0).arcsin()


def distance_component(km: pl.Expr, scales: TargetScales) -> pl.Expr:
    """1 / (1 + km / half): 1 next door, ½ at `distance_half_km`; unknown distance 0."""
    return (1.0 / (1.0 + km.clip(lower_bound=0.0) / scales.distance_half_km)).fill_null(0.0)


def distance_of(km: float, scales: TargetScales) -> float:
    return 1.0 / (1.0 + max(km, 0.0) / scales.distance_half_km)


# --- components computed on their own frames ---------------------------------------------------
def partner_points(
    links: pl.DataFrame,
    local: pl.DataFrame,
    lead_usccs: Collection[str] | pl.DataFrame,
    scales: TargetScales,
    keys: Sequence[str] = (),
) -> pl.DataFrame:
    """One row per firm × distinct local partner, with the partner's points.

    links: uscc, local_uscc, relation (supplier | customer), links, amount.
    local: uscc, name, registered_capital of the region's firms.
    Returns uscc, local_uscc, local_name, relation (supplier | customer | both: the firm
    sells to / buys from / does both with the local firm), lead_firm, links, amount, points.

    With `keys` (the region asked for, when `links` holds many regions' rows), the rows
    keep them and `lead_usccs` is a frame of the keys and `uscc`: each region's lead firms.
    """
    pairs = links.group_by(*keys, "uscc", "local_uscc").agg(
        pl.when(pl.col("relation").n_unique() > 1)
        .then(pl.lit("both"))
        .otherwise(pl.col("relation").first())
        .alias("relation"),
        pl.col("links").sum().cast(pl.Int64),
        # null when no link carries an amount
        pl.when(pl.col("amount").is_not_null().any()).then(pl.col("amount").sum()).alias("amount"),
    )
    local = local.select(
        pl.col("uscc").alias("local_uscc"),
        pl.col("name").alias("local_name"),
        pl.col("registered_capital").alias("local_capital"),
    ).unique("local_uscc", keep="first")
    joined = pairs.join(local, on="local_uscc", how="inner")
    if isinstance(lead_usccs, pl.DataFrame):
        flags = lead_usccs.select(*keys, pl.col("uscc").alias("local_uscc")).unique()
        joined = joined.join(
            flags.with_columns(pl.lit(True).alias("lead_firm")),
            on=[*keys, "local_uscc"],
            how="left",
        ).with_columns(pl.col("lead_firm").fill_null(False))
    else:
        leads = pl.Series(list(lead_usccs), dtype=pl.String)
        joined = joined.with_columns(pl.col("local_uscc").is_in(leads.implode()).alias("lead_firm"))
    return joined.with_columns(
        pl.when(pl.col("lead_firm"))
        .then(pl.lit(scales.lead_partner_points))
        .otherwise(
            scales.partner_base_points
            + scales.partner_size_points * size_component(pl.col("local_capital"), scales)
        )
        .clip(0.0, 1.0)
        .alias("points")
    ).drop("local_capital")


TIER2 = {"supplier": "supplier_tier2", "customer": "customer_tier2"}


def tier2_points(
    tier2: pl.DataFrame, points: pl.DataFrame, scales: TargetScales, keys: Sequence[str] = ()
) -> pl.DataFrame:
    """Second-tier partners of the local lead firms, in the frame of `partner_points`.

    tier2: uscc (X), via_uscc (Y), relation (of Y to the lead firm), links, amount (from
    `candidates.tier2_links`). points: the first-tier rows (`partner_points`): they name
    each Y's lead firm. A firm X gets one row per lead firm L it reaches through some Y —
    the Y it trades most with (links, then amount, then code) —, relation supplier_tier2 /
    customer_tier2, points = tier2_factor × lead_partner_points; a pair (X, L) that already
    trades directly keeps only its first-tier row, and X = L is dropped. `keys`: as in
    `partner_points` (the tier2 links are the same for every region)."""
    columns = [*points.columns, "via_uscc", "via_name"]
    if not tier2.height or not points.height:
        return points.clear().with_columns(
            pl.lit(None, pl.String).alias("via_uscc"), pl.lit(None, pl.String).alias("via_name")
        )
    leads = points.filter(pl.col("lead_firm") & pl.col("relation").is_in(list(TIER2)))
    via = leads.select(
        *keys,
        pl.col("uscc").alias("via_uscc"),
        pl.col("relation"),
        "local_uscc",
        "local_name",
    )
    pair = [*keys, "uscc", "local_uscc"]
    direct = points.select(pair).unique()
    reached = (
        tier2.join(via, on=["via_uscc", "relation"], how="inner")
        .filter(pl.col("uscc") != pl.col("local_uscc"))
        .join(direct, on=pair, how="anti")
        .sort(
            [*pair, "links", "amount", "via_uscc"],
            descending=[*[False] * len(pair), True, True, False],
            nulls_last=True,
        )
        .unique(pair, keep="first", maintain_order=True)
    )
    return reached.select(
        *keys,
        "uscc",
        "local_uscc",
        "local_name",
        pl.col("relation").replace_strict(TIER2).alias("relation"),
        pl.lit(True).alias("lead_firm"),
        pl.col("links").cast(pl.Int64),
        pl.col("amount"),
        pl.lit(scales.tier2_factor * scales.lead_partner_points).alias("points"),
        "via_uscc",
        pl.lit(None, pl.String).alias("via_name"),
    ).select(columns)


def partner_referral(points: pl.DataFrame, keys: Sequence[str] = ()) -> pl.DataFrame:
    """Per firm: partner_referral_component = 1 − Π (1 − points) (noisy-or: each further
    partner adds, none takes away; bounded by 1) and local_partners (distinct firms of the
    region it trades with directly; second-tier rows add points, not partners). Per `keys`
    and firm when given."""
    # a fixed order of the factors: a float product must not depend on how rows arrived
    ordered = points.sort(*keys, "uscc", "local_uscc", "relation")
    direct = ~pl.col("relation").is_in(list(TIER2.values()))
    return ordered.group_by(*keys, "uscc", maintain_order=True).agg(
        (1.0 - (1.0 - pl.col("points")).product()).alias(component("partner_referral")),
        pl.col("local_uscc").filter(direct).n_unique().cast(pl.Int64).alias("local_partners"),
    )


def relocation(
    origins: pl.DataFrame, source_provinces: Collection[str], scales: TargetScales
) -> pl.DataFrame:
    """Per origin × node: lq (DESIGN §6, by firm count), source (origin in a source
    province) and relocation_component.

    origins: origin_code, node_id, node_firms, chain_firms, national_node_firms,
    national_chain_firms (`candidates.origin_facts`)."""
    sources = pl.Series(list(source_provinces), dtype=pl.String)
    lq_part = ((pl.col("lq").fill_null(0.0) - 1.0) / (scales.relocation_full_lq - 1.0)).clip(
        0.0, 1.0
    )
    density_part = (
        pl.col("node_firms").cast(pl.Float64).log1p() / math.log1p(scales.relocation_full_firms)
    ).clip(0.0, 1.0)
    return origins.with_columns(
        location_quotient(
            "node_firms", "chain_firms", "national_node_firms", "national_chain_firms"
        ),
        (pl.col("origin_code").str.slice(0, 2) + "0000").is_in(sources.implode()).alias("source"),
    ).with_columns(
        pl.when(pl.col("source"))
        .then((lq_part * density_part).sqrt())
        .otherwise(0.0)
        .alias(component("relocation"))
    )


# --- the score ------------------------------------------------------------------------------
def target_components(frame: pl.DataFrame, scales: TargetScales, as_of: dt.date) -> pl.DataFrame:
    """Add the components computed from the firm's own columns, where the column is there
    and the component not yet: fit ← node_fit, size ← registered_capital, growth ←
    established, tags ← tags, distance ← distance_km. partner_referral_component and
    relocation_component come joined from their own frames (null → 0)."""
    sources: dict[str, tuple[str, pl.Expr]] = {
        "fit": ("node_fit", pl.col("node_fit").fill_null(0.0).clip(0.0, 1.0)),
        "size": ("registered_capital", size_component(pl.col("registered_capital"), scales)),
        "growth": ("established", growth_component(pl.col("established"), as_of, scales)),
        "tags": ("tags", tags_component(pl.col("tags"))),
        "distance": ("distance_km", distance_component(pl.col("distance_km"), scales)),
    }
    exprs = [
        expr.alias(component(kind))
        for kind, (source, expr) in sources.items()
        if source in frame.columns and component(kind) not in frame.columns
    ]
    exprs += [
        pl.col(component(kind)).fill_null(0.0)
        for kind in ("partner_referral", "relocation")
        if component(kind) in frame.columns
    ]
    return frame.with_columns(exprs)


def weighted_sum(weights: TargetWeights, *, unknown: dict[str, float] | None = None) -> pl.Expr:
    """Σ weight × component; a component named in `unknown` takes the given value instead
    of its column (bounds before it is read)."""
    unknown = unknown or {}
    terms = [
        w * (pl.lit(unknown[k]) if k in unknown else pl.col(component(k)))
        for k, w in weights.component_weights().items()
    ]
    return pl.sum_horizontal(terms).cast(pl.Float64)


def target_score(frame: pl.DataFrame, weights: TargetWeights) -> pl.DataFrame:
    """Add `score` (every component column must be there)."""
    return frame.with_columns(weighted_sum(weights).alias("score"))


def prune(
    frame: pl.DataFrame,
    weights: TargetWeights,
    top: int,
    unknown: Sequence[str],
    by: str = "node_id",
) -> pl.DataFrame:
    """Keep the rows that can still reach the top `top` of their group once the `unknown`
    components are read: upper bound (unknown = 1) ≥ the `top`-th best lower bound (unknown
    = 0). Exact — every row of the final top survives."""
    lower = weighted_sum(weights, unknown=dict.fromkeys(unknown, 0.0))
    upper = weighted_sum(weights, unknown=dict.fromkeys(unknown, 1.0))
    bar = lower.top_k(top).min().over(by)
    # slack: a row exactly on the bar must survive floating-point noise in the two sums
    return frame.filter(upper >= bar - 1e-9)


def rank_targets(
    frame: pl.DataFrame, top: int | None, by: str | Sequence[str] = "node_id"
) -> pl.DataFrame:
    """Sort each group by score (then uscc, so ties have a fixed order), number from 1, keep
    the first `top`."""
    groups = [by] if isinstance(by, str) else list(by)
    ranked = frame.sort(
        [*groups, "score", "uscc"], descending=[*[False] * len(groups), True, False]
    ).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(groups).alias("rank"))
    return ranked if top is None else ranked.filter(pl.col("rank") <= top)
