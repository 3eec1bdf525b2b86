"""RCA, cosine similarity and peer regions: hand-worked values and invariants."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chainatlas.metrics.peers import (
    cosine_similarity,
    profile_matrix,
    rca,
    rca_transform,
    similar_regions,
    strong_products,
)


def test_rca_hand_worked() -> None:
    # nation: p 8, q 12 of 20 → shares 0.4, 0.6
    x = np.array([[6.0, 2.0], [2.0, 10.0], [0.0, 0.0]])
    out = rca(x)
    assert out[0] == pytest.approx([(6 / 8) / 0.4, (2 / 8) / 0.6])  # 1.875, 0.4167
    assert out[1] == pytest.approx([(2 / 12) / 0.4, (10 / 12) / 0.6])
    assert out[2].tolist() == [0.0, 0.0]  # a region without firms: undefined → 0


def test_rca_with_an_explicit_national_denominator() -> None:
    # only one region shown; nationally p 10, q 30, r 0 (nobody holds r)
    x = np.array([[5.0, 5.0, 0.0]])
    out = rca(x, np.array([10.0, 30.0, 0.0]))
    assert out[0] == pytest.approx([(5 / 10) / (10 / 40), (5 / 10) / (30 / 40), 0.0])


@given(
    arrays(np.int64, st.tuples(st.integers(1, 8), st.integers(1, 8)), elements=st.integers(0, 50))
)
def test_rca_is_one_on_average_over_the_nation(x: np.ndarray) -> None:
    """Σ_n (X_n / X) · RCA_rn = Σ_n x_rn / x_r = 1 for every region holding firms."""
    out = rca(x)
    national = x.sum(axis=0)
    if national.sum() == 0:
        assert not out.any()
        return
    weighted = out @ (national / national.sum())
    for row_total, value in zip(x.sum(axis=1), weighted, strict=True):
        assert value == pytest.approx(1.0 if row_total else 0.0)


def test_transforms() -> None:
    m = np.array([[0.0, 1.0, 3.0]])
    assert rca_transform(m, "log1p")[0] == pytest.approx([0.0, math.log(2), math.log(4)])
    assert rca_transform(m, "raw")[0] == pytest.approx([0.0, 1.0, 3.0])
    assert rca_transform(m, "symmetric")[0] == pytest.approx([-1.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="unknown transform"):
        rca_transform(m, "sqrt")  # type: ignore[arg-type]


def test_cosine_similarity_equals_the_definition() -> None:
    rng = np.random.default_rng(7)
    a = rng.random((5, 6))
    b = rng.random((4, 6))
    out = cosine_similarity(a, b)
    for i in range(5):
        for j in range(4):
            expected = a[i] @ b[j] / (np.linalg.norm(a[i]) * np.linalg.norm(b[j]))
            assert out[i, j] == pytest.approx(expected)
    assert np.diag(cosine_similarity(a)) == pytest.approx(np.ones(5))
    zero = cosine_similarity(np.zeros((1, 6)), b)
    assert np.isnan(zero).all()


def test_profile_matrix_sums_cells_and_sorts() -> None:
    profile = pl.DataFrame(
        {
            "region_code": ["b", "a", "a", "b"],
            "product": ["q", "p", "p", "p"],
            "firm_count": [1, 2, 3, 4],
        }
    )
    regions, products, m = profile_matrix(profile)
    assert regions == ["a", "b"] and products == ["p", "q"]
    assert m.tolist() == [[5.0, 0.0], [4.0, 1.0]]


# four counties, three products: r1 and r2 alike, r3 holds only q, r0 holds nothing
PROFILE = pl.DataFrame(
    {
        "region_code": ["r1", "r1", "r1", "r2", "r2", "r3", "r0"],
        "product": ["p", "q", "s", "p", "s", "q", "p"],
        "firm_count": [4, 1, 3, 2, 1, 6, 0],
    }
)


def _expected_similarity(a: str, b: str, transform: str = "log1p") -> float:
    """Cosine computed straight from the definition, cell by cell."""
    cells = {(r, p): c for r, p, c in PROFILE.iter_rows()}
    products = ["p", "q", "s"]
    national = {p: sum(c for (_, q), c in cells.items() if q == p) for p in products}
    big = sum(national.values())

    def vector(region: str) -> list[float]:
        total = sum(cells.get((region, p), 0) for p in products)
        values = [(cells.get((region, p), 0) / total) / (national[p] / big) for p in products]
        if transform == "log1p":
            return [math.log1p(v) for v in values]
        if transform == "symmetric":
            return [(v - 1) / (v + 1) for v in values]
        return values

    u, v = vector(a), vector(b)
    dot = sum(i * j for i, j in zip(u, v, strict=True))
    return dot / (math.sqrt(sum(i * i for i in u)) * math.sqrt(sum(j * j for j in v)))


@pytest.mark.parametrize("transform", ["log1p", "raw", "symmetric"])
def test_similar_regions_hand_worked(transform: str) -> None:
    out = similar_regions(PROFILE, "r1", transform=transform)  # type: ignore[arg-type]
    assert out.columns == [
        "rank",
        "region_code",
        "similarity",
        "shared_strong",
        "strong",
        "firm_count",
    ]
    # r0 has no firm: no candidate; r1 is never its own peer
    assert set(out["region_code"]) == {"r2", "r3"}
    for row in out.iter_rows(named=True):
        assert row["similarity"] == pytest.approx(
            _expected_similarity("r1", row["region_code"], transform)
        )
    assert out["similarity"].is_sorted(descending=True)
    assert out["rank"].to_list() == [1, 2]


def test_similar_regions_strong_counts_and_top() -> None:
    # national p 6, q 7, s 4 of 17. RCA r1 (8 firms): p 1.417, q 0.304, s 1.594;
    # r2 (3 firms): p 1.889, q 0, s 1.417; r3: q 2.429
    out = similar_regions(PROFILE, "r1", strong_rca=1.4)
    rows = {r["region_code"]: r for r in out.iter_rows(named=True)}
    assert rows["r2"]["shared_strong"] == 2 and rows["r2"]["strong"] == 2
    assert rows["r3"]["shared_strong"] == 0 and rows["r3"]["strong"] == 1
    assert rows["r2"]["firm_count"] == 3
    assert out["region_code"][0] == "r2"
    assert similar_regions(PROFILE, "r1", top=1)["region_code"].to_list() == ["r2"]
    strong = strong_products(PROFILE, "r1", strong_rca=1.4)
    assert strong["product"].to_list() == ["s", "p"]
    assert strong["rca"].to_list() == pytest.approx([(3 / 8) / (4 / 17), (4 / 8) / (6 / 17)])


def test_a_region_without_firms_has_no_peers() -> None:
    assert similar_regions(PROFILE, "r0").is_empty()
    assert similar_regions(PROFILE, "nowhere").is_empty()
    assert strong_products(PROFILE, "r0").is_empty()


def test_ties_rank_by_region_code() -> None:
    twins = pl.DataFrame(
        {
            "region_code": ["me", "zz", "aa", "me"],
            "product": ["p", "p", "p", "q"],
            "firm_count": [1, 1, 1, 1],
        }
    )
    out = similar_regions(twins, "me")
    assert out["region_code"].to_list() == ["aa", "zz"]
    assert out["similarity"][0] == pytest.approx(out["similarity"][1])


def test_national_denominator_changes_rca_not_the_candidates() -> None:
    national = pl.DataFrame({"product": ["p", "q", "s", "t"], "firm_count": [60, 70, 40, 100]})
    out = similar_regions(PROFILE, "r1", national=national, strong_rca=1.0)
    assert set(out["region_code"]) == {"r2", "r3"}
    # X = 270: RCA_r1,p = (4/8) / (60/270) = 2.25; q = (1/8) / (70/270); s = (3/8) / (40/270)
    strong = strong_products(PROFILE, "r1", national=national, strong_rca=1.0)
    assert strong["product"].to_list() == ["s", "p"]
    assert strong["rca"].to_list() == pytest.approx([(3 / 8) / (40 / 270), 2.25])


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown transform"):
        similar_regions(PROFILE, "r1", transform="cube")  # type: ignore[arg-type]


@given(st.permutations(list(range(PROFILE.height))))
def test_ranking_does_not_depend_on_row_order(order: list[int]) -> None:
    shuffled = PROFILE[order]
    assert similar_regions(shuffled, "r1").equals(similar_regions(PROFILE, "r1"))
