"""Enterprise validation: contract columns, one problem row per failure, vectorised."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA, validate_enterprises
from chainatlas.ingest.errors import PROBLEM_SCHEMA, IngestError, ValidationResult
from chainatlas.ingest.readers import read_table
from chainatlas.ingest.validators import make_uscc, make_uscc_series

TODAY = dt.date(2024, 6, 30)
REGIONS = {"450102", "450103", "450403"}
U1, U2, U3, U4 = (make_uscc("450102", i) for i in range(1, 5))

# The contract of docs/contracts-tables.md, written out independently of the code.
CONTRACT = {
    "uscc": pl.String,
    "name": pl.String,
    "region_code": pl.String,
    "industry_code": pl.String,
    "established": pl.Date,
    "deregistered": pl.Date,
    "registered_capital": pl.Float64,
    "revenue": pl.Float64,
    "employees": pl.Int64,
    "business_scope": pl.String,
    "products": pl.String,
    "tags": pl.String,
    "synthetic": pl.Boolean,
}


def raw_frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in rows], schema=dict.fromkeys(columns, pl.String)
    )


def firm(**values: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {
        "统一社会信用代码": U1,
        "企业名称": "甲糖业有限公司",
        "所属地区": "450102",
        "经营范围": "蔗糖制造",
    }
    return {**base, **values}


def validate(rows: list[dict[str, str | None]]) -> ValidationResult:
    return validate_enterprises(raw_frame(rows), REGIONS, today=TODAY)


def test_contract_schema() -> None:
    assert dict(ENTERPRISES_SCHEMA) == CONTRACT
    result = validate([firm()])
    assert dict(result.accepted.schema) == CONTRACT
    assert result.rejected.schema == pl.Schema(PROBLEM_SCHEMA)


def test_a_full_row_from_a_gbk_csv(tmp_path: Path) -> None:
    text = (
        "统一社会信用代码,企业名称,地区代码,国民经济行业代码,成立日期,注销日期,"
        "注册资本（万元）,营业收入(元),从业人数,经营范围,主要产品,资质\n"
        f"{U1.lower()},臺灣糖業（梧州）有限公司 ,450403,C 1340,2019年3月1日,,1.2亿元,"
        f'"5,000,000",120人,甘蔗製糖；貨物進出口,白砂糖,国家高新技术企业、小巨人\n'
    )
    path = tmp_path / "firms.csv"
    path.write_bytes(text.encode("gbk"))
    result = validate_enterprises(read_table(path), REGIONS, today=TODAY)
    assert result.rejected.height == 0
    assert result.accepted.row(0, named=True) == {
        "uscc": U1,
        "name": "台湾糖业(梧州)有限公司",
        "region_code": "450403",
        "industry_code": "1340",
        "established": dt.date(2019, 3, 1),
        "deregistered": None,
        "registered_capital": 12000.0,
        "revenue": 500.0,
        "employees": 120,
        "business_scope": "甘蔗制糖;货物进出口",
        "products": "白砂糖",
        "tags": "专精特新小巨人;高新技术企业",
        "synthetic": False,
    }


def test_each_problem_is_one_row() -> None:
    result = validate(
        [
            firm(),
            firm(统一社会信用代码=U2, 所属地区="999999", 成立日期="2019-02-30", 注册资本="-5"),
        ]
    )
    assert result.accepted["uscc"].to_list() == [U1]
    problems = result.rejected
    assert problems["row"].to_list() == [3, 3, 3]
    assert problems["field"].to_list() == ["所属地区", "成立日期", "注册资本"]
    assert problems["value"].to_list() == ["999999", "2019-02-30", "-5"]
    assert all(problems["reason_zh"].is_not_null()) and all(problems["reason_en"].is_not_null())
    assert result.rejected_rows == 1


def test_duplicates_name_the_first_row() -> None:
    result = validate(
        [firm(), firm(统一社会信用代码=U2), firm(), firm(统一社会信用代码=U1.lower())]
    )
    assert result.accepted["uscc"].to_list() == [U1, U2]
    assert result.rejected["row"].to_list() == [4, 5]
    assert result.rejected["reason_zh"].to_list() == ["统一社会信用代码与第 2 行重复"] * 2
    assert result.rejected["reason_en"][0] == "duplicate uscc, first in row 2"


def test_required_fields() -> None:
    result = validate(
        [
            firm(统一社会信用代码=None),
            firm(统一社会信用代码=U2, 企业名称="  "),
            firm(统一社会信用代码=U3, 所属地区="-"),
            firm(统一社会信用代码=U4, 经营范围="无"),
            firm(统一社会信用代码="91350100M000100Y44"),
        ]
    )
    assert result.accepted.height == 0
    assert result.rejected["reason_en"].to_list() == [
        "missing unified social credit code",
        "missing enterprise name",
        "missing region code",
        "fill in at least one of business scope, products, industry code",
        "unified social credit code check digit does not match; the code is mistyped",
    ]


def test_missing_required_column_stops_the_file() -> None:
    with pytest.raises(IngestError, match="行政区划代码"):
        validate_enterprises(
            raw_frame([{"统一社会信用代码": U1, "企业名称": "甲", "经营范围": "x"}]), REGIONS
        )


def test_dates_must_be_in_order_and_in_range() -> None:
    result = validate(
        [
            firm(成立日期="2019-01-01", 注销日期="2018-12-31"),
            firm(统一社会信用代码=U2, 成立日期="1948-05-01"),
            firm(统一社会信用代码=U3, 成立日期="2030-01-01"),
            firm(统一社会信用代码=U4, 成立日期="2019-01-01", 吊销日期="2020-05-01"),
        ]
    )
    assert result.accepted["deregistered"].to_list() == [dt.date(2020, 5, 1)]
    assert result.rejected["reason_en"].to_list() == [
        "deregistration date is before the establishment date",
        "date before 1949",
        "date is in the future",
    ]


def test_an_overlong_field_rejects_its_row_only() -> None:
    result = validate_enterprises(
        raw_frame([firm(经营范围="长" * 10_001), firm(统一社会信用代码=U2)]), REGIONS, today=TODAY
    )
    assert result.accepted["uscc"].to_list() == [U2]
    assert result.rejected["reason_en"].to_list() == [
        "field too long (10001 characters, limit 10000)"
    ]
    assert result.rejected["value"][0].endswith("…") and len(result.rejected["value"][0]) == 201


def test_unknown_tags_are_notes_not_rejections() -> None:
    result = validate([firm(企业标签="高企；瞪羚企业")])
    assert result.accepted["tags"].to_list() == ["高新技术企业"]
    assert result.rejected.height == 0
    assert result.warnings["reason_en"].to_list() == ["unrecognised tags dropped: 瞪羚企业"]
    assert result.warnings["row"].to_list() == [2]


def test_synthetic_column_and_ignored_columns() -> None:
    result = validate(
        [firm(synthetic="true", 备注="x"), firm(统一社会信用代码=U2, synthetic="maybe", 备注="y")]
    )
    assert result.accepted["synthetic"].to_list() == [True]
    assert result.rejected["field"].to_list() == ["synthetic"]
    assert result.ignored_columns == ("备注",)


def test_frame_without_row_column_is_numbered_from_2() -> None:
    result = validate([firm(), firm(统一社会信用代码=U2, 所属地区="1")])
    assert result.rejected["row"].to_list() == [3]


def test_region_codes_may_be_a_series() -> None:
    result = validate_enterprises(
        raw_frame([firm(所属地区="1"), firm(统一社会信用代码=U2)]),
        pl.Series(sorted(REGIONS)),
        today=TODAY,
    )
    assert result.rejected["row"].to_list() == [2]
    assert result.accepted.height == 1


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(6)), st.lists(st.booleans(), min_size=6, max_size=6))
def test_rows_are_partitioned_whatever_the_order(order: list[int], broken: list[bool]) -> None:
    rows = [
        firm(统一社会信用代码=make_uscc("450103", i), 所属地区="000000" if bad else "450103")
        for i, bad in enumerate(broken)
    ]
    raw = (
        raw_frame([rows[i] for i in order])
        .with_row_index("row", offset=2)
        .with_columns(pl.col("row").cast(pl.Int64))
    )
    result = validate_enterprises(raw, REGIONS, today=TODAY)
    assert result.accepted.height + result.rejected_rows == 6
    expected = sorted(make_uscc("450103", i) for i, bad in enumerate(broken) if not bad)
    assert sorted(result.accepted["uscc"].to_list()) == expected


@pytest.mark.slow
def test_validation_is_vectorised() -> None:
    """200,000 rows well within seconds; per-row Python would take minutes."""
    n = 200_000
    rng = np.random.default_rng(7)
    regions = np.array(sorted(REGIONS))[rng.integers(0, len(REGIONS), n)]
    pick = lambda options: pl.Series(np.array(options)[rng.integers(0, len(options), n)])  # noqa: E731
    raw = pl.DataFrame(
        {
            "统一社会信用代码": make_uscc_series(regions, np.arange(n)),
            "企业名称": pl.Series([f"广西{i}号糖业有限公司" for i in range(n)]),
            "所属地区": regions,
            "行业代码": pick(["C1340", "1340", "5121"]),
            "成立日期": pick(["2019-03-01", "2015年6月7日", "20100101"]),
            "注册资本": pick(["500", "1.2亿元", "300万美元"]),
            "经营范围": pick(
                ["蔗糖制造；白砂糖销售", "貨物進出口；技術諮詢", "糖蜜加工，酒精制造"]
            ),
        }
    )
    start = time.perf_counter()
    result = validate_enterprises(raw, REGIONS, today=TODAY)
    elapsed = time.perf_counter() - start
    assert result.accepted.height == n
    assert elapsed < 20, f"{elapsed:.1f} s for {n} rows"
