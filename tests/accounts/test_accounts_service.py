"""Accounts on SQLite and PostgreSQL: rules, hashing, lock-out, disable, reset, tokens, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from chainatlas.accounts import service
from chainatlas.accounts.passwords import check_password_rules, generate_password
from chainatlas.accounts.roles import GRANTS, Permission, Role, allows
from chainatlas.db.audit import AuditEntry
from chainatlas.db.migrate import upgrade
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.settings import WebSettings

RULES = WebSettings(max_failed_logins=3, password_min_length=10, password_min_classes=3)
GOOD = "Chain-atlas-1"


@pytest.fixture()
def db(app_database_url: str) -> Iterator[Database]:
    upgrade(app_database_url)
    database = Database(app_database_url)
    yield database
    database.dispose()


def test_password_rules_name_the_rule() -> None:
    with pytest.raises(UserError, match="至少 10 个字符"):
        check_password_rules("Ab1!", 10, 3)
    with pytest.raises(UserError, match="at least 3 of"):
        check_password_rules("abcdefghijkl", 10, 3)
    check_password_rules(GOOD, 10, 3)
    generated = generate_password(16)
    check_password_rules(generated, 16, 4)


def test_add_user_hashes_with_argon2_and_refuses_duplicates(db: Database) -> None:
    with db.session() as s:
        user = service.add_user(s, RULES, "Zhang.San", GOOD, "chain_office", chains=["sugarcane"])
        assert user.username == "zhang.san"
        assert user.password_hash.startswith("$argon2id$") and GOOD not in user.password_hash
        assert user.sees_chain("sugarcane") and not user.sees_chain("photovoltaic")
    with pytest.raises(UserError, match="已存在"), db.session() as s:
        service.add_user(s, RULES, "zhang.san", GOOD, "viewer")
    with pytest.raises(UserError, match="未知角色"), db.session() as s:
        service.add_user(s, RULES, "li", GOOD, "superuser")
    with pytest.raises(UserError, match="用户名"), db.session() as s:
        service.add_user(s, RULES, "王五", GOOD, "viewer")
    with db.session() as s:
        assert [u.username for u in service.list_users(s)] == ["zhang.san"]


def test_lockout_after_repeated_failures(db: Database) -> None:
    with db.session() as s:
        service.add_user(s, RULES, "wang", GOOD, "viewer")
    for attempt in range(RULES.max_failed_logins):
        with db.session() as s:
            result = service.authenticate(s, RULES, "wang", "wrong")
        assert result.user is None
        assert result.reason == ("locked" if attempt == RULES.max_failed_logins - 1 else "password")
    with db.session() as s:
        assert service.authenticate(s, RULES, "wang", GOOD).reason == "locked"
    with db.session() as s:
        service.reset_password(s, RULES, "wang", "Another-pass-2")
    with db.session() as s:
        assert service.authenticate(s, RULES, "wang", "Another-pass-2").user is not None
    with db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("login.failed") == RULES.max_failed_logins + 1
    assert actions[-2:] == ["user.reset_password", "login"]


def test_disable_and_tokens(db: Database) -> None:
    with db.session() as s:
        service.add_user(s, RULES, "bot", GOOD, "analyst")
        token = service.create_token(s, "bot", "nightly")
    with db.session() as s:
        user = service.user_for_token(s, token)
        assert user is not None and user.username == "bot"
        assert service.user_for_token(s, token + "x") is None
    with db.session() as s:
        version = service.get_user(s, "bot").session_version
        service.set_disabled(s, "bot", True)
    with db.session() as s:
        assert service.user_for_token(s, token) is None
        assert service.authenticate(s, RULES, "bot", GOOD).reason == "disabled"
        assert service.get_user(s, "bot").session_version == version + 1


def test_a_failed_transaction_changes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        service.add_user(s, RULES, "ghost", GOOD, "viewer")
        raise RuntimeError("interrupted")
    with db.session() as s:
        assert service.find_user(s, "ghost") is None
        assert s.scalars(select(AuditEntry)).all() == []


def test_role_grants() -> None:
    assert GRANTS[Role.admin] == frozenset(Permission)
    assert allows("analyst", Permission.manage_data)
    assert not allows("chain_office", Permission.manage_data)
    assert not any(allows(r, Permission.manage_users) for r in Role if r is not Role.admin)
    assert all(allows(r, Permission.view) for r in Role)
