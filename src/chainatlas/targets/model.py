"""The target-list JSON contract `chainatlas.targets/1` (docs/targets.md)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from chainatlas.diagnose.model import ChainRef, RegionRef, Status

SCHEMA_ID = "chainatlas.targets/1"

ReasonKind = Literal["fit", "size", "growth", "tags", "partner_referral", "relocation", "distance"]
Relation = Literal["supplier", "customer", "both", "supplier_tier2", "customer_tier2"]


class LocalPartner(BaseModel):
    """A firm of the region the target already trades with (以商招商)."""

    uscc: str
    name: str
    relation: Relation = Field(
        description="the target is the local firm's supplier, its customer, or both; or, "
        "two links away from a local lead firm, its supplier's supplier (supplier_tier2) or "
        "its customer's customer (customer_tier2)"
    )
    lead_firm: bool = Field(description="the local firm is a lead firm of the diagnosis")
    links: int = Field(description="stored supply links between the two")
    amount: float | None = Field(description="万元, sum over the links that carry an amount")
    points: float = Field(description="the partner's points in partner_referral")
    via_uscc: str | None = Field(
        default=None, description="second tier: the firm between the target and the lead firm"
    )
    via_name: str | None = Field(default=None, description="its name")


class Origin(BaseModel):
    """The target's origin region: its city (its province when it has no city)."""

    code: str
    name: str
    source: bool = Field(description="in a source province of relocation")
    lq: float | None = Field(description="LQ of the node there, by firm count (DESIGN §6)")
    node_firms: int = Field(description="active firms of the node there (competitors)")


class Target(BaseModel):
    rank: int = Field(description="1 = best, within the node")
    uscc: str
    name: str
    region_code: str = Field(description="the registering county (or city)")
    region_name: str = Field(description="full name, province first")
    registered_capital: float | None = Field(description="万元")
    revenue: float | None = Field(description="万元")
    established: dt.date | None
    tags: list[str]
    national_rank: int | None = Field(
        description="rank by registered capital among the node's active firms, nationally"
    )
    node_fit: float = Field(description="classification score of the firm on the node")
    distance_km: float | None = Field(description="great-circle km between the regions")
    origin: Origin
    local_partners: int = Field(description="distinct on-chain firms of the region it trades with")
    partners: list[LocalPartner] = Field(description="the strongest local partners, at most 3")
    components: dict[ReasonKind, float] = Field(description="each in [0, 1]")
    score: float = Field(description="Σ weight × component")
    reasons: list[ReasonKind] = Field(
        description="components that reach their reason threshold, largest contribution first"
    )
    primary_reason: ReasonKind | None
    reason_zh: str
    reason_en: str


class TargetNode(BaseModel):
    id: str
    name_zh: str
    name_en: str
    stage: str
    status: Status
    is_break: bool = Field(alias="break")
    firm_count: int = Field(description="local active firms on the node")
    national_firm_count: int
    candidates: int = Field(
        description="active firms of the node outside the region, after the exclusion list"
    )
    excluded_contacted: int = Field(description="of the node's firms, removed by the list")
    matching: int = Field(description="candidates that have the `--reason` (all without it)")
    targets: list[Target]

    model_config = {"populate_by_name": True}


class Exclusions(BaseModel):
    file: str | None = Field(description="the exclusion list read, if any")
    listed: int = Field(description="distinct credit codes on the list")
    excluded: int = Field(description="of them, firms that were candidates of a listed node")


class TargetList(BaseModel):
    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    region: RegionRef
    chain: ChainRef
    synthetic_data: bool = Field(description="true when any firm of the warehouse is synthetic")
    as_of: dt.date = Field(description="the date ages (growth) are measured at")
    node_id: str | None = Field(description="the node asked for; null: every gap node")
    top: int = Field(description="targets kept per node")
    reason: ReasonKind | None = Field(description="the `--reason` filter, if any")
    weights: dict[ReasonKind, float] = Field(description="weights of the components")
    scales: dict[str, float] = Field(description="constants of the transforms and thresholds")
    source_provinces: list[str] = Field(description="province codes of relocation's sources")
    exclusions: Exclusions
    nodes: list[TargetNode] = Field(
        description="missing, weak and break nodes in chain order (or the node asked for)"
    )

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)
