"""Member duty records on SQLite and PostgreSQL: a member records its own, the staff record
anyone's; links to chains, enterprises, cases, meetings and proposals; a visit raises a
workflow case; stale edits, refused changes and deletions leave the right trace."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from chainatlas.cppcc import consultations
from chainatlas.cppcc import duties as svc
from chainatlas.cppcc.models import DutyRecord
from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.ingest.validators import make_uscc
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict, local_today
from chainatlas.workflow.models import Case

SYSTEM = Actor.system("setup")
VISIT_DAY = date(2025, 4, 8)
USCC = make_uscc("450403", 7)


def _visit(db: Database, setting, username: str = "zhang", **fields) -> int:  # type: ignore[no-untyped-def]
    values = {
        "member_id": setting.zhang,
        "kind": "visit",
        "done_on": VISIT_DAY,
        "title": "走访梧州甲料科技",
        "enterprise_name": "梧州甲料科技有限公司",
        "enterprise_uscc": USCC,
        "chain_ids": ["toy"],
    } | fields
    with db.session() as s:
        return svc.add_duty(s, setting.actor(s, username), **values).id


def test_a_member_records_its_own_duties(db: Database, setting, chains) -> None:
    visit = _visit(db, setting)
    with db.session() as s:
        zhang = setting.actor(s, "zhang")
        record = svc.get_duty(s, visit, zhang)
        assert (record.member.name, record.enterprise_uscc, record.chain_ids) == (
            "张委员",
            USCC,
            ["toy"],
        )
        assert record.created_by == "zhang"
        with pytest.raises(NotAllowed, match="无权新建此履职记录"):
            svc.add_duty(
                s,
                zhang,
                member_id=setting.li,
                kind="research",
                done_on=VISIT_DAY,
                title="代李委员填报",
            )
        with pytest.raises(NotAllowed):  # 王委员 has no account: only the staff record for him
            svc.add_duty(
                s, zhang, member_id=setting.wang, kind="research", done_on=VISIT_DAY, title="x"
            )
        with pytest.raises(UserError, match="请填写企业名称"):
            svc.add_duty(
                s, zhang, member_id=setting.zhang, kind="visit", done_on=VISIT_DAY, title="走访"
            )
        with pytest.raises(UserError, match="履职类型「开会」无效"):
            svc.add_duty(
                s, zhang, member_id=setting.zhang, kind="开会", done_on=VISIT_DAY, title="x"
            )
        with pytest.raises(UserError, match="校验位"):
            svc.add_duty(
                s,
                zhang,
                member_id=setting.zhang,
                kind="matchmaking",
                done_on=VISIT_DAY,
                title="银企对接会",
                enterprise_uscc=USCC[:-1] + ("0" if USCC[-1] != "0" else "1"),
            )
        with pytest.raises(UserError, match="不能晚于今天"):
            svc.add_duty(
                s,
                zhang,
                member_id=setting.zhang,
                kind="research",
                done_on=local_today() + timedelta(days=1),
                title="x",
            )
        with pytest.raises(UserError, match="未知产业链"):
            svc.add_duty(
                s,
                zhang,
                member_id=setting.zhang,
                kind="research",
                done_on=VISIT_DAY,
                title="x",
                chain_ids=["nope"],
                chains=chains,
            )
        meeting = consultations.create_consultation(
            s, SYSTEM, kind="topical", held_on=date(2025, 3, 20), topic="甘蔗", chain_ids=["toy"]
        )
        speech = svc.add_duty(
            s,
            zhang,
            member_id=setting.zhang,
            kind="协商发言",
            done_on=date(2025, 3, 20),
            title="在专题协商会上发言",
            consultation_id=meeting.id,
        )
        assert (speech.kind, speech.consultation_id, speech.chain_ids) == ("speech", meeting.id, [])
        svc.add_duty(
            s,
            SYSTEM,
            member_id=setting.wang,
            kind="village_pairing",
            done_on=date(2025, 5, 1),
            title="百企扶百村：结对石桥村",
            chain_ids=["other"],
        )
    with db.session() as s:
        seen = {u: len(svc.list_duties(s, setting.actor(s, u))) for u in setting.users}
        # members and the staff read all; a chain office its chains' records
        assert seen == {
            "admin": 3,
            "analyst": 3,
            "viewer": 3,
            "zhang": 3,
            "li": 3,
            "office": 1,
            "commerce": 1,
            "land": 1,
        }
        assert [d.kind for d in svc.list_duties(s, SYSTEM, member_id=setting.zhang, year=2025)] == [
            "visit",
            "speech",
        ]
        assert svc.list_duties(s, SYSTEM, year=2024) == []
        assert [d.member_id for d in svc.list_duties(s, SYSTEM, chain_id="other")] == [setting.wang]
        with pytest.raises(NotAllowed):
            svc.get_duty(s, visit, setting.actor(s, "land"))


def test_edits_stale_copies_and_deletion(db: Database, setting) -> None:
    visit = _visit(db, setting)
    with db.session() as s:
        version = svc.get_duty(s, visit).version
        with pytest.raises(NotAllowed):
            svc.update_duty(s, setting.actor(s, "li"), visit, expected_version=version, title="改")
        with pytest.raises(UserError, match="没有编号为 99 的诉求"):
            svc.update_duty(s, SYSTEM, visit, expected_version=version, case_id=99)
    with db.session() as s:
        record = svc.update_duty(
            s,
            setting.actor(s, "zhang"),
            visit,
            expected_version=version,
            description="了解用电需求",
            chain_ids=["toy", "other"],
        )
        assert sorted(record.chain_ids) == ["other", "toy"]
    with db.session() as s:
        with pytest.raises(EditConflict, match="该履职记录已被他人修改"):
            svc.update_duty(
                s, setting.actor(s, "zhang"), visit, expected_version=version, title="x"
            )
        record = svc.get_duty(s, visit)
        assert (record.description, record.enterprise_name) == (
            "了解用电需求",
            "梧州甲料科技有限公司",
        )
        # a research record needs no enterprise, a visit does
        svc.update_duty(
            s, SYSTEM, visit, expected_version=None, kind="research", enterprise_name=""
        )
        with pytest.raises(UserError, match="请填写企业名称"):
            svc.update_duty(s, SYSTEM, visit, expected_version=None, kind="visit")
    with pytest.raises(UserError, match="删除原因"), db.session() as s:
        svc.delete_duty(s, setting.actor(s, "zhang"), visit, expected_version=None, reason=" ")
    with db.session() as s:
        svc.delete_duty(
            s, setting.actor(s, "zhang"), visit, expected_version=None, reason="重复填报"
        )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DutyRecord)) == 0
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.target == f"duty_record:{visit}")
            .order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == [
            "cppcc.duty.add",
            "cppcc.duty.edit",
            "cppcc.duty.edit",
            "cppcc.duty.delete",
        ]
        kept = json.loads(entries[-1].detail)
        assert (kept["title"], kept["reason"], kept["member"]) == (
            "走访梧州甲料科技",
            "重复填报",
            "张委员",
        )


def test_a_visit_raises_a_case(db: Database, setting) -> None:
    visit = _visit(db, setting)
    research = _visit(db, setting, kind="research", title="调研")
    # a member may record the visit, not raise chain-chief cases
    with db.session() as s, pytest.raises(NotAllowed):
        svc.raise_case_from_visit(
            s, setting.actor(s, "zhang"), visit, title="用电", category="energy", chain_id="toy"
        )
    with db.session() as s:
        with pytest.raises(UserError, match="只有走访企业记录"):
            svc.raise_case_from_visit(
                s, SYSTEM, research, title="x", category="energy", chain_id="toy"
            )
        case = svc.raise_case_from_visit(
            s,
            setting.actor(s, "office"),
            visit,
            title="园区用电扩容滞后",
            category="energy",
            chain_id="toy",
            unit_id=setting.commerce,
            deadline=date(2025, 6, 30),
        )
        case_id = case.id
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert (case.source, case.enterprise_name, case.enterprise_uscc, case.raised_on) == (
            "visit",
            "梧州甲料科技有限公司",
            USCC,
            VISIT_DAY,
        )
        assert case.history[0].note == "政协委员张委员走访发现（2025-04-08）"
        assert svc.get_duty(s, visit).case_id == case_id
        with pytest.raises(UserError, match=f"已关联诉求 #{case_id}"):
            svc.raise_case_from_visit(s, SYSTEM, visit, title="x", category="land", chain_id="toy")
        assert s.scalar(select(func.count()).select_from(Case)) == 1
