"""Column aliases: the Chinese and English headers users write → canonical names.

Matching ignores case, spaces, underscores, hyphens, full-width forms, a trailing
"*" or ":" and a unit in brackets ("注册资本（万元）"); the unit is kept so money
columns can be read in the unit the header declares (see docs/ingest.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl

from chainatlas.ingest.errors import IngestError

Kind = Literal["enterprises", "supply_links"]

ENTERPRISE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "uscc": (
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "统一信用代码",
        "统一代码",
        "uscc",
        "credit code",
        "social credit code",
        "unified social credit code",
    ),
    "name": (
        "企业名称",
        "公司名称",
        "名称",
        "企业",
        "单位名称",
        "市场主体名称",
        "name",
        "enterprise name",
        "company name",
        "company",
        "enterprise",
    ),
    "region_code": (
        "行政区划代码",
        "所属地区",
        "地区代码",
        "区划代码",
        "所属地区代码",
        "所在地区代码",
        "注册地区划代码",
        "region_code",
        "region",
        "division code",
        "adcode",
    ),
    "industry_code": (
        "行业代码",
        "国民经济行业代码",
        "所属行业代码",
        "国民经济行业分类代码",
        "行业分类代码",
        "国标行业代码",
        "industry_code",
        "industry",
        "industry class",
    ),
    "established": (
        "成立日期",
        "成立时间",
        "设立日期",
        "注册日期",
        "established",
        "established date",
        "establishment date",
        "date established",
        "founded",
    ),
    "deregistered": (
        "注销日期",
        "吊销日期",
        "注吊销日期",
        "注销时间",
        "吊销时间",
        "deregistered",
        "deregistration date",
        "revocation date",
    ),
    "registered_capital": (
        "注册资本",
        "注册资金",
        "注册资本金",
        "registered_capital",
        "registered capital",
        "capital",
    ),
    "business_scope": ("经营范围", "业务范围", "business_scope", "business scope", "scope"),
    "products": (
        "主营产品",
        "主要产品",
        "主导产品",
        "产品",
        "products",
        "main products",
        "product",
    ),
    "revenue": (
        "营业收入",
        "营收",
        "营业总收入",
        "主营业务收入",
        "年营业收入",
        "revenue",
        "operating revenue",
        "turnover",
        "sales",
    ),
    "employees": (
        "从业人数",
        "员工人数",
        "参保人数",
        "职工人数",
        "从业人员",
        "员工数",
        "社保人数",
        "employees",
        "employee count",
        "staff",
        "headcount",
    ),
    "tags": (
        "企业标签",
        "资质",
        "企业资质",
        "标签",
        "荣誉资质",
        "tags",
        "labels",
        "qualifications",
    ),
    "synthetic": ("合成数据", "synthetic"),
}

SUPPLY_LINK_ALIASES: Mapping[str, tuple[str, ...]] = {
    "supplier_uscc": (
        "供应商信用代码",
        "供应商统一社会信用代码",
        "供应方信用代码",
        "供方信用代码",
        "supplier_uscc",
        "supplier uscc",
        "supplier credit code",
    ),
    "customer_uscc": (
        "客户信用代码",
        "采购方信用代码",
        "客户统一社会信用代码",
        "采购方统一社会信用代码",
        "采购商信用代码",
        "需方信用代码",
        "customer_uscc",
        "customer uscc",
        "buyer uscc",
        "customer credit code",
    ),
    "amount": ("金额", "采购金额", "交易金额", "供货金额", "合同金额", "amount", "value"),
    "year": ("年度", "年份", "year"),
    "product": ("产品", "供应产品", "采购产品", "产品名称", "product", "goods"),
}

# Chinese labels for messages about a column the file does not have: the first alias.
LABELS_ZH: Mapping[str, str] = {
    **{canonical: names[0] for canonical, names in ENTERPRISE_ALIASES.items()},
    **{canonical: names[0] for canonical, names in SUPPLY_LINK_ALIASES.items()},
}

REQUIRED: Mapping[Kind, tuple[str, ...]] = {
    "enterprises": ("uscc", "name", "region_code"),
    "supply_links": ("supplier_uscc", "customer_uscc"),
}
# Enterprises need at least one of these, or they cannot be placed on a chain.
ENTERPRISE_DESCRIPTORS = ("business_scope", "products", "industry_code")

# Several source columns may feed one canonical column, first non-empty wins.
COALESCED = frozenset({"deregistered"})

_BRACKETED = re.compile(r"[(\[{<【（［〔「『][^)\]}>】）］〕」』]*[)\]}>】）］〕」』]")
_IGNORED_CHARS = re.compile(r"[\s_\-.*:：/]+")
_UNIT_SUFFIX = re.compile(r"(万元人民币|万元|亿元|千元|元|万美元|美元|万人民币|人民币|人|个)$")


def label(canonical: str) -> str:
    """'经营范围 business_scope' — how messages name a canonical column."""
    return f"{LABELS_ZH.get(canonical, canonical)} {canonical}"


def header_key(header: str) -> tuple[str, str | None]:
    """Matching key of a header and the unit it declares, if any.

    >>> header_key("注册资本（万元）")
    ('注册资本', '万元')
    """
    text = unicodedata.normalize("NFKC", header).strip().lower()
    units = [m.group(0)[1:-1].strip() for m in _BRACKETED.finditer(text)]
    text = _BRACKETED.sub("", text)
    key = _IGNORED_CHARS.sub("", text)
    unit = units[-1] if units else None
    return key, unit or None


def _key_table(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, names in aliases.items():
        for name in (canonical, *names):
            table[header_key(name)[0]] = canonical
    return table


_KEYS: dict[Kind, dict[str, str]] = {
    "enterprises": _key_table(ENTERPRISE_ALIASES),
    "supply_links": _key_table(SUPPLY_LINK_ALIASES),
}


def canonical_name(header: str, kind: Kind) -> tuple[str | None, str | None]:
    """(canonical name or None, declared unit or None) for one header."""
    key, unit = header_key(header)
    table = _KEYS[kind]
    if key in table:
        return table[key], unit
    suffix = _UNIT_SUFFIX.search(key)  # "注册资本万元": unit written without brackets
    if suffix and key[: suffix.start()] in table:
        return table[key[: suffix.start()]], unit or suffix.group(0)
    return None, unit


@dataclass(frozen=True)
class ColumnMap:
    """How the headers of one file map onto canonical columns."""

    kind: Kind
    sources: Mapping[str, tuple[str, ...]]  # canonical → source headers, file order
    units: Mapping[str, str | None]  # canonical → unit declared in its header
    ignored: tuple[str, ...]  # headers that match nothing

    def header(self, canonical: str) -> str:
        """The header as the user wrote it, for messages; the label if absent."""
        found = self.sources.get(canonical)
        return " / ".join(found) if found else label(canonical)

    def has(self, canonical: str) -> bool:
        return canonical in self.sources


def resolve_columns(headers: Iterable[str], kind: Kind) -> ColumnMap:
    """Map headers to canonical names; raise if required columns are missing or doubled."""
    sources: dict[str, list[str]] = {}
    units: dict[str, str | None] = {}
    ignored: list[str] = []
    for header in headers:
        if header == "row":
            continue
        canonical, unit = canonical_name(header, kind)
        if canonical is None:
            ignored.append(header)
            continue
        sources.setdefault(canonical, []).append(header)
        units.setdefault(canonical, unit)
    doubled = {c: hs for c, hs in sources.items() if len(hs) > 1 and c not in COALESCED}
    if doubled:
        zh = "；".join(
            f"{'、'.join(hs)} 都表示「{LABELS_ZH.get(c, c)}」" for c, hs in doubled.items()
        )
        en = "; ".join(f"{', '.join(hs)} all mean '{c}'" for c, hs in doubled.items())
        raise IngestError(f"列重复：{zh}，请只保留一列", f"duplicate columns: {en}; keep one")
    column_map = ColumnMap(kind, {c: tuple(hs) for c, hs in sources.items()}, units, tuple(ignored))
    check_required(column_map)
    return column_map


def check_required(column_map: ColumnMap) -> None:
    """Raise naming every missing required column, in Chinese and English."""
    missing = [c for c in REQUIRED[column_map.kind] if not column_map.has(c)]
    if missing:
        raise IngestError(
            "缺少必需的列：" + "、".join(LABELS_ZH[c] for c in missing),
            "missing required columns: " + ", ".join(missing),
        )
    if column_map.kind == "enterprises" and not any(
        column_map.has(c) for c in ENTERPRISE_DESCRIPTORS
    ):
        raise IngestError(
            "至少需要以下一列：" + "、".join(LABELS_ZH[c] for c in ENTERPRISE_DESCRIPTORS),
            "need at least one of the columns: " + ", ".join(ENTERPRISE_DESCRIPTORS),
        )


def canonical_frame(raw: pl.DataFrame, kind: Kind) -> tuple[pl.DataFrame, ColumnMap]:
    """`row` plus one string column per canonical name (null where the file has none).

    Raw values are kept as they are; a canonical column fed by several source
    columns (注销日期 and 吊销日期) takes the first non-empty one.
    """
    column_map = resolve_columns(raw.columns, kind)
    aliases = ENTERPRISE_ALIASES if kind == "enterprises" else SUPPLY_LINK_ALIASES
    row = (
        pl.col("row").cast(pl.Int64)
        if "row" in raw.columns
        else pl.int_range(2, pl.len() + 2, dtype=pl.Int64)
    )
    columns = [
        pl.coalesce([pl.col(h).cast(pl.String) for h in column_map.sources[c]]).alias(c)
        if column_map.has(c)
        else pl.lit(None, dtype=pl.String).alias(c)
        for c in aliases
    ]
    return raw.select(row.alias("row"), *columns), column_map
