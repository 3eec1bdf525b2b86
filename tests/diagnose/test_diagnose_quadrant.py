"""The diagnosis carries each node's cluster quadrant, equal to the trends service's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from tests.conftest import toy_firms

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises
from chainatlas.services.trends import region_trends
from chainatlas.settings import Settings


def test_quadrant_equals_the_trends_service(tmp_path: Path, toy_chain: Chain) -> None:
    firms = toy_firms()
    # spread establishment over 2012–2022 so LQs move between then and now
    years = [2012 + (i * 7) % 11 for i in range(firms.height)]
    firms = firms.with_columns(pl.Series("established", [dt.date(y, 3, 1) for y in years], pl.Date))
    settings = Settings(home=tmp_path)
    with Warehouse(settings.warehouse_path) as wh:
        load_enterprises(wh, firms, {"toy": toy_chain})
    for region in ("450403", "440106", "450400"):
        with Warehouse(settings.warehouse_path, read_only=True) as wh:
            diagnosis = diagnose(wh, toy_chain, region)
        trends = region_trends(settings, "toy", region, years=5, atlas={"toy": toy_chain})
        assert diagnosis.trend_years == [trends.year_then, trends.year_now]
        by_node = {n.id: n for n in trends.nodes}
        for node in diagnosis.nodes:
            assert node.quadrant == by_node[node.id].quadrant, (region, node.id)
            assert node.lq_then == by_node[node.id].lq_then, (region, node.id)
        assert {n.quadrant for n in diagnosis.nodes} - {"none"}, "a quadrant other than none"


def test_no_cohort_tables_no_quadrant(toy_warehouse, toy_chain: Chain) -> None:  # type: ignore[no-untyped-def]
    toy_warehouse.raw.execute("DROP TABLE node_cohorts")
    diagnosis = diagnose(toy_warehouse, toy_chain, "450403")
    assert diagnosis.trend_years is None
    assert all(n.quadrant is None and n.lq_then is None for n in diagnosis.nodes)
