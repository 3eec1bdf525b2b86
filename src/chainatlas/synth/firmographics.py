"""Sizes, money, headcount, deregistration and tags: heavy-tailed, correlated with size.

Every firm has a latent size z (standard normal). Registered capital is lognormal around
its entity's median, rounded the way registrations are (1–2 significant digits); revenue
is reported by ~40% of firms, more often by large ones; tag probabilities rise with z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainatlas.synth.population import END_DATE, EPOCH, CoreChunk, PopulationModel
from chainatlas.synth.vocabulary import TAGS

CAPITAL_SIGMA = 1.3
REVENUE_THRESHOLD = 0.358  # P(z + ε > c) = 0.40 for z, ε ~ N(0, 1)
NULL_CAPITAL_RATE = 0.02
NULL_EMPLOYEES_RATE = 0.25
# Tag rates among chain manufacturers, and how steeply they rise with size.
TAG_RATES = {
    "上市": (0.001, 2.5),
    "专精特新小巨人": (0.003, 2.0),
    "专精特新": (0.02, 1.2),
    "高新技术企业": (0.08, 0.8),
}


def division(codes: tuple[str, ...]) -> int | None:
    """GB/T 4754 division (2 digits) of a node's first code."""
    return int(codes[0][:2]) if codes and codes[0][:2].isdigit() else None


@dataclass(frozen=True)
class EntityTraits:
    """Per-entity (node or sector) parameters, aligned with entity index."""

    log_capital: np.ndarray  # log of the median registered capital (万元)
    log_employees: np.ndarray
    manufacturer: np.ndarray  # bool: full tag rates apply
    high_tech_rate: np.ndarray


def entity_traits(model: PopulationModel) -> EntityTraits:
    capital, employees, manufacturer, high_tech = [], [], [], []
    for node in model.catalogue.nodes:
        div = division(node.industry_codes)
        making = (div is not None and 6 <= div <= 46) or (div is None and node.stage != "support")
        farming = div is not None and div <= 5
        capital.append(500.0 if making else 150.0 if farming else 200.0)
        employees.append(40.0 if making else 10.0)
        manufacturer.append(making)
        high_tech.append(0.02)
    for sector in model.sectors:
        capital.append(sector.capital_median)
        employees.append(6.0)
        manufacturer.append(False)
        high_tech.append(sector.high_tech_rate)
    return EntityTraits(
        np.log(capital), np.log(employees), np.array(manufacturer), np.array(high_tech)
    )


@dataclass(frozen=True)
class Firmographics:
    registered_capital: np.ndarray  # float, NaN = null
    revenue: np.ndarray
    employees: np.ndarray  # int64, -1 = null
    deregistered: np.ndarray  # days since epoch, -1 = null
    tag_bits: np.ndarray  # bit i set = TAGS[i]
    log_size: np.ndarray  # log capital before rounding or nulls (drives link weights)


def firmographics(core: CoreChunk, traits: EntityTraits, rng: np.random.Generator) -> Firmographics:
    m = core.row.size
    z = core.size
    log_capital = traits.log_capital[core.entity] + CAPITAL_SIGMA * z
    capital = registry_round(np.exp(log_capital), rng)
    capital[rng.random(m) < NULL_CAPITAL_RATE] = np.nan
    reports = z + rng.standard_normal(m) > REVENUE_THRESHOLD
    revenue = np.round(np.exp(log_capital + 0.3 + 0.7 * rng.standard_normal(m)), 2)
    revenue[~reports] = np.nan
    employees = np.maximum(
        1,
        np.rint(np.exp(traits.log_employees[core.entity] + 0.9 * z + 0.4 * rng.standard_normal(m))),
    ).astype(np.int64)
    employees[rng.random(m) < NULL_EMPLOYEES_RATE] = -1
    end = (END_DATE - EPOCH).days
    # ~8% deregistered, small firms more often; always after establishment.
    gone = rng.random(m) < np.where(z < 0, 0.11, 0.05)
    later = core.established + 30 + (rng.random(m) * np.maximum(end - core.established - 30, 0))
    deregistered = np.where(gone & (core.established + 30 <= end), later.astype(np.int64), -1)
    return Firmographics(
        capital, revenue, employees, deregistered, tag_bits(core, traits, rng), log_capital
    )


def registry_round(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Registered capital as filed: mostly 1–2 significant digits (50, 100, 1200 …)."""
    magnitude = 10.0 ** np.floor(np.log10(np.maximum(value, 1e-9)))
    digits = np.where(rng.random(value.size) < 0.55, 1.0, 10.0)
    rounded = np.maximum(np.rint(value / magnitude * digits) * magnitude / digits, 1.0)
    exact = rng.random(value.size) < 0.1
    return np.where(exact, np.round(value, 2), rounded)


def tag_bits(core: CoreChunk, traits: EntityTraits, rng: np.random.Generator) -> np.ndarray:
    """Each tag with probability rate · exp(b z − b²/2) (mean rate), capped at 1."""
    m = core.row.size
    manufacturer = traits.manufacturer[core.entity]
    bits = np.zeros(m, dtype=np.int64)
    for i, tag in enumerate(TAGS):
        rate, steep = TAG_RATES[tag]
        if tag == "高新技术企业":
            base = np.where(manufacturer, rate, traits.high_tech_rate[core.entity])
        else:
            base = np.where(manufacturer, rate, rate * 0.1)
        p = np.minimum(1.0, base * np.exp(steep * core.size - steep * steep / 2))
        bits |= (rng.random(m) < p).astype(np.int64) << i
    little_giant, specialised = 1 << TAGS.index("专精特新小巨人"), 1 << TAGS.index("专精特新")
    bits |= np.where(bits & little_giant, specialised, 0)  # a 小巨人 is a 专精特新 firm too
    return bits
