"""The pack: selection, list frames, the workbook re-read cell by cell, and (browser) the PDF
report and PNG maps rendered by headless Chromium."""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import subprocess
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from tests.briefing.conftest import LOCAL_PLAN

from chainatlas.atlas import Chain
from chainatlas.briefing import pack as P
from chainatlas.briefing.pack_xlsx import pack_xlsx
from chainatlas.briefing.xlsx import display_width
from chainatlas.diagnose import Diagnosis
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_full_name

WHEN = dt.datetime(2025, 6, 1, 9, 30)
COUNTIES = pl.DataFrame({"region_code": ["450403", "450481", "450102"], "firm_count": [30, 10, 5]})


def targets() -> pl.DataFrame:
    """Three targets; X2 scores best, X1 and X3 tie and are ordered by uscc."""
    return pl.DataFrame(
        {
            "uscc": ["X1", "X2", "X3"],
            "name": ["广州甲糖机有限公司", "昆明乙酒精有限公司", "北京丙农机有限公司"],
            "node_id": ["cane_machinery", "molasses_ethanol", "cane_machinery"],
            "region_code": ["440106", "530102", "110105"],
            "province_code": ["440000", "530000", "110000"],
            "city_code": ["440100", "530100", "110100"],
            "score": [0.8, 0.9, 0.8],
            "reason_zh": ["本地链主的二级供应商", "专精特新小巨人", "近3年新设2家分支"],
            "reason_en": ["supplier of a local lead firm", "SRDI little giant", "2 new branches"],
            "registered_capital": [1234.5, 20000.0, None],
        }
    )


# ---------------------------------------------------------------- selection and lists


def test_cn_number() -> None:
    assert [P.cn_number(n) for n in (1, 2, 5, 10, 11, 20, 23)] == [
        "一",
        "二",
        "五",
        "十",
        "十一",
        "二十",
        "二十三",
    ]
    assert P.cn_number(2, two="两") == "两"


def test_selection_errors_name_the_choices() -> None:
    with pytest.raises(UserError) as err:
        P.check_selection(["panorama", "heatmap"], ["targets"])
    assert "heatmap" in err.value.message_zh and "investment_route" in err.value.message_en
    with pytest.raises(UserError, match="budget"):
        P.check_selection(["panorama"], ["budget"])
    with pytest.raises(UserError):
        P.check_selection([], [])
    with pytest.raises(UserError, match="score"):
        P.check_targets(targets().drop("score"))


def test_target_list_hand_worked(sugarcane: Chain) -> None:
    frame = P.target_list(targets(), sugarcane)
    assert frame.columns == [c.id for c in P.TARGET_COLUMNS]
    assert frame["rank"].to_list() == [1, 2, 3]
    assert frame["uscc"].to_list() == ["X2", "X1", "X3"]
    assert frame["node"].to_list() == ["糖蜜酒精与燃料乙醇", "甘蔗农机", "甘蔗农机"]
    assert frame["location"].to_list() == [
        "云南省昆明市五华区",
        "广东省广州市天河区",
        "北京市朝阳区",
    ]
    assert frame["registered_capital"].to_list() == [20000.0, 1234.5, None]
    assert frame["reason"].to_list()[0] == "专精特新小巨人"
    en = P.target_list(targets(), sugarcane, "en")
    assert en["node"].to_list()[0] == "Molasses ethanol and fuel ethanol"
    assert en["reason"].to_list()[0] == "SRDI little giant"
    empty = P.target_list(None, sugarcane)
    assert empty.height == 0 and empty.columns == frame.columns


def test_full_names_agree_with_the_reference() -> None:
    codes = ["440106", "110105", "450400", "469001", "450000", "310115"]
    assert P.full_names(codes) == {c: region_full_name(c) for c in codes}


def test_problem_list(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    frame = P.problem_list(diagnosis, sugarcane)
    gaps = [n for n in diagnosis.nodes if n.is_break or n.status in ("missing", "weak")]
    assert frame.height == len(gaps) + len(diagnosis.single_points_of_failure)
    assert frame["rank"].to_list() == list(range(1, frame.height + 1))
    kinds = frame["kind"].to_list()
    n_break = sum(n.is_break for n in diagnosis.nodes)
    assert kinds[:n_break] == ["断链"] * n_break  # breaks first
    first_missing = kinds.index("缺链")
    assert all(k == "弱链" for k in kinds[first_missing:] if k != "缺链")
    milling = frame.row(by_predicate=pl.col("node_id") == "raw_sugar_milling", named=True)
    assert milling["status"] == "弱链" and milling["actions"] == "补链"
    # the firms planned on milling; refineries whose scopes mention 原糖回溶 stay on refining
    assert milling["firm_count"] == LOCAL_PLAN["raw_sugar_milling"]
    assert "上游「糖料蔗种植" in milling["known"] and "链条在此断开" in milling["known"]
    machinery = frame.row(by_predicate=pl.col("node_id") == "cane_machinery", named=True)
    assert machinery["known"] == "本地无该环节企业；全国40家"
    assert machinery["actions"] == "延链"


def test_problem_list_with_supply_evidence(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    from chainatlas.diagnose.model import BreakEvidence, SinglePointOfFailure, Sourcing

    sourcing = Sourcing(
        links=20,
        amount_links=20,
        amount=100.0,
        local_links=2,
        local_amount=10.0,
        basis="amount",
        local_sourcing_rate=0.1,
    )
    evidence = BreakEvidence(
        verdict="confirmed", local_sourcing_rate=0.1, basis="amount", links=20, threshold=0.5
    )
    nodes = [
        n.model_copy(update={"break_evidence": evidence, "input_sourcing": sourcing})
        if n.id == "raw_sugar_milling"
        else n
        for n in diagnosis.nodes
    ]
    spof = SinglePointOfFailure(
        node_id="refined_sugar",
        kind="supplier",
        code="S00000000000000001",
        name="某糖业公司",
        share=0.75,
        basis="amount",
        links=8,
    )
    d = diagnosis.model_copy(update={"nodes": nodes, "single_points_of_failure": [spof]})
    frame = P.problem_list(d, sugarcane)
    milling = frame.row(by_predicate=pl.col("node_id") == "raw_sugar_milling", named=True)
    assert milling["local_sourcing_rate"] == 0.1
    local = LOCAL_PLAN["raw_sugar_milling"]
    assert (
        f"；供应关系印证断链：本地采购该环节产品20笔，本地配套率10%；本地{local}家"
        in milling["known"]
    )
    last = frame.row(frame.height - 1, named=True)
    assert last["kind"] == "单一来源依赖" and last["node"] == "精制糖"
    assert last["known"] == "本地采购该环节产品8笔，75%来自供应商某糖业公司"
    assert last["status"] == "一般" and last["firm_count"] == 12
    en = P.problem_list(d, sugarcane, "en")
    assert en.row(en.height - 1, named=True)["kind"] == "single point of failure"


def test_assemble_pack(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    pack = P.assemble_pack(
        sugarcane,
        diagnosis,
        COUNTIES,
        targets(),
        maps=["technology", "panorama"],
        lists=["problems", "targets"],
        generated_at=WHEN,
    )
    assert [m.spec.id for m in pack.maps] == ["technology", "panorama"]
    assert [x.spec.id for x in pack.lists] == ["problems", "targets"]
    assert pack.title == "广西壮族自治区梧州市·甘蔗制糖产业链两图两清单"
    assert pack.target_count == 3
    assert pack.data_note == "合成数据，仅供演示"
    for m in pack.maps:
        assert 'class="heading"' in m.svg and 'class="heading"' not in m.body
        assert "合成数据，仅供演示" in m.svg
    full = P.assemble_pack(sugarcane, diagnosis, COUNTIES, None, generated_at=WHEN)
    assert full.title == "广西壮族自治区梧州市·甘蔗制糖产业链五图两清单"
    assert [m.spec.id for m in full.maps] == list(P.MAP_IDS)
    assert [x.spec.id for x in full.lists] == ["targets", "projects"]
    assert full.lists[0].frame.height == 0
    assert "暂无目标企业" in full.maps[-1].svg
    with pytest.raises(ValueError, match="lang"):
        P.assemble_pack(sugarcane, diagnosis, COUNTIES, lang="fr")


# ---------------------------------------------------------------- workbook


@pytest.fixture()
def full_pack(sugarcane: Chain, diagnosis: Diagnosis) -> P.Pack:
    return P.assemble_pack(
        sugarcane,
        diagnosis,
        COUNTIES,
        targets(),
        lists=list(P.LIST_IDS),
        generated_at=WHEN,
    )


def headers(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[object]:
    return [c.value for c in ws[1]]


def test_workbook_sheets_and_overview(tmp_path: Path, full_pack: P.Pack) -> None:
    path = pack_xlsx(full_pack, tmp_path / "lists.xlsx", map_files=["a.svg / .png"])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["概览", "目标企业清单", "招商项目清单", "问题清单", "政策清单"]
    ov = book["概览"]
    assert ov["A1"].value == "广西壮族自治区梧州市·甘蔗制糖产业链五图四清单"
    assert str(ov["A3"].value).startswith("合成数据")
    facts = {
        r[0]: (r[1], fmt)
        for r, fmt in (
            ((row[0].value, row[1].value), row[1].number_format)
            for row in ov.iter_rows(min_col=1, max_col=2)
        )
        if r[0]
    }
    d = full_pack.diagnosis
    assert facts["地区"][0] == "广西壮族自治区梧州市"
    assert facts["本地企业数"] == (d.firm_count, '#,##0"家"')
    assert facts["产业链完整度"] == (d.completeness, "0.0%")
    assert facts["断链"][0] == d.status_counts["break"]
    assert facts["目标企业数"][0] == 3
    assert facts["目标企业清单"][0] == 3  # lists table: sheet, rows
    assert facts["问题清单"][0] == P.problem_list(d, full_pack.chain).height
    assert facts["招商项目清单"][0] == 0
    assert facts["产业链全景图"][0] == "a.svg / .png"


def test_target_sheet_cell_by_cell(tmp_path: Path, full_pack: P.Pack) -> None:
    book = openpyxl.load_workbook(pack_xlsx(full_pack, tmp_path / "lists.xlsx"))
    ws = book["目标企业清单"]
    assert headers(ws) == [c.zh for c in P.TARGET_COLUMNS]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:J4"
    frame = full_pack.lists[0].frame
    for r, row in enumerate(frame.iter_rows(), start=2):
        for c, (value, column) in enumerate(zip(row, P.TARGET_COLUMNS, strict=True), start=1):
            cell = ws.cell(r, c)
            assert cell.value == value, (r, column.id)
    money = ws.cell(2, 8)
    assert money.value == 20000.0 and money.number_format == '#,##0.00"万元"'
    assert ws.cell(2, 9).number_format == "0.000"
    assert ws.cell(4, 8).value is None  # no capital reported
    assert ws.max_row == 4
    for col, column in enumerate(P.TARGET_COLUMNS, start=1):
        letter = openpyxl.utils.get_column_letter(col)
        width = ws.column_dimensions[letter].width
        if column.width is not None:
            assert width == pytest.approx(column.width, abs=0.72)  # Excel's padding
        else:
            assert width >= display_width(column.zh)
            longest = max(display_width(v) for v in frame[column.id].to_list() if v is not None)
            if column.kind == "text":
                assert width >= min(longest, 60)


def test_template_and_problem_sheets(tmp_path: Path, full_pack: P.Pack) -> None:
    book = openpyxl.load_workbook(pack_xlsx(full_pack, tmp_path / "lists.xlsx"))
    ws = book["招商项目清单"]
    assert headers(ws) == [c.zh for c in P.PROJECT_COLUMNS]
    assert ws.max_row == 1 and ws.freeze_panes == "A2"
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    stage = rules["G2:G501"]
    assert stage.type == "list"
    assert stage.formula1 == '"' + ",".join(P.PROJECT_STAGES_ZH) + '"'
    node = rules["C2:C501"]
    assert node.formula1 == '"' + ",".join(n.name_zh for n in full_pack.chain.nodes) + '"'
    assert ws.column_dimensions["F"].width == pytest.approx(16, abs=0.72)
    policies = book["政策清单"]
    assert headers(policies) == [c.zh for c in P.POLICY_COLUMNS]
    problems = book["问题清单"]
    frame = full_pack.lists[2].frame
    assert headers(problems) == [c.zh for c in P.PROBLEM_COLUMNS]
    for r, row in enumerate(frame.iter_rows(), start=2):
        for c, value in enumerate(row, start=1):
            got = problems.cell(r, c).value
            assert got == (pytest.approx(value) if isinstance(value, float) else value)
    assert problems.cell(2, 7).number_format == '#,##0"家"'
    assert problems.cell(2, 9).number_format == "0.00"


def test_long_drop_down_lists_go_to_a_hidden_sheet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, full_pack: P.Pack
) -> None:
    import chainatlas.briefing.pack_xlsx as px

    monkeypatch.setattr(px, "INLINE_LIST_MAX", 20)
    book = openpyxl.load_workbook(pack_xlsx(full_pack, tmp_path / "lists.xlsx"))
    hidden = book["下拉选项"]
    assert hidden.sheet_state == "hidden"
    assert book.sheetnames[-1] == "下拉选项"
    rules = {str(dv.sqref): dv for dv in book["招商项目清单"].data_validations.dataValidation}
    column = [c.value for c in hidden["A"]]
    assert column == [n.name_zh for n in full_pack.chain.nodes]
    assert rules["C2:C501"].formula1 == f"'下拉选项'!$A$1:$A${len(column)}"


def test_workbook_in_english(tmp_path: Path, sugarcane: Chain, diagnosis: Diagnosis) -> None:
    pack = P.assemble_pack(sugarcane, diagnosis, COUNTIES, targets(), lang="en", generated_at=WHEN)
    book = openpyxl.load_workbook(pack_xlsx(pack, tmp_path / "lists.xlsx"))
    # the English node names are too long for an inline drop-down list
    assert book.sheetnames == ["Overview", "Target firms", "Investment projects", "choices"]
    assert book["choices"].sheet_state == "hidden"
    ws = book["Target firms"]
    assert headers(ws)[3] == "Enterprise"
    assert ws.cell(2, 8).number_format == "#,##0.00"
    assert ws.cell(2, 10).value == "SRDI little giant"


# ---------------------------------------------------------------- PDF and PNG (Chromium)

CHROMIUM = "/usr/bin/chromium"


def test_missing_chromium_is_a_user_error(tmp_path: Path) -> None:
    from chainatlas.briefing.pdf import find_chromium

    with pytest.raises(UserError) as err:
        find_chromium(tmp_path / "no-chromium")
    assert "apt-get install chromium" in err.value.message_zh
    assert "Chromium not found" in err.value.message_en


def test_report_html_has_every_heading(full_pack: P.Pack) -> None:
    from chainatlas.briefing.pdf import pack_html

    html = pack_html(full_pack, files=["x.pdf"])
    for heading in (
        "诊断摘要",
        "产业链全景图",
        "本地现状图",
        "企业分布图",
        "技术路线图",
        "招商路线图",
        "目标企业清单",
        "招商项目清单",
        "问题清单",
        "政策清单",
    ):
        assert heading in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "广州甲糖机有限公司" in html and "20,000.00" in html


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.browser
def test_pdf_and_png_in_chromium(tmp_path: Path, full_pack: P.Pack) -> None:
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    from chainatlas.briefing.pdf import Renderer, footer_template, pack_html

    pdf = tmp_path / "report.pdf"
    pngs = [tmp_path / f"map{i}.png" for i in range(len(full_pack.maps))]
    with Renderer(CHROMIUM) as r:
        r.png([(m.svg, p) for m, p in zip(full_pack.maps, pngs, strict=True)])
        r.pdf(pack_html(full_pack), pdf, footer=footer_template(full_pack))
    for m, p in zip(full_pack.maps, pngs, strict=True):
        head = m.svg[: m.svg.index(">")]
        w = float(head.split('width="')[1].split('"')[0])
        h = float(head.split('height="')[1].split('"')[0])
        assert w == int(w) and h == int(h)
        assert png_size(p) == (int(w) * 2, int(h) * 2)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/FontFile" in data or b"/CharProcs" in data  # glyphs are embedded
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    for heading in (
        "广西壮族自治区梧州市·甘蔗制糖产业链五图四清单",
        "诊断摘要",
        "图一",
        "产业链全景图",
        "本地现状图",
        "企业分布图",
        "技术路线图",
        "招商路线图",
        "清单一",
        "目标企业清单",
        "招商项目清单",
        "问题清单",
        "政策清单",
        "昆明乙酒精有限公司",
        "第 1 /",
    ):
        assert heading in text, heading
    pages = text.count("\f")
    assert pages >= 2 + len(full_pack.maps) + len(full_pack.lists)
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(pages), str(pdf)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    sizes = [
        line.split(":", 1)[1].split("pts")[0].split(" x ")
        for line in info.splitlines()
        if line.startswith("Page") and "size:" in line
    ]
    assert len(sizes) == pages
    for width, height in sizes:  # A4 landscape: 297 × 210 mm = 841.89 × 595.28 pt
        assert float(width) == pytest.approx(841.89, abs=1) and float(height) == pytest.approx(
            595.28, abs=1
        )
    if shutil.which("pdffonts"):
        fonts = subprocess.run(
            ["pdffonts", str(pdf)], capture_output=True, check=True, text=True
        ).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb column
