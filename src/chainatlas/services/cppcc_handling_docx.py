"""The report "上一次意见建议办理情况" as a Word document: the lines of
`cppcc.handling_report.render_text` laid out as the review-meeting minutes are
(`workflow.minutes`: A4, 宋体 body, 黑体 title), each suggestion's first line in bold."""

from __future__ import annotations

import io
import re
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from chainatlas.cppcc.handling_report import HandlingReport, render_text
from chainatlas.workflow.minutes import BODY_FONT_ZH, TITLE_FONT_ZH

_ITEM = re.compile(r"^\d+\. ")


def _font(run: Any, name: str, size: float | None = None, bold: bool = False) -> None:
    run.font.name = name
    # Word picks the East Asian font from w:eastAsia, not from w:ascii
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        run.font.size = Pt(size)
    run.font.bold = bold


def handling_report_docx(report: HandlingReport, lang: str = "zh") -> bytes:
    zh = lang != "en"
    body_font = BODY_FONT_ZH if zh else "Times New Roman"
    head_font = TITLE_FONT_ZH if zh else "Arial"
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = body_font
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), body_font)
    lines = render_text(report, lang).splitlines()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(lines[0]), head_font, 18, bold=True)
    for line in lines[1:]:
        para = document.add_paragraph()
        if line.startswith("   "):
            para.paragraph_format.left_indent = Pt(24)
        _font(para.add_run(line.strip()), body_font, bold=bool(_ITEM.match(line)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
