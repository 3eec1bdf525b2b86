"""KPIs of the chain-chief system per chain or per member unit and period, and the weighted
assessment score and ranking ("绩"在链上评). Pure: frames in, frames out.

Inputs (one row per project / case; see PROJECT_SCHEMA and CASE_SCHEMA):

- a project counts as signed / started / in production in the period when its signing /
  start / production date falls in [start, end] (events, whatever its stage is now);
- a case counts as resolved in the period when it is resolved or confirmed now and its
  resolution day falls in [start, end]; it was on time when that day is not after its
  deadline; days to resolve = resolution day − day raised (calendar days);
- a case is overdue at the end of the period when it was raised by then, its deadline is
  before `end` and it was not resolved by `end`.

Score (per metric m with weight w_m): each metric is min–max normalised over the rows
compared, n = (v − min) / (max − min), or (max − v) / (max − min) where lower is better;
equal values all get 1, a missing value (e.g. no case resolved, so no on-time rate) gets 0.
score = 100 · Σ w_m n_m / Σ w_m. Rank 1 is the best; equal scores share a rank.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from chainatlas.errors import UserError

PROJECT_SCHEMA: dict[str, pl.DataType] = {
    "project_id": pl.Int64(),
    "chain_id": pl.String(),
    "unit_id": pl.Int64(),
    "stage": pl.String(),
    "amount_wan": pl.Float64(),
    "signed_on": pl.Date(),
    "started_on": pl.Date(),
    "production_on": pl.Date(),
}
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "chain_id": pl.String(),
    "unit_id": pl.Int64(),
    "state": pl.String(),
    "raised_on": pl.Date(),
    "deadline": pl.Date(),
    "resolved_on": pl.Date(),
}
CLOSED = ("resolved", "confirmed")


@dataclass(frozen=True)
class Metric:
    id: str
    zh: str
    en: str
    higher_is_better: bool = True


METRICS: dict[str, Metric] = {
    m.id: m
    for m in (
        Metric("projects_signed", "签约项目数", "projects signed"),
        Metric("amount_signed_wan", "签约投资额（万元）", "amount signed (10k CNY)"),
        Metric("projects_started", "开工项目数", "projects started"),
        Metric("amount_started_wan", "开工投资额（万元）", "amount started (10k CNY)"),
        Metric("projects_in_production", "投产项目数", "projects in production"),
        Metric("amount_in_production_wan", "投产投资额（万元）", "amount in production (10k CNY)"),
        Metric("cases_resolved", "办结诉求数", "cases resolved"),
        Metric("on_time_rate", "按期办结率", "on-time rate"),
        Metric("avg_days_to_resolve", "平均办结天数", "average days to resolve", False),
        Metric("cases_overdue", "逾期未办结诉求数", "cases overdue", False),
    )
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "projects_signed": 15,
    "amount_signed_wan": 15,
    "projects_started": 15,
    "projects_in_production": 15,
    "cases_resolved": 10,
    "on_time_rate": 15,
    "avg_days_to_resolve": 5,
    "cases_overdue": 10,
}
LOWER_IS_BETTER = frozenset(m.id for m in METRICS.values() if not m.higher_is_better)


def _in(column: str, start: date, end: date) -> pl.Expr:
    return pl.col(column).is_between(pl.lit(start), pl.lit(end), closed="both")


def kpi_table(
    projects: pl.DataFrame,
    cases: pl.DataFrame,
    *,
    by: str,
    start: date,
    end: date,
    keys: Collection[object] | None = None,
) -> pl.DataFrame:
    """One row per `by` value (`chain_id` or `unit_id`) with every metric of METRICS for
    the period [start, end]; `keys` lists rows to show even without any data."""
    if end < start:
        raise UserError(
            f"统计期结束日（{end}）早于开始日（{start}）",
            f"the period ends ({end}) before it starts ({start})",
        )
    key_type = PROJECT_SCHEMA[by]
    p = projects.filter(pl.col(by).is_not_null())
    c = cases.filter(pl.col(by).is_not_null())
    amount = pl.col("amount_wan").fill_null(0.0)
    project_kpis = p.group_by(by).agg(
        projects_signed=_in("signed_on", start, end).sum(),
        amount_signed_wan=amount.filter(_in("signed_on", start, end)).sum(),
        projects_started=_in("started_on", start, end).sum(),
        amount_started_wan=amount.filter(_in("started_on", start, end)).sum(),
        projects_in_production=_in("production_on", start, end).sum(),
        amount_in_production_wan=amount.filter(_in("production_on", start, end)).sum(),
    )
    resolved = pl.col("state").is_in(CLOSED) & _in("resolved_on", start, end)
    on_time = resolved & (
        pl.col("deadline").is_null() | (pl.col("resolved_on") <= pl.col("deadline"))
    )
    days = (pl.col("resolved_on") - pl.col("raised_on")).dt.total_days().cast(pl.Float64)
    unresolved_at_end = pl.col("resolved_on").is_null() | (pl.col("resolved_on") > pl.lit(end))
    overdue = (
        (pl.col("raised_on") <= pl.lit(end))
        & (pl.col("deadline") < pl.lit(end))
        & unresolved_at_end
    )
    case_kpis = c.group_by(by).agg(
        cases_resolved=resolved.sum(),
        cases_on_time=on_time.sum(),
        avg_days_to_resolve=days.filter(resolved).mean(),
        cases_overdue=overdue.fill_null(False).sum(),
    )
    seen = pl.concat([p.select(by), c.select(by)]).unique()
    if keys is not None:
        seen = pl.concat([seen, pl.DataFrame({by: list(keys)}, schema={by: key_type})]).unique()
    table = seen.join(project_kpis, on=by, how="left").join(case_kpis, on=by, how="left")
    counts = [m for m in METRICS if m not in ("on_time_rate", "avg_days_to_resolve")]
    table = table.with_columns(
        [pl.col(m).fill_null(0) for m in counts] + [pl.col("cases_on_time").fill_null(0)]
    ).with_columns(
        on_time_rate=pl.when(pl.col("cases_resolved") > 0)
        .then(pl.col("cases_on_time") / pl.col("cases_resolved"))
        .otherwise(None)
    )
    ints = [m for m in counts if not m.startswith("amount")] + ["cases_on_time"]
    return (
        table.with_columns([pl.col(m).cast(pl.Int64) for m in ints])
        .select(by, *METRICS, "cases_on_time")
        .sort(by)
    )


def check_weights(weights: Mapping[str, float], columns: Collection[str]) -> dict[str, float]:
    """Weights as given by a person: known metrics (or columns of the table), not negative,
    not all zero."""
    checked: dict[str, float] = {}
    for metric, weight in weights.items():
        if metric not in columns:
            raise UserError(f"未知考核指标「{metric}」", f"unknown KPI {metric!r}")
        value = float(weight)
        if not value >= 0:
            name = METRICS[metric].zh if metric in METRICS else metric
            raise UserError(
                f"指标「{name}」的权重不能为负", f"the weight of {metric} cannot be negative"
            )
        checked[metric] = value
    if not any(checked.values()):
        raise UserError("至少一个指标的权重应大于 0", "at least one weight must be above 0")
    return checked


def _normalised(values: pl.Expr, lower_is_better: bool) -> pl.Expr:
    low, high = values.min(), values.max()
    spread = high - low
    scaled = (high - values) / spread if lower_is_better else (values - low) / spread
    return (
        pl.when(values.is_null())
        .then(0.0)
        .when(spread == 0)
        .then(1.0)
        .otherwise(scaled)
        .cast(pl.Float64)
    )


def weighted_scores(
    table: pl.DataFrame,
    weights: Mapping[str, float],
    *,
    key: str,
    lower_is_better: Collection[str] = LOWER_IS_BETTER,
) -> pl.DataFrame:
    """`table` with `score_<metric>` (the normalised 0–1 value of each weighted metric),
    `score` (0–100) and `rank`, best first."""
    checked = check_weights(weights, table.columns)
    total = sum(checked.values())
    parts = {
        f"score_{m}": _normalised(pl.col(m).cast(pl.Float64), m in lower_is_better) for m in checked
    }
    scored = table.with_columns(**parts)
    score = sum((pl.col(f"score_{m}") * w for m, w in checked.items()), pl.lit(0.0))
    scored = scored.with_columns(score=(score * 100.0 / total).round(6))
    return scored.with_columns(
        rank=pl.col("score").rank(method="min", descending=True).cast(pl.Int64)
    ).sort(["rank", key])
