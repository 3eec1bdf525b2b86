"""Marks on targets (services/target_marks.py) on SQLite and PostgreSQL: one mark per user ×
firm × region × chain, audit-logged, visible to colleagues; a user's marks leave their
targets through the same exclusion the list file uses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.targets.conftest import AS_OF, G1, G2, REGION, build_target_warehouse

from chainatlas.accounts.models import User
from chainatlas.accounts.service import add_user
from chainatlas.atlas import Chain
from chainatlas.db.audit import AuditEntry
from chainatlas.db.marks import TargetMark
from chainatlas.db.migrate import upgrade
from chainatlas.db.session import Database
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.services.target_marks import (
    marked_usccs,
    marks_by_firm,
    set_mark,
    user_targets,
)
from chainatlas.settings import Settings, WebSettings
from chainatlas.targets.pipeline import find_targets

PASSWORD = "Str0ng-pass!"
OTHER_REGION = "450400"


@pytest.fixture()
def db(app_database_url: str) -> Iterator[Database]:
    upgrade(app_database_url)
    database = Database(app_database_url)
    with database.session() as session:
        for name, display in (("zhang", "张三"), ("li", "")):
            add_user(
                session, WebSettings(), name, PASSWORD, "analyst", display_name=display, actor="t"
            )
    yield database
    database.dispose()


def user(session: Session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_mark_is_kept_once_per_user_and_audited(db: Database, toy_chain: Chain) -> None:
    with db.session() as s:
        zhang = user(s, "zhang")
        set_mark(s, zhang, uscc=G1, region=REGION, chain=toy_chain, kind="contacted", node="b")
    with db.session() as s:
        zhang = user(s, "zhang")
        # marking again changes the one mark (kind, note), it does not add another
        set_mark(
            s,
            zhang,
            uscc=G1.lower(),
            region=REGION,
            chain=toy_chain,
            kind="not_relevant",
            note="  规模不符  ",
        )
    with db.session() as s:
        marks = list(s.scalars(select(TargetMark)))
        assert [(m.uscc, m.kind, m.note, m.node_id) for m in marks] == [
            (G1, "not_relevant", "规模不符", "")
        ]
        entries = audit(s, "target.mark")
        assert len(entries) == 2
        assert {e.username for e in entries} == {"zhang"}
        assert entries[-1].target == f"{REGION}/toy/{G1}"
        assert json.loads(entries[-1].detail)["kind"] == "not_relevant"
        assert entries[-1].user_id == user(s, "zhang").id


def test_clearing_removes_the_mark_and_is_audited(db: Database, toy_chain: Chain) -> None:
    with db.session() as s:
        set_mark(s, user(s, "li"), uscc=G2, region=REGION, chain=toy_chain, kind="contacted")
    with db.session() as s:
        assert (
            set_mark(s, user(s, "li"), uscc=G2, region=REGION, chain=toy_chain, kind="clear")
            is None
        )
    with db.session() as s:
        assert list(s.scalars(select(TargetMark))) == []
        (entry,) = audit(s, "target.unmark")
        assert json.loads(entry.detail)["was"] == "contacted"


def test_colleagues_see_marks_and_each_user_has_their_own(db: Database, toy_chain: Chain) -> None:
    with db.session() as s:
        zhang, li = user(s, "zhang"), user(s, "li")
        set_mark(s, zhang, uscc=G1, region=REGION, chain=toy_chain, kind="contacted", note="已拜访")
        set_mark(s, li, uscc=G1, region=REGION, chain=toy_chain, kind="not_relevant")
        set_mark(s, li, uscc=G2, region=REGION, chain=toy_chain, kind="contacted")
        set_mark(s, li, uscc=G2, region=OTHER_REGION, chain=toy_chain, kind="contacted")
    with db.session() as s:
        zhang, li = user(s, "zhang"), user(s, "li")
        assert marked_usccs(s, REGION, "toy", zhang.id) == {G1}
        assert marked_usccs(s, REGION, "toy", li.id) == {G1, G2}
        assert marked_usccs(s, REGION, "toy") == {G1, G2}
        assert marked_usccs(s, OTHER_REGION, "toy") == {G2}
        assert marked_usccs(s, REGION, "other_chain") == frozenset()
        seen = marks_by_firm(s, REGION, "toy", [G1])
        assert set(seen) == {G1}
        assert {(m.who, m.kind_name("zh"), m.note) for m in seen[G1]} == {
            ("张三", "已联系", "已拜访"),
            ("li", "不相关", ""),
        }
        assert {m.kind_name("en") for m in seen[G1]} == {"contacted", "not relevant"}
        assert set(marks_by_firm(s, REGION, "toy")) == {G1, G2}
        assert marks_by_firm(s, REGION, "toy", []) == {}


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("统一社会信用代码", {"uscc": "' OR 1=1 --"}),
        ("地区", {"region": "999999"}),
        ("标记", {"kind": "hidden"}),
        ("备注", {"note": "长" * 501}),
        ("环节", {"node": "zz"}),
    ],
)
def test_bad_marks_are_refused_naming_the_field(
    db: Database, toy_chain: Chain, field: str, values: dict[str, str]
) -> None:
    arguments = {"uscc": G1, "region": REGION, "kind": "contacted", "note": "", "node": ""}
    arguments.update(values)
    with pytest.raises(UserError, match=field), db.session() as s:
        set_mark(s, user(s, "zhang"), chain=toy_chain, **arguments)
    with db.session() as s:
        assert list(s.scalars(select(TargetMark))) == []
        assert audit(s, "target.mark") == []


@pytest.fixture(scope="module")
def target_settings(tmp_path_factory: pytest.TempPathFactory, toy_chain: Chain) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("marks-home"))
    build_target_warehouse(settings.warehouse_path, toy_chain)
    return settings


def test_marked_firms_leave_the_users_targets(target_settings: Settings, toy_chain: Chain) -> None:
    path: Path = target_settings.warehouse_path
    with Warehouse(path, read_only=True) as wh:
        plain = user_targets(wh, target_settings, toy_chain, REGION, as_of=AS_OF)
        marked = user_targets(wh, target_settings, toy_chain, REGION, excluded={G1}, as_of=AS_OF)
        diagnosis = diagnose(
            wh, toy_chain, REGION, target_settings.status, target_settings.lead_firm
        )
        reference = find_targets(
            wh,
            toy_chain,
            diagnosis,
            excluded=frozenset({G1}),
            as_of=AS_OF,
            weights=target_settings.targets,
        )
    b_plain = next(n for n in plain.nodes if n.id == "b")
    b_marked = next(n for n in marked.nodes if n.id == "b")
    assert b_plain.targets[0].uscc == G1
    assert G1 not in [t.uscc for t in b_marked.targets]
    assert b_marked.excluded_contacted == 1 and b_plain.excluded_contacted == 0
    # the same list as the targets pipeline with the exclusion list
    assert marked.model_dump(exclude={"as_of"}) == reference.model_dump(exclude={"as_of"})
    # the rest keep their order (scores are absolute, not relative to the pool)
    rest = [t.uscc for t in b_plain.targets if t.uscc != G1]
    assert [t.uscc for t in b_marked.targets][: len(rest)] == rest


def test_targets_of_an_unknown_region_are_a_form_error(
    target_settings: Settings, toy_chain: Chain
) -> None:
    with (
        Warehouse(target_settings.warehouse_path, read_only=True) as wh,
        pytest.raises(UserError, match="地区"),
    ):
        user_targets(wh, target_settings, toy_chain, "990000", as_of=dt.date(2026, 1, 1))
