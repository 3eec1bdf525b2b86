"""What target search reads from the warehouse, as Ibis expressions (DuckDB now, Spark later).

A gap node's candidate pool holds tens of thousands of firms on a national warehouse, and
looking firms up by `uscc` in `enterprises` scans its whole code column. So the reads are
shaped for that:

- the pool's facts come from `chain_firms` (sorted by chain: the chain filter skips most of
  it) as a narrow, all-numeric frame keyed by `pool_key` = node index × 2³² +
  national_rank — unique among the nodes' active firms, and much cheaper to move and join
  than the 18-character `uscc`; the classification score comes from `assignments` on the
  same key; the few firms with local partners and the exclusion list are joined in the
  engine as memtables;
- all scoring and pruning happens in polars (`score`); only the rows that can still reach
  a node's top come back for their code, name and region (`pool_rows`), and only those are
  looked up in `enterprises` for their establishment date (`establishment_dates`) — unless
  `chain_firms` carries `established` (and `score`) itself, which saves both reads.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import ibis
import ibis.expr.types as ir
import polars as pl
from ibis import _

from chainatlas.engine.warehouse import Warehouse
from chainatlas.targets.score import component

LEVEL_COLUMN = {"province": "province_code", "city": "city_code", "county": "region_code"}
KEY = ("node_id", "national_rank")
# pool_key = node index (position in the node list asked for) × 2³² + national rank
NODE_SHIFT = 32
# columns a newer `chain_firms` may carry, read with the facts when it does
OPTIONAL_FACTS = ("established", "score")
ROW_COLUMNS = (
    "uscc",
    *KEY,
    "name",
    "region_code",
    "city_code",
    "province_code",
    "registered_capital",
    "revenue",
    "tags",
)


def _pool_key(t: ir.Table, node_ids: Sequence[str]) -> ir.IntegerValue:
    index = ibis.cases(*[(t.node_id == n, i) for i, n in enumerate(node_ids)])
    return index.cast("int64") * (1 << NODE_SHIFT) + t.national_rank.cast("int64")


def _inside(t: ir.Table, level: str, code: str) -> ir.BooleanValue:
    """Registered inside the region (a firm without a city is not inside any city)."""
    return (t[LEVEL_COLUMN[level]] == code).fill_null(False)


def _chain_firms(wh: Warehouse, chain_id: str) -> ir.Table:
    firms = wh.table("chain_firms")
    return firms.filter(firms.chain_id == chain_id)


def _codes(usccs: Collection[str]) -> ir.Table:
    return ibis.memtable(pl.DataFrame({"uscc": sorted(set(usccs))}, schema={"uscc": pl.String}))


def pool(
    wh: Warehouse,
    chain_id: str,
    node_ids: Sequence[str],
    level: str,
    code: str,
    excluded: Collection[str] = frozenset(),
) -> ir.Table:
    """Active firms assigned to `node_ids` of the chain, registered outside the region and
    not on the exclusion list; one row per firm × node."""
    firms = _chain_firms(wh, chain_id)
    firms = firms.filter(firms.node_id.isin(list(node_ids)) & ~_inside(firms, level, code))
    return firms.anti_join(_codes(excluded), "uscc") if excluded else firms


def pool_facts(
    wh: Warehouse,
    chain_id: str,
    node_ids: Sequence[str],
    level: str,
    code: str,
    *,
    partners: pl.DataFrame,
    excluded: Collection[str] = frozenset(),
) -> pl.DataFrame:
    """What scoring needs of every pool firm, narrow: pool_key, region (the region code as
    a number), registered_capital, tags, partner_referral_component and local_partners
    (from `partners`: uscc, partner_referral_component, local_partners; 0 for other firms),
    and established / node_fit when `chain_firms` carries them."""
    t = pool(wh, chain_id, node_ids, level, code, excluded)
    extra = [c for c in OPTIONAL_FACTS if c in t.columns]
    scored = ibis.memtable(partners.select("uscc", component("partner_referral"), "local_partners"))
    t = t.left_join(scored, "uscc")
    expr = t.select(
        _pool_key(t, node_ids).name("pool_key"),
        t.region_code.try_cast("int32").name("region"),
        "registered_capital",
        "tags",
        *[t[c].name("node_fit" if c == "score" else c) for c in extra],
        **{
            component("partner_referral"): t[component("partner_referral")].fill_null(0.0),
            "local_partners": t.local_partners.fill_null(0),
        },
    )
    return wh.to_polars(expr).with_columns(pl.col("local_partners").cast(pl.Int64))


def node_fits(wh: Warehouse, chain_id: str, node_ids: Sequence[str]) -> pl.DataFrame:
    """pool_key, node_fit (the classification score) of the nodes' active firms."""
    t = wh.table("assignments")
    t = t.filter(
        (t.chain_id == chain_id) & t.node_id.isin(list(node_ids)) & t.national_rank.notnull()
    )
    return wh.to_polars(t.select(_pool_key(t, node_ids).name("pool_key"), node_fit=_.score))


def pool_rows(
    wh: Warehouse, chain_id: str, node_ids: Sequence[str], keys: pl.Series
) -> pl.DataFrame:
    """pool_key and ROW_COLUMNS of the pool rows named by `keys` (pool_key values)."""
    firms = _chain_firms(wh, chain_id)
    firms = firms.filter(firms.node_id.isin(list(node_ids)))
    index = keys // (1 << NODE_SHIFT)
    wanted = pl.DataFrame(
        {
            "node_id": pl.Series(list(node_ids), dtype=pl.String).gather(index),
            "national_rank": keys - index * (1 << NODE_SHIFT),
        }
    ).unique()
    t = firms.semi_join(ibis.memtable(wanted), list(KEY))
    return wh.to_polars(t.select(_pool_key(t, node_ids).name("pool_key"), *ROW_COLUMNS))


def all_pool_rows(
    wh: Warehouse,
    chain_id: str,
    node_ids: Sequence[str],
    level: str,
    code: str,
    excluded: Collection[str] = frozenset(),
) -> pl.DataFrame:
    """`pool_rows` of the whole pool (no pruning)."""
    t = pool(wh, chain_id, node_ids, level, code, excluded)
    return wh.to_polars(t.select(_pool_key(t, node_ids).name("pool_key"), *ROW_COLUMNS))


def establishment_dates(wh: Warehouse, usccs: Collection[str]) -> pl.DataFrame:
    """uscc, established of the given firms: a lookup in `enterprises`, which scans its
    whole code column — done once, for the few firms left after pruning."""
    schema = {"uscc": pl.String, "established": pl.Date}
    if not usccs:
        return pl.DataFrame(schema=schema)
    ents = wh.table("enterprises")
    # a memtable, not a literal list: compiling a thousand literals costs more than the join
    expr = ents.semi_join(_codes(usccs), "uscc").select("uscc", "established")
    return wh.to_polars(expr).cast(schema)  # type: ignore[arg-type]


def firm_names(wh: Warehouse, chain_id: str, usccs: Collection[str]) -> pl.DataFrame:
    """uscc, name of the given firms of the chain (a lookup in the chain's rows of the
    sorted `chain_firms`, for the few shown: `enterprises` would be scanned whole)."""
    schema = {"uscc": pl.String, "name": pl.String}
    if not usccs:
        return pl.DataFrame(schema=schema)
    firms = _chain_firms(wh, chain_id)
    expr = firms.semi_join(_codes(usccs), "uscc").select("uscc", "name").distinct()
    return wh.to_polars(expr).cast(schema)  # type: ignore[arg-type]


def pool_dates(
    wh: Warehouse, chain_id: str, node_ids: Sequence[str], level: str, code: str
) -> pl.DataFrame:
    """`establishment_dates` of the whole pool (a semi join: too many codes for a list)."""
    ents = wh.table("enterprises")
    codes = pool(wh, chain_id, node_ids, level, code).select("uscc")
    expr = ents.semi_join(codes, "uscc").select("uscc", "established")
    schema = {"uscc": pl.String, "established": pl.Date}
    return wh.to_polars(expr).cast(schema)  # type: ignore[arg-type]


def excluded_counts(
    wh: Warehouse,
    chain_id: str,
    node_ids: Sequence[str],
    level: str,
    code: str,
    excluded: Collection[str],
) -> dict[str, int]:
    """Per node, the pool firms that the exclusion list removes."""
    if not excluded:
        return {}
    t = pool(wh, chain_id, node_ids, level, code).semi_join(_codes(excluded), "uscc")
    counts = wh.to_polars(t.group_by("node_id").aggregate(n=_.count()))
    return {k: int(v) for k, v in counts.iter_rows()}


def local_firms(wh: Warehouse, chain_id: str, level: str, code: str) -> pl.DataFrame:
    """The region's active firms on the chain (each once): uscc, name, registered_capital."""
    firms = _chain_firms(wh, chain_id)
    firms = firms.filter(_inside(firms, level, code))
    return wh.to_polars(firms.select("uscc", "name", "registered_capital").distinct())


def _partner_relation(t: ir.Table) -> ir.StringValue:
    """`supplier` when the partner sells to the firm (the firm buys), else `customer`."""
    return t.buys.ifelse(ibis.literal("supplier"), ibis.literal("customer"))


def _gap_pool(wh: Warehouse, chain_id: str, node_ids: Sequence[str]) -> ir.Table:
    """uscc of the active firms (anywhere) on `node_ids` of the chain."""
    firms = _chain_firms(wh, chain_id)
    return firms.filter(firms.node_id.isin(list(node_ids))).select("uscc").distinct()


def local_links(
    wh: Warehouse,
    chain_id: str,
    level: str,
    code: str,
    node_ids: Sequence[str] | None = None,
    lead_usccs: Collection[str] = frozenset(),
) -> pl.DataFrame:
    """The on-chain supply links (both ends active and assigned to the chain, self-links
    left out — the network's `firm_links`) between a firm anywhere and one of the region's
    firms on the chain: uscc (the other firm), local_uscc, relation (`supplier`: the other
    firm sells to the local one; `customer`: it buys from it), links, amount (sum of the
    amounts the links carry; null when none does). The other firm may be inside the region
    too; the caller keeps the candidates.

    `firm_links` is sorted by chain and firm, and a firm's registration region is in its
    code, so the region's rows are read without scanning the 30 M stored links.

    With `node_ids`, only the links that can matter to targets on those nodes: the other
    firm is on one of them (a candidate), or the local firm is one of `lead_usccs` (its
    partners lead to the second tier). A big city's firms have ten times more links than
    that."""
    firms = _chain_firms(wh, chain_id)
    local = firms.filter(_inside(firms, level, code)).select("uscc").distinct()
    t = wh.table("firm_links")
    t = t.filter(t.chain_id == chain_id).semi_join(local, "uscc")
    if node_ids is not None:
        wanted = t.partner.isin(_gap_pool(wh, chain_id, node_ids).uscc)
        leads = list(lead_usccs)
        t = t.filter(wanted | t.uscc.isin(leads) if leads else wanted)
    grouped = t.group_by(
        uscc=t.partner, local_uscc=t.uscc, relation=_partner_relation(t)
    ).aggregate(links=_.count(), amount=_.amount.sum())
    schema = {
        "uscc": pl.String,
        "local_uscc": pl.String,
        "relation": pl.String,
        "links": pl.Int64,
        "amount": pl.Float64,
    }
    return wh.to_polars(grouped).cast(schema)  # type: ignore[arg-type]


def tier2_links(
    wh: Warehouse, chain_id: str, via: pl.DataFrame, node_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """On-chain links one step beyond the local lead firms' partners (以商招商 at the second
    tier).

    via: via_uscc, relation — a partner Y of a local lead firm, `supplier` when Y sells to
    the lead firm, `customer` when it buys from it. Returns uscc (a firm X that sells to a
    supplier Y, or buys from a customer Y), via_uscc, relation (of Y), links, amount — so X
    is a supplier's supplier or a customer's customer of the lead firm. Read from the
    chain's rows of `firm_links` (sorted by chain and firm) with the small via list joined
    in the engine. With `node_ids`, only the X on those nodes (the candidates)."""
    schema = {
        "uscc": pl.String,
        "via_uscc": pl.String,
        "relation": pl.String,
        "links": pl.Int64,
        "amount": pl.Float64,
    }
    if not via.height:
        return pl.DataFrame(schema=schema)
    ys = ibis.memtable(via.select("via_uscc", "relation").unique())
    t = wh.table("firm_links")
    t = t.filter(t.chain_id == chain_id)
    # X beyond Y in the same direction: Y's own suppliers when Y is a supplier, Y's own
    # customers when Y is a customer
    joined = t.join(ys, (t.uscc == ys.via_uscc) & (_partner_relation(t) == ys.relation))
    if node_ids is not None:
        pool = _gap_pool(wh, chain_id, node_ids)
        joined = joined.semi_join(pool, joined.partner == pool.uscc)
    grouped = joined.group_by(
        uscc=joined.partner, via_uscc=joined.via_uscc, relation=joined.relation
    ).aggregate(links=_.count(), amount=_.amount.sum())
    return wh.to_polars(grouped).cast(schema)  # type: ignore[arg-type]


def origin_facts(wh: Warehouse, chain_id: str, node_ids: Sequence[str]) -> pl.DataFrame:
    """Per origin region (a firm's city; its province when it has no city) × node of
    `node_ids`: node_firms (active firms of the node there), chain_firms (distinct active
    firms of the chain there), national_node_firms, national_chain_firms — the inputs of
    the origin's LQ (DESIGN §6). Every firm has an origin, so the national figures are the
    sums over origins."""
    nf = wh.table("node_facts")
    nf = nf.filter((nf.chain_id == chain_id) & nf.node_id.isin(list(node_ids)))
    by_origin = nf.group_by(
        [nf.city_code.fill_null(nf.province_code).name("origin_code"), "node_id"]
    ).aggregate(node_firms=_.firm_count.sum())
    cf = wh.table("chain_facts")
    cf = cf.filter(cf.chain_id == chain_id)
    chain_by_origin = cf.group_by(
        cf.city_code.fill_null(cf.province_code).name("origin_code")
    ).aggregate(chain_firms=_.firm_count.sum())
    chains = wh.to_polars(chain_by_origin).with_columns(pl.col("chain_firms").cast(pl.Int64))
    return (
        wh.to_polars(by_origin)
        .with_columns(pl.col("node_firms").cast(pl.Int64))
        .join(chains, on="origin_code", how="left")
        .with_columns(
            pl.col("chain_firms").fill_null(0),
            pl.col("node_firms").sum().over("node_id").alias("national_node_firms"),
            pl.lit(int(chains["chain_firms"].sum()), pl.Int64).alias("national_chain_firms"),
        )
    )
