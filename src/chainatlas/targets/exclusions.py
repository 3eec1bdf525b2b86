"""The exclusion list: firms already contacted, left out of the targets (docs/targets.md).

A CSV / XLSX / Parquet table with a `uscc` column (统一社会信用代码) and optionally `note`
(备注) and `date` (日期, when the firm was contacted). Headers are matched without regard
to case or surrounding spaces. A bad row stops the whole list: a list with a mistyped code
would silently leave a contacted firm in the targets.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from chainatlas.errors import UserError
from chainatlas.ingest.validators import (
    blank_to_null,
    clean_uscc,
    date_problems,
    uscc_problems,
)

HEADERS: dict[str, tuple[str, ...]] = {
    "uscc": ("uscc", "统一社会信用代码", "社会信用代码", "信用代码"),
    "note": ("note", "备注", "说明"),
    "date": ("date", "日期", "联系日期"),
}
MAX_LISTED = 10


def _find(columns: list[str], field: str) -> str | None:
    wanted = {h.lower() for h in HEADERS[field]}
    hits = [c for c in columns if c.strip().lower() in wanted]
    if len(hits) > 1:
        raise UserError(
            f"排除名单有多列可作「{field}」：" + "、".join(f"「{c}」" for c in hits),
            f"the exclusion list has several columns for '{field}': " + ", ".join(hits),
        )
    return hits[0] if hits else None


def exclusion_list(table: pl.DataFrame, *, today: dt.date) -> pl.DataFrame:
    """The list as uscc, note, date (one row per code, its first row), from a table read by
    `chainatlas.ingest.readers.read_table` (all-string columns and `row`).

    Raises `UserError` naming the rows (as the user sees them: header = row 1) and fields
    of every problem: a missing or invalid credit code, an unreadable date."""
    columns = [c for c in table.columns if c != "row"]
    found = {field: _find(columns, field) for field in HEADERS}
    if found["uscc"] is None:
        raise UserError(
            "排除名单缺少「uscc」（统一社会信用代码）列；文件中的列："
            + "、".join(f"「{c}」" for c in columns),
            "the exclusion list has no 'uscc' (credit code) column; the file has: "
            + ", ".join(f"'{c}'" for c in columns),
        )
    codes = clean_uscc(blank_to_null(table[found["uscc"]].str.strip_chars()))
    checks = [(found["uscc"], uscc_problems(codes))]
    if found["date"] is not None:
        dates = blank_to_null(table[found["date"]].str.strip_chars())
        checks.append((found["date"], date_problems(dates, today)))
    problems: list[tuple[int, str, str, str]] = []
    for field, check in checks:
        bad = check.with_columns(table["row"]).filter(pl.col("reason_zh").is_not_null())
        problems += [(r, field, zh, en) for _, zh, en, r in bad.iter_rows()]
    if problems:
        problems.sort()
        shown = problems[:MAX_LISTED]
        more = len(problems) - len(shown)
        raise UserError(
            "排除名单有误："
            + "；".join(f"第 {r} 行「{f}」：{zh}" for r, f, zh, _ in shown)
            + (f"；另有 {more} 处" if more else ""),
            "bad exclusion list: "
            + "; ".join(f"row {r} '{f}': {en}" for r, f, _, en in shown)
            + (f"; {more} more" if more else ""),
        )
    note = (
        table[found["note"]].str.strip_chars()
        if found["note"] is not None
        else pl.Series([None] * table.height, dtype=pl.String)
    )
    date = (
        checks[1][1]["value"]
        if found["date"] is not None
        else pl.Series([None] * table.height, dtype=pl.Date)
    )
    return pl.DataFrame(
        {"uscc": codes, "note": note, "date": date},
        schema={"uscc": pl.String, "note": pl.String, "date": pl.Date},
    ).unique("uscc", keep="first", maintain_order=True)
