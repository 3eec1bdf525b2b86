"""`run_complexity`: any long-format file in, the complexity table out; bad input named by
the row the user sees (header = row 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest

from chainatlas.errors import UserError
from chainatlas.metrics.complexity import FIGURES, complexity_table
from chainatlas.services.complexity import run_complexity

# Four counties, five nodes: the hand-worked case of tests/metrics/test_complexity.py.
ROWS = [
    ("2023", "450102", "甘蔗种植", "10"),
    ("2023", "450102", "制糖", "5"),
    ("2023", "450102", "蔗渣造纸", "5"),
    ("2023", "450103", "糖蜜酒精", "10"),
    ("2023", "450103", "制糖", "5"),
    ("2023", "450103", "蔗渣造纸", "5"),
    ("2023", "450104", "生物肥料", "10"),
    ("2023", "450104", "制糖", "10"),
    ("2023", "450105", "甘蔗种植", "10"),
    ("2023", "450105", "糖蜜酒精", "10"),
    ("2023", "450105", "生物肥料", "10"),
    ("2023", "450105", "蔗渣造纸", "10"),
]
HEADER = ("年份", "县区代码", "环节", "企业数")
COLUMNS = {"region_col": "县区代码", "product_col": "环节", "value_col": "企业数"}


def csv_text(rows: list[tuple[str, ...]] = ROWS, header: tuple[str, ...] = HEADER) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def expected() -> pl.DataFrame:
    frame = pl.DataFrame([list(r) for r in ROWS], schema=list(HEADER), orient="row")
    return complexity_table(
        frame.with_columns(pl.col("企业数").cast(pl.Float64)),
        region="县区代码",
        product="环节",
        value="企业数",
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_any_chinese_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "counts.csv"
    path.write_bytes(csv_text().encode(encoding))
    out = run_complexity(path, **COLUMNS)
    assert out.columns == ["县区代码", "环节", "企业数", *FIGURES]
    assert out.height == 4 * 5
    assert out["县区代码"].dtype == pl.String  # codes stay text: no lost leading zeros
    assert out.equals(expected())


def test_xlsx_and_parquet_give_the_same_table(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for year, region, node, count in ROWS:
        sheet.append([int(year), int(region), node, int(count)])
    book.save(tmp_path / "counts.xlsx")
    parquet = pl.DataFrame([list(r) for r in ROWS], schema=list(HEADER), orient="row")
    parquet = parquet.with_columns(pl.col("企业数").cast(pl.Int64), pl.col("年份").cast(pl.Int32))
    parquet.write_parquet(tmp_path / "counts.parquet")
    for name in ("counts.xlsx", "counts.parquet"):
        out = run_complexity(tmp_path / name, **COLUMNS)
        assert out.equals(expected()), name


def test_year_column_is_whole_numbers_when_it_can_be(tmp_path: Path) -> None:
    rows = ROWS + [("2024", r, n, v) for _, r, n, v in ROWS]
    path = tmp_path / "years.csv"
    path.write_text(csv_text(rows), "utf-8")
    out = run_complexity(path, **COLUMNS, year_col="年份")
    assert out.columns[:3] == ["年份", "县区代码", "环节"]
    assert out["年份"].dtype == pl.Int64
    assert out["年份"].unique().sort().to_list() == [2023, 2024]
    np.testing.assert_allclose(
        out.filter(pl.col("年份") == 2024)["eci"].to_numpy(), expected()["eci"].to_numpy()
    )
    labelled = [("2023年", *r[1:]) for r in ROWS]
    path.write_text(csv_text(labelled), "utf-8")
    assert run_complexity(path, **COLUMNS, year_col="年份")["年份"].dtype == pl.String


def test_options_reach_the_computation(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(csv_text(), "utf-8")
    default = run_complexity(path, **COLUMNS)
    excluding = run_complexity(path, **COLUMNS, density_excludes_self=True)
    cell = (pl.col("县区代码") == "450102") & (pl.col("环节") == "甘蔗种植")
    # hand-worked in the metrics test: 2/3 with the node itself, 1/2 without
    assert default.filter(cell)["density"].item() == pytest.approx(2 / 3)
    assert excluding.filter(cell)["density"].item() == pytest.approx(1 / 2)
    strict = run_complexity(path, **COLUMNS, rca_threshold=2.0)
    assert strict["mcp"].sum() < default["mcp"].sum()


def test_empty_value_cells_count_as_zero_and_keys_are_trimmed(tmp_path: Path) -> None:
    rows = [*ROWS, ("2023", " 450102 ", "糖蜜酒精", "")]
    path = tmp_path / "gaps.csv"
    path.write_text(csv_text(rows), "utf-8")
    out = run_complexity(path, **COLUMNS)
    assert out.equals(expected())


def test_missing_columns_are_named_with_those_present(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(csv_text(), "utf-8")
    with pytest.raises(UserError) as error:
        run_complexity(path, region_col="county", product_col="环节", value_col="产值")
    assert "'county', '产值'" in error.value.message_en
    assert "the file has: '年份', '县区代码', '环节', '企业数'" in error.value.message_en
    assert "「county」、「产值」" in error.value.message_zh


def test_bad_values_are_named_by_the_row_the_user_sees(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[2] = ("2023", "450102", "蔗渣造纸", "五")  # data row 3 = file row 4
    rows[9] = ("2023", "450105", "糖蜜酒精", '"1,000"')  # file row 11
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(rows), "utf-8")
    with pytest.raises(UserError) as error:
        run_complexity(path, **COLUMNS)
    assert error.value.message_en == (
        "column '企业数' is not a number in 2 row(s): row 4 ('五'), row 11 ('1,000')"
    )
    assert error.value.message_zh == "「企业数」列有 2 行不是数字：第 4 行（五）、第 11 行（1,000）"


def test_negative_values_empty_keys_and_duplicates_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    rows = list(ROWS)
    rows[0] = ("2023", "450102", "甘蔗种植", "-3")
    path.write_text(csv_text(rows), "utf-8")
    with pytest.raises(UserError, match=r"negative .* row 2 \('-3'\)"):
        run_complexity(path, **COLUMNS)
    rows[0] = ("2023", "  ", "甘蔗种植", "3")
    path.write_text(csv_text(rows), "utf-8")
    with pytest.raises(UserError, match=r"column '县区代码' is empty in 1 row.*: row 2$"):
        run_complexity(path, **COLUMNS)
    rows = [*ROWS, ("2023", "450104", "制糖", "4")]
    path.write_text(csv_text(rows), "utf-8")
    with pytest.raises(UserError, match=r"'450104 / 制糖' in rows 9, 14") as error:
        run_complexity(path, **COLUMNS)
    assert "第 9、14 行" in error.value.message_zh


def test_unreadable_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        run_complexity(tmp_path / "nowhere.csv", **COLUMNS)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UserError, match=r"\.xls"):
        run_complexity(tmp_path / "old.xls", **COLUMNS)
    (tmp_path / "header.csv").write_text(",".join(HEADER) + "\n", "utf-8")
    with pytest.raises(UserError, match="no rows"):
        run_complexity(tmp_path / "header.csv", **COLUMNS)
