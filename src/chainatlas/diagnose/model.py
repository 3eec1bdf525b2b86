"""The diagnosis JSON contract (versioned; docs/contracts.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SCHEMA_ID = "chainatlas.diagnosis/1"

Status = Literal["missing", "weak", "present", "strong"]
ActionKind = Literal["build", "fill", "extend", "strengthen"]
Basis = Literal["amount", "count"]


class Sourcing(BaseModel):
    """On-chain purchases (supply links between firms both assigned to the chain) and the
    part bought from suppliers in the region (docs/figures.md, local_sourcing_rate)."""

    links: int = Field(description="on-chain purchases (supply links)")
    amount_links: int = Field(description="of them, links that carry an amount")
    amount: float = Field(description="sum of their amounts, 万元")
    local_links: int = Field(description="purchases from suppliers in the region")
    local_amount: float = Field(description="their amount, 万元")
    basis: Basis | None = Field(
        description="amount when enough links carry one (min_amount_coverage), else count; "
        "null without purchases"
    )
    local_sourcing_rate: float | None = Field(
        description="local_amount / amount or local_links / links, by basis"
    )


class Partner(BaseModel):
    uscc: str
    name: str
    region_code: str
    inside: bool = Field(description="registered inside the diagnosed region")
    links: int
    amount: float | None


class FirmNetwork(BaseModel):
    """A lead firm's on-chain suppliers and customers inside and outside the region."""

    suppliers_inside: int
    suppliers_outside: int
    customers_inside: int
    customers_outside: int
    purchases_inside: float = Field(description="万元 bought from suppliers in the region")
    purchases_outside: float
    sales_inside: float = Field(description="万元 sold to customers in the region")
    sales_outside: float
    top_suppliers: list[Partner]
    top_customers: list[Partner]


class BreakEvidence(BaseModel):
    verdict: Literal["confirmed", "intact", "no_evidence"] = Field(
        description="confirmed: the region buys the node's output mostly from outside; "
        "intact: mostly from local suppliers; no_evidence: too few recorded purchases"
    )
    local_sourcing_rate: float | None = Field(
        description="share of the region's purchases of the node's output bought locally"
    )
    basis: Basis | None
    links: int = Field(description="the region's on-chain purchases of the node's output")
    threshold: float = Field(description="break_local_share")


class SinglePointOfFailure(BaseModel):
    node_id: str = Field(description="the input node the region buys")
    kind: Literal["supplier", "region"]
    code: str = Field(description="the supplier's uscc or the outside region's code")
    name: str = Field(description="the supplier's or the region's name")
    share: float = Field(description="its share of the region's purchases of the node")
    basis: Basis
    links: int = Field(description="the region's purchases of the node (links)")


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
    local_purchases_share: float = Field(
        default=0.0,
        description="share of the region's local on-chain purchases the firm is party to",
    )
    lead_score: float
    components: dict[str, float]
    weights: dict[str, float]
    network: FirmNetwork | None = None


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
    lq_then: float | None = Field(
        default=None, description="LQ at the end of trend_years[0] (null: undefined or no dates)"
    )
    quadrant: Literal["star", "mature", "emerging", "transforming", "none"] | None = Field(
        default=None,
        description="cluster quadrant from LQ now and its change since trend_years[0] "
        "(docs/trends-peers.md); null without dated firms",
    )
    is_break: bool = Field(alias="break")
    break_evidence: BreakEvidence | None = Field(
        default=None, description="supply-link evidence for a break; null when not a break"
    )
    sourcing: Sourcing | None = Field(
        default=None, description="purchases made by the node's local firms"
    )
    input_sourcing: Sourcing | None = Field(
        default=None, description="the region's purchases of the node's output"
    )
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
    sourcing: Sourcing | None = Field(
        default=None, description="local sourcing of the region's firms on the chain"
    )
    single_points_of_failure: list[SinglePointOfFailure] = Field(default_factory=list)
    link_counts: dict[str, int] | None = Field(
        default=None,
        description="stored supply links by kind, warehouse-wide; only `located` ones are used",
    )
    trend_years: list[int] | None = Field(
        default=None, description="[year_then, year_now] of lq_then and quadrant"
    )
    nodes: list[DiagnosedNode]
    actions: list[Action]
    node_weights: Literal["template", "io_table"] = Field(
        default="template",
        description="where node weights (completeness) come from: the chain template, or the "
        "linkages of the user's input-output table (docs/io-tables.md)",
    )

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)
