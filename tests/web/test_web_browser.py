"""The platform in Debian's Chromium: log in, every page, language switch, the chain graph,
an upload with bad rows, a briefing — with a 1440×900 screenshot of every page."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

PageAs = Callable[[str], Any]


def test_login_page_and_wrong_password(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    screenshot(page, "00-login")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text(".alert")
    context.close()


def test_admin_pages_and_language_switch(page_as: PageAs, live_server: str) -> None:
    page = page_as("admin")
    assert page.inner_text("nav.nav").count("首页") == 1
    screenshot(page, "01-dashboard")
    page.goto(f"{live_server}/admin/users")
    assert page.locator("table.data tbody tr").count() >= 6
    screenshot(page, "90-admin-users")
    page.goto(f"{live_server}/admin/audit")
    assert "login" in page.inner_text("table.data")
    screenshot(page, "91-admin-audit")
    page.click("a.lang")
    assert page.inner_text("h1").startswith("Audit log")
    assert "Dashboard" in page.inner_text("nav.nav")
    page.click("a.lang")
    assert page.inner_text("h1").startswith("审计日志")


PAGES = [
    ("02-atlas", "/atlas?chain=sugarcane", "产业链图谱"),
    ("03-diagnosis", "/diagnosis?chain=sugarcane", "诊断"),
    ("04-enterprises", "/enterprises?q=糖业", "企业"),
    ("05-targets", "/targets?chain=sugarcane", "招商"),
    ("06-opportunities", "/opportunities", "机会"),
    ("07-briefings", "/briefings", "简报"),
    ("08-data", "/data", "数据"),
]


def test_navigation_bar_shows_every_item_on_a_narrow_window(
    page_as: PageAs, live_server: str
) -> None:
    """At 1000 px, in both languages, the bar wraps instead of hiding its last items, and the
    sticky table headers sit below the taller bar."""
    page = page_as("admin")
    page.set_viewport_size({"width": 1000, "height": 800})
    for lang_switch in (False, True):
        if lang_switch:
            page.click("a.lang")
        page.goto(f"{live_server}/admin/users")
        items = page.locator("nav.nav a")
        assert items.count() == 11
        for item in items.all():
            box = item.bounding_box()
            assert box is not None and box["width"] > 0
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1000, item.inner_text()
        who = page.locator(".who").bounding_box()
        last = items.last.bounding_box()
        assert who is not None and last is not None and last["x"] + last["width"] <= who["x"]
        bar_height = page.locator(".topbar").bounding_box()["height"]
        assert bar_height > 60  # two rows
        offset = page.evaluate("getComputedStyle(document.querySelector('table.data th')).top")
        assert offset.endswith("px") and abs(float(offset[:-2]) - bar_height) < 1


def test_every_page_from_the_navigation(page_as: PageAs, live_server: str) -> None:
    """Each page opens from the bar, draws its charts, and has no browser error."""
    page = page_as("admin")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    for name, path, nav in PAGES:
        page.click(f"nav.nav >> text={nav}")
        page.wait_for_load_state("networkidle")
        assert page.url.split("?")[0].endswith(path.split("?")[0]), (page.url, path)
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text().strip(), name
        for chart in page.locator("[_echarts_instance_]").all():
            assert chart.locator("svg, canvas").count() >= 1, name
        screenshot(page, name)
    assert errors == []


def test_chain_graph_node_click_shows_its_firms(page_as: PageAs, live_server: str) -> None:
    page = page_as("analyst")
    page.goto(f"{live_server}/atlas?chain=sugarcane")
    page.wait_for_selector("#chain-graph svg")
    page.locator("#chain-graph svg text", has_text="原糖/白砂糖压榨").first.click()
    panel = page.locator("#node-panel")
    panel.locator("a[href^='/enterprises/']").first.wait_for()
    assert "原糖/白砂糖压榨" in panel.inner_text()
    firms = panel.locator("a[href^='/enterprises/']").count()
    assert firms >= 1
    screenshot(page, "02b-atlas-node-panel")
    panel.locator("a[href^='/enterprises/']").first.click()
    page.wait_for_load_state("networkidle")
    assert "/enterprises/" in page.url and "原糖/白砂糖压榨" in page.inner_text("main")
    screenshot(page, "04b-enterprise")


def test_switch_language_on_a_page(page_as: PageAs, live_server: str) -> None:
    page = page_as("viewer")
    page.goto(f"{live_server}/diagnosis?chain=sugarcane")
    page.click("a.lang")
    page.wait_for_load_state("networkidle")
    assert "Diagnosis" in page.inner_text("nav.nav") and "Sugarcane" in page.inner_text("h1")
    screenshot(page, "03b-diagnosis-en")
    page.click("a.lang")
    assert "诊断" in page.inner_text("nav.nav")


def test_upload_with_bad_rows_and_download_the_error_report(
    page_as: PageAs, live_server: str, tmp_path: Path
) -> None:
    from chainatlas.ingest.validators import make_uscc

    good = make_uscc("450403", 880001)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    csv = tmp_path / "新增企业.csv"
    csv.write_text(
        "统一社会信用代码,企业名称,所属地区,行业代码,成立日期,注册资本(万元),经营范围\n"
        f"{good},梧州浏览器测试糖业有限公司,450403,1340,2020-01-01,500,甘蔗制糖\n"
        f"{bad_check},校验位错误公司,450403,1340,2020-01-01,100,甘蔗制糖\n"
        f"{make_uscc('450403', 880002)},地区错误公司,999999,1340,2020-01-01,100,甘蔗制糖\n",
        encoding="utf-8",
    )
    page = page_as("analyst")
    page.goto(f"{live_server}/data")
    page.set_input_files("input[name=file]", str(csv))
    page.click("form[action='/data/upload'] button[type=submit]")
    report = page.locator("a[href$='/errors']")
    report.wait_for(timeout=120_000)
    assert "已完成" in page.locator("table").last.inner_text()
    with page.expect_download() as download:
        report.click()
    text = Path(download.value.path()).read_text("utf-8-sig")
    assert "校验" in text and "check" in text.lower() and "999999" in text
    screenshot(page, "08b-data-after-upload")


def test_generate_and_download_a_briefing(page_as: PageAs, live_server: str) -> None:
    page = page_as("analyst")
    page.goto(f"{live_server}/briefings?chain=sugarcane")
    page.click("form[action='/briefings'] button[type=submit]")
    zip_link = page.locator("a[href$='/zip']").first
    zip_link.wait_for(timeout=300_000)
    with page.expect_download() as download:
        zip_link.click()
    with zipfile.ZipFile(download.value.path()) as zf:
        names = zf.namelist()
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".xlsx") for n in names)
    assert sum(n.endswith(".png") for n in names) >= 5
    screenshot(page, "07b-briefing-done")


def test_every_page_has_a_printable_view(page_as: PageAs, live_server: str) -> None:
    """In print media the navigation bar, filters and buttons are gone, the heading and the
    content stay, sticky headers no longer stick, and the page prints (a PDF) on A4."""
    page = page_as("admin")
    for name, path, _nav in PAGES:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        page.emulate_media(media="print")
        assert not page.locator(".topbar").is_visible(), name
        for hidden in page.locator(".noprint, .filters, .pager").all():
            assert not hidden.is_visible(), name
        assert page.locator("h1").is_visible(), name
        assert page.locator("main").inner_text().strip(), name
        sticky = page.evaluate(
            "[...document.querySelectorAll('table.data th')]"
            ".filter(th => getComputedStyle(th).position === 'sticky').length"
        )
        assert sticky == 0, name
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000, name
        page.emulate_media(media="screen")
