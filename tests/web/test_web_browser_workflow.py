"""The chain-chief pages in Debian's Chromium: a case raised by the chain office, assigned to
a member unit, worked on and resolved by that unit, and confirmed — then the projects
kanban, the case list, a review meeting, the KPI ranking and the organisation, each with a
1440×900 screenshot (test-output/screenshots/2x-*.png)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.web.conftest import SCOPED_CHAIN, screenshot

from chainatlas.accounts.service import find_user
from chainatlas.db.base import utcnow
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow import organisation as org
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today

pytestmark = pytest.mark.browser

PageAs = Callable[[str], Any]
SETUP = Actor.system("setup")
OFFICE_UNIT, LAND_UNIT, COMMERCE_UNIT = "糖业链长办", "自然资源局", "商务局"


@pytest.fixture(scope="module")
def organised(live_server: str, live_settings: Settings) -> str:
    """On the live server's own app database: the sugarcane chain's office (user
    `chain_office`), member units 自然资源局 (user `member_unit`) and 商务局, a chain chief,
    projects at several stages and an overdue case."""
    database = Database(live_settings.app_database_url)
    today = local_today()
    with database.session() as session:
        if org.find_unit(session, OFFICE_UNIT) is None:
            office = org.add_unit(
                session,
                SETUP,
                OFFICE_UNIT,
                "chain_office",
                contact_person="王科长",
                contact_phone="0774-3828888",
            )
            land = org.add_unit(session, SETUP, LAND_UNIT, "member_unit", contact_person="陈工")
            commerce = org.add_unit(session, SETUP, COMMERCE_UNIT, "member_unit")
            org.set_chain_unit(session, SETUP, SCOPED_CHAIN, office.id, "chain_office")
            org.set_chain_unit(session, SETUP, SCOPED_CHAIN, land.id, "member_unit")
            org.set_chain_unit(session, SETUP, SCOPED_CHAIN, commerce.id, "member_unit")
            org.add_chain_chief(session, SETUP, SCOPED_CHAIN, "李明", "副市长")
            for username, unit in (("chain_office", office), ("member_unit", land)):
                user = find_user(session, username)
                assert user is not None
                org.add_unit_user(session, SETUP, unit.id, user.id)
            for name, stage, extra in (
                ("甘蔗良种繁育基地", "lead", {}),
                ("蔗渣环保餐具项目", "negotiating", {"unit_id": commerce.id}),
                (
                    "10 万吨精制糖扩建项目",
                    "signed",
                    {"unit_id": land.id, "amount_wan": 52000, "signed_on": today},
                ),
                (
                    "糖蜜酵母生产线",
                    "started",
                    {
                        "unit_id": commerce.id,
                        "amount_wan": 18000,
                        "signed_on": today - timedelta(days=90),
                        "park": "梧州循环经济产业园",
                        "started_on": today - timedelta(days=20),
                    },
                ),
            ):
                project_service.add_project(
                    session,
                    SETUP,
                    name=name,
                    investor_name="广西测试糖业集团有限公司",
                    chain_id=SCOPED_CHAIN,
                    stage=stage,
                    **extra,
                )
            stalled = project_service.list_projects(session, SETUP, stage="lead")[0]
            stalled.stage_changed_at = utcnow() - timedelta(days=45)
            case_service.add_case(
                session,
                SETUP,
                title="蔗区道路硬化迟迟未批",
                source="enterprise",
                category="approvals",
                chain_id=SCOPED_CHAIN,
                enterprise_name="苍梧测试蔗业合作社",
                raised_on=today - timedelta(days=40),
                unit_id=land.id,
                deadline=today - timedelta(days=9),
            )
    database.dispose()
    return live_server


def shot(page: Any, name: str) -> None:
    """A full-page screenshot from the top (a redirect to #decisions scrolls the page, and
    the sticky bar would then be drawn mid-page)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def no_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_raise_assign_resolve_confirm_a_case(page_as: PageAs, organised: str) -> None:
    base = organised
    office = page_as("chain_office")
    errors = no_errors(office)
    office.goto(f"{base}/cases/new?chain={SCOPED_CHAIN}")
    office.fill("input[name=title]", "糖厂仓储用地指标不足")
    office.select_option("select[name=category]", "land")
    office.fill("input[name=enterprise_name]", "梧州测试糖业有限公司")
    office.fill("textarea[name=description]", "新建 5 万吨成品糖仓库，缺用地指标 20 亩。")
    shot(office, "21b-case-new")
    office.click("form[action='/cases'] button[type=submit]")
    office.wait_for_url(f"{base}/cases/*")
    case_url = office.url
    assert "待分派" in office.inner_text("h1")

    deadline = (local_today() + timedelta(days=15)).isoformat()
    office.select_option("#act-assign select[name=unit_id]", label=LAND_UNIT)
    office.fill("#act-assign input[name=deadline]", deadline)
    office.click("#act-assign button[type=submit]")
    office.wait_for_load_state("networkidle")
    assert "已交办" in office.inner_text("h1")

    unit = page_as("member_unit")
    errors += no_errors(unit)
    unit.goto(case_url)
    assert unit.locator("#act-assign").count() == 0
    unit.fill("#act-start input[name=note]", "已联系企业现场踏勘")
    unit.click("#act-start button[type=submit]")
    unit.wait_for_load_state("networkidle")
    assert "办理中" in unit.inner_text("h1")
    unit.fill(
        "#act-resolve textarea[name=resolution]", "已调剂 20 亩仓储用地指标，纳入年度供地计划。"
    )
    unit.click("#act-resolve button[type=submit]")
    unit.wait_for_load_state("networkidle")
    assert "已办结" in unit.inner_text("h1")
    assert unit.locator("#act-confirm").count() == 0

    office.goto(case_url)
    office.fill("#act-confirm input[name=note]", "企业电话确认满意")
    office.click("#act-confirm button[type=submit]")
    office.wait_for_load_state("networkidle")
    assert "企业已确认" in office.inner_text("h1")
    history = office.inner_text("table.wf-history")
    for label in ("登记", "交办", "开始办理", "办结", "企业确认"):
        assert label in history, label
    assert "member_unit" in history and LAND_UNIT in history
    shot(office, "22-case")

    office.goto(f"{base}/cases")
    red = office.locator("tr.wf-red")
    assert red.count() >= 1 and "蔗区道路硬化迟迟未批" in red.first.inner_text()
    shot(office, "21-cases")
    assert errors == []


def test_the_other_workflow_pages(page_as: PageAs, organised: str) -> None:
    base = organised
    office = page_as("chain_office")
    errors = no_errors(office)

    # a project from the form, the node picker filled by HTMX for the chain chosen
    office.goto(f"{base}/projects/new")
    office.fill("input[name=name]", "糖厂智能化技改项目")
    office.fill("input[name=investor_name]", "梧州测试糖业有限公司")
    office.select_option("select[name=chain_id]", SCOPED_CHAIN)
    office.locator("#wf-node select option").nth(1).wait_for(state="attached")
    assert office.locator("#wf-node select option").count() > 5
    office.select_option("#wf-node select", index=1)
    shot(office, "20d-project-new")
    office.click("form.wf-form button[type=submit]")
    office.wait_for_url(f"{base}/projects/*")
    assert "糖厂智能化技改项目" in office.inner_text("h1")
    office.goto(f"{office.url}/stage?to=signed")
    assert office.locator("input[name=signed_on]").count() == 1
    shot(office, "20c-project-stage")

    office.goto(f"{base}/projects?view=kanban")
    assert "糖厂智能化技改项目" in office.inner_text(".wf-col-lead")
    assert "10 万吨精制糖扩建项目" in office.inner_text(".wf-col-signed")
    shot(office, "20-projects")
    office.goto(f"{base}/projects")
    assert office.locator("table.wf-table tbody tr").count() >= 5
    shot(office, "20b-projects-table")

    office.goto(f"{base}/meetings/new?chain={SCOPED_CHAIN}")
    office.fill("input[name=place]", "市政府 3 楼会议室")
    office.fill("input[name=chair]", "李明")
    office.fill(
        "textarea[name=attendees]",
        "张三 市工信局局长\n李四 市商务局副局长\n王五 市自然资源局副局长",
    )
    office.click("form.wf-form button[type=submit]")
    office.wait_for_url(f"{base}/meetings/*")
    agenda = office.inner_text("table.wf-agenda")
    assert "逾期" in agenda and "蔗区道路硬化迟迟未批" in agenda and "停滞" in agenda
    office.fill(
        "#decision-form textarea[name=decision]", "商务局牵头对接糖企产销衔接，月底前报送方案"
    )
    office.select_option("#decision-form select[name=unit_id]", label=COMMERCE_UNIT)
    office.fill(
        "#decision-form input[name=deadline]", (local_today() + timedelta(days=20)).isoformat()
    )
    office.click("#decision-form button[type=submit]")
    office.wait_for_load_state("networkidle")
    assert "商务局牵头对接糖企产销衔接" in office.inner_text("table.wf-decisions")
    shot(office, "23-meetings")
    with office.expect_download() as download:
        office.click("a[href$='/minutes.docx']")
    assert download.value.suggested_filename.endswith(".docx")
    assert "调度会会议纪要" in download.value.suggested_filename

    office.goto(f"{base}/kpis")
    assert "甘蔗制糖" in office.inner_text("table.wf-kpi-table")
    assert LAND_UNIT in office.inner_text("main")
    shot(office, "24-kpis")
    assert errors == []

    admin = page_as("admin")
    admin.goto(f"{base}/org")
    chain = admin.inner_text(f"#chain-{SCOPED_CHAIN}")
    assert "李明" in chain and OFFICE_UNIT in chain and LAND_UNIT in chain
    shot(admin, "25-org")
    # one bar item for the chain-chief system, active on each of its pages; its tabs lead on
    assert admin.inner_text("nav.nav a.active") == "链长制"
    tabs = admin.inner_text("nav.wf-tabs")
    for item in ("招商项目", "企业诉求", "调度会", "考核排名", "组织架构"):
        assert item in tabs
