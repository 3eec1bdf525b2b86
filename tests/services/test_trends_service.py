"""`region_trends` on a hand-worked warehouse (tests/engine/test_history.py::DATED)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA, firm
from tests.engine.test_history import dated_firms

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.services.load import load_enterprises
from chainatlas.services.trends import SCHEMA_ID, region_trends
from chainatlas.settings import Settings


@pytest.fixture()
def settings(tmp_path: Path, toy_chain: Chain) -> Settings:
    s = Settings(home=tmp_path)
    with Warehouse(s.warehouse_path) as wh:
        load_enterprises(wh, dated_firms(), {"toy": toy_chain})
    return s


def test_hand_worked_county(settings: Settings, toy_chain: Chain) -> None:
    t = region_trends(settings, "toy", "450403", years=3, atlas={"toy": toy_chain})
    assert (t.year_then, t.year_now, t.years) == (2021, 2024, 3)
    assert t.latest_date == dt.date(2024, 3, 1) and t.last_year_partial and t.exits_recorded
    # chain (distinct firms): 5 → 4 locally, 11 → 11 nationally
    assert (t.firms_then, t.firms_now, t.national_firms_then, t.national_firms_now) == (
        5,
        4,
        11,
        11,
    )
    nodes = {n.id: n for n in t.nodes}
    assert [(nodes[k].firms_then, nodes[k].firms_now) for k in "abcd"] == [
        (3, 2),
        (1, 0),
        (0, 1),
        (1, 1),
    ]
    # national per node: then a 5, b 3, c 1, d 2; now a 4, b 3, c 3, d 1
    expected_then = {
        "a": (3 / 5) / (5 / 11),
        "b": (1 / 5) / (3 / 11),
        "c": 0.0,
        "d": 0.2 / (2 / 11),
    }
    expected_now = {"a": 0.5 / (4 / 11), "b": 0.0, "c": 0.25 / (3 / 11), "d": 0.25 / (1 / 11)}
    for k in "abcd":
        assert nodes[k].lq_then == pytest.approx(expected_then[k], abs=1e-4)
        assert nodes[k].lq_now == pytest.approx(expected_now[k], abs=1e-4)
        assert nodes[k].lq_delta == pytest.approx(expected_now[k] - expected_then[k], abs=1e-4)
    assert {k: n.quadrant for k, n in nodes.items()} == {
        "a": "star",
        "b": "transforming",
        "c": "emerging",
        "d": "star",
    }
    assert nodes["a"].quadrant_zh == "明星"
    assert t.quadrant_counts == {
        "star": 2,
        "mature": 0,
        "emerging": 1,
        "transforming": 1,
        "none": 0,
    }
    # series over 2022–2024: a loses its 2021 firm in 2023, b its 2016 firm, c gains one in 2022
    assert [(f.year, f.births, f.deaths, f.net) for f in nodes["a"].series] == [
        (2022, 0, 0, 0),
        (2023, 0, 1, -1),
        (2024, 0, 0, 0),
    ]
    assert (nodes["c"].births, nodes["c"].deaths, nodes["c"].net) == (1, 0, 1)
    assert [(f.year, f.net) for f in t.series] == [(2022, 1), (2023, -2), (2024, 0)]
    for n in t.nodes:
        assert n.net == n.firms_now - n.firms_then


def test_lq_now_is_the_diagnosis_lq(settings: Settings, toy_chain: Chain) -> None:
    t = region_trends(settings, "toy", "450400", atlas={"toy": toy_chain})
    with Warehouse(settings.warehouse_path, read_only=True) as wh:
        d = diagnose(wh, toy_chain, "450400")
    assert {n.id: n.lq_now for n in t.nodes} == {n.id: n.lq for n in d.nodes}
    assert {n.id: n.firms_now for n in t.nodes} == {n.id: n.firm_count for n in d.nodes}
    assert t.firms_now == d.firm_count
    assert t.year_then == 2024 - 5  # default N


def test_nodes_never_held_are_none(settings: Settings, toy_chain: Chain) -> None:
    t = region_trends(settings, "toy", "450481", years=3, atlas={"toy": toy_chain})
    assert {n.id: n.quadrant for n in t.nodes} == {
        "a": "star",
        "b": "none",
        "c": "none",
        "d": "none",
    }
    assert all(n.lq_then == 0.0 for n in t.nodes if n.id != "a")


def test_as_of_an_earlier_year(settings: Settings, toy_chain: Chain) -> None:
    t = region_trends(settings, "toy", "450403", years=2, as_of=2022, atlas={"toy": toy_chain})
    assert (t.year_then, t.year_now) == (2020, 2022) and not t.last_year_partial
    nodes = {n.id: n for n in t.nodes}
    # end of 2022: a 3 (2015, 2019, 2021), c 1 (2022); end of 2020: a 2, c 0 (died 2020)
    assert (nodes["a"].firms_then, nodes["a"].firms_now) == (2, 3)
    assert (nodes["c"].firms_then, nodes["c"].firms_now) == (0, 1)


def test_frames_and_json(settings: Settings, toy_chain: Chain) -> None:
    t = region_trends(settings, "toy", "450403", years=3, atlas={"toy": toy_chain})
    nodes = t.nodes_frame()
    assert nodes.columns == [
        "node_id",
        "name_zh",
        "name_en",
        "stage",
        "firms_then",
        "firms_now",
        "births",
        "deaths",
        "net",
        "lq_then",
        "lq_now",
        "lq_delta",
        "quadrant",
        "quadrant_zh",
    ]
    assert nodes.height == 4
    series = t.series_frame()
    assert series.columns == [
        "region_code",
        "chain_id",
        "node_id",
        "year",
        "births",
        "deaths",
        "net",
    ]
    assert series.height == 4 * 3 and set(series["region_code"]) == {"450403"}
    assert series.filter(pl.col("node_id") == "b")["deaths"].to_list() == [0, 1, 0]
    payload = json.loads(t.to_json())
    assert payload["schema"] == SCHEMA_ID
    assert payload["nodes"][0]["series"][0].keys() == {"year", "births", "deaths", "net"}


def test_bad_input(settings: Settings, toy_chain: Chain) -> None:
    atlas = {"toy": toy_chain}
    with pytest.raises(UserError, match="nochain"):
        region_trends(settings, "nochain", "450403", atlas=atlas)
    with pytest.raises(UserError, match="999999"):
        region_trends(settings, "toy", "999999", atlas=atlas)
    with pytest.raises(UserError, match="years"):
        region_trends(settings, "toy", "450403", years=0, atlas=atlas)
    with pytest.raises(UserError, match="2030"):
        region_trends(settings, "toy", "450403", as_of=2030, atlas=atlas)
    with pytest.raises(UserError, match="no warehouse"):
        region_trends(Settings(home=settings.home / "empty"), "toy", "450403", atlas=atlas)


def test_no_dates_at_all(tmp_path: Path, toy_chain: Chain) -> None:
    s = Settings(home=tmp_path)
    row = firm(1, "450403", "甲料生产")
    row["established"] = None
    with Warehouse(s.warehouse_path) as wh:
        load_enterprises(wh, pl.DataFrame([row], schema=ENTERPRISE_SCHEMA), {"toy": toy_chain})
    with pytest.raises(UserError, match="dates"):
        region_trends(s, "toy", "450403", atlas={"toy": toy_chain})
