"""The supply network in every rendering of a diagnosis (terminal, HTML, XLSX), on the
hand-worked network warehouse of tests/engine/test_network_tables.py (梧州: 8 on-chain
purchases, 40 of 49 万元 local; node b bought 30/35 from 测试企业500)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from tests.engine.test_network_tables import build_network_warehouse

from chainatlas.atlas import Chain
from chainatlas.briefing.html import diagnosis_html
from chainatlas.briefing.table import render_text
from chainatlas.briefing.xlsx import diagnosis_xlsx
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.model import Diagnosis
from chainatlas.settings import StatusThresholds

LQ_ONLY = StatusThresholds(strong_lead_rank=0)


@pytest.fixture()
def networked(tmp_path: Path, toy_chain: Chain) -> Diagnosis:
    with build_network_warehouse(tmp_path / "net.duckdb", toy_chain) as wh:
        return diagnose(wh, toy_chain, "450400", LQ_ONLY)


@pytest.fixture()
def without_network(networked: Diagnosis) -> Diagnosis:
    """The same diagnosis as from a warehouse loaded before the network tables existed."""
    nodes = [
        n.model_copy(update={"sourcing": None, "input_sourcing": None, "break_evidence": None})
        for n in networked.nodes
    ]
    return networked.model_copy(
        update={
            "sourcing": None,
            "link_counts": None,
            "single_points_of_failure": [],
            "nodes": nodes,
        }
    )


def test_the_terminal_shows_sourcing_and_single_points(networked: Diagnosis) -> None:
    text = render_text(networked, width=160)
    assert "本地配套率 81.6%（8 笔链上采购，按金额）" in text
    assert "单点依赖" in text and "份额超过 50%" in text
    spof = [line for line in text.splitlines() if "测试企业500" in line]
    assert len(spof) == 1 and "供应商" in spof[0] and "86%" in spof[0]
    rates = [line for line in text.splitlines() if "│ 86%" in line or "  86% │" in line]
    assert rates, "node c's local purchases (30 of 35 万元)"
    english = render_text(networked, "en", width=160)
    assert "Local sourcing rate 81.6% (8 on-chain purchases, by amount)" in english
    assert "Single points of failure" in english and "Supplier" in english
    assert "本地配套率" not in english and "单点依赖" not in english


def test_no_network_no_network_sections(without_network: Diagnosis) -> None:
    text = render_text(without_network, width=160)
    assert "本地配套率" not in text and "单点依赖" not in text


def test_html_shows_sourcing_evidence_and_single_points(
    networked: Diagnosis, without_network: Diagnosis, toy_chain: Chain
) -> None:
    html = diagnosis_html(networked, toy_chain)
    assert 'id="kpi-sourcing"' in html and "81.6%" in html and "8 笔链上采购，按金额" in html
    assert "本地采购率" in html and "断链证据" in html
    spof = html.split('id="spof"', 1)[1].split("</section>", 1)[0]
    assert "测试企业500" in spof and "测试企业1" in spof and "86%" in spof and "67%" in spof
    english = diagnosis_html(networked, toy_chain, "en")
    assert "Single points of failure" in english and "Local sourcing rate" in english
    plain = diagnosis_html(without_network, toy_chain)
    assert 'id="spof"' not in plain and 'id="kpi-sourcing"' not in plain


def test_workbook_carries_the_network(
    networked: Diagnosis, without_network: Diagnosis, tmp_path: Path
) -> None:
    diagnosis_xlsx(networked, tmp_path / "d.xlsx")
    book = openpyxl.load_workbook(tmp_path / "d.xlsx")
    assert book.sheetnames == ["概览", "环节", "链主候选", "单点依赖", "说明"]
    overview = {r[0]: r[1] for r in book["概览"].iter_rows(values_only=True) if r[0]}
    assert overview["本地配套率"] == "81.6%（8 笔链上采购，按金额）"
    nodes = list(book["环节"].iter_rows(values_only=True))
    header = list(nodes[0])
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in nodes[1:]}
    assert by_id["c"]["本地采购率"] == pytest.approx(30 / 35, abs=1e-4)
    assert by_id["a"]["本地采购率"] is None  # buys nothing on the chain
    leads = list(book["链主候选"].iter_rows(values_only=True))
    t500 = dict(zip(leads[0], next(r for r in leads if r[3] == "测试企业500"), strict=True))
    assert t500["供应商 本地/外地"] == "3 / 1" and t500["客户 本地/外地"] == "3 / 0"
    spof = list(book["单点依赖"].iter_rows(min_row=2, values_only=True))
    assert spof[0] == ("环节", "类型", "依赖对象", "份额", "采购笔数")
    assert [(r[2], r[1], round(r[3], 4)) for r in spof[1:]] == [
        ("测试企业500", "供应商", round(30 / 35, 4)),
        ("测试企业1", "供应商", round(8 / 12, 4)),
    ]
    diagnosis_xlsx(without_network, tmp_path / "plain.xlsx")
    assert openpyxl.load_workbook(tmp_path / "plain.xlsx").sheetnames == [
        "概览",
        "环节",
        "链主候选",
        "说明",
    ]
