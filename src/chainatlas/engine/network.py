"""The supply network (DESIGN §6 `local_sourcing_rate`), written once as Ibis expressions.

A stored supply link is **located** when both ends are known, active (no deregistration
date) and different enterprises; self-links, links to enterprises not in `enterprises` and
links to deregistered firms are left out of every figure and counted in
`network_link_counts`. A located link is an **on-chain purchase** on chain c when its
customer and its supplier are both assigned to c (a link counts once per chain both firms
share, on every node each firm holds in c).

Tables, rebuilt inside the load's transaction by `rebuild_network` (on DuckDB a chain at a
time, from one table of located link ends: the memory a statement needs is one chain's, not
the whole network's; Spark runs the same expressions over every chain at once):
- `sourcing_chain_facts`, `sourcing_node_facts`: the on-chain purchases made by a county's
  firms (per chain; per chain × the buying firm's node) and the part bought from suppliers
  in the same county, city, province — they roll up to a city or province by summing.
- `sourcing_inputs`: per level × region × chain × input node (the supplier's node): what
  the region's on-chain firms buy of that node, how much locally, from how many suppliers,
  and the largest single supplier and largest single outside region (by amount and by
  link count) — the evidence of single points of failure and of breaks.
- `firm_links`: every on-chain purchase from both ends (firm, partner, direction, amount),
  sorted by chain and firm so one firm's partners are read without a scan (lead firms'
  suppliers and customers inside and outside the region).
- `network_link_counts`: one row, how many stored links were used or left out and why.

Amounts are summed over the links that carry one (null amounts count as links only); which
basis a rate uses is decided by the pure functions of `chainatlas.metrics.network`. The
working tables carry only the county of each end, as an integer (GB/T 2260 codes are six
digits without a leading zero); city and province come from the small `regions` table when
needed, after aggregating where possible. Narrow integer keys are what makes 30 M links
affordable; the written tables hold the codes as text like every other table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis import _

from chainatlas.engine.tables import CONTRACTS
from chainatlas.engine.warehouse import Warehouse, select_sql

LEVELS = ("county", "city", "province")
REGION_KEYS = ("province_code", "city_code", "region_code")
# a region key per level, with the prefix of the link end (c_ customer, s_ supplier)
LEVEL_SUFFIX = {"county": "region", "city": "city", "province": "province"}

LOCATED, SELF_LINK = "located", "self_link"
UNKNOWN_SUPPLIER, UNKNOWN_CUSTOMER, INACTIVE = "unknown_supplier", "unknown_customer", "inactive"
LINK_KINDS = (LOCATED, SELF_LINK, UNKNOWN_SUPPLIER, UNKNOWN_CUSTOMER, INACTIVE)

# intermediate tables, dropped at the end of the rebuild
_CHAIN_LINKS = "_network_chain_links"
_INPUT_GRAIN = "_network_input_grain"


def code(value: ir.Value) -> ir.IntegerValue:
    """A region code as an integer key."""
    return value.cast("int32")


def text(value: ir.Value) -> ir.StringValue:
    """An integer region code back to its text."""
    return value.cast("string")


def link_ends(links: ir.Table, enterprises: ir.Table) -> ir.Table:
    """Every stored link with both ends' county (integer; null when the firm is unknown)
    and its `kind`: located, self_link, unknown_supplier, unknown_customer or inactive
    (checked in that order)."""
    firms = enterprises.select(
        "uscc", region_code=code(enterprises.region_code), active=enterprises.deregistered.isnull()
    )
    s = firms.rename(s_uscc="uscc", s_region="region_code", s_active="active")
    c = firms.rename(c_uscc="uscc", c_region="region_code", c_active="active")
    j = links.left_join(s, links.supplier_uscc == s.s_uscc).left_join(
        c, links.customer_uscc == c.c_uscc
    )
    kind = ibis.cases(
        (j.supplier_uscc == j.customer_uscc, SELF_LINK),
        (j.s_uscc.isnull(), UNKNOWN_SUPPLIER),
        (j.c_uscc.isnull(), UNKNOWN_CUSTOMER),
        (~(j.s_active & j.c_active), INACTIVE),
        else_=LOCATED,
    )
    return j.select("supplier_uscc", "customer_uscc", "amount", "s_region", "c_region", kind=kind)


def link_counts(ends: ir.Table) -> ir.Table:
    """One row: stored links, and how many of each kind."""
    return ends.aggregate(
        links=_.count(), **{kind: _.count(where=_.kind == kind) for kind in LINK_KINDS}
    )


def chain_links(ends: ir.Table, assignments: ir.Table) -> ir.Table:
    """Located links × the chains both ends are assigned to: the on-chain purchases
    (supplier_uscc, customer_uscc, chain_id, amount, s_region, c_region)."""
    chains = assignments.select("uscc", "chain_id").distinct()
    of_customer = chains.rename(customer_uscc="uscc")
    of_supplier = chains.rename(supplier_uscc="uscc")
    located = ends.filter(ends.kind == LOCATED).drop("kind")
    # a semi join for the supplier: as an inner join, chain_id = chain_id lets the planner
    # join the two assignment lists to each other first (chains × chains) when it believes
    # the links are few — exactly what happens inside a load's transaction
    return located.join(of_customer, "customer_uscc").semi_join(
        of_supplier, ["supplier_uscc", "chain_id"]
    )


def with_levels(
    t: ir.Table, regions: ir.Table, levels: tuple[str, ...] = ("city", "province")
) -> ir.Table:
    """Add c_city, c_province, s_city, s_province (integers; those of `levels`) from the
    counties c_region, s_region."""
    for end in ("c", "s"):
        columns = {f"{end}_region": code(regions.region_code)}
        for level in levels:
            columns[f"{end}_{level}"] = code(regions[f"{level}_code"])
        t = t.left_join(regions.select(**columns), f"{end}_region").drop(f"{end}_region_right")
    return t


def same_region(t: ir.Table, level: str) -> ir.BooleanValue:
    """Supplier and customer in the same county / city / province (no city → not same)."""
    suffix = LEVEL_SUFFIX[level]
    return (t[f"s_{suffix}"] == t[f"c_{suffix}"]).fill_null(False)


def _by_county(t: ir.Table, keys: list[str], regions: ir.Table) -> ir.Table:
    """Purchases per customer county × keys, with the county's province and city codes.
    Summed per pair of counties first, so the region lookups see few rows."""
    pre = t.group_by(["c_region", "s_region", *keys]).aggregate(
        links=_.count(), amount_links=_.amount.count(), amount=_.amount.sum()
    )
    w = with_levels(pre, regions)
    measures: dict[str, ir.Value] = {
        "links": w.links.sum(),
        "amount_links": w.amount_links.sum(),
        "amount": w.amount.sum().fill_null(0.0),
    }
    for level in LEVELS:
        local = same_region(w, level)
        measures[f"local_links_{level}"] = w.links.sum(where=local).fill_null(0)
        measures[f"local_amount_{level}"] = w.amount.sum(where=local).fill_null(0.0)
    facts = w.group_by([text(w.c_region).name("region_code"), *keys]).aggregate(**measures)
    codes = regions.select("region_code", "province_code", "city_code")
    out = facts.left_join(codes, "region_code").drop("region_code_right")
    return out.select(*REGION_KEYS, *keys, *measures)


def sourcing_chain_facts(links: ir.Table, regions: ir.Table) -> ir.Table:
    """Per customer county × chain: on-chain purchases (links, links with an amount, amount)
    and the part from suppliers in the same county / city / province."""
    return _by_county(links, ["chain_id"], regions)


def sourcing_node_facts(links: ir.Table, assignments: ir.Table, regions: ir.Table) -> ir.Table:
    """The same per customer county × chain × node of the buying firm."""
    nodes = assignments.select(customer_uscc=_.uscc, chain_id=_.chain_id, node_id=_.node_id)
    return _by_county(
        links.join(nodes, ["customer_uscc", "chain_id"]), ["chain_id", "node_id"], regions
    )


def input_grain(links: ir.Table, assignments: ir.Table) -> ir.Table:
    """On-chain purchases per customer county × chain × input node (the supplier's node) ×
    supplier: the grain every level of `sourcing_inputs` is summed from. The supplier's
    county rides along as max() rather than a key (narrower hash keys)."""
    nodes = assignments.select(supplier_uscc=_.uscc, chain_id=_.chain_id, node_id=_.node_id)
    j = links.join(nodes, ["supplier_uscc", "chain_id"])
    return j.group_by(["c_region", "chain_id", "node_id", "supplier_uscc"]).aggregate(
        s_region=_.s_region.max(),
        links=_.count(),
        amount_links=_.amount.count(),
        amount=_.amount.sum().fill_null(0.0),
    )


_KEY = dt.Struct({"x": "float64", "y": "float64", "who": "string"})


@ibis.udf.agg.builtin(name="min_by")
def _min_by(arg: str, key: _KEY) -> str:  # type: ignore[empty-body, valid-type]
    """DuckDB arg_min / Spark min_by: a hash aggregate, far cheaper than a ranking window."""


@ibis.udf.agg.builtin(name="min_by")
def _min_code_by(arg: int, key: _KEY) -> int:  # type: ignore[empty-body, valid-type]
    """The same for an integer region code."""


def _largest(t: ir.Table, who: str, first: str) -> ir.Value:
    """The `who` with the largest `first` (amount or links), then the largest other one,
    ties to the smallest `who`: a stable choice."""
    second = "links" if first == "amount" else "amount"
    key = ibis.struct(
        {"x": -t[first].cast("float64"), "y": -t[second].cast("float64"), "who": text(t[who])}
    )
    return (_min_code_by if t[who].type().is_integer() else _min_by)(t[who], key)


def _suppliers_at(grain: ir.Table, regions: ir.Table, level: str) -> ir.Table:
    """The grain summed to region (of `level`) × chain × node × supplier, with the
    supplier's region at that level and whether it is the customer's (`local`)."""
    if level == "county":
        return grain.select(
            region_code=grain.c_region,
            chain_id=grain.chain_id,
            node_id=grain.node_id,
            supplier_uscc=grain.supplier_uscc,
            supplier_region=grain.s_region,
            local=(grain.s_region == grain.c_region).fill_null(False),
            links=grain.links,
            amount_links=grain.amount_links,
            amount=grain.amount,
        )
    g = with_levels(grain, regions, (level,))
    suffix = LEVEL_SUFFIX[level]
    g = g.filter(g[f"c_{suffix}"].notnull())
    # a firm with no city (省直辖县级市) is its own unit at city level
    supplier_region = g.s_city.fill_null(g.s_region) if level == "city" else g.s_province
    return g.group_by(
        [g[f"c_{suffix}"].name("region_code"), "chain_id", "node_id", "supplier_uscc"]
    ).aggregate(
        supplier_region=supplier_region.max(),
        local=same_region(g, level).max(),
        links=g.links.sum(),
        amount_links=g.amount_links.sum(),
        amount=g.amount.sum(),
    )


def inputs_at(grain: ir.Table, regions: ir.Table, level: str) -> ir.Table:
    """`sourcing_inputs` rows of one level: per region × chain × input node, the purchases,
    the local part, distinct suppliers, the largest supplier and the largest outside region
    (each by amount and by links)."""
    keys = ["region_code", "chain_id", "node_id"]
    sup = _suppliers_at(grain, regions, level)
    totals = sup.group_by(keys).aggregate(
        links=sup.links.sum(),
        amount_links=sup.amount_links.sum(),
        amount=sup.amount.sum(),
        local_links=sup.links.sum(where=sup.local).fill_null(0),
        local_amount=sup.amount.sum(where=sup.local).fill_null(0.0),
        suppliers=sup.count(),
        top_supplier_by_amount=_largest(sup, "supplier_uscc", "amount"),
        top_supplier_amount=sup.amount.max(),
        top_supplier_by_links=_largest(sup, "supplier_uscc", "links"),
        top_supplier_links=sup.links.max(),
    )
    outside = sup.filter(~sup.local)
    by_region = outside.group_by([*keys, "supplier_region"]).aggregate(
        links=outside.links.sum(), amount=outside.amount.sum()
    )
    top_regions = by_region.group_by(keys).aggregate(
        top_region_by_amount=_largest(by_region, "supplier_region", "amount"),
        top_region_amount=by_region.amount.max(),
        top_region_by_links=_largest(by_region, "supplier_region", "links"),
        top_region_links=by_region.links.max(),
    )
    out = totals.left_join(top_regions, keys).drop(*(f"{k}_right" for k in keys))
    return out.mutate(
        level=ibis.literal(level),
        region_code=text(out.region_code),
        top_region_by_amount=text(out.top_region_by_amount),
        top_region_by_links=text(out.top_region_by_links),
    )


INPUT_COLUMNS = (
    "level",
    "region_code",
    "chain_id",
    "node_id",
    "links",
    "amount_links",
    "amount",
    "local_links",
    "local_amount",
    "suppliers",
    "top_supplier_by_amount",
    "top_supplier_by_amount_name",
    "top_supplier_amount",
    "top_supplier_by_links",
    "top_supplier_by_links_name",
    "top_supplier_links",
    "top_region_by_amount",
    "top_region_amount",
    "top_region_by_links",
    "top_region_links",
)


def sourcing_inputs(
    grain: ir.Table, regions: ir.Table, enterprises: ir.Table, level: str
) -> ir.Table:
    """`inputs_at` one level, with the names of the largest suppliers, sorted by chain and
    region (the rebuild writes the three levels one after the other)."""
    out = inputs_at(grain, regions, level)
    for who in ("top_supplier_by_amount", "top_supplier_by_links"):
        names = enterprises.select(**{who: enterprises.uscc, f"{who}_name": enterprises.name})
        out = out.left_join(names, who).drop(f"{who}_right")
    return out.select(*INPUT_COLUMNS).order_by(["chain_id", "region_code", "node_id"])


def firm_links(links: ir.Table) -> ir.Table:
    """Every on-chain purchase seen from both ends: per chain × firm, the partner, whether
    the firm `buys` from it (the partner is its supplier) or sells to it, the partner's
    county and the amount. Sorted by chain and firm, so one firm's partners are read
    without a scan (a firm's registration region is in its code, so a region's firms sit
    together too); distinct partners are counted when read."""
    as_supplier = links.select(
        chain_id=links.chain_id,
        uscc=links.supplier_uscc,
        buys=ibis.literal(False),
        partner=links.customer_uscc,
        partner_region=text(links.c_region),
        amount=links.amount,
    )
    as_customer = links.select(
        chain_id=links.chain_id,
        uscc=links.customer_uscc,
        buys=ibis.literal(True),
        partner=links.supplier_uscc,
        partner_region=text(links.s_region),
        amount=links.amount,
    )
    return as_supplier.union(as_customer, distinct=False).order_by(["chain_id", "uscc"])


_DDL_TYPES = {
    "VARCHAR": "string",
    "DOUBLE": "float64",
    "DATE": "date",
    "BIGINT": "int64",
    "INTEGER": "int32",
    "BOOLEAN": "boolean",
}


def contract_table(name: str) -> ir.Table:
    """An unbound Ibis table with the contract's schema (engine/tables.py)."""
    schema = {c: _DDL_TYPES[ddl.split()[0]] for c, ddl in CONTRACTS[name].items()}
    return ibis.table(schema, name=name)


def _write_sql(name: str, expr: ir.Table, append: bool = False) -> str:
    """CREATE (or INSERT INTO) `name` from `expr`, integer columns stored as BIGINT."""
    write = f"INSERT INTO {name}" if append else f"CREATE OR REPLACE TABLE {name} AS"
    return f"{write} {select_sql(expr)}"


def network_expressions() -> list[tuple[str, ir.Table, bool]]:
    """(table, expression, append) in the order `rebuild_network` writes them, over unbound
    contract tables — the same expressions compile for Spark."""
    ents, assignments = contract_table("enterprises"), contract_table("assignments")
    regions = contract_table("regions")
    ends = link_ends(contract_table("supply_links"), ents)
    on_chain = chain_links(ends, assignments)
    links = ibis.table(on_chain.schema(), name=_CHAIN_LINKS)
    grain_expr = input_grain(links, assignments)
    grain = ibis.table(grain_expr.schema(), name=_INPUT_GRAIN)
    return [
        ("network_link_counts", link_counts(ends), False),
        (_CHAIN_LINKS, on_chain, False),
        ("sourcing_chain_facts", sourcing_chain_facts(links, regions), False),
        ("sourcing_node_facts", sourcing_node_facts(links, assignments, regions), False),
        ("firm_links", firm_links(links), False),
        (_INPUT_GRAIN, grain_expr, False),
        *(
            ("sourcing_inputs", sourcing_inputs(grain, regions, ents, level), i > 0)
            for i, level in enumerate(LEVELS)
        ),
    ]


_LINK_ENDS = "_network_link_ends"
# the assignments of the chain being written: a view the per-chain statements read
_CHAIN_ASSIGNMENTS = "_network_chain_assignments"


@cache
def rebuild_statements() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]:
    """The DuckDB statements of `rebuild_network`, compiled once per process (compiling
    costs more than running them on a small warehouse): (before, first chain, next chains,
    after). Every written table except `network_link_counts` is per chain, so the chains
    are written one at a time from a view of their assignments — the joins and sorts hold
    one chain's links, not every chain's (at 60 M firms the all-chains statements needed
    more than 5.5 GiB). Working tables are dropped as soon as nothing reads them; a failed
    rebuild rolls the whole load back with them."""
    ents, regions = contract_table("enterprises"), contract_table("regions")
    ends_expr = link_ends(contract_table("supply_links"), ents)
    ends = ibis.table(ends_expr.schema(), name=_LINK_ENDS)
    assignments = ibis.table(contract_table("assignments").schema(), name=_CHAIN_ASSIGNMENTS)
    on_chain = chain_links(ends, assignments)
    links = ibis.table(on_chain.schema(), name=_CHAIN_LINKS)
    grain_expr = input_grain(links, assignments)
    grain = ibis.table(grain_expr.schema(), name=_INPUT_GRAIN)
    before = (
        f"CREATE OR REPLACE TABLE {_LINK_ENDS} AS {select_sql(ends_expr)}",
        _write_sql("network_link_counts", link_counts(ends)),
    )
    written: list[tuple[str, ir.Table | None, bool]] = [
        (_CHAIN_LINKS, on_chain, False),
        ("sourcing_chain_facts", sourcing_chain_facts(links, regions), True),
        ("sourcing_node_facts", sourcing_node_facts(links, assignments, regions), True),
        ("firm_links", firm_links(links), True),
        (_INPUT_GRAIN, grain_expr, False),
        (_CHAIN_LINKS, None, False),  # nothing reads it any more
        *(
            ("sourcing_inputs", sourcing_inputs(grain, regions, ents, level), True)
            for level in LEVELS
        ),
        (_INPUT_GRAIN, None, False),
    ]

    def chain_statements(first: bool) -> tuple[str, ...]:
        out, created = [], set()
        for name, expr, output in written:
            if expr is None:
                out.append(f"DROP TABLE {name}")
            elif output and (not first or name in created):
                out.append(_write_sql(name, expr, append=True))
            else:
                out.append(_write_sql(name, expr))
                created.add(name)
        return tuple(out)

    return before, chain_statements(True), chain_statements(False), f"DROP TABLE {_LINK_ENDS}"


def rebuild_network(warehouse: Warehouse, execute: Callable[[str], object] | None = None) -> None:
    """Materialise the network tables from supply_links, enterprises, assignments and
    regions (call inside the load's transaction, after the assignments are final), a chain
    at a time in chain order (so `firm_links` stays sorted by chain and firm). `execute`
    runs each statement (the warehouse's connection by default; benchmarks time them)."""
    run = execute or warehouse.raw.execute
    before, first, following, after = rebuild_statements()
    for statement in before:
        run(statement)
    chains = [
        row[0]
        for row in warehouse.raw.execute(
            "SELECT DISTINCT chain_id FROM assignments ORDER BY chain_id"
        ).fetchall()
    ]
    # no chain at all: one pass over an empty view still creates the tables
    for i, chain_id in enumerate(chains or [None]):
        chosen = "false" if chain_id is None else "chain_id = " + _literal(chain_id)
        run(
            f"CREATE OR REPLACE TEMP VIEW {_CHAIN_ASSIGNMENTS} AS "
            f"SELECT * FROM assignments WHERE {chosen}"
        )
        for statement in first if i == 0 else following:
            run(statement)
    run(f"DROP VIEW {_CHAIN_ASSIGNMENTS}")
    run(after)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
