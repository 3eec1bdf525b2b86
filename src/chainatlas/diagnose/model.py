"""The diagnosis JSON contract (versioned; docs/contracts.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SCHEMA_ID = "chainatlas.diagnosis/1"

Status = Literal["missing", "weak", "present", "strong"]
ActionKind = Literal["build", "fill", "extend", "strengthen"]


class LeadFirm(BaseModel):
    uscc: str
    name: str
    region_code: str
    registered_capital: float | None
    revenue: float | None
    tags: list[str]
    national_rank: int = Field(
        description="rank by registered capital among the node's active firms, nationally"
    )
    local_partners: int
    lead_score: float
    components: dict[str, float]
    weights: dict[str, float]


class DiagnosedNode(BaseModel):
    id: str
    name_zh: str
    name_en: str
    stage: str
    weight: float
    firm_count: int
    capital: float = Field(description="registered capital of the local firms, 万元")
    revenue: float | None = Field(description="revenue of the local firms that report it, 万元")
    national_firm_count: int
    national_share: float = Field(description="firm_count / national_firm_count")
    lq: float | None
    lq_capital: float | None
    lq_revenue: float | None
    status: Status
    is_break: bool = Field(alias="break")
    suppliers: list[str]
    customers: list[str]
    lead_firms: list[LeadFirm]

    model_config = {"populate_by_name": True}


class Action(BaseModel):
    kind: ActionKind
    node_ids: list[str]
    reason_zh: str
    reason_en: str


class RegionRef(BaseModel):
    code: str
    name: str
    full_name: str
    level: str


class ChainRef(BaseModel):
    id: str
    name_zh: str
    name_en: str


class Diagnosis(BaseModel):
    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    region: RegionRef
    chain: ChainRef
    synthetic_data: bool = Field(description="true when any firm of the warehouse is synthetic")
    thresholds: dict[str, int | float]
    firm_count: int = Field(description="distinct active local firms on the chain")
    national_firm_count: int
    completeness: float
    status_counts: dict[str, int]
    nodes: list[DiagnosedNode]
    actions: list[Action]

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)
