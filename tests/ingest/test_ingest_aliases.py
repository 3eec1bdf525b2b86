"""Column aliases: Chinese and English headers → canonical names."""

from __future__ import annotations

import polars as pl
import pytest

from chainatlas.ingest.aliases import (
    ENTERPRISE_ALIASES,
    SUPPLY_LINK_ALIASES,
    canonical_frame,
    canonical_name,
    header_key,
    resolve_columns,
)
from chainatlas.ingest.errors import IngestError


@pytest.mark.parametrize(
    ("header", "canonical", "unit"),
    [
        ("统一社会信用代码", "uscc", None),
        (" 统一 社会信用代码 ", "uscc", None),
        ("社会信用代码*", "uscc", None),
        ("ＵＳＣＣ", "uscc", None),
        ("Unified Social Credit Code", "uscc", None),
        ("公司名称：", "name", None),
        ("行政区划代码", "region_code", None),
        ("国民经济行业代码", "industry_code", None),
        ("Industry_Code", "industry_code", None),
        ("成立日期(yyyy-mm-dd)", "established", "yyyy-mm-dd"),
        ("吊销日期", "deregistered", None),
        ("注册资本（万元）", "registered_capital", "万元"),
        ("注册资本【万美元】", "registered_capital", "万美元"),
        ("注册资本万元", "registered_capital", "万元"),
        ("Registered Capital (10k CNY)", "registered_capital", "10k cny"),
        ("营收(亿元)", "revenue", "亿元"),
        ("参保人数（人）", "employees", "人"),
        ("企业资质", "tags", None),
        ("主要产品", "products", None),
        ("备注", None, None),
    ],
)
def test_enterprise_headers(header: str, canonical: str | None, unit: str | None) -> None:
    assert canonical_name(header, "enterprises") == (canonical, unit)


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("供应商信用代码", "supplier_uscc"),
        ("客户信用代码", "customer_uscc"),
        ("采购方信用代码", "customer_uscc"),
        ("采购金额(万元)", "amount"),
        ("年度", "year"),
        ("产品", "product"),
        ("supplier_uscc", "supplier_uscc"),
    ],
)
def test_link_headers(header: str, canonical: str) -> None:
    assert canonical_name(header, "supply_links")[0] == canonical


def test_every_alias_maps_to_its_own_column() -> None:
    for kind, table in (("enterprises", ENTERPRISE_ALIASES), ("supply_links", SUPPLY_LINK_ALIASES)):
        for canonical, names in table.items():
            for name in names:
                assert canonical_name(name, kind)[0] == canonical, name


def test_header_key_ignores_width_case_and_spacing() -> None:
    assert header_key("Ｒｅｇｉｓｔｅｒｅｄ＿Ｃａｐｉｔａｌ") == header_key("registered capital")


def test_missing_required_columns_are_named_in_both_languages() -> None:
    with pytest.raises(IngestError) as caught:
        resolve_columns(["企业名称", "经营范围"], "enterprises")
    assert "统一社会信用代码" in caught.value.message_zh
    assert "行政区划代码" in caught.value.message_zh
    assert "uscc" in caught.value.message_en and "region_code" in caught.value.message_en


def test_needs_a_descriptor_column() -> None:
    with pytest.raises(IngestError, match="business_scope"):
        resolve_columns(["统一社会信用代码", "企业名称", "地区代码"], "enterprises")


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(IngestError, match="营业收入"):
        resolve_columns(
            ["uscc", "name", "region_code", "products", "营业收入", "营收"], "enterprises"
        )


def test_deregistration_columns_are_coalesced() -> None:
    raw = pl.DataFrame(
        {
            "统一社会信用代码": ["a", "b"],
            "企业名称": ["x", "y"],
            "地区代码": ["1", "2"],
            "经营范围": ["s", "t"],
            "注销日期": ["2020-01-01", None],
            "吊销日期": ["2021-01-01", "2022-01-01"],
            "备注": ["n", "m"],
        }
    )
    frame, columns = canonical_frame(raw, "enterprises")
    assert frame["deregistered"].to_list() == ["2020-01-01", "2022-01-01"]
    assert frame["row"].to_list() == [2, 3]
    assert frame.columns == ["row", *ENTERPRISE_ALIASES]
    assert columns.ignored == ("备注",)
    assert columns.header("deregistered") == "注销日期 / 吊销日期"
    assert columns.header("revenue") == "营业收入 revenue"
