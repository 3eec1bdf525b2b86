"""Enterprise cases on SQLite and PostgreSQL: the state machine, who may move a case, the
recorded history, overdue escalation, and two people editing one case."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.ingest.validators import make_uscc
from chainatlas.workflow import cases as svc
from chainatlas.workflow.access import Action, Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict
from chainatlas.workflow.models import Case, CaseChange, CaseState

SYSTEM = Actor.system("setup")
RAISED = date(2025, 5, 6)


def _case(db: Database, actor_name: str | None = None, organisation=None, **fields) -> int:  # type: ignore[no-untyped-def]
    values = {
        "title": "园区 110kV 变电站扩容滞后，二期产线无法投产",
        "source": "enterprise",
        "category": "energy",
        "chain_id": "toy",
        "enterprise_name": "梧州甲料科技有限公司",
        "raised_on": RAISED,
    } | fields
    with db.session() as s:
        actor = SYSTEM if actor_name is None else organisation.actor(s, actor_name)
        return svc.add_case(s, actor, **values).id


def test_transition_table() -> None:
    assert svc.allowed_actions("open") == (Action.assign,)
    assert set(svc.allowed_actions("assigned")) == {Action.assign, Action.start}
    assert svc.allowed_actions("in_progress") == (Action.assign, Action.resolve)
    assert set(svc.allowed_actions("resolved")) == {Action.confirm, Action.reopen}
    assert svc.allowed_actions("confirmed") == (Action.reopen,)
    assert set(svc.allowed_actions("reopened")) == {Action.assign, Action.start}
    # every state is reachable from open, and confirmed only through resolved
    reachable = {CaseState.open}
    while True:
        more = {
            t.to for s in reachable for t in svc.TRANSITIONS.values() if s in t.sources
        } - reachable
        if not more:
            break
        reachable |= more
    assert reachable == set(CaseState)


def test_raise_assign_work_resolve_confirm(db: Database, organisation) -> None:
    uscc = make_uscc("450403", 12)
    case_id = _case(db, "land", organisation, source="member", enterprise_uscc=uscc)
    with db.session() as s:
        office = organisation.actor(s, "office")
        case = svc.get_case(s, case_id)
        assert case.state == "open" and case.enterprise_uscc == uscc and case.created_by == "land"
        with pytest.raises(UserError, match="办理期限"):
            svc.assign_case(
                s,
                office,
                case_id,
                expected_version=case.version,
                unit_id=organisation.land,
                deadline=None,
            )
        with pytest.raises(UserError, match="不能早于提出日期"):
            svc.assign_case(
                s,
                office,
                case_id,
                expected_version=case.version,
                unit_id=organisation.land,
                deadline=date(2025, 5, 1),
            )
        with pytest.raises(UserError, match="「待分派」状态的诉求不能办结"):
            svc.resolve_case(s, office, case_id, expected_version=case.version, resolution="x")
        svc.assign_case(
            s,
            office,
            case_id,
            expected_version=case.version,
            unit_id=organisation.land,
            deadline=date(2025, 5, 31),
            note="请自然资源局牵头协调供电局",
        )
    with db.session() as s:
        land = organisation.actor(s, "land")
        commerce = organisation.actor(s, "commerce")
        case = svc.get_case(s, case_id)
        # the buttons each one gets: the unit works, the office reassigns, others nothing
        assert svc.case_actions(land, case) == [Action.start]
        assert svc.case_actions(organisation.actor(s, "office"), case) == [
            Action.assign,
            Action.start,
        ]
        assert svc.case_actions(commerce, case) == []
        assert svc.get_case(s, case_id, commerce) is case  # 商务局 serves toy: it may look
        with pytest.raises(NotAllowed):
            svc.get_case(s, case_id, organisation.actor(s, "other_office"))
        with pytest.raises(NotAllowed):
            svc.start_case(s, commerce, case_id, expected_version=case.version)
        svc.start_case(s, land, case_id, expected_version=case.version)
        with pytest.raises(UserError, match="请填写办理结果"):
            svc.resolve_case(s, land, case_id, expected_version=case.version, resolution=" ")
        svc.resolve_case(
            s,
            land,
            case_id,
            expected_version=case.version,
            resolution="已协调供电局于 5 月 28 日完成扩容",
        )
        with pytest.raises(NotAllowed):
            # the enterprise's confirmation is recorded by the chain office
            svc.confirm_case(s, land, case_id, expected_version=case.version)
    with db.session() as s:
        office = organisation.actor(s, "office")
        case = svc.get_case(s, case_id)
        svc.reopen_case(
            s, office, case_id, expected_version=case.version, reason="企业反映二期仍限电"
        )
        assert case.resolved_at is None
        svc.start_case(s, organisation.actor(s, "land"), case_id, expected_version=case.version)
        svc.resolve_case(
            s,
            organisation.actor(s, "land"),
            case_id,
            expected_version=case.version,
            resolution="新增专线",
        )
        svc.confirm_case(s, office, case_id, expected_version=case.version, note="企业电话确认")
    with db.session() as s:
        case = svc.get_case(s, case_id)
        assert case.state == "confirmed" and case.confirmed_at is not None
        assert case.resolution == "新增专线"
        trail = [(h.action, h.from_state, h.to_state, h.username) for h in case.history]
        assert trail == [
            ("create", None, "open", "land"),
            ("assign", "open", "assigned", "office"),
            ("start", "assigned", "in_progress", "land"),
            ("resolve", "in_progress", "resolved", "land"),
            ("reopen", "resolved", "reopened", "office"),
            ("start", "reopened", "in_progress", "land"),
            ("resolve", "in_progress", "resolved", "land"),
            ("confirm", "resolved", "confirmed", "office"),
        ]
        assert case.history[1].note == "请自然资源局牵头协调供电局"
        assert json.loads(case.history[1].detail)["unit"] == "自然资源局"
        assert all(h.at is not None and h.user_id is not None for h in case.history)
        audit = s.scalars(
            select(AuditEntry).where(AuditEntry.target == f"case:{case_id}").order_by(AuditEntry.id)
        ).all()
        assert [a.action for a in audit] == [
            "case.add",
            "case.assign",
            "case.start",
            "case.resolve",
            "case.reopen",
            "case.start",
            "case.resolve",
            "case.confirm",
        ]
        assert json.loads(audit[4].detail) == {
            "from": "resolved",
            "to": "reopened",
            "note": "企业反映二期仍限电",
        }
        assert audit[2].user_id == organisation.users["land"]


def test_two_sessions_editing_one_case(db: Database, organisation) -> None:
    case_id = _case(db, unit_id=organisation.land, deadline=date(2025, 6, 30))
    with db.session() as first, db.session() as second:
        office = organisation.actor(first, "office")
        mine = svc.get_case(first, case_id)
        theirs = svc.get_case(second, case_id)
        assert mine.version == theirs.version
        stale = theirs.version
        svc.update_case(
            first, office, case_id, expected_version=mine.version, title="第一人改的标题"
        )
        first.commit()
        with pytest.raises(EditConflict) as caught:
            svc.update_case(
                second, office, case_id, expected_version=theirs.version, title="第二人改的标题"
            )
        assert caught.value.message_zh == "该诉求已被他人修改，请刷新后重试"
        assert "changed by someone else" in caught.value.message_en
        second.rollback()
    # a form posted with the version it was loaded with: refused before any write
    with pytest.raises(EditConflict), db.session() as s:
        svc.start_case(s, organisation.actor(s, "land"), case_id, expected_version=stale)
    with db.session() as s:
        case = svc.get_case(s, case_id)
        assert case.title == "第一人改的标题" and case.state == "assigned"
        edits = [h for h in case.history if h.action == "edit"]
        assert len(edits) == 1 and json.loads(edits[0].detail) == {"title": "第一人改的标题"}
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "case.edit")).all()) == 1


def test_the_second_state_change_in_a_race_is_refused(db: Database, organisation) -> None:
    case_id = _case(db, unit_id=organisation.land, deadline=date(2025, 6, 30))
    with db.session() as first, db.session() as second:
        land_a = organisation.actor(first, "land")
        land_b = organisation.actor(second, "land")
        held = svc.get_case(second, case_id)  # loaded before the first one moves it
        svc.start_case(first, land_a, case_id, expected_version=None)
        first.commit()
        with pytest.raises(EditConflict):
            svc.start_case(second, land_b, case_id, expected_version=None)
        second.rollback()
        assert held.state == "in_progress"  # reloaded: the winner's change
    with db.session() as s:
        case = svc.get_case(s, case_id)
        assert [h.action for h in case.history] == ["create", "assign", "start"]


def test_overdue_cases_escalate_once(db: Database, organisation) -> None:
    late = _case(db, unit_id=organisation.land, deadline=date(2025, 5, 20))
    due_today = _case(db, unit_id=organisation.commerce, deadline=date(2025, 6, 1))
    done = _case(db, unit_id=organisation.land, deadline=date(2025, 5, 10))
    other_chain = _case(
        db, chain_id="other", unit_id=organisation.commerce, deadline=date(2025, 5, 7)
    )
    with db.session() as s:
        svc.start_case(s, SYSTEM, done, expected_version=None)
        svc.resolve_case(s, SYSTEM, done, expected_version=None, resolution="已解决")
    today = date(2025, 6, 1)
    with db.session() as s:
        office = organisation.actor(s, "office")
        assert svc.is_overdue(svc.get_case(s, late), today)
        assert not svc.is_overdue(svc.get_case(s, due_today), today)  # the deadline day counts
        assert not svc.is_overdue(svc.get_case(s, done), today)
        assert [c.id for c in svc.list_cases(s, office, overdue_on=today)] == [late]
        escalated = svc.escalate_overdue(s, office, today=today)
        assert [c.id for c in escalated] == [late]  # not the other chain's
        assert svc.escalate_overdue(s, office, today=today) == []  # once
    with db.session() as s:
        assert {c.id for c in svc.escalate_overdue(s, SYSTEM, today=today)} == {other_chain}
        office = organisation.actor(s, "office")
        assert [c.id for c in svc.escalated_cases(s, office)] == [late]
        row = s.scalars(
            select(CaseChange).where(CaseChange.case_id == late, CaseChange.action == "escalate")
        ).one()
        assert row.note == "逾期 12 天，已提请链长办督办"
        # a new deadline lifts the escalation
        svc.assign_case(
            s,
            office,
            late,
            expected_version=None,
            unit_id=organisation.land,
            deadline=date(2025, 6, 15),
        )
        assert svc.escalated_cases(s, office) == []


def test_a_failed_change_leaves_no_trace(db: Database, organisation) -> None:
    case_id = _case(db)
    with pytest.raises(RuntimeError), db.session() as s:
        svc.assign_case(
            s,
            SYSTEM,
            case_id,
            expected_version=None,
            unit_id=organisation.land,
            deadline=date(2025, 6, 1),
        )
        raise RuntimeError("the request died")
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.state == "open" and len(case.history) == 1
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"case:{case_id}")
        ).all() == ["case.add"]


def test_fields_are_checked(db: Database, organisation, chains) -> None:
    base = {
        "title": "t",
        "source": "visit",
        "category": "land",
        "chain_id": "toy",
        "enterprise_name": "甲",
    }
    for change, message in [
        ({"source": "rumour"}, "来源「rumour」无效"),
        ({"category": "weather"}, "类别「weather」无效"),
        ({"enterprise_name": ""}, "请填写企业名称"),
        ({"enterprise_uscc": "123"}, "统一社会信用代码「123」无效"),
        ({"chain_id": "nope", "chains": chains}, "未知产业链"),
        ({"node_id": "zz", "chains": chains}, "没有环节「zz」"),
    ]:
        with pytest.raises(UserError, match=message), db.session() as s:
            svc.add_case(s, SYSTEM, **(base | change))  # type: ignore[arg-type]
    with db.session() as s:
        # a member's own observation needs no enterprise; names work as well as ids
        case = svc.add_case(
            s, SYSTEM, title="物流成本高", source="成员单位提出", category="物流", chain_id="toy"
        )
        assert (case.source, case.category) == ("member", "logistics")
    with pytest.raises(NotAllowed), db.session() as s:
        svc.add_case(s, organisation.actor(s, "land"), **(base | {"chain_id": "other"}))  # type: ignore[arg-type]


def test_a_refused_assignment_creates_nothing(db: Database, organisation) -> None:
    base = {"title": "t", "source": "member", "category": "land", "chain_id": "toy"}
    with pytest.raises(NotAllowed), db.session() as s:
        # a member unit raises cases; the chain office assigns them
        svc.add_case(
            s,
            organisation.actor(s, "land"),
            **base,
            unit_id=organisation.land,
            deadline=date(2030, 1, 1),
        )  # type: ignore[arg-type]
    with pytest.raises(UserError, match="没有编号为 999 的调度会"), db.session() as s:
        svc.add_case(s, SYSTEM, **base, meeting_id=999)  # type: ignore[arg-type]
    with db.session() as s:
        assert s.scalars(select(Case)).all() == []
        assert s.scalars(select(AuditEntry)).all() != []  # the organisation's, not a case's
        assert s.scalars(select(AuditEntry).where(AuditEntry.action.like("case.%"))).all() == []


def test_the_daily_escalation_command(
    db: Database, organisation, app_database_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from chainatlas.cli import app as cli_app

    late = _case(db, unit_id=organisation.land, deadline=date(2025, 5, 20))
    _case(db, unit_id=organisation.commerce, deadline=date(2025, 6, 1))  # due that day: not late
    env = {"CHAINATLAS_HOME": str(tmp_path), "CHAINATLAS_DATABASE_URL": app_database_url}
    args = ["cases", "escalate", "--today", "2025-06-01"]
    first = CliRunner().invoke(cli_app, args, env=env)
    assert first.exit_code == 0, first.output
    assert "escalated 1 overdue cases (2025-06-01)" in first.output
    assert f"#{late} toy 园区 110kV 变电站扩容滞后" in first.output
    again = CliRunner().invoke(cli_app, args, env=env)
    assert "escalated 0 overdue cases" in again.output  # once
    with db.session() as s:
        assert svc.get_case(s, late).escalated_at is not None
        row = s.scalars(
            select(CaseChange).where(CaseChange.case_id == late, CaseChange.action == "escalate")
        ).one()
        assert row.username == "escalation"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.escalate")).one()
        assert entry.username == "escalation"
