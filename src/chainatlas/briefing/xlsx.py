"""The diagnosis as an xlsx workbook (XlsxWriter): 概览 · 环节 · 链主候选 · 说明.

Sheet 环节 carries the node table with a fill by status (conditional formats, so the
colours follow the rows when the user sorts or filters), number formats, a frozen header
and an autofilter. Column widths count a CJK character as two Excel width units.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from chainatlas import __version__
from chainatlas.briefing.chain_map import BREAK_COLOUR, STATUS_ORDER, STATUS_STYLES
from chainatlas.briefing.html import (
    COMPONENT_KEYS,
    LABELS,
    LEVEL_NAMES,
    action_name,
    component_name,
    definitions,
    evidence_text,
    fmt_pct,
    fmt_threshold,
    has_network,
    label,
    lead_weights,
    ordered_nodes,
    quadrant_name,
    region_short_name,
    sourcing_text,
    spof_rows,
    stage_name,
    status_name,
)
from chainatlas.diagnose.model import Diagnosis, FirmNetwork

SHEETS: dict[str, tuple[str, str, str, str]] = {
    "zh": ("概览", "环节", "链主候选", "说明"),
    "en": ("Overview", "Nodes", "Lead firms", "Notes"),
}
# before 说明, when the diagnosis was made with the supply network
SPOF_SHEET = {"zh": "单点依赖", "en": "Single points of failure"}
MAX_WIDTH = 60.0


def display_width(value: object) -> float:
    """Width in Excel character units: East Asian wide characters count 2."""
    text = "" if value is None else str(value)
    return float(sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text))


class _Widths:
    def __init__(self) -> None:
        self.cols: dict[int, float] = {}

    def see(self, col: int, value: object, extra: float = 0.0) -> None:
        self.cols[col] = max(self.cols.get(col, 0.0), display_width(value) + extra)

    def apply(self, ws: Worksheet, minimum: float = 6.0) -> None:
        for col, width in sorted(self.cols.items()):
            ws.set_column(col, col, min(MAX_WIDTH, max(minimum, width + 2.5)))


def _write(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write(row, col, value, fmt)


def diagnosis_xlsx(
    diagnosis: Diagnosis,
    path: str | Path,
    lang: str = "zh",
    *,
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write the workbook to `path` and return it. `lang` switches sheet names and labels."""
    if lang not in SHEETS:
        raise ValueError(f"lang must be one of {tuple(SHEETS)}, not {lang!r}")
    path = Path(path)
    zh = lang == "zh"
    li = 0 if zh else 1
    when = (generated_at or dt.datetime.now()).replace(microsecond=0)
    names = {n.id: (n.name_zh if zh else n.name_en) for n in diagnosis.nodes}
    chain_name = diagnosis.chain.name_zh if zh else diagnosis.chain.name_en

    def L(key: str) -> str:
        return label(key, lang)

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties(
        {
            "title": f"{diagnosis.region.full_name}·{chain_name}{LABELS['title_suffix'][li]}",
            "author": "chainatlas",
            "comments": f"chainatlas {__version__}, {diagnosis.schema_id}",
            "created": when,
        }
    )
    base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "vcenter"}

    def fmt(**kw: Any) -> Format:
        return wb.add_format({**base, **kw})

    title_f = fmt(bold=True, font_size=15, font_color="#0F2A4A")
    synth_f = fmt(
        bold=True,
        font_color="#9A3412",
        bg_color="#FFE9CC",
        border=2,
        border_color="#C2410C",
        text_wrap=True,
    )
    head_f = fmt(
        bold=True,
        bg_color="#EAF0F7",
        font_color="#23384F",
        bottom=2,
        bottom_color="#B9C8D9",
        text_wrap=True,
    )
    section_f = fmt(bold=True, font_size=12, font_color="#0F2A4A")
    key_f = fmt(bold=True, font_color="#334155")
    text_f = fmt()
    wrap_f = fmt(text_wrap=True, valign="top")
    int_f = fmt(num_format="#,##0")
    money_f = fmt(num_format="#,##0.0")
    pct_f = fmt(num_format="0.00%")
    lq_f = fmt(num_format="0.00")
    score_f = fmt(num_format="0.000")
    sheet_names = SHEETS[lang]
    network = has_network(diagnosis)

    # ------------------------------------------------------------------ 概览
    ws = wb.add_worksheet(sheet_names[0])
    ws.hide_gridlines(2)
    title = (
        f"{diagnosis.region.full_name}·{chain_name}{LABELS['title_suffix'][0]}"
        if zh
        else f"{chain_name} {LABELS['title_suffix'][1]} — {diagnosis.region.full_name}"
    )
    ws.merge_range(0, 0, 0, 2, title, title_f)
    ws.set_row(0, 26)
    row = 2
    sep = "：" if zh else ": "
    synthetic_note = f"{L('synthetic_title')}{sep}{L('synthetic_text')}"
    if diagnosis.synthetic_data:
        row = _synthetic_banner(ws, row, 2, synthetic_note, synth_f)
    ws.write(row, 0, L("item"), head_f)
    ws.write(row, 1, L("value"), head_f)
    row += 1
    counts = diagnosis.status_counts
    level = LEVEL_NAMES.get(diagnosis.region.level, (diagnosis.region.level,) * 2)[li]
    kv: list[tuple[str, Any, Format]] = [
        (L("region"), diagnosis.region.full_name, text_f),
        (L("region_code"), diagnosis.region.code, text_f),
        (L("level"), level, text_f),
        (
            L("chain"),
            f"{chain_name}（{diagnosis.chain.id}）"
            if zh
            else f"{chain_name} ({diagnosis.chain.id})",
            text_f,
        ),
        (L("local_firms"), diagnosis.firm_count, int_f),
        (L("national_firms"), diagnosis.national_firm_count, int_f),
        (L("completeness"), diagnosis.completeness, pct_f),
        (L("node_count"), len(diagnosis.nodes), int_f),
        *[(status_name(s, lang), counts.get(s, 0), int_f) for s in STATUS_ORDER],
        (
            status_name("break", lang),
            counts.get("break", sum(n.is_break for n in diagnosis.nodes)),
            int_f,
        ),
        *([(L("sourcing"), sourcing_text(diagnosis.sourcing, lang), text_f)] if network else []),
        (L("data"), L("synthetic_short") if diagnosis.synthetic_data else L("real_data"), text_f),
        (L("schema"), diagnosis.schema_id, text_f),
        (L("printed_at"), when.strftime("%Y-%m-%d %H:%M"), text_f),
    ]
    for key, value, f in kv:
        ws.write(row, 0, key, key_f)
        ws.write(row, 1, value, f)
        row += 1
    row += 1
    ws.write(row, 0, L("actions"), section_f)
    row += 1
    for col, key in enumerate(("action_kind", "action_nodes", "action_reason")):
        ws.write(row, col, L(key), head_f)
    row += 1
    if not diagnosis.actions:
        ws.write(row, 0, L("no_actions"), text_f)
    for a in diagnosis.actions:
        ws.write(row, 0, action_name(a.kind, lang), key_f)
        ws.write(row, 1, ("、" if zh else ", ").join(names.get(i, i) for i in a.node_ids), wrap_f)
        ws.write(row, 2, a.reason_zh if zh else a.reason_en, wrap_f)
        row += 1
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 44)
    ws.set_column(2, 2, 80)

    # ------------------------------------------------------------------ 环节
    ws = wb.add_worksheet(sheet_names[1])
    has_revenue = any(n.revenue is not None for n in diagnosis.nodes)
    columns: list[tuple[str, str, Format | None]] = [
        ("node_id", L("node_id"), text_f),
        ("name", L("node"), text_f),
        ("stage", L("stage"), text_f),
        ("firm_count", L("firm_count"), int_f),
        ("national_firm_count", L("national_firm_count"), int_f),
        ("national_share", L("national_share"), pct_f),
        ("capital", L("capital"), money_f),
        *([("revenue", L("revenue"), money_f)] if has_revenue else []),
        ("lq", L("lq"), lq_f),
        ("lq_capital", L("lq_capital"), lq_f),
        *([("lq_revenue", L("lq_revenue"), lq_f)] if has_revenue else []),
        ("status", L("status"), text_f),
        ("break", L("break"), text_f),
        *([("quadrant", L("quadrant"), text_f)] if diagnosis.trend_years else []),
        *(
            [("sourcing", L("node_sourcing"), pct_f), ("evidence", L("break_evidence"), text_f)]
            if network
            else []
        ),
        ("weight", L("weight"), lq_f),
        ("suppliers", L("suppliers"), text_f),
        ("customers", L("customers"), text_f),
    ]
    widths = _Widths()
    for col, (_, header, _) in enumerate(columns):
        ws.write(0, col, header, head_f)
        widths.see(col, header)
    ws.set_row(0, 30)
    sep = "、" if zh else ", "
    yes, no = ("是", "否") if zh else ("yes", "no")
    nodes = ordered_nodes(diagnosis)
    for r, n in enumerate(nodes, start=1):
        values: dict[str, Any] = {
            "node_id": n.id,
            "name": names[n.id],
            "stage": stage_name(n.stage, lang),
            "firm_count": n.firm_count,
            "national_firm_count": n.national_firm_count,
            "national_share": n.national_share,
            "capital": n.capital,
            "revenue": n.revenue,
            "lq": n.lq,
            "lq_capital": n.lq_capital,
            "lq_revenue": n.lq_revenue,
            "status": status_name(n.status, lang),
            "break": yes if n.is_break else no,
            "quadrant": quadrant_name(n.quadrant, lang),
            "sourcing": n.sourcing.local_sourcing_rate if n.sourcing else None,
            "evidence": evidence_text(n.break_evidence, lang),
            "weight": n.weight,
            "suppliers": sep.join(names.get(i, i) for i in n.suppliers),
            "customers": sep.join(names.get(i, i) for i in n.customers),
        }
        for col, (key, _, f) in enumerate(columns):
            _write(ws, r, col, values[key], f)
            if isinstance(values[key], str):
                widths.see(col, values[key])
            elif values[key] is not None:
                widths.see(col, f"{values[key]:,.2f}")
    last_row, last_col = len(nodes), len(columns) - 1
    keys = [c[0] for c in columns]
    status_col = xl_col_to_name(keys.index("status"))
    break_col = xl_col_to_name(keys.index("break"))
    if last_row:
        for s in STATUS_ORDER:
            st = STATUS_STYLES[s]
            ws.conditional_format(
                1,
                0,
                last_row,
                last_col,
                {
                    "type": "formula",
                    "criteria": f'=${status_col}2="{status_name(s, lang)}"',
                    "format": wb.add_format(
                        {"bg_color": st.fill.upper(), "font_color": st.text.upper()}
                    ),
                },
            )
        ws.conditional_format(
            1,
            keys.index("break"),
            last_row,
            keys.index("break"),
            {
                "type": "formula",
                "criteria": f'=${break_col}2="{yes}"',
                "format": wb.add_format(
                    {"bold": True, "font_color": "#FFFFFF", "bg_color": BREAK_COLOUR.upper()}
                ),
            },
        )
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(last_row, 1), last_col)
    widths.see(0, "", 0)
    for col in (keys.index("suppliers"), keys.index("customers")):
        widths.cols[col] = min(widths.cols.get(col, 10.0), 40.0)
    widths.apply(ws)

    # ------------------------------------------------------------------ 链主候选
    ws = wb.add_worksheet(sheet_names[2])
    weights = lead_weights(diagnosis)
    components = [k for k in COMPONENT_KEYS if k in weights] + [
        k for k in weights if k not in COMPONENT_KEYS
    ]
    w_label = "权重" if zh else "weight"
    headers = [
        L("node_id"),
        L("node"),
        "#",
        L("firm_name"),
        L("uscc"),
        L("location"),
        L("region_code"),
        L("capital"),
        L("revenue"),
        L("tags"),
        L("national_rank"),
        L("local_partners"),
        *([L("suppliers_in_out"), L("customers_in_out")] if network else []),
        L("lead_score"),
        *[
            f"{component_name(k, lang)}（{w_label}{fmt_threshold(weights[k])}）"
            if zh
            else f"{component_name(k, lang)} ({w_label} {fmt_threshold(weights[k])})"
            for k in components
        ],
    ]
    widths = _Widths()
    for col, h in enumerate(headers):
        ws.write(0, col, h, head_f)
        widths.see(col, h)
    ws.set_row(0, 30)
    r = 0
    for n in nodes:
        for i, f in enumerate(n.lead_firms, start=1):
            r += 1
            row_values: list[tuple[Any, Format | None]] = [
                (n.id, text_f),
                (names[n.id], text_f),
                (i, int_f),
                (f.name, text_f),
                (f.uscc, text_f),
                (region_short_name(f.region_code), text_f),
                (f.region_code, text_f),
                (f.registered_capital, money_f),
                (f.revenue, money_f),
                (sep.join(f.tags), text_f),
                (f.national_rank, int_f),
                (f.local_partners, int_f),
                *(
                    [
                        (_in_out(f.network, "suppliers"), text_f),
                        (_in_out(f.network, "customers"), text_f),
                    ]
                    if network
                    else []
                ),
                (f.lead_score, score_f),
                *[(f.components.get(k), score_f) for k in components],
            ]
            for col, (value, fm) in enumerate(row_values):
                _write(ws, r, col, value, fm)
                widths.see(
                    col,
                    value if isinstance(value, str) else "" if value is None else f"{value:,.3f}",
                )
    if r == 0:
        ws.write(1, 0, L("no_lead_firms"), text_f)
    ws.freeze_panes(1, 4)
    ws.autofilter(0, 0, max(r, 1), len(headers) - 1)
    widths.apply(ws)

    # ------------------------------------------------------------------ 单点依赖
    if network:
        ws = wb.add_worksheet(SPOF_SHEET[lang])
        share = fmt_pct(diagnosis.thresholds.get("spof_share", 0.5), 0)
        ws.write(0, 0, L("spof_intro").format(share=share), text_f)
        spof_headers = [L(k) for k in ("node", "spof_kind", "spof_who", "spof_share", "spof_links")]
        widths = _Widths()
        for col, h in enumerate(spof_headers):
            ws.write(1, col, h, head_f)
            widths.see(col, h)
        rows = spof_rows(diagnosis, lang)
        for r, item in enumerate(rows, start=2):
            cells = [
                (item["node"], text_f),
                (item["kind"], text_f),
                (item["who"], text_f),
                (item["share"], pct_f),
                (item["links"], int_f),
            ]
            for col, (value, fm) in enumerate(cells):
                _write(ws, r, col, value, fm)
                widths.see(col, value if isinstance(value, str) else f"{value:,.2f}")
        if not rows:
            ws.write(2, 0, L("no_spof"), text_f)
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, max(len(rows), 1) + 1, len(spof_headers) - 1)
        widths.apply(ws)

    # ------------------------------------------------------------------ 说明
    ws = wb.add_worksheet(sheet_names[3])
    ws.hide_gridlines(2)
    ws.write(0, 0, L("definitions"), title_f)
    row = 2
    if diagnosis.synthetic_data:
        row = _synthetic_banner(ws, row, 1, synthetic_note, synth_f)
    for term, text in definitions(diagnosis, lang):
        ws.write(row, 0, term, key_f)
        ws.write(row, 1, text, wrap_f)
        ws.set_row(row, 15 * max(1, int(display_width(text) / 105) + 1))
        row += 1
    row += 1
    thresholds = ", ".join(f"{k}={fmt_threshold(v)}" for k, v in diagnosis.thresholds.items())
    for term, text in (
        (L("thresholds"), thresholds),
        (L("schema"), diagnosis.schema_id),
        (L("generated"), LABELS["generated_by"][li].format(version=__version__)),
        (L("printed_at"), when.strftime("%Y-%m-%d %H:%M")),
    ):
        ws.write(row, 0, term, key_f)
        ws.write(row, 1, text, wrap_f)
        row += 1
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 110)
    wb.close()
    return path


def _in_out(network: FirmNetwork | None, who: str) -> str | None:
    """「12 / 30」: a lead firm's suppliers (or customers) inside and outside the region."""
    if network is None:
        return None
    return f"{getattr(network, who + '_inside'):,} / {getattr(network, who + '_outside'):,}"


def _synthetic_banner(ws: Any, row: int, last_col: int, text: str, fmt: Any) -> int:
    """The synthetic-data warning across the sheet's first columns; returns the next row."""
    ws.merge_range(row, 0, row, last_col, text, fmt)
    ws.set_row(row, 36)
    return row + 2
