"""协商会议 in Debian's Chromium on the live server: the analyst pastes the Wuzhou report into
the intake page, confirms the draft, lands on the new meeting's page and records the members'
attendance; the handling report shows the answers to the previous meeting's suggestions.
Screenshots (test-output/screenshots/cpm-*.png) of the plan, the meetings list, the intake
and its draft, the meeting page and the handling report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.web.conftest import SCOPED_CHAIN, screenshot

from chainatlas.accounts.service import find_user
from chainatlas.cppcc import consultations, members, plans, results
from chainatlas.cppcc import suggestions as submission_service
from chainatlas.cppcc.models import Consultation, Member
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.workflow import organisation as org
from chainatlas.workflow.access import Actor

pytestmark = pytest.mark.browser

PageAs = Callable[[str], Any]
SETUP = Actor.system("setup")
SAMPLE = Path("/work/shared/samples/wuzhou_consultation_2025.txt")
PREVIOUS_TOPIC = "推动梧州产业高质量发展（上次政党协商）"
HANDLING_UNIT = "市工业和信息化局（政协测试）"


def _member(session: Any, name: str, group: str, **extra: Any) -> Member:
    """Find-or-create: other browser modules set up the same members."""
    found = session.scalar(select(Member).where(Member.name == name))
    return found or members.add_member(session, SETUP, name, group, **extra)


@pytest.fixture(scope="module")
def cppcc_meetings_set_up(live_server: str, live_settings: Settings) -> str:
    """On the live server's app database: the members (张委员 on the account `cppcc_member`),
    a yearly plan, and the previous party consultation in 梧州 (2025-07-01) with two
    suggestions — one answered and in progress, one assigned and awaiting its answer."""
    database = Database(live_settings.app_database_url)
    with database.session() as session:
        account = find_user(session, "cppcc_member")
        assert account is not None
        if members.member_of_user(session, account.id) is None:
            own = _member(session, "张委员", "民革")
            members.link_user(session, SETUP, own.id, account.id, expected_version=None)
        _member(session, "李委员", "民盟")
        _member(session, "王委员", "经济界", title="常委")
        _member(session, "陈委员", "九三学社", employer="梧州学院")
        if plans.find_plan(session, 2025) is None:
            plans.create_plan(
                session,
                SETUP,
                2025,
                note="经市政协党组会议审定",
                topics=[
                    plans.TopicIn("topical", "推动梧州产业延链补链强链", None, 7, "经济委员会"),
                    plans.TopicIn(
                        "topical", "甘蔗制糖产业高质量发展", SCOPED_CHAIN, 4, "经济委员会"
                    ),
                    plans.TopicIn(
                        "counterpart", "中医药与民族医药产业发展", "tcm_ethnic_medicine", 5
                    ),
                    plans.TopicIn("sector", "农业界：糖料蔗生产全程机械化", SCOPED_CHAIN, 6),
                    plans.TopicIn("bimonthly", "优化民营经济营商环境", None, 9, "社会法制委员会"),
                    plans.TopicIn("bimonthly", "冷链物流与农产品上行", "cold_chain", 11),
                ],
            )
        previous = session.scalar(select(Consultation).where(Consultation.topic == PREVIOUS_TOPIC))
        if previous is None:
            unit = org.find_unit(session, HANDLING_UNIT) or org.add_unit(
                session, SETUP, HANDLING_UNIT, "member_unit"
            )
            previous = consultations.create_consultation(
                session,
                SETUP,
                kind="topical",
                held_on=date(2025, 7, 1),
                topic=PREVIOUS_TOPIC,
                title="2025年上半年政党协商座谈会",
                region_code="450400",
                groups=["民革", "民盟", "工商联"],
            )
            first = submission_service.add_submission(
                session,
                SETUP,
                kind="suggestion",
                title="强化链主企业招商，制定链主企业扶持办法",
                group="民革",
                consultation_id=previous.id,
                units=[submission_service.HandlingIn(unit.id, lead=True)],
            )
            submission_service.answer(
                session,
                SETUP,
                first.handlings[0].id,
                expected_version=None,
                answer_text="已起草《链主企业培育扶持办法》，9 月提请市政府常务会审议",
                answered_on=date(2025, 7, 10),
                answered_by="市工信局 办公室",
            )
            results.update_result(
                session, SETUP, first.id, expected_version=None, status="in_progress", progress=50
            )
            results.add_milestone(
                session,
                SETUP,
                first.id,
                expected_version=None,
                reached_on=date(2025, 7, 12),
                title="扶持办法征求意见稿印发",
            )
            submission_service.add_submission(
                session,
                SETUP,
                kind="suggestion",
                title="设立民营企业融资风险补偿资金",
                group="工商联",
                consultation_id=previous.id,
                units=[submission_service.HandlingIn(unit.id, deadline=date(2025, 9, 30))],
            )
    database.dispose()
    return live_server


def shot(page: Any, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def no_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_intake_confirm_and_record_attendance(page_as: PageAs, cppcc_meetings_set_up: str) -> None:
    base = cppcc_meetings_set_up
    analyst = page_as("analyst")
    errors = no_errors(analyst)

    analyst.goto(f"{base}/cppcc/intake")
    analyst.fill("textarea[name=text]", SAMPLE.read_text("utf-8"))
    shot(analyst, "cpm-3-intake")
    analyst.click("#cp-intake-form button[type=submit]")
    analyst.wait_for_selector("#cp-intake-save")
    assert analyst.input_value("input[name=held_on]") == "2025-07-15"
    assert analyst.input_value("select[name=kind]") == "topical"
    assert analyst.input_value("input[name=topic]") == "推动梧州产业延链补链强链"
    assert "补链" in analyst.inner_text("#cp-draft-actions")
    # the 2025 plan's topic of the same name is chosen for it
    chosen = analyst.locator("select[name=plan_topic_id] option:checked").inner_text()
    assert "推动梧州产业延链补链强链" in chosen
    shot(analyst, "cpm-3b-intake-draft")
    analyst.fill("input[name=place]", "市委常委会议室")
    analyst.click("#cp-intake-save-button")
    analyst.wait_for_url(f"{base}/cppcc/meetings/*")
    meeting_url = analyst.url
    assert "推动梧州产业延链补链强链" in analyst.inner_text("h1")
    assert "蒋连生" in analyst.inner_text("#cp-leaders-list")
    assert "九三学社" in analyst.inner_text("#cp-groups-list")

    # attendance: 张委员 and 王委员 present, 李委员 on leave, 陈委员 absent
    for who, status in (("张委员", "present"), ("王委员", "present"), ("李委员", "excused")):
        analyst.select_option(f"select[aria-label='{who} 出席情况']", status)
    analyst.fill("input[aria-label='李委员 说明']", "赴南宁参加培训")
    analyst.select_option("select[aria-label='陈委员 出席情况']", "absent")
    analyst.click("#cp-attendance-form button[type=submit]")
    analyst.wait_for_load_state("networkidle")
    assert analyst.inner_text("#cp-count-present .value") == "2"
    assert analyst.inner_text("#cp-count-excused .value") == "1"
    assert analyst.inner_text("#cp-count-absent .value") == "1"
    assert "赴南宁参加培训" in analyst.inner_text("main")
    report = analyst.inner_text("#handling-report ~ .cp-report")
    assert "已起草《链主企业培育扶持办法》" in report and "设立民营企业融资风险补偿资金" in report
    shot(analyst, "cpm-4-meeting")

    analyst.goto(f"{meeting_url}/handling-report")
    assert "正在落实" in analyst.inner_text("main") and "待答复" in analyst.inner_text("main")
    shot(analyst, "cpm-5-handling-report")
    with analyst.expect_download() as download:
        analyst.click("a[href$='/handling-report.docx']")
    assert download.value.suggested_filename == "上一次意见建议办理情况-2025-07-15.docx"

    analyst.goto(f"{base}/cppcc/meetings?year=2025")
    assert "推动梧州产业延链补链强链" in analyst.inner_text("table.cp-meetings")
    shot(analyst, "cpm-2-meetings")
    analyst.goto(f"{base}/cppcc/plans")
    analyst.click("#plan-2025 a")
    analyst.wait_for_selector("#topics")
    assert "经济委员会" in analyst.inner_text("#kind-topical")
    assert "2025-07-15" in analyst.inner_text("#kind-topical")  # held, from the intake
    shot(analyst, "cpm-1-plan")
    analyst.locator("#kind-topical details.cp-topic-edit summary").first.click()
    assert analyst.locator("#kind-topical details.cp-topic-edit form.stack").first.is_visible()
    shot(analyst, "cpm-1b-plan-topic-edit")
    analyst.goto(f"{base}/cppcc/members")
    assert "陈委员" in analyst.inner_text("table.cp-members")
    shot(analyst, "cpm-6-members")
    assert errors == []

    analyst.goto(f"{base}/lang/en")
    analyst.goto(meeting_url)
    assert "Leaders present" in analyst.inner_text("main")
    shot(analyst, "cpm-4b-meeting-en")
    analyst.goto(f"{base}/lang/zh")

    # a member reads the meeting, with no form to record attendance
    member = page_as("cppcc_member")
    member.goto(meeting_url)
    assert member.locator("#cp-attendance-form").count() == 0
    assert member.locator("#cp-add-submission").count() == 1
