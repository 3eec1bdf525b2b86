"""Opportunities of one region (J4): relatedness and complexity over every node of every chain,
among all regions of the region's level, then ranked (`metrics.opportunities`).

Contract `chainatlas.opportunities/1` (docs/contracts.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.batch import diagnose_all
from chainatlas.diagnose.model import RegionRef
from chainatlas.diagnose.pipeline import resolve_region
from chainatlas.engine.history import active_by_year, data_years, node_profiles
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.complexity import complexity_table
from chainatlas.metrics.opportunities import (
    ScoreWeights,
    candidates,
    node_growth,
    rank_opportunities,
    reasons,
)
from chainatlas.reference.regions import load_regions
from chainatlas.settings import OpportunityWeights, StatusThresholds

SCHEMA_ID = "chainatlas.opportunities/1"

OpportunityKind = Literal["build", "extend", "fill"]


class Opportunity(BaseModel):
    rank: int
    kind: OpportunityKind
    chain_id: str
    chain_name_zh: str
    chain_name_en: str
    node_id: str | None = Field(description="null for `build`: the whole chain")
    node_name_zh: str | None
    node_name_en: str | None
    stage: str | None
    firm_count: int = Field(description="local active firms already on the node (or chain)")
    rca: float | None
    density: float | None = Field(description="feasibility: relatedness density, 0–1")
    pci: float | None
    cog: float | None
    growth: float | None = Field(description="national growth of the node's firm count")
    adjacent_strong: list[str]
    components: dict[str, float] = Field(description="percentile rank of each component")
    score: float
    reason_zh: str
    reason_en: str


class Opportunities(BaseModel):
    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    region: RegionRef
    chain_id: str | None = Field(description="set when the list is limited to one chain")
    regions_compared: int = Field(description="regions of the same level in the matrix")
    nodes_compared: int
    as_of_year: int | None = Field(description="last year with data (may be partial)")
    growth_since_year: int | None = Field(
        description="growth is measured from the end of this year"
    )
    weights: dict[str, float]
    diversity: int
    eci: float | None
    coi: float | None
    items: list[Opportunity]

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def _atlas_frames(atlas: Mapping[str, Chain]) -> tuple[pl.DataFrame, pl.DataFrame]:
    nodes = pl.DataFrame(
        [(c.id, n.id) for c in atlas.values() for n in c.nodes],
        schema={"chain_id": pl.String, "node_id": pl.String},
        orient="row",
    )
    edges = pl.DataFrame(
        [(c.id, e.supplier, e.customer) for c in atlas.values() for e in c.edges],
        schema={"chain_id": pl.String, "supplier": pl.String, "customer": pl.String},
        orient="row",
    )
    return nodes, edges


def region_matrix(wh: Warehouse, level: str) -> pl.DataFrame:
    """region_code, product, firm_count for every region of `level` that has firms."""
    profile = wh.to_polars(node_profiles(wh.table("node_facts"), level))
    of_level = load_regions().filter(pl.col("level") == level).select("region_code")
    return profile.join(of_level, on="region_code", how="semi")


def _growth(wh: Warehouse, years: int) -> tuple[pl.DataFrame, int | None, int | None]:
    """National growth per node between the ends of years `last − years` and `last`."""
    last = data_years(wh).last
    if last is None:
        empty = pl.DataFrame(
            schema={"chain_id": pl.String, "node_id": pl.String, "growth": pl.Float64}
        )
        return empty, None, None
    then = last - years
    cohorts = wh.table("node_cohorts")
    active = wh.to_polars(
        active_by_year(cohorts, [then, last], ["chain_id", "node_id"], weight="firms")
    )
    wide = active.pivot(
        on="year", index=["chain_id", "node_id"], values="national_firm_count"
    ).rename({str(then): "firms_then", str(last): "firms_now"})
    return node_growth(wide), last, then


def _region_figure(rows: pl.DataFrame, column: str) -> float | None:
    """A figure of the region itself (the same on each of its rows); None when undefined."""
    if column not in rows.columns or not rows.height:
        return None
    value = rows.select(pl.col(column).max()).item()
    return None if value is None else float(value)


def find_opportunities(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    region_code: str,
    *,
    weights: OpportunityWeights,
    thresholds: StatusThresholds,
    chain_id: str | None = None,
    top: int | None = 20,
) -> Opportunities:
    region = resolve_region(region_code)
    matrix = region_matrix(wh, region.level)
    nodes, edges = _atlas_frames(atlas)
    if matrix.height:
        cx = complexity_table(matrix, region="region_code", product="product", value="firm_count")
    else:
        cx = pl.DataFrame()
    mine = (
        cx.filter(pl.col("region_code") == region_code)
        if cx.height
        else pl.DataFrame(schema={"region_code": pl.String, "product": pl.String})
    )
    diversity = int(_region_figure(mine, "diversity") or 0)
    eci = _region_figure(mine, "eci") if diversity else None
    coi = _region_figure(mine, "coi") if diversity else None
    keyed = nodes.with_columns(pl.concat_str("chain_id", pl.lit("/"), "node_id").alias("product"))
    local = matrix.filter(pl.col("region_code") == region_code).select("product", "firm_count")
    grid_columns = ["product", "rca", "mcp", "density", "pci", "cog"]
    grid = (
        mine.select(grid_columns)
        if mine.height
        else pl.DataFrame(
            schema={c: (pl.String if c == "product" else pl.Float64) for c in grid_columns}
        )
    )
    region_rows = (
        keyed.join(local, on="product", how="left")
        .join(grid, on="product", how="left")
        .with_columns(pl.col("firm_count").fill_null(0), pl.col("mcp").fill_null(0))
    )

    growth, now, then = _growth(wh, weights.growth_years)
    held_ids = (
        region_rows.filter(pl.col("mcp") == 1)["chain_id"].unique().to_list() if diversity else []
    )
    # the held chains' node statuses, as the diagnosis gives them (one batch pass for the
    # region: a diagnosis per chain would read the network and lead firms it does not need)
    held = {cid: atlas[cid] for cid in sorted(held_ids)}
    status = (
        diagnose_all(
            wh, held, region.level, thresholds, region_code=region_code, network=False
        ).nodes.select("chain_id", "node_id", "status")
        if held
        else pl.DataFrame(schema={"chain_id": pl.String, "node_id": pl.String, "status": pl.String})
    )
    found = candidates(region_rows, edges, status, growth)
    if not diversity:
        # nothing held: relatedness has nothing to start from, so nothing is ranked
        found = found.clear()
    if chain_id is not None:
        found = found.filter(pl.col("chain_id") == chain_id)
    ranked = rank_opportunities(
        found, ScoreWeights(weights.density, weights.cog, weights.pci, weights.growth)
    )
    if top is not None:
        ranked = ranked.head(top)

    names = {(c.id, n.id): n.name_zh for c in atlas.values() for n in c.nodes}
    names_en = {(c.id, n.id): n.name_en for c in atlas.values() for n in c.nodes}
    stages = {(c.id, n.id): n.stage for c in atlas.values() for n in c.nodes}
    items: list[Opportunity] = []
    for row in ranked.iter_rows(named=True):
        cid, nid = row["chain_id"], row["node_id"]
        chain = atlas[cid]
        items.append(
            Opportunity(
                rank=row["rank"],
                kind=row["kind"],
                chain_id=cid,
                chain_name_zh=chain.name_zh,
                chain_name_en=chain.name_en,
                node_id=nid,
                node_name_zh=names.get((cid, nid)) if nid else None,
                node_name_en=names_en.get((cid, nid)) if nid else None,
                stage=stages.get((cid, nid)) if nid else None,
                firm_count=int(row["firm_count"] or 0),
                rca=row["rca"],
                density=row["density"],
                pci=row["pci"],
                cog=row["cog"],
                growth=row["growth"],
                adjacent_strong=row["adjacent_strong"] or [],
                components={c: row[f"{c}_pct"] for c in ("density", "cog", "pci", "growth")},
                score=row["score"],
                reason_zh=reasons(row, names, "zh"),
                reason_en=reasons(row, names_en, "en"),
            )
        )
    return Opportunities(
        region=region,
        chain_id=chain_id,
        regions_compared=int(matrix["region_code"].n_unique()) if matrix.height else 0,
        nodes_compared=int(matrix["product"].n_unique()) if matrix.height else 0,
        as_of_year=now,
        growth_since_year=then,
        weights={
            "density": weights.density,
            "cog": weights.cog,
            "pci": weights.pci,
            "growth": weights.growth,
        },
        diversity=diversity,
        eci=eci,
        coi=coi,
        items=items,
    )
