"""A CPPCC setting for the CPPCC page tests, on an app of its own (a copy of the shared demo
warehouse, a fresh app database), on top of the chain-chief organisation of
`workflow_world` (units 糖业链长办 / 自然资源局 / 商务局 on sugarcane, 新能源汽车链长办):

- CPPCC members 张委员 (民革, account `zhang`, role cppcc_member), 李委员 (民盟, account `li`,
  role cppcc_member) and 王委员 (经济界, no account);
- the CPPCC staff work as `analyst` (the access table gives analysts every CPPCC record).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import REGION, login
from tests.web.workflow_world import Units, World, make_world

from chainatlas.accounts.models import User
from chainatlas.accounts.service import add_user, find_user
from chainatlas.cppcc import members
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.workflow.access import Actor

SETUP = Actor.system("setup")


@dataclass(frozen=True)
class Members:
    zhang: int  # member ids
    li: int
    wang: int


@dataclass(frozen=True)
class CppccWorld:
    world: World
    members: Members

    @property
    def app(self) -> FastAPI:
        return self.world.app

    @property
    def units(self) -> Units:
        return self.world.units

    def client(self, username: str) -> TestClient:
        return login(TestClient(self.app), username)


def make_cppcc_world(home: Path, source: Settings, password: str) -> CppccWorld:
    world = make_world(home, source, password)
    database = Database(world.state.settings.app_database_url)
    with database.session() as session:
        for username in ("zhang", "li"):
            add_user(
                session,
                world.state.settings.web,
                username,
                password,
                "cppcc_member",
                region_code=REGION,
                actor="test",
            )
        zhang_user = find_user(session, "zhang")
        li_user = find_user(session, "li")
        assert isinstance(zhang_user, User) and isinstance(li_user, User)
        zhang = members.add_member(session, SETUP, "张委员", "民革", user_id=zhang_user.id)
        li = members.add_member(session, SETUP, "李委员", "民盟", user_id=li_user.id)
        wang = members.add_member(session, SETUP, "王委员", "经济界", title="常委")
        found = Members(zhang.id, li.id, wang.id)
    database.dispose()
    return CppccWorld(world, found)
