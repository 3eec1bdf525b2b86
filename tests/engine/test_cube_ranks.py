"""National ranks in `assignments`: by registered capital within a node, active firms only,
numbered 1, 2, 3 … without the gaps a larger deregistered firm would leave."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from tests.conftest import ENTERPRISE_SCHEMA, firm

from chainatlas.atlas import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises


def test_active_firms_rank_without_gaps(tmp_path: Path, toy_chain: Chain) -> None:
    rows = [
        firm(1, "450403", "乙件制造", 5_000.0, deregistered=dt.date(2021, 3, 1)),
        firm(2, "450403", "乙件制造", 900.0),
        firm(3, "440106", "乙件制造", 300.0),
        firm(4, "440106", "乙件制造", 300.0, deregistered=dt.date(2022, 1, 1)),
        firm(5, "440106", "乙件制造", 100.0),
    ]
    with Warehouse(tmp_path / "w.duckdb") as wh:
        load_enterprises(wh, pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA), {"toy": toy_chain})
        ranks = dict(
            wh.sql("SELECT uscc, national_rank FROM assignments WHERE node_id = 'b'").iter_rows()
        )
    assert ranks == {
        "T00000000000000001": None,
        "T00000000000000002": 1,
        "T00000000000000003": 2,
        "T00000000000000004": None,
        "T00000000000000005": 3,
    }
