"""A small CPPCC setting on a fresh app database (SQLite and PostgreSQL): the toy chain's
office 工信局 and member unit 商务局, chain `other` with member unit 自然资源局; CPPCC members
张委员 (民革, with account `zhang`), 李委员 (民盟, account `li`) and 王委员 (经济界, no
account); one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from chainatlas.accounts.models import User, UserChain
from chainatlas.atlas import Chain
from chainatlas.cppcc import members
from chainatlas.db.migrate import upgrade
from chainatlas.db.session import Database
from chainatlas.workflow import organisation as org
from chainatlas.workflow.access import Actor

SYSTEM = Actor.system("setup")


@pytest.fixture()
def db(app_database_url: str) -> Iterator[Database]:
    upgrade(app_database_url)
    database = Database(app_database_url)
    yield database
    database.dispose()


@dataclass
class Setting:
    office: int  # 工信局: chain office of toy
    commerce: int  # 商务局: member unit of toy
    land: int  # 自然资源局: member unit of other
    zhang: int  # member ids
    li: int
    wang: int
    users: dict[str, int]  # username → users.id

    def actor(self, session: Session, username: str) -> Actor:
        if username == "system":
            return SYSTEM
        user = session.get(User, self.users[username])
        assert user is not None
        return org.actor_for(session, user)


def _user(session: Session, name: str, role: str, chains: tuple[str, ...] = ()) -> int:
    user = User(
        username=name,
        display_name=name,
        role=role,
        password_hash="-",
        chains=[UserChain(chain_id=c) for c in chains],
    )
    session.add(user)
    session.flush()
    return user.id


@pytest.fixture()
def setting(db: Database) -> Setting:
    with db.session() as s:
        office = org.add_unit(s, SYSTEM, "工信局", "chain_office")
        commerce = org.add_unit(s, SYSTEM, "商务局", "member_unit")
        land = org.add_unit(s, SYSTEM, "自然资源局", "member_unit")
        org.set_chain_unit(s, SYSTEM, "toy", office.id, "chain_office")
        org.set_chain_unit(s, SYSTEM, "toy", commerce.id, "member_unit")
        org.set_chain_unit(s, SYSTEM, "other", land.id, "member_unit")
        users = {
            "admin": _user(s, "admin", "admin"),
            "analyst": _user(s, "analyst", "analyst"),
            "viewer": _user(s, "viewer", "viewer"),
            "office": _user(s, "office", "chain_office"),
            "commerce": _user(s, "commerce", "member_unit"),
            "land": _user(s, "land", "member_unit"),
            "zhang": _user(s, "zhang", "cppcc_member"),
            "li": _user(s, "li", "cppcc_member"),
        }
        for username, unit in (("office", office), ("commerce", commerce), ("land", land)):
            org.add_unit_user(s, SYSTEM, unit.id, users[username])
        zhang = members.add_member(s, SYSTEM, "张委员", "民革", user_id=users["zhang"])
        li = members.add_member(s, SYSTEM, "李委员", "cdl", user_id=users["li"])
        wang = members.add_member(s, SYSTEM, "王委员", "经济界", title="常委")
        return Setting(office.id, commerce.id, land.id, zhang.id, li.id, wang.id, users)


@pytest.fixture()
def chains(toy_chain: Chain) -> dict[str, Chain]:
    other = Chain(id="other", name_zh="其他链", name_en="Other chain", nodes=(), edges=())
    return {"toy": toy_chain, "other": other}
