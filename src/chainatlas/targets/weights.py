"""Weights and scales of the target score (docs/targets.md); a settings section.

Only pydantic here: `chainatlas.settings` imports this module, so it must not import the
engine, the diagnosis or anything that imports the settings back.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

# 北京 天津 河北 上海 江苏 浙江 福建 山东 广东 海南: the eastern provinces industry moves out of
EASTERN_PROVINCES: tuple[str, ...] = (
    "110000",
    "120000",
    "130000",
    "310000",
    "320000",
    "330000",
    "350000",
    "370000",
    "440000",
    "460000",
)

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]0000$")]

COMPONENTS: tuple[str, ...] = (
    "fit",
    "size",
    "growth",
    "tags",
    "partner_referral",
    "relocation",
    "distance",
)


class TargetScales(BaseModel):
    """Constants of the absolute transforms that turn a firm's facts into components in
    [0, 1], and the thresholds at which a component becomes a *reason* (named in the reasons
    line and matched by `--reason`)."""

    full_capital: float = Field(
        default=100_000.0,
        gt=0,
        description="size = ln(1 + capital) / ln(1 + full_capital), capped at 1 (万元)",
    )
    large_capital: float = Field(
        default=10_000.0, ge=0, description="size is a reason from this capital on (万元)"
    )
    growth_horizon_years: float = Field(
        default=10.0, gt=0, description="growth = 1 − age / horizon, at least 0 (years)"
    )
    recent_years: float = Field(
        default=3.0, ge=0, description="growth is a reason for firms at most this old (years)"
    )
    good_fit: float = Field(
        default=0.95, ge=0, le=1, description="fit is a reason from this classification score"
    )
    distance_half_km: float = Field(
        default=500.0, gt=0, description="distance = 1 / (1 + km / distance_half_km)"
    )
    near_km: float = Field(
        default=300.0, ge=0, description="distance is a reason up to this many km"
    )
    lead_partner_points: float = Field(
        default=0.8, ge=0, le=1, description="a local partner that is a lead firm"
    )
    tier2_factor: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="a firm two links from a local lead firm (its supplier's supplier, its "
        "customer's customer) gets this × lead_partner_points",
    )
    partner_base_points: float = Field(
        default=0.3, ge=0, le=1, description="any other local partner …"
    )
    partner_size_points: float = Field(
        default=0.4, ge=0, le=1, description="… plus this × the partner's size component"
    )
    relocation_full_lq: float = Field(
        default=3.0, gt=1, description="origin LQ at which the LQ part of relocation is 1"
    )
    relocation_full_firms: int = Field(
        default=200, ge=1, description="origin firms in the node at which the density part is 1"
    )
    relocation_reason: float = Field(
        default=0.5, ge=0, le=1, description="relocation is a reason from this component value"
    )


class TargetWeights(BaseModel):
    """Weights of the target score Σ weight × component (each component in [0, 1]); the
    defaults sum to 1. Also the transforms' scales and the source provinces of relocation
    (settings `CHAINATLAS_TARGETS__…`)."""

    fit: float = Field(default=0.15, ge=0, description="node fit: the classification score")
    size: float = Field(default=0.2, ge=0, description="registered capital, log scale")
    growth: float = Field(default=0.05, ge=0, description="establishment recency")
    tags: float = Field(default=0.15, ge=0, description="上市 / 小巨人 / 专精特新 / 高新")
    partner_referral: float = Field(
        default=0.25, ge=0, description="以商招商: supplier or customer of local firms"
    )
    relocation: float = Field(
        default=0.1, ge=0, description="承接产业转移: saturated origin in a source province"
    )
    distance: float = Field(default=0.1, ge=0, description="closer is better")
    source_provinces: list[ProvinceCode] = Field(
        default_factory=lambda: list(EASTERN_PROVINCES),
        description="province codes (xx0000) industry relocates from",
    )
    scales: TargetScales = Field(default_factory=TargetScales)

    def component_weights(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in COMPONENTS}
