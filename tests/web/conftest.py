"""The web app over a small synthetic national warehouse (real chains, real regions) and a
fresh app database with one user per role. Built once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chainatlas.accounts.roles import Role
from chainatlas.accounts.service import add_user
from chainatlas.atlas import load_atlas
from chainatlas.db.session import Database
from chainatlas.services.demo import run_demo
from chainatlas.settings import Settings, WebSettings
from chainatlas.web.app import create_app

REGION = "450400"  # 梧州市, the demo city
PASSWORD = "Str0ng-pass!"
# the chain the scoped roles (chain office, member unit) may see
SCOPED_CHAIN = "sugarcane"
OTHER_CHAIN = "new_energy_vehicle"


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("webhome")
    settings = Settings(home=home, web=WebSettings(secret_key="test-secret", max_failed_logins=3))
    run_demo(settings, load_atlas(), 30_000, 7, REGION, home / "briefings")
    return settings


@pytest.fixture(scope="session")
def web_app(web_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(web_settings)
    db = Database(web_settings.app_database_url)
    with db.session() as session:
        for role in Role:
            scoped = role in (Role.chain_office, Role.member_unit)
            add_user(
                session,
                web_settings.web,
                role.value,
                PASSWORD,
                role.value,
                chains=[SCOPED_CHAIN] if scoped else [],
                region_code=REGION,
                actor="test",
            )
    db.dispose()
    yield app


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    return client


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The session's CSRF token as a page carries it."""
    page = client.get(path)
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


@pytest.fixture()
def anonymous(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as client:
        yield client


@pytest.fixture()
def admin(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as client:
        yield login(client, "admin")


@pytest.fixture()
def analyst(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as client:
        yield login(client, "analyst")


def client_for(web_app: FastAPI, role: str) -> TestClient:
    client = TestClient(web_app)
    return login(client, role)
