"""意见建议办理 in Debian's Chromium on the live server: meeting → suggestion → handling →
answer → result. The CPPCC member files a suggestion from the consultation meeting's page,
the CPPCC staff (`analyst`) give it to a member unit with a deadline, the member unit's user
answers it, and the staff record the result's status, progress and a milestone; 1440×900
screenshots of the list, the form, the record and the answer form
(test-output/screenshots/cps-*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.web.conftest import SCOPED_CHAIN, screenshot

from chainatlas.accounts.service import find_user
from chainatlas.cppcc import consultations, members
from chainatlas.cppcc import suggestions as service
from chainatlas.cppcc.models import Consultation, Member, Submission
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.workflow import organisation as org
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today

pytestmark = pytest.mark.browser

PageAs = Callable[[str], Any]
SETUP = Actor.system("setup")
# a unit of its own: the chain-chief browser test sets up 糖业链长办 / 自然资源局 / 商务局 only
# when 糖业链长办 is missing, so this module must not create those
HANDLING_UNIT = "市发展和改革委员会"
TOPIC = "糖业高质量发展专题协商（意见建议办理测试）"
LATE_TITLE = "蔗区机耕道建设资金缺口（逾期未答复）"


def _member(session: Any, name: str, group: str, **extra: Any) -> Member:
    """Find-or-create: other browser modules may set up the same members."""
    found = session.scalar(select(Member).where(Member.name == name))
    return found or members.add_member(session, SETUP, name, group, **extra)


@pytest.fixture(scope="module")
def set_up(live_server: str, live_settings: Settings) -> dict[str, Any]:
    """On the live server's app database (find-or-create, whatever other modules did first):
    the unit 市发展和改革委员会 on sugarcane with the user `member_unit` in it, the account
    `cppcc_member` linked to a member, a topical consultation on sugarcane, and a
    suggestion of an earlier meeting whose answer is overdue."""
    database = Database(live_settings.app_database_url)
    today = local_today()
    with database.session() as session:
        unit = org.find_unit(session, HANDLING_UNIT) or org.add_unit(
            session, SETUP, HANDLING_UNIT, "member_unit", contact_person="周科长"
        )
        org.set_chain_unit(session, SETUP, SCOPED_CHAIN, unit.id, "member_unit")
        unit_user = find_user(session, "member_unit")
        account = find_user(session, "cppcc_member")
        assert unit_user is not None and account is not None
        org.add_unit_user(session, SETUP, unit.id, unit_user.id)
        own = members.member_of_user(session, account.id) or _member(
            session, "张委员", "民革", user_id=account.id
        )
        if own.user_id is None:  # a 张委员 set up without the account
            members.link_user(session, SETUP, own.id, account.id, expected_version=None)
        _member(session, "李委员", "民盟")
        meeting = session.scalar(select(Consultation).where(Consultation.topic == TOPIC))
        if meeting is None:
            meeting = consultations.create_consultation(
                session,
                SETUP,
                kind="topical",
                held_on=today - timedelta(days=3),
                topic=TOPIC,
                chain_ids=[SCOPED_CHAIN],
                groups=["民革", "民盟", "工商联"],
            )
        late = session.scalar(select(Submission).where(Submission.title == LATE_TITLE))
        if late is None:
            service.add_submission(
                session,
                SETUP,
                kind="suggestion",
                title=LATE_TITLE,
                content="机耕道建设每公里缺口约 20 万元。",
                raised_on=today - timedelta(days=45),
                group="民盟",
                chain_id=SCOPED_CHAIN,
                units=[service.HandlingIn(unit.id, True, today - timedelta(days=8))],
            )
        found = {"unit_id": unit.id, "meeting": meeting.id, "member": own.name}
    database.dispose()
    return {"base": live_server, **found}


def shot(page: Any, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def no_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_meeting_suggestion_handling_answer_result(page_as: PageAs, set_up: dict[str, Any]) -> None:
    base, meeting = set_up["base"], set_up["meeting"]
    deadline = (local_today() + timedelta(days=15)).isoformat()

    # the CPPCC member files a suggestion from the meeting's page
    member = page_as("cppcc_member")
    errors = no_errors(member)
    member.goto(f"{base}/cppcc/meetings/{meeting}")
    assert member.locator("#cp-add-submission").count() == 1
    member.click("#cp-add-submission")
    member.wait_for_url(f"{base}/cppcc/submissions/new?consultation={meeting}")
    assert TOPIC in member.inner_text("#cps-from-meeting")
    assert member.locator("select[name=member_id]").count() == 0  # itself, fixed
    assert set_up["member"] in member.inner_text("#cps-own-member")
    member.select_option("select[name=kind]", "suggestion")
    member.fill("input[name=title]", "设立糖业技改贴息专项资金")
    member.fill(
        "textarea[name=content]",
        "建议对糖企节能降耗、自动化改造项目给予贷款贴息，贴息比例不低于 50%。",
    )
    shot(member, "cps-2-new")
    member.click("#cps-form button[type=submit]")
    member.wait_for_url(re.compile(r".*/cppcc/submissions/\d+$"))
    record = member.url
    assert "已登记" in member.inner_text("h1")
    assert TOPIC in member.inner_text("#cps-meeting-link")

    # the staff give it to the member unit with a deadline
    analyst = page_as("analyst")
    errors += no_errors(analyst)
    analyst.goto(record)
    analyst.select_option("#cps-assign select[name=unit_id] >> nth=0", label=HANDLING_UNIT)
    analyst.fill("#cps-assign input[name=deadline] >> nth=0", deadline)
    analyst.check("#cps-assign input[name=lead] >> nth=0")
    analyst.click("#cps-assign button[type=submit]")
    analyst.wait_for_load_state("networkidle")
    assert "已交办" in analyst.inner_text("h1")
    handlings = analyst.inner_text("#cps-handlings")
    assert HANDLING_UNIT in handlings and deadline in handlings and "主办" in handlings

    # the member unit's user answers; it is offered that form and nothing of the staff's
    unit = page_as("member_unit")
    errors += no_errors(unit)
    unit.goto(record)
    assert unit.locator("form.cps-answer").count() == 1
    assert unit.locator("#cps-assign").count() == 0 and unit.locator("#cps-merge").count() == 0
    unit.fill(
        "form.cps-answer textarea[name=answer]",
        "经研究，我委将会同财政局制定糖业技改贴息办法，拟于下季度出台，首批安排资金 1000 万元。",
    )
    unit.fill("form.cps-answer input[name=answered_by]", "主任 黄志强")
    shot(unit, "cps-4-answer-form")
    unit.click("form.cps-answer button[type=submit]")
    unit.wait_for_load_state("networkidle")
    assert "已答复" in unit.inner_text("h1")
    assert "黄志强" in unit.inner_text("#cps-handlings")

    # the staff record the result and a milestone, as Decidim's accountability module shows
    analyst.goto(record)
    analyst.select_option("#cps-result-form select[name=status]", "in_progress")
    analyst.fill("#cps-result-form input[name=progress]", "50")
    analyst.fill("#cps-result-form textarea[name=result]", "贴息办法已起草，正在征求意见。")
    analyst.click("#cps-result-form button[type=submit]")
    analyst.wait_for_load_state("networkidle")
    assert analyst.inner_text("#cps-progress") == "50%"
    analyst.fill("#cps-milestone-form input[name=title]", "贴息办法经市政府常务会审议通过")
    analyst.fill("#cps-milestone-form textarea[name=description]", "首批 12 家糖企申报。")
    analyst.fill("#cps-milestone-form input[name=progress]", "70")
    analyst.click("#cps-milestone-form button[type=submit]")
    analyst.wait_for_load_state("networkidle")
    result = analyst.inner_text("#cps-result")
    assert "正在落实" in result and "70%" in result
    assert "贴息办法经市政府常务会审议通过" in analyst.inner_text("#cps-milestones")
    history = analyst.inner_text("#cps-history")
    for label in ("登记", "交办", "答复", "更新落实情况", "落实节点"):
        assert label in history, label
    for who in ("cppcc_member", "analyst", "member_unit"):
        assert who in history, who
    width = analyst.eval_on_selector(".cps-progress > span", "e => e.getBoundingClientRect().width")
    full = analyst.eval_on_selector(".cps-progress", "e => e.getBoundingClientRect().width")
    assert abs(width / full - 0.7) < 0.02
    shot(analyst, "cps-3-record")

    # the list: the overdue answer of the earlier suggestion in red; the export downloads
    analyst.goto(f"{base}/cppcc/submissions?chain={SCOPED_CHAIN}")
    red = analyst.locator("tr.wf-red")
    assert red.count() >= 1 and LATE_TITLE in red.first.inner_text()
    assert "答复逾期" in red.first.inner_text()
    assert "设立糖业技改贴息专项资金" in analyst.inner_text("table.cps-table")
    shot(analyst, "cps-1-list")
    with analyst.expect_download() as download:
        analyst.click("#cps-export")
    assert download.value.suggested_filename.startswith("意见建议办理台账")

    # the overdue record in red, with the staff's edit, merge and split forms open
    analyst.click(f"text={LATE_TITLE}")
    analyst.wait_for_url(re.compile(r".*/cppcc/submissions/\d+$"))
    assert "最长已逾期 8 天" in analyst.inner_text("#cps-overdue")
    for panel in ("#cps-edit", "#cps-merge", "#cps-split"):
        analyst.click(f"{panel} > summary")
    assert "设立糖业技改贴息专项资金" in analyst.inner_text("#cps-merge")
    shot(analyst, "cps-5-record-overdue")
    assert errors == []
