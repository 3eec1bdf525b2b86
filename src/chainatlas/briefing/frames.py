"""Any result frame as a terminal table or an XLSX workbook, with bilingual column labels.

Used by the analytics commands (opportunities, peers, compare, trends, complexity) so each
only declares its columns: id, zh label, en label, number format.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
import xlsxwriter
from rich.table import Table

from chainatlas.briefing.xlsx import MAX_WIDTH, display_width

# money: 万元 with two decimals; km: whole kilometres; date: a date cell (ISO text accepted)
Kind = Literal["text", "int", "float", "money", "km", "pct", "date", "list"]
NUMERIC_KINDS: frozenset[Kind] = frozenset({"int", "float", "money", "km", "pct"})

EXCEL_FORMATS: dict[Kind, str] = {
    "text": "@",
    "int": "#,##0",
    "float": "0.000",
    "money": "#,##0.00",
    "km": "#,##0",
    "pct": "0.0%",
    "date": "yyyy-mm-dd",
    "list": "@",
}


@dataclass(frozen=True)
class Column:
    id: str
    zh: str
    en: str
    kind: Kind = "text"

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Sheet:
    name_zh: str
    name_en: str
    frame: pl.DataFrame
    columns: Sequence[Column]

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def cell_text(value: object, kind: Kind) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "int":
        return f"{int(value):,}"  # type: ignore[call-overload]
    if kind == "float":
        return f"{float(value):.3f}"  # type: ignore[arg-type]
    if kind == "money":
        return f"{float(value):,.2f}"  # type: ignore[arg-type]
    if kind == "km":
        return f"{float(value):,.0f}"  # type: ignore[arg-type]
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "pct":
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    if kind == "list" and isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def as_date(value: object) -> dt.date:
    """A date column's value, stored as a date or as ISO text (JSON-shaped frames)."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def frame_table(
    frame: pl.DataFrame, columns: Sequence[Column], *, title: str | None = None, lang: str = "zh"
) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(c.label(lang), justify="right" if c.kind in NUMERIC_KINDS else "left")
    for row in frame.select([c.id for c in columns]).iter_rows():
        table.add_row(*[cell_text(v, c.kind) for v, c in zip(row, columns, strict=True)])
    return table


def frames_xlsx(sheets: Sequence[Sheet], path: Path, *, lang: str = "zh") -> None:
    """One sheet per frame: bold header, frozen first row, autofilter, number formats, and
    widths that count CJK characters double."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as book:
        header = book.add_format({"bold": True, "bg_color": "#E8EEF5", "border": 1})
        formats = {k: book.add_format({"num_format": f}) for k, f in EXCEL_FORMATS.items()}
        for sheet in sheets:
            ws = book.add_worksheet(sheet.name(lang)[:31])
            widths = [display_width(c.label(lang)) for c in sheet.columns]
            for col, c in enumerate(sheet.columns):
                ws.write(0, col, c.label(lang), header)
            data = sheet.frame.select([c.id for c in sheet.columns])
            for r, row in enumerate(data.iter_rows(), start=1):
                for col, (value, c) in enumerate(zip(row, sheet.columns, strict=True)):
                    if value is None or (isinstance(value, float) and math.isnan(value)):
                        ws.write_blank(r, col, None, formats[c.kind])
                        continue
                    if c.kind == "list":
                        value = cell_text(value, "list")
                    if c.kind == "date":
                        day = as_date(value)
                        ws.write_datetime(r, col, day, formats["date"])
                        widths[col] = max(widths[col], len(day.isoformat()))
                        continue
                    ws.write(r, col, value, formats[c.kind])
                    if c.kind in ("text", "list"):
                        widths[col] = max(widths[col], display_width(value))
                    else:
                        widths[col] = max(widths[col], len(cell_text(value, c.kind)))
            for col, width in enumerate(widths):
                ws.set_column(col, col, min(MAX_WIDTH, max(6.0, width + 2.5)))
            ws.freeze_panes(1, 0)
            if sheet.columns:
                ws.autofilter(0, 0, max(data.height, 1), len(sheet.columns) - 1)
