"""Diagnosis HTML page (and the terminal table): content, escaping, language, and a real
headless-Chromium rendering (marked `browser`)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest

from chainatlas.atlas import Chain
from chainatlas.briefing import diagnosis_html, diagnosis_table, render_text
from chainatlas.diagnose import Diagnosis

WHEN = dt.datetime(2025, 6, 1, 9, 30)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def test_title_banner_and_every_node(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    page = diagnosis_html(diagnosis, sugarcane, generated_at=WHEN)
    assert "<title>广西壮族自治区梧州市·甘蔗制糖产业链诊断</title>" in page
    assert page.count('id="synthetic-banner"') == 1
    assert "合成数据 / SYNTHETIC DATA" in page
    for n in sugarcane.nodes:
        assert n.name_zh in page
    assert page.count('class="node-row ') == len(diagnosis.nodes)
    kinds = {"build": "建链", "fill": "补链", "extend": "延链", "strengthen": "强链"}
    assert [a.kind for a in diagnosis.actions] == ["fill", "extend", "strengthen"]
    for a in diagnosis.actions:
        row = page[page.index(f'<tr class="action-{a.kind}">') :]
        row = row[: row.index("</tr>")]
        assert kinds[a.kind] in row and escape(a.reason_zh, quote=False) in row
    assert "区位熵(户数)" in page and "区位熵(资本)" in page and "全国占比" in page
    # lead firms with score components and weights
    firm = diagnosis.nodes[0].lead_firms[0]
    assert firm.name in page
    assert "权重 0.45" in page and "下游位置" in page
    assert "(x_rn / x_r) / (X_n / X)" in page  # LQ footnote
    assert "chainatlas.diagnosis/1" in page and "2025-06-01 09:30" in page


def test_break_and_status_cells(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    page = diagnosis_html(diagnosis, sugarcane, generated_at=WHEN)
    rows = re.findall(r'<tr class="node-row (\w+)[^"]*" data-node="(\w+)">(.*?)</tr>', page, re.S)
    assert len(rows) == len(diagnosis.nodes)
    by_id = {n.id: n for n in diagnosis.nodes}
    for status, node_id, body in rows:
        assert status == by_id[node_id].status
        assert ('class="brk"' in body) == by_id[node_id].is_break


def test_no_banner_for_real_data(sugarcane: Chain, real_data_diagnosis: Diagnosis) -> None:
    page = diagnosis_html(real_data_diagnosis, sugarcane, generated_at=WHEN)
    assert "synthetic-banner" not in page and "SYNTHETIC DATA" not in page
    assert "真实数据" in page


def test_self_contained_and_well_formed_svg(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    page = diagnosis_html(diagnosis, sugarcane, generated_at=WHEN)
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert set(re.findall(r"https?://[^\s\"')]+", page)) == {"http://www.w3.org/2000/svg"}
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)
    assert page == diagnosis_html(diagnosis, sugarcane, generated_at=WHEN)


def test_autoescape(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    nodes = list(diagnosis.nodes)
    firm = nodes[0].lead_firms[0].model_copy(update={"name": "<script>alert(1)</script>"})
    nodes[0] = nodes[0].model_copy(update={"lead_firms": [firm]})
    page = diagnosis_html(
        diagnosis.model_copy(update={"nodes": nodes}), sugarcane, generated_at=WHEN
    )
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_english(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    page = diagnosis_html(diagnosis, sugarcane, lang="en", generated_at=WHEN)
    assert '<html lang="en">' in page
    assert "Node diagnosis" in page and "Lead-firm candidates" in page
    assert "环节诊断" not in page and "链主候选企业" not in page
    for n in sugarcane.nodes:
        assert n.name_en in page
    assert "SYNTHETIC DATA / 合成数据" in page
    with pytest.raises(ValueError):
        diagnosis_html(diagnosis, sugarcane, lang="de")


def test_chain_mismatch_is_refused(diagnosis: Diagnosis, toy_chain: Chain) -> None:
    with pytest.raises(ValueError, match="sugarcane"):
        diagnosis_html(diagnosis, toy_chain)


# ---------------------------------------------------------------- terminal table


def test_terminal_table(diagnosis: Diagnosis) -> None:
    table = diagnosis_table(diagnosis)
    assert table.row_count == len(diagnosis.nodes)
    text = render_text(diagnosis, width=120)
    assert "合成数据 / SYNTHETIC DATA" in text
    for n in diagnosis.nodes:
        assert n.name_zh in text
    assert text.count("断链") >= 1 + sum(n.is_break for n in diagnosis.nodes)
    assert "\x1b[" not in text
    coloured = render_text(diagnosis, color=True)
    assert "\x1b[" in coloured
    assert "Node" in render_text(diagnosis, "en", width=140)


# ---------------------------------------------------------------- real browser


@pytest.mark.browser
def test_renders_in_headless_chromium(
    tmp_path: Path, sugarcane: Chain, diagnosis: Diagnosis
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed")
    html = tmp_path / "diagnosis.html"
    html.write_text(diagnosis_html(diagnosis, sugarcane, generated_at=WHEN), encoding="utf-8")
    shot = tmp_path / "diagnosis.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(html.as_uri())
            page.screenshot(path=str(shot), full_page=True)
            svg = page.locator("svg.chain-map").bounding_box()
            assert svg is not None and svg["width"] > 900 and svg["height"] > 500
            layout = page.evaluate("""() => {
                const t = document.getElementById('node-table');
                return {table: t.scrollWidth, box: t.parentElement.clientWidth,
                        doc: document.documentElement.scrollWidth, win: window.innerWidth};
            }""")
            assert layout["table"] <= layout["box"] and layout["doc"] <= layout["win"]
            # every label is drawn inside its box: measured with the real font
            spill = page.evaluate("""() => {
                const out = [];
                for (const g of document.querySelectorAll('svg.chain-map g.node')) {
                    const r = g.querySelector('rect.box').getBBox();
                    for (const t of g.querySelectorAll(':scope > text')) {
                        const b = t.getBBox();
                        if (b.x < r.x || b.x + b.width > r.x + r.width ||
                            b.y < r.y || b.y + b.height > r.y + r.height)
                            out.push(g.dataset.node + ': ' + t.textContent);
                    }
                }
                return out;
            }""")
            assert spill == []
            # boxes do not overlap on screen
            rects = page.evaluate("""() => [...document.querySelectorAll(
                'svg.chain-map rect.box')].map(r => { const b = r.getBoundingClientRect();
                return [b.left, b.top, b.width, b.height]; })""")
            assert len(rects) == len(sugarcane.nodes)
            for i, a in enumerate(rects):
                for b in rects[i + 1 :]:
                    assert not (
                        a[0] < b[0] + b[2]
                        and b[0] < a[0] + a[2]
                        and a[1] < b[1] + b[3]
                        and b[1] < a[1] + a[3]
                    )
            # CJK glyphs come from a CJK font, not from tofu boxes
            cdp = page.context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            doc = cdp.send("DOM.getDocument", {"depth": -1})
            used: dict[str, list[str]] = {}
            for selector in ("h1", "svg.chain-map g.node text"):
                node = cdp.send(
                    "DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": selector}
                )
                fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
                used[selector] = [f["familyName"] for f in fonts["fonts"] if f["glyphCount"]]
            for selector, families in used.items():
                assert any(
                    "CJK" in f or "Han Sans" in f or "YaHei" in f or "WenQuanYi" in f
                    for f in families
                ), (selector, families)
            width = page.evaluate("""() => {
                const c = document.createElement('canvas').getContext('2d');
                c.font = '20px "Noto Sans CJK SC"';
                return c.measureText('产业链诊断').width;
            }""")
            assert width == pytest.approx(100, abs=2)  # five full-width glyphs of 1 em
        finally:
            browser.close()
    assert shot.stat().st_size > 50_000
