"""Supply-link validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from chainatlas.ingest.errors import IngestError
from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA, validate_links
from chainatlas.ingest.readers import read_table
from chainatlas.ingest.validators import make_uscc

TODAY = dt.date(2024, 6, 30)
A, B, C = (make_uscc("450403", i) for i in range(3))
CONTRACT = {
    "supplier_uscc": pl.String,
    "customer_uscc": pl.String,
    "amount": pl.Float64,
    "year": pl.Int64,
    "product": pl.String,
}


def links(*rows: tuple[str | None, ...]) -> pl.DataFrame:
    headers = ["供应商信用代码", "客户信用代码", "采购金额(万元)", "年度", "产品"]
    return pl.DataFrame(rows, schema=dict.fromkeys(headers, pl.String), orient="row")


def test_contract_and_happy_path(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    path.write_bytes(
        (
            "supplier_uscc,customer_uscc,amount,year,product\n"
            f'{A},{B},"1,200万元",2023年,甘蔗\n{B},{C},,,\n'
        ).encode("utf-8-sig")
    )
    result = validate_links(read_table(path), None, today=TODAY)
    assert dict(SUPPLY_LINKS_SCHEMA) == CONTRACT
    assert dict(result.accepted.schema) == CONTRACT
    assert result.accepted.rows() == [(A, B, 1200.0, 2023, "甘蔗"), (B, C, None, None, None)]
    assert result.rejected.height == 0


def test_problems() -> None:
    result = validate_links(
        links(
            (A, B, "500", "2023", "糖蜜"),
            (A, A, "500", "2023", None),  # self-link
            (A, "91350100M000100Y44", None, None, None),  # bad check digit
            (B, C, "-1", "1900", None),  # negative amount, year out of range
            (A, B, "300", "2023", "白砂糖"),  # same supplier, customer and year as row 2
            (A, B, "300", "2022", None),  # another year: fine
        ),
        None,
        today=TODAY,
    )
    assert result.accepted.height == 2
    assert result.rejected.select("row", "reason_en").rows() == [
        (3, "supplier and customer are the same enterprise"),
        (4, "customer credit code check digit does not match; the code is mistyped"),
        (5, "amount must not be negative"),
        (5, "year must be between 1949 and 2024"),
        (6, "same supplier, customer and year as row 2"),
    ]
    assert result.rejected["field"][0] == "客户信用代码"


def test_known_enterprises() -> None:
    result = validate_links(
        links((A, B, None, None, None), (C, A, None, None, None)), pl.Series([A, B]), today=TODAY
    )
    assert result.accepted.rows() == [(A, B, None, None, None)]
    assert result.rejected.select("row", "reason_en").rows() == [
        (3, "supplier is not among the loaded enterprises")
    ]


def test_missing_columns() -> None:
    with pytest.raises(IngestError, match="客户信用代码"):
        validate_links(pl.DataFrame({"供应商信用代码": [A]}), None)
