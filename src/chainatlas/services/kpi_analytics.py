"""The analytics KPIs of the 考核 page: how a region's chains changed over a period —
completeness at the start and at the end, its change, and the gaps filled and opened
(`metrics.completeness_change`, definitions in docs/workflow.md).

The warehouse holds firms with their dates, not snapshots: the state at the end of a year Y
is the firms active then (`engine.history`: established by Y or unknown, not deregistered by
Y). Counts come from the cohort tables (`node_cohorts`, `chain_cohorts`), so no enterprise
is scanned for them; the national size ranks at Y are the cube's ranking
(`engine.cube.ranked_assignments`) over the firms active at Y.

The period's start is the end of the year before its first day's year; its end is the end
of its last day's year; both are capped at the latest year of the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import polars as pl
from ibis import _

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.pipeline import UnknownRegionError, resolve_region
from chainatlas.engine.cube import REGION_KEYS, ranked_assignments
from chainatlas.engine.history import (
    LEVEL_COLUMN,
    DataYears,
    _active_at,
    active_by_year,
    chain_lifespans,
    cohorts,
    node_lifespans,
)
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.metrics.completeness_change import (
    CHANGE_SCHEMA,
    completeness_change,
    statuses_at,
)
from chainatlas.settings import StatusThresholds


@dataclass(frozen=True)
class PeriodYears:
    """The years whose ends a period compares, and how far the data reaches."""

    year_then: int  # the period starts as the firms stood at the end of this year
    year_now: int  # … and ends as they stood at the end of this one
    last_year: int | None  # the latest year of any date in the warehouse
    last_date: dt.date | None

    @property
    def last_year_partial(self) -> bool:
        """year_now is the data's latest year and the data stops before its end."""
        return (
            self.last_date is not None
            and self.year_now == self.last_year
            and self.last_date < dt.date(self.year_now, 12, 31)
        )


@dataclass(frozen=True)
class CompletenessChanges:
    region_code: str
    years: PeriodYears
    # chain_id, completeness_then, completeness_now, completeness_change (percentage points),
    # gaps_filled, gaps_opened, filled_nodes, opened_nodes — every chain of the atlas
    chains: pl.DataFrame
    # chain_id, node_id, weight, year, firm_count, …, lq, best_national_rank, status
    statuses: pl.DataFrame


def period_years(span: DataYears, start: dt.date, end: dt.date) -> PeriodYears:
    """The year before `start`'s and `end`'s year, each capped at the latest year of the
    data (a warehouse without dates is the same at every year: no cap is needed)."""
    year_then, year_now = start.year - 1, end.year
    if span.last is not None:
        year_then, year_now = min(year_then, span.last), min(year_now, span.last)
    return PeriodYears(min(year_then, year_now), year_now, span.last, span.last_date)


def _cohort_tables(wh: Warehouse) -> tuple[ibis.Table, ibis.Table]:
    """(node_cohorts, chain_cohorts), computed on the fly for a warehouse loaded before
    the cohort tables existed."""
    if wh.has_table("node_cohorts") and wh.has_table("chain_cohorts"):
        return wh.table("node_cohorts"), wh.table("chain_cohorts")
    spans = node_lifespans(wh.table("assignments"), wh.table("enterprises"))
    return (
        cohorts(spans, [*REGION_KEYS, "chain_id", "node_id"]),
        cohorts(chain_lifespans(spans), [*REGION_KEYS, "chain_id"]),
    )


def active_counts(
    wh: Warehouse, level: str, code: str, years: Sequence[int]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Firms active at the end of each year, locally and nationally, on every chain:
    (chain_id, node_id, year, firm_count, national_firm_count) per node and
    (chain_id, year, firm_count, national_firm_count) per chain (distinct firms)."""
    key = LEVEL_COLUMN[level]
    nodes, chains = _cohort_tables(wh)
    node_local = (nodes[key] == code).fill_null(False)
    chain_local = (chains[key] == code).fill_null(False)
    return (
        wh.to_polars(
            active_by_year(nodes, years, ["chain_id", "node_id"], node_local, weight="firms")
        ),
        wh.to_polars(active_by_year(chains, years, ["chain_id"], chain_local, weight="firms")),
    )


def best_local_ranks(wh: Warehouse, level: str, code: str, years: Sequence[int]) -> pl.DataFrame:
    """chain_id, node_id, year, best_national_rank: the best national size rank of a local
    firm in each node, ranking (as the cube does) only the firms active at the end of the
    year — what the diagnosis reads on a warehouse holding just those firms."""
    key = LEVEL_COLUMN[level]
    firms = wh.table("enterprises").select(
        "uscc",
        "registered_capital",
        key,
        born=_.established.year().cast("int64"),
        died=_.deregistered.year().cast("int64"),
    )
    assignments = wh.table("assignments")
    parts = []
    for year in sorted(set(years)):
        alive = firms.filter(_active_at(firms, year))
        # as they stand at the end of the year: none of them is deregistered yet
        sizes = alive.select("uscc", "registered_capital", deregistered=ibis.null().cast("date"))
        ranked = ranked_assignments(assignments.semi_join(alive, "uscc"), sizes)
        # joined with the same firms the window ranked: ibis may evaluate the window after
        # this join, so joining a narrower set here would rank that set instead
        local = ranked.join(alive.select("uscc", key), "uscc")
        local = local.filter(local[key] == code)
        parts.append(
            local.group_by(["chain_id", "node_id"])
            .aggregate(best_national_rank=local.national_rank.min())
            .mutate(year=ibis.literal(year, "int64"))
        )
    return wh.to_polars(ibis.union(*parts, distinct=False))


def atlas_nodes(atlas: Mapping[str, Chain]) -> pl.DataFrame:
    return pl.DataFrame(
        [(c.id, n.id, n.weight) for c in atlas.values() for n in c.nodes],
        schema={"chain_id": pl.String, "node_id": pl.String, "weight": pl.Float64},
        orient="row",
    )


def _level(region_code: str) -> str:
    try:
        return resolve_region(region_code).level
    except UnknownRegionError:
        raise UserError(
            f"未知的行政区划代码 {region_code}", f"unknown region code {region_code}"
        ) from None


def statuses_over(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    region_code: str,
    years: Sequence[int],
    thresholds: StatusThresholds | None = None,
) -> pl.DataFrame:
    """The status of every node of every chain of `atlas` in region `region_code` (any
    level) at the end of each of `years`, with the diagnosis' rules
    (`metrics.completeness_change.statuses_at`)."""
    level = _level(region_code)
    t = thresholds or StatusThresholds()
    wanted = sorted(set(years))
    node_active, chain_active = active_counts(wh, level, region_code, wanted)
    return statuses_at(
        atlas_nodes(atlas),
        node_active,
        chain_active,
        best_local_ranks(wh, level, region_code, wanted),
        wanted,
        min_firms=t.min_firms,
        strong_lq=t.strong_lq,
        strong_lead_rank=t.strong_lead_rank,
        weak_lq=t.weak_lq,
    )


def completeness_changes(
    wh: Warehouse,
    atlas: Mapping[str, Chain],
    region_code: str,
    years: PeriodYears,
    thresholds: StatusThresholds | None = None,
) -> CompletenessChanges:
    """Completeness then and now, its change and the gaps filled and opened of region
    `region_code` (any level) on every chain of `atlas`, between the ends of
    `years.year_then` and `years.year_now`."""
    statuses = statuses_over(wh, atlas, region_code, (years.year_then, years.year_now), thresholds)
    chains = (
        completeness_change(statuses, year_then=years.year_then, year_now=years.year_now)
        if statuses.height
        else pl.DataFrame(schema=CHANGE_SCHEMA)
    )
    return CompletenessChanges(region_code, years, chains, statuses)
