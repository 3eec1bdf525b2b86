"""Relatedness and complexity, checked by hand, by a textbook implementation and against
`ecomplexity` 0.5.3 (values compared cell by cell, DESIGN §9)."""

from __future__ import annotations

import contextlib
import io
import warnings
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chainatlas.errors import UserError
from chainatlas.metrics.complexity import (
    FIGURES,
    co_occurrence,
    coi_cog,
    complexity_matrices,
    complexity_table,
    density,
    diversity,
    eci_pci,
    presence,
    proximity,
    proximity_table,
    rca,
    ubiquity,
)

TOLERANCE = 1e-6
COMPARED = ("value", *FIGURES)

# --- helpers ------------------------------------------------------------------------------


def long_frame(matrix: np.ndarray, *, keep_zeros: bool = False) -> pl.DataFrame:
    """region, product, value rows of a dense matrix (r0000…, p000…; zero cells left out)."""
    r, p = np.nonzero(np.ones_like(matrix)) if keep_zeros else np.nonzero(matrix)
    return pl.DataFrame(
        {
            "region": [f"r{i:04d}" for i in r],
            "product": [f"p{j:03d}" for j in p],
            "value": matrix[r, p].astype(np.float64),
        }
    )


def seeded_matrix(regions: int, products: int, seed: int, share: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    present = rng.random((regions, products)) < share
    return np.where(present, rng.lognormal(2.0, 1.5, (regions, products)), 0.0)


def run_ecomplexity(
    frame: pl.DataFrame, year: str | None = None, **options: object
) -> pl.DataFrame:
    """ecomplexity's output as polars; its prints and warnings captured. Its sampled
    log-supermodularity check (no effect on the figures, slow on mid-sized input) is off."""
    from ecomplexity import ecomplexity

    data = frame if year else frame.with_columns(pl.lit(2024).alias("year"))
    columns = {"time": year or "year", "loc": "region", "prod": "product", "val": "value"}
    with warnings.catch_warnings(record=True), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        out = ecomplexity(data.to_pandas(), columns, check_logsupermodularity=False, **options)
    result = pl.from_pandas(out)
    return result if year else result.drop("year")


def assert_equals_ecomplexity(ours: pl.DataFrame, ref: pl.DataFrame, keys: list[str]) -> None:
    """Every ecomplexity row is in ours with every column equal to TOLERANCE (NaN ↔ null);
    our extra rows (cells of regions/products with total 0) carry no figure."""
    joined = ref.join(ours, on=keys, how="left", suffix="_ours")
    assert joined.height == ref.height
    for column in COMPARED:
        theirs = joined.get_column(column).cast(pl.Float64).to_numpy()
        mine = joined.get_column(f"{column}_ours").cast(pl.Float64).to_numpy()
        np.testing.assert_allclose(
            mine, theirs, rtol=0, atol=TOLERANCE, equal_nan=True, err_msg=column
        )
    extra = ours.join(ref, on=keys, how="anti")
    assert extra.select(pl.all_horizontal(pl.col(FIGURES).is_null()).all()).item()


def textbook(mcp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ECI, PCI, COI, COG written out from the definitions, with the non-symmetric matrix.

    M̃_pp' = Σ_c M_cp M_cp' / (k_c k_p); PCI⁰ = unit eigenvector of its 2nd eigenvalue;
    ECI⁰ = M PCI⁰ / k_c, signed to correlate with diversity; ECI = z(ECI⁰),
    PCI = (PCI⁰ − mean ECI⁰) / sd ECI⁰; COI = z(Σ_p d (1−M) PCI⁰);
    COG_cp = (1−M_cp) Σ_p' (1−M_cp') φ_p'p / Σ_p'' φ_p'p'' PCI⁰_p' / sd ECI⁰.
    """
    m = mcp.astype(float)
    k_c, k_p = m.sum(axis=1), m.sum(axis=0)
    regions, products = range(len(k_c)), range(len(k_p))
    m_tilde = np.array(
        [
            [sum(m[c, p] * m[c, q] / (k_c[c] * k_p[p]) for c in regions) for q in products]
            for p in products
        ]
    )
    values, vectors = np.linalg.eig(m_tilde)
    pci0 = vectors[:, np.argsort(values.real)[-2]].real
    pci0 /= np.linalg.norm(pci0)
    eci0 = m @ pci0 / k_c
    sign = np.sign(np.corrcoef(k_c, eci0)[0, 1])
    pci0, eci0 = sign * pci0, sign * eci0
    mu, sd = eci0.mean(), eci0.std()
    phi = np.array([[m[:, p] @ m[:, q] / max(k_p[p], k_p[q]) for q in products] for p in products])
    near = m @ phi.T / phi.sum(axis=1)
    outlook = ((1 - m) * near) @ pci0
    cog = np.array(
        [
            [
                (1 - m[c, p])
                * sum((1 - m[c, q]) * phi[q, p] / phi[q].sum() * pci0[q] for q in products)
                / sd
                for p in products
            ]
            for c in regions
        ]
    )
    return (eci0 - mu) / sd, (pci0 - mu) / sd, (outlook - outlook.mean()) / outlook.std(), cog


# --- the hand-worked case -----------------------------------------------------------------
# Four regions, five products, every product 20 of 100 nationally (share 0.2), so
# RCA_rn = (x_rn / x_r) / 0.2. r4 is twice as big as the others.
HAND = np.array(
    [
        [10, 0, 0, 5, 5],
        [0, 10, 0, 5, 5],
        [0, 0, 10, 10, 0],
        [10, 10, 10, 0, 10],
    ],
    dtype=float,
)
HAND_RCA = [
    [2.5, 0, 0, 1.25, 1.25],
    [0, 2.5, 0, 1.25, 1.25],
    [0, 0, 2.5, 2.5, 0],
    [1.25, 1.25, 1.25, 0, 1.25],
]
HAND_M = [[1, 0, 0, 1, 1], [0, 1, 0, 1, 1], [0, 0, 1, 1, 0], [1, 1, 1, 0, 1]]
HAND_DIVERSITY = [3, 3, 2, 4]
HAND_UBIQUITY = [2, 2, 2, 3, 3]
# φ = co-occurrences / the larger ubiquity, e.g. p1 & p5 together in r1 and r4: 2 / max(2, 3)
F = Fraction
HAND_PHI = [
    [F(1), F(1, 2), F(1, 2), F(1, 3), F(2, 3)],
    [F(1, 2), F(1), F(1, 2), F(1, 3), F(2, 3)],
    [F(1, 2), F(1, 2), F(1), F(1, 3), F(1, 3)],
    [F(1, 3), F(1, 3), F(1, 3), F(1), F(2, 3)],
    [F(2, 3), F(2, 3), F(1, 3), F(2, 3), F(1)],
]
# r1 holds p1, p4, p5. Row sums of φ: 3, 3, 8/3, 8/3, 10/3.
# d(r1, p3) = (φ31 + φ34 + φ35) / (8/3) = (1/2 + 1/3 + 1/3) / (8/3) = 7/16
HAND_DENSITY_R1 = [F(2, 3), F(1, 2), F(7, 16), F(3, 4), F(7, 10)]
# without the node itself: d(r1, p1) = (φ14 + φ15) / (3 − 1) = 1/2, …
HAND_DENSITY_R1_EXCLUDING_SELF = [F(1, 2), F(3, 4), F(7, 10), F(3, 5), F(4, 7)]


def hand_table(*, density_excludes_self: bool = False) -> pl.DataFrame:
    return complexity_table(long_frame(HAND), density_excludes_self=density_excludes_self)


def grid(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame.get_column(column).to_numpy().reshape(4, 5)


def floats(fractions: list[Fraction]) -> list[float]:
    return [float(f) for f in fractions]


def test_hand_worked_rca_presence_diversity_ubiquity() -> None:
    out = hand_table()
    assert out.columns == ["region", "product", "value", *FIGURES]
    assert out.height == 20  # the full grid, zero cells included
    assert out["region"].to_list()[:6] == ["r0000"] * 5 + ["r0001"]
    np.testing.assert_allclose(grid(out, "value"), HAND)
    np.testing.assert_allclose(grid(out, "rca"), HAND_RCA, rtol=0, atol=1e-12)
    assert grid(out, "mcp").tolist() == HAND_M
    assert out["mcp"].dtype == pl.Int8
    assert out["diversity"].dtype == out["ubiquity"].dtype == pl.Int64
    assert grid(out, "diversity")[:, 0].tolist() == HAND_DIVERSITY
    assert grid(out, "ubiquity")[0].tolist() == HAND_UBIQUITY


def test_hand_worked_proximity_and_density() -> None:
    phi = proximity(np.array(HAND_M))
    np.testing.assert_allclose(phi, np.array(HAND_PHI, dtype=float), rtol=0, atol=1e-12)
    out = hand_table()
    np.testing.assert_allclose(grid(out, "density")[0], floats(HAND_DENSITY_R1), rtol=0, atol=1e-12)
    excluding = hand_table(density_excludes_self=True)
    np.testing.assert_allclose(
        grid(excluding, "density")[0], floats(HAND_DENSITY_R1_EXCLUDING_SELF), rtol=0, atol=1e-12
    )
    # the option changes the density only: COI and COG keep the Atlas definition
    for column in ("eci", "pci", "coi", "cog"):
        np.testing.assert_allclose(excluding[column].to_numpy(), out[column].to_numpy())


def test_hand_worked_complexity_matches_the_textbook_formulas() -> None:
    out = hand_table()
    eci, pci, coi, cog = textbook(np.array(HAND_M))
    np.testing.assert_allclose(grid(out, "eci")[:, 0], eci, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grid(out, "pci")[0], pci, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grid(out, "coi")[:, 0], coi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grid(out, "cog"), cog, rtol=0, atol=1e-12)
    ranked = grid(out, "eci")[:, 0]
    assert ranked[0] == pytest.approx(ranked[1])  # r1 and r2 mirror each other
    assert ranked[2] == min(ranked)  # r3, the least diverse, is the least complex
    assert np.mean(ranked) == pytest.approx(0) and np.std(ranked) == pytest.approx(1)
    # the standardisation keeps ECI = mean PCI of the products held
    held = np.array(HAND_M, dtype=bool)
    pcis = grid(out, "pci")[0]
    np.testing.assert_allclose(ranked, [pcis[row].mean() for row in held], atol=1e-12)
    assert (grid(out, "cog")[held] == 0).all()  # nothing to gain from what is held
    assert not np.signbit(grid(out, "cog")[held]).any()  # and no −0.0 in the output


def test_hand_worked_equals_ecomplexity() -> None:
    frame = long_frame(HAND)
    ref = run_ecomplexity(frame)
    assert_equals_ecomplexity(complexity_table(frame), ref, ["region", "product"])


def test_ecomplexity_prints_and_warns_we_do_neither(capsys: pytest.CaptureFixture[str]) -> None:
    from ecomplexity import ecomplexity

    frame = long_frame(seeded_matrix(60, 20, seed=3)).with_columns(pl.lit(1).alias("year"))
    complexity_table(frame, year="year")  # pytest turns any warning into an error
    assert capsys.readouterr().out == ""
    columns = {"time": "year", "loc": "region", "prod": "product", "val": "value"}
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ecomplexity(frame.to_pandas(), columns)
    assert "log-supermodularity" in capsys.readouterr().out


# --- realistic matrices against ecomplexity -----------------------------------------------


def test_realistic_matrix_equals_ecomplexity() -> None:
    """600 regions × 150 products, ~30 % non-zero, lognormal, rows shuffled. The
    2,800 × 400 matrix of the issue: the slow test below and benchmarks/bench_complexity.py."""
    frame = long_frame(seeded_matrix(600, 150, seed=42))
    ours = complexity_table(frame.sample(fraction=1.0, shuffle=True, seed=1))
    assert ours.height == 600 * 150
    assert_equals_ecomplexity(ours, run_ecomplexity(frame), ["region", "product"])


@pytest.mark.slow
def test_issue_size_matrix_equals_ecomplexity() -> None:
    frame = long_frame(seeded_matrix(2800, 400, seed=0))
    ours = complexity_table(frame)
    assert_equals_ecomplexity(ours, run_ecomplexity(frame), ["region", "product"])


@pytest.mark.parametrize("threshold", [0.5, 1.0, 1.3])
def test_thresholds_equal_ecomplexity(threshold: float) -> None:
    frame = long_frame(seeded_matrix(200, 40, seed=7, share=0.6))
    ours = complexity_table(frame, rca_threshold=threshold)
    assert ours["diversity"].min() > 0  # ecomplexity breaks on a diversity of 0; not here
    ref = run_ecomplexity(frame, rca_mcp_threshold=threshold)
    assert_equals_ecomplexity(ours, ref, ["region", "product"])


def test_years_are_computed_one_by_one_and_equal_ecomplexity() -> None:
    years = [
        long_frame(seeded_matrix(120, 30, seed=s)).with_columns(pl.lit(y, pl.Int64).alias("year"))
        for s, y in [(1, 2022), (2, 2023), (3, 2021)]
    ]
    # 2023 lacks one region and one product entirely
    years[1] = years[1].filter((pl.col("region") != "r0005") & (pl.col("product") != "p007"))
    frame = pl.concat(years).select("year", "region", "product", "value")
    ours = complexity_table(frame, year="year")
    assert ours.columns == ["year", "region", "product", "value", *FIGURES]
    assert ours["year"].dtype == pl.Int64
    assert ours["year"].unique(maintain_order=True).to_list() == [2021, 2022, 2023]
    assert ours.filter(pl.col("year") == 2023).height == 119 * 29
    for part in years:
        alone = complexity_table(part.drop("year"))
        mine = ours.filter(pl.col("year") == part["year"][0]).drop("year")
        np.testing.assert_array_equal(mine["eci"].to_numpy(), alone["eci"].to_numpy())
        np.testing.assert_array_equal(mine["cog"].to_numpy(), alone["cog"].to_numpy())
    ref = run_ecomplexity(frame, year="year")
    assert_equals_ecomplexity(ours, ref, ["year", "region", "product"])


def test_proximity_table_equals_ecomplexity() -> None:
    from ecomplexity import proximity as ecx_proximity

    frame = long_frame(seeded_matrix(150, 25, seed=5)).with_columns(pl.lit(2020).alias("year"))
    ours = proximity_table(frame, year="year")
    assert ours.columns == ["year", "product", "product_2", "proximity"]
    assert ours.height == 25 * 25
    columns = {"time": "year", "loc": "region", "prod": "product", "val": "value"}
    with warnings.catch_warnings(record=True), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        ref = pl.from_pandas(ecx_proximity(frame.to_pandas(), columns))
    ref = ref.rename({"product_1": "product"})
    joined = ref.join(ours, on=["year", "product", "product_2"], suffix="_ours")
    assert joined.height == ref.height == 25 * 25
    np.testing.assert_allclose(
        joined["proximity_ours"].to_numpy(), joined["proximity"].to_numpy(), rtol=0, atol=1e-12
    )
    diagonal = ours.filter(pl.col("product") == pl.col("product_2"))["proximity"]
    assert (diagonal == 1.0).all()


def test_proximity_table_of_products_held_nowhere_is_null() -> None:
    frame = long_frame(HAND).vstack(
        pl.DataFrame({"region": ["r0000"], "product": ["p999"], "value": [0.0]})
    )
    out = proximity_table(frame)
    assert out.height == 36
    nowhere = out.filter((pl.col("product") == "p999") | (pl.col("product_2") == "p999"))
    assert nowhere.height == 11 and nowhere["proximity"].is_null().all()
    np.testing.assert_allclose(
        out.filter(pl.col("proximity").is_not_null())["proximity"].to_numpy(),
        np.array(HAND_PHI, dtype=float).ravel(),
    )


# --- kernels ------------------------------------------------------------------------------


def test_kernels_on_sparse_input_equal_dense() -> None:
    x = seeded_matrix(80, 20, seed=9)
    dense_rca = rca(x)
    sparse_rca = rca(sp.csr_array(x))
    assert sp.issparse(sparse_rca)
    # absent cells stay absent in sparse form, also in an empty row (NaN when dense)
    np.testing.assert_allclose(sparse_rca.toarray(), np.nan_to_num(dense_rca), rtol=1e-12)
    m = presence(dense_rca)
    ms = presence(sparse_rca)
    assert sp.issparse(ms)
    np.testing.assert_array_equal(ms.toarray(), m)
    np.testing.assert_array_equal(diversity(ms), diversity(m))
    np.testing.assert_array_equal(ubiquity(ms), ubiquity(m))
    np.testing.assert_array_equal(co_occurrence(ms), co_occurrence(m))
    phi = proximity(m)
    np.testing.assert_allclose(proximity(ms), phi)
    np.testing.assert_allclose(density(ms, phi), density(m, phi), rtol=1e-12)
    index, index_s = eci_pci(m), eci_pci(ms)
    np.testing.assert_allclose(index_s.eci, index.eci, atol=1e-10)
    np.testing.assert_allclose(index_s.pci, index.pci, atol=1e-10)
    coi, cog = coi_cog(m, phi, density(m, phi), index)
    coi_s, cog_s = coi_cog(ms, phi, density(m, phi), index_s)
    np.testing.assert_allclose(coi_s, coi, atol=1e-10)
    np.testing.assert_allclose(cog_s, cog, atol=1e-10)


def test_complexity_matrices_equals_the_table() -> None:
    x = seeded_matrix(50, 12, seed=11)
    x[3] = 0  # a region with nothing
    x[:, 4] = 0  # a product nobody has
    result = complexity_matrices(x)
    out = complexity_table(long_frame(x, keep_zeros=True))
    np.testing.assert_array_equal(result.regions, np.arange(50) != 3)
    np.testing.assert_array_equal(result.products, np.arange(12) != 4)
    for name in ("rca", "density", "cog"):
        np.testing.assert_allclose(
            out[name].to_numpy().reshape(50, 12), getattr(result, name), equal_nan=True
        )
    np.testing.assert_allclose(out["eci"].to_numpy()[::12], result.eci, equal_nan=True)
    assert result.proximity[4].sum() == 0 and result.proximity[:, 4].sum() == 0
    with pytest.raises(ValueError, match="≥ 0"):
        complexity_matrices(-x)


def test_density_of_products_held_nowhere_is_undefined() -> None:
    # p2 is held nowhere: its φ row is 0, its density NaN, the others unaffected
    m = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0]])
    phi = proximity(m)
    assert phi[2].tolist() == [0, 0, 0]
    d = density(m, phi)
    assert np.isnan(d[:, 2]).all()
    assert np.isfinite(d[:, :2]).all()
    isolated = density(np.eye(2, dtype=int), np.eye(2), exclude_self=True)
    assert np.isnan(isolated).all()


def test_presence_rejects_a_threshold_of_zero() -> None:
    with pytest.raises(ValueError, match="threshold"):
        presence(np.ones((2, 2)), 0.0)


def test_eci_of_a_disconnected_network_is_undefined() -> None:
    # {r0, r1} × {p0, p1} and {r2, r3} × {p2, p3} share nothing: the second eigenvalue is 1
    m = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]])
    index = eci_pci(m)
    assert not index.defined
    assert np.isnan(index.eci).all() and np.isnan(index.pci).all()
    phi = proximity(m)
    coi, cog = coi_cog(m, phi, density(m, phi), index)
    assert np.isnan(coi).all() and np.isnan(cog).all()


def test_regions_without_diversity_are_left_out_of_eci() -> None:
    m = np.array(HAND_M)
    index = eci_pci(m)
    padded = eci_pci(np.vstack([m, np.zeros((2, 5), dtype=int)]))
    np.testing.assert_allclose(padded.eci[:4], index.eci)
    np.testing.assert_allclose(padded.pci, index.pci)
    assert np.isnan(padded.eci[4:]).all()


def test_threshold_above_one_leaves_regions_without_presence_out() -> None:
    # r0 is spread evenly: no RCA reaches 1.2, diversity 0. ecomplexity 0.5.3 then returns
    # NaN for every ECI and PCI; we leave out just that region.
    x = np.array(
        [[5, 5, 5, 5], [0, 6, 7, 7], [8, 1, 5, 8], [3, 1, 4, 0], [2, 8, 6, 8], [8, 8, 3, 4]],
        dtype=float,
    )
    out = complexity_table(long_frame(x), rca_threshold=1.2)
    first = out.filter(pl.col("region") == "r0000")
    assert first["diversity"].to_list() == [0, 0, 0, 0]
    assert first["eci"].is_null().all()
    assert first["coi"].is_not_null().all() and first["density"].is_not_null().all()
    others = out.filter(pl.col("region") != "r0000")
    assert others["eci"].is_not_null().all() and others["pci"].is_not_null().all()
    ref = run_ecomplexity(long_frame(x), rca_mcp_threshold=1.2)
    assert ref.select(pl.col("eci", "pci", "coi", "cog").is_null().all()).row(0) == (True,) * 4
    joined = ref.join(out, on=["region", "product"], suffix="_ours")
    for column in ("rca", "mcp", "diversity", "ubiquity", "density"):
        np.testing.assert_allclose(
            joined[f"{column}_ours"].cast(pl.Float64).to_numpy(),
            joined[column].cast(pl.Float64).to_numpy(),
            atol=TOLERANCE,
        )


# --- properties ---------------------------------------------------------------------------

small_matrices = arrays(
    np.int64, st.tuples(st.integers(3, 9), st.integers(3, 7)), elements=st.integers(0, 40)
)


def _well_defined(x: np.ndarray) -> bool:
    """ECI is defined and unambiguous: λ1 > λ2 > λ3 (no tie for the eigenvector) and ECI
    correlates with diversity (else its sign is rounding noise in ecomplexity)."""
    m = presence(rca(x[x.sum(axis=1) > 0][:, x.sum(axis=0) > 0])).astype(float)
    k_c, k_p = m.sum(axis=1), m.sum(axis=0)
    if (k_c == 0).any() or (k_p == 0).any() or m.shape[0] < 3 or m.shape[1] < 3:
        return False
    values, vectors = np.linalg.eig((m / k_p).T @ (m / k_c[:, None]))
    order = np.argsort(values.real)
    lam = values.real[order]
    if not (lam[-1] - lam[-2] > 1e-6 and lam[-2] - lam[-3] > 1e-6):
        return False
    eci = m @ vectors[:, order[-2]].real / k_c
    with np.errstate(invalid="ignore", divide="ignore"):
        return bool(abs(np.corrcoef(k_c, eci)[0, 1]) > 1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(small_matrices)
def test_small_random_matrices_equal_ecomplexity(x: np.ndarray) -> None:
    assume(_well_defined(x))
    frame = long_frame(x.astype(float))
    assert_equals_ecomplexity(
        complexity_table(frame), run_ecomplexity(frame), ["region", "product"]
    )


@settings(max_examples=60, deadline=None)
@given(small_matrices, st.integers(0, 10_000), st.integers(-20, 20))
def test_row_order_and_scale_do_not_matter(x: np.ndarray, seed: int, power: int) -> None:
    frame = long_frame(x.astype(float))
    assume(frame.height > 0)
    out = complexity_table(frame)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    again = complexity_table(shuffled.with_columns(pl.col("value") * 2.0**power))
    for column in FIGURES:
        np.testing.assert_allclose(
            again[column].cast(pl.Float64).to_numpy(),
            out[column].cast(pl.Float64).to_numpy(),
            rtol=1e-12,
            atol=1e-12,
            equal_nan=True,
        )


@settings(max_examples=60, deadline=None)
@given(small_matrices)
def test_invariants(x: np.ndarray) -> None:
    result = complexity_matrices(x)
    rows, cols = result.regions, result.products
    r = result.rca[np.ix_(rows, cols)]
    if r.size == 0:
        return
    # the nation has RCA 1: Σ_r x_r RCA_rn = X for every product
    totals = x[np.ix_(rows, cols)].sum(axis=1)
    np.testing.assert_allclose(totals @ r, x.sum(), rtol=1e-9)
    # every region and product with value reaches RCA 1 somewhere
    assert (r.max(axis=1) >= 1 - 1e-12).all() and (r.max(axis=0) >= 1 - 1e-12).all()
    phi = result.proximity
    np.testing.assert_allclose(phi, phi.T)
    assert ((phi >= 0) & (phi <= 1)).all()
    held_somewhere = cols & (result.ubiquity > 0)
    np.testing.assert_array_equal(np.diag(phi)[held_somewhere], 1.0)
    d = result.density[np.ix_(rows, held_somewhere)]
    assert ((d >= -1e-12) & (d <= 1 + 1e-12)).all()
    if result.index.defined:
        # ECI = mean PCI of the products held; ECI correlates positively with diversity
        taking_part = rows & (result.diversity > 0)
        held = result.mcp[taking_part].astype(bool)
        means = np.array([result.pci[h].mean() for h in held])
        np.testing.assert_allclose(result.eci[taking_part], means, atol=1e-9)
        assert np.corrcoef(result.diversity[taking_part], result.eci[taking_part])[0, 1] > 0
        assert (result.cog[result.mcp == 1] == 0).all()


# --- bad input and edge cases -------------------------------------------------------------


def test_zero_regions_and_products_stay_in_the_grid_with_no_figures() -> None:
    zeros = pl.DataFrame(
        {"region": ["r9999", "r0000"], "product": ["p000", "p999"], "value": [0.0, 0.0]}
    )
    frame = long_frame(HAND).vstack(zeros)
    out = complexity_table(frame)
    assert out.height == 5 * 6
    empty = out.filter((pl.col("region") == "r9999") | (pl.col("product") == "p999"))
    assert empty.height == 6 + 5 - 1
    assert empty.select(pl.all_horizontal(pl.col(FIGURES).is_null()).all()).item()
    assert (empty["value"] == 0).all()
    rest = out.join(empty, on=["region", "product"], how="anti")
    np.testing.assert_allclose(rest["eci"].to_numpy(), hand_table()["eci"].to_numpy())
    assert_equals_ecomplexity(out, run_ecomplexity(frame), ["region", "product"])


def test_nulls_and_nan_count_as_zero() -> None:
    gaps = pl.DataFrame(
        {"region": ["r0000", "r0001"], "product": ["p001", "p002"], "value": [None, float("nan")]}
    )
    out = complexity_table(long_frame(HAND).vstack(gaps))
    np.testing.assert_allclose(out["eci"].to_numpy(), hand_table()["eci"].to_numpy())
    cell = out.filter((pl.col("region") == "r0000") & (pl.col("product") == "p001"))
    assert cell["value"].item() == 0


def test_integer_and_numeric_text_values_are_accepted() -> None:
    expected = hand_table()["eci"].to_numpy()
    ints = long_frame(HAND).with_columns(pl.col("value").cast(pl.Int64))
    text = long_frame(HAND).with_columns(pl.col("value").cast(pl.String) + " ")
    for frame in (ints, text):
        np.testing.assert_allclose(complexity_table(frame)["eci"].to_numpy(), expected)


def test_a_single_region_has_no_complexity() -> None:
    frame = pl.DataFrame({"region": ["a"] * 3, "product": ["x", "y", "z"], "value": [1.0, 2, 3]})
    out = complexity_table(frame)
    assert out["rca"].to_list() == [1.0, 1.0, 1.0]
    assert out["mcp"].to_list() == [1, 1, 1]
    assert out["density"].to_list() == [1.0, 1.0, 1.0]
    for column in ("eci", "pci", "coi", "cog"):
        assert out[column].is_null().all()


def test_negative_values_are_named() -> None:
    frame = long_frame(HAND).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(-2.5).otherwise(pl.col("value")).alias("value")
    )
    with pytest.raises(UserError, match=r"row 4 \(-2.5\)") as error:
        complexity_table(frame)
    assert "第 4 行" in error.value.message_zh and "负数" in error.value.message_zh


def test_non_numeric_values_are_named() -> None:
    frame = long_frame(HAND).with_columns(pl.col("value").cast(pl.String))
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([1, 6]))
        .then(pl.lit("十"))
        .otherwise(pl.col("value"))
        .alias("value")
    )
    with pytest.raises(UserError, match=r"not a number in 2 row\(s\): row 2 \('十'\), row 7"):
        complexity_table(frame)
    with pytest.raises(UserError, match="not numbers"):
        complexity_table(long_frame(HAND).with_columns(pl.col("value") > 1))


def test_infinite_values_are_named() -> None:
    frame = long_frame(HAND).with_columns(pl.col("value").replace(10.0, float("inf")))
    with pytest.raises(UserError, match="not a finite number"):
        complexity_table(frame)


def test_duplicated_cells_are_named() -> None:
    frame = long_frame(HAND)
    frame = pl.concat([frame, frame.slice(2, 1), frame.slice(0, 1)])
    with pytest.raises(
        UserError, match=r"'r0000 / p000' in rows 1, 14; 'r0000 / p004' in rows 3, 13"
    ) as error:
        complexity_table(frame)
    assert "重复" in error.value.message_zh
    years = frame.with_columns(pl.Series("year", [2020] * 12 + [2021, 2021]))
    assert complexity_table(years, year="year").height == 20 + 2  # same cell, other year: fine


def test_empty_keys_missing_columns_and_bad_options() -> None:
    frame = long_frame(HAND)
    with pytest.raises(UserError, match="column 'region' is empty in 2 row"):
        complexity_table(frame.with_columns(pl.col("region").replace("r0002", None)))
    with pytest.raises(
        UserError, match="columns not found: county; columns present: region, product, value"
    ):
        complexity_table(frame, region="county")
    with pytest.raises(UserError, match="no rows"):
        complexity_table(frame.clear())
    with pytest.raises(UserError, match="threshold"):
        complexity_table(frame, rca_threshold=0)
    with pytest.raises(UserError, match="different columns"):
        complexity_table(frame, region="product")
    with pytest.raises(UserError, match="clash"):
        complexity_table(frame.rename({"value": "rca"}), value="rca")


def test_categorical_keys_come_back_as_text() -> None:
    frame = long_frame(HAND).with_columns(pl.col("region").cast(pl.Categorical))
    out = complexity_table(frame)
    assert out["region"].dtype == pl.String
    np.testing.assert_allclose(out["eci"].to_numpy(), hand_table()["eci"].to_numpy())


def test_integer_keys_keep_their_type_and_order() -> None:
    frame = long_frame(HAND).with_columns(
        (450_000 - pl.col("region").str.slice(1).cast(pl.Int64)).alias("region")
    )
    out = complexity_table(frame)
    assert out["region"].dtype == pl.Int64
    assert out["region"].to_list()[::5] == [449_997, 449_998, 449_999, 450_000]
    np.testing.assert_allclose(
        out["eci"].to_numpy()[::5], hand_table()["eci"].to_numpy()[::5][::-1]
    )


def test_a_year_of_zeros_has_a_grid_but_no_figures() -> None:
    frame = pl.DataFrame(
        {
            "year": [2022, 2022, 2023, 2023],
            "region": ["a", "b", "a", "b"],
            "product": ["x", "y", "x", "x"],
            "value": [1, 2, 0, 0],
        }
    )
    out = complexity_table(frame, year="year")
    zeros = out.filter(pl.col("year") == 2023)
    assert zeros.select("region", "product").rows() == [("a", "x"), ("b", "x")]
    assert zeros.select(pl.all_horizontal(pl.col(FIGURES).is_null()).all()).item()
    assert out.filter(pl.col("year") == 2022)["mcp"].to_list() == [1, 0, 0, 1]
