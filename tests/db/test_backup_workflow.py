"""`db backup|restore` carries the chain-chief and CPPCC records too: every table of the
app database holds rows, and after a round trip (into SQLite, and back into the source
engine) each table equals its source row for row; new records continue after the restored
ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from chainatlas.accounts import service
from chainatlas.cppcc import assessment, consultations, duties, members, merging, results
from chainatlas.cppcc import plans as plan_service
from chainatlas.cppcc import suggestions as submission_service
from chainatlas.cppcc.consultations import AttendanceIn, GroupIn, LeaderIn
from chainatlas.cppcc.plans import TopicIn
from chainatlas.cppcc.suggestions import HandlingIn
from chainatlas.db.backup import backup, restore
from chainatlas.db.migrate import upgrade
from chainatlas.db.models import metadata
from chainatlas.db.session import Database
from chainatlas.settings import WebSettings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow import meetings as meeting_service
from chainatlas.workflow import organisation as org
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.kpi_weights import set_year_weights

SYSTEM = Actor.system("setup")
# tables of other concerns, round-tripped by tests/db/test_backup.py
UNFILLED = {"api_tokens", "target_marks", "jobs", "user_chains", "alembic_version"}
DAY = date(2025, 7, 1)


def _fill(url: str) -> None:
    upgrade(url)
    db = Database(url)
    with db.session() as s:
        user = service.add_user(s, WebSettings(), "zhang", "Chain-atlas-1", "cppcc_member")
        office = org.add_unit(s, SYSTEM, "工信局", "chain_office", contact_person="王科长")
        unit = org.add_unit(s, SYSTEM, "商务局", "member_unit")
        org.set_chain_unit(s, SYSTEM, "sugarcane", office.id, "chain_office")
        org.set_chain_unit(s, SYSTEM, "sugarcane", unit.id, "member_unit")
        org.add_unit_user(s, SYSTEM, unit.id, user.id)
        org.add_chain_chief(s, SYSTEM, "sugarcane", "李明", "副市长")
        set_year_weights(
            s, SYSTEM, 2025, {"projects_signed": 2.5}, known=["projects_signed"], expected_version=0
        )
        project = project_service.add_project(
            s,
            SYSTEM,
            name="糖厂技改",
            investor_name="某糖业",
            chain_id="sugarcane",
            unit_id=unit.id,
        )
        project_service.change_stage(
            s, SYSTEM, project.id, "negotiating", expected_version=project.version
        )
        case = case_service.add_case(
            s,
            SYSTEM,
            title="用电报装慢",
            enterprise_name="某糖业公司",
            source="visit",
            category="energy",
            chain_id="sugarcane",
            unit_id=unit.id,
            deadline=date(2025, 8, 1),
            raised_on=DAY,
        )
        review = meeting_service.create_meeting(
            s, SYSTEM, chain_id="sugarcane", held_on=DAY, attendees=["李明"]
        )
        meeting_service.add_decision(s, SYSTEM, review.id, "加快用电报装", case_id=case.id)
        assessment.set_scoring_rules(
            s, SYSTEM, 2025, {"visit": (3, 30)}, total_cap=100, expected_version=None
        )
        zhang = members.add_member(s, SYSTEM, "张委员", "民革", user_id=user.id)
        li = members.add_member(s, SYSTEM, "李委员", "民盟")
        plan = plan_service.create_plan(
            s, SYSTEM, 2025, topics=[TopicIn(kind="topical", topic="糖业延链", planned_month=7)]
        )
        meeting = consultations.create_consultation(
            s,
            SYSTEM,
            kind="topical",
            held_on=DAY,
            topic="糖业延链",
            chain_ids=["sugarcane"],
            groups=[GroupIn("民革", spoke=True)],
            leaders=[LeaderIn("蒋连生", "市委书记")],
            plan_topic_id=plan.topics[0].id,
        )
        consultations.record_attendance(
            s,
            SYSTEM,
            meeting.id,
            {zhang.id: AttendanceIn("present"), li.id: "excused"},
            expected_version=meeting.version,
        )
        consultations.link_case(s, SYSTEM, meeting.id, case.id, expected_version=meeting.version)
        first = submission_service.add_submission(
            s,
            SYSTEM,
            kind="proposal",
            title="设立技改贴息",
            member_id=zhang.id,
            co_signers=[li.id],
            chain_id="sugarcane",
            consultation_id=meeting.id,
            units=[HandlingIn(unit.id, lead=True, deadline=date(2025, 9, 1))],
        )
        second = submission_service.add_submission(
            s,
            SYSTEM,
            kind="proposal",
            title="技改贴息（二）",
            group="民盟",
            consultation_id=meeting.id,
        )
        submission_service.answer(
            s,
            SYSTEM,
            first.handlings[0].id,
            expected_version=first.handlings[0].version,
            answer_text="拟出台办法",
        )
        results.add_milestone(
            s,
            SYSTEM,
            first.id,
            expected_version=first.version,
            reached_on=DAY,
            title="起草办法",
            progress=30,
            status="in_progress",
        )
        s.flush()
        merging.merge_submissions(
            s,
            SYSTEM,
            first.id,
            [second.id],
            expected_versions={first.id: first.version, second.id: second.version},
            note="同一事项",
        )
        duties.add_duty(
            s,
            SYSTEM,
            member_id=zhang.id,
            kind="visit",
            done_on=DAY,
            title="走访糖厂",
            enterprise_name="某糖业公司",
            case_id=case.id,
            chain_ids=["sugarcane"],
        )
    db.dispose()


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = Database(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).all()
            out[table.name] = [tuple(r) for r in rows]
    db.dispose()
    return out


def test_every_workflow_table_round_trips(app_database_url: str, tmp_path: Path) -> None:
    _fill(app_database_url)
    before = _dump(app_database_url)
    # every workflow and CPPCC table holds rows (a table left empty would prove nothing)
    empty = sorted(n for n, rows in before.items() if not rows and n not in UNFILLED)
    assert empty == []
    assert "cppcc_submissions" in before and "projects" in before
    archive = tmp_path / "app.zip"
    manifest = backup(app_database_url, archive)
    assert manifest["tables"]["cppcc_submissions"] == 2
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    upgrade(target)
    restore(target, archive)
    assert _dump(target) == before
    restore(app_database_url, archive, replace=True)
    assert _dump(app_database_url) == before
    db = Database(app_database_url)
    with db.session() as s:  # ids continue after the restored ones on every engine
        member = members.add_member(s, SYSTEM, "王委员", "经济界")
        assert member.id == 3
        total = s.scalar(select(func.count()).select_from(metadata.tables["cppcc_members"]))
        assert total == 3
    db.dispose()
