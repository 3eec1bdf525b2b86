"""I-O linkages: hand-worked cases, pymrio on its test system, invariants, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chainatlas.errors import UserError
from chainatlas.metrics.io_linkages import io_linkages

RTOL = 1e-9

# --- Miller & Blair (2009), §2.3 and §12.1: the two-sector hypothetical economy --------
# Z = [[150, 500], [200, 100]], x = [1000, 2000] (final demand 350 and 1700).
# A = Z x̂⁻¹ = [[.15, .25], [.20, .05]]
# I − A = [[.85, −.25], [−.20, .95]], det = .8075 − .05 = .7575
# L = [[.95, .25], [.20, .85]] / .7575 = [[1.254, .330], [.264, 1.122]]  (the book's figures)
# B = x̂⁻¹ Z = [[.15, .50], [.10, .05]]
# G = x̂⁻¹ L x̂: g_ij = l_ij x_j / x_i = [[.95, .50], [.10, .85]] / .7575
#   = [[1.254, .660], [.132, 1.122]]  (the book's Ghosh inverse)
# BL = column sums of L = [1.15, 1.10] / .7575 = [1.5182, 1.4521]; mean 1.125 / .7575
#   BL_norm = [1.15, 1.10] / 1.125 = [1.02222, .97778]
# FL = row sums of G = [1.45, .95] / .7575 = [1.9142, 1.2541]; mean 1.2 / .7575
#   FL_norm = [1.45, .95] / 1.2 = [1.20833, .79167]
# agriculture: both > 1 → key; manufacturing: both < 1 → weak.
MB_Z = np.array([[150.0, 500.0], [200.0, 100.0]])
MB_X = np.array([1000.0, 2000.0])
DET = 0.7575


def test_miller_blair_two_sector() -> None:
    r = io_linkages(MB_Z, MB_X, ["agriculture", "manufacturing"])
    np.testing.assert_allclose(r.A, [[0.15, 0.25], [0.20, 0.05]], rtol=RTOL)
    np.testing.assert_allclose(r.L, np.array([[0.95, 0.25], [0.20, 0.85]]) / DET, rtol=RTOL)
    np.testing.assert_allclose(r.L, [[1.254, 0.330], [0.264, 1.122]], atol=5e-4)
    np.testing.assert_allclose(r.B, [[0.15, 0.50], [0.10, 0.05]], rtol=RTOL)
    np.testing.assert_allclose(r.G, np.array([[0.95, 0.50], [0.10, 0.85]]) / DET, rtol=RTOL)
    np.testing.assert_allclose(r.G, [[1.254, 0.660], [0.132, 1.122]], atol=5e-4)
    link = r.linkages
    assert link["sector"].to_list() == ["agriculture", "manufacturing"]
    np.testing.assert_allclose(link["output"], MB_X)
    np.testing.assert_allclose(link["backward"], np.array([1.15, 1.10]) / DET, rtol=RTOL)
    np.testing.assert_allclose(link["forward"], np.array([1.45, 0.95]) / DET, rtol=RTOL)
    np.testing.assert_allclose(link["backward_norm"], [1.15 / 1.125, 1.10 / 1.125], rtol=RTOL)
    np.testing.assert_allclose(link["forward_norm"], [1.45 / 1.2, 0.95 / 1.2], rtol=RTOL)
    np.testing.assert_allclose(link["output_multiplier"], link["backward"], rtol=0)
    assert link["key_sector"].to_list() == [True, False]
    assert link["kind"].to_list() == ["key", "weak"]


def test_miller_blair_value_added_multiplier() -> None:
    # Value added = x − column sums of Z = [1000 − 350, 2000 − 600] = [650, 1400];
    # v = [.65, .70]; multiplier_j = Σ_i v_i l_ij:
    #   j=1: (.65 × .95 + .70 × .20) / .7575 = .7575 / .7575 = 1
    #   j=2: (.65 × .25 + .70 × .85) / .7575 = .7575 / .7575 = 1
    # (no imports: each unit of final demand is paid out entirely as value added).
    # Employment 10 and 40 persons: e = [.01, .02]:
    #   j=1: (.01 × .95 + .02 × .20) / .7575 = .0135 / .7575 = .017822
    #   j=2: (.01 × .25 + .02 × .85) / .7575 = .0195 / .7575 = .025743
    r = io_linkages(
        MB_Z,
        MB_X,
        ["agriculture", "manufacturing"],
        satellites={"value_added": np.array([650.0, 1400.0]), "employment": np.array([10.0, 40.0])},
    )
    np.testing.assert_allclose(r.linkages["value_added_multiplier"], [1.0, 1.0], rtol=RTOL)
    np.testing.assert_allclose(
        r.linkages["employment_multiplier"], [0.0135 / DET, 0.0195 / DET], rtol=RTOL
    )
    assert r.satellites == ("value_added", "employment")


# --- a four-sector chain with all four kinds ------------------------------------------
# 1 sells to 2 (a12 = 500/1000 = .5), 2 sells to 3 (a23 = 400/1000 = .4), 4 is on its own.
# x = [2000, 1000, 1000, 500]. A is nilpotent, so L = I + A + A²:
#   L = [[1, .5, .2, 0], [0, 1, .4, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
#   BL = [1, 1.5, 1.6, 1], mean 5.1/4 = 1.275 → norm [.78431, 1.17647, 1.25490, .78431]
# G: g12 = .5 × 1000/2000 = .25, g13 = .2 × 1000/2000 = .1, g23 = .4 × 1000/1000 = .4
#   FL = [1.35, 1.4, 1, 1], mean 4.75/4 = 1.1875 → norm [1.13684, 1.17895, .84211, .84211]
# kinds: forward, key, backward, weak.
CHAIN_Z = np.array([[0, 500, 0, 0], [0, 0, 400, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float64)
CHAIN_X = np.array([2000.0, 1000.0, 1000.0, 500.0])


def test_four_kinds() -> None:
    r = io_linkages(CHAIN_Z, CHAIN_X, ["s1", "s2", "s3", "s4"])
    np.testing.assert_allclose(
        r.L, [[1, 0.5, 0.2, 0], [0, 1, 0.4, 0], [0, 0, 1, 0], [0, 0, 0, 1]], atol=1e-15
    )
    np.testing.assert_allclose(
        r.G, [[1, 0.25, 0.1, 0], [0, 1, 0.4, 0], [0, 0, 1, 0], [0, 0, 0, 1]], atol=1e-15
    )
    link = r.linkages
    np.testing.assert_allclose(link["backward_norm"], np.array([1, 1.5, 1.6, 1]) / 1.275)
    np.testing.assert_allclose(link["forward_norm"], np.array([1.35, 1.4, 1, 1]) / 1.1875)
    assert link["kind"].to_list() == ["forward", "key", "backward", "weak"]
    assert link["key_sector"].to_list() == [False, True, False, False]


def test_empty_sector_is_left_out_of_the_means() -> None:
    # Sector 5 has zero output and no flows: identity row/column in L and G, zero
    # coefficients (pymrio's convention), null norms and kind; the others are unchanged.
    z = np.zeros((5, 5))
    z[:4, :4] = CHAIN_Z
    r = io_linkages(z, np.append(CHAIN_X, 0.0), ["s1", "s2", "s3", "s4", "empty"])
    assert r.L[4, 4] == 1.0 and r.G[4, 4] == 1.0
    assert not r.A[:, 4].any() and not r.B[4].any()
    np.testing.assert_allclose(r.G @ (np.eye(5) - r.B), np.eye(5), atol=1e-12)
    link = r.linkages
    assert link["backward_norm"][4] is None and link["kind"][4] is None
    assert link["key_sector"][4] is False
    np.testing.assert_allclose(link["backward_norm"].head(4), np.array([1, 1.5, 1.6, 1]) / 1.275)
    assert link["kind"].head(4).to_list() == ["forward", "key", "backward", "weak"]


# --- pymrio on its test system -----------------------------------------------------


@pytest.fixture(scope="module")
def pymrio_test_system():  # type: ignore[no-untyped-def]
    pymrio = pytest.importorskip("pymrio")
    mrio = pymrio.load_test()
    mrio.calc_all(include_ghosh=True)
    return mrio


@pytest.fixture(scope="module")
def pymrio_single_region():  # type: ignore[no-untyped-def]
    pymrio = pytest.importorskip("pymrio")
    mrio = pymrio.load_test()
    mrio.aggregate(region_agg="global")
    mrio.calc_all(include_ghosh=True)
    return mrio


def _compare_with_pymrio(mrio) -> None:  # type: ignore[no-untyped-def]
    sectors = [" / ".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in mrio.Z.index]
    z = mrio.Z.to_numpy()
    x = mrio.x.to_numpy().ravel()
    value_added = mrio.factor_inputs.F.loc["Value Added"].to_numpy()
    r = io_linkages(z, x, sectors, satellites={"value_added": value_added})
    # every matrix pymrio computes: calc_A, calc_L, calc_B, calc_G (from inv(I − B))
    np.testing.assert_allclose(r.A, mrio.A.to_numpy(), rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(r.L, mrio.L.to_numpy(), rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(r.B, mrio.B.to_numpy(), rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(r.G, mrio.G.to_numpy(), rtol=RTOL, atol=1e-12)
    # linkages summed from pymrio's own L and G
    bl = mrio.L.to_numpy().sum(axis=0)
    fl = mrio.G.to_numpy().sum(axis=1)
    link = r.linkages
    np.testing.assert_allclose(link["backward"], bl, rtol=RTOL)
    np.testing.assert_allclose(link["forward"], fl, rtol=RTOL)
    np.testing.assert_allclose(link["backward_norm"], bl / bl.mean(), rtol=RTOL)
    np.testing.assert_allclose(link["forward_norm"], fl / fl.mean(), rtol=RTOL)
    assert link["key_sector"].to_list() == list((bl > bl.mean()) & (fl > fl.mean()))
    # satellite multiplier = pymrio's M = S L for the value-added extension
    np.testing.assert_allclose(
        link["value_added_multiplier"],
        mrio.factor_inputs.M.loc["Value Added"].to_numpy(),
        rtol=RTOL,
    )


def test_equals_pymrio_on_multiregional_test_system(pymrio_test_system) -> None:  # type: ignore[no-untyped-def]
    assert pymrio_test_system.Z.shape == (48, 48)  # 6 regions × 8 sectors
    _compare_with_pymrio(pymrio_test_system)


def test_equals_pymrio_on_single_region_aggregate(pymrio_single_region) -> None:  # type: ignore[no-untyped-def]
    assert pymrio_single_region.Z.shape == (8, 8)
    _compare_with_pymrio(pymrio_single_region)


def test_equals_pymrio_on_a_larger_random_system() -> None:
    pymrio = pytest.importorskip("pymrio")
    rng = np.random.default_rng(3)
    n = 300
    z = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    x = z.sum(axis=0) / rng.uniform(0.2, 0.9, n)  # column sums of A in [0.2, 0.9]
    r = io_linkages(z, x, [f"s{i}" for i in range(n)])
    a = pymrio.calc_A(z, x)
    big_l = pymrio.calc_L(a)
    np.testing.assert_allclose(r.A, a, rtol=RTOL)
    np.testing.assert_allclose(r.L, big_l, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(r.G, pymrio.calc_G(pymrio.calc_B(z, x)), rtol=1e-8, atol=1e-12)


@pytest.mark.slow
def test_four_thousand_sectors() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    z = rng.random((n, n)) * 1000.0
    x = z.sum(axis=0) / rng.uniform(0.3, 0.9, n)
    r = io_linkages(z, x, [f"s{i}" for i in range(n)])
    sample = rng.choice(n, 50, replace=False)
    # (I − A) L = I on a sample of columns, and G = x̂⁻¹ L x̂ (g_ij = l_ij x_j / x_i) there
    residual = r.L[:, sample] - r.A @ r.L[:, sample]
    np.testing.assert_allclose(residual, np.eye(n)[:, sample], atol=1e-12)
    np.testing.assert_allclose(r.G[sample], r.L[sample] * x / x[sample, None], rtol=1e-12)
    assert r.linkages.height == n
    assert r.linkages["backward_norm"].mean() == pytest.approx(1.0)


# --- invariants ------------------------------------------------------------------------


@st.composite
def productive_systems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 7))
    # flows of realistic magnitudes (a table in 万元 spans at most ~12 orders)
    flows = st.one_of(st.just(0.0), st.floats(1e-3, 1e6))
    z = draw(arrays(np.float64, (n, n), elements=flows))
    shares = draw(arrays(np.float64, n, elements=st.floats(0.05, 0.95)))
    inputs = z.sum(axis=0)
    x = np.where(
        inputs > 0, inputs / shares, draw(arrays(np.float64, n, elements=st.floats(1, 1e6)))
    )
    return z, x


@settings(max_examples=80, deadline=None)
@given(productive_systems(), st.randoms(use_true_random=False))
def test_invariants(system: tuple[np.ndarray, np.ndarray], random) -> None:  # type: ignore[no-untyped-def]
    z, x = system
    n = len(x)
    labels = [f"s{i}" for i in range(n)]
    r = io_linkages(z, x, labels)
    eye = np.eye(n)
    # residuals relative to the size of the factors (B and G scale with output ratios)
    for inverse, coefficients in ((r.L, r.A), (r.G, r.B)):
        scale = np.abs(inverse).max() * max(1.0, np.abs(coefficients).max())
        np.testing.assert_allclose(inverse @ (eye - coefficients), eye, atol=1e-12 * scale)
    assert (r.L >= -1e-12).all() and (np.diag(r.L) >= 1 - 1e-12).all()
    link = r.linkages
    assert link["backward_norm"].mean() == pytest.approx(1.0)
    assert link["forward_norm"].mean() == pytest.approx(1.0)
    # units do not matter: scaling Z and x together changes nothing
    scaled = io_linkages(z * 37.5, x * 37.5, labels).linkages
    np.testing.assert_allclose(scaled["backward_norm"], link["backward_norm"], rtol=1e-9)
    np.testing.assert_allclose(scaled["forward_norm"], link["forward_norm"], rtol=1e-9)
    # relabelling the sectors in another order permutes the results
    order = list(range(n))
    random.shuffle(order)
    permuted = io_linkages(z[np.ix_(order, order)], x[order], [labels[i] for i in order])
    np.testing.assert_allclose(permuted.L, r.L[np.ix_(order, order)], rtol=1e-9, atol=1e-12)
    back = permuted.linkages.sort("sector")
    front = link.sort("sector")
    np.testing.assert_allclose(back["backward_norm"], front["backward_norm"], rtol=1e-9)
    assert back["kind"].to_list() == front["kind"].to_list()


# --- bad input -------------------------------------------------------------------------


def _error(z: object, x: object, sectors: list[str]) -> UserError:
    with pytest.raises(UserError) as info:
        io_linkages(np.asarray(z, dtype=float), np.asarray(x, dtype=float), sectors)
    return info.value


def test_not_square() -> None:
    error = _error([[1, 2, 3], [4, 5, 6]], [10, 10], ["a", "b"])
    assert "方阵" in error.message_zh and "square" in error.message_en


def test_lengths_must_match() -> None:
    assert "output x has 3" in _error(MB_Z, [1, 2, 3], ["a", "b"]).message_en
    assert "3 sector labels" in _error(MB_Z, MB_X, ["a", "b", "c"]).message_en


def test_duplicate_labels() -> None:
    error = _error(MB_Z, MB_X, ["农业", "农业"])
    assert "「农业」" in error.message_zh and "'农业' appears twice" in error.message_en


def test_negative_flow_names_both_sectors() -> None:
    error = _error([[150, -5], [200, 100]], MB_X, ["agri", "manu"])
    assert "row 'agri', column 'manu'" in error.message_en and "负" in error.message_zh


def test_non_finite_flow() -> None:
    error = _error([[150, np.nan], [200, 100]], MB_X, ["agri", "manu"])
    assert "row 'agri', column 'manu'" in error.message_en


def test_negative_output() -> None:
    error = _error(MB_Z, [1000, -1], ["agri", "manu"])
    assert "'manu'" in error.message_en and "「manu」" in error.message_zh


@pytest.mark.parametrize(
    ("z", "what"),
    [([[0, 5], [3, 0]], "has inputs"), ([[0, 0], [5, 0]], "sells")],
)
def test_zero_output_with_flows(z: list[list[float]], what: str) -> None:
    error = _error(z, [10, 0], ["agri", "manu"])
    assert f"sector 'manu' {what} but its output is 0" in error.message_en


def test_all_outputs_zero() -> None:
    assert "no sector has a positive output" in _error([[0.0]], [0.0], ["a"]).message_en


def test_non_productive_sector_is_named() -> None:
    # manufacturing buys 500 + 1600 = 2100 > its output 2000: column sum of A = 1.05
    error = _error([[150, 500], [200, 1600]], MB_X, ["agri", "manu"])
    assert "'manu'" in error.message_en and "1.05" in error.message_en
    assert "agri" not in error.message_en
    assert "「manu」" in error.message_zh and "不具生产性" in error.message_zh


def test_singular_closed_system_names_sectors() -> None:
    # Each sector buys exactly its output from the other: column sums of A are 1, so
    # 1ᵀ(I − A) = 0 and (I − A) is singular.
    error = _error([[0, 10], [10, 0]], [10, 10], ["甲", "乙"])
    assert "「甲」、「乙」" in error.message_zh and "singular" in error.message_en
    assert "A 的列和 = 1、1" in error.message_zh and "column sums of A = 1, 1 " in error.message_en


def test_accepts_column_vector_x() -> None:
    r = io_linkages(MB_Z, MB_X.reshape(-1, 1), ["agriculture", "manufacturing"])
    np.testing.assert_allclose(r.A, [[0.15, 0.25], [0.20, 0.05]])
