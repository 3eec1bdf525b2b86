"""Births/deaths grid, LQ then vs now and the cluster quadrant, on hand-worked cases."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainatlas.metrics.trends import (
    QUADRANT_EN,
    QUADRANT_ZH,
    QUADRANTS,
    births_deaths,
    cluster_quadrant,
    lq_change,
)


def test_births_deaths_fills_gaps_sums_duplicates_and_drops_outside_years() -> None:
    events = pl.DataFrame(
        {
            "node_id": ["a", "a", "a", "b", "a"],
            "year": [2020, 2022, 2022, 2019, 2030],
            "births": [2, 1, 1, 5, 9],
            "deaths": [0, 1, 2, 0, 9],
        }
    )
    keys = pl.DataFrame({"node_id": ["a", "b", "c"]})
    out = births_deaths(events, [2020, 2021, 2022], keys=keys)
    assert out.columns == ["node_id", "year", "births", "deaths", "net"]
    assert out.filter(pl.col("node_id") == "a").rows() == [
        ("a", 2020, 2, 0, 2),
        ("a", 2021, 0, 0, 0),
        ("a", 2022, 2, 3, -1),  # two rows of 2022 summed
    ]
    # b's only event (2019) is outside the years; c has no event at all: zeros, not absent
    assert out.filter(pl.col("node_id") != "a")["births"].to_list() == [0] * 6
    assert out.height == 9


def test_births_deaths_without_keys_is_one_series() -> None:
    events = pl.DataFrame({"year": [2021], "births": [3], "deaths": [1]})
    out = births_deaths(events, [2021, 2022], [])
    assert out.rows() == [(2021, 3, 1, 2), (2022, 0, 0, 0)]


def _active(rows: list[tuple[str, int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["node_id", "year", "firm_count", "national_firm_count"], orient="row"
    )


def test_lq_change_hand_worked() -> None:
    # then (2020): region 4 chain firms, a 3 of them; nation 10, a 4 → LQ_a = 0.75 / 0.4
    # now  (2025): region 5, a 2; nation 20, a 5 → LQ_a = 0.4 / 0.25 = 1.6
    node_active = _active(
        [
            ("a", 2020, 3, 4),
            ("a", 2025, 2, 5),
            ("b", 2020, 1, 6),
            ("b", 2025, 3, 15),
            ("z", 2020, 0, 0),  # a node nobody holds: LQ undefined both times
            ("z", 2025, 0, 0),
        ]
    )
    chain_active = pl.DataFrame(
        {"year": [2020, 2025], "firm_count": [4, 5], "national_firm_count": [10, 20]}
    )
    out = lq_change(node_active, chain_active, year_then=2020, year_now=2025)
    assert out.columns == ["node_id", "firms_then", "firms_now", "lq_then", "lq_now", "lq_delta"]
    rows = {r["node_id"]: r for r in out.iter_rows(named=True)}
    assert rows["a"]["lq_then"] == pytest.approx(1.875)
    assert rows["a"]["lq_now"] == pytest.approx(1.6)
    assert rows["a"]["lq_delta"] == pytest.approx(-0.275)
    assert (rows["a"]["firms_then"], rows["a"]["firms_now"]) == (3, 2)
    assert rows["b"]["lq_then"] == pytest.approx((1 / 4) / (6 / 10))
    assert rows["b"]["lq_now"] == pytest.approx((3 / 5) / (15 / 20))
    assert rows["z"]["lq_then"] is None and rows["z"]["lq_now"] is None
    assert rows["z"]["lq_delta"] == 0.0


def test_lq_change_region_new_to_the_chain_starts_from_zero() -> None:
    node_active = _active([("a", 2020, 0, 5), ("a", 2025, 2, 5)])
    chain_active = pl.DataFrame(
        {"year": [2020, 2025], "firm_count": [0, 2], "national_firm_count": [10, 10]}
    )
    row = lq_change(node_active, chain_active, year_then=2020, year_now=2025).row(0, named=True)
    assert row["lq_then"] is None  # no firm of the region on the chain then: undefined
    assert row["lq_now"] == pytest.approx(2.0)
    assert row["lq_delta"] == pytest.approx(2.0)


def test_lq_change_joins_chain_totals_on_region_keys() -> None:
    node_active = pl.DataFrame(
        {
            "region_code": ["r1", "r1", "r2", "r2"],
            "node_id": ["a"] * 4,
            "year": [2020, 2021] * 2,
            "firm_count": [1, 2, 1, 1],
            "national_firm_count": [4, 4, 4, 4],
        }
    )
    chain_active = pl.DataFrame(
        {
            "region_code": ["r1", "r1", "r2", "r2"],
            "year": [2020, 2021] * 2,
            "firm_count": [2, 2, 4, 4],
            "national_firm_count": [8, 8, 8, 8],
        }
    )
    out = lq_change(
        node_active, chain_active, year_then=2020, year_now=2021, by=["region_code", "node_id"]
    )
    assert out["lq_now"].to_list() == [pytest.approx(2.0), pytest.approx(0.5)]


CASES = [
    # lq_now, lq_delta, quadrant
    (1.8, 0.3, "star"),
    (1.0, 0.1, "star"),  # LQ exactly 1 counts as high
    (1.0, 0.0, "mature"),  # no change is not rising
    (2.0, -0.4, "mature"),
    (0.4, 0.2, "emerging"),
    (0.4, 0.0, "transforming"),
    (0.9, -0.2, "transforming"),
    (0.9, 1e-12, "transforming"),  # below the tolerance: no change
    (0.0, -0.7, "transforming"),  # lost every firm
    (None, -0.7, "transforming"),  # lost every firm of the chain: LQ now undefined
    (0.0, 0.0, "none"),
    (None, 0.0, "none"),
    (None, None, "none"),
]


@pytest.mark.parametrize(("lq_now", "lq_delta", "expected"), CASES)
def test_cluster_quadrant_cases(
    lq_now: float | None, lq_delta: float | None, expected: str
) -> None:
    frame = pl.DataFrame(
        {"lq_now": [lq_now], "lq_delta": [lq_delta]},
        schema={"lq_now": pl.Float64, "lq_delta": pl.Float64},
    )
    assert frame.select(cluster_quadrant())["quadrant"].item() == expected


def test_every_quadrant_has_zh_and_en_labels() -> None:
    assert set(QUADRANT_ZH) == set(QUADRANT_EN) == set(QUADRANTS)
    assert [QUADRANT_ZH[q] for q in ("star", "mature", "emerging", "transforming")] == [
        "明星",
        "成熟",
        "新兴",
        "转型",
    ]


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=50, allow_nan=False),
            st.floats(min_value=-50, max_value=50, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_quadrant_follows_the_lq_side_and_the_sign(cells: list[tuple[float, float]]) -> None:
    frame = pl.DataFrame(cells, schema=["lq_now", "lq_delta"], orient="row")
    out = frame.with_columns(cluster_quadrant())
    for lq, delta, q in out.iter_rows():
        assert q in QUADRANTS
        if q == "none":
            assert lq == 0 and abs(delta) <= 1e-9
        else:
            assert (q in ("star", "mature")) == (lq >= 1.0)
            assert (q in ("star", "emerging")) == (delta > 1e-9)


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=12), st.integers(1, 3))
def test_the_nation_as_a_region_has_lq_one_at_both_dates(counts: list[int], growth: int) -> None:
    nodes = [f"n{i}" for i in range(len(counts))]
    rows = [(n, 2020, c, c) for n, c in zip(nodes, counts, strict=True)]
    rows += [(n, 2025, c * growth, c * growth) for n, c in zip(nodes, counts, strict=True)]
    total = sum(counts)
    chain_active = pl.DataFrame(
        {
            "year": [2020, 2025],
            "firm_count": [total, total * growth],
            "national_firm_count": [total, total * growth],
        }
    )
    out = lq_change(_active(rows), chain_active, year_then=2020, year_now=2025)
    for row in out.iter_rows(named=True):
        if row["firms_now"]:
            assert row["lq_now"] == pytest.approx(1.0)
            assert row["lq_delta"] == pytest.approx(0.0)
        else:
            assert row["lq_now"] is None
