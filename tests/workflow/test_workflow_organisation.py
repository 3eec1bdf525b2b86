"""Organisation on SQLite and PostgreSQL: units, chain offices and members, chiefs, unit
users, the actor a user becomes, locking and audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from chainatlas.accounts.roles import Role
from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow import organisation as org
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict

SYSTEM = Actor.system("setup")


def test_chain_organisation_and_actor(db: Database, organisation) -> None:
    with db.session() as s:
        org.add_chain_chief(s, SYSTEM, "toy", "张三", "市委副书记")
        org.add_chain_chief(s, SYSTEM, "toy", "李四", "副市长")
        view = org.chain_organisation(s, "toy")
        assert [(c.name, c.title) for c in view.chiefs] == [
            ("张三", "市委副书记"),
            ("李四", "副市长"),
        ]
        assert view.office is not None and view.office.name == "工信局"
        assert [u.name for u in view.members] == ["商务局", "自然资源局"]
        assert view.office.contact_person == "王科长"

        commerce = organisation.actor(s, "commerce")
        assert commerce.role is Role.member_unit
        assert commerce.unit_ids == {organisation.commerce}
        # 商务局 serves both chains, though the account lists none
        assert commerce.chain_ids == {"toy", "other"}
        assert organisation.actor(s, "land").chain_ids == {"toy"}
        assert [u.name for u in org.units_of_user(s, organisation.users["office"])] == ["工信局"]


def test_one_office_per_chain_and_unique_names(db: Database, organisation) -> None:
    with pytest.raises(UserError, match="已有链长办「工信局」"), db.session() as s:
        org.set_chain_unit(s, SYSTEM, "toy", organisation.land, "chain_office")
    with pytest.raises(UserError, match="已存在"), db.session() as s:
        org.add_unit(s, SYSTEM, " 商务局 ")
    with pytest.raises(UserError, match="单位类型「bureau」无效"), db.session() as s:
        org.add_unit(s, SYSTEM, "统计局", "bureau")
    with db.session() as s:
        # moving the office: remove, then set
        org.remove_chain_unit(s, SYSTEM, "toy", organisation.office)
        org.set_chain_unit(s, SYSTEM, "toy", organisation.land, "链长办")
        assert org.chain_organisation(s, "toy").office.name == "自然资源局"  # type: ignore[union-attr]


def test_who_may_change_the_organisation(db: Database, organisation) -> None:
    with db.session() as s:
        office = organisation.actor(s, "office")
        other_office = organisation.actor(s, "other_office")
        land = organisation.actor(s, "land")
        org.add_chain_chief(s, office, "toy", "王五", "副市长")  # its own chain
    with pytest.raises(NotAllowed), db.session() as s:
        org.add_chain_chief(s, other_office, "toy", "赵六")
    with pytest.raises(NotAllowed), db.session() as s:
        org.set_chain_unit(s, land, "toy", organisation.land, "member_unit")
    with pytest.raises(NotAllowed), db.session() as s:
        org.add_unit(s, office, "统计局")
    with pytest.raises(NotAllowed), db.session() as s:
        # membership widens a user's view: only user managers set it
        org.add_unit_user(s, office, organisation.office, organisation.users["viewer"])
    with db.session() as s:
        unit = org.get_unit(s, organisation.land)
        org.update_unit(
            s, land, unit.id, expected_version=unit.version, contact_phone="0774-1234567"
        )
    with pytest.raises(NotAllowed), db.session() as s:
        org.update_unit(s, land, organisation.commerce, expected_version=None, note="x")
    with db.session() as s:
        assert [c.name for c in org.chain_chiefs(s, "toy")] == ["王五"]


def test_unit_edit_conflict_and_audit(db: Database, organisation) -> None:
    with db.session() as s:
        version = org.get_unit(s, organisation.land).version
        org.update_unit(
            s, SYSTEM, organisation.land, expected_version=version, contact_person="李科员"
        )
    with pytest.raises(EditConflict, match="该单位已被他人修改，请刷新后重试"), db.session() as s:
        org.update_unit(s, SYSTEM, organisation.land, expected_version=version, contact_person="赵")
    with db.session() as s:
        unit = org.get_unit(s, organisation.land)
        assert unit.contact_person == "李科员" and unit.version == version + 1
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "unit.edit")).all()
        assert len(entries) == 1
        assert json.loads(entries[0].detail) == {"contact_person": "李科员"}
        assert entries[0].target == f"unit:{organisation.land}"


def test_unit_users_and_removal(db: Database, organisation) -> None:
    with db.session() as s:
        viewer_id = organisation.users["viewer"]
        org.add_unit_user(s, SYSTEM, organisation.commerce, viewer_id)
        org.add_unit_user(s, SYSTEM, organisation.commerce, viewer_id)  # idempotent
        assert [u.name for u in org.units_of_user(s, viewer_id)] == ["商务局"]
    with db.session() as s:
        org.remove_unit_user(s, SYSTEM, organisation.commerce, viewer_id)
        assert org.units_of_user(s, viewer_id) == []
    with pytest.raises(UserError, match="不属于单位"), db.session() as s:
        org.remove_unit_user(s, SYSTEM, organisation.commerce, viewer_id)
