"""委员履职 in Debian's Chromium on the live server: a CPPCC member records an enterprise
visit on the form (its member fixed to itself), the chain office raises a case from it, and
the yearly statistics count the visit and the difficulty; screenshots of the duty list, the
duty form, the scoring page and the statistics (test-output/screenshots/cpd-*.png)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.web.conftest import SCOPED_CHAIN, screenshot

from chainatlas.accounts.service import find_user
from chainatlas.cppcc import assessment, consultations, duties, members
from chainatlas.cppcc.models import Consultation, Member
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today

pytestmark = pytest.mark.browser

PageAs = Callable[[str], Any]
SETUP = Actor.system("setup")
TOPIC = "甘蔗产业延链补链强链专题协商（履职测试）"


def _member(session: Any, name: str, group: str, **extra: Any) -> Member:
    """Find-or-create: other browser modules may set up the same members."""
    found = session.scalar(select(Member).where(Member.name == name))
    return found or members.add_member(session, SETUP, name, group, **extra)


@pytest.fixture(scope="module")
def cppcc_set_up(live_server: str, live_settings: Settings) -> dict[str, Any]:
    """On the live server's app database: the account `cppcc_member` linked to a member (one
    already linked is kept), two more members, a topical consultation on sugarcane with
    attendance, and a few duty records this year."""
    database = Database(live_settings.app_database_url)
    today = local_today()
    with database.session() as session:
        account = find_user(session, "cppcc_member")
        assert account is not None
        own = members.member_of_user(session, account.id) or _member(
            session, "张委员", "民革", user_id=account.id
        )
        if own.user_id is None:  # a 张委员 set up without the account
            members.link_user(session, SETUP, own.id, account.id, expected_version=None)
        li = _member(session, "李委员", "民盟")
        wang = _member(session, "王委员", "经济界", title="常委")
        meeting = session.scalar(select(Consultation).where(Consultation.topic == TOPIC))
        if meeting is None:
            day = max(today - timedelta(days=10), today.replace(month=1, day=1))
            meeting = consultations.create_consultation(
                session, SETUP, kind="topical", held_on=day, topic=TOPIC, chain_ids=[SCOPED_CHAIN]
            )
            consultations.record_attendance(
                session,
                SETUP,
                meeting.id,
                {own.id: "present", li.id: "present", wang.id: "excused"},
                expected_version=None,
            )
            for who, kind, title, chains in (
                (li.id, "investment_event", "参加粤港澳大湾区糖业招商推介会", [SCOPED_CHAIN]),
                (wang.id, "matchmaking", "组织银企对接会，为蔗糖企业融资 3000 万元", []),
                (wang.id, "village_pairing", "百企扶百村：结对帮扶藤县某村", []),
                (li.id, "speech", "在专题协商会上就糖业技改发言", [SCOPED_CHAIN]),
            ):
                duties.add_duty(
                    session,
                    SETUP,
                    member_id=who,
                    kind=kind,
                    done_on=day,
                    title=title,
                    chain_ids=chains,
                    consultation_id=meeting.id if kind == "speech" else None,
                )
        found = {"member": own.name, "member_id": own.id, "meeting": meeting.id}
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


def yearly(live_settings: Settings) -> dict[str, int]:
    database = Database(live_settings.app_database_url)
    with database.session() as session:
        figures = assessment.yearly_report(session, SETUP, local_today().year).system
    database.dispose()
    return figures


def test_a_member_records_a_visit_and_the_office_raises_a_case(
    page_as: PageAs, cppcc_set_up: dict[str, Any], live_settings: Settings
) -> None:
    base = cppcc_set_up["base"]
    member = page_as("cppcc_member")
    errors = no_errors(member)
    member.goto(f"{base}/cppcc/duties/new")
    # the member is fixed to the account's own
    assert member.locator("select[name=member_id]").count() == 0
    assert member.input_value("input.cpd-fixed").startswith(cppcc_set_up["member"])
    member.select_option("select[name=kind]", "visit")
    member.fill("input[name=title]", "走访梧州某制糖企业，了解技改扩能用电需求")
    member.fill("input[name=enterprise_name]", "梧州测试糖业有限公司")
    member.check(f"input[name=chain_ids][value={SCOPED_CHAIN}]")
    member.select_option("select[name=consultation_id]", str(cppcc_set_up["meeting"]))
    member.fill(
        "textarea[name=description]",
        "企业反映：新建 2 万吨/日压榨线需要增容 10kV 专线，供电方案迟迟未批。",
    )
    shot(member, "cpd-2-duty-form")
    member.click("form.cpd-form button[type=submit]")
    member.wait_for_url(f"{base}/cppcc/duties/*")
    duty_url = member.url
    assert "走访梧州某制糖企业" in member.inner_text("h1")
    assert member.locator("#act-case").count() == 0  # a member does not raise cases
    assert "梧州测试糖业有限公司" in member.inner_text("#cpd-enterprise")

    office = page_as("chain_office")
    errors += no_errors(office)
    office.goto(duty_url)
    office.fill("#act-case input[name=title]", "压榨线 10kV 专线增容审批滞后")
    office.select_option("#act-case select[name=category]", "energy")
    shot(office, "cpd-2c-raise-case")
    office.click("#act-case button[type=submit]")
    office.wait_for_load_state("networkidle")
    link = office.locator("#case a[href^='/cases/']")
    assert link.count() == 1
    case_path = link.get_attribute("href")
    assert case_path is not None
    shot(office, "cpd-2b-duty")
    office.goto(f"{base}{case_path}")
    assert "压榨线 10kV 专线增容审批滞后" in office.inner_text("h1")
    assert "梧州测试糖业有限公司" in office.inner_text("main")

    member.goto(f"{base}/cppcc/duties")
    row = member.locator("table.cpd-table tbody tr", has_text="走访梧州某制糖企业").first
    assert "压榨线 10kV 专线增容审批滞后" in row.inner_text()
    shot(member, "cpd-1-duties")

    # the statistics count the visit and the difficulty, as the records say
    figures = yearly(live_settings)
    assert figures["duties_visit"] >= 1 and figures["difficulties_coordinated"] >= 1
    member.goto(f"{base}/cppcc/statistics")
    system = member.inner_text("#cpd-system")
    assert f"{figures['duties_visit']}" in member.inner_text("#kpi-duties_visit")
    assert member.inner_text("#kpi-difficulties_coordinated").split()[0] == str(
        figures["difficulties_coordinated"]
    )
    assert "走访企业" in system
    sentence = member.inner_text("#cpd-sentence")
    assert f"走访企业{figures['duties_visit']}家次" in sentence
    mine = member.locator(f"#cpd-members tr[data-member='{cppcc_set_up['member_id']}']")
    assert int(mine.locator("td[data-figure='duties_visit']").inner_text()) >= 1
    member.locator("#cpd-chart canvas").first.wait_for()
    shot(member, "cpd-4-statistics")
    with member.expect_download() as download:
        member.click("#cpd-stats-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")

    analyst = page_as("analyst")
    errors += no_errors(analyst)
    analyst.goto(f"{base}/cppcc/scoring")
    assert analyst.locator("#rules-form input[name=points_visit]").count() == 1
    assert cppcc_set_up["member"] in analyst.inner_text("#cpd-ranking")
    shot(analyst, "cpd-3-scoring")
    # a wrong value is named at its field and nothing is saved
    analyst.fill("#rules-form input[name=points_visit]", "两分")
    analyst.fill("#rules-form input[name=cap_research]", "-5")
    analyst.click("#rules-form button[type=submit]")
    analyst.wait_for_load_state("networkidle")
    assert "走访企业" in analyst.inner_text("#err-points_visit")
    assert "不能为负" in analyst.inner_text("#err-cap_research")
    assert analyst.input_value("#rules-form input[name=points_visit]") == "两分"
    shot(analyst, "cpd-3b-scoring-errors")
    assert errors == []
