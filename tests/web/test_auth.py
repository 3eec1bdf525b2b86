"""Login, lock-out, idle expiry, CSRF, logout, language switch."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, csrf_of, login

from chainatlas.accounts.service import add_user, find_user
from chainatlas.web.app import SESSION_COOKIE


def test_pages_redirect_to_login_and_back(anonymous: TestClient) -> None:
    response = anonymous.get("/admin/audit?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/audit%3Fpage%3D2"
    assert anonymous.get("/healthz").json()["status"] == "ok"
    assert anonymous.get("/static/app.css").status_code == 200
    assert anonymous.get("/static/vendor/echarts.min.js").status_code == 200


def test_login_sets_a_signed_session_and_logout_ends_it(web_app: FastAPI) -> None:
    with TestClient(web_app) as client:
        login(client, "viewer")
        cookie = client.cookies.get(SESSION_COOKIE)
        assert cookie and "viewer" not in cookie  # signed and encoded, not plain
        home = client.get("/")
        assert home.status_code == 200 and "首页" in home.text
        token = csrf_of(client)
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert client.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_not_a_session(web_app: FastAPI) -> None:
    with TestClient(web_app) as client:
        login(client, "viewer")
        cookie = client.cookies.get(SESSION_COOKIE)
        assert cookie
        client.cookies.clear()
        client.cookies.set(
            SESSION_COOKIE, cookie[:-6] + ("AAAAAA" if cookie[-6:] != "AAAAAA" else "BBBBBB")
        )
        assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_passwords_lock_the_account(web_app: FastAPI) -> None:
    state = app_state_of(web_app)
    with state.db.session() as session:
        add_user(session, state.settings.web, "locky", PASSWORD, "viewer", actor="test")
    with TestClient(web_app) as client:
        token = csrf_of(client, "/login")
        for _ in range(state.settings.web.max_failed_logins):
            wrong = client.post(
                "/login", data={"username": "locky", "password": "nope", "csrf_token": token}
            )
            assert wrong.status_code == 401
        right = client.post(
            "/login", data={"username": "locky", "password": PASSWORD, "csrf_token": token}
        )
        assert right.status_code == 401 and "锁定" in right.text
    with state.db.session() as session:
        user = find_user(session, "locky")
        assert user is not None and user.locked_until is not None


def test_login_without_csrf_is_refused(anonymous: TestClient) -> None:
    anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    wrong = anonymous.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert wrong.status_code == 403


def test_idle_sessions_expire(web_app: FastAPI, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as client:
        login(client, "viewer")
        assert client.get("/", follow_redirects=False).status_code == 200
        idle = app_state_of(web_app).settings.web.session_idle_minutes * 60
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + idle + 5)
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303 and "expired=1" in response.headers["location"]


def test_open_redirects_are_refused(web_app: FastAPI) -> None:
    with TestClient(web_app) as client:
        token = csrf_of(client, "/login")
        response = client.post(
            "/login",
            data={
                "username": "viewer",
                "password": PASSWORD,
                "csrf_token": token,
                "next": "//evil.example/x",
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_language_switch(admin: TestClient) -> None:
    admin.get("/lang/en?back=/", follow_redirects=False)
    page = admin.get("/")
    assert "Dashboard" in page.text and 'lang="en"' in page.text
    admin.get("/lang/zh")
    assert "首页" in admin.get("/").text


def app_state_of(app: FastAPI):  # type: ignore[no-untyped-def]
    return app.state.chainatlas
