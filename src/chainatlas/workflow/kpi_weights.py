"""The assessment weights of each year (考核权重): which KPI counts how much when chains and
member units are ranked. An administrator fixes them once for the year, so every office sees
the same ranking; the KPI page starts from them (or from the built-in defaults while a year
has none) and anyone may still try other weights in the page without saving them."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping

from sqlalchemy.orm import Session

from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor, Kind, Target, require
from chainatlas.workflow.edits import EditConflict, audit, flush
from chainatlas.workflow.models import KpiWeights

MAX_WEIGHT = 1000.0
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError(
            f"考核年度 {year} 无效（{FIRST_YEAR}–{LAST_YEAR}）",
            f"invalid assessment year {year} ({FIRST_YEAR}–{LAST_YEAR})",
        )
    return year


def year_weights(session: Session, year: int) -> tuple[dict[str, float] | None, KpiWeights | None]:
    """The weights saved for `year` (None: never set) and their row (who, when, version)."""
    stored = session.get(KpiWeights, year)
    if stored is None:
        return None, None
    weights: dict[str, float] = {k: float(v) for k, v in json.loads(stored.weights).items()}
    return weights, stored


def set_year_weights(
    session: Session,
    actor: Actor,
    year: int,
    weights: Mapping[str, float],
    *,
    known: Collection[str],
    expected_version: int | None,
) -> KpiWeights:
    """Save `year`'s weights (every metric of `known`, each 0–MAX_WEIGHT, not all zero).
    `expected_version`: the row's version as loaded (0: none was saved; None: no check)."""
    require(actor, Action.edit, Target(Kind.kpi_weights))
    year = _year(year)
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise UserError(f"未知的考核指标：{'、'.join(unknown)}", f"unknown KPIs: {unknown}")
    checked = {k: float(weights.get(k, 0.0)) for k in known}
    for key, value in checked.items():
        if not (math.isfinite(value) and 0 <= value <= MAX_WEIGHT):
            raise UserError(
                f"指标 {key} 的权重应为 0–{MAX_WEIGHT:g} 的数",
                f"the weight of {key} must be a number from 0 to {MAX_WEIGHT:g}",
            )
    if not any(checked.values()):
        raise UserError("权重不能全为 0", "the weights cannot all be 0")
    text = json.dumps(checked, sort_keys=True)
    stored = session.get(KpiWeights, year)
    if stored is None:
        if expected_version not in (None, 0):
            raise EditConflict("考核权重", "the assessment weights")
        stored = KpiWeights(year=year, weights=text, updated_by=actor.username)
        session.add(stored)
    else:
        if expected_version is not None and expected_version != stored.version:
            raise EditConflict("考核权重", "the assessment weights")
        stored.weights = text
        stored.updated_by = actor.username
    flush(session, "考核权重", "the assessment weights")
    audit(session, actor, "kpi.weights.set", f"kpi_weights:{year}", {"weights": checked})
    return stored
