"""Readers: real files written in tmp_path — encodings, delimiters, Excel, Parquet, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from chainatlas.ingest.errors import IngestError
from chainatlas.ingest.readers import decode_bytes, read_table

HEADER = "统一社会信用代码,企业名称,所属地区,经营范围\n"
ROWS = (
    "91350100M000100Y43,臺灣糖業股份有限公司,450102,制糖\n"
    '911101051234567883,"甘蔗,糖业",450103,"种植\n加工"\n'
)
EXPECTED = {
    "row": [2, 3],
    "统一社会信用代码": ["91350100M000100Y43", "911101051234567883"],
    "企业名称": ["臺灣糖業股份有限公司", "甘蔗,糖业"],
    "所属地区": ["450102", "450103"],
    "经营范围": ["制糖", "种植\n加工"],
}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def as_dict(frame: pl.DataFrame) -> dict[str, list[object]]:
    return {name: frame[name].to_list() for name in frame.columns}


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("utf8.csv", "utf-8"),
        ("bom.csv", "utf-8-sig"),
        ("gbk.csv", "gbk"),
        ("gb18030.csv", "gb18030"),
        ("utf16.csv", "utf-16"),
    ],
)
def test_csv_encodings(tmp_path: Path, name: str, encoding: str) -> None:
    table = read_table(write(tmp_path / name, (HEADER + ROWS).encode(encoding)))
    assert as_dict(table) == EXPECTED
    assert table.schema["row"] == pl.Int64


def test_gbk_file_whose_first_64k_are_ascii(tmp_path: Path) -> None:
    filler = "".join(f"9135010000000{i:05d},A{i},450102,x\n" for i in range(4000))
    data = ("uscc,name,region_code,products\n" + filler + "9135,糖业,450102,白砂糖\n").encode("gbk")
    table = read_table(write(tmp_path / "late.csv", data))
    assert table["name"][-1] == "糖业" and table["row"][-1] == 4002


def test_big5_is_recognised(tmp_path: Path) -> None:
    data = "統一社會信用代碼,企業名稱\n91350100M000100Y43,臺灣糖業\n".encode("big5")
    assert read_table(write(tmp_path / "big5.csv", data)).columns == [
        "row",
        "統一社會信用代碼",
        "企業名稱",
    ]


def test_gb18030_only_characters(tmp_path: Path) -> None:
    data = (HEADER + "91350100M000100Y43,𠀀糖业,450102,x\n").encode("gb18030")
    assert read_table(write(tmp_path / "ext.csv", data))["企业名称"][0] == "𠀀糖业"


def test_tab_delimited(tmp_path: Path) -> None:
    data = "统一社会信用代码\t企业名称\n91350100M000100Y43\t甘蔗, 糖业\n".encode()
    table = read_table(write(tmp_path / "tab.tsv", data))
    assert table["企业名称"].to_list() == ["甘蔗, 糖业"]


def test_rows_keep_their_numbers_across_blank_and_multiline_records(tmp_path: Path) -> None:
    data = (HEADER + '1,"多\n行",450102,a\n\n,,,\n2,b,450102,c\n').encode()
    table = read_table(write(tmp_path / "gaps.csv", data))
    assert table["row"].to_list() == [2, 5]
    assert table["统一社会信用代码"].to_list() == ["1", "2"]


def test_empty_cells_are_null(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "nulls.csv", (HEADER + "1,,450102,\n").encode()))
    assert table["企业名称"].to_list() == [None] and table["经营范围"].to_list() == [None]


def test_header_only(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "header.csv", HEADER.encode()))
    assert table.height == 0 and table.columns[0] == "row"


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(IngestError, match="文件为空"):
        read_table(write(tmp_path / "empty.csv", data))


def test_first_row_of_data_is_not_a_header(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="表头"):
        read_table(write(tmp_path / "noheader.csv", ROWS.encode()))


def test_ragged_rows_are_named(tmp_path: Path) -> None:
    data = (HEADER + ROWS + "1,2\n" + "a,b,c,d\n" + "1,2,3,4,5\n").encode()
    with pytest.raises(IngestError) as caught:
        read_table(write(tmp_path / "ragged.csv", data))
    assert "第 4 行有 2 列" in caught.value.message_zh
    assert "第 6 行有 5 列" in caught.value.message_zh
    assert "row 4 has 2" in caught.value.message_en


def test_unterminated_quote_is_named(tmp_path: Path) -> None:
    data = (HEADER + ROWS + '9,"open,450102,x\n10,b,450102,y\n').encode()
    with pytest.raises(IngestError) as caught:
        read_table(write(tmp_path / "quote.csv", data))
    assert "第 4 行" in caught.value.message_zh and "row 4" in caught.value.message_en


def test_undecodable_bytes_are_located(tmp_path: Path) -> None:
    data = (HEADER + ROWS).encode() + b"\xff\xfe\xfa,x,y,z\n"
    with pytest.raises(IngestError) as caught:
        read_table(write(tmp_path / "broken.csv", data))
    offset = len((HEADER + ROWS).encode())
    assert f"offset {offset}" in caught.value.message_en
    assert "line 5" in caught.value.message_en and "0xFF" in caught.value.message_en


def test_decode_bytes_reports_the_encoding() -> None:
    assert decode_bytes("企业".encode("gbk")) == ("企业", "gb18030")
    assert decode_bytes("企业".encode("utf-8-sig")) == ("企业", "utf-8")


def test_long_field_is_read_not_refused(tmp_path: Path) -> None:
    data = (HEADER + "1,a,450102," + "长" * 200_000 + "\n2,b,450102,c\n").encode()
    table = read_table(write(tmp_path / "long.csv", data))
    assert table["经营范围"].str.len_chars().to_list() == [200_000, 1]


def test_duplicate_and_unnamed_headers(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="表头重复"):
        read_table(write(tmp_path / "dup.csv", "名称,名称\n1,2\n".encode()))
    with pytest.raises(IngestError, match=r"第 2 列（B）"):
        read_table(write(tmp_path / "unnamed.csv", "名称,,备注\n1,2,3\n".encode()))
    # An unnamed column without data (trailing commas from Excel) is dropped.
    assert read_table(write(tmp_path / "trailing.csv", "名称,\n1,\n".encode())).columns == [
        "row",
        "名称",
    ]


def test_required_columns_with_kind(tmp_path: Path) -> None:
    path = write(tmp_path / "firms.csv", (HEADER + ROWS).encode())
    assert read_table(path, kind="enterprises").height == 2
    with pytest.raises(IngestError) as caught:
        read_table(path, kind="supply_links")
    assert "供应商信用代码" in caught.value.message_zh
    assert "supplier_uscc" in caught.value.message_en


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="找不到文件"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(IngestError, match=r"\.xlsx"):
        read_table(write(tmp_path / "old.xls", b"\xd0\xcf\x11\xe0"))
    with pytest.raises(IngestError, match="不支持"):
        read_table(write(tmp_path / "x.json", b"{}"))


# --- Excel ------------------------------------------------------------------------


def build_workbook(path: Path, rows: list[list[object]], merges: tuple[str, ...] = ()) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    book.save(path)
    return path


def test_xlsx_values_become_text(tmp_path: Path) -> None:
    path = build_workbook(
        tmp_path / "firms.xlsx",
        [
            ["统一社会信用代码", "企业名称", "所属地区", "行业代码", "成立日期", "注册资本(万元)"],
            ["91350100M000100Y43", "甲公司", 450102, 1340, dt.datetime(2019, 3, 1), 500.0],
            [None, None, None, None, None, None],
            ["911101051234567883", "乙公司", "450103", "C1340", 43525, 0.1 + 0.2],
        ],
    )
    table = read_table(path)
    assert table["row"].to_list() == [2, 4]
    assert table["所属地区"].to_list() == ["450102", "450103"]
    assert table["行业代码"].to_list() == ["1340", "C1340"]
    assert table["成立日期"].to_list() == ["2019-03-01", "43525"]
    assert table["注册资本(万元)"].to_list() == ["500", "0.3"]


def test_xlsx_merged_header_names_the_cells(tmp_path: Path) -> None:
    path = build_workbook(
        tmp_path / "merged.xlsx",
        [["企业信息", None, "地区"], ["统一社会信用代码", "企业名称", None]],
        merges=("A1:B1", "C1:C2"),
    )
    with pytest.raises(IngestError) as caught:
        read_table(path)
    assert "A1:B1" in caught.value.message_zh and "C1:C2" in caught.value.message_zh
    assert "merged" in caught.value.message_en


def test_xlsx_merged_data_cells_are_filled(tmp_path: Path) -> None:
    path = build_workbook(
        tmp_path / "filled.xlsx",
        [["企业名称", "所属地区"], ["甲", "450102"], ["乙", None], ["丙", None]],
        merges=("B2:B3",),
    )
    assert read_table(path)["所属地区"].to_list() == ["450102", "450102", None]


def test_xlsx_empty_and_broken(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="文件为空"):
        read_table(build_workbook(tmp_path / "empty.xlsx", []))
    with pytest.raises(IngestError, match="第 1 行为空"):
        read_table(build_workbook(tmp_path / "gap.xlsx", [[None, None], ["a", "b"]]))
    with pytest.raises(IngestError, match="Excel"):
        read_table(write(tmp_path / "fake.xlsx", b"not a zip file"))


# --- Parquet -----------------------------------------------------------------------


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "firms.parquet"
    pl.DataFrame(
        {
            "uscc": ["91350100M000100Y43", "911101051234567883"],
            "registered_capital": [500.0, 0.5],
            "employees": [3, None],
            "established": [dt.date(2019, 3, 1), None],
            "synthetic": [True, False],
        }
    ).write_parquet(path)
    table = read_table(path)
    assert as_dict(table) == {
        "row": [2, 3],
        "uscc": ["91350100M000100Y43", "911101051234567883"],
        "registered_capital": ["500", "0.5"],
        "employees": ["3", None],
        "established": ["2019-03-01", None],
        "synthetic": ["true", "false"],
    }


def test_parquet_nested_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    pl.DataFrame({"name": ["a"], "items": [[1, 2]]}).write_parquet(path)
    with pytest.raises(IngestError, match="items"):
        read_table(path)
