"""Response and request bodies of the HTTP API (/api/v1) where the contract is not already a
pydantic model. Diagnosis, TargetList and Opportunities are their own models (contracts
chainatlas.diagnosis/1, chainatlas.targets/1, chainatlas.opportunities/1); the chain detail
mirrors `atlas.export.chain_to_dict` (chainatlas.chain/1)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chainatlas.atlas.export import CHAIN_SCHEMA_ID

REGION_PATTERN = r"^[0-9]{6}$"
CHAIN_PATTERN = r"^[a-z][a-z0-9_]*$"
NODE_PATTERN = CHAIN_PATTERN
# GB 32100-2015: 18 characters of digits and upper-case letters without I, O, S, V, Z
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
ID_MAX_LENGTH = 64
PAGE_SIZE_MAX = 200
TOP_MAX = 200


class FieldProblem(BaseModel):
    name: str = Field(description="the parameter or body field")
    location: str = Field(description="path, query or body")
    problem: str = Field(description="what is wrong (English, from the validator)")


class ApiError(BaseModel):
    """Every API error: a machine-readable code and one line in Chinese and English."""

    error: str = Field(description="unauthorized, forbidden, csrf, not_found, invalid, …")
    message_zh: str
    message_en: str
    fields: list[FieldProblem] | None = Field(
        default=None, description="the parameters that failed validation (422 only)"
    )


# --- chains (chainatlas.chain/1) ---------------------------------------------------------------
class ChainSummary(BaseModel):
    """One line of `chainatlas chains list --format json`."""

    id: str
    name_zh: str
    name_en: str
    category: str
    nodes: int = Field(description="number of nodes")
    edges: int = Field(description="number of supply edges")
    recycling_edges: int
    source: str = Field(description="the template's file name")


class ChainNode(BaseModel):
    id: str
    name_zh: str
    name_en: str
    stage: Literal["upstream", "midstream", "downstream", "support"]
    parent: str | None
    industry_codes: list[str]
    defining_codes: list[str]
    include: list[str]
    exclude: list[str]
    products: list[str]
    technologies: list[str]
    weight: float
    description_zh: str
    layer: int = Field(description="left-to-right position: longest supply path from a source")


class ChainEdge(BaseModel):
    supplier: str
    customer: str
    flow: str
    recycling: bool


class ChainAlignment(BaseModel):
    chain: str
    level: str
    nodes: dict[str, str]
    line: int


class ChainDetail(BaseModel):
    """`chainatlas chains show ID --format json` (docs/contracts.md, chainatlas.chain/1)."""

    schema_id: str = Field(default=CHAIN_SCHEMA_ID, alias="schema")
    id: str
    name_zh: str
    name_en: str
    category: str
    level: str
    region_code: str | None
    aligns_to: ChainAlignment | None
    description_zh: str
    description_en: str
    nodes: list[ChainNode]
    edges: list[ChainEdge]

    model_config = ConfigDict(populate_by_name=True)


# --- regions -------------------------------------------------------------------------------
class RegionOut(BaseModel):
    code: str = Field(description="GB/T 2260 code")
    name: str
    level: Literal["province", "city", "county"]
    parent: str | None = Field(description="the region above; null for a province")
    lon: float | None
    lat: float | None


# --- enterprises -----------------------------------------------------------------------------
class EnterpriseRow(BaseModel):
    """One enterprise of a search: the columns of services.enterprise_search (a column it
    adds later passes through)."""

    uscc: str
    name: str
    region_code: str
    region_name: str = Field(description="full name, e.g. 广西壮族自治区梧州市藤县")
    registered_capital: float | None = Field(default=None, description="万元")
    revenue: float | None = Field(default=None, description="万元")
    deregistered: dt.date | None = Field(default=None, description="null while active")
    tags: list[str] = Field(
        default_factory=list, description="上市, 专精特新小巨人, 专精特新, 高新技术企业"
    )
    nodes: list[str] = Field(
        default_factory=list, description="with a chain filter: the firm's nodes on it"
    )

    model_config = ConfigDict(extra="allow")


class EnterprisePage(BaseModel):
    total: int = Field(
        description="enterprises matching the filters, counted up to 10,000 (10,001 = more)"
    )
    page: int
    page_size: int
    items: list[EnterpriseRow]


class EnterpriseFirm(BaseModel):
    uscc: str
    name: str
    region_code: str
    industry_code: str | None
    established: dt.date | None
    deregistered: dt.date | None
    registered_capital: float | None = Field(description="万元")
    revenue: float | None = Field(description="万元")
    employees: int | None
    business_scope: str | None
    products: str | None
    synthetic: bool | None = Field(description="true for a firm of the synthetic demo data")


class EnterpriseAssignment(BaseModel):
    chain_id: str
    node_id: str
    score: float
    method: str = Field(description="keyword, keyword+code or code")
    evidence: str | None
    national_rank: int | None = Field(description="size rank among the node's firms")


class EnterprisePartner(BaseModel):
    uscc: str
    name: str | None
    region_code: str | None
    region_name: str
    links: int = Field(description="supply links with the firm")
    amount: float | None = Field(description="万元; null when no link carries an amount")
    first_year: int | None
    last_year: int | None
    products: str | None


class EnterpriseDetailOut(BaseModel):
    """One enterprise: the firm, its chain assignments, its largest supply partners."""

    firm: EnterpriseFirm
    region_name: str
    tags: list[str]
    assignments: list[EnterpriseAssignment]
    suppliers: list[EnterprisePartner]
    customers: list[EnterprisePartner]
    supplier_count: int = Field(description="all suppliers (the list shows the largest)")
    customer_count: int


# --- briefing jobs ---------------------------------------------------------------------------
class BriefingRequest(BaseModel):
    region: str = Field(pattern=REGION_PATTERN, description="6-digit region code")
    chain: str = Field(max_length=ID_MAX_LENGTH, pattern=CHAIN_PATTERN, description="chain id")
    maps: list[str] | None = Field(
        default=None, max_length=32, description="map ids; null = the default maps"
    )
    lists: list[str] | None = Field(
        default=None, max_length=32, description="list ids; null = the default lists"
    )
    lang: Literal["zh", "en"] = Field(default="zh", description="language of the pack")

    model_config = ConfigDict(extra="forbid")


class JobAccepted(BaseModel):
    job_id: int
    status_url: str = Field(description="where to poll the job's state")


class JobFile(BaseModel):
    name: str
    url: str = Field(description="download link (same login)")


class JobStatus(BaseModel):
    job_id: int
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="0 … 1")
    message: str = Field(description="what is being done now")
    params: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    files: list[JobFile] = Field(description="the files written, once done")
    zip_url: str | None = Field(description="all files as one ZIP, once done")
    error_zh: str = Field(description="why the job failed; empty otherwise")
    error_en: str
