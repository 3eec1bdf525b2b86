"""Review meetings on SQLite and PostgreSQL: the agenda built from overdue and open cases and
stalled projects, decisions that become cases, locking; the minutes as DOCX and PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow import cases, meetings
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict
from chainatlas.workflow.minutes import (
    DecisionLine,
    Minutes,
    minutes_docx,
    minutes_html,
    minutes_of,
    minutes_pdf,
)
from chainatlas.workflow.models import Project

SYSTEM = Actor.system("setup")
TODAY = date(2025, 6, 1)


def _setup(db: Database, organisation) -> dict[str, int]:
    ids: dict[str, int] = {}
    with db.session() as s:

        def case(key: str, **fields: object) -> None:
            values = {
                "title": key,
                "source": "enterprise",
                "category": "land",
                "chain_id": "toy",
                "enterprise_name": "梧州甲料科技有限公司",
                "raised_on": date(2025, 5, 6),
            } | fields
            ids[key] = cases.add_case(s, SYSTEM, **values).id  # type: ignore[arg-type]

        case("用地指标未落实", unit_id=organisation.land, deadline=date(2025, 5, 20))
        case(
            "融资担保待协调",
            category="finance",
            unit_id=organisation.commerce,
            deadline=date(2025, 6, 30),
        )
        case("物流专线申请", category="logistics")
        case("已办结的诉求", unit_id=organisation.land, deadline=date(2025, 5, 30))
        case("别的链的诉求", chain_id="other")
        cases.start_case(s, SYSTEM, ids["已办结的诉求"], expected_version=None)
        cases.resolve_case(s, SYSTEM, ids["已办结的诉求"], expected_version=None, resolution="好了")
        for name, stage, at in (
            ("乙件扩产项目", "negotiating", datetime(2025, 4, 17, 2, 0)),
            ("新近洽谈项目", "negotiating", datetime(2025, 5, 27, 2, 0)),
            ("早已投产项目", "in_production", datetime(2024, 1, 1)),
        ):
            project = Project(
                name=name,
                investor_name="广州乙件制造有限公司",
                chain_id="toy",
                stage=stage,
                stage_changed_at=at,
                unit_id=organisation.commerce,
                amount_wan=12000.0,
            )
            s.add(project)
            s.flush()
            ids[name] = project.id
    return ids


def test_agenda_decisions_and_minutes(db: Database, organisation) -> None:
    ids = _setup(db, organisation)
    with db.session() as s:
        office = organisation.actor(s, "office")
        meeting = meetings.create_meeting(
            s,
            office,
            chain_id="toy",
            held_on=date(2025, 6, 2),
            place="市政府 3 楼会议室",
            chair="张三",
            attendees=[
                meetings.AttendeeIn("张三", "副市长（链长）"),
                meetings.AttendeeIn("王科长", "", organisation.office),
                "李四",
            ],
            stalled_days=30,
            today=TODAY,
        )
        meeting_id = meeting.id
        agenda = [(item.reason, item.case_id or item.project_id) for item in meeting.agenda]
        assert agenda == [
            ("overdue", ids["用地指标未落实"]),
            ("open", ids["融资担保待协调"]),
            ("open", ids["物流专线申请"]),  # no deadline yet: last among open cases
            ("stalled", ids["乙件扩产项目"]),
        ]
        assert meeting.agenda[0].summary_zh.startswith(
            "【逾期 12 天】用地指标未落实（梧州甲料科技有限公司）；责任单位：自然资源局"
        )
        assert meeting.agenda[3].summary_zh.startswith("【停滞 45 天】乙件扩产项目")
        assert "stalled 45 days" in meeting.agenda[3].summary_en
        assert [a.name for a in meeting.attendees] == ["张三", "王科长", "李四"]

        action = meetings.add_decision(
            s,
            office,
            meeting_id,
            "由自然资源局牵头，6 月 20 日前完成乙件扩产项目用地预审",
            unit_id=organisation.land,
            deadline=date(2025, 6, 20),
            category="land",
        )
        reassigned = meetings.add_decision(
            s,
            office,
            meeting_id,
            "用地指标问题改由商务局会同自然资源局 6 月 15 日前解决",
            case_id=ids["用地指标未落实"],
            unit_id=organisation.commerce,
            deadline=date(2025, 6, 15),
        )
        note_only = meetings.add_decision(s, office, meeting_id, "下次调度会于 7 月初召开")
        with pytest.raises(UserError, match="需要指定责任单位"):
            meetings.add_decision(s, office, meeting_id, "尽快办理", deadline=date(2025, 6, 9))
        assert note_only.case_id is None and reassigned.case_id == ids["用地指标未落实"]
        new_case = cases.get_case(s, action.case_id)  # type: ignore[arg-type]
        assert (new_case.source, new_case.state, new_case.meeting_id) == (
            "meeting",
            "assigned",
            meeting_id,
        )
        assert (new_case.raised_on, new_case.deadline) == (date(2025, 6, 2), date(2025, 6, 20))
        assert new_case.unit is not None and new_case.unit.name == "自然资源局"
        moved = cases.get_case(s, ids["用地指标未落实"])
        assert moved.unit is not None and moved.unit.name == "商务局"
        assert moved.history[-1].note.startswith("调度会决定：")
        assert [c.id for c in cases.list_cases(s, office, meeting_id=meeting_id)] == [new_case.id]
        meetings.update_meeting(
            s,
            office,
            meeting_id,
            expected_version=None,
            summary="会议听取了各成员单位汇报。\n要求逐项抓好落实。",
        )
    with db.session() as s:
        land = organisation.actor(s, "land")
        minutes = minutes_of(s, land, meeting_id, chain_name="示例链")
        assert minutes.title == "示例链产业链调度会会议纪要"
        assert minutes.attendees == ["张三（副市长（链长））", "王科长", "李四"]
        assert [d.unit for d in minutes.decisions] == ["自然资源局", "商务局", ""]
        assert minutes.decision_detail(minutes.decisions[0]) == (
            "责任单位：自然资源局；办理期限：2025年6月20日；诉求编号：#"
            f"{minutes.decisions[0].case_id}；当前状态：已交办"
        )
        data = minutes_docx(minutes)
        english = minutes_of(s, land, meeting_id, chain_name="Toy chain", lang="en")
        assert english.title == "Toy chain chain review meeting: minutes"
        assert english.agenda[0][0] == "overdue case"
        with pytest.raises(NotAllowed):
            minutes_of(s, organisation.actor(s, "other_office"), meeting_id)
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    for expected in (
        "示例链产业链调度会会议纪要",
        "时间：2025年6月2日",
        "地点：市政府 3 楼会议室",
        "参会人员：张三（副市长（链长）），王科长，李四",
        "1. [逾期诉求] 【逾期 12 天】用地指标未落实",
        "4. [停滞项目] 【停滞 45 天】乙件扩产项目",
        "1. 由自然资源局牵头，6 月 20 日前完成乙件扩产项目用地预审",
        "3. 下次调度会于 7 月初召开",
        "要求逐项抓好落实。",
    ):
        assert expected in text, expected
    # Chinese text needs the East Asian font set, or Word falls back to a Latin one
    assert 'w:eastAsia="宋体"' in document.paragraphs[1]._p.xml


def test_meeting_rights_locking_and_refresh(db: Database, organisation) -> None:
    ids = _setup(db, organisation)
    with pytest.raises(NotAllowed), db.session() as s:
        meetings.create_meeting(
            s, organisation.actor(s, "land"), chain_id="toy", held_on=TODAY, today=TODAY
        )
    with pytest.raises(NotAllowed), db.session() as s:
        meetings.create_meeting(
            s, organisation.actor(s, "office"), chain_id="other", held_on=TODAY, today=TODAY
        )
    with db.session() as s:
        meeting = meetings.create_meeting(
            s, organisation.actor(s, "office"), chain_id="toy", held_on=TODAY, today=TODAY
        )
        meeting_id, version = meeting.id, meeting.version
    with db.session() as s:
        cases.start_case(s, SYSTEM, ids["用地指标未落实"], expected_version=None)
        cases.resolve_case(
            s, SYSTEM, ids["用地指标未落实"], expected_version=None, resolution="已落实"
        )
    with db.session() as s:
        office = organisation.actor(s, "office")
        refreshed = meetings.refresh_agenda(
            s, office, meeting_id, expected_version=version, today=TODAY, stalled_days=60
        )
        assert [i.reason for i in refreshed.agenda] == ["open", "open"]  # resolved; 45 < 60 days
        assert refreshed.version == version + 1
    with pytest.raises(EditConflict, match="该调度会已被他人修改"), db.session() as s:
        meetings.update_meeting(
            s, organisation.actor(s, "office"), meeting_id, expected_version=version, title="旧页面"
        )
    with db.session() as s:
        meeting = meetings.get_meeting(s, meeting_id)
        assert meeting.title == "" and meeting.stalled_days == 60
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"review_meeting:{meeting_id}")
        ).all()
        assert actions == ["meeting.add", "meeting.agenda"]
        assert [m.id for m in meetings.list_meetings(s, organisation.actor(s, "land"))] == [
            meeting_id
        ]
        assert meetings.list_meetings(s, organisation.actor(s, "other_office")) == []


def _minutes() -> Minutes:
    return Minutes(
        lang="zh",
        title="蔗糖产业链调度会会议纪要",
        held_on=date(2025, 5, 26),
        place="滁州市政府",
        chair="吴劲",
        attendees=["许继伟（链长）", "王图强"],
        agenda=[("逾期诉求", "【逾期 3 天】糖厂技改用能指标<未落实>")],
        agenda_note="议程依据 2025-05-26 的在办诉求与停滞 30 天以上的项目生成",
        decisions=[DecisionLine("建立产业项目库", "发改委", date(2025, 6, 30), 7, "已交办")],
        summary="全力以赴建链补链延链强链。<script>alert(1)</script>",
        generated_at=datetime(2025, 5, 26, 18, 0),
    )


def test_minutes_html_escapes_what_people_typed() -> None:
    html = minutes_html(_minutes())
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "糖厂技改用能指标&lt;未落实&gt;" in html
    assert "@page { size: A4 portrait" in html


@pytest.mark.browser
def test_minutes_pdf_opens_with_its_chinese_text(tmp_path: Path) -> None:
    path = minutes_pdf(_minutes(), tmp_path / "minutes.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed to read the PDF back"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    squeezed = "".join(text.split())
    for expected in (
        "蔗糖产业链调度会会议纪要",
        "2025年5月26日",
        "许继伟（链长）",
        "建立产业项目库",
        "责任单位：发改委",
        "全力以赴建链补链延链强链",
    ):
        assert expected in squeezed, expected
