"""The page caches are warmed in the background: after start-up (and after every load) the
home region's dashboard is answered without running the batch diagnosis in the request."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, REGION, login

from chainatlas.accounts.service import add_user
from chainatlas.db.session import Database
from chainatlas.settings import Settings
from chainatlas.web import readmodel
from chainatlas.web.app import create_app
from chainatlas.web.state import AppState


def _app_on_copy(tmp_path: Path, source: Settings, warm: bool) -> tuple[AppState, TestClient]:
    shutil.copy(source.warehouse_path, tmp_path / "warehouse.duckdb")
    web = source.web.model_copy(update={"warm_up": warm})
    settings = Settings(home=tmp_path, web=web, demo_region=REGION)
    app = create_app(settings)
    database = Database(settings.app_database_url)
    with database.session() as s:
        add_user(s, settings.web, "analyst", PASSWORD, "analyst", region_code=REGION, actor="t")
    database.dispose()
    state: AppState = app.state.chainatlas
    return state, TestClient(app)


def test_start_up_warms_the_home_dashboard(
    tmp_path: Path, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[threading.Thread] = []
    real_start = readmodel.start_warm_up

    def recording(state: AppState) -> threading.Thread:
        thread = real_start(state)
        started.append(thread)
        return thread

    monkeypatch.setattr("chainatlas.web.app.start_warm_up", recording)
    state, client = _app_on_copy(tmp_path, web_settings, warm=True)
    with client:
        assert len(started) == 1
        started[0].join(timeout=120)

        # the batch is cached: a dashboard that needed it again would fail now
        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("the dashboard recomputed the batch diagnosis")

        monkeypatch.setattr(readmodel, "diagnose_all", refuse)
        page = login(client, "analyst").get(f"/?region={REGION}")
        assert page.status_code == 200
        assert "完整度" in page.text or "completeness" in page.text.lower()
        # a load changes the version and warms again
        with state.warehouse.write():
            pass
        assert len(started) == 2
        started[1].join(timeout=120)


def test_without_warm_up_the_first_dashboard_computes(
    tmp_path: Path, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = readmodel.diagnose_all

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(readmodel, "diagnose_all", counting)
    _, client = _app_on_copy(tmp_path, web_settings, warm=False)
    with client:
        assert calls == []
        assert login(client, "analyst").get(f"/?region={REGION}").status_code == 200
        assert calls == ["city"]


def test_a_failed_warm_up_is_only_logged(
    tmp_path: Path, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, _ = _app_on_copy(tmp_path, web_settings, warm=False)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(readmodel, "diagnose_all", broken)
    readmodel.warm_up(state)  # no exception escapes


def test_shutdown_stops_the_warm_up_before_closing_the_warehouse(
    tmp_path: Path, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    levels: list[str] = []
    entered, release = threading.Event(), threading.Event()
    real = readmodel.diagnose_all

    def slow(*args: Any, **kwargs: Any) -> Any:
        levels.append(args[2])
        entered.set()
        release.wait(30)  # the server is asked to stop while this step runs
        return real(*args, **kwargs)

    monkeypatch.setattr(readmodel, "diagnose_all", slow)
    state, client = _app_on_copy(tmp_path, web_settings, warm=True)
    with client:
        assert entered.wait(30)
        threading.Timer(0.5, release.set).start()
    # the shutdown waited for the step under way, and no later step started
    assert state.stopping.is_set()
    assert not any(t.is_alive() for t in state.background)
    assert levels == ["city"]
