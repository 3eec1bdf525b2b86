"""Briefings (N图N清单): chain-map SVG, diagnosis HTML page, xlsx workbook, terminal table."""

from chainatlas.briefing.chain_map import chain_map_svg
from chainatlas.briefing.html import diagnosis_html
from chainatlas.briefing.table import diagnosis_table, render_text
from chainatlas.briefing.xlsx import diagnosis_xlsx

__all__ = ["chain_map_svg", "diagnosis_html", "diagnosis_table", "diagnosis_xlsx", "render_text"]
