"""The web app over a small synthetic national warehouse (real chains, real regions) and a
fresh app database with one user per role. Built once per test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chainatlas.accounts.roles import Role
from chainatlas.accounts.service import add_user
from chainatlas.atlas import load_atlas
from chainatlas.db.migrate import upgrade
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
    """`chainatlas serve` in its own process on a free loopback port, as deployed (a thread
    would share this process with the test's Playwright, which the briefing job's own
    Chromium must not)."""
    upgrade(live_settings.app_database_url)
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
    env = {
        **os.environ,
        "CHAINATLAS_HOME": str(live_settings.home),
        "CHAINATLAS_WEB__SECRET_KEY": "live-secret",
    }
    log = (live_settings.home / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "chainatlas", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                "the test server did not start: "
                + (live_settings.home / "server.log").read_text("utf-8")[-2000:]
            )
        time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API holds an event loop in this thread while it
    runs, and later tests (PDF rendering) start their own."""
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
