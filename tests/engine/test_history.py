"""Births, deaths and active firms by year from the warehouse, and the region profiles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import ibis
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import ENTERPRISE_SCHEMA, firm

from chainatlas.atlas import Chain
from chainatlas.engine import history
from chainatlas.engine.cube import REGION_KEYS
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises

SCOPE = {"a": "甲料生产", "b": "乙件制造", "c": "丙品组装", "d": "丁类服务"}

# (region, node, established year or None, deregistered year or None)
DATED = [
    ("450403", "a", 2015, None),
    ("450403", "a", 2019, None),
    ("450403", "a", 2021, 2023),
    ("450403", "c", 2018, 2020),
    ("450403", "c", 2022, None),
    ("450403", "d", None, None),
    ("450403", "b", 2016, 2023),
    ("450481", "a", 2020, None),  # another county of 梧州
    ("440106", "a", 2010, None),
    ("440106", "b", 2012, None),
    ("440106", "b", 2020, None),
    ("440106", "b", 2022, None),
    ("440106", "c", 2014, None),
    ("440106", "c", 2023, None),
    ("440106", "d", 2019, 2024),
]


def dated_firms() -> pl.DataFrame:
    rows = []
    for i, (region, node, born, died) in enumerate(DATED, start=1):
        row = firm(i, region, SCOPE[node])
        row["established"] = dt.date(born, 6, 1) if born else None
        row["deregistered"] = dt.date(died, 3, 1) if died else None
        rows.append(row)
    return pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA)


@pytest.fixture()
def dated_warehouse(tmp_path: Path, toy_chain: Chain) -> Iterator[Warehouse]:
    wh = Warehouse(tmp_path / "dated.duckdb")
    load_enterprises(wh, dated_firms(), {"toy": toy_chain})
    yield wh
    wh.close()


def test_every_dated_firm_sits_on_its_node(dated_warehouse: Warehouse) -> None:
    got = dated_warehouse.sql("SELECT uscc, node_id FROM assignments ORDER BY uscc")
    assert got["node_id"].to_list() == [node for _, node, _, _ in DATED]


def test_flows_per_region_key_chain_node_year(dated_warehouse: Warehouse) -> None:
    wh = dated_warehouse
    spans = history.node_lifespans(wh.table("assignments"), wh.table("enterprises"), "toy")
    flows = wh.to_polars(history.flows(spans, [*REGION_KEYS, "chain_id", "node_id"]))
    mine = flows.filter((pl.col("region_code") == "450403") & (pl.col("node_id") == "c"))
    assert sorted(mine.select("year", "births", "deaths").rows()) == [
        (2018, 1, 0),
        (2020, 0, 1),
        (2022, 1, 0),
    ]
    assert set(mine["city_code"]) == {"450400"} and set(mine["province_code"]) == {"450000"}
    # a firm without an establishment date is never a birth
    d = flows.filter((pl.col("region_code") == "450403") & (pl.col("node_id") == "d"))
    assert d.is_empty()
    assert int(flows["births"].sum()) == sum(1 for *_, born, _ in DATED if born)
    assert int(flows["deaths"].sum()) == sum(1 for *_, died in DATED if died)


def test_region_history_hand_worked(dated_warehouse: Warehouse) -> None:
    h = history.region_history(dated_warehouse, "toy", "county", "450403", [2021, 2024])
    active = {(r["node_id"], r["year"]): r for r in h.node_active.iter_rows(named=True)}
    # end of 2021 in 450403: a 3 (2015, 2019, 2021); b 1 (dies 2023); c 0 (died 2020, next
    # born 2022); d 1 (no establishment date: present from the start)
    assert [active[(n, 2021)]["firm_count"] for n in "abcd"] == [3, 1, 0, 1]
    assert [active[(n, 2024)]["firm_count"] for n in "abcd"] == [2, 0, 1, 1]
    # nation: + 450481 a (2020) and 440106 (a 2010; b 2012, 2020, 2022; c 2014, 2023;
    # d 2019 deregistered 2024 → active at the end of 2021, not of 2024)
    assert [active[(n, 2021)]["national_firm_count"] for n in "abcd"] == [5, 3, 1, 2]
    assert [active[(n, 2024)]["national_firm_count"] for n in "abcd"] == [4, 3, 3, 1]
    chain = {r["year"]: r for r in h.chain_active.iter_rows(named=True)}
    assert (chain[2021]["firm_count"], chain[2021]["national_firm_count"]) == (5, 11)
    assert (chain[2024]["firm_count"], chain[2024]["national_firm_count"]) == (4, 11)
    chain_flows = {
        r["year"]: (r["births"], r["deaths"]) for r in h.chain_flows.iter_rows(named=True)
    }
    assert chain_flows[2023] == (0, 2) and chain_flows[2022] == (1, 0)


def test_region_history_rolls_up_by_level(dated_warehouse: Warehouse) -> None:
    county = history.region_history(dated_warehouse, "toy", "county", "450403", [2024])
    city = history.region_history(dated_warehouse, "toy", "city", "450400", [2024])
    a_county = county.node_active.filter(pl.col("node_id") == "a")["firm_count"].item()
    a_city = city.node_active.filter(pl.col("node_id") == "a")["firm_count"].item()
    assert (a_county, a_city) == (2, 3)  # the city adds 450481's firm
    nothing = history.region_history(dated_warehouse, "toy", "county", "450406", [2024])
    assert nothing.node_flows.is_empty() and set(nothing.node_active["firm_count"]) == {0}
    # the temporary table is gone afterwards
    tables = dated_warehouse.sql("SELECT table_name FROM duckdb_tables()")["table_name"]
    assert not [t for t in tables if t.startswith("_lifespans")]


def test_active_at_the_latest_year_equals_the_cube(dated_warehouse: Warehouse) -> None:
    """With no date after the last year, 'active at its end' is 'not deregistered'."""
    h = history.region_history(dated_warehouse, "toy", "city", "440100", [2024])
    cube = dated_warehouse.sql(
        "SELECT node_id, sum(firm_count)::BIGINT AS n FROM node_facts "
        "WHERE city_code = '440100' GROUP BY node_id"
    )
    got = dict(h.node_active.select("node_id", "firm_count").iter_rows())
    assert all(got[node] == n for node, n in cube.iter_rows())


def test_data_years(dated_warehouse: Warehouse) -> None:
    span = history.data_years(dated_warehouse)
    assert (span.first, span.last) == (2010, 2024)
    assert span.last_date == dt.date(2024, 3, 1) and span.exits_recorded


def test_level_profiles(dated_warehouse: Warehouse) -> None:
    county, national = history.level_profiles(dated_warehouse, "county")
    cells = {(r, p): n for r, p, n in county.iter_rows()}
    # active firms only: 450403 a 2 (one deregistered), c 1, d 1, b 0 (deregistered)
    assert cells[("450403", "toy/a")] == 2 and ("450403", "toy/b") not in cells
    assert dict(national.iter_rows()) == {"toy/a": 4, "toy/b": 3, "toy/c": 3, "toy/d": 1}
    city, _ = history.level_profiles(dated_warehouse, "city")
    assert {(r, p): n for r, p, n in city.iter_rows()}[("450400", "toy/a")] == 3


# --- the expressions against a plain recomputation, on random lifespans ---------------------
lifespan = st.tuples(
    st.sampled_from(["a", "b"]),
    st.sampled_from(["r1", "r2"]),
    st.one_of(st.none(), st.integers(2000, 2010)),
    st.one_of(st.none(), st.integers(0, 6)),
)


def _frame(rows: list[tuple[str, str, int | None, int | None]]) -> pl.DataFrame:
    spans = []
    for node, region, born, life in rows:
        died = None if life is None else (born or 2000) + life
        spans.append((node, region, born, died))
    return pl.DataFrame(
        spans,
        schema={"node_id": pl.String, "region_code": pl.String, "born": pl.Int64, "died": pl.Int64},
        orient="row",
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(lifespan, min_size=1, max_size=40), st.integers(2000, 2012), st.integers(1, 5))
def test_expressions_agree_with_a_recomputation(
    rows: list[tuple[str, str, int | None, int | None]], year_now: int, years: int
) -> None:
    frame = _frame(rows)
    con = ibis.duckdb.connect()
    spans = ibis.memtable(frame)
    year_then = year_now - years
    active = con.to_polars(
        history.active_by_year(spans, [year_then, year_now], ["node_id"], spans.region_code == "r1")
    )
    flows = con.to_polars(history.flows(spans.filter(spans.region_code == "r1"), ["node_id"]))
    con.disconnect()

    def alive(born: int | None, died: int | None, y: int) -> bool:
        return (born is None or born <= y) and (died is None or died > y)

    for node, year, local, national in active.iter_rows():
        mine = [(b, d) for n, r, b, d in frame.iter_rows() if n == node]
        assert national == sum(alive(b, d, year) for b, d in mine)
        here = [(b, d) for n, r, b, d in frame.iter_rows() if n == node and r == "r1"]
        assert local == sum(alive(b, d, year) for b, d in here)
    # stock identity: firms now − firms then = births − deaths in (then, now]
    for node in ("a", "b"):
        counts = dict(
            active.filter(pl.col("node_id") == node).select("year", "firm_count").iter_rows()
        )
        if not counts:
            continue
        window = flows.filter(
            (pl.col("node_id") == node)
            & (pl.col("year") > year_then)
            & (pl.col("year") <= year_now)
        )
        net = int(window["births"].sum()) - int(window["deaths"].sum())
        assert counts[year_now] - counts[year_then] == net
