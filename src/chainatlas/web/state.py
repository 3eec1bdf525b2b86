"""What the app holds for its lifetime: settings, atlas, app database, warehouse gate."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from chainatlas.atlas.model import Chain
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.web.warehouse_gate import WarehouseGate


@dataclass
class AppState:
    settings: Settings
    atlas: Mapping[str, Chain]
    db: Database
    warehouse: WarehouseGate
    # per-process caches keyed by warehouse version (see web.readmodel)
    caches: dict[str, Any] = field(default_factory=dict)
    # set at shutdown: background work (the cache warm-up) stops between its steps
    stopping: threading.Event = field(default_factory=threading.Event)
    background: list[threading.Thread] = field(default_factory=list)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.chainatlas
    return state


def secret_key(settings: Settings) -> str:
    """The configured key, else one generated once and kept beside the warehouse (0600)."""
    if settings.web.secret_key:
        return settings.web.secret_key
    path = settings.home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), "utf-8")
        path.chmod(0o600)
    return path.read_text("utf-8").strip()
