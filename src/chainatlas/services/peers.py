"""Peer regions (most similar regions of the same level by node profile) and a side-by-side
comparison of up to 10 regions on one chain (docs/trends-peers.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
from pydantic import BaseModel, Field

from chainatlas.atlas.model import Chain
from chainatlas.diagnose import Diagnosis, diagnose
from chainatlas.diagnose.data import warehouse_is_synthetic
from chainatlas.diagnose.model import ChainRef, RegionRef, Status
from chainatlas.engine.history import level_profiles
from chainatlas.errors import UserError
from chainatlas.metrics.peers import TRANSFORMS, Transform, similar_regions, strong_products
from chainatlas.reference.regions import load_regions, region_full_name
from chainatlas.services.diagnosis import open_warehouse
from chainatlas.services.trends import require_enterprises, resolve_chain, resolve_region_ref
from chainatlas.settings import Settings

PEERS_SCHEMA_ID = "chainatlas.peers/1"
COMPARISON_SCHEMA_ID = "chainatlas.comparison/1"
MAX_COMPARED = 10
DEFAULT_TOP = 10
STATUS_KEYS = ("missing", "weak", "present", "strong", "break")


# --- peer regions ---------------------------------------------------------------------------
class PeerRegion(BaseModel):
    rank: int
    code: str
    name: str
    full_name: str
    similarity: float = Field(description="cosine of the transformed RCA profiles, in [-1, 1]")
    shared_strong: int = Field(description="products with RCA ≥ strong_rca in both regions")
    strong: int = Field(description="the peer's own products with RCA ≥ strong_rca")
    firm_count: int = Field(description="Σ over all products of the peer's active firms")


class PeerRegions(BaseModel):
    schema_id: str = Field(default=PEERS_SCHEMA_ID, alias="schema")
    region: RegionRef
    synthetic_data: bool
    transform: Transform
    strong_rca: float
    products: int = Field(description="chain × node products of the profile")
    candidates: int = Field(
        description="other regions of the same level with at least one firm (compared)"
    )
    strong: int = Field(description="the region's own products with RCA ≥ strong_rca")
    strong_products: list[str] = Field(description="those products, by RCA descending")
    peers: list[PeerRegion]

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

    def frame(self) -> pl.DataFrame:
        """rank, region_code, name, full_name, similarity, shared_strong, strong, firm_count."""
        schema = {
            "rank": pl.Int64,
            "code": pl.String,
            "name": pl.String,
            "full_name": pl.String,
            "similarity": pl.Float64,
            "shared_strong": pl.Int64,
            "strong": pl.Int64,
            "firm_count": pl.Int64,
        }
        rows = [p.model_dump() for p in self.peers]
        return pl.DataFrame(rows, schema=schema, orient="row").rename({"code": "region_code"})


def peer_regions(
    settings: Settings,
    region_code: str,
    *,
    top: int = DEFAULT_TOP,
    transform: Transform = "log1p",
) -> PeerRegions:
    """The `top` regions of the same level as `region_code` with the most similar profile over
    every node of every chain (cosine on the transformed RCA, national denominator)."""
    region = resolve_region_ref(region_code)
    if transform not in TRANSFORMS:
        raise UserError(
            f"未知的变换 {transform}（可选 {'、'.join(TRANSFORMS)}）",
            f"unknown transform {transform}; one of {', '.join(TRANSFORMS)}",
        )
    if top < 1:
        raise UserError(f"top 须 ≥ 1（收到 {top}）", f"top must be ≥ 1 (got {top})")
    with open_warehouse(settings) as wh:
        require_enterprises(wh)
        profile, national = level_profiles(wh, region.level)
        synthetic = warehouse_is_synthetic(wh)
    # same level only: a county-level key may also hold firms registered at city level
    same_level = load_regions().filter(pl.col("level") == region.level)["region_code"]
    profile = profile.filter(pl.col("region_code").is_in(same_level.implode()))
    strong_rca = settings.status.strong_lq
    if not profile.filter(pl.col("region_code") == region.code)["firm_count"].sum():
        raise UserError(
            f"{region.full_name}（{region.code}）没有在链企业，无法寻找相似地区",
            f"{region.code} has no firm on any chain: no peer regions",
        )
    ranked = similar_regions(
        profile, region.code, top=top, transform=transform, national=national, strong_rca=strong_rca
    )
    own = strong_products(profile, region.code, national=national, strong_rca=strong_rca)
    names = dict(load_regions().select("region_code", "name").iter_rows())
    peers = [
        PeerRegion(
            rank=int(r["rank"]),
            code=r["region_code"],
            name=names.get(r["region_code"], r["region_code"]),
            full_name=region_full_name(r["region_code"]),
            similarity=round(float(r["similarity"]), 6),
            shared_strong=int(r["shared_strong"]),
            strong=int(r["strong"]),
            firm_count=int(r["firm_count"]),
        )
        for r in ranked.iter_rows(named=True)
    ]
    holders = profile.group_by("region_code").agg(pl.col("firm_count").sum())
    return PeerRegions(
        region=region,
        synthetic_data=synthetic,
        transform=transform,
        strong_rca=strong_rca,
        products=national.height,
        candidates=holders.filter(
            (pl.col("firm_count") > 0) & (pl.col("region_code") != region.code)
        ).height,
        strong=own.height,
        strong_products=own["product"].to_list(),
        peers=peers,
    )


# --- side-by-side comparison ----------------------------------------------------------------
class ComparedLead(BaseModel):
    uscc: str
    name: str
    node_id: str
    lead_score: float
    national_rank: int


class ComparedRegion(BaseModel):
    region: RegionRef
    firm_count: int = Field(description="distinct active local firms on the chain")
    completeness: float
    status_counts: dict[str, int] = Field(description="missing, weak, present, strong, break")
    lead_firm: ComparedLead | None = Field(
        description="the best-scored lead firm over all nodes (ties: better national rank)"
    )


class ComparedCell(BaseModel):
    region_code: str
    firm_count: int
    lq: float | None
    status: Status
    is_break: bool = Field(alias="break")

    model_config = {"populate_by_name": True}


class ComparedNode(BaseModel):
    id: str
    name_zh: str
    name_en: str
    stage: str
    regions: list[ComparedCell] = Field(description="one cell per compared region, in order")


class RegionComparison(BaseModel):
    schema_id: str = Field(default=COMPARISON_SCHEMA_ID, alias="schema")
    chain: ChainRef
    synthetic_data: bool
    thresholds: dict[str, int | float]
    mixed_levels: bool = Field(description="true when the regions are not all of one level")
    regions: list[ComparedRegion]
    nodes: list[ComparedNode]

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

    def regions_frame(self) -> pl.DataFrame:
        """One row per region: region_code, name, level, firm_count, completeness, missing,
        weak, present, strong, break, lead_uscc, lead_name, lead_node_id, lead_score."""
        rows = []
        for r in self.regions:
            lead = r.lead_firm
            rows.append(
                {
                    "region_code": r.region.code,
                    "name": r.region.name,
                    "level": r.region.level,
                    "firm_count": r.firm_count,
                    "completeness": r.completeness,
                    **{k: r.status_counts.get(k, 0) for k in STATUS_KEYS},
                    "lead_uscc": lead.uscc if lead else None,
                    "lead_name": lead.name if lead else None,
                    "lead_node_id": lead.node_id if lead else None,
                    "lead_score": lead.lead_score if lead else None,
                }
            )
        schema = {
            "region_code": pl.String,
            "name": pl.String,
            "level": pl.String,
            "firm_count": pl.Int64,
            "completeness": pl.Float64,
            **{k: pl.Int64 for k in STATUS_KEYS},
            "lead_uscc": pl.String,
            "lead_name": pl.String,
            "lead_node_id": pl.String,
            "lead_score": pl.Float64,
        }
        return pl.DataFrame(rows, schema=schema)

    def nodes_frame(self) -> pl.DataFrame:
        """Long, one row per node × region: node_id, name_zh, stage, region_code, firm_count,
        lq, status, break."""
        rows = [
            (n.id, n.name_zh, n.stage, c.region_code, c.firm_count, c.lq, c.status, c.is_break)
            for n in self.nodes
            for c in n.regions
        ]
        schema = {
            "node_id": pl.String,
            "name_zh": pl.String,
            "stage": pl.String,
            "region_code": pl.String,
            "firm_count": pl.Int64,
            "lq": pl.Float64,
            "status": pl.String,
            "break": pl.Boolean,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")

    def wide_frame(self, value: str = "firm_count") -> pl.DataFrame:
        """One row per node, one column per region code holding `value` (firm_count | lq |
        status | break), regions in the order asked."""
        long = self.nodes_frame()
        wide = long.pivot(on="region_code", index=["node_id", "name_zh", "stage"], values=value)
        order = [r.region.code for r in self.regions]
        return wide.select("node_id", "name_zh", "stage", *order)


def _unique_codes(region_codes: Sequence[str]) -> list[str]:
    codes = list(dict.fromkeys(c.strip() for c in region_codes))
    if not codes:
        raise UserError("请至少给出一个地区", "give at least one region")
    if len(codes) > MAX_COMPARED:
        raise UserError(
            f"最多比较 {MAX_COMPARED} 个地区（收到 {len(codes)} 个）",
            f"at most {MAX_COMPARED} regions can be compared (got {len(codes)})",
        )
    return codes


def _top_lead(diagnosis: Diagnosis) -> ComparedLead | None:
    leads = [(lf, n.id) for n in diagnosis.nodes for lf in n.lead_firms]
    if not leads:
        return None
    best, node_id = min(leads, key=lambda p: (-p[0].lead_score, p[0].national_rank, p[0].uscc))
    return ComparedLead(
        uscc=best.uscc,
        name=best.name,
        node_id=node_id,
        lead_score=best.lead_score,
        national_rank=best.national_rank,
    )


def compare_regions(
    settings: Settings,
    chain_id: str,
    region_codes: Sequence[str],
    *,
    atlas: Mapping[str, Chain] | None = None,
) -> RegionComparison:
    """Up to 10 regions side by side on one chain: each region's diagnosis (counts, LQ,
    status, completeness, lead firms) by `chainatlas.diagnose.diagnose`, nothing recomputed.

    Regions may be of different levels (a city beside a province): every figure is the
    region's own against the national denominator; `mixed_levels` flags it. A code given
    twice is compared once.
    """
    chain = resolve_chain(settings, chain_id, atlas)
    codes = _unique_codes(region_codes)
    refs = [resolve_region_ref(c) for c in codes]  # every unknown code fails before any work
    with open_warehouse(settings) as wh:
        require_enterprises(wh)
        diagnoses = [
            diagnose(wh, chain, ref.code, settings.status, settings.lead_firm) for ref in refs
        ]
        synthetic = warehouse_is_synthetic(wh)
    regions = [
        ComparedRegion(
            region=d.region,
            firm_count=d.firm_count,
            completeness=d.completeness,
            status_counts=d.status_counts,
            lead_firm=_top_lead(d),
        )
        for d in diagnoses
    ]
    nodes = [
        ComparedNode(
            id=n.id,
            name_zh=n.name_zh,
            name_en=n.name_en,
            stage=n.stage,
            regions=[
                ComparedCell(
                    region_code=d.region.code,
                    firm_count=d.nodes[i].firm_count,
                    lq=d.nodes[i].lq,
                    status=d.nodes[i].status,
                    is_break=d.nodes[i].is_break,
                )
                for d in diagnoses
            ],
        )
        for i, n in enumerate(chain.nodes)
    ]
    return RegionComparison(
        chain=ChainRef(id=chain.id, name_zh=chain.name_zh, name_en=chain.name_en),
        synthetic_data=synthetic,
        thresholds=settings.status.model_dump(),
        mixed_levels=len({r.level for r in refs}) > 1,
        regions=regions,
        nodes=nodes,
    )
