"""Opportunities (J4): the nodes and chains a region does not yet hold, ranked by how
feasible they are (density: how much of what it takes the region already has) and what they
are worth (COG, PCI, national growth). Pure: frames in, frames out.

Kinds (DESIGN §3 action vocabulary):
- `build`  — a chain the region does not hold at all (no node with RCA ≥ 1): a new chain;
- `extend` — a node not held, inside a held chain, adjacent in the chain graph (supplier or
  customer edge) to a node whose local status is `strong`;
- `fill`   — any other node not held inside a held chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

KINDS = ("build", "extend", "fill")
COMPONENTS = ("density", "cog", "pci", "growth")


@dataclass(frozen=True)
class ScoreWeights:
    density: float
    cog: float
    pci: float
    growth: float


def node_growth(growth: pl.DataFrame) -> pl.DataFrame:
    """chain_id, node_id, growth = firms_now / firms_then − 1 (null when nothing then)."""
    return growth.select(
        "chain_id",
        "node_id",
        pl.when(pl.col("firms_then") > 0)
        .then(pl.col("firms_now") / pl.col("firms_then") - 1)
        .alias("growth"),
    )


def held_chains(region: pl.DataFrame) -> pl.DataFrame:
    """chain_id, held (any node with M = 1), held_nodes."""
    return region.group_by("chain_id").agg(
        (pl.col("mcp") == 1).sum().alias("held_nodes"),
        (pl.col("mcp") == 1).any().alias("held"),
    )


def _adjacent_strong(edges: pl.DataFrame, status: pl.DataFrame) -> pl.DataFrame:
    """chain_id, node_id, adjacent_strong (ids of strong local neighbours, sorted)."""
    strong = status.filter(pl.col("status") == "strong").select("chain_id", "node_id")
    downstream = edges.join(
        strong.rename({"node_id": "supplier"}), on=["chain_id", "supplier"]
    ).select("chain_id", pl.col("customer").alias("node_id"), pl.col("supplier").alias("via"))
    upstream = edges.join(
        strong.rename({"node_id": "customer"}), on=["chain_id", "customer"]
    ).select("chain_id", pl.col("supplier").alias("node_id"), pl.col("customer").alias("via"))
    return (
        pl.concat([downstream, upstream])
        .group_by("chain_id", "node_id")
        .agg(pl.col("via").unique().sort().alias("adjacent_strong"))
    )


def candidates(
    region: pl.DataFrame, edges: pl.DataFrame, status: pl.DataFrame, growth: pl.DataFrame
) -> pl.DataFrame:
    """Every node and chain the region does not hold, with its kind and raw components.

    region: one row per node of the atlas for this region — chain_id, node_id, firm_count,
      rca, mcp, density, pci, cog (nodes absent from the complexity grid carry nulls);
    edges: chain_id, supplier, customer; status: chain_id, node_id, status (held chains);
    growth: chain_id, node_id, growth.
    Returns kind, chain_id, node_id (null for `build`), firm_count, rca, density, pci, cog,
    growth, adjacent_strong.
    """
    held = held_chains(region)
    nodes = (
        region.join(held, on="chain_id", how="left")
        .join(growth, on=["chain_id", "node_id"], how="left")
        .join(_adjacent_strong(edges, status), on=["chain_id", "node_id"], how="left")
    )
    in_held = nodes.filter(pl.col("held") & (pl.col("mcp") != 1)).with_columns(
        pl.when(pl.col("adjacent_strong").list.len() > 0)
        .then(pl.lit("extend"))
        .otherwise(pl.lit("fill"))
        .alias("kind")
    )
    new_chains = (
        nodes.filter(~pl.col("held"))
        .group_by("chain_id")
        .agg(
            pl.col("firm_count").sum(),
            pl.lit(None, pl.Float64).alias("rca"),
            pl.col("density").mean(),
            pl.col("pci").mean(),
            pl.col("cog").mean(),
            pl.col("growth").mean(),
        )
        .with_columns(
            pl.lit("build").alias("kind"),
            pl.lit(None, pl.String).alias("node_id"),
            pl.lit(None, pl.List(pl.String)).alias("adjacent_strong"),
        )
    )
    columns = [
        "kind",
        "chain_id",
        "node_id",
        "firm_count",
        "rca",
        "density",
        "pci",
        "cog",
        "growth",
        "adjacent_strong",
    ]
    return pl.concat(
        [
            in_held.select(columns),
            new_chains.select(columns).cast({"firm_count": in_held.schema["firm_count"]}),
        ]
    )


def rank_opportunities(candidates: pl.DataFrame, weights: ScoreWeights) -> pl.DataFrame:
    """Score = Σ weight × percentile rank of the component among the candidates (ties share
    the mean rank; a null component scores 0). Sorted best first; adds `<component>_pct`,
    `score`, `rank`."""
    n = candidates.height
    pct = [
        (
            pl.when(pl.col(c).is_not_null())
            .then(pl.col(c).rank("average") / max(n, 1))
            .otherwise(0.0)
            .alias(f"{c}_pct")
        )
        for c in COMPONENTS
    ]
    scored = candidates.with_columns(pct).with_columns(
        (
            weights.density * pl.col("density_pct")
            + weights.cog * pl.col("cog_pct")
            + weights.pci * pl.col("pci_pct")
            + weights.growth * pl.col("growth_pct")
        ).alias("score")
    )
    return scored.sort(
        ["score", "density", "chain_id", "node_id"],
        descending=[True, True, False, False],
        nulls_last=True,
    ).with_row_index("rank", offset=1)


def _fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0%}"


def reasons(row: dict[str, object], names: dict[tuple[str, str], str], lang: str) -> str:
    """One line of reasons for an opportunity row, in zh or en."""
    zh = lang == "zh"
    parts: list[str] = []
    density, d_pct = row.get("density"), row.get("density_pct")
    if isinstance(density, float) and isinstance(d_pct, float):
        top = max(1, round((1 - d_pct) * 100))
        parts.append(
            f"相关密度 {density:.2f}（候选前 {top}%）"
            if zh
            else f"density {density:.2f} (top {top}% of candidates)"
        )
    pci, cog = row.get("pci"), row.get("cog")
    if isinstance(pci, float):
        parts.append(f"复杂度 PCI {pci:.2f}" if zh else f"complexity PCI {pci:.2f}")
    if isinstance(cog, float):
        parts.append(f"机会收益 COG {cog:.2f}" if zh else f"opportunity gain COG {cog:.2f}")
    growth = row.get("growth")
    if isinstance(growth, float):
        parts.append(
            f"全国企业数增长 {_fmt_pct(growth)}"
            if zh
            else f"national firm growth {_fmt_pct(growth)}"
        )
    chain_id = str(row["chain_id"])
    adjacent = row.get("adjacent_strong") or []
    if isinstance(adjacent, list) and adjacent:
        labels = "、".join(f"「{names.get((chain_id, a), a)}」" for a in adjacent)
        parts.append(
            f"与本地优势环节{labels}相邻" if zh else f"next to local strong node(s) {labels}"
        )
    if row["kind"] == "build":
        parts.append("本地尚无具比较优势的环节" if zh else "no node of the chain held yet")
    elif row.get("firm_count"):
        n = int(str(row["firm_count"]))
        parts.append(f"本地已有 {n} 家企业" if zh else f"{n} local firms already")
    return "；".join(parts) if zh else "; ".join(parts)
