"""The roster of CPPCC members on SQLite and PostgreSQL: party or sector from the reference
list, the linked account, who may see and change it, stale edits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chainatlas.cppcc import members as svc
from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict

SYSTEM = Actor.system("setup")


def test_roster(db: Database, setting) -> None:
    with db.session() as s:
        assert [m.name for m in svc.list_members(s, setting.actor(s, "viewer"))] == [
            "张委员",
            "李委员",
            "王委员",
        ]
        zhang = svc.get_member(s, setting.zhang, setting.actor(s, "li"))
        assert (zhang.group_id, zhang.user_id) == ("rcck", setting.users["zhang"])
        assert svc.member_of_user(s, setting.users["li"]).id == setting.li  # type: ignore[union-attr]
        with pytest.raises(NotAllowed):
            svc.get_member(s, setting.zhang, setting.actor(s, "office"))
        with pytest.raises(NotAllowed):
            svc.add_member(s, setting.actor(s, "zhang"), "新委员", "民进")
        with pytest.raises(UserError, match="所属党派或界别「民主党」不在参考名单中"):
            svc.add_member(s, SYSTEM, "新委员", "民主党")
        with pytest.raises(UserError, match="账号 zhang 已关联委员「张委员」"):
            svc.add_member(s, SYSTEM, "新委员", "民进", user_id=setting.users["zhang"])
        new = svc.add_member(s, setting.actor(s, "analyst"), "赵委员", "农工党", title="委员")
        new_id, version = new.id, new.version
    with db.session() as s:
        svc.update_member(
            s, SYSTEM, new_id, expected_version=version, group="九三学社", employer="梧州学院"
        )
        with pytest.raises(EditConflict, match="该委员信息已被他人修改"):
            svc.update_member(s, SYSTEM, new_id, expected_version=version, phone="123")
    with db.session() as s:
        member = svc.get_member(s, new_id)
        svc.link_user(s, SYSTEM, new_id, setting.users["viewer"], expected_version=member.version)
        svc.update_member(s, SYSTEM, setting.wang, expected_version=None, active=False)
    with db.session() as s:
        member = svc.get_member(s, new_id)
        assert (member.group_id, member.employer, member.user_id) == (
            "jiusan",
            "梧州学院",
            setting.users["viewer"],
        )
        assert [m.name for m in svc.list_members(s, SYSTEM)] == ["张委员", "李委员", "赵委员"]
        assert [m.name for m in svc.list_members(s, SYSTEM, active=False)] == ["王委员"]
        assert [m.name for m in svc.list_members(s, SYSTEM, group_id="jiusan")] == ["赵委员"]
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"cppcc_member:{new_id}")
        ).all()
        assert actions == ["cppcc.member.add", "cppcc.member.edit", "cppcc.member.user"]
