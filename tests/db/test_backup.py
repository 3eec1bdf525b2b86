"""`db backup|restore`: a round trip on SQLite and PostgreSQL (and across them), refusal to
overwrite, a failed restore that changes nothing, new rows after a restore."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chainatlas.accounts import service
from chainatlas.accounts.models import User
from chainatlas.db.audit import AuditEntry
from chainatlas.db.backup import backup, restore
from chainatlas.db.jobs import Job
from chainatlas.db.marks import TargetMark
from chainatlas.db.migrate import upgrade
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.settings import WebSettings

RULES = WebSettings()
PASSWORD = "Chain-atlas-1"


def _fill(url: str) -> None:
    upgrade(url)
    db = Database(url)
    with db.session() as s:
        office = service.add_user(
            s, RULES, "office", PASSWORD, "chain_office", chains=["sugarcane"]
        )
        service.add_user(s, RULES, "viewer", PASSWORD, "viewer")
        service.create_token(s, "office", "nightly")
        s.add(
            TargetMark(
                user_id=office.id,
                uscc="91450400MA5L000001",
                region_code="450400",
                chain_id="sugarcane",
                node_id="refining",
                kind="contacted",
                note="已电话联系，张总",
            )
        )
        s.add(
            Job(kind="briefing", state="done", params='{"region": "450400"}', created_by=office.id)
        )
    db.dispose()


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    db = Database(url)
    with db.session() as s:
        out = {
            "users": [
                (u.id, u.username, u.role, u.password_hash, u.chain_ids, u.created_at)
                for u in s.scalars(select(User).order_by(User.id))
            ],
            "audit": [
                (e.id, e.action, e.target, e.at)
                for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ],
            "marks": [(m.uscc, m.kind, m.note, m.at) for m in s.scalars(select(TargetMark))],
            "jobs": [(j.kind, j.state, j.params, j.created_at) for j in s.scalars(select(Job))],
        }
    db.dispose()
    return out


def test_round_trip_and_new_rows_after(app_database_url: str, tmp_path: Path) -> None:
    _fill(app_database_url)
    before = _snapshot(app_database_url)
    archive = tmp_path / "app-backup.zip"
    manifest = backup(app_database_url, archive)
    assert manifest["tables"]["users"] == 2 and manifest["tables"]["target_marks"] == 1
    with zipfile.ZipFile(archive) as zf:
        users = [json.loads(line) for line in zf.read("users.jsonl").splitlines()]
    assert [u["username"] for u in users] == ["office", "viewer"]

    # into a fresh SQLite database (a PostgreSQL deployment moves the same way)
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    upgrade(target)
    restore(target, archive)
    assert _snapshot(target) == before
    # and back into the same engine, replacing what is there
    restore(app_database_url, archive, replace=True)
    assert _snapshot(app_database_url) == before
    db = Database(app_database_url)
    with db.session() as s:  # ids continue after the restored ones
        user = service.add_user(s, RULES, "newcomer", PASSWORD, "viewer")
        assert user.id == 3
        assert service.authenticate(s, RULES, "office", PASSWORD).user is not None
    db.dispose()


def test_restore_refuses_to_overwrite_and_a_failure_changes_nothing(
    app_database_url: str, tmp_path: Path
) -> None:
    _fill(app_database_url)
    archive = tmp_path / "b.zip"
    backup(app_database_url, archive)
    before = _snapshot(app_database_url)
    with pytest.raises(UserError, match="--replace"):
        restore(app_database_url, archive)
    # an archive whose mark points at a user that does not exist: the insert fails midway
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(broken, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "target_marks.jsonl":
                row = json.loads(data)
                row["user_id"] = 999
                data = (json.dumps(row) + "\n").encode()
            dst.writestr(name, data)
    with pytest.raises(Exception):  # noqa: B017 - the engine's integrity error, either engine
        restore(app_database_url, broken, replace=True)
    assert _snapshot(app_database_url) == before


def test_bad_archives(app_database_url: str, tmp_path: Path) -> None:
    upgrade(app_database_url)
    with pytest.raises(UserError, match="不存在"):
        restore(app_database_url, tmp_path / "missing.zip")
    not_ours = tmp_path / "x.zip"
    with zipfile.ZipFile(not_ours, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(UserError, match="manifest"):
        restore(app_database_url, not_ours)
    db = Database(app_database_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
    db.dispose()
