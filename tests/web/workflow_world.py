"""A chain-chief organisation for the workflow page tests, on an app of its own (a copy of
the shared demo warehouse, a fresh app database) so the pages' changes touch no other test:

- sugarcane (甘蔗制糖): chain office 糖业链长办 (user `office`), member units 自然资源局
  (user `unit_a`) and 商务局 (user `unit_b`);
- new_energy_vehicle: chain office 新能源汽车链长办 (user `nev_office`);
- users `admin`, `analyst`, `viewer` as in the shared app.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.web.conftest import REGION, SCOPED_CHAIN, login

from chainatlas.accounts.models import User
from chainatlas.accounts.service import add_user, find_user
from chainatlas.db.session import Database
from chainatlas.settings import Settings, WebSettings
from chainatlas.web.app import create_app
from chainatlas.web.state import AppState
from chainatlas.workflow import organisation as org
from chainatlas.workflow.access import Actor

OTHER = "new_energy_vehicle"
SETUP = Actor.system("setup")
# username → (role, chains on the account)
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ()),
    "analyst": ("analyst", ()),
    "viewer": ("viewer", ()),
    "office": ("chain_office", (SCOPED_CHAIN,)),
    "unit_a": ("member_unit", (SCOPED_CHAIN,)),
    "unit_b": ("member_unit", (SCOPED_CHAIN,)),
    "nev_office": ("chain_office", (OTHER,)),
}


@dataclass(frozen=True)
class Units:
    office: int  # 糖业链长办
    unit_a: int  # 自然资源局
    unit_b: int  # 商务局
    nev_office: int  # 新能源汽车链长办


@dataclass(frozen=True)
class World:
    app: FastAPI
    units: Units

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.chainatlas
        return state

    def client(self, username: str) -> TestClient:
        return login(TestClient(self.app), username)


def organise(session: Session, rules: WebSettings, password: str) -> Units:
    """The users (where missing), units, chain roles and memberships above."""
    for username, (role, chains) in USERS.items():
        if find_user(session, username) is None:
            add_user(
                session,
                rules,
                username,
                password,
                role,
                chains=chains,
                region_code=REGION,
                actor="test",
            )
    office = org.add_unit(session, SETUP, "糖业链长办", "chain_office", contact_person="王科长")
    unit_a = org.add_unit(session, SETUP, "自然资源局", "member_unit", contact_phone="0774-1234567")
    unit_b = org.add_unit(session, SETUP, "商务局", "member_unit")
    nev = org.add_unit(session, SETUP, "新能源汽车链长办", "chain_office")
    org.set_chain_unit(session, SETUP, SCOPED_CHAIN, office.id, "chain_office")
    org.set_chain_unit(session, SETUP, SCOPED_CHAIN, unit_a.id, "member_unit")
    org.set_chain_unit(session, SETUP, SCOPED_CHAIN, unit_b.id, "member_unit")
    org.set_chain_unit(session, SETUP, OTHER, nev.id, "chain_office")
    for username, unit in (
        ("office", office),
        ("unit_a", unit_a),
        ("unit_b", unit_b),
        ("nev_office", nev),
    ):
        user = find_user(session, username)
        assert isinstance(user, User)
        org.add_unit_user(session, SETUP, unit.id, user.id)
    return Units(office.id, unit_a.id, unit_b.id, nev.id)


def make_world(home: Path, source: Settings, password: str) -> World:
    shutil.copy(source.warehouse_path, home / "warehouse.duckdb")
    settings = Settings(home=home, web=source.web.model_copy(update={"secret_key": "wf-secret"}))
    app = create_app(settings)
    database = Database(settings.app_database_url)
    with database.session() as session:
        units = organise(session, settings.web, password)
    database.dispose()
    return World(app, units)


_VERSION = re.compile(r'name="version" value="(\d+)"')


def version_on(page: str) -> str:
    """The `version` the page's forms carry (the row as loaded)."""
    found = _VERSION.search(page)
    assert found is not None, "the page has no form with a version"
    return found.group(1)


def csrf_on(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]
