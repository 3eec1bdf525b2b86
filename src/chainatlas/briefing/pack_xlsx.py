"""The lists of a briefing pack as one XLSX workbook (XlsxWriter).

Sheet 概览 (overview: region, chain, key figures, the lists and maps of the pack), then one
sheet per list: bold header row frozen, an autofilter, column widths that count a CJK
character as two, and Chinese number formats (`#,##0.00"万元"`, `#,##0"家"`, dates as
`yyyy"年"m"月"d"日"`). A template list (projects, policies) has its headers, the column
formats and drop-down lists on its first rows, ready to fill in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell

from chainatlas import __version__
from chainatlas.briefing.chain_map import STATUS_NAMES, STATUS_ORDER
from chainatlas.briefing.pack import ColumnKind, ListColumn, Pack, PackList
from chainatlas.briefing.xlsx import MAX_WIDTH, display_width

TEMPLATE_ROWS = 500  # rows of a template that carry the formats and drop-downs
INLINE_LIST_MAX = 250  # Excel's limit for an inline drop-down list is 255 characters
CHOICES_SHEET = {"zh": "下拉选项", "en": "choices"}
OVERVIEW_SHEET = {"zh": "概览", "en": "Overview"}

NUMBER_FORMATS: dict[str, dict[ColumnKind, str]] = {
    "zh": {
        "text": "@",
        "int": "0",
        "firms": '#,##0"家"',
        "money": '#,##0.00"万元"',
        "score": "0.000",
        "lq": "0.00",
        "pct": "0.0%",
        "date": 'yyyy"年"m"月"d"日"',
    },
    "en": {
        "text": "@",
        "int": "0",
        "firms": "#,##0",
        "money": "#,##0.00",
        "score": "0.000",
        "lq": "0.00",
        "pct": "0.0%",
        "date": "yyyy-mm-dd",
    },
}


def shown_width(value: Any, kind: ColumnKind, lang: str) -> float:
    """Approximate width of a value as Excel shows it with its number format."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    if kind == "money":
        return len(f"{float(value):,.2f}") + (4 if lang == "zh" else 0)
    if kind == "firms":
        return len(f"{int(value):,}") + (2 if lang == "zh" else 0)
    if kind == "date":
        return 12.0 if lang == "zh" else 10.0
    if kind == "pct":
        return len(f"{float(value):.1%}")
    if kind in ("score", "lq"):
        return len(f"{float(value):.3f}")
    return display_width(value)


def _col_width(column: ListColumn, pl_values: Sequence[Any], lang: str) -> float:
    if column.width is not None:
        return column.width
    seen = max((shown_width(v, column.kind, lang) for v in pl_values), default=0.0)
    return min(MAX_WIDTH, max(6.0, display_width(column.label(lang)) + 2, seen + 2.5))


def _write_list(
    book: xlsxwriter.Workbook,
    item: PackList,
    lang: str,
    base: dict[str, Any],
    header: Format,
    pending: list[tuple[str, ...]],
) -> int:
    """One list sheet; drop-down options too long to inline are appended to `pending`, one
    column of the (hidden) choices sheet each."""
    spec = item.spec
    ws = book.add_worksheet(spec.name(lang)[:31])
    formats = NUMBER_FORMATS[lang]
    cell_fmt: dict[str, Format] = {}
    for c in spec.columns:
        long_text = c.kind == "text" and c.width is not None and c.width >= 36
        cell_fmt[c.id] = book.add_format(
            {**base, "num_format": formats[c.kind], "text_wrap": long_text, "valign": "top"}
        )
    for col, c in enumerate(spec.columns):
        ws.write(0, col, c.label(lang), header)
    ws.set_row(0, 24)
    frame = item.frame.select([c.id for c in spec.columns])
    for r, row in enumerate(frame.iter_rows(), start=1):
        for col, (value, c) in enumerate(zip(row, spec.columns, strict=True)):
            fmt = cell_fmt[c.id]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                ws.write_blank(r, col, None, fmt)
            elif c.kind == "date":
                ws.write_datetime(r, col, value, fmt)
            elif c.kind == "text":
                ws.write_string(r, col, str(value), fmt)
            else:
                ws.write_number(r, col, value, fmt)
    for col, c in enumerate(spec.columns):
        width = _col_width(c, frame[c.id].to_list() if frame.height else [], lang)
        # a template's column keeps its format for the rows still to be typed in
        ws.set_column(col, col, width, cell_fmt[c.id] if spec.template else None)
    last_row = max(frame.height, TEMPLATE_ROWS if spec.template else 1)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(frame.height, 1), len(spec.columns) - 1)
    for column_id, options in item.choices.items():
        col = [c.id for c in spec.columns].index(column_id)
        source: str | list[str]
        if sum(len(o) + 1 for o in options) <= INLINE_LIST_MAX:
            source = list(options)
        else:  # too long for an inline list: the options go to the hidden choices sheet
            at = len(pending)
            pending.append(tuple(options))
            first = xl_rowcol_to_cell(0, at, row_abs=True, col_abs=True)
            last = xl_rowcol_to_cell(len(options) - 1, at, row_abs=True, col_abs=True)
            source = f"='{CHOICES_SHEET[lang]}'!{first}:{last}"
        ws.data_validation(
            1,
            col,
            last_row,
            col,
            {
                "validate": "list",
                "source": source,
                "error_type": "warning",
                "input_title": spec.column(column_id).label(lang)[:32],
                "input_message": ("请从下拉列表选择" if lang == "zh" else "choose from the list"),
            },
        )
    return frame.height


def pack_xlsx(pack: Pack, path: str | Path, *, map_files: Sequence[str] = ()) -> Path:
    """Write the pack's workbook to `path` and return it. `map_files` (names of the map files
    written beside it) are listed on the overview sheet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lang = pack.lang
    zh = lang == "zh"
    d = pack.diagnosis
    book = xlsxwriter.Workbook(str(path))
    book.set_properties(
        {
            "title": pack.title,
            "author": "chainatlas",
            "comments": f"chainatlas {__version__}",
            "created": pack.generated_at,
        }
    )
    base: dict[str, Any] = {"font_name": "Microsoft YaHei", "font_size": 10}
    header = book.add_format(
        {
            **base,
            "bold": True,
            "bg_color": "#EAF0F7",
            "font_color": "#23384F",
            "bottom": 2,
            "bottom_color": "#B9C8D9",
            "text_wrap": True,
            "valign": "vcenter",
        }
    )
    title_f = book.add_format({**base, "bold": True, "font_size": 15, "font_color": "#0F2A4A"})
    key_f = book.add_format({**base, "bold": True, "font_color": "#334155"})
    text_f = book.add_format({**base, "text_wrap": True, "valign": "top"})
    int_f = book.add_format({**base, "num_format": NUMBER_FORMATS[lang]["firms"]})
    plain_int_f = book.add_format({**base, "num_format": "#,##0"})
    pct_f = book.add_format({**base, "num_format": "0.0%"})
    section_f = book.add_format({**base, "bold": True, "font_size": 12, "font_color": "#0F2A4A"})
    synth_f = book.add_format(
        {
            **base,
            "bold": True,
            "font_color": "#9A3412",
            "bg_color": "#FFE9CC",
            "border": 2,
            "border_color": "#C2410C",
            "text_wrap": True,
            "valign": "vcenter",
        }
    )

    ws = book.add_worksheet(OVERVIEW_SHEET[lang])
    ws.hide_gridlines(2)
    ws.merge_range(0, 0, 0, 3, pack.title, title_f)
    ws.set_row(0, 26)
    row = 2
    if d.synthetic_data:
        ws.merge_range(
            row,
            0,
            row,
            3,
            "合成数据：本工作簿的企业数据为模拟数据，仅供演示和测试，不得作为决策依据。"
            if zh
            else "SYNTHETIC DATA: the enterprise data are simulated, for demonstration and "
            "testing only; they must not inform decisions.",
            synth_f,
        )
        ws.set_row(row, 36)
        row += 2
    counts = d.status_counts
    facts: list[tuple[str, Any, Format]] = [
        ("地区" if zh else "Region", d.region.full_name, text_f),
        ("行政区划代码" if zh else "Region code", d.region.code, text_f),
        (
            "产业链" if zh else "Chain",
            f"{pack.chain_name}（{pack.chain.id}）"
            if zh
            else f"{pack.chain_name} ({pack.chain.id})",
            text_f,
        ),
        ("本地企业数" if zh else "Local firms", d.firm_count, int_f),
        ("产业链完整度" if zh else "Completeness", d.completeness, pct_f),
        *[
            (STATUS_NAMES[s][0 if zh else 1], counts.get(s, 0), plain_int_f)
            for s in (*STATUS_ORDER, "break")
        ],
        ("目标企业数" if zh else "Target firms", pack.target_count, int_f),
        (
            "生成时间" if zh else "Generated at",
            pack.generated_at.strftime("%Y-%m-%d %H:%M"),
            text_f,
        ),
        ("生成工具" if zh else "Generated by", f"chainatlas {__version__}", text_f),
    ]
    for key, value, fmt in facts:
        ws.write(row, 0, key, key_f)
        ws.write(row, 1, value, fmt)
        row += 1
    row += 1
    ws.write(row, 0, "清单" if zh else "Lists", section_f)
    row += 1
    for col, h in enumerate(("工作表", "行数", "说明") if zh else ("Sheet", "Rows", "About")):
        ws.write(row, col, h, header)
    list_rows_at = row + 1
    row += 1 + len(pack.lists)
    if map_files:
        row += 1
        ws.write(row, 0, "图" if zh else "Maps", section_f)
        row += 1
        for col, h in enumerate(("图", "文件") if zh else ("Map", "Files")):
            ws.write(row, col, h, header)
        row += 1
        for spec_map, name in zip(pack.maps, map_files, strict=False):
            ws.write(row, 0, spec_map.spec.name(lang), key_f)
            ws.write(row, 1, name, text_f)
            row += 1
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 44)
    ws.set_column(2, 2, 80)

    pending: list[tuple[str, ...]] = []
    for i, item in enumerate(pack.lists):
        n = _write_list(book, item, lang, base, header, pending)
        r = list_rows_at + i
        ws.write(r, 0, item.spec.name(lang), key_f)
        ws.write(r, 1, n, plain_int_f)
        note = item.spec.note(lang)
        if item.spec.template and not item.frame.height:
            note = ("模板：" if zh else "template: ") + note
        ws.write(r, 2, note, text_f)
    if pending:
        choices = book.add_worksheet(CHOICES_SHEET[lang])
        for col, options in enumerate(pending):
            for i, option in enumerate(options):
                choices.write_string(i, col, option)
        choices.hide()
    book.close()
    return path
