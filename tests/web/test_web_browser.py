"""The platform in Debian's Chromium: log in, every page, language switch, the chain graph,
an upload with bad rows, a briefing — with a 1440×900 screenshot of every page."""

from __future__ import annotations

from collections.abc import Callable
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
