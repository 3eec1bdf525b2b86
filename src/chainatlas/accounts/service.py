"""Account operations shared by the CLI (`chainatlas users …`) and the web app. Each one
writes its audit entry in the same transaction as the change."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.accounts.models import ApiToken, User, UserChain
from chainatlas.accounts.passwords import (
    check_password_rules,
    hash_password,
    needs_rehash,
    verify_password,
)
from chainatlas.accounts.roles import Role
from chainatlas.db.audit import record
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.settings import WebSettings

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-@")


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise UserError(f"没有用户 {username}", f"no user {username}")
    return user


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise UserError(
            f"未知角色 {role}（可选：{names}）", f"unknown role {role} ({names})"
        ) from None


def add_user(
    session: Session,
    rules: WebSettings,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    chains: Iterable[str] = (),
    region_code: str = "",
    actor: str = "cli",
) -> User:
    name = username.strip().lower()
    if not name or len(name) > 64 or not set(name) <= USERNAME_CHARS:
        raise UserError(
            f"用户名 {username!r} 无效：限小写字母、数字和 _.-@，最多 64 个字符",
            f"invalid username {username!r}: lower-case letters, digits and _.-@, at most 64",
        )
    if find_user(session, name) is not None:
        raise UserError(f"用户 {name} 已存在", f"user {name} already exists")
    check_password_rules(password, rules.password_min_length, rules.password_min_classes)
    user = User(
        username=name,
        display_name=display_name or name,
        role=_role(role).value,
        password_hash=hash_password(password),
        region_code=region_code,
        chains=[UserChain(chain_id=c) for c in sorted(set(chains))],
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.add", name, {"role": user.role, "chains": user.chain_ids})
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_disabled(session: Session, username: str, disabled: bool, actor: str = "cli") -> User:
    user = get_user(session, username)
    user.disabled = disabled
    user.session_version += 1
    record(session, actor, "user.disable" if disabled else "user.enable", user.username)
    return user


def reset_password(
    session: Session, rules: WebSettings, username: str, password: str, actor: str = "cli"
) -> User:
    user = get_user(session, username)
    check_password_rules(password, rules.password_min_length, rules.password_min_classes)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    record(session, actor, "user.reset_password", user.username)
    return user


@dataclass
class LoginResult:
    user: User | None
    # why a login failed: "unknown", "password", "locked", "disabled"
    reason: str = ""


def authenticate(session: Session, rules: WebSettings, username: str, password: str) -> LoginResult:
    """Check a login; count failures and lock the account after `max_failed_logins` for
    `lockout_minutes`. A locked account is refused even with the right password."""
    user = find_user(session, username)
    if user is None:
        # same work as a real check: the answer time does not tell which names exist
        verify_password(hash_password("x"), password)
        record(session, username[:64], "login.failed", username[:256], {"reason": "unknown"})
        return LoginResult(None, "unknown")
    now = utcnow()
    if user.disabled:
        record(session, user.username, "login.failed", user.username, {"reason": "disabled"})
        return LoginResult(None, "disabled")
    if user.locked_until and user.locked_until > now:
        record(session, user.username, "login.failed", user.username, {"reason": "locked"})
        return LoginResult(None, "locked")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        reason = "password"
        if user.failed_logins >= rules.max_failed_logins:
            user.locked_until = now + timedelta(minutes=rules.lockout_minutes)
            user.failed_logins = 0
            reason = "locked"
        record(session, user.username, "login.failed", user.username, {"reason": reason})
        return LoginResult(None, reason)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = now
    record(session, user.username, "login", user.username, user_id=user.id)
    return LoginResult(user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, name: str = "", actor: str = "cli") -> str:
    """A new API token for scripts; returned once, only its hash is stored."""
    user = get_user(session, username)
    token = "ca_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token)))
    record(session, actor, "token.create", user.username, {"name": name})
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ~ApiToken.revoked)
    )
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    row.last_used = utcnow()
    return user
