"""The web app over a small synthetic national warehouse (real chains, real regions) and a
fresh app database with one user per role. Built once per test session."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
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


# --- a real server and a real browser (tests marked `browser`) -----------------------------
SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def live_settings(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the test warehouse of its own: the browser tests upload into it."""
    home = tmp_path_factory.mktemp("livehome")
    shutil.copy(web_settings.warehouse_path, home / "warehouse.duckdb")
    return Settings(home=home, web=WebSettings(secret_key="live-secret"))


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[str]:
    """uvicorn serving the app on a free loopback port, in a thread."""
    app = create_app(live_settings)
    db = Database(live_settings.app_database_url)
    with db.session() as session:
        for role in Role:
            scoped = role in (Role.chain_office, Role.member_unit)
            add_user(
                session,
                live_settings.web,
                role.value,
                PASSWORD,
                role.value,
                chains=[SCOPED_CHAIN] if scoped else [],
                region_code=REGION,
                actor="test",
            )
    db.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture()
def page_as(browser: Any, live_server: str) -> Iterator[Callable[[str], Any]]:
    """`page_as("analyst")` → a logged-in page at 1440×900 (zh-CN)."""
    contexts: list[Any] = []

    def open_as(role: str) -> Any:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Full-page PNG into test-output/screenshots (kept for people to look at)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
