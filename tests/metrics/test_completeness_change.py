"""Completeness and gap changes over a period (metrics/completeness_change.py through
services/kpi_analytics.py), on the toy chain a → b → c, d → b with hand-worked figures, and
the key check: the statuses at a year are exactly what `diagnose` gives on a warehouse
holding only the firms active at the end of that year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA, firm

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.history import DataYears, data_years
from chainatlas.engine.warehouse import Warehouse
from chainatlas.metrics.completeness_change import (
    completeness_by_year,
    completeness_change,
    statuses_at,
)
from chainatlas.services.kpi_analytics import (
    CompletenessChanges,
    PeriodYears,
    completeness_changes,
    period_years,
    statuses_over,
)
from chainatlas.services.load import load_enterprises
from chainatlas.settings import StatusThresholds

LQ_ONLY = StatusThresholds(strong_lead_rank=0)
TOP_ONE = StatusThresholds(strong_lead_rank=1)  # strong when a local firm is the largest
COUNTY, CITY, ELSEWHERE = "450403", "450400", "440106"
SCOPES = {"a": "甲料生产", "b": "乙件制造", "c": "丙品组装", "d": "丁类服务"}
Y2015 = dt.date(2015, 1, 1)


def toy_history() -> pl.DataFrame:
    """梧州 (450403): a×4 (one of capital 1000), c×3 (one of capital 500, one without an
    establishment date), d×1 deregistered 2023-03-01, b×4 established 2021-05-01;
    广州 (440106): a×3, b×2, c×5 and a large c (capital 5000) deregistered 2022-06-01.
    Every other firm established 2015-01-01 with capital 100."""
    plan: list[tuple[str, str, float, dt.date | None, dt.date | None]] = [
        *[(COUNTY, "a", 1000.0 if i == 0 else 100.0, Y2015, None) for i in range(4)],
        (COUNTY, "c", 500.0, Y2015, None),
        (COUNTY, "c", 100.0, None, None),
        (COUNTY, "c", 100.0, Y2015, None),
        (COUNTY, "d", 100.0, Y2015, dt.date(2023, 3, 1)),
        *[(COUNTY, "b", 100.0, dt.date(2021, 5, 1), None) for _ in range(4)],
        *[(ELSEWHERE, "a", 100.0, Y2015, None) for _ in range(3)],
        *[(ELSEWHERE, "b", 100.0, Y2015, None) for _ in range(2)],
        *[(ELSEWHERE, "c", 100.0, Y2015, None) for _ in range(5)],
        (ELSEWHERE, "c", 5000.0, Y2015, dt.date(2022, 6, 1)),
    ]
    rows = []
    for i, (region, node, capital, established, deregistered) in enumerate(plan, start=1):
        row = firm(i, region, f"{SCOPES[node]}；一般项目：技术服务", capital)
        row.update(established=established, deregistered=deregistered)
        rows.append(row)
    return pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA)


def active_at_end_of(firms: pl.DataFrame, year: int) -> pl.DataFrame:
    """The firms as they stood at the end of `year`: established by then (or undated), not
    yet deregistered — and so, in that warehouse, not deregistered at all."""
    established = pl.col("established")
    deregistered = pl.col("deregistered")
    alive = (established.is_null() | (established.dt.year() <= year)) & (
        deregistered.is_null() | (deregistered.dt.year() > year)
    )
    return firms.filter(alive).with_columns(pl.lit(None, pl.Date).alias("deregistered"))


def load(path: Path, firms: pl.DataFrame, chain: Chain) -> Warehouse:
    wh = Warehouse(path)
    load_enterprises(wh, firms, {chain.id: chain})
    return wh


@pytest.fixture(scope="module")
def history(toy_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    wh = load(tmp_path_factory.mktemp("history") / "wh.duckdb", toy_history(), toy_chain)
    yield wh
    wh.close()


SNAPSHOT_YEARS = (2014, 2019, 2021, 2022, 2023)


@pytest.fixture(scope="module")
def snapshots(
    toy_chain: Chain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[int, Warehouse]]:
    """A warehouse per year holding only the firms active at its end."""
    folder = tmp_path_factory.mktemp("snapshots")
    firms = toy_history()
    loaded = {
        y: load(folder / f"y{y}.duckdb", active_at_end_of(firms, y), toy_chain)
        for y in SNAPSHOT_YEARS
    }
    yield loaded
    for wh in loaded.values():
        wh.close()


def changes(
    wh: Warehouse,
    chain: Chain,
    region: str,
    start: dt.date,
    end: dt.date,
    thresholds: StatusThresholds = LQ_ONLY,
) -> CompletenessChanges:
    years = period_years(data_years(wh), start, end)
    return completeness_changes(wh, {chain.id: chain}, region, years, thresholds)


def test_a_node_goes_from_missing_to_present_when_firms_are_established(
    history: Warehouse, toy_chain: Chain
) -> None:
    # end 2019: local a4 c3 d1 (x_r 8), b none → missing; completeness 3/4.
    # end 2021: b4 established in 2021; x_r 12, national b 6 of X 23 →
    # LQ_b = (4/12)/(6/23) = 1.28 → present; completeness 4/4.
    result = changes(history, toy_chain, COUNTY, dt.date(2020, 1, 1), dt.date(2021, 12, 31))
    assert (result.years.year_then, result.years.year_now) == (2019, 2021)
    row = result.chains.row(0, named=True)
    assert row["completeness_then"] == pytest.approx(0.75)
    assert row["completeness_now"] == pytest.approx(1.0)
    assert row["completeness_change"] == pytest.approx(25.0)
    assert (row["gaps_filled"], row["filled_nodes"]) == (1, ["b"])
    assert (row["gaps_opened"], row["opened_nodes"]) == (0, [])
    b = result.statuses.filter(pl.col("node_id") == "b")
    assert b["status"].to_list() == ["missing", "present"]
    assert b["lq"][1] == pytest.approx((4 / 12) / (6 / 23))


def test_a_deregistration_opens_a_gap(history: Warehouse, toy_chain: Chain) -> None:
    # end 2021: d's one firm (LQ (1/12)/(1/23) = 1.92) is strong; it is deregistered in
    # 2023, so at the end of 2023 d is missing: completeness 4/4 → 3/4.
    result = changes(history, toy_chain, COUNTY, dt.date(2022, 1, 1), dt.date(2023, 12, 31))
    row = result.chains.row(0, named=True)
    assert (row["completeness_then"], row["completeness_now"]) == (1.0, 0.75)
    assert row["completeness_change"] == pytest.approx(-25.0)
    assert (row["gaps_opened"], row["opened_nodes"]) == (1, ["d"])
    assert (row["gaps_filled"], row["filled_nodes"]) == (0, [])
    d = result.statuses.filter(pl.col("node_id") == "d")
    assert d["status"].to_list() == ["strong", "missing"]


def test_a_weak_node_turns_strong_when_a_larger_firm_elsewhere_deregisters(
    history: Warehouse, toy_chain: Chain
) -> None:
    # with the lead-firm rule at rank 1: the 5000 firm in 广州 holds c's first rank until it
    # deregisters in 2022; then 梧州's 500 firm is the largest and c turns strong
    result = changes(
        history, toy_chain, COUNTY, dt.date(2022, 1, 1), dt.date(2023, 12, 31), TOP_ONE
    )
    c = result.statuses.filter(pl.col("node_id") == "c")
    assert c["best_national_rank"].to_list() == [2, 1]
    assert c["status"].to_list() == ["weak", "strong"]
    row = result.chains.row(0, named=True)
    assert (row["filled_nodes"], row["opened_nodes"]) == (["c"], ["d"])


def test_the_period_is_capped_at_the_latest_year_of_the_data(
    history: Warehouse, toy_chain: Chain
) -> None:
    span = data_years(history)
    assert span.last == 2023
    years = period_years(span, dt.date(2023, 6, 1), dt.date(2030, 1, 1))
    assert (years.year_then, years.year_now) == (2022, 2023)
    assert years.last_year_partial  # the data stops on 2023-03-01
    beyond = period_years(span, dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    assert (beyond.year_then, beyond.year_now) == (2023, 2023)
    result = completeness_changes(history, {toy_chain.id: toy_chain}, COUNTY, beyond, LQ_ONLY)
    row = result.chains.row(0, named=True)
    assert row["completeness_change"] == 0.0 and row["gaps_filled"] == row["gaps_opened"] == 0
    undated = DataYears(None, None, None, False)
    assert period_years(undated, dt.date(2026, 1, 1), dt.date(2026, 5, 1)) == PeriodYears(
        2025, 2026, None, None
    )


@pytest.mark.parametrize(
    "thresholds", [LQ_ONLY, TOP_ONE, StatusThresholds()], ids=["lq", "top1", "default"]
)
def test_statuses_at_a_year_are_the_diagnosis_of_the_firms_active_then(
    history: Warehouse,
    snapshots: dict[int, Warehouse],
    toy_chain: Chain,
    thresholds: StatusThresholds,
) -> None:
    """The rules are the diagnosis' own: on a warehouse holding only the firms active at
    the end of each year, `diagnose` gives the same firm counts, LQ, status and
    completeness as the history read from the full warehouse."""
    atlas = {toy_chain.id: toy_chain}
    for region in (COUNTY, CITY, ELSEWHERE):
        statuses = statuses_over(history, atlas, region, SNAPSHOT_YEARS, thresholds)
        shares = completeness_by_year(statuses)
        for year, snapshot in snapshots.items():
            expected = diagnose(snapshot, toy_chain, region, thresholds, top_partners=0)
            at = {
                r["node_id"]: r
                for r in statuses.filter(pl.col("year") == year).iter_rows(named=True)
            }
            where = (year, region)
            for node in expected.nodes:
                got = at[node.id]
                assert got["status"] == node.status, (where, node.id)
                assert got["firm_count"] == node.firm_count, (where, node.id)
                assert got["national_firm_count"] == node.national_firm_count, where
                if node.lq is None:
                    assert got["lq"] is None, (where, node.id)
                else:
                    assert got["lq"] == pytest.approx(node.lq, abs=1e-4), (where, node.id)
            share = shares.filter(pl.col("year") == year)["completeness"].item()
            assert share == pytest.approx(expected.completeness, abs=1e-4), where
        # and a period's two ends are those same figures
        period = completeness_changes(
            history, atlas, region, PeriodYears(2019, 2023, 2023, None), thresholds
        ).chains.row(0, named=True)
        ends = dict(shares.select("year", "completeness").iter_rows())
        assert (period["completeness_then"], period["completeness_now"]) == (
            ends[2019],
            ends[2023],
        )


def test_completeness_weighs_nodes_and_gaps_follow_the_statuses() -> None:
    """The pure functions on hand-made frames: node weights, a node without any firm in
    the frames, two chains."""
    nodes = pl.DataFrame(
        {
            "chain_id": ["x", "x", "x", "y"],
            "node_id": ["p", "q", "r", "s"],
            "weight": [2.0, 1.0, 1.0, 1.0],
        }
    )
    node_active = pl.DataFrame(
        {
            "chain_id": ["x"] * 4 + ["y"] * 2,
            "node_id": ["p", "p", "q", "q", "s", "s"],
            "year": [2020, 2024] * 3,
            "firm_count": [0, 3, 2, 0, 1, 1],
            "national_firm_count": [5, 6, 4, 4, 2, 2],
        }
    )
    chain_active = pl.DataFrame(
        {
            "chain_id": ["x", "x", "y", "y"],
            "year": [2020, 2024, 2020, 2024],
            "firm_count": [2, 3, 1, 1],
            "national_firm_count": [9, 12, 2, 2],
        }
    )
    no_ranks = pl.DataFrame(
        schema={
            "chain_id": pl.String,
            "node_id": pl.String,
            "year": pl.Int64,
            "best_national_rank": pl.Int64,
        }
    )
    statuses = statuses_at(nodes, node_active, chain_active, no_ranks, [2020, 2024])
    by = {(r["node_id"], r["year"]): r["status"] for r in statuses.iter_rows(named=True)}
    # p: 0 → 3 firms, LQ (3/3)/(6/12) = 2 → strong; q: 2 firms (LQ (2/2)/(4/9) = 2.25)
    # → none; r never has a firm; s: one firm, LQ 1 → present
    assert by == {
        ("p", 2020): "missing",
        ("p", 2024): "strong",
        ("q", 2020): "strong",
        ("q", 2024): "missing",
        ("r", 2020): "missing",
        ("r", 2024): "missing",
        ("s", 2020): "present",
        ("s", 2024): "present",
    }
    out = {
        r["chain_id"]: r
        for r in completeness_change(statuses, year_then=2020, year_now=2024).iter_rows(named=True)
    }
    # x: then q (weight 1 of 4) → 0.25, now p (weight 2 of 4) → 0.5
    assert out["x"]["completeness_then"] == pytest.approx(0.25)
    assert out["x"]["completeness_now"] == pytest.approx(0.5)
    assert out["x"]["completeness_change"] == pytest.approx(25.0)
    assert (out["x"]["filled_nodes"], out["x"]["opened_nodes"]) == (["p"], ["q"])
    assert (out["y"]["completeness_change"], out["y"]["gaps_filled"]) == (0.0, 0)
