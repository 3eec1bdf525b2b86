import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainatlas.metrics.lq import location_quotient


def _lq(frame: pl.DataFrame) -> list[float | None]:
    return frame.select(location_quotient("x_rn", "x_r", "X_n", "X"))["lq"].to_list()


def test_hand_worked_example() -> None:
    # region: 30 of its 100 chain firms in node n; nation: 1,000 of 50,000 → (0.3)/(0.02) = 15
    frame = pl.DataFrame(
        {
            "x_rn": [30, 0, 5],
            "x_r": [100, 100, 0],
            "X_n": [1000, 1000, 10],
            "X": [50_000, 50_000, 100],
        }
    )
    assert _lq(frame) == [pytest.approx(15.0), 0.0, None]


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30))
def test_the_nation_as_a_region_has_lq_one(counts: list[int]) -> None:
    total = sum(counts)
    frame = pl.DataFrame(
        {"x_rn": counts, "x_r": [total] * len(counts), "X_n": counts, "X": [total] * len(counts)}
    )
    for value, count in zip(_lq(frame), counts, strict=True):
        if count:
            assert value == pytest.approx(1.0)
        else:
            assert value is None


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=20))
def test_share_weighted_mean_of_regional_lq_is_one(cells: list[tuple[int, int]]) -> None:
    """Σ_r (x_r / X) · LQ_rn = 1 for every node held nationally: LQ is a ratio of shares."""
    a = [c[0] for c in cells]  # node n per region
    b = [c[1] for c in cells]  # other nodes per region
    x_r = [i + j for i, j in zip(a, b, strict=True)]
    big_x, big_xn = sum(x_r), sum(a)
    if big_xn == 0:
        return
    frame = pl.DataFrame({"x_rn": a, "x_r": x_r, "X_n": [big_xn] * len(a), "X": [big_x] * len(a)})
    lq = _lq(frame)
    weighted = sum((xr / big_x) * (v or 0.0) for xr, v in zip(x_r, lq, strict=True))
    assert weighted == pytest.approx(1.0)
