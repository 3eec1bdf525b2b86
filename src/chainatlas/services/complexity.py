"""Relatedness and complexity figures for any long-format table file (issue 3, point 7).

Reads CSV (UTF-8 or GBK/GB18030, comma or tab), XLSX (first sheet) or Parquet with
`chainatlas.ingest.readers.read_table`, takes the four named columns and runs
`metrics.complexity.complexity_table`. Every problem is a `UserError` naming the rows as the
user sees them in the file (header = row 1, first data row = row 2).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from chainatlas.errors import UserError
from chainatlas.ingest.errors import IngestError
from chainatlas.ingest.readers import read_table
from chainatlas.metrics.complexity import complexity_table


def read_long_table(
    path: Path,
    *,
    region_col: str,
    product_col: str,
    value_col: str,
    year_col: str | None = None,
) -> pl.DataFrame:
    """row, [year,] region, product, value as text (names as in the file; keys trimmed).

    The year becomes Int64 when every year is a whole number.
    """
    try:
        table = read_table(path)
    except IngestError as error:
        raise UserError(error.message_zh, error.message_en) from None
    wanted = [c for c in (year_col, region_col, product_col, value_col) if c is not None]
    present = [c for c in table.columns if c != "row"]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UserError(
            "文件中找不到列："
            + "、".join(f"「{c}」" for c in missing)
            + "；文件中的列："
            + "、".join(f"「{c}」" for c in present),
            "columns not found in the file: "
            + ", ".join(f"'{c}'" for c in missing)
            + "; the file has: "
            + ", ".join(f"'{c}'" for c in present),
        )
    keys = [c for c in (year_col, region_col, product_col) if c is not None]
    frame = table.select(
        "row",
        *(pl.col(c).str.strip_chars().replace("", None).alias(c) for c in keys),
        pl.col(value_col),
    )
    if year_col is not None:
        as_int = frame.get_column(year_col).cast(pl.Int64, strict=False)
        if as_int.null_count() == frame.get_column(year_col).null_count():
            frame = frame.with_columns(as_int.alias(year_col))
    return frame


def run_complexity(
    path: Path,
    *,
    region_col: str,
    product_col: str,
    value_col: str,
    year_col: str | None = None,
    rca_threshold: float = 1.0,
    density_excludes_self: bool = False,
) -> pl.DataFrame:
    """The `complexity_table` of a file: one row per (year,) region × product cell.

    Columns: [year_col,] region_col, product_col (text as in the file; year Int64 when
    whole numbers), value_col (Float64), rca, mcp, diversity, ubiquity, eci, pci, density,
    coi, cog. Empty value cells count as 0; an unreadable file, a missing column, an empty
    region/product/year, a value that is not a number or is negative, or the same
    (year,) region and product twice raise `UserError` naming the rows.
    """
    frame = read_long_table(
        path,
        region_col=region_col,
        product_col=product_col,
        value_col=value_col,
        year_col=year_col,
    )
    return complexity_table(
        frame,
        region=region_col,
        product=product_col,
        value=value_col,
        year=year_col,
        rca_threshold=rca_threshold,
        density_excludes_self=density_excludes_self,
        row="row",
    )
