"""What the diagnosis reads from the warehouse (Ibis expressions, executed by the engine)."""

from __future__ import annotations

import ibis
import polars as pl
from ibis import _

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
    # int64: a warehouse loaded before integer columns were BIGINT holds them as HUGEINT,
    # which reaches polars as a Decimal and divides with truncation
    ranked = firms.mutate(
        local_rank=ibis.row_number().over(w),
        local_partners=firms[PARTNER_COLUMN[level]].cast("int64"),
    )
    return wh.to_polars(ranked.filter(ranked.local_rank < per_node))


def local_firms_by_rank_all(wh: Warehouse, level: str, per_node: int) -> pl.DataFrame:
    """`local_firms_by_rank` of every region of `level` on every chain at once: the firm's
    region of the level is `region_code`, its own county `firm_region_code`."""
    firms = wh.table("chain_firms")
    firms = firms.filter(firms[LEVEL_COLUMN[level]].notnull())
    w = ibis.window(
        group_by=[firms.chain_id, firms[LEVEL_COLUMN[level]], firms.node_id],
        order_by=firms.national_rank,
    )
    ranked = firms.mutate(
        local_rank=ibis.row_number().over(w),
        local_partners=firms[PARTNER_COLUMN[level]].cast("int64"),
        level_code=firms[LEVEL_COLUMN[level]],
    )
    ranked = ranked.filter(ranked.local_rank < per_node)
    return wh.to_polars(
        ranked.rename(firm_region_code="region_code").rename(region_code="level_code")
    )


def local_trade_all(wh: Warehouse, level: str, firms: pl.DataFrame) -> pl.DataFrame:
    """For the firms (chain_id, uscc, region_code: its region of `level`): the on-chain links
    and amounts bought from and sold to partners inside that region — chain_id, uscc,
    purchase_links_in, sale_links_in, purchases_in, sales_in (`firm_networks`' `_in`
    columns, for many regions at once). Firms without such links are absent."""
    links = wh.table("firm_links")
    mine = ibis.memtable(firms.select("chain_id", "uscc", "region_code").unique())
    keys = wh.table("regions").select(partner_region=_.region_code, key=_[LEVEL_COLUMN[level]])
    j = links.join(mine, ["chain_id", "uscc"]).join(keys, "partner_region")
    j = j.filter(j.key == j.region_code)
    expr = j.group_by(["chain_id", "uscc"]).aggregate(
        purchase_links_in=j.count(where=j.buys),
        sale_links_in=j.count(where=~j.buys),
        purchases_in=j.amount.sum(where=j.buys).fill_null(0.0),
        sales_in=j.amount.sum(where=~j.buys).fill_null(0.0),
    )
    return _counts_int(wh.to_polars(expr))


def warehouse_is_synthetic(wh: Warehouse) -> bool:
    row = wh.raw.execute("SELECT bool_or(synthetic) FROM enterprises").fetchone()
    return bool(row and row[0])


# --- supply network (engine/network.py) ---------------------------------------------------
PURCHASE_COLUMNS = ("links", "amount_links", "amount", "local_links", "local_amount")


def has_network(wh: Warehouse) -> bool:
    """False for a warehouse last loaded before the network tables existed."""
    # not Warehouse.has_table: ibis' list_tables trips a DuckDB deprecation warning
    row = wh.raw.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sourcing_inputs'"
    ).fetchone()
    return bool(row and row[0])


def _purchases(t: ibis.Table, level: str) -> dict[str, ibis.Value]:
    return {
        "links": t.links.sum(),
        "amount_links": t.amount_links.sum(),
        "amount": t.amount.sum(),
        "local_links": t[f"local_links_{level}"].sum(),
        "local_amount": t[f"local_amount_{level}"].sum(),
    }


def _counts(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("links", "amount_links", "local_links").fill_null(0).cast(pl.Int64),
        pl.col("amount", "local_amount").fill_null(0.0).cast(pl.Float64),
    )


def _sourcing(
    wh: Warehouse, table: str, level: str, chain_id: str | None, code: str | None
) -> pl.DataFrame:
    t = wh.table(table)
    column = LEVEL_COLUMN[level]
    if chain_id is not None:
        t = t.filter(t.chain_id == chain_id)
    t = t.filter(t[column] == code if code is not None else t[column].notnull())
    keys = [t[column].name("region_code"), "chain_id"]
    if table == "sourcing_node_facts":
        keys.append("node_id")
    return _counts(wh.to_polars(t.group_by(keys).aggregate(**_purchases(t, level))))


def chain_sourcing(
    wh: Warehouse, level: str, chain_id: str | None = None, code: str | None = None
) -> pl.DataFrame:
    """Per region of `level` (× chain): the on-chain purchases of the region's firms and the
    part from suppliers in the region — region_code, chain_id, links, amount_links, amount,
    local_links, local_amount. Filtered to one chain / region when given."""
    return _sourcing(wh, "sourcing_chain_facts", level, chain_id, code)


def node_sourcing(
    wh: Warehouse, level: str, chain_id: str | None = None, code: str | None = None
) -> pl.DataFrame:
    """The same per node of the buying firms (adds node_id)."""
    return _sourcing(wh, "sourcing_node_facts", level, chain_id, code)


def input_sourcing(
    wh: Warehouse, level: str, chain_id: str | None = None, code: str | None = None
) -> pl.DataFrame:
    """`sourcing_inputs` rows of `level`: per region × chain × input node, the region's
    purchases of the node's output, the local part, the largest supplier and outside
    region. Filtered to one chain / region when given."""
    t = wh.table("sourcing_inputs")
    t = t.filter(t.level == level)
    if chain_id is not None:
        t = t.filter(t.chain_id == chain_id)
    if code is not None:
        t = t.filter(t.region_code == code)
    return wh.to_polars(t)


def _firm_links(wh: Warehouse, chain_id: str, usccs: list[str]) -> ibis.Table:
    t = wh.table("firm_links")
    return t.filter((t.chain_id == chain_id) & t.uscc.isin(usccs))


def firm_networks(
    wh: Warehouse, chain_id: str, level: str, code: str, usccs: list[str]
) -> pl.DataFrame:
    """For firms `usccs`: their on-chain suppliers and customers (distinct active firms
    assigned to the chain), links and amounts bought and sold — in total and with partners
    inside region `code` of `level` (columns suffixed `_in`). Firms without on-chain links
    are absent. Columns: uscc, suppliers, customers, purchase_links, sale_links, purchases,
    sales, and the six `_in`."""
    links = _firm_links(wh, chain_id, usccs)
    keys = wh.table("regions").select(partner_region=_.region_code, key=_[LEVEL_COLUMN[level]])
    j = links.left_join(keys, "partner_region").drop("partner_region_right")
    inside = (j.key == code).fill_null(False)

    def measures(where: ibis.BooleanValue | None, suffix: str) -> dict[str, ibis.Value]:
        def side(buys: bool) -> ibis.BooleanValue:
            on = j.buys if buys else ~j.buys
            return on if where is None else on & where

        return {
            f"suppliers{suffix}": j.partner.nunique(where=side(True)),
            f"customers{suffix}": j.partner.nunique(where=side(False)),
            f"purchase_links{suffix}": j.count(where=side(True)),
            f"sale_links{suffix}": j.count(where=side(False)),
            f"purchases{suffix}": j.amount.sum(where=side(True)).fill_null(0.0),
            f"sales{suffix}": j.amount.sum(where=side(False)).fill_null(0.0),
        }

    expr = j.group_by("uscc").aggregate(**measures(None, ""), **measures(inside, "_in"))
    return _counts_int(wh.to_polars(expr))


def _counts_int(frame: pl.DataFrame) -> pl.DataFrame:
    ints = [c for c in frame.columns if frame[c].dtype.is_integer() or frame[c].dtype.is_decimal()]
    return frame.with_columns(pl.col(ints).cast(pl.Int64))


def top_partners(wh: Warehouse, chain_id: str, usccs: list[str], top: int) -> pl.DataFrame:
    """The `top` largest on-chain suppliers and customers of each firm in `usccs`, by
    amount then links (ties to the smaller code), read from the sorted `firm_links` and
    `chain_firms`.

    Columns: uscc, role (the partner is the firm's `supplier` or `customer`), rank (1 = the
    largest), partner_uscc, name, province_code, city_code, region_code, links, amount."""
    links = _firm_links(wh, chain_id, usccs)
    pairs = links.group_by(["uscc", "buys", "partner", "partner_region"]).aggregate(
        links=_.count(), amount=_.amount.sum()
    )
    w = ibis.window(
        group_by=["uscc", "buys"],
        order_by=[ibis.desc(pairs.amount.fill_null(0)), ibis.desc(pairs.links), pairs.partner],
    )
    ranked = pairs.mutate(rank=ibis.row_number().over(w) + 1)
    ranked = ranked.filter(ranked["rank"] <= top)
    # partners are active firms on the chain: their names are in the chain's block of the
    # sorted chain_firms (a lookup in enterprises would scan every firm)
    firms = wh.table("chain_firms")
    names = (
        firms.filter(firms.chain_id == chain_id)
        .select(partner=firms.uscc, name=firms.name)
        .semi_join(ranked.select("partner"), "partner")  # before distinct: few rows left
        .distinct()
    )
    codes = wh.table("regions").select(
        partner_region=_.region_code, province_code=_.province_code, city_code=_.city_code
    )
    j = (
        ranked.left_join(names, "partner")
        .drop("partner_right")
        .left_join(codes, "partner_region")
        .drop("partner_region_right")
    )
    expr = j.select(
        "uscc",
        role=ibis.ifelse(j.buys, "supplier", "customer"),
        rank=j["rank"],
        partner_uscc=j.partner,
        name=j.name,
        province_code=j.province_code,
        city_code=j.city_code,
        region_code=j.partner_region,
        links=j.links,
        amount=j.amount,
    ).order_by(["uscc", "role", "rank"])
    return _counts_int(wh.to_polars(expr))


def link_counts(wh: Warehouse) -> dict[str, int]:
    """Stored supply links by kind (`network_link_counts`)."""
    row = wh.to_polars(wh.table("network_link_counts")).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def trend_activity(
    wh: Warehouse, chain_id: str, level: str, code: str, years: int
) -> tuple[int, int, pl.DataFrame, pl.DataFrame] | None:
    """(year_then, year_now, node_active, chain_active) for the cluster quadrant: firms
    active at the end of year_now (the latest year of the data) and `years` before, from
    the cohort tables. None for a warehouse without cohort tables or without dates."""
    from chainatlas.engine.history import active_by_year, data_years

    if not wh.has_table("node_cohorts"):
        return None
    span = data_years(wh)
    if span.last is None:
        return None
    year_now = span.last
    window = [year_now - years, year_now]
    key = LEVEL_COLUMN[level]
    nodes = wh.table("node_cohorts").filter(_.chain_id == chain_id)
    chain = wh.table("chain_cohorts").filter(_.chain_id == chain_id)
    node_active = wh.to_polars(
        active_by_year(
            nodes, window, ["node_id"], (nodes[key] == code).fill_null(False), weight="firms"
        )
    )
    chain_active = wh.to_polars(
        active_by_year(chain, window, [], (chain[key] == code).fill_null(False), weight="firms")
    )
    return window[0], year_now, node_active, chain_active
