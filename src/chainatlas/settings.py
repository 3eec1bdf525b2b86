"""Settings, read once at the edge (CLI, web) and passed down; pure code never reads them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from chainatlas.targets.weights import TargetWeights


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "chainatlas"


class StatusThresholds(BaseModel):
    """DESIGN §6 status rules; defaults as documented there."""

    min_firms: int = 1
    strong_lq: float = 1.5
    strong_lead_rank: int = 10
    weak_lq: float = 1.0
    # supply network (docs/figures.md): a figure is by amount when at least this share of
    # its links carry an amount, else by link count
    min_amount_coverage: float = 0.5
    # a break is confirmed when the region buys less than this share of the node's output
    # locally, and the flow evidenced as intact at or above it
    break_local_share: float = 0.5
    # single point of failure: one supplier or one outside region holds more than this
    # share of the region's purchases of a node …
    spof_share: float = 0.5
    # … among at least this many purchases (links); also the least evidence for a break
    network_min_links: int = 3


class LeadFirmWeights(BaseModel):
    """Weights of the explainable lead-firm score (DESIGN §6)."""

    size: float = 0.45
    partners: float = 0.15
    local_purchases: float = 0.1
    tags: float = 0.2
    downstream: float = 0.1


class ClassifyWeights(BaseModel):
    """Evidence weights combined by noisy-or; an assignment needs `min_score`."""

    product_keyword: float = 0.6
    scope_keyword: float = 0.45
    code_agrees: float = 0.35
    code_only: float = 0.5
    min_score: float = 0.4
    # an assignment this weak (one scope keyword) beside a stronger one is a side activity
    ancillary_max: float = 0.45


class OpportunityWeights(BaseModel):
    """Weights of the opportunity score: feasibility (density) against value (COG, PCI,
    national growth); each component is a percentile rank in [0, 1] among the region's
    candidates, so the weights read as shares."""

    density: float = 0.5
    cog: float = 0.2
    pci: float = 0.15
    growth: float = 0.15
    growth_years: int = 5


class WebSettings(BaseModel):
    """Web platform: sessions, lock-out and password rules (issue #5)."""

    host: str = "127.0.0.1"
    port: int = 8000
    # signs the session cookie; when unset, one is generated once and kept in HOME/secret_key
    secret_key: str | None = None
    session_idle_minutes: int = 30
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    password_min_length: int = 10
    # character classes of: lower case, upper case, digits, other
    password_min_classes: int = 3
    # cookies only over HTTPS (set in deployment behind TLS)
    secure_cookies: bool = False
    page_size: int = 20
    # compute the home region's dashboard caches in the background at start and after loads
    warm_up: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAINATLAS_", env_nested_delimiter="__")

    home: Path = Field(default_factory=_default_home)
    chains_dir: Path | None = None
    status: StatusThresholds = StatusThresholds()
    lead_firm: LeadFirmWeights = LeadFirmWeights()
    classify: ClassifyWeights = ClassifyWeights()
    opportunity: OpportunityWeights = OpportunityWeights()
    targets: TargetWeights = TargetWeights()
    demo_region: str = "450400"
    # the app database (users, workflow, audit); SQLite under HOME unless set, e.g.
    # postgresql+psycopg://user:pass@host/db
    database_url: str | None = None
    web: WebSettings = WebSettings()

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'app.db'}"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"
