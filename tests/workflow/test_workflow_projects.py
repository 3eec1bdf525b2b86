"""The projects pipeline on SQLite and PostgreSQL: stages and their required fields, history,
permissions, optimistic locking, stalled projects."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.ingest.validators import make_uscc
from chainatlas.workflow import projects as svc
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict
from chainatlas.workflow.models import Project

SYSTEM = Actor.system("setup")


def test_required_fields_accumulate_along_the_main_line() -> None:
    assert svc.required_fields("lead") == ("name", "investor_name", "chain_id")
    assert svc.required_fields("signed")[-3:] == ("unit_id", "amount_wan", "signed_on")
    assert set(svc.required_fields("in_production")) >= {"park", "started_on", "production_on"}
    with pytest.raises(UserError) as caught:
        svc.check_required({"name": "x", "investor_name": "y", "chain_id": "toy"}, "started")
    assert (
        caught.value.message_zh
        == "阶段「开工」需要填写：责任单位、投资额（万元）、签约日期、落地园区、开工日期"
    )
    assert "park" in caught.value.message_en and "signing date" in caught.value.message_en
    assert svc.next_stages("in_production") == ()
    assert "lead" not in svc.next_stages("signed") and "on_hold" in svc.next_stages("signed")
    assert "signed" in svc.next_stages("on_hold")


def test_project_through_its_stages(db: Database, organisation, chains) -> None:
    uscc = make_uscc("450403", 7)
    with db.session() as s:
        office = organisation.actor(s, "office")
        project = svc.add_project(
            s,
            office,
            name="年产 10 万吨乙件项目",
            investor_name="广州乙件制造有限公司",
            investor_uscc=uscc.lower(),
            chain_id="toy",
            node_id="b",
            target_region_code="440106",
            target_chain_id="toy",
            target_node_id="b",
            chains=chains,
        )
        assert project.stage == "lead" and project.investor_uscc == uscc
        project_id, version = project.id, project.version
    with db.session() as s:
        office = organisation.actor(s, "office")
        with pytest.raises(UserError, match="责任单位"):
            svc.change_stage(s, office, project_id, "negotiating", expected_version=version)
        svc.change_stage(
            s,
            office,
            project_id,
            "negotiating",
            expected_version=version,
            unit_id=organisation.commerce,
        )
        unit = svc.get_project(s, project_id).unit
        assert unit is not None and unit.name == "商务局"
    with db.session() as s:
        commerce = organisation.actor(s, "commerce")  # now the responsible unit
        project = svc.get_project(s, project_id)
        with pytest.raises(UserError, match="签约日期"):
            svc.change_stage(
                s,
                commerce,
                project_id,
                "signed",
                expected_version=project.version,
                amount_wan=50000,
            )
        svc.change_stage(
            s,
            commerce,
            project_id,
            "signed",
            expected_version=project.version,
            stage_note="在 2025 中国—东盟博览会签约",
            amount_wan=50000,
            signed_on=date(2025, 9, 18),
        )
    with db.session() as s:
        commerce = organisation.actor(s, "commerce")
        project = svc.get_project(s, project_id)
        with pytest.raises(UserError, match="开工日期（2025-09-01）不能早于签约日期"):
            svc.change_stage(
                s,
                commerce,
                project_id,
                "started",
                expected_version=project.version,
                park="梧州高新区",
                started_on=date(2025, 9, 1),
            )
        with pytest.raises(UserError, match="不能从「签约」转为「洽谈」"):
            svc.change_stage(
                s, commerce, project_id, "negotiating", expected_version=project.version
            )
        with pytest.raises(UserError, match="需要说明原因"):
            svc.change_stage(s, commerce, project_id, "on_hold", expected_version=project.version)
        svc.change_stage(
            s,
            commerce,
            project_id,
            "开工",
            expected_version=project.version,
            park="梧州高新区",
            started_on=date(2025, 12, 1),
        )
        with pytest.raises(UserError, match="投资额（万元）"):
            svc.update_project(s, commerce, project_id, expected_version=None, amount_wan=None)
    with db.session() as s:
        project = svc.get_project(s, project_id)
        assert project.stage == "started" and project.park == "梧州高新区"
        moves = [(h.from_stage, h.to_stage, h.username) for h in project.history]
        assert moves == [
            (None, "lead", "office"),
            ("lead", "negotiating", "office"),
            ("negotiating", "signed", "commerce"),
            ("signed", "started", "commerce"),
        ]
        assert project.history[2].note == "在 2025 中国—东盟博览会签约"
        assert project.version == 4  # created, then three moves; the failed tries left no trace
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"project:{project_id}")
        ).all()
        assert actions == ["project.add", "project.stage", "project.stage", "project.stage"]


def test_fields_are_checked_and_named(db: Database, organisation, chains) -> None:
    base = {"name": "项目", "investor_name": "某公司", "chain_id": "toy", "chains": chains}
    cases = [
        ({"investor_uscc": "91450403MA00000000"}, "统一社会信用代码「91450403MA00000000」无效"),
        ({"chain_id": "nope"}, "未知产业链「nope」"),
        ({"node_id": "zz"}, "没有环节「zz」"),
        ({"amount_wan": -5}, "投资额（万元）不能为负数"),
        ({"amount_wan": "many"}, "投资额（万元）应为数字"),
        ({"region_code": "4504"}, "落地地区「4504」无效"),
        ({"name": " "}, "请填写项目名称"),
        ({"stage": "done"}, "阶段「done」无效"),
    ]
    for change, message in cases:
        with pytest.raises(UserError, match=message), db.session() as s:
            svc.add_project(s, SYSTEM, **(base | change))  # type: ignore[arg-type]
    with db.session() as s:
        assert s.scalars(select(Project)).all() == []


def test_permissions(db: Database, organisation) -> None:
    with db.session() as s:
        project = svc.add_project(
            s, SYSTEM, name="项目", investor_name="甲", chain_id="toy", unit_id=organisation.land
        )
        project_id = project.id
    with pytest.raises(NotAllowed), db.session() as s:
        # 商务局 serves toy, but the project is 自然资源局's
        svc.update_project(
            s, organisation.actor(s, "commerce"), project_id, expected_version=None, park="x"
        )
    with pytest.raises(NotAllowed), db.session() as s:
        svc.add_project(
            s, organisation.actor(s, "viewer"), name="p", investor_name="i", chain_id="toy"
        )
    with pytest.raises(NotAllowed), db.session() as s:
        # a member unit may not hand its project to another unit
        svc.update_project(
            s,
            organisation.actor(s, "land"),
            project_id,
            expected_version=None,
            unit_id=organisation.commerce,
        )
    with db.session() as s:
        svc.update_project(
            s, organisation.actor(s, "analyst"), project_id, expected_version=None, park="园区"
        )
        project = svc.get_project(s, project_id, organisation.actor(s, "land"))
        assert svc.project_moves(organisation.actor(s, "land"), project)[:2] == [
            "negotiating",
            "signed",
        ]
        assert svc.project_moves(organisation.actor(s, "commerce"), project) == []
        with pytest.raises(NotAllowed):
            svc.get_project(s, project_id, organisation.actor(s, "other_office"))
        assert svc.get_project(s, project_id).park == "园区"


def test_two_editors_of_one_project(db: Database, organisation) -> None:
    with db.session() as s:
        project_id = svc.add_project(s, SYSTEM, name="项目", investor_name="甲", chain_id="toy").id
    with db.session() as first, db.session() as second:
        a = svc.get_project(first, project_id)
        b = svc.get_project(second, project_id)
        assert a.version == b.version == 1
        svc.update_project(first, SYSTEM, project_id, expected_version=a.version, note="第一人")
        first.commit()
        with pytest.raises(EditConflict, match="该项目已被他人修改"):
            svc.update_project(
                second, SYSTEM, project_id, expected_version=b.version, note="第二人"
            )
        second.rollback()
    with db.session() as s:
        assert svc.get_project(s, project_id).note == "第一人"


def test_stalled_projects(db: Database, organisation) -> None:
    today = date(2025, 6, 30)
    # stage changes at 16:30 UTC are 00:30 the next day in China
    plan = [
        ("四十天", "negotiating", datetime(2025, 5, 21, 3, 0), 40),
        ("正好三十天", "lead", datetime(2025, 5, 30, 16, 30), 30),
        ("二十九天", "signed", datetime(2025, 6, 1, 3, 0), None),
        ("已投产", "in_production", datetime(2025, 1, 1), None),
        ("流失", "lost", datetime(2025, 1, 1), None),
        ("暂缓", "on_hold", datetime(2025, 4, 1, 3, 0), 90),
    ]
    with db.session() as s:
        for name, stage, at, _ in plan:
            s.add(
                Project(
                    name=name,
                    investor_name="甲",
                    chain_id="toy",
                    stage=stage,
                    stage_changed_at=at,
                )
            )
        s.add(
            Project(
                name="别的链",
                investor_name="乙",
                chain_id="other",
                stage_changed_at=datetime(2024, 1, 1),
            )
        )
    with db.session() as s:
        found = svc.stalled_projects(s, "toy", today=today, days=30)
        assert [(f.project.name, f.days) for f in found] == [
            (name, days) for name, _, _, days in sorted(plan, key=lambda p: -(p[3] or 0)) if days
        ]
        assert [f.project.name for f in svc.stalled_projects(s, "toy", today=today, days=31)] == [
            "暂缓",
            "四十天",
        ]
        assert svc.stalled_projects(s, "toy", today=today - timedelta(days=100), days=1) == []
        with pytest.raises(UserError, match="停滞天数"):
            svc.stalled_projects(s, "toy", today=today, days=0)
