"""The platform in Debian's Chromium at a 1000 px window: every main page fits its width in
both languages (no page-wide horizontal scroll), the 招商 mark buttons stay on screen and the
sticky table headers still stick below the top bar; and an upload whose firm names and
business scopes carry markup and SQL shows them as plain text, with no dialog opening."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

PageAs = Callable[[str], Any]
WIDTH = 1000

PAGES = [
    ("dashboard", "/"),
    ("atlas", "/atlas?chain=sugarcane"),
    ("enterprises", "/enterprises?q=糖业"),
    ("diagnosis", "/diagnosis?chain=sugarcane"),
    ("targets", "/targets?chain=sugarcane"),
    ("targets-regions", "/targets/regions?chain=sugarcane"),
    ("opportunities", "/opportunities"),
    ("briefings", "/briefings"),
    ("projects", "/projects"),
    ("cppcc", "/cppcc/meetings"),
    ("data", "/data"),
    ("users", "/admin/users"),
]
SHOWN = {"dashboard": "01c", "targets": "05c"}  # screenshots at 1000 px, per language

OVERFLOW = "[document.documentElement.scrollWidth, window.innerWidth]"
# each mark button's left and right edge, and the window's width
MARK_BUTTONS = """() => [
  Array.from(document.querySelectorAll('.tgt-mark-form button[name=kind]'))
    .map(b => { const r = b.getBoundingClientRect(); return [r.left, r.right]; }),
  window.innerWidth]"""
# scrolled into the middle of a table: where its header sits, and the top bar's height
STUCK_HEADER = """(selector) => {
  const table = document.querySelector(selector);
  window.scrollTo(0, table.getBoundingClientRect().top + window.scrollY + 300);
  return [table.querySelector('thead th').getBoundingClientRect().top,
          document.querySelector('.topbar').getBoundingClientRect().height];
}"""


def assert_header_sticks(page: Any, selector: str) -> None:
    top, bar = page.evaluate(STUCK_HEADER, selector)
    assert abs(top - bar) < 1, (selector, top, bar)
    page.evaluate("window.scrollTo(0, 0)")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_main_page_fits_a_1000_px_window(
    page_as: PageAs, live_server: str, lang: str
) -> None:
    page = page_as("admin")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": WIDTH, "height": 800})
    if lang == "en":
        page.goto(f"{live_server}/lang/en?back=/")
        assert "Dashboard" in page.inner_text("nav.nav")
    for name, path in PAGES:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        scroll_width, inner_width = page.evaluate(OVERFLOW)
        assert inner_width == WIDTH
        assert scroll_width <= inner_width, (lang, name, scroll_width)
        if name == "targets":
            buttons, inner_width = page.evaluate(MARK_BUTTONS)
            assert len(buttons) >= 2 * 20  # 已联系 and 不相关 on every row
            outside = [b for b in buttons if b[0] < 0 or b[1] > inner_width]
            assert outside == [], (lang, outside[:3])
            assert_header_sticks(page, "table.tgt-table")
        if name == "dashboard":
            assert_header_sticks(page, "#chain-overview")
        if name in SHOWN:
            screenshot(page, f"{SHOWN[name]}-{name}-{WIDTH}-{lang}")
    assert errors == []


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SQL = "'; DROP TABLE enterprises; --"


def test_markup_in_an_uploaded_file_is_shown_as_text(
    page_as: PageAs, live_server: str, tmp_path: Path
) -> None:
    from chainatlas.ingest.validators import make_uscc

    firms = [
        (make_uscc("450403", 880101), f"梧州{SCRIPT}糖业有限公司", f"甘蔗制糖，{IMG}"),
        (make_uscc("450403", 880102), f"梧州{IMG}蔗业有限公司", f"甘蔗种植，{SQL}"),
        (make_uscc("450403", 880103), f"梧州{SQL}制糖有限公司", f"机制糖生产，{SCRIPT}"),
    ]
    path = tmp_path / "企业名录.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["统一社会信用代码", "企业名称", "所属地区", "行业代码", "经营范围"])
        writer.writerows((code, name, "450403", "1340", scope) for code, name, scope in firms)

    page = page_as("analyst")
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(f"{live_server}/data")
    page.set_input_files("input[name=file]", str(path))
    page.click("form[action='/data/upload'] button[type=submit]")
    page.wait_for_url("**/data#job-*")
    job = page.url.rsplit("#", 1)[1]
    page.locator(f"#{job} dl.job-figures").wait_for(timeout=120_000)
    rows, accepted = page.locator(f"#{job} dl.job-figures dd").all_inner_texts()[:2]
    assert (rows, accepted) == ("3", "3")  # the strings are ordinary text to the validators

    for code, name, scope in firms:
        page.goto(f"{live_server}/enterprises?" + urlencode({"q": name, "region": ""}))
        link = page.locator(f"a[href='/enterprises/{code}']")
        assert link.inner_text() == name  # the markup is text on the screen
        link.click()
        page.wait_for_load_state("networkidle")
        assert page.inner_text("h1") == name and page.title().startswith(name)
        assert scope.split("，")[1] in page.inner_text("main")
        live = page.evaluate(
            "[document.querySelectorAll('img[src=x], main script').length,"
            " Array.from(document.scripts).filter(s => s.text.includes('alert(1)')).length]"
        )
        assert live == [0, 0], name
    screenshot(page, "04c-enterprise-hostile-names")
    assert dialogs == []
