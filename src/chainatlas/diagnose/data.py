"""What the diagnosis reads from the warehouse (Ibis expressions, executed by the engine)."""

from __future__ import annotations

import ibis
import polars as pl

from chainatlas.engine.warehouse import Warehouse

LEVEL_COLUMN = {"province": "province_code", "city": "city_code", "county": "region_code"}


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
    """The `per_node` nationally best-ranked local firms of each node, with their attributes."""
    a = wh.table("assignments")
    a = a.filter((a.chain_id == chain_id) & a.national_rank.notnull())
    e = wh.table("enterprises")
    e = e.filter(e[LEVEL_COLUMN[level]] == code).select(
        "uscc", "name", "region_code", "registered_capital", "revenue", "tags"
    )
    j = a.join(e, "uscc")
    w = ibis.window(group_by=j.node_id, order_by=j.national_rank)
    ranked = j.mutate(local_rank=ibis.row_number().over(w))
    return wh.to_polars(ranked.filter(ranked.local_rank < per_node))


def local_partner_counts(wh: Warehouse, usccs: list[str], level: str, code: str) -> pl.DataFrame:
    """Distinct partners (suppliers + customers) inside the region, per firm."""
    if not usccs:
        return pl.DataFrame(schema={"uscc": pl.String, "local_partners": pl.Int64})
    links = wh.table("supply_links")
    e = wh.table("enterprises")
    local = e.filter(e[LEVEL_COLUMN[level]] == code).select(partner="uscc")
    as_customer = links.filter(links.customer_uscc.isin(usccs)).select(
        uscc=links.customer_uscc, partner=links.supplier_uscc
    )
    as_supplier = links.filter(links.supplier_uscc.isin(usccs)).select(
        uscc=links.supplier_uscc, partner=links.customer_uscc
    )
    pairs = as_customer.union(as_supplier).join(local, "partner").distinct()
    expr = pairs.group_by("uscc").aggregate(local_partners=pairs.partner.count())
    return wh.to_polars(expr)


def warehouse_is_synthetic(wh: Warehouse) -> bool:
    row = wh.raw.execute("SELECT bool_or(synthetic) FROM enterprises").fetchone()
    return bool(row and row[0])
