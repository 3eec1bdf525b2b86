"""调度会 pages: a meeting's agenda lists the chain's overdue case (first, in red) and its
stalled project; decisions become cases with an owner unit and deadline or reassign a case
on the table; the minutes download as DOCX (python-docx reads them) and PDF; who may do
what."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import unquote

import pytest
from docx import Document
from sqlalchemy import select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.workflow_world import OTHER, World, csrf_on, make_world, version_on

from chainatlas.db.base import utcnow
from chainatlas.settings import Settings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import Case, ReviewMeeting

ADMIN = Actor.system("setup")


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> World:
    made = make_world(tmp_path_factory.mktemp("wfmeetings"), web_settings, PASSWORD)
    today = local_today()
    with made.state.db.session() as session:
        case_service.add_case(
            session,
            ADMIN,
            title="蔗区道路硬化迟迟未批",
            source="enterprise",
            category="approvals",
            chain_id=SCOPED_CHAIN,
            enterprise_name="苍梧测试蔗业合作社",
            raised_on=today - timedelta(days=45),
            unit_id=made.units.unit_a,
            deadline=today - timedelta(days=12),
        )
        case_service.add_case(
            session,
            ADMIN,
            title="糖厂用工招聘",
            source="member",
            category="talent",
            chain_id=SCOPED_CHAIN,
        )
        stalled = project_service.add_project(
            session,
            ADMIN,
            name="甘蔗良种繁育基地",
            investor_name="广西测试种业有限公司",
            chain_id=SCOPED_CHAIN,
        )
        # a project that has not moved for 60 days (set directly: the clock is the test's)
        stalled.stage_changed_at = utcnow() - timedelta(days=60)
    return made


def create_meeting(world: World, client_name: str = "office") -> int:
    client = world.client(client_name)
    form = client.get(f"/meetings/new?chain={SCOPED_CHAIN}")
    assert form.status_code == 200
    response = client.post(
        "/meetings",
        data={
            "csrf_token": csrf_on(form.text),
            "chain_id": SCOPED_CHAIN,
            "held_on": local_today().isoformat(),
            "place": "市政府 3 楼会议室",
            "chair": "李副市长",
            "attendees": "张三 市工信局局长\n李四，市商务局副局长\n王五（自然资源局）",
            "stalled_days": "30",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:1000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_the_agenda_lists_the_overdue_case_first_in_red(world: World) -> None:
    meeting_id = create_meeting(world)
    office = world.client("office")
    page = office.get(f"/meetings/{meeting_id}").text
    agenda = page.split('class="data wf-agenda"')[1].split("</table>")[0]
    rows = agenda.split("<tr")[2:]  # after the header row
    assert len(rows) == 3
    assert 'class="wf-red"' in rows[0] and "蔗区道路硬化迟迟未批" in rows[0]
    assert "逾期 12 天" in rows[0] and "自然资源局" in rows[0]
    assert "糖厂用工招聘" in rows[1] and "在办诉求" in rows[1]
    assert "甘蔗良种繁育基地" in rows[2] and "停滞 60 天" in rows[2]
    assert "张三（市工信局局长）" in page and "李四（市商务局副局长）" in page
    listing = office.get("/meetings").text
    assert f'href="/meetings/{meeting_id}"' in listing and "甘蔗制糖产业链调度会" in listing


def test_decisions_become_cases_or_reassign_them(world: World) -> None:
    meeting_id = create_meeting(world)
    office = world.client("office")
    page = office.get(f"/meetings/{meeting_id}").text
    deadline = (local_today() + timedelta(days=20)).isoformat()
    response = office.post(
        f"/meetings/{meeting_id}/decisions",
        data={
            "csrf_token": csrf_on(page),
            "decision": "由商务局牵头对接糖企产销衔接，月底前拿出方案",
            "mode": "new_case",
            "unit_id": str(world.units.unit_b),
            "deadline": deadline,
            "category": "market",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:1000]
    with world.state.db.session() as session:
        made = session.scalars(select(Case).where(Case.meeting_id == meeting_id)).one()
        overdue = session.scalars(select(Case).where(Case.title == "蔗区道路硬化迟迟未批")).one()
        assert (made.source, made.state, made.unit_id, made.deadline.isoformat()) == (
            "meeting",
            "assigned",
            world.units.unit_b,
            deadline,
        )
        overdue_id = overdue.id
    # reassign the overdue case on the table to 商务局 with a new deadline
    response = office.post(
        f"/meetings/{meeting_id}/decisions",
        data={
            "csrf_token": csrf_on(page),
            "decision": "道路硬化改由商务局协调",
            "mode": "reassign",
            "case_id": str(overdue_id),
            "unit_id": str(world.units.unit_b),
            "deadline": deadline,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with world.state.db.session() as session:
        case = session.get(Case, overdue_id)
        assert case is not None
        assert (case.unit_id, case.deadline.isoformat(), case.escalated_at) == (
            world.units.unit_b,
            deadline,
            None,
        )
    page = office.get(f"/meetings/{meeting_id}").text
    decisions = page.split('class="data wf-decisions"')[1].split("</table>")[0]
    assert "由商务局牵头对接糖企产销衔接" in decisions and f'href="/cases/{made.id}"' in decisions
    assert "商务局" in decisions and deadline in decisions

    # a new case needs its owner unit: 422 naming it, nothing recorded
    refused = office.post(
        f"/meetings/{meeting_id}/decisions",
        data={"csrf_token": csrf_on(page), "decision": "待定事项", "mode": "new_case"},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "责任单位" in refused.text
    with world.state.db.session() as session:
        meeting = session.get(ReviewMeeting, meeting_id)
        assert meeting is not None and len(meeting.decisions) == 2

    # a member unit reads the meeting but records no decision; another chain's office sees nothing
    unit_a = world.client("unit_a")
    assert unit_a.get(f"/meetings/{meeting_id}").status_code == 200
    refused = unit_a.post(
        f"/meetings/{meeting_id}/decisions",
        data={"csrf_token": csrf_on(page), "decision": "越权决定", "mode": "note"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    nev = world.client("nev_office")
    assert nev.get(f"/meetings/{meeting_id}").status_code == 403
    assert nev.get(f"/meetings/{meeting_id}/minutes.docx").status_code == 403
    assert nev.get(f"/meetings?chain={SCOPED_CHAIN}").status_code == 403
    assert f'href="/meetings/{meeting_id}"' not in nev.get(f"/meetings?chain={OTHER}").text


def test_summary_edits_are_locked_and_the_minutes_download(world: World) -> None:
    meeting_id = create_meeting(world)
    first, second = world.client("office"), world.client("office")
    page_1 = first.get(f"/meetings/{meeting_id}").text
    page_2 = second.get(f"/meetings/{meeting_id}").text
    fields = {"held_on": local_today().isoformat(), "attendees": "张三 市工信局局长"}
    ok = first.post(
        f"/meetings/{meeting_id}/edit",
        data={
            "csrf_token": csrf_on(page_1),
            "version": version_on(page_1),
            "summary": "会议听取了甘蔗制糖产业链工作汇报。\n会议要求各成员单位按期办结交办事项。",
            **fields,
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    stale = second.post(
        f"/meetings/{meeting_id}/edit",
        data={
            "csrf_token": csrf_on(page_2),
            "version": version_on(page_2),
            "summary": "被覆盖",
            **fields,
        },
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text

    docx = first.get(f"/meetings/{meeting_id}/minutes.docx")
    assert docx.status_code == 200
    name = unquote(docx.headers["content-disposition"].split("filename*=UTF-8''")[1])
    assert name.startswith("甘蔗制糖产业链调度会会议纪要") and name.endswith(".docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "甘蔗制糖产业链调度会会议纪要" in text
    assert "会议要求各成员单位按期办结交办事项" in text and "被覆盖" not in text
    assert "张三（市工信局局长）" in text and "蔗区道路硬化迟迟未批" in text

    pdf = first.get(f"/meetings/{meeting_id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
