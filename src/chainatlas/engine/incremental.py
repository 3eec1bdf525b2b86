"""Incremental upkeep of the cube: after some enterprises changed (births, deaths, changes of
size, region or business), recompute only the rows they touch instead of the whole cube.

A changed firm touches
- every national rank of its nodes, old and new (ranks are recomputed node by node);
- the region × chain × node groups of `node_facts` and `node_cohorts`, and the region ×
  chain groups of `chain_facts` and `chain_cohorts`, of its old and of its new assignments
  and region;
- its own `firm_search` row;
- its own `firm_partners` and `chain_firms` rows, and — when its region or status changed
  — those of its supply partners (their counts of local partners read them), and the
  ranks carried by the `chain_firms` rows of every touched node;
- the supply-network tables only when it is an end of a stored link and its region,
  status, name or assignments changed (they read firms through their links alone, and
  nothing else of them): then they are rebuilt whole.

The rows are recomputed with the cube's own expressions (engine/cube.py, engine/history.py)
restricted to the touched groups by semi joins, so the result equals `cube.rebuild`
(tests/engine/test_incremental.py compares every table). Rows written this way are appended
at the end of `firm_search` and `chain_firms`, outside those tables' region order: reads
stay correct, a region's scan reads a few more row groups until the next full rebuild.

Protocol, inside the load's transaction: fill the temporary table `_changed` with the firms
about to change — uscc; `located`: new, or its region or deregistration changed (what its
partners' local-partner counts read); `linked`: `located`, or its name or assignments
changed (what the network tables read) — call `capture_before`, write the enterprises and
assignments, then call `refresh`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import ibis
import ibis.expr.types as ir

from chainatlas.engine import cube, history
from chainatlas.engine.network import contract_table, rebuild_network
from chainatlas.engine.warehouse import Warehouse, select_sql

CHANGED = "_changed"  # uscc, located, linked of the firms that changed (the caller fills it)
CHANGED_COLUMNS = ("uscc", "located", "linked")
_TOUCHED = "_touched"  # region_code, chain_id, node_id of their assignments before and after
_GROUPS = "_groups"  # distinct touched region × chain × node
_NODES = "_nodes"  # distinct touched chain × node (ranks)
_CHAIN_GROUPS = "_chain_groups"  # distinct touched region × chain
_REGIONS = "_regions"  # distinct touched counties
_FIRMS = "_firms"  # changed firms and their supply partners
_LOCAL = "_local"  # the enterprises of the touched counties (read once, by every fact)
# what facts and cohorts read of a firm
_LOCAL_COLUMNS = (
    "uscc",
    "province_code",
    "city_code",
    "region_code",
    "established",
    "deregistered",
    "registered_capital",
    "revenue",
)
_WORK_TABLES = (_TOUCHED, _GROUPS, _NODES, _CHAIN_GROUPS, _REGIONS, _FIRMS, _LOCAL, "_ranked")
NODE_KEYS = ("region_code", "chain_id", "node_id")
CHAIN_KEYS = ("region_code", "chain_id")


@dataclass(frozen=True)
class Refreshed:
    """What `refresh` recomputed: touched nodes (ranks), region × node groups, region ×
    chain groups, firms whose partner counts were redone, and whether the supply-network
    tables were rebuilt."""

    nodes: int
    node_groups: int
    chain_groups: int
    firms: int
    network_rebuilt: bool


def _unbound(name: str, columns: tuple[str, ...]) -> ir.Table:
    return ibis.table(dict.fromkeys(columns, "string"), name=name)


def _touched_sql() -> str:
    return (
        f"SELECT e.region_code, a.chain_id, a.node_id FROM assignments a "
        f"JOIN enterprises e USING (uscc) WHERE a.uscc IN (SELECT uscc FROM {CHANGED})"
    )


# every table `refresh` writes into (the network tables are probed by one of them)
REFRESHED_TABLES = (
    "node_facts",
    "chain_facts",
    "node_cohorts",
    "chain_cohorts",
    "firm_search",
    "firm_partners",
    "chain_firms",
    "sourcing_inputs",
)


def can_refresh(wh: Warehouse) -> bool:
    """False for a warehouse whose cube lacks a table (built by an older version): it needs
    the full rebuild, which creates them."""
    return all(wh.has_table(t) for t in REFRESHED_TABLES)


def capture_before(wh: Warehouse) -> None:
    """Remember the groups the changed firms sit in now (before they are rewritten)."""
    wh.raw.execute(f"CREATE OR REPLACE TEMP TABLE {_TOUCHED} AS {_touched_sql()}")


def _delete_groups(table: str, groups: str, keys: tuple[str, ...]) -> str:
    match = " AND ".join(f"t.{k} = g.{k}" for k in keys)
    return f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {groups} g WHERE {match})"


def _insert(table: str, expr: ir.Table) -> str:
    return f"INSERT INTO {table} BY NAME {select_sql(expr)}"


@cache
def _statements() -> tuple[str, ...]:
    """The DuckDB statements of `refresh` after the working tables exist, compiled once per
    process (compiling costs more than running them on a small change)."""
    ents = contract_table("enterprises")
    assignments = contract_table("assignments")
    links = contract_table("supply_links")
    groups = _unbound(_GROUPS, NODE_KEYS)
    nodes = _unbound(_NODES, ("chain_id", "node_id"))
    chain_groups = _unbound(_CHAIN_GROUPS, CHAIN_KEYS)
    firms = _unbound(_FIRMS, ("uscc",))
    changed = _unbound(CHANGED, ("uscc",))  # the other columns are not read here

    in_nodes = assignments.semi_join(nodes, ["chain_id", "node_id"])  # ranks: the whole node
    local = ibis.table({c: ents.schema()[c] for c in _LOCAL_COLUMNS}, name=_LOCAL)
    # facts and cohorts: only the assignments of firms in the touched counties
    local_ids = local.select("uscc")
    local_nodes = in_nodes.semi_join(local_ids, "uscc")
    local_chains = assignments.semi_join(
        chain_groups.select("chain_id").distinct(), "chain_id"
    ).semi_join(local_ids, "uscc")
    node_keys = [*cube.REGION_KEYS, "chain_id", "node_id"]
    chain_keys = [*cube.REGION_KEYS, "chain_id"]
    node_spans = history.node_lifespans(local_nodes, local)
    chain_spans = history.chain_lifespans(history.node_lifespans(local_chains, local))
    touching = links.filter(
        links.supplier_uscc.isin(firms.uscc) | links.customer_uscc.isin(firms.uscc)
    )
    partners = cube.firm_partners(touching, ents).semi_join(firms, "uscc")
    stored_partners = ibis.table(partners.schema(), name="firm_partners")
    firm_rows = assignments.semi_join(firms, "uscc")
    return (
        # ranks, node by node
        f"CREATE OR REPLACE TEMP TABLE _ranked AS {select_sql(cube.national_ranks(in_nodes, ents))}",
        # only the ranks that moved: rewriting every row of a touched node costs more (it
        # is what the commit then writes)
        "UPDATE assignments a SET national_rank = r.national_rank FROM _ranked r "
        "WHERE a.uscc = r.uscc AND a.chain_id = r.chain_id AND a.node_id = r.node_id "
        "AND a.national_rank IS DISTINCT FROM r.national_rank",
        # facts and cohorts of the touched groups
        _delete_groups("node_facts", _GROUPS, NODE_KEYS),
        _insert("node_facts", cube.node_facts(local_nodes, local).semi_join(groups, NODE_KEYS)),
        _delete_groups("chain_facts", _CHAIN_GROUPS, CHAIN_KEYS),
        _insert(
            "chain_facts",
            cube.chain_facts(local_chains, local).semi_join(chain_groups, CHAIN_KEYS),
        ),
        _delete_groups("node_cohorts", _GROUPS, NODE_KEYS),
        _insert(
            "node_cohorts",
            history.cohorts(node_spans, node_keys).semi_join(groups, NODE_KEYS),
        ),
        _delete_groups("chain_cohorts", _CHAIN_GROUPS, CHAIN_KEYS),
        _insert(
            "chain_cohorts",
            history.cohorts(chain_spans, chain_keys).semi_join(chain_groups, CHAIN_KEYS),
        ),
        # the changed firms' search rows
        f"DELETE FROM firm_search WHERE uscc IN (SELECT uscc FROM {CHANGED})",
        _insert("firm_search", cube.firm_search(ents.semi_join(changed, "uscc"))),
        # partners of the changed firms and of their partners, then their on-chain rows
        f"DELETE FROM firm_partners WHERE uscc IN (SELECT uscc FROM {_FIRMS})",
        _insert("firm_partners", partners),
        f"DELETE FROM chain_firms WHERE uscc IN (SELECT uscc FROM {_FIRMS})",
        _insert("chain_firms", cube.chain_firms(firm_rows, ents, stored_partners)),
        # the other firms of the touched nodes keep their rows; only moved ranks change
        "UPDATE chain_firms c SET national_rank = r.national_rank FROM _ranked r "
        "WHERE c.uscc = r.uscc AND c.chain_id = r.chain_id AND c.node_id = r.node_id "
        "AND c.national_rank IS DISTINCT FROM r.national_rank",
    )


def refresh(wh: Warehouse) -> Refreshed:
    """Recompute the rows the changed firms touch (after their enterprises and assignments
    were written; `capture_before` ran before)."""
    sql = wh.raw.execute
    sql(f"INSERT INTO {_TOUCHED} {_touched_sql()}")
    sql(f"CREATE OR REPLACE TEMP TABLE {_GROUPS} AS SELECT DISTINCT * FROM {_TOUCHED}")
    sql(
        f"CREATE OR REPLACE TEMP TABLE {_NODES} AS SELECT DISTINCT chain_id, node_id FROM {_GROUPS}"
    )
    sql(
        f"CREATE OR REPLACE TEMP TABLE {_CHAIN_GROUPS} AS "
        f"SELECT DISTINCT region_code, chain_id FROM {_GROUPS}"
    )
    sql(f"CREATE OR REPLACE TEMP TABLE {_REGIONS} AS SELECT DISTINCT region_code FROM {_GROUPS}")
    sql(
        f"CREATE OR REPLACE TEMP TABLE {_LOCAL} AS SELECT {', '.join(_LOCAL_COLUMNS)} "
        "FROM enterprises "
        f"WHERE region_code IN (SELECT region_code FROM {_REGIONS})"
    )
    sql(
        f"CREATE OR REPLACE TEMP TABLE {_FIRMS} AS SELECT uscc FROM {CHANGED} "
        f"UNION SELECT customer_uscc FROM supply_links WHERE supplier_uscc IN "
        f"(SELECT uscc FROM {CHANGED} WHERE located) UNION SELECT supplier_uscc FROM "
        f"supply_links WHERE customer_uscc IN (SELECT uscc FROM {CHANGED} WHERE located)"
    )
    for statement in _statements():
        sql(statement)
    linked = sql(
        f"SELECT EXISTS (SELECT 1 FROM supply_links WHERE supplier_uscc IN (SELECT uscc FROM "
        f"{CHANGED} WHERE linked) OR customer_uscc IN (SELECT uscc FROM {CHANGED} WHERE linked))"
    ).fetchone()
    network_rebuilt = bool(linked and linked[0])
    if network_rebuilt:
        rebuild_network(wh)
    refreshed = Refreshed(
        nodes=wh.count(_NODES),
        node_groups=wh.count(_GROUPS),
        chain_groups=wh.count(_CHAIN_GROUPS),
        firms=wh.count(_FIRMS),
        network_rebuilt=network_rebuilt,
    )
    for table in _WORK_TABLES:
        sql(f"DROP TABLE IF EXISTS {table}")
    return refreshed
