"""Suggestions, proposals and opinion reports on SQLite and PostgreSQL: raised, assigned to
handling units, answered by each unit, and tracked to a result with progress and
milestones; who may do what; history, audit, stale edits and failed transactions."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from chainatlas.cppcc import consultations, duties, results
from chainatlas.cppcc import suggestions as svc
from chainatlas.cppcc.models import DutyRecord, Submission
from chainatlas.cppcc.permissions import may_any
from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict

SYSTEM = Actor.system("setup")
MEETING_DAY = date(2025, 3, 20)


def _meeting(db: Database) -> int:
    with db.session() as s:
        return consultations.create_consultation(
            s,
            SYSTEM,
            kind="topical",
            held_on=MEETING_DAY,
            topic="甘蔗产业延链补链",
            chain_ids=["toy"],
        ).id


def _suggestion(db: Database, meeting_id: int | None = None, **fields) -> int:  # type: ignore[no-untyped-def]
    values = {
        "kind": "suggestion",
        "title": "设立甘蔗产业链专项基金",
        "group": "民革",
        "chain_id": "toy",
        "consultation_id": meeting_id,
    } | fields
    with db.session() as s:
        return svc.add_submission(s, SYSTEM, **values).id


def _handling(db: Database, submission_id: int, unit_id: int) -> tuple[int, int]:
    with db.session() as s:
        row = next(
            h for h in svc.get_submission(s, submission_id).handlings if h.unit_id == unit_id
        )
        return row.id, row.version


def test_raise_assign_answer(db: Database, setting) -> None:
    meeting_id = _meeting(db)
    with db.session() as s:
        li = setting.actor(s, "li")
        proposal = svc.add_submission(
            s,
            li,
            kind="提案",
            title="关于延伸甘蔗产业链条的提案",
            content="建议引进蔗渣综合利用项目。",
            consultation_id=meeting_id,
            member_id=setting.li,
            co_signers=[setting.zhang, setting.wang, setting.li],
            chain_id="toy",
            number="第45号",
        )
        assert proposal.raised_on == MEETING_DAY  # the meeting's day
        assert [x.member.name for x in proposal.signers] == ["张委员", "王委员"]
        proposal_id = proposal.id
        # the proposal counts as the member's duty
        duty = s.scalars(select(DutyRecord).where(DutyRecord.submission_id == proposal_id)).one()
        assert (duty.member_id, duty.kind, duty.done_on) == (setting.li, "proposal", MEETING_DAY)
    with db.session() as s:
        with pytest.raises(NotAllowed):  # a member does not assign
            svc.assign_units(
                s,
                setting.actor(s, "li"),
                proposal_id,
                [svc.HandlingIn(setting.commerce)],
                expected_version=None,
            )
        with pytest.raises(UserError, match="只能有一个主办单位"):
            svc.assign_units(
                s,
                SYSTEM,
                proposal_id,
                [svc.HandlingIn(setting.commerce, True), svc.HandlingIn(setting.office, True)],
                expected_version=None,
            )
        with pytest.raises(UserError, match="办理期限（2025-03-01）不能早于提出日期"):
            svc.assign_units(
                s,
                SYSTEM,
                proposal_id,
                [svc.HandlingIn(setting.commerce, deadline=date(2025, 3, 1))],
                expected_version=None,
            )
    with db.session() as s:
        version = svc.get_submission(s, proposal_id).version
        submission = svc.assign_units(
            s,
            setting.actor(s, "analyst"),
            proposal_id,
            [
                svc.HandlingIn(setting.office, deadline=date(2025, 6, 30)),
                svc.HandlingIn(setting.commerce, lead=True, deadline=date(2025, 6, 30)),
            ],
            expected_version=version,
        )
        assert submission.state == "assigned"
        assert {h.unit.name: h.lead for h in submission.handlings} == {
            "工信局": False,
            "商务局": True,
        }
    commerce_row, commerce_version = _handling(db, proposal_id, setting.commerce)
    office_row, office_version = _handling(db, proposal_id, setting.office)
    with db.session() as s:
        commerce = setting.actor(s, "commerce")
        # a unit answers for itself only; a unit not handling it does not see it
        with pytest.raises(NotAllowed, match="无权答复"):
            svc.answer(s, commerce, office_row, expected_version=None, answer_text="代答")
        with pytest.raises(NotAllowed, match="无权查看"):
            svc.get_submission(s, proposal_id, setting.actor(s, "land"))
        with pytest.raises(NotAllowed):
            svc.answer(
                s, setting.actor(s, "viewer"), commerce_row, expected_version=None, answer_text="x"
            )
        with pytest.raises(UserError, match="答复日期（2025-03-01）不能早于提出日期"):
            svc.answer(
                s,
                commerce,
                commerce_row,
                expected_version=None,
                answer_text="x",
                answered_on=date(2025, 3, 1),
            )
    with db.session() as s:
        svc.answer(
            s,
            setting.actor(s, "commerce"),
            commerce_row,
            expected_version=commerce_version,
            answer_text="已将蔗渣综合利用项目列入招商重点。",
            answered_on=date(2025, 5, 10),
            answered_by="商务局局长 陈某",
        )
        assert svc.get_submission(s, proposal_id).state == "assigned"  # 工信局 has not answered
    with db.session() as s:
        svc.answer(
            s,
            setting.actor(s, "office"),
            office_row,
            expected_version=office_version,
            answer_text="支持园区配套建设。",
            answered_on=date(2025, 5, 12),
        )
    with db.session() as s:
        submission = svc.get_submission(s, proposal_id)
        assert submission.state == "answered"
        lead = submission.handlings[0]  # the lead unit comes first
        assert lead.unit.name == "商务局"
        assert (lead.answered_on, lead.answered_by, lead.answered_user) == (
            date(2025, 5, 10),
            "商务局局长 陈某",
            "commerce",
        )
        # the answer form of 商务局 is now stale
        with pytest.raises(EditConflict, match="该答复已被他人修改"):
            svc.answer(
                s,
                setting.actor(s, "commerce"),
                commerce_row,
                expected_version=commerce_version,
                answer_text="改",
            )
    with db.session() as s:
        # answering again replaces the answer, the earlier one stays in the history
        svc.answer(
            s,
            setting.actor(s, "commerce"),
            commerce_row,
            expected_version=None,
            answer_text="项目已签约。",
            answered_on=date(2025, 6, 1),
        )
        # a unit added later reopens the handling
        svc.assign_units(
            s, SYSTEM, proposal_id, [svc.HandlingIn(setting.land)], expected_version=None
        )
        assert svc.get_submission(s, proposal_id).state == "assigned"
        with pytest.raises(UserError, match="商务局已答复，不能移除"):
            svc.remove_unit(s, SYSTEM, proposal_id, setting.commerce, expected_version=None)
        svc.remove_unit(s, SYSTEM, proposal_id, setting.land, expected_version=None, note="误派")
    with db.session() as s:
        submission = svc.get_submission(s, proposal_id)
        assert submission.state == "answered"
        assert submission.handlings[0].answer == "项目已签约。"
        history = [(h.action, h.from_state, h.to_state, h.username) for h in submission.history]
        assert history == [
            ("create", None, "registered", "li"),
            ("assign", "registered", "assigned", "analyst"),
            ("answer", "assigned", "assigned", "commerce"),
            ("answer", "assigned", "answered", "office"),
            ("answer", "answered", "answered", "commerce"),
            ("assign", "answered", "assigned", "setup"),
            ("unassign", "assigned", "answered", "setup"),
        ]
        assert json.loads(submission.history[4].detail)["previous_answer"] == (
            "已将蔗渣综合利用项目列入招商重点。"
        )
        audit = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"submission:{proposal_id}")
        ).all()
        assert audit == [
            "cppcc.submission.add",
            "cppcc.submission.assign",
            "cppcc.submission.answer",
            "cppcc.submission.answer",
            "cppcc.submission.answer",
            "cppcc.submission.assign",
            "cppcc.submission.unassign",
        ]


def test_who_raises_what(db: Database, setting) -> None:
    with db.session() as s:
        zhang = setting.actor(s, "zhang")
        # a member registers its own proposals, not another member's nor a party's
        with pytest.raises(NotAllowed):
            svc.add_submission(s, zhang, kind="proposal", title="t", member_id=setting.li)
        with pytest.raises(NotAllowed):
            svc.add_submission(s, zhang, kind="suggestion", title="t", group="民革")
        with pytest.raises(UserError, match="请填写提出者"):
            svc.add_submission(s, SYSTEM, kind="opinion_report", title="t")
        with pytest.raises(UserError, match="只有提案可以联名"):
            svc.add_submission(
                s, SYSTEM, kind="suggestion", title="t", group="民盟", co_signers=[setting.li]
            )
        with pytest.raises(UserError, match="类型「议案」无效"):
            svc.add_submission(s, SYSTEM, kind="议案", title="t", group="民盟")
        report = svc.add_submission(
            s,
            zhang,
            kind="社情民意信息",
            title="蔗农收购价波动",
            member_id=setting.zhang,
            raised_on=date(2025, 4, 2),
        )
        assert (report.kind, report.state, report.status, report.progress) == (
            "opinion_report",
            "registered",
            "planned",
            0.0,
        )
        # only proposals count as a proposal duty
        assert s.scalars(select(DutyRecord)).all() == []


def test_result_with_progress_and_milestones(db: Database, setting) -> None:
    submission_id = _suggestion(db, _meeting(db), units=[svc.HandlingIn(setting.commerce)])
    with db.session() as s:
        commerce = setting.actor(s, "commerce")
        version = svc.get_submission(s, submission_id).version
        results.update_result(
            s, commerce, submission_id, expected_version=version, status="正在落实", progress=40
        )
        with pytest.raises(NotAllowed, match="无权更新办理进展"):
            results.update_result(
                s, setting.actor(s, "office"), submission_id, expected_version=None, progress=50
            )
        with pytest.raises(UserError, match="落实进度应在 0 到 100 之间"):
            results.update_result(s, commerce, submission_id, expected_version=None, progress=120)
        with pytest.raises(UserError, match="「已落实」的进度应为 100%"):
            results.update_result(
                s, commerce, submission_id, expected_version=None, status="done", progress=80
            )
        with pytest.raises(UserError, match="节点日期（2025-03-01）不能早于提出日期"):
            results.add_milestone(
                s,
                commerce,
                submission_id,
                expected_version=None,
                reached_on=date(2025, 3, 1),
                title="x",
            )
    with db.session() as s, pytest.raises(EditConflict):
        results.update_result(s, SYSTEM, submission_id, expected_version=version, progress=45)
    with db.session() as s:
        commerce = setting.actor(s, "commerce")
        results.add_milestone(
            s,
            commerce,
            submission_id,
            expected_version=None,
            reached_on=date(2025, 6, 1),
            title="出台甘蔗产业扶持办法",
            progress=70,
        )
        results.add_milestone(
            s,
            commerce,
            submission_id,
            expected_version=None,
            reached_on=date(2025, 5, 1),
            title="完成调研",
            description="走访蔗区 3 个县",
        )
        results.update_result(
            s, SYSTEM, submission_id, expected_version=None, status="done", result="基金已设立"
        )
    with db.session() as s:
        submission = svc.get_submission(s, submission_id)
        assert (submission.status, submission.progress, submission.result) == (
            "done",
            100.0,
            "基金已设立",
        )
        # milestones in date order, each with the progress it brought
        assert [(m.reached_on, m.title, m.progress) for m in submission.milestones] == [
            (date(2025, 5, 1), "完成调研", None),
            (date(2025, 6, 1), "出台甘蔗产业扶持办法", 70.0),
        ]
        assert [h.action for h in submission.history] == [
            "create",
            "assign",
            "track",
            "milestone",
            "milestone",
            "track",
        ]
        assert json.loads(submission.history[-1].detail) == {
            "status": "done",
            "progress": 100.0,
            "result": "基金已设立",
        }
    # the database refuses a done result that is not complete, on both engines
    with pytest.raises(IntegrityError), db.session() as s:
        s.execute(update(Submission).where(Submission.id == submission_id).values(progress=50.0))


def test_list_queries_return_exactly_what_may_view_allows(db: Database, setting) -> None:
    with db.session() as s:
        zhang_own = svc.add_submission(
            s, SYSTEM, kind="proposal", title="a", member_id=setting.zhang, record_duty=False
        ).id
    _suggestion(db, chain_id="toy")
    _suggestion(db, chain_id="other")
    _suggestion(db, chain_id=None)
    _suggestion(db, chain_id="other", units=[svc.HandlingIn(setting.commerce)])
    _suggestion(db, chain_id=None, units=[svc.HandlingIn(setting.land)])
    with db.session() as s:
        every = s.scalars(select(Submission)).all()
        for username in setting.users:
            actor = setting.actor(s, username)
            seen = {x.id for x in svc.list_submissions(s, actor)}
            expected = {
                x.id for x in every if may_any(actor, Action.view, svc.submission_targets(x))
            }
            assert seen == expected, username
        counts = {u: len(svc.list_submissions(s, setting.actor(s, u))) for u in setting.users}
        assert counts == {
            "admin": 6,
            "analyst": 6,
            "viewer": 6,
            "zhang": 6,
            "li": 6,
            "office": 1,  # its chain toy
            "commerce": 2,  # its chain toy, and the one it handles on `other`
            "land": 3,  # its chain `other` (2) and the one assigned to it
        }
        assert [x.id for x in svc.list_submissions(s, SYSTEM, member_id=setting.zhang)] == [
            zhang_own
        ]
        assert len(svc.list_submissions(s, SYSTEM, unit_id=setting.commerce)) == 1


def test_a_failed_change_leaves_no_trace(db: Database, setting) -> None:
    submission_id = _suggestion(db)
    with pytest.raises(RuntimeError), db.session() as s:
        svc.assign_units(
            s, SYSTEM, submission_id, [svc.HandlingIn(setting.commerce)], expected_version=None
        )
        results.update_result(s, SYSTEM, submission_id, expected_version=None, progress=30)
        raise RuntimeError("the request died")
    with db.session() as s:
        submission = svc.get_submission(s, submission_id)
        assert (submission.state, submission.progress, len(submission.handlings)) == (
            "registered",
            0.0,
            0,
        )
        assert [h.action for h in submission.history] == ["create"]
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"submission:{submission_id}")
        ).all() == ["cppcc.submission.add"]


def test_two_people_answering_one_handling(db: Database, setting) -> None:
    submission_id = _suggestion(db, units=[svc.HandlingIn(setting.commerce)])
    handling_id, _ = _handling(db, submission_id, setting.commerce)
    with db.session() as first, db.session() as second:
        held = svc.get_handling(second, handling_id)
        svc.answer(
            first,
            setting.actor(first, "commerce"),
            handling_id,
            expected_version=None,
            answer_text="甲",
        )
        first.commit()
        with pytest.raises(EditConflict):
            svc.answer(second, SYSTEM, handling_id, expected_version=None, answer_text="乙")
        second.rollback()
        assert held.answer == "甲"
    with db.session() as s:
        submission = svc.get_submission(s, submission_id)
        assert [h.action for h in submission.history] == ["create", "assign", "answer"]


def test_edit_what_a_submission_says(db: Database, setting, chains) -> None:
    submission_id = _suggestion(db)
    with db.session() as s:
        version = svc.get_submission(s, submission_id).version
        svc.update_submission(
            s,
            setting.actor(s, "analyst"),
            submission_id,
            expected_version=version,
            title="设立甘蔗产业链发展基金",
            group="民建",
            chain_id="other",
            chains=chains,
        )
    with db.session() as s:
        with pytest.raises(EditConflict):
            svc.update_submission(s, SYSTEM, submission_id, expected_version=version, content="x")
        with pytest.raises(UserError, match="请填写提出者"):
            svc.update_submission(s, SYSTEM, submission_id, expected_version=None, group="")
        with pytest.raises(UserError, match="请填写标题"):
            svc.update_submission(s, SYSTEM, submission_id, expected_version=None, title=" ")
        submission = svc.get_submission(s, submission_id)
        assert (submission.title, submission.group_id, submission.chain_id) == (
            "设立甘蔗产业链发展基金",
            "cndca",
            "other",
        )
        assert json.loads(submission.history[-1].detail) == {
            "title": "设立甘蔗产业链发展基金",
            "group_id": "cndca",
            "chain_id": "other",
        }
        assert duties.list_duties(s, SYSTEM) == []


def test_a_member_corrects_its_own_submission_while_registered(db: Database, setting) -> None:
    """Its author (a cppcc_member) may change the title and content of its own proposal
    until it is handed to units — not its number or party, not another member's."""
    own = _suggestion(db, kind="proposal", group="", member_id=setting.zhang)
    other = _suggestion(db, kind="proposal", group="", member_id=setting.li)
    with db.session() as s:
        zhang = setting.actor(s, "zhang")
        assert svc.edits_as_author_only(zhang)
        assert not svc.edits_as_author_only(setting.actor(s, "analyst"))
        svc.update_submission(s, zhang, own, expected_version=None, title="关于甘蔗机收的提案")
        with pytest.raises(NotAllowed):
            svc.update_submission(s, zhang, other, expected_version=None, title="改别人的")
        with pytest.raises(UserError, match="编号和提出的党派或界别"):
            svc.update_submission(s, zhang, own, expected_version=None, number="政协第1号")
    with db.session() as s:
        svc.assign_units(
            s, SYSTEM, own, [svc.HandlingIn(setting.commerce, lead=True)], expected_version=None
        )
    with db.session() as s:
        with pytest.raises(UserError, match="已交办理单位办理"):
            svc.update_submission(
                s, setting.actor(s, "zhang"), own, expected_version=None, content="补充"
            )
        submission = svc.get_submission(s, own)
        assert submission.title == "关于甘蔗机收的提案" and not submission.content
        assert any(h.username == "zhang" for h in submission.history)
