"""The region × node cube, written once as Ibis expressions (DuckDB now, Spark later).

Only active firms (no deregistration date) count. Facts are kept at the level a firm is
registered (usually the county) with its province and city codes, so any region rolls up
by filtering on one column.
"""

from __future__ import annotations

import ibis
from ibis import _

from chainatlas.engine.network import rebuild_network
from chainatlas.engine.warehouse import Warehouse

REGION_KEYS = ("province_code", "city_code", "region_code")
PARTNER_COLUMNS = ("partners_province", "partners_city", "partners_county")


def _active(enterprises: ibis.Table) -> ibis.Table:
    return enterprises.filter(enterprises.deregistered.isnull())


def _national_rank(joined: ibis.Table) -> ibis.IntegerValue:
    """Each firm's rank by registered capital within its node (`joined`: assignments with
    the firm's registered_capital and deregistered)."""
    # deregistered firms last: the active firms' ranks run 1, 2, 3 … without gaps, as on a
    # warehouse holding only them
    window = ibis.window(
        group_by=[joined.chain_id, joined.node_id],
        order_by=[
            joined.deregistered.notnull(),
            ibis.desc(joined.registered_capital.fill_null(0)),
            joined.uscc,
        ],
    )
    rank = ibis.ifelse(
        joined.deregistered.isnull(), ibis.row_number().over(window) + 1, ibis.null()
    )
    return rank.cast("int64")


def _with_sizes(assignments: ibis.Table, enterprises: ibis.Table) -> ibis.Table:
    sizes = enterprises.select("uscc", "registered_capital", "deregistered")
    return assignments.left_join(sizes, "uscc")


def ranked_assignments(assignments: ibis.Table, enterprises: ibis.Table) -> ibis.Table:
    """Assignments with each firm's national rank by registered capital within its node."""
    joined = _with_sizes(assignments.drop("national_rank"), enterprises)
    return joined.select(
        "uscc",
        "chain_id",
        "node_id",
        "score",
        "method",
        "evidence",
        national_rank=_national_rank(joined),
    )


def national_ranks(assignments: ibis.Table, enterprises: ibis.Table) -> ibis.Table:
    """uscc, chain_id, node_id and the national rank alone (what an incremental update
    rewrites)."""
    joined = _with_sizes(assignments.select("uscc", "chain_id", "node_id"), enterprises)
    return joined.select("uscc", "chain_id", "node_id", national_rank=_national_rank(joined))


def node_facts(assignments: ibis.Table, enterprises: ibis.Table) -> ibis.Table:
    """firm_count, capital, revenue (and firms reporting revenue) per region × chain × node."""
    j = assignments.join(_active(enterprises), "uscc")
    return j.group_by([*REGION_KEYS, "chain_id", "node_id"]).aggregate(
        firm_count=_.count(),
        capital=_.registered_capital.sum().fill_null(0),
        revenue=_.revenue.sum().fill_null(0),
        revenue_firms=_.revenue.count(),
    )


def chain_facts(assignments: ibis.Table, enterprises: ibis.Table) -> ibis.Table:
    """Distinct firms (and their capital, revenue) per region × chain: the LQ's x_r."""
    on_chain = assignments.select("uscc", "chain_id").distinct()
    j = on_chain.join(_active(enterprises), "uscc")
    return j.group_by([*REGION_KEYS, "chain_id"]).aggregate(
        firm_count=_.count(),
        capital=_.registered_capital.sum().fill_null(0),
        revenue=_.revenue.sum().fill_null(0),
    )


def chain_firms(
    assignments: ibis.Table, enterprises: ibis.Table, partners: ibis.Table
) -> ibis.Table:
    """Active on-chain firms with what a diagnosis shows of them (name, size, tags, local
    partners) and what target scoring reads (establishment date, classification score),
    sorted by chain and region so a region's rows sit together on disk."""
    firms = _active(enterprises).select(
        "uscc", "name", *REGION_KEYS, "registered_capital", "revenue", "tags", "established"
    )
    ranked = assignments.filter(assignments.national_rank.notnull()).select(
        "uscc", "chain_id", "node_id", "national_rank", "score"
    )
    joined = ranked.join(firms, "uscc").left_join(partners, "uscc")
    return joined.select(
        "uscc",
        "chain_id",
        "node_id",
        "national_rank",
        "name",
        *REGION_KEYS,
        "registered_capital",
        "revenue",
        "tags",
        "established",
        "score",
        *[joined[c].fill_null(0).name(c) for c in PARTNER_COLUMNS],
    ).order_by(["chain_id", *REGION_KEYS, "node_id", "national_rank"])


def firm_search(enterprises: ibis.Table) -> ibis.Table:
    """What enterprise search reads (every firm, deregistered too), sorted by province, city
    and county: DuckDB's zone maps then skip all other regions when a search names one, so a
    city's name search reads that city's rows instead of the whole country's."""
    return enterprises.select(
        "uscc",
        "name",
        *REGION_KEYS,
        "registered_capital",
        "revenue",
        "tags",
        "deregistered",
    ).order_by([*REGION_KEYS, "uscc"])


def firm_partners(links: ibis.Table, enterprises: ibis.Table) -> ibis.Table:
    """Distinct active supply partners of each firm inside its own county, city and
    province (self-links, unknown and deregistered partners are not counted)."""
    keys = _active(enterprises).select("uscc", *REGION_KEYS)
    links = links.filter(links.supplier_uscc != links.customer_uscc)
    pairs = (
        links.select(uscc=links.supplier_uscc, partner=links.customer_uscc)
        .union(links.select(uscc=links.customer_uscc, partner=links.supplier_uscc))
        .distinct()
    )
    me = keys.rename(my_province="province_code", my_city="city_code", my_region="region_code")
    other = keys.rename(
        partner="uscc", p_province="province_code", p_city="city_code", p_region="region_code"
    )
    j = pairs.join(me, "uscc").join(other, "partner")
    return j.group_by("uscc").aggregate(
        partners_province=(j.my_province == j.p_province).sum(),
        partners_city=(j.my_city == j.p_city).fill_null(False).sum(),
        partners_county=(j.my_region == j.p_region).sum(),
    )


def rebuild_firm_tables(warehouse: Warehouse) -> None:
    """Partners per firm, then the on-chain firm table that carries them, then the supply
    network tables (after a load of enterprises or of supply links)."""
    ents = warehouse.table("enterprises")
    warehouse.materialize("firm_partners", firm_partners(warehouse.table("supply_links"), ents))
    warehouse.materialize(
        "chain_firms",
        chain_firms(warehouse.table("assignments"), ents, warehouse.table("firm_partners")),
    )
    rebuild_network(warehouse)


def rebuild(warehouse: Warehouse, *, firm_tables: bool = True) -> None:
    """Recompute ranks and facts from enterprises and assignments (call inside the load's
    transaction so readers never see a half-built cube), then — unless `firm_tables` is
    false — the firm and network tables."""
    ents = warehouse.table("enterprises")
    ranked = ranked_assignments(warehouse.table("assignments"), ents)
    warehouse.materialize("_assignments_ranked", ranked)
    warehouse.raw.execute("DELETE FROM assignments")
    warehouse.raw.execute("INSERT INTO assignments SELECT * FROM _assignments_ranked")
    warehouse.raw.execute("DROP TABLE _assignments_ranked")
    assignments = warehouse.table("assignments")
    warehouse.materialize("node_facts", node_facts(assignments, ents))
    warehouse.materialize("chain_facts", chain_facts(assignments, ents))
    from chainatlas.engine.history import rebuild_cohorts  # history builds on this module

    rebuild_cohorts(warehouse)
    warehouse.materialize("firm_search", firm_search(ents))
    if firm_tables:
        rebuild_firm_tables(warehouse)
