"""Targets of every region × chain of a level at once, for `chainatlas build` (J8): the lists
`pipeline.find_targets` gives one region at a time with the default inputs (no exclusion
list, no reason filter), computed for all regions together.

A target's score splits into a part that does not depend on the region asking — fit, size,
growth, tags, relocation (`base`) — and two that do: distance (the same for every firm of
one county) and partner_referral (non-zero only for firms that trade with the region's
firms or reach its lead firms at the second tier). So the best `top` of a gap node in
region R are among

- R's partner firms on the node, scored in full (`firm_links` is grouped once per chain and
  attributed to every region of the level at once), and
- each county's `top` best firms of the node by `base`: a firm with `top` better ones in its
  own county — at the same distance, with partner_referral ≥ 0 — cannot be in the top.

The county shortlists are pruned per region with a bound (the `top`-th best of base +
distance is a bar no firm with base + distance weight below it can pass) before the exact
score is computed with the pipeline's own expressions, so scores and order equal
`find_targets`' (tests/targets/test_batch.py compares them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.data import LEVEL_COLUMN
from chainatlas.engine.warehouse import Warehouse
from chainatlas.reference.regions import load_regions
from chainatlas.targets import candidates
from chainatlas.targets.pipeline import GAP_STATUSES, best_partners, full_name
from chainatlas.targets.reasons import reason_lines, with_reasons
from chainatlas.targets.score import (
    EARTH_RADIUS_KM,
    TIER2,
    component,
    great_circle_km,
    partner_points,
    partner_referral,
    rank_targets,
    relocation,
    tags_component,
    target_components,
    target_score,
    tier2_points,
    weighted_sum,
)
from chainatlas.targets.weights import COMPONENTS, TargetWeights

# the region the list is for, while working (the firms' own `region_code` is their county)
FOR = "for_region"
GROUP = [FOR, "node_id"]
# floating-point slack of the bounds: a row exactly on a bar must survive
SLACK = 1e-9
# asking regions scored together (bounds the second tier's rows and the pruning matrices)
CHUNK_REGIONS = 128
FIRM_COLUMNS = (
    "uscc",
    "node_id",
    "national_rank",
    "name",
    "province_code",
    "city_code",
    "region_code",
    "registered_capital",
    "revenue",
    "tags",
    "established",
)
OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "region_code": pl.String(),  # the region the list is for
    "chain_id": pl.String(),
    "node_id": pl.String(),
    "rank": pl.Int64(),
    "uscc": pl.String(),
    "name": pl.String(),
    "target_region_code": pl.String(),  # where the target is registered
    "registered_capital": pl.Float64(),
    "revenue": pl.Float64(),
    "established": pl.Date(),
    "tags": pl.String(),
    "national_rank": pl.Int64(),
    "node_fit": pl.Float64(),
    "distance_km": pl.Float64(),
    "origin_code": pl.String(),
    "origin_lq": pl.Float64(),
    "origin_node_firms": pl.Int64(),
    "origin_source": pl.Boolean(),
    "local_partners": pl.Int64(),
    "partner_uscc": pl.String(),
    "partner_name": pl.String(),
    "partner_relation": pl.String(),
    "partner_lead": pl.Boolean(),
    "partner_via": pl.String(),
    **{component(k): pl.Float64() for k in COMPONENTS},
    "score": pl.Float64(),
    "primary_reason": pl.String(),
    "reason_zh": pl.String(),
    "reason_en": pl.String(),
}


def gap_pairs(nodes: pl.DataFrame) -> pl.DataFrame:
    """region_code, chain_id, node_id of the batch diagnosis' `missing`, `weak` and `break`
    nodes (`pipeline.gap_nodes`) of the chains the region has firms on: where it has none,
    no chain office works the chain (`chainatlas targets` still answers one region at a
    time), and every county would list every node of every chain."""
    gap = pl.col("status").is_in(GAP_STATUSES) | pl.col("break").fill_null(False)
    return nodes.filter(gap & (pl.col("chain_firms") > 0)).select(
        "region_code", "chain_id", "node_id"
    )


def _chain_firms(wh: Warehouse, chain_id: str, level: str) -> pl.DataFrame:
    columns = ", ".join(FIRM_COLUMNS)
    return (
        wh.raw.execute(
            f"SELECT {columns}, score AS node_fit, {LEVEL_COLUMN[level]} AS level_code "
            "FROM chain_firms WHERE chain_id = ?",
            [chain_id],
        )
        .pl()
        .with_columns(pl.col("national_rank").cast(pl.Int64))
    )


def _pair_links(wh: Warehouse, chain_id: str) -> pl.DataFrame:
    """The chain's links per firm × partner × direction, seen from the partner: uscc (the
    partner), local_uscc (the firm), relation (`supplier`: the partner sells to the firm),
    links, amount — `candidates.local_links` of every region at once, and
    `candidates.tier2_links` with local_uscc as via_uscc."""
    return (
        wh.raw.execute(
            "SELECT partner AS uscc, uscc AS local_uscc, "
            "CASE WHEN buys THEN 'supplier' ELSE 'customer' END AS relation, "
            "count(*) AS links, sum(amount) AS amount "
            "FROM firm_links WHERE chain_id = ? GROUP BY ALL",
            [chain_id],
        )
        .pl()
        .with_columns(pl.col("links").cast(pl.Int64))
    )


def _base(
    wh: Warehouse,
    chain_id: str,
    firms: pl.DataFrame,
    node_ids: list[str],
    weights: TargetWeights,
    as_of: dt.date,
) -> pl.DataFrame:
    """The firms on `node_ids` with the region-independent components and `base`, their
    sum weighted (partner_referral and distance taken as 0)."""
    scales = weights.scales
    origins = relocation(
        candidates.origin_facts(wh, chain_id, node_ids), weights.source_provinces, scales
    ).select(
        "origin_code",
        "node_id",
        pl.col("lq").alias("origin_lq"),
        pl.col("node_firms").alias("origin_node_firms"),
        pl.col("source").alias("origin_source"),
        component("relocation"),
    )
    kinds = (
        firms.select("tags")
        .unique()
        .with_columns(tags_component(pl.col("tags")).alias(component("tags")))
    )
    pool = (
        firms.filter(pl.col("node_id").is_in(node_ids))
        .join(kinds, on="tags", how="left", nulls_equal=True)
        .with_columns(pl.coalesce("city_code", "province_code").alias("origin_code"))
        .join(origins, on=["origin_code", "node_id"], how="left")
    )
    pool = target_components(pool, scales, as_of)
    unknown = {"partner_referral": 0.0, "distance": 0.0}
    return pool.with_columns(weighted_sum(weights, unknown=unknown).alias("base"))


def _partners(
    pairs: pl.DataFrame,
    firms: pl.DataFrame,
    leads: pl.DataFrame,
    weights: TargetWeights,
    regions: pl.Series,
    candidates: pl.Series,
) -> pl.DataFrame:
    """The `partner_points` rows (first and second tier) of `regions` (FOR values), of the
    firms outside each that are among `candidates` (firms on a gap node), keyed by FOR."""
    scales = weights.scales
    where = firms.select("uscc", "level_code").unique("uscc")
    first = pairs.join(
        where.rename({"uscc": "local_uscc", "level_code": FOR}), on="local_uscc"
    ).filter(pl.col(FOR).is_in(regions.implode()))
    wanted = pl.col("uscc").is_in(candidates.implode())
    local = firms.select("uscc", "name", "registered_capital").unique("uscc")
    region_leads = leads.select(pl.col("region_code").alias(FOR), "uscc")
    points = partner_points(first, local, region_leads, scales, keys=[FOR])
    if scales.tier2_factor > 0:
        # the second tier only reaches candidates; the first tier's other rows still lead
        # to it (through the lead firms' partners) and name the direct pairs
        tier2 = pairs.filter(pl.col("relation").is_in(list(TIER2)) & wanted).rename(
            {"local_uscc": "via_uscc"}
        )
        points = pl.concat(
            [points, tier2_points(tier2, points, scales, keys=[FOR])], how="diagonal_relaxed"
        )
    # candidates are outside the region: its own firms' rows served the second tier
    inside = where.rename({"level_code": FOR})
    return points.filter(wanted).join(inside, on=[FOR, "uscc"], how="anti")


def _shortlist(pool: pl.DataFrame, top: int) -> pl.DataFrame:
    """Per node × county, the firms that can be among its `top` best by base (ties within
    SLACK kept), sorted by node, then base from the best."""
    bar = pl.col("base").top_k(top).min().over("node_id", "region_code")
    return pool.filter(pl.col("base") >= bar - SLACK).sort(
        ["node_id", "base", "uscc"], descending=[False, True, False]
    )


@dataclass(frozen=True)
class Reach:
    """weight × distance component from every asking region of a level (rows, `asking`) to
    every region a firm can be registered in (columns, `counties`), −inf where that region
    lies inside the asking one (its firms are not candidates). For pruning only: the exact
    component is computed again on the rows kept."""

    counties: pl.DataFrame  # region_code, county (column index)
    asking: pl.DataFrame  # FOR, asking (row index)
    matrix: np.ndarray

    @classmethod
    def of_level(cls, level: str, weights: TargetWeights) -> Reach:
        regions = load_regions()
        inside_of = pl.col("region_code") if level == "county" else pl.col(LEVEL_COLUMN[level])
        counties = regions.select("region_code", "lon", "lat", inside_of.alias("level_code"))
        asking = regions.filter(pl.col("level") == level).select(
            pl.col("region_code").alias(FOR), "lon", "lat"
        )

        def radians(frame: pl.DataFrame, column: str) -> np.ndarray:
            return np.radians(frame[column].cast(pl.Float64).fill_null(np.nan).to_numpy())

        lat1, lon1 = radians(counties, "lat")[None, :], radians(counties, "lon")[None, :]
        lat2, lon2 = radians(asking, "lat")[:, None], radians(asking, "lon")[:, None]
        h = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
        part = weights.distance / (1.0 + np.maximum(km, 0.0) / weights.scales.distance_half_km)
        part = np.where(np.isnan(part), 0.0, part)  # no coordinates: distance 0
        inside = counties["level_code"].to_numpy()[None, :] == asking[FOR].to_numpy()[:, None]
        return cls(
            counties.select("region_code").with_row_index("county"),
            asking.select(FOR).with_row_index("asking"),
            np.where(inside, -np.inf, part),
        )


def _near_top(
    shortlist: pl.DataFrame,
    gaps: pl.DataFrame,
    reach: Reach,
    weights: TargetWeights,
    top: int,
) -> pl.DataFrame:
    """For every gap (FOR × node), the shortlist rows that can be among its `top` by
    base + distance: FOR and the shortlist's `row` index."""
    indexed = shortlist.join(reach.counties, on="region_code")
    wanted = gaps.join(reach.asking, on=FOR)
    cap = max(weights.distance, 0.0)
    found: list[pl.DataFrame] = []
    for (node_id,), rows in indexed.sort("row").group_by(["node_id"], maintain_order=True):
        who = wanted.filter(pl.col("node_id") == node_id)
        if not who.height:
            continue
        base = rows["base"].to_numpy()
        county = rows["county"].to_numpy()
        row_ids = rows["row"].to_numpy()
        near = reach.matrix[who["asking"].to_numpy()]
        m = min(len(base), max(8 * top, 256))
        while True:
            scores = base[None, :m] + near[:, county[:m]]
            if m >= top:
                bar = -np.partition(-scores, top - 1, axis=1)[:, top - 1]
            else:
                bar = np.full(len(near), -np.inf)
            # every row beyond m scores at most its base + the distance weight
            if m == len(base) or np.all(base[m] + cap < bar - SLACK):
                break
            m = min(len(base), 2 * m)
        keep = np.isfinite(scores) & (scores >= bar[:, None] - SLACK)
        hit_asking, hit_row = np.nonzero(keep)
        found.append(
            pl.DataFrame(
                {FOR: who[FOR].to_numpy()[hit_asking], "row": row_ids[hit_row]},
                schema={FOR: pl.String, "row": pl.UInt32},
            )
        )
    if not found:
        return pl.DataFrame(schema={FOR: pl.String, "row": pl.UInt32})
    return pl.concat(found)


def _with_distance(frame: pl.DataFrame) -> pl.DataFrame:
    """distance_km from the firm's county to the asking region, as `pipeline.region_facts`
    computes it."""
    regions = load_regions().select("region_code", "lon", "lat")
    here = regions.rename({"region_code": FOR, "lon": "for_lon", "lat": "for_lat"})
    return (
        frame.join(regions, on="region_code", how="left")
        .join(here, on=FOR, how="left")
        .with_columns(
            great_circle_km(
                pl.col("lon"), pl.col("lat"), pl.col("for_lon"), pl.col("for_lat")
            ).alias("distance_km")
        )
        .drop("lon", "lat", "for_lon", "for_lat")
    )


def _best_partner(
    points: pl.DataFrame, ranked: pl.DataFrame, wh: Warehouse, chain_id: str
) -> pl.DataFrame:
    """Each ranked firm's strongest local partner in its asking region (as the target list
    names it first): FOR, uscc, partner_uscc, partner_name, partner_relation, partner_lead,
    partner_via."""
    shown = points.join(ranked.select(FOR, "uscc").unique(), on=[FOR, "uscc"], how="semi")
    best = best_partners(shown, keys=[FOR]).filter(pl.col("partner_rank") == 1)
    if "via_uscc" not in best.columns:
        best = best.with_columns(pl.lit(None, pl.String).alias("via_uscc"))
    vias = best["via_uscc"].drop_nulls().unique().to_list()
    names = candidates.firm_names(wh, chain_id, vias).rename(
        {"uscc": "via_uscc", "name": "partner_via"}
    )
    return best.join(names, on="via_uscc", how="left").select(
        FOR,
        "uscc",
        pl.col("local_uscc").alias("partner_uscc"),
        pl.col("local_name").alias("partner_name"),
        pl.col("relation").alias("partner_relation"),
        pl.col("lead_firm").alias("partner_lead"),
        "partner_via",
    )


def chain_targets(
    wh: Warehouse,
    chain: Chain,
    level: str,
    gaps: pl.DataFrame,
    leads: pl.DataFrame,
    *,
    weights: TargetWeights,
    as_of: dt.date,
    top: int,
    reach: Reach | None = None,
) -> pl.DataFrame:
    """The targets of every gap node of `chain` in every region of `level` (OUTPUT_COLUMNS).

    gaps: region_code, node_id (this chain's `gap_pairs`); leads: region_code, uscc (the
    lead firms of each region on the chain, `diagnose.batch.lead_firms_all`)."""
    gaps = gaps.select(pl.col("region_code").alias(FOR), "node_id").unique()
    if not gaps.height:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    reach = reach or Reach.of_level(level, weights)
    node_ids = sorted(gaps["node_id"].unique().to_list())
    firms = _chain_firms(wh, chain.id, level)
    pool = _base(wh, chain.id, firms, node_ids, weights, as_of)
    pairs = _pair_links(wh, chain.id)
    shortlist = _shortlist(pool, top).with_row_index("row")
    asking = gaps[FOR].unique().sort()
    # regions a chunk at a time: the second tier of every county at once would not fit
    chunks = [asking.slice(i, CHUNK_REGIONS) for i in range(0, len(asking), CHUNK_REGIONS)]
    parts = [
        _chunk_targets(
            wh,
            chain,
            gaps.filter(pl.col(FOR).is_in(chunk.implode())),
            firms,
            pool,
            pairs,
            shortlist,
            leads,
            reach,
            weights=weights,
            as_of=as_of,
            top=top,
        )
        for chunk in chunks
    ]
    return pl.concat(parts)


def _chunk_targets(
    wh: Warehouse,
    chain: Chain,
    gaps: pl.DataFrame,
    firms: pl.DataFrame,
    pool: pl.DataFrame,
    pairs: pl.DataFrame,
    shortlist: pl.DataFrame,
    leads: pl.DataFrame,
    reach: Reach,
    *,
    weights: TargetWeights,
    as_of: dt.date,
    top: int,
) -> pl.DataFrame:
    """`chain_targets` of the regions in `gaps`."""
    points = _partners(pairs, firms, leads, weights, gaps[FOR].unique(), pool["uscc"].unique())
    referral = partner_referral(points, keys=[FOR])
    # R's partner firms on its gap nodes, in full
    partnered = pool.join(referral, on="uscc").join(gaps, on=GROUP, how="semi")
    # the rest: each county's best by base, pruned per region against the bar
    near = _near_top(shortlist, gaps, reach, weights, top)
    others = (
        shortlist.join(near, on="row")
        .drop("row")
        .join(referral.select(FOR, "uscc"), on=[FOR, "uscc"], how="anti")
        .with_columns(
            pl.lit(0.0).alias(component("partner_referral")),
            pl.lit(0, pl.Int64).alias("local_partners"),
        )
    )
    scored = pl.concat([partnered, others], how="diagonal_relaxed")
    scored = target_score(target_components(_with_distance(scored), weights.scales, as_of), weights)
    ranked = rank_targets(scored, top, by=GROUP)
    ranked = ranked.join(_best_partner(points, ranked, wh, chain.id), on=[FOR, "uscc"], how="left")
    origins = ranked["origin_code"].drop_nulls().unique().to_list()
    ranked = ranked.with_columns(
        pl.col("origin_code")
        .replace_strict({c: full_name(c) for c in origins}, default=None, return_dtype=pl.String)
        .alias("origin_name")
    )
    ranked = reason_lines(with_reasons(ranked, weights), weights.scales)
    ranked = ranked.rename({"region_code": "target_region_code"}).with_columns(
        pl.col(FOR).alias("region_code"), pl.lit(chain.id).alias("chain_id")
    )
    return ranked.select(pl.col(c).cast(t) for c, t in OUTPUT_SCHEMA.items())


def targets_by_chain(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    level: str,
    nodes: pl.DataFrame,
    leads: pl.DataFrame,
    *,
    weights: TargetWeights | None = None,
    as_of: dt.date | None = None,
    top: int = 10,
    region_codes: Collection[str] | None = None,
) -> Iterator[pl.DataFrame]:
    """The targets of every region of `level` (or of `region_codes`) × chain × gap node
    (the batch diagnosis' `nodes`, the lead firms of `lead_firms_all`), the best `top` of
    each; one frame per chain (a level's county lists are millions of rows: written as they
    come, not held together)."""
    weights = weights or TargetWeights()
    as_of = as_of or dt.date.today()
    gaps = gap_pairs(nodes)
    if region_codes is not None:
        gaps = gaps.filter(pl.col("region_code").is_in(list(region_codes)))
    reach = Reach.of_level(level, weights)
    for chain in atlas.values():
        yield chain_targets(
            wh,
            chain,
            level,
            gaps.filter(pl.col("chain_id") == chain.id),
            leads.filter(pl.col("chain_id") == chain.id),
            weights=weights,
            as_of=as_of,
            top=top,
            reach=reach,
        )


def targets_all(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    level: str,
    nodes: pl.DataFrame,
    leads: pl.DataFrame,
    *,
    weights: TargetWeights | None = None,
    as_of: dt.date | None = None,
    top: int = 10,
    region_codes: Collection[str] | None = None,
) -> pl.DataFrame:
    """`targets_by_chain` in one frame."""
    parts = targets_by_chain(
        wh,
        atlas,
        level,
        nodes,
        leads,
        weights=weights,
        as_of=as_of,
        top=top,
        region_codes=region_codes,
    )
    return pl.concat([pl.DataFrame(schema=OUTPUT_SCHEMA), *parts])


__all__ = ["OUTPUT_SCHEMA", "chain_targets", "gap_pairs", "targets_all", "targets_by_chain"]
