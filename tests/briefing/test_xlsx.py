"""Diagnosis workbook: sheets, node rows, status cells, formats, and the synthetic note."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from chainatlas.briefing import diagnosis_xlsx
from chainatlas.diagnose import Diagnosis

WHEN = dt.datetime(2025, 6, 1, 9, 30)


@pytest.fixture()
def workbook(tmp_path: Path, diagnosis: Diagnosis) -> openpyxl.Workbook:
    path = diagnosis_xlsx(diagnosis, tmp_path / "diagnosis.xlsx", generated_at=WHEN)
    return openpyxl.load_workbook(path)


def test_sheets_and_synthetic_note(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == ["概览", "环节", "链主候选", "说明"]
    overview = workbook["概览"]
    assert overview["A1"].value == "广西壮族自治区梧州市·甘蔗制糖产业链诊断"
    assert str(overview["A3"].value).startswith("合成数据 / SYNTHETIC DATA")
    values = {
        row[0]: row[1]
        for row in overview.iter_rows(min_col=1, max_col=2, values_only=True)
        if row[0]
    }
    assert values["本地企业数"] > 0 and values["断链"] == 2
    assert "补链" in values and "延链" in values  # action rows


def test_node_sheet(workbook: openpyxl.Workbook, diagnosis: Diagnosis) -> None:
    ws = workbook["环节"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["环节代码", "环节", "阶段"]
    assert ws.max_row == len(diagnosis.nodes) + 1
    rows = {
        r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert set(rows) == {n.id for n in diagnosis.nodes}
    status = {"missing": "缺链", "weak": "弱链", "present": "一般", "strong": "强链"}
    for n in diagnosis.nodes:
        assert rows[n.id]["状态"] == status[n.status]
        assert rows[n.id]["断链"] == ("是" if n.is_break else "否")
        assert rows[n.id]["企业数"] == n.firm_count
    assert rows["sugar_trade_logistics"]["状态"] == "弱链"
    assert rows["cane_machinery"]["状态"] == "缺链"
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
    share = ws.cell(2, header.index("全国占比") + 1)
    assert share.number_format == "0.00%"
    assert ws.cell(2, header.index("区位熵(户数)") + 1).number_format == "0.00"
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert any('"弱链"' in f for r in rules for f in r.formula)
    assert ws.column_dimensions["B"].width >= 2 * len("蔗区农资（肥料、农药、地膜）")


def test_lead_firm_sheet(workbook: openpyxl.Workbook, diagnosis: Diagnosis) -> None:
    ws = workbook["链主候选"]
    header = [c.value for c in ws[1]]
    assert "综合得分" in header and "规模（权重0.45）" in header
    total = sum(len(n.lead_firms) for n in diagnosis.nodes)
    assert ws.max_row == total + 1
    first = next(n for n in diagnosis.nodes if n.lead_firms).lead_firms[0]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[4] == first.uscc)
    assert row[header.index("综合得分")] == pytest.approx(first.lead_score)
    assert row[header.index("规模（权重0.45）")] == pytest.approx(first.components["size"])


def test_definitions_and_english(
    tmp_path: Path, diagnosis: Diagnosis, real_data_diagnosis: Diagnosis
) -> None:
    wb = openpyxl.load_workbook(diagnosis_xlsx(diagnosis, tmp_path / "d.xlsx", generated_at=WHEN))
    terms = [r[0] for r in wb["说明"].iter_rows(values_only=True) if r[0]]
    assert {"区位熵 LQ", "缺链", "强链", "弱链", "断链", "产业链完整度"} <= set(terms)
    en = openpyxl.load_workbook(diagnosis_xlsx(real_data_diagnosis, tmp_path / "en.xlsx", "en"))
    assert en.sheetnames == ["Overview", "Nodes", "Lead firms", "Notes"]
    assert "SYNTHETIC" not in str(en["Overview"]["A3"].value)
