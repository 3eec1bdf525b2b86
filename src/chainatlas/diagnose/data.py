"""What the diagnosis reads from the warehouse (Ibis expressions, executed by the engine)."""

from __future__ import annotations

import ibis
import polars as pl

from chainatlas.engine.warehouse import Warehouse

LEVEL_COLUMN = {"province": "province_code", "city": "city_code", "county": "region_code"}
PARTNER_COLUMN = {
    "province": "partners_province",
    "city": "partners_city",
    "county": "partners_county",
}


def node_counts(wh: Warehouse, chain_id: str, level: str, code: str) -> pl.DataFrame:
    """Per node: local and national firm_count, capital, revenue."""
    facts = wh.table("node_facts").filter(lambda t: t.chain_id == chain_id)
    local_flag = facts[LEVEL_COLUMN[level]] == code
    zero = ibis.literal(0)
    expr = facts.group_by("node_id").aggregate(
        firm_count=ibis.ifelse(local_flag, facts.firm_count, zero).sum(),
        capital=ibis.ifelse(local_flag, facts.capital, zero).sum(),
        revenue=ibis.ifelse(local_flag, facts.revenue, zero).sum(),
        revenue_firms=ibis.ifelse(local_flag, facts.revenue_firms, zero).sum(),
        national_firm_count=facts.firm_count.sum(),
        national_capital=facts.capital.sum(),
        national_revenue=facts.revenue.sum(),
    )
    return wh.to_polars(expr)


def chain_totals(wh: Warehouse, chain_id: str, level: str, code: str) -> dict[str, float]:
    """Distinct firms (and capital, revenue) on the chain, locally and nationally."""
    facts = wh.table("chain_facts").filter(lambda t: t.chain_id == chain_id)
    local_flag = facts[LEVEL_COLUMN[level]] == code
    zero = ibis.literal(0)
    expr = facts.aggregate(
        local_firms=ibis.ifelse(local_flag, facts.firm_count, zero).sum(),
        local_capital=ibis.ifelse(local_flag, facts.capital, zero).sum(),
        local_revenue=ibis.ifelse(local_flag, facts.revenue, zero).sum(),
        national_firms=facts.firm_count.sum(),
        national_capital=facts.capital.sum(),
        national_revenue=facts.revenue.sum(),
    )
    row = wh.to_polars(expr).row(0, named=True)
    return {k: float(v or 0) for k, v in row.items()}


def local_firms_by_rank(
    wh: Warehouse, chain_id: str, level: str, code: str, per_node: int
) -> pl.DataFrame:
    """The `per_node` nationally best-ranked local firms of each node, with their attributes
    and their distinct supply partners inside the region (`local_partners`)."""
    firms = wh.table("chain_firms")
    firms = firms.filter((firms.chain_id == chain_id) & (firms[LEVEL_COLUMN[level]] == code))
    w = ibis.window(group_by=firms.node_id, order_by=firms.national_rank)
    ranked = firms.mutate(
        local_rank=ibis.row_number().over(w), local_partners=firms[PARTNER_COLUMN[level]]
    )
    return wh.to_polars(ranked.filter(ranked.local_rank < per_node))


def warehouse_is_synthetic(wh: Warehouse) -> bool:
    row = wh.raw.execute("SELECT bool_or(synthetic) FROM enterprises").fetchone()
    return bool(row and row[0])
