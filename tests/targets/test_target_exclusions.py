"""The exclusion list: accepted headers, cleaning, and every bad row named with its field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from chainatlas.errors import UserError
from chainatlas.ingest.readers import read_table
from chainatlas.ingest.validators import make_uscc
from chainatlas.targets.exclusions import exclusion_list

TODAY = dt.date(2026, 1, 1)
A, B = make_uscc("440106", 1), make_uscc("320506", 2)


def from_csv(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "list.csv"
    path.write_text(text, "utf-8")
    return exclusion_list(read_table(path), today=TODAY)


def test_codes_notes_and_dates(tmp_path: Path) -> None:
    text = f"uscc,note,date\n{A},已拜访,2025-03-01\n{B.lower()},,\n{A},重复,2025-04-01\n"
    got = from_csv(tmp_path, text)
    assert got.rows() == [(A, "已拜访", dt.date(2025, 3, 1)), (B, None, None)]


def test_chinese_headers_and_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["统一社会信用代码", "备注", "联系日期"])
    ws.append([A, "链长办已接触", dt.datetime(2025, 5, 6)])
    ws.append([f" {B[:6]}-{B[6:]} ", None, None])  # spaces and a hyphen typed inside
    book.save(tmp_path / "list.xlsx")
    got = exclusion_list(read_table(tmp_path / "list.xlsx"), today=TODAY)
    assert got.rows() == [(A, "链长办已接触", dt.date(2025, 5, 6)), (B, None, None)]


def test_only_the_code_column_is_needed(tmp_path: Path) -> None:
    assert from_csv(tmp_path, f"USCC\n{A}\n")["uscc"].to_list() == [A]


def test_bad_rows_are_named_with_their_field(tmp_path: Path) -> None:
    wrong_digit = A[:-1] + ("0" if A[-1] != "0" else "1")
    text = (
        f"uscc,date\n{A},2025-01-01\n{wrong_digit},\n,2025-01-01\n{B},2025-13-01\n{B},2027-01-01\n"
    )
    with pytest.raises(UserError) as caught:
        from_csv(tmp_path, text)
    zh, en = caught.value.message_zh, caught.value.message_en
    assert "第 3 行「uscc」：统一社会信用代码校验位错误" in zh
    assert "第 4 行「uscc」：缺少统一社会信用代码" in zh
    assert "第 5 行「date」：日期不存在" in zh
    assert "第 6 行「date」：日期晚于今天" in zh
    assert "row 3 'uscc': unified social credit code check digit does not match" in en
    assert "第 2 行" not in zh


def test_a_list_without_a_code_column(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"缺少「uscc」.*「企业」、「备注」"):
        from_csv(tmp_path, "企业,备注\n某公司,x\n")


def test_two_code_columns_are_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="多列"):
        from_csv(tmp_path, f"uscc,统一社会信用代码\n{A},{A}\n")
