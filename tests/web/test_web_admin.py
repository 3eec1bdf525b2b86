"""用户 and 审计日志 pages: administrators manage accounts; everyone else is refused."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, client_for, csrf_of, login


def test_admin_adds_a_scoped_user_who_can_log_in(admin: TestClient, web_app: FastAPI) -> None:
    token = csrf_of(admin, "/admin/users")
    response = admin.post(
        "/admin/users",
        data={
            "username": "chen",
            "display_name": "陈链办",
            "password": PASSWORD,
            "role": "chain_office",
            "chains": ["sugarcane", "green_home"],
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = admin.get("/admin/users").text
    assert "陈链办" in page and "甘蔗制糖" in page
    with TestClient(web_app) as chen:
        login(chen, "chen")
        assert chen.get("/").status_code == 200
    audit = admin.get("/admin/audit").text
    assert "user.add" in audit and "chen" in audit


def test_form_errors_name_the_field(admin: TestClient) -> None:
    token = csrf_of(admin, "/admin/users")
    weak = admin.post(
        "/admin/users",
        data={"username": "liu", "password": "short", "role": "viewer", "csrf_token": token},
    )
    assert weak.status_code == 422 and "密码至少" in weak.text
    bad_chain = admin.post(
        "/admin/users",
        data={
            "username": "liu",
            "password": PASSWORD,
            "role": "viewer",
            "chains": ["nope"],
            "csrf_token": token,
        },
    )
    assert bad_chain.status_code == 422 and "没有产业链 nope" in bad_chain.text


def test_disable_ends_the_session_and_reset_restores(admin: TestClient, web_app: FastAPI) -> None:
    token = csrf_of(admin, "/admin/users")
    admin.post(
        "/admin/users",
        data={"username": "zhou", "password": PASSWORD, "role": "viewer", "csrf_token": token},
    )
    zhou = client_for(web_app, "zhou")
    assert zhou.get("/", follow_redirects=False).status_code == 200
    admin.post("/admin/users/zhou/disable?enable=0", data={"csrf_token": token})
    assert zhou.get("/", follow_redirects=False).status_code == 303
    admin.post("/admin/users/zhou/disable?enable=1", data={"csrf_token": token})
    admin.post(
        "/admin/users/zhou/password", data={"password": "Brand-new-pw-9", "csrf_token": token}
    )
    again = TestClient(web_app)
    login(again, "zhou", "Brand-new-pw-9")
    assert again.get("/").status_code == 200


def test_only_administrators_manage_users(web_app: FastAPI) -> None:
    analyst = client_for(web_app, "analyst")
    assert analyst.get("/admin/users").status_code == 403
    token = csrf_of(analyst)
    refused = analyst.post(
        "/admin/users",
        data={"username": "x1", "password": PASSWORD, "role": "admin", "csrf_token": token},
    )
    assert refused.status_code == 403
    assert 'href="/admin/users"' not in analyst.get("/").text
    assert 'href="/admin/users"' in client_for(web_app, "admin").get("/").text
