"""Consultation plans and meetings on SQLite and PostgreSQL: the yearly plan, meetings made
by hand and from a document-intake draft (the Wuzhou sample), attendance, who may see and
change them, and edits from stale copies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chainatlas.cppcc import consultations as svc
from chainatlas.cppcc import plans
from chainatlas.cppcc.intake import extract_meeting
from chainatlas.cppcc.models import AttendanceRecord, Consultation
from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict
from chainatlas.workflow.models import Case

SYSTEM = Actor.system("setup")
DATA = Path(__file__).with_name("data")
WUZHOU_GROUPS = ["rcck", "cdl", "cndca", "capd", "pwdp", "czgd", "jiusan", "acfic", "non_party"]


def _meeting(db: Database, **fields) -> int:  # type: ignore[no-untyped-def]
    values = {
        "kind": "topical",
        "held_on": date(2025, 3, 20),
        "topic": "甘蔗产业延链补链",
        "region_code": "450400",
        "chain_ids": ["toy"],
    } | fields
    with db.session() as s:
        return svc.create_consultation(s, SYSTEM, **values).id


def test_yearly_plan_of_topics_by_kind(db: Database, setting, chains) -> None:
    with db.session() as s:
        analyst = setting.actor(s, "analyst")
        plan = plans.create_plan(
            s,
            analyst,
            2025,
            region_code="450400",
            topics=[
                plans.TopicIn("专题协商", "推动产业延链补链强链", "toy", 7, "经济委员会"),
                plans.TopicIn("counterpart", "优化营商环境", planned_month=5),
                plans.TopicIn("sector", "民营企业融资", lead="工商联界"),
                plans.TopicIn("双月协商", "乡村振兴与百企扶百村", planned_month=9),
            ],
            chains=chains,
        )
        assert plan.title == "2025年度协商计划"
        assert [t.kind for t in plan.topics] == ["topical", "counterpart", "sector", "bimonthly"]
        assert plan.topics[0].chain_id == "toy" and plan.topics[0].lead == "经济委员会"
        plan_id, version, first = plan.id, plan.version, plan.topics[0].id
    with db.session() as s, pytest.raises(UserError, match="已存在"):
        plans.create_plan(s, SYSTEM, 2025, region_code="450400")
    with db.session() as s, pytest.raises(UserError, match="协商类型「other」无效"):
        plans.add_plan_topic(
            s, SYSTEM, plan_id, plans.TopicIn("other", "政党协商"), expected_version=None
        )
    with db.session() as s, pytest.raises(UserError, match="计划月份 13 无效"):
        plans.add_plan_topic(
            s,
            SYSTEM,
            plan_id,
            plans.TopicIn("topical", "x", planned_month=13),
            expected_version=None,
        )
    with db.session() as s, pytest.raises(UserError, match="未知产业链"):
        plans.add_plan_topic(
            s,
            SYSTEM,
            plan_id,
            plans.TopicIn("topical", "x", chain_id="nope"),
            expected_version=None,
            chains=chains,
        )
    with db.session() as s:
        plans.update_plan_topic(
            s,
            SYSTEM,
            first,
            plans.TopicIn("topical", "推动产业延链补链强链", "toy", 7, "经济委员会、提案委员会"),
            expected_version=version,
        )
    # the editor's copy of the plan is now stale
    with db.session() as s, pytest.raises(EditConflict):
        plans.remove_plan_topic(s, SYSTEM, first, expected_version=version)
    with db.session() as s:
        with pytest.raises(NotAllowed):
            plans.create_plan(s, setting.actor(s, "zhang"), 2026)
        assert len(plans.list_plans(s, setting.actor(s, "viewer"))) == 1
        with pytest.raises(NotAllowed):
            plans.list_plans(s, setting.actor(s, "office"))
    # a meeting filed under the wrong topic is moved to the right one, then back
    meeting = _meeting(db, plan_topic_id=None, held_on=date(2025, 7, 15))
    with db.session() as s:
        second = plans.get_plan(s, plan_id).topics[1].id
        svc.update_consultation(s, SYSTEM, meeting, expected_version=None, plan_topic_id=second)
    with db.session() as s:
        assert svc.get_consultation(s, meeting).plan_topic_id == second
        with pytest.raises(UserError, match="没有编号为 999999 的计划议题"):
            svc.update_consultation(s, SYSTEM, meeting, expected_version=None, plan_topic_id=999999)
        svc.update_consultation(s, SYSTEM, meeting, expected_version=None, plan_topic_id=first)
        svc.update_consultation(s, SYSTEM, meeting, expected_version=None, title="改题不改议题")
    with db.session() as s:
        assert svc.get_consultation(s, meeting).plan_topic_id == first
        progress = plans.plan_progress(s, SYSTEM, plan_id)
        assert [p.held for p in progress] == [True, False, False, False]
        assert progress[0].meetings[0].id == meeting
        assert progress[0].topic.lead == "经济委员会、提案委员会"
        plan = plans.get_plan(s, plan_id)
        plans.remove_plan_topic(s, SYSTEM, first, expected_version=plan.version)
    with db.session() as s:
        plan = plans.get_plan(s, plan_id)
        assert [t.position for t in plan.topics] == [0, 1, 2]
        # the meeting held for the removed topic keeps its record
        assert svc.get_consultation(s, meeting).plan_topic_id is None
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"consultation_plan:{plan_id}")
        ).all()
        assert actions == [
            "cppcc.plan.add",
            "cppcc.plan.topic_edit",
            "cppcc.plan.topic_remove",
        ]


def test_meeting_from_the_wuzhou_report(db: Database, setting) -> None:
    """The sample: 2025-07-15, 梧州市, a consultation on 推动梧州产业延链补链强链 where the
    eight groups and the non-party representatives spoke, chaired by 蒋连生."""
    draft = extract_meeting((DATA / "wuzhou_consultation_2025.txt").read_text(encoding="utf-8"))
    with db.session() as s:
        meeting = svc.meeting_from_draft(s, setting.actor(s, "analyst"), draft)
        meeting_id = meeting.id
    with db.session() as s:
        meeting = svc.get_consultation(s, meeting_id)
        assert meeting.held_on == date(2025, 7, 15)
        assert meeting.region_code == "450400"
        assert meeting.kind == "topical"  # the report speaks of 专题协商成果
        assert meeting.topic == "推动梧州产业延链补链强链"
        assert meeting.title == "2025年第一次政党协商座谈会"
        assert sorted(g.group_id for g in meeting.groups) == sorted(WUZHOU_GROUPS)
        assert all(g.spoke for g in meeting.groups)
        assert [(x.name, x.title) for x in meeting.leaders] == [
            ("蒋连生", "市委书记"),
            ("何世恰", "市领导"),
            ("邝驱", "市领导"),
            ("杨桢", "市领导"),
        ]
        assert meeting.leaders[0].roles == "chair,speech,present"
        assert meeting.chain_ids == []
        assert "上一次政党协商座谈会意见建议办理" in meeting.report_text
        assert meeting.created_by == "analyst"
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.target == f"consultation:{meeting_id}")
        ).one()
        assert entry.action == "cppcc.consultation.add" and entry.username == "analyst"
    # a person may correct what was read
    with db.session() as s:
        fixed = svc.meeting_from_draft(
            s, SYSTEM, draft, kind="other", chain_ids=["toy"], keep_report=False
        )
        assert (fixed.kind, fixed.chain_ids, fixed.report_text) == ("other", ["toy"], "")


def test_a_review_meeting_draft_needs_a_kind_and_a_date(db: Database, setting) -> None:
    draft = extract_meeting((DATA / "chuzhou_chain_dispatch.txt").read_text(encoding="utf-8"))
    with db.session() as s:
        with pytest.raises(UserError, match="调度会") as caught:
            svc.meeting_from_draft(s, SYSTEM, draft)
        assert "choose the consultation kind" in caught.value.message_en
        with pytest.raises(UserError, match="会议日期"):
            svc.meeting_from_draft(s, SYSTEM, draft, kind="topical")
        meeting = svc.meeting_from_draft(
            s, SYSTEM, draft, kind="topical", held_on=date(2025, 5, 26)
        )
        assert (meeting.region_code, meeting.topic) == ("341100", "市八大产业链工作调度推进会")


def test_attendance_of_members(db: Database, setting) -> None:
    meeting_id = _meeting(db)
    with db.session() as s:
        meeting = svc.get_consultation(s, meeting_id)
        svc.record_attendance(
            s,
            setting.actor(s, "analyst"),
            meeting_id,
            {
                setting.zhang: "present",
                setting.li: svc.AttendanceIn("请假", "外出调研"),
                setting.wang: "absent",
            },
            expected_version=meeting.version,
        )
    with db.session() as s:
        meeting = svc.get_consultation(s, meeting_id)
        assert svc.attendance_counts(meeting) == {"present": 1, "absent": 1, "excused": 1}
        assert {r.member.name: (r.status, r.note) for r in meeting.attendance}["李委员"] == (
            "excused",
            "外出调研",
        )
        stale = meeting.version
        svc.record_attendance(
            s,
            SYSTEM,
            meeting_id,
            {setting.wang: "present", setting.li: None},
            expected_version=stale,
        )
    with db.session() as s:
        meeting = svc.get_consultation(s, meeting_id)
        assert svc.attendance_counts(meeting) == {"present": 2, "absent": 0, "excused": 0}
        with pytest.raises(EditConflict):
            svc.record_attendance(
                s, SYSTEM, meeting_id, {setting.li: "present"}, expected_version=stale
            )
    # a bad entry refuses the whole form: nothing changes
    with pytest.raises(UserError, match="王委员的出席情况「迟到」无效"), db.session() as s:
        svc.record_attendance(
            s,
            SYSTEM,
            meeting_id,
            {setting.li: "present", setting.wang: "迟到"},
            expected_version=None,
        )
    with pytest.raises(UserError, match="没有编号为 999 的委员"), db.session() as s:
        svc.record_attendance(
            s, SYSTEM, meeting_id, {setting.li: "present", 999: "present"}, expected_version=None
        )
    with db.session() as s:
        rows = s.scalars(select(AttendanceRecord).order_by(AttendanceRecord.member_id)).all()
        assert [(r.member_id, r.status) for r in rows] == [
            (setting.zhang, "present"),
            (setting.wang, "present"),
        ]
        with pytest.raises(NotAllowed):
            svc.record_attendance(
                s,
                setting.actor(s, "zhang"),
                meeting_id,
                {setting.zhang: "present"},
                expected_version=None,
            )


def test_who_sees_and_changes_meetings(db: Database, setting) -> None:
    toy = _meeting(db, chain_ids=["toy"])
    other = _meeting(db, chain_ids=["other"], topic="其他链协商")
    both = _meeting(db, chain_ids=["other", "toy"], topic="两链协商")
    none = _meeting(db, chain_ids=[], topic="营商环境")
    with db.session() as s:
        seen = {
            name: {m.id for m in svc.list_consultations(s, setting.actor(s, name))}
            for name in setting.users
        }
        assert seen["office"] == seen["commerce"] == {toy, both}
        assert seen["land"] == {other, both}
        assert seen["viewer"] == seen["zhang"] == seen["analyst"] == {toy, other, both, none}
        office = setting.actor(s, "office")
        assert svc.get_consultation(s, both, office).id == both
        with pytest.raises(NotAllowed, match="无权查看此协商会议"):
            svc.get_consultation(s, other, office)
        with pytest.raises(NotAllowed):
            svc.update_consultation(s, office, toy, expected_version=None, topic="改")
        with pytest.raises(NotAllowed):
            svc.create_consultation(
                s,
                setting.actor(s, "zhang"),
                kind="topical",
                held_on=date(2025, 1, 1),
                topic="委员自行召开",
            )
        assert {m.id for m in svc.list_consultations(s, SYSTEM, year=2025, chain_id="toy")} == {
            toy,
            both,
        }
        assert svc.list_consultations(s, SYSTEM, year=2024) == []


def test_edits_and_two_people_editing_one_meeting(db: Database, setting, chains) -> None:
    meeting_id = _meeting(db)
    with db.session() as s:
        version = svc.get_consultation(s, meeting_id).version
    with db.session() as s:
        meeting = svc.update_consultation(
            s,
            SYSTEM,
            meeting_id,
            expected_version=version,
            topic="甘蔗产业强链",
            groups=["民建", svc.GroupIn("工商联", speakers=["陈某"]), "民建"],
            leaders=[svc.LeaderIn("赵某", "市政协主席", ("chair",))],
            chain_ids=["toy", "other"],
            chains=chains,
        )
        assert [(g.group_id, g.spoke, g.speakers) for g in meeting.groups] == [
            ("cndca", False, ""),
            ("acfic", True, "陈某"),
        ]
        assert sorted(meeting.chain_ids) == ["other", "toy"]
    with db.session() as s, pytest.raises(EditConflict):
        svc.update_consultation(s, SYSTEM, meeting_id, expected_version=version, place="会议室")
    with db.session() as s, pytest.raises(UserError, match="领导职责「发言」无效"):
        svc.update_consultation(
            s,
            SYSTEM,
            meeting_id,
            expected_version=None,
            leaders=[svc.LeaderIn("赵某", "", ("发言",))],
        )
    # two sessions load the same meeting; the second save is refused, nothing overwritten
    with db.session() as first, db.session() as second:
        held = svc.get_consultation(second, meeting_id)
        svc.update_consultation(first, SYSTEM, meeting_id, expected_version=None, place="一楼")
        first.commit()
        with pytest.raises(EditConflict):
            svc.update_consultation(second, SYSTEM, meeting_id, expected_version=None, place="二楼")
        second.rollback()
        assert held.place == "一楼"
    with db.session() as s:
        meeting = svc.get_consultation(s, meeting_id)
        assert (meeting.place, meeting.topic) == ("一楼", "甘蔗产业强链")
        assert meeting.chain_ids == ["other", "toy"]
        edits = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target == f"consultation:{meeting_id}",
                AuditEntry.action == "cppcc.consultation.edit",
            )
        ).all()
        assert len(edits) == 2


def test_previous_meeting_of_the_same_kind_region_and_chain(db: Database, setting) -> None:
    first = _meeting(db, held_on=date(2024, 11, 5))
    _meeting(db, held_on=date(2025, 1, 10), kind="sector")
    _meeting(db, held_on=date(2025, 2, 10), chain_ids=["other"])
    _meeting(db, held_on=date(2025, 2, 11), region_code="450100")
    latest = _meeting(db, held_on=date(2025, 3, 20))
    party_1 = _meeting(db, kind="other", chain_ids=[], held_on=date(2024, 12, 1))
    party_2 = _meeting(db, kind="other", chain_ids=[], held_on=date(2025, 7, 15))
    with db.session() as s:
        assert svc.previous_consultation(s, svc.get_consultation(s, latest)).id == first
        assert svc.previous_consultation(s, svc.get_consultation(s, first)) is None
        assert svc.previous_consultation(s, svc.get_consultation(s, party_2)).id == party_1


def test_a_meeting_raises_a_case(db: Database, setting) -> None:
    meeting_id = _meeting(db)
    with db.session() as s:
        case = svc.raise_case(
            s,
            SYSTEM,
            meeting_id,
            title="园区用电扩容",
            category="energy",
            chain_id="toy",
            enterprise_name="梧州甲料科技有限公司",
            unit_id=setting.commerce,
            deadline=date(2025, 6, 30),
        )
        case_id = case.id
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert (case.source, case.raised_on, case.state) == (
            "meeting",
            date(2025, 3, 20),
            "assigned",
        )
        assert [c.case_id for c in svc.get_consultation(s, meeting_id).cases] == [case_id]
        # the analyst may not raise chain-chief cases: nothing is created
        with pytest.raises(NotAllowed):
            svc.raise_case(
                s,
                setting.actor(s, "analyst"),
                meeting_id,
                title="x",
                category="land",
                chain_id="toy",
            )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(Consultation)) == 1
