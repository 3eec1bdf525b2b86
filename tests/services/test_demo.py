"""`chainatlas demo` from nothing: warehouse, every status on the demo city, briefing files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainatlas.atlas import load_atlas
from chainatlas.errors import UserError
from chainatlas.services.demo import DEMO_CHAINS, run_demo
from chainatlas.settings import Settings


@pytest.mark.slow
def test_demo_builds_a_briefing_showing_every_status(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    result = run_demo(settings, load_atlas(), 200_000, 20251, "450400", None)
    assert result.warehouse.exists() and result.enterprises == 200_000
    assert len(result.files) == 3 * len(DEMO_CHAINS)
    for chain_id in DEMO_CHAINS:
        diagnosis = json.loads((result.briefing_dir / f"450400-{chain_id}.json").read_text("utf-8"))
        statuses = {n["status"] for n in diagnosis["nodes"]}
        assert statuses == {"missing", "weak", "present", "strong"}, chain_id
        assert any(n["break"] for n in diagnosis["nodes"]), chain_id
        assert diagnosis["synthetic_data"] is True
        html = (result.briefing_dir / f"450400-{chain_id}.html").read_text("utf-8")
        assert "合成数据" in html
    # a second run replaces the synthetic warehouse in place
    again = run_demo(settings, load_atlas(), 50_000, 7, "450400", tmp_path / "b2")
    assert again.enterprises == 50_000


def test_demo_refuses_to_replace_real_data(tmp_path: Path, toy_chain) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import toy_firms

    from chainatlas.engine.warehouse import Warehouse
    from chainatlas.services.load import load_enterprises

    settings = Settings(home=tmp_path)
    with Warehouse(settings.warehouse_path) as wh:
        load_enterprises(wh, toy_firms(), {"toy": toy_chain})
    before = settings.warehouse_path.read_bytes()
    with pytest.raises(UserError, match="real"):
        run_demo(settings, load_atlas(), 1000, 1, "450400", None)
    assert settings.warehouse_path.read_bytes() == before
