"""`chainatlas users …`, `db upgrade` and the demo administrator, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from chainatlas.services.demo import demo_admin
from chainatlas.settings import Settings
from tests.test_cli import run


def test_users_commands_end_to_end(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    added = run(
        [
            "users",
            "add",
            "li.si",
            "--role",
            "chain_office",
            "--password",
            "Chain-atlas-1",
            "--chain",
            "sugarcane",
            "--name",
            "李四",
        ],
        tmp_path,
    )
    assert added.returncode == 0, added.stderr
    weak = run(["users", "add", "wang", "--role", "viewer", "--password", "short"], tmp_path)
    assert weak.returncode == 1 and "至少" in weak.stderr and "at least" in weak.stderr
    unknown_chain = run(
        [
            "users",
            "add",
            "zhao",
            "--role",
            "viewer",
            "--password",
            "Chain-atlas-1",
            "--chain",
            "nope",
        ],
        tmp_path,
    )
    assert unknown_chain.returncode == 1 and "nope" in unknown_chain.stderr
    listed = json.loads(run(["users", "list", "--format", "json"], tmp_path).stdout)
    assert [(u["username"], u["role"], u["chains"]) for u in listed] == [
        ("li.si", "chain_office", ["sugarcane"])
    ]
    token = run(["users", "token", "li.si"], tmp_path).stdout.strip()
    assert token.startswith("ca_") and len(token) > 30
    assert run(["users", "disable", "li.si"], tmp_path).returncode == 0
    listed = json.loads(run(["users", "list", "--format", "json"], tmp_path).stdout)
    assert listed[0]["disabled"] is True
    reset = run(["users", "reset-password", "li.si", "--password", "Other-pass-22"], tmp_path)
    assert reset.returncode == 0
    missing = run(["users", "disable", "nobody"], tmp_path)
    assert missing.returncode == 1 and "没有用户" in missing.stderr


def test_demo_admin_password_is_shown_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    name, password = demo_admin(settings)
    assert name == "admin" and password and len(password) >= 16
    assert demo_admin(settings) == ("admin", None)


def test_db_backup_and_restore_commands(tmp_path: Path) -> None:
    home, other = tmp_path / "a", tmp_path / "b"
    assert (
        run(
            ["users", "add", "wu", "--role", "analyst", "--password", "Chain-atlas-1"], home
        ).returncode
        == 0
    )
    archive = tmp_path / "backup.zip"
    saved = run(["db", "backup", str(archive)], home)
    assert saved.returncode == 0 and archive.exists(), saved.stderr
    restored = run(["db", "restore", str(archive)], other)
    assert restored.returncode == 0, restored.stderr
    listed = json.loads(run(["users", "list", "--format", "json"], other).stdout)
    assert [u["username"] for u in listed] == ["wu"]
    again = run(["db", "restore", str(archive)], other)
    assert again.returncode == 1 and "--replace" in again.stderr
