"""A small chain-chief organisation on a fresh app database (SQLite and PostgreSQL):
the toy chain's office 工信局 and member units 自然资源局, 商务局; a second chain `other`
served by 发改委 (office) and 商务局 (member); one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from chainatlas.accounts.models import User, UserChain
from chainatlas.atlas import Chain
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
class Org:
    office: int  # 工信局: chain office of toy
    land: int  # 自然资源局: member unit of toy
    commerce: int  # 商务局: member unit of toy and of other
    other_office: int  # 发改委: chain office of other
    users: dict[str, int]  # username → users.id

    def actor(self, session: Session, username: str) -> Actor:
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
def organisation(db: Database) -> Org:
    with db.session() as s:
        office = org.add_unit(s, SYSTEM, "工信局", "chain_office", contact_person="王科长")
        land = org.add_unit(s, SYSTEM, "自然资源局", "member_unit")
        commerce = org.add_unit(s, SYSTEM, "商务局", "member_unit")
        other_office = org.add_unit(s, SYSTEM, "发改委", "chain_office")
        org.set_chain_unit(s, SYSTEM, "toy", office.id, "chain_office")
        org.set_chain_unit(s, SYSTEM, "toy", land.id, "member_unit")
        org.set_chain_unit(s, SYSTEM, "toy", commerce.id, "member_unit")
        org.set_chain_unit(s, SYSTEM, "other", other_office.id, "chain_office")
        org.set_chain_unit(s, SYSTEM, "other", commerce.id, "member_unit")
        users = {
            "admin": _user(s, "admin", "admin"),
            "analyst": _user(s, "analyst", "analyst"),
            "viewer": _user(s, "viewer", "viewer"),
            "office": _user(s, "office", "chain_office"),
            "land": _user(s, "land", "member_unit"),
            "commerce": _user(s, "commerce", "member_unit"),
            "other_office": _user(s, "other_office", "chain_office"),
        }
        for username, unit in (
            ("office", office),
            ("land", land),
            ("commerce", commerce),
            ("other_office", other_office),
        ):
            org.add_unit_user(s, SYSTEM, unit.id, users[username])
        return Org(office.id, land.id, commerce.id, other_office.id, users)


@pytest.fixture()
def chains(toy_chain: Chain) -> dict[str, Chain]:
    other = Chain(id="other", name_zh="其他链", name_en="Other chain", nodes=(), edges=())
    return {"toy": toy_chain, "other": other}
