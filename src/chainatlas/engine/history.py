"""Firms over time and region profiles, as Ibis expressions (DuckDB now, Spark later).

History comes from the enterprise dates: a firm is *born* in the year of `established` and
*dies* in the year of `deregistered` (there are no snapshot tables). It is *active at the
end of year Y* when established ≤ Y (or unknown) and deregistered is null or > Y. A firm
without an establishment date is taken to exist before any year asked for: it is never
counted as a birth, but it counts as active (and as a death when it is deregistered).

The expression builders take Ibis tables and return Ibis tables; `region_history`,
`data_years` and `level_profiles` run them against a `Warehouse` and return polars frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import polars as pl
from ibis import _

from chainatlas.engine.cube import REGION_KEYS
from chainatlas.engine.warehouse import Warehouse

LEVEL_COLUMN = {"province": "province_code", "city": "city_code", "county": "region_code"}
PRODUCT_SEPARATOR = "/"


# --- expression builders --------------------------------------------------------------------
def node_lifespans(
    assignments: ibis.Table,
    enterprises: ibis.Table,
    chain_id: str | None = None,
    keys: Sequence[str] = REGION_KEYS,
) -> ibis.Table:
    """One row per firm × chain × node: uscc, chain_id, node_id, the region `keys`, born,
    died (years; null when the date is unknown / the firm is not deregistered)."""
    if chain_id is not None:
        assignments = assignments.filter(assignments.chain_id == chain_id)
    firms = enterprises.select("uscc", *keys, "established", "deregistered")
    joined = assignments.select("uscc", "chain_id", "node_id").join(firms, "uscc")
    # years after the join: extracting them on the enterprise side would touch every firm
    return joined.select(
        "uscc",
        "chain_id",
        "node_id",
        *keys,
        born=joined.established.year().cast("int64"),
        died=joined.deregistered.year().cast("int64"),
    )


def chain_lifespans(node_lifespans: ibis.Table) -> ibis.Table:
    """One row per firm × chain (a firm on several nodes counts once): the LQ's x_r over time."""
    return node_lifespans.drop("node_id").distinct()


def in_region(table: ibis.Table, level: str, code: str) -> ibis.Table:
    """Rows of a region at any level: filter the region-key column of its level."""
    return table.filter(table[LEVEL_COLUMN[level]] == code)


def flows(lifespans: ibis.Table, by: Sequence[str], weight: str | None = None) -> ibis.Table:
    """Births (established in the year) and deaths (deregistered in the year) per `by` × year.

    Rows are firms, or cohorts of `weight` firms. Only years with at least one event appear;
    `metrics.trends.births_deaths` fills the gaps.
    """
    keys = list(by)
    one = (lifespans[weight] if weight else ibis.literal(1)).cast("int64")
    zero = ibis.literal(0).cast("int64")
    born = lifespans.filter(lifespans.born.notnull()).select(
        *keys, year=lifespans.born, births=one, deaths=zero
    )
    died = lifespans.filter(lifespans.died.notnull()).select(
        *keys, year=lifespans.died, births=zero, deaths=one
    )
    events = born.union(died, distinct=False)
    return events.group_by([*keys, "year"]).aggregate(
        births=_.births.sum().cast("int64"), deaths=_.deaths.sum().cast("int64")
    )


def cohorts(lifespans: ibis.Table, by: Sequence[str]) -> ibis.Table:
    """Firms counted per `by` × born × died: everything `flows` and `active_by_year` need, in
    a table small enough to answer any region's history without touching the enterprises."""
    return lifespans.group_by([*by, "born", "died"]).aggregate(firms=_.count().cast("int64"))


def _active_at(lifespans: ibis.Table, year: int) -> ibis.BooleanValue:
    born_by = lifespans.born.isnull() | (lifespans.born <= year)
    alive = lifespans.died.isnull() | (lifespans.died > year)
    return born_by & alive


def active_by_year(
    lifespans: ibis.Table,
    years: Sequence[int],
    by: Sequence[str],
    local: ibis.BooleanValue | None = None,
    weight: str | None = None,
) -> ibis.Table:
    """Firms active at the end of each year, per `by` × year: `firm_count` (inside the region
    when a `local` flag is given, else everywhere) and `national_firm_count` (everywhere).

    One scan with a conditional sum per year, then unpivoted to one row per year.
    """
    if not years:
        raise ValueError("active_by_year needs at least one year")
    keys = list(by)
    years = sorted(set(years))
    zero = ibis.literal(0)
    one = lifespans[weight] if weight else ibis.literal(1)
    aggs = {}
    for y in years:
        flag = _active_at(lifespans, y)
        mine = flag if local is None else flag & local
        aggs[f"local_{y}"] = ibis.ifelse(mine, one, zero).sum().cast("int64")
        aggs[f"national_{y}"] = ibis.ifelse(flag, one, zero).sum().cast("int64")
    wide = lifespans.group_by(keys).aggregate(**aggs) if keys else lifespans.aggregate(**aggs)
    # one row per year: unnest an array of per-year structs (the wide row is computed once)
    per_year = ibis.array(
        [
            ibis.struct(
                {
                    "year": ibis.literal(y, "int64"),
                    "firm_count": wide[f"local_{y}"],
                    "national_firm_count": wide[f"national_{y}"],
                }
            )
            for y in years
        ]
    )
    long = wide.select(*keys, cell=per_year.unnest())
    return long.unpack("cell")


def node_profiles(node_facts: ibis.Table, level: str) -> ibis.Table:
    """Active firms per region of `level` × product (`chain_id/node_id`), from the cube.

    Rows whose level key is null (e.g. 直辖市 districts at city level) are left out here;
    national totals (`national_profile`) still count them.
    """
    key = LEVEL_COLUMN[level]
    facts = node_facts.filter(node_facts[key].notnull())
    product = facts.chain_id.concat(PRODUCT_SEPARATOR, facts.node_id)
    return (
        facts.mutate(region_code=facts[key], product=product)
        .group_by(["region_code", "product"])
        .aggregate(firm_count=_.firm_count.sum().cast("int64"))
    )


def national_profile(node_facts: ibis.Table) -> ibis.Table:
    """Active firms per product nationally (the RCA's X_n)."""
    product = node_facts.chain_id.concat(PRODUCT_SEPARATOR, node_facts.node_id)
    return (
        node_facts.mutate(product=product)
        .group_by("product")
        .aggregate(firm_count=_.firm_count.sum().cast("int64"))
    )


# --- execution against a warehouse ----------------------------------------------------------
@dataclass
class RegionHistory:
    node_flows: pl.DataFrame  # node_id, year, births, deaths (years with events only)
    chain_flows: pl.DataFrame  # year, births, deaths (distinct firms on the chain)
    node_active: pl.DataFrame  # node_id, year, firm_count, national_firm_count
    chain_active: pl.DataFrame  # year, firm_count, national_firm_count (distinct firms)


@dataclass
class DataYears:
    first: int | None  # earliest year of any establishment or deregistration date
    last: int | None  # latest such year ("now" by default)
    last_date: dt.date | None  # the latest date itself (the last year may be partial)
    exits_recorded: bool  # any deregistration date in the warehouse


def data_years(wh: Warehouse) -> DataYears:
    ents = wh.table("enterprises")
    expr = ents.aggregate(
        first_born=ents.established.min(),
        last_born=ents.established.max(),
        first_died=ents.deregistered.min(),
        last_died=ents.deregistered.max(),
    )
    row = wh.to_polars(expr).row(0, named=True)
    firsts = [d for d in (row["first_born"], row["first_died"]) if d is not None]
    lasts = [d for d in (row["last_born"], row["last_died"]) if d is not None]
    last_date = max(lasts) if lasts else None
    return DataYears(
        first=min(firsts).year if firsts else None,
        last=last_date.year if last_date else None,
        last_date=last_date,
        exits_recorded=row["last_died"] is not None,
    )


def region_history(
    wh: Warehouse, chain_id: str, level: str, code: str, years: Sequence[int]
) -> RegionHistory:
    """Births, deaths and active firms of one region on one chain, with national counts.

    Read from the cohort tables of the cube (`node_cohorts`, `chain_cohorts`: firms per
    region × node × born × died, rebuilt with every load), so no enterprise is scanned.
    """
    key = LEVEL_COLUMN[level]
    nodes = wh.table("node_cohorts").filter(_.chain_id == chain_id)
    chain = wh.table("chain_cohorts").filter(_.chain_id == chain_id)
    node_local = (nodes[key] == code).fill_null(False)
    chain_local = (chain[key] == code).fill_null(False)
    return RegionHistory(
        node_flows=wh.to_polars(flows(in_region(nodes, level, code), ["node_id"], "firms")),
        chain_flows=wh.to_polars(flows(in_region(chain, level, code), [], "firms")),
        node_active=wh.to_polars(
            active_by_year(nodes, years, ["node_id"], node_local, weight="firms")
        ),
        chain_active=wh.to_polars(active_by_year(chain, years, [], chain_local, weight="firms")),
    )


def rebuild_cohorts(wh: Warehouse) -> None:
    """Materialise `node_cohorts` and `chain_cohorts` (call inside the load's transaction)."""
    spans = node_lifespans(wh.table("assignments"), wh.table("enterprises"))
    wh.materialize("node_cohorts", cohorts(spans, [*REGION_KEYS, "chain_id", "node_id"]))
    wh.materialize("chain_cohorts", cohorts(chain_lifespans(spans), [*REGION_KEYS, "chain_id"]))


def level_profiles(wh: Warehouse, level: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(region_code, product, firm_count) for every region of `level` that has firms, and
    (product, firm_count) nationally."""
    facts = wh.table("node_facts")
    return wh.to_polars(node_profiles(facts, level)), wh.to_polars(national_profile(facts))
