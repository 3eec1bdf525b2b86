"""Merging submissions into one and splitting one into several, on SQLite and PostgreSQL:
links kept both ways, every history kept, closed ones no longer handled, stale copies and
refused merges change nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from chainatlas.cppcc import consultations, merging, results
from chainatlas.cppcc import suggestions as svc
from chainatlas.cppcc.duties import list_duties
from chainatlas.cppcc.models import Submission
from chainatlas.db.audit import AuditEntry
from chainatlas.db.backup import backup, restore
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict

SYSTEM = Actor.system("setup")


def _proposal(db: Database, member: int, title: str, **fields) -> int:  # type: ignore[no-untyped-def]
    values = {"kind": "proposal", "title": title, "member_id": member, "chain_id": "toy"} | fields
    with db.session() as s:
        return svc.add_submission(s, SYSTEM, **values).id


def test_merge_several_into_one(db: Database, setting) -> None:
    target = _proposal(db, setting.li, "关于甘蔗产业延链的提案", co_signers=[setting.zhang])
    second = _proposal(db, setting.wang, "关于蔗渣综合利用的提案", co_signers=[setting.li])
    third = _proposal(db, setting.zhang, "关于糖业技改的提案")
    with db.session() as s:
        svc.assign_units(
            s, SYSTEM, second, [svc.HandlingIn(setting.commerce)], expected_version=None
        )
        versions = {i: svc.get_submission(s, i).version for i in (target, second, third)}
    with db.session() as s:
        with pytest.raises(NotAllowed):
            merging.merge_submissions(s, setting.actor(s, "commerce"), target, [second])
        with pytest.raises(UserError, match="不能把一件意见建议并入它自己"):
            merging.merge_submissions(s, SYSTEM, target, [target, second])
        merged = merging.merge_submissions(
            s,
            setting.actor(s, "analyst"),
            target,
            [second, third, second],
            expected_versions=versions,
            note="内容相近，并案办理",
        )
        # the other proposers join the target as co-signers, once each
        assert [x.member.name for x in merged.signers] == ["张委员", "王委员"]
    with db.session() as s:
        for source in (second, third):
            row = svc.get_submission(s, source)
            assert (row.state, row.merged_into_id) == ("merged", target)
            assert [h.action for h in row.history][-1] == "merge"
            assert json.loads(row.history[-1].detail) == {"into": target}
            assert svc.final_submission(s, row).id == target
        # the merged one keeps its own handling and history
        second_row = svc.get_submission(s, second)
        assert [h.unit.name for h in second_row.handlings] == ["商务局"]
        assert [h.action for h in second_row.history] == ["create", "assign", "merge"]
        target_row = svc.get_submission(s, target)
        assert target_row.state == "registered"
        assert json.loads(target_row.history[-1].detail) == {"merged": [second, third]}
        assert target_row.history[-1].note == "内容相近，并案办理"
        assert [x.id for x in svc.merged_sources(s, target_row)] == [second, third]
        # a merged one is handled through its target only
        handling = second_row.handlings[0]
        with pytest.raises(UserError, match=f"已并入 #{target}"):
            svc.answer(s, SYSTEM, handling.id, expected_version=None, answer_text="x")
        with pytest.raises(UserError, match="已并案"):
            results.update_result(s, SYSTEM, second, expected_version=None, progress=10)
        with pytest.raises(UserError, match="已并案"):
            merging.merge_submissions(s, SYSTEM, target, [second])
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"submission:{third}")
        ).all() == ["cppcc.submission.add", "cppcc.submission.merge"]
        assert len(svc.list_submissions(s, SYSTEM, include_closed=False)) == 1


def test_merges_follow_on_and_refusals_change_nothing(db: Database, setting) -> None:
    first = _proposal(db, setting.li, "甲")
    second = _proposal(db, setting.wang, "乙")
    third = _proposal(db, setting.zhang, "丙")
    with db.session() as s:
        suggestion = svc.add_submission(s, SYSTEM, kind="suggestion", title="丁", group="民盟").id
        stale = svc.get_submission(s, third).version
        svc.update_submission(s, SYSTEM, third, expected_version=None, content="补充")
    with db.session() as s, pytest.raises(UserError, match="类型不同"):
        merging.merge_submissions(s, SYSTEM, first, [second, suggestion])
    with pytest.raises(EditConflict), db.session() as s:
        merging.merge_submissions(
            s, SYSTEM, first, [second, third], expected_versions={third: stale}
        )
    with db.session() as s:
        # the refused merges merged nothing
        assert [svc.get_submission(s, i).state for i in (first, second, third)] == [
            "registered",
            "registered",
            "registered",
        ]
        merging.merge_submissions(s, SYSTEM, second, [first])
        merging.merge_submissions(s, SYSTEM, third, [second])
    with db.session() as s:
        assert svc.final_submission(s, svc.get_submission(s, first)).id == third


def test_split_one_into_several(db: Database, setting, chains) -> None:
    with db.session() as s:
        meeting = consultations.create_consultation(
            s, SYSTEM, kind="topical", held_on=date(2025, 3, 20), topic="甘蔗", chain_ids=["toy"]
        ).id
    origin = _proposal(
        db,
        setting.li,
        "关于甘蔗产业链与营商环境的提案",
        co_signers=[setting.zhang],
        number="第45号",
        consultation_id=meeting,
    )
    with db.session() as s:
        svc.assign_units(s, SYSTEM, origin, [svc.HandlingIn(setting.office)], expected_version=None)
        version = svc.get_submission(s, origin).version
        with pytest.raises(UserError, match="至少需要两部分"):
            merging.split_submission(
                s, SYSTEM, origin, [merging.SplitPart("甘蔗")], expected_version=version
            )
        with pytest.raises(NotAllowed):
            merging.split_submission(
                s,
                setting.actor(s, "viewer"),
                origin,
                [merging.SplitPart("a"), merging.SplitPart("b")],
                expected_version=version,
            )
    with db.session() as s:
        parts = merging.split_submission(
            s,
            setting.actor(s, "analyst"),
            origin,
            [
                merging.SplitPart("延伸甘蔗产业链", "引进蔗渣利用项目"),
                merging.SplitPart("优化营商环境", chain_id="other"),
            ],
            expected_version=version,
            note="涉及两个承办方向",
            chains=chains,
        )
        ids = [p.id for p in parts]
    with pytest.raises(EditConflict), db.session() as s:
        merging.split_submission(
            s,
            SYSTEM,
            origin,
            [merging.SplitPart("a"), merging.SplitPart("b")],
            expected_version=version,
        )
    with db.session() as s:
        origin_row = svc.get_submission(s, origin)
        assert origin_row.state == "split"
        assert [h.action for h in origin_row.history] == ["create", "assign", "split"]
        assert json.loads(origin_row.history[-1].detail) == {"parts": ids}
        assert [p.id for p in svc.split_parts(s, origin_row)] == ids
        rows = [svc.get_submission(s, i) for i in ids]
        assert [(r.number, r.title, r.chain_id) for r in rows] == [
            ("第45号-1", "延伸甘蔗产业链", "toy"),
            ("第45号-2", "优化营商环境", "other"),
        ]
        for row in rows:
            assert (row.split_from_id, row.consultation_id, row.member_id) == (
                origin,
                meeting,
                setting.li,
            )
            assert (row.state, row.raised_on, row.kind) == (
                "registered",
                origin_row.raised_on,
                "proposal",
            )
            assert [x.member_id for x in row.signers] == [setting.zhang]
            assert [(h.action, json.loads(h.detail)) for h in row.history] == [
                ("create", {"split_from": origin})
            ]
        # the parts are handled on their own; the origin no longer
        svc.assign_units(s, SYSTEM, ids[1], [svc.HandlingIn(setting.land)], expected_version=None)
        with pytest.raises(UserError, match="已拆分"):
            svc.assign_units(
                s, SYSTEM, origin, [svc.HandlingIn(setting.land)], expected_version=None
            )
        # one proposal, one duty: the parts add no duty records
        assert len(s.scalars(select(Submission)).all()) == 3
        assert len(list_duties(s, SYSTEM, member_id=setting.li)) == 1


def test_a_merge_into_a_later_submission_survives_backup_and_restore(
    db: Database, setting, tmp_path: Path
) -> None:
    """Rows are restored in id order: the link to a later row is checked at commit."""
    first = _proposal(db, setting.li, "先提出的")
    later = _proposal(db, setting.wang, "后提出的")
    with db.session() as s:
        merging.merge_submissions(s, SYSTEM, later, [first])
    archive = tmp_path / "app.zip"
    manifest = backup(db.url, archive)
    assert manifest["tables"]["cppcc_submissions"] == 2
    with db.session() as s:
        s.execute(delete(AuditEntry))  # any change: the restore below puts it all back
    restore(db.url, archive, replace=True)
    with db.session() as s:
        row = svc.get_submission(s, first)
        assert (row.state, row.merged_into_id) == ("merged", later)
        assert [h.action for h in row.history] == ["create", "merge"]
        assert s.scalar(select(func.count()).select_from(AuditEntry)) > 0
