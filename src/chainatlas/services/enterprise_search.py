"""Enterprise search and the enterprise page's facts (企业查询, issue #5).

Every query is parameterised: user text only ever reaches DuckDB as a bound value, and the
name test is `contains()` (no LIKE wildcards to escape).

Speed on a national warehouse (10 M firms, no index, so a filter on the enterprises is a
scan):
- one pass over the enterprises gives both the exact count and the row ids of the page
  (`min_by(rowid, sort key, k)` keeps the k best while scanning); the page's rows are then
  read by row id. A name search thus reads the name column once, whatever the number of
  matches;
- a chain or node filter reads `chain_firms` (the active on-chain firms, sorted by chain and
  region, so DuckDB's zone maps skip all other chains and regions) instead of joining the
  assignments to the enterprises;
- a region filter is an equality on the derived `province_code` / `city_code` columns,
  which is the code-prefix match (45xxxx → "45", 4504xx → "4504") without string work;
- paging stops after `MAX_BROWSABLE` matches (the count stays exact): past that, narrowing
  the search is more useful than page 501.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.ingest.normalize import normalize
from chainatlas.ingest.validators import TAG_VOCABULARY
from chainatlas.reference.regions import region_codes
from chainatlas.targets.pipeline import full_name as region_full_name

PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
# pages reach this many matches, in order; the count is exact beyond it
MAX_BROWSABLE = 10_000
MAX_QUERY_CHARS = 100
PARTNERS_SHOWN = 50
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUW-Y]{18}$")
# what users type → the stored tag (ingest maps the 小巨人 variants onto 专精特新小巨人)
TAG_ALIASES = {"小巨人": "专精特新小巨人", "高新": "高新技术企业", "高企": "高新技术企业"}

ROW_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "name": pl.String(),
    "region_code": pl.String(),
    "registered_capital": pl.Float64(),
    "revenue": pl.Float64(),
    "tags": pl.String(),
    "deregistered": pl.Date(),
    "nodes": pl.List(pl.String()),
}
# (region code, read it) → the region's rows: a cache the caller owns
RegionRows = Callable[[str, Callable[[], pl.DataFrame]], pl.DataFrame]
REGION_ROW_SCHEMA = {k: v for k, v in ROW_SCHEMA.items() if k != "nodes"}
ORDER = "registered_capital DESC NULLS LAST, uscc"
# the same order as a key min_by can use: largest capital first, unknown capital last
SORT_KEY = "{'c': coalesce(-registered_capital, 'inf'::DOUBLE), 'u': uscc}"
ROW_COLUMNS = "uscc, name, region_code, registered_capital, revenue, tags, deregistered"


def canonical_tag(tag: str) -> str:
    """The stored form of a tag filter; an unknown tag is a form error."""
    tag = TAG_ALIASES.get(tag.strip(), tag.strip())
    if tag not in TAG_VOCABULARY:
        raise UserError(
            f"「标签」无效：{tag}；可选 {'、'.join(TAG_VOCABULARY)}",
            f"'tag' is not valid: {tag}; use one of {', '.join(TAG_VOCABULARY)}",
        )
    return tag


def clean_code(text: str) -> str:
    """A credit code as people type it (spaces, hyphens, lower case) in its stored form."""
    return re.sub(r"[\s\-]", "", text).upper()


def looks_like_uscc(text: str) -> bool:
    """18 characters of the credit-code set (the check digit is not required: a search
    should find a stored firm even if its code is one the validators would now reject)."""
    return bool(_USCC_SHAPE.match(text))


def region_column(region: str) -> str:
    """The enterprises column a region code is matched on: a province or city code matches
    every firm under it."""
    if region not in region_codes():
        raise UserError(
            f"「地区」无效：{region} 不是行政区划代码",
            f"'region' is not valid: {region} is not a region code",
        )
    if region.endswith("0000"):
        return "province_code"
    if region.endswith("00"):
        return "city_code"
    return "region_code"


@dataclass
class SearchFilter:
    """A search as SQL text with `?` placeholders and the values bound to them."""

    chain: str | None = None
    node: str | None = None
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *values: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(values)

    @property
    def where(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"

    def on_chain(self) -> tuple[str, list[Any]]:
        """With a chain: SELECT … yielding one row per matching firm of `chain_firms` with
        the ROW_SCHEMA columns, and its parameters."""
        # every filtered column is the firm's own, so filtering before grouping is exact
        node_clause = " AND node_id = ?" if self.node is not None else ""
        node_params = [self.node] if self.node is not None else []
        return (
            "SELECT uscc, any_value(name) AS name, any_value(region_code) AS region_code, "
            "any_value(registered_capital) AS registered_capital, "
            "any_value(revenue) AS revenue, any_value(tags) AS tags, "
            "CAST(NULL AS DATE) AS deregistered, "
            "list(DISTINCT node_id ORDER BY node_id) AS nodes "
            f"FROM chain_firms WHERE chain_id = ?{node_clause} AND {self.where} GROUP BY uscc",
            [self.chain, *node_params, *self.params],
        )


def search_filter(
    *,
    q: str | None = None,
    region: str | None = None,
    chain: str | None = None,
    node: str | None = None,
    tag: str | None = None,
) -> SearchFilter:
    """The filter of a search; blank arguments filter nothing. Raises `UserError` naming
    the field of a bad value."""
    text = (q or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise UserError(
            f"「关键词」过长：最多 {MAX_QUERY_CHARS} 个字符",
            f"'q' is too long: at most {MAX_QUERY_CHARS} characters",
        )
    if node and not chain:
        raise UserError("「环节」需要先选「产业链」", "'node' needs a 'chain'")
    where = SearchFilter(chain=chain or None, node=node or None)
    if text:
        code = clean_code(text)
        if looks_like_uscc(code):
            where.add("uscc = ?", code)
        else:
            # stored names are simplified (ingest normalises them); so must the query be
            where.add("contains(name, ?)", normalize(text))
    if region:
        region = region.strip()
        where.add(f"{region_column(region)} = ?", region)
    if tag:
        stored = canonical_tag(tag)
        # the substring test skips the split on the many rows without that text
        where.add("contains(tags, ?) AND list_contains(string_split(tags, ';'), ?)", stored, stored)
    return where


def _finish(rows: pl.DataFrame) -> pl.DataFrame:
    names = [region_full_name(code) for code in rows["region_code"].to_list()]
    return rows.with_columns(pl.Series("region_name", names, dtype=pl.String))


def search_enterprises(
    wh: Warehouse,
    *,
    q: str | None = None,
    region: str | None = None,
    chain: str | None = None,
    node: str | None = None,
    tag: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    region_rows: RegionRows | None = None,
) -> tuple[pl.DataFrame, int]:
    """One page of firms matching every given filter, largest registered capital first
    (then by credit code), and the number of matches (exact; pages end after
    `MAX_BROWSABLE` of them).

    q: part of the name (traditional characters are converted to simplified) or an exact
    18-character credit code; region: a province or city code matches every firm under it;
    chain / node: the active firms assigned to them (`chain_firms`); tag: 上市, 小巨人
    (专精特新小巨人), 专精特新, 高新技术企业.

    Rows: uscc, name, region_code, registered_capital, revenue, tags, deregistered, nodes
    (with a chain filter: the firm's node ids on that chain, else empty), region_name.

    region_rows: where a caller keeps regions' rows in memory (the web), a search inside a
    city or county without a chain filter reads them from it (`search_region_rows`: the
    same rows, the same order) instead of scanning the warehouse."""
    if page < 1:
        raise UserError("「页码」须为正整数", "'page' must be at least 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise UserError(
            f"「每页条数」须在 1 到 {MAX_PAGE_SIZE} 之间",
            f"'page_size' must be between 1 and {MAX_PAGE_SIZE}",
        )
    where = search_filter(q=q, region=region, chain=chain, node=node, tag=tag)
    scope = (region or "").strip()
    offset = (page - 1) * page_size
    wanted = min(offset + page_size, MAX_BROWSABLE)
    if where.chain is not None:
        rows, total = _chain_page(wh, where, offset, wanted - offset)
    elif region_rows is not None and scope and region_column(scope) != "province_code":
        frame = region_rows(scope, lambda: read_region_rows(wh, scope))
        rows, total = search_region_rows(frame, q=q, tag=tag, offset=offset, wanted=wanted)
    else:
        rows, total = _enterprise_page(wh, where, offset, wanted)
    return _finish(rows), total


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=ROW_SCHEMA)


def read_region_rows(wh: Warehouse, region: str) -> pl.DataFrame:
    """Every firm registered in a city or county (ROW_COLUMNS), in the search's order: what
    `search_region_rows` filters. A city of a national warehouse is some 30 k rows (≈ 4 MB)."""
    column = region_column(region)
    table = _search_table(wh)
    rows = wh.sql(
        f"SELECT {ROW_COLUMNS} FROM {table} WHERE {column} = ? ORDER BY {ORDER}", [region]
    )
    return rows.cast(REGION_ROW_SCHEMA)  # type: ignore[arg-type]


def search_region_rows(
    rows: pl.DataFrame, *, q: str | None, tag: str | None, offset: int, wanted: int
) -> tuple[pl.DataFrame, int]:
    """Rows offset … wanted − 1 of the matches among a region's rows (`read_region_rows`)
    and the number of matches: the name / credit code and tag tests of `search_filter`, in
    memory."""
    conditions: list[pl.Expr] = []
    text = (q or "").strip()
    if text:
        code = clean_code(text)
        if looks_like_uscc(code):
            conditions.append(pl.col("uscc") == code)
        else:
            conditions.append(pl.col("name").str.contains(normalize(text), literal=True))
    if tag:
        conditions.append(pl.col("tags").str.split(";").list.contains(canonical_tag(tag)))
    found = rows.filter(*conditions) if conditions else rows
    page = found.slice(offset, max(wanted - offset, 0))
    nodes = pl.Series("nodes", [[] for _ in range(page.height)], dtype=pl.List(pl.String))
    return page.with_columns(nodes), found.height


def _search_table(wh: Warehouse) -> str:
    """`firm_search` (the enterprises sorted by region, engine/cube.py) where the warehouse
    has it; `enterprises` on one built before it."""
    return "firm_search" if wh.has_table("firm_search") else "enterprises"


def _enterprise_page(
    wh: Warehouse, where: SearchFilter, offset: int, wanted: int
) -> tuple[pl.DataFrame, int]:
    """Rows offset … wanted − 1 of the ordered matches, read by row id after one pass that
    counts the matches and keeps the best `wanted` row ids."""
    table = _search_table(wh)
    found = wh.raw.execute(
        f"SELECT count(*), min_by(rowid, {SORT_KEY}, ?) FROM {table} WHERE {where.where}",
        [max(wanted, 1), *where.params],
    ).fetchone()
    total = int(found[0]) if found else 0
    ids = list(found[1] or []) if found else []
    page_ids = ids[offset:wanted]
    if not page_ids:
        return _empty(), total
    rows = wh.sql(f"SELECT {ROW_COLUMNS} FROM {table} WHERE rowid = ANY(?::BIGINT[])", [page_ids])
    rows = rows.sort(["registered_capital", "uscc"], descending=[True, False], nulls_last=True)
    nodes = pl.Series("nodes", [[] for _ in range(rows.height)], dtype=pl.List(pl.String))
    return rows.with_columns(nodes).cast(ROW_SCHEMA), total  # type: ignore[arg-type]


def _chain_page(
    wh: Warehouse, where: SearchFilter, offset: int, size: int
) -> tuple[pl.DataFrame, int]:
    if not wh.has_table("chain_firms"):
        return _empty(), 0
    source, params = where.on_chain()
    found = wh.raw.execute(f"SELECT count(*) FROM ({source})", params).fetchone()
    total = int(found[0]) if found else 0
    if size <= 0 or offset >= total:
        return _empty(), total
    rows = wh.sql(
        f"SELECT * FROM ({source}) ORDER BY {ORDER} LIMIT ? OFFSET ?", [*params, size, offset]
    )
    return rows.cast(ROW_SCHEMA), total  # type: ignore[arg-type]


# --- one enterprise ---------------------------------------------------------------------------
@dataclass
class EnterpriseDetail:
    """What the enterprise page shows: the firm, its assignments, its supply partners."""

    firm: dict[str, Any]
    region_name: str
    tags: list[str]
    assignments: pl.DataFrame  # chain_id, node_id, score, method, evidence, national_rank
    suppliers: pl.DataFrame  # see `_partners`
    customers: pl.DataFrame
    supplier_count: int
    customer_count: int


PARTNER_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "name": pl.String(),
    "region_code": pl.String(),
    "region_name": pl.String(),
    "links": pl.Int64(),
    "amount": pl.Float64(),
    "first_year": pl.Int64(),
    "last_year": pl.Int64(),
    "products": pl.String(),
}


def _partner_links(wh: Warehouse, uscc: str) -> pl.DataFrame:
    """One row per partner and role: role (supplier = the partner supplies the firm),
    uscc, links, amount (万元; null when no link carries one), first/last year, products."""
    return wh.sql(
        """
        SELECT CASE WHEN customer_uscc = ? THEN 'supplier' ELSE 'customer' END AS role,
               CASE WHEN customer_uscc = ? THEN supplier_uscc ELSE customer_uscc END AS uscc,
               count(*) AS links, sum(amount) AS amount,
               min(year) AS first_year, max(year) AS last_year,
               string_agg(DISTINCT product, '、' ORDER BY product) AS products
        FROM supply_links
        WHERE (supplier_uscc = ? OR customer_uscc = ?) AND supplier_uscc <> customer_uscc
        GROUP BY ALL
        """,
        [uscc] * 4,
    )


def _partners(links: pl.DataFrame, firms: pl.DataFrame, role: str) -> tuple[pl.DataFrame, int]:
    """The partners of one role, largest amount first (then most links, then code), at most
    PARTNERS_SHOWN, and how many there are in all."""
    mine = links.filter(pl.col("role") == role).drop("role")
    count = mine.height
    shown = (
        mine.join(firms.select("uscc", "name", "region_code"), on="uscc", how="left")
        .sort(["amount", "links", "uscc"], descending=[True, True, False], nulls_last=True)
        .head(PARTNERS_SHOWN)
    )
    names = [region_full_name(c) if c else "" for c in shown["region_code"].to_list()]
    shown = shown.with_columns(pl.Series("region_name", names, dtype=pl.String))
    return shown.select(list(PARTNER_SCHEMA)).cast(PARTNER_SCHEMA), count  # type: ignore[arg-type]


def enterprise_name(wh: Warehouse, uscc: str) -> str | None:
    """The registered name of the firm with credit code `uscc`, or None."""
    code = clean_code(uscc)
    if not looks_like_uscc(code):
        return None
    names = wh.sql("SELECT name FROM enterprises WHERE uscc = ? LIMIT 1", [code])["name"]
    return str(names[0]) if len(names) else None


def enterprise_detail(wh: Warehouse, uscc: str) -> EnterpriseDetail | None:
    """The firm with credit code `uscc`, or None when the warehouse has no such firm.

    Three scans: the supply links touching the firm, the enterprises' codes (the firm and
    its partners at once) and the assignments."""
    code = clean_code(uscc)
    if not looks_like_uscc(code):
        return None
    links = _partner_links(wh, code)
    wanted = [code, *links["uscc"].unique().sort().to_list()]
    # two steps: a scan of the code column alone finds the rows, then only those rows are
    # read whole (one pass reading every column of 10 M rows is ten times slower)
    rows = wh.sql(
        "SELECT rowid AS row_id FROM enterprises WHERE uscc IN (SELECT unnest(?::VARCHAR[]))",
        [wanted],
    )["row_id"].to_list()
    firms = wh.sql(
        "SELECT uscc, name, region_code, industry_code, established, deregistered, "
        "registered_capital, revenue, employees, business_scope, products, tags, synthetic "
        "FROM enterprises WHERE rowid = ANY(?::BIGINT[])",
        [rows],
    )
    firm = firms.filter(pl.col("uscc") == code)
    if not firm.height:
        return None
    row = firm.row(0, named=True)
    assignments = wh.sql(
        "SELECT chain_id, node_id, score, method, evidence, national_rank FROM assignments "
        "WHERE uscc = ? ORDER BY score DESC, chain_id, node_id",
        [code],
    )
    suppliers, supplier_count = _partners(links, firms, "supplier")
    customers, customer_count = _partners(links, firms, "customer")
    return EnterpriseDetail(
        firm=row,
        region_name=region_full_name(row["region_code"]),
        tags=[t for t in (row["tags"] or "").split(";") if t],
        assignments=assignments,
        suppliers=suppliers,
        customers=customers,
        supplier_count=supplier_count,
        customer_count=customer_count,
    )


__all__ = [
    "MAX_BROWSABLE",
    "PAGE_SIZE",
    "EnterpriseDetail",
    "canonical_tag",
    "enterprise_detail",
    "search_enterprises",
    "search_filter",
]
