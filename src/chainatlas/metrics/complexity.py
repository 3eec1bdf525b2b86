"""Relatedness and economic complexity (DESIGN §6), equal to `ecomplexity` 0.5.3.

For a region × product matrix of non-negative values x (trade, employment, firm counts):

    RCA_rn  = (x_rn / x_r) / (X_n / X)            Balassa; national denominator
    M_rn    = 1[RCA_rn ≥ threshold]               presence (default threshold 1)
    k_r     = Σ_n M_rn                            diversity
    k_n     = Σ_r M_rn                            ubiquity
    φ_nn'   = Σ_r M_rn M_rn' / max(k_n, k_n')     proximity (the smaller of the two
                                                  conditional probabilities; diagonal 1)
    d_rn    = Σ_n' M_rn' φ_nn' / Σ_n' φ_nn'       density (Hidalgo et al. 2007; the option
                                                  `density_excludes_self` sums over n' ≠ n)
    M̃_nn'   = Σ_r M_rn M_rn' / (k_n k_r)          product-side matrix
    PCI⁰    = unit eigenvector of M̃ for its second largest eigenvalue
    ECI⁰_r  = Σ_n M_rn PCI⁰_n / k_r               both signs flipped if corr(ECI⁰, k_r) < 0
    ECI     = (ECI⁰ − mean ECI⁰) / sd ECI⁰        population sd, over regions
    PCI     = (PCI⁰ − mean ECI⁰) / sd ECI⁰        so ECI_r = mean PCI of what r holds
    COI_r   = z(Σ_n d_rn (1 − M_rn) PCI⁰_n)       standardised over regions
    COG_rn  = (1 − M_rn) Σ_n' (1 − M_rn') φ_n'n / (Σ_n'' φ_n'n'') PCI⁰_n' / sd ECI⁰

Sources: Hidalgo & Hausmann (2009) PNAS; Hidalgo et al. (2007) Science; the Atlas of
Economic Complexity (Hausmann et al. 2014); `ecomplexity` 0.5.3 (Harvard Growth Lab), whose
conventions are followed exactly — COI and COG use PCI⁰ (so COG is divided by sd ECI⁰ but
not shifted), regions and products whose total value is 0 take no part, one year at a time.
Where `ecomplexity` breaks (NaN everywhere as soon as some region has diversity 0 or some
product ubiquity 0, possible only with a threshold above 1) we leave just those regions or
products out instead; docs/complexity.md lists every difference.

The eigenvector is found on the symmetric P × P matrix S = D_n^-½ Mᵀ D_r⁻¹ M D_n^-½, which
is similar to M̃ (M̃ = D_n^-½ S D_n^½), with a LAPACK routine that computes only the two
largest eigenpairs; ECI⁰ follows from PCI⁰ with one matrix–vector product. ECI/PCI (and
COI, COG) are null when not defined: fewer than two regions or products, a network in
disconnected pieces (second eigenvalue equal to the first), or ECI⁰ uncorrelated with
diversity (its sign cannot be fixed).

Kernels take dense numpy arrays or scipy sparse arrays (regions × products, M binary) and
return numpy arrays; `complexity_table` and `proximity_table` work on long polars frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import scipy.linalg
import scipy.sparse as sp

from chainatlas.errors import UserError

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
# A dense numpy array or a scipy sparse array/matrix, regions × products.
Matrix: TypeAlias = Any

FIGURES = ("rca", "mcp", "diversity", "ubiquity", "eci", "pci", "density", "coi", "cog")
# Second eigenvalue this close to the first (= 1): the network falls apart, ECI is undefined.
DISCONNECTED_GAP = 1e-10
# |corr(ECI, diversity)| at or below this is zero: the sign of ECI cannot be fixed.
UNCORRELATED = 1e-10
_MAX_NAMED = 5


# --- kernels -----------------------------------------------------------------------------


def rca(values: Matrix) -> Matrix:
    """Balassa's revealed comparative advantage with a national denominator:

        RCA_rn = (x_rn / x_r) / (X_n / X)

    Dense input: a float64 array, NaN where undefined (a region or product whose total is 0),
    computed in the same order of operations as `ecomplexity` so that cells on the
    threshold fall the same way. Sparse input: a CSR array with the same stored entries.
    """
    if sp.issparse(values):
        x = sp.csr_array(values, dtype=np.float64)
        region_total = np.asarray(x.sum(axis=1)).ravel()
        product_total = np.asarray(x.sum(axis=0)).ravel()
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        with np.errstate(divide="ignore", invalid="ignore"):
            national = product_total / product_total.sum()
            data = (x.data / region_total[rows]) / national[x.indices]
        return sp.csr_array((data, x.indices.copy(), x.indptr.copy()), shape=x.shape)
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = x / x.sum(axis=1)[:, np.newaxis]
        product_total = x.sum(axis=0)[np.newaxis, :]
        result /= product_total / product_total.sum(axis=1)[:, np.newaxis]
    return result


def presence(rca_values: Matrix, threshold: float = 1.0) -> Matrix:
    """M_rn = 1[RCA_rn ≥ threshold] as int8 (NaN counts as absent); sparse stays sparse."""
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"the RCA threshold must be a finite number > 0, got {threshold}")
    if sp.issparse(rca_values):
        r = sp.csr_array(rca_values)
        m = sp.csr_array(
            ((r.data >= threshold).astype(np.int8), r.indices.copy(), r.indptr.copy()),
            shape=r.shape,
        )
        m.eliminate_zeros()
        return m
    return (np.asarray(rca_values) >= threshold).astype(np.int8)


def diversity(mcp: Matrix) -> IntArray:
    """k_r = Σ_n M_rn, per region."""
    return np.asarray(mcp.sum(axis=1), dtype=np.int64).ravel()


def ubiquity(mcp: Matrix) -> IntArray:
    """k_n = Σ_r M_rn, per product."""
    return np.asarray(mcp.sum(axis=0), dtype=np.int64).ravel()


def co_occurrence(mcp: Matrix) -> FloatArray:
    """C_nn' = Σ_r M_rn M_rn' (products × products); its diagonal is the ubiquity."""
    if sp.issparse(mcp):
        m = sp.csc_array(mcp, dtype=np.float64)
        return np.asarray((m.T @ m).toarray(), dtype=np.float64)
    m = np.asarray(mcp)
    # Counts of 0/1 products are exact in float32 below 2^24 regions, and faster.
    f: npt.NDArray[np.floating[Any]] = m.astype(np.float32 if m.shape[0] < 2**24 else np.float64)
    return np.asarray(_gram(f), dtype=np.float64)


def proximity(mcp: Matrix) -> FloatArray:
    """φ_nn' = Σ_r M_rn M_rn' / max(k_n, k_n'): the smaller of P(n | n') and P(n' | n).

    Products × products, symmetric, diagonal 1; 0 in the rows and columns of a product held
    nowhere (k_n = 0), so that it adds nothing to densities.
    """
    co = co_occurrence(mcp)
    k = np.diag(co).copy()
    larger = np.maximum(k[:, np.newaxis], k[np.newaxis, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        phi: FloatArray = np.where(larger > 0, co / larger, 0.0)
    return phi


def density(mcp: Matrix, phi: FloatArray, *, exclude_self: bool = False) -> FloatArray:
    """d_rn = Σ_n' M_rn' φ_nn' / Σ_n' φ_nn'  (regions × products).

    With the diagonal φ_nn = 1 (Hidalgo et al. 2007, `ecomplexity`) a held product counts
    towards its own density; `exclude_self=True` sums over n' ≠ n only. NaN where the
    denominator is 0 (a product close to nothing).
    """
    weights = np.array(phi, dtype=np.float64)
    if exclude_self:
        np.fill_diagonal(weights, 0.0)
    total = weights.sum(axis=1)
    empty = total == 0
    # Scaled before the product, as `ecomplexity` does; empty rows kept out of it (NaN·0).
    scaled = weights.T / np.where(empty, 1.0, total)[np.newaxis, :]
    result: FloatArray = _matmul(mcp, scaled)
    if empty.any():
        result[:, empty] = np.nan
    return result


@dataclass(frozen=True)
class ComplexityIndex:
    """ECI per region and PCI per product; NaN where undefined.

    `eci`, `pci`: standardised as `ecomplexity` does (both with ECI's mean and sd).
    `eci_raw`: Σ_n M_rn pci_raw_n / k_r; `pci_raw`: the unit-length eigenvector, sign fixed.
    `eigenvalue`: the second largest eigenvalue of M̃ (NaN when not computed).
    """

    eci: FloatArray
    pci: FloatArray
    eci_raw: FloatArray
    pci_raw: FloatArray
    eigenvalue: float

    @property
    def defined(self) -> bool:
        return bool(np.isfinite(self.eci).any())


def eci_pci(mcp: Matrix) -> ComplexityIndex:
    """ECI and PCI by the eigenvector method (Hidalgo & Hausmann 2009), as `ecomplexity`.

    Regions with diversity 0 and products with ubiquity 0 are left out (NaN). PCI is the
    eigenvector of M̃ = D_n⁻¹ Mᵀ D_r⁻¹ M for the second largest eigenvalue, scaled to unit
    length; ECI = D_r⁻¹ M PCI; both signs flip together so that ECI correlates positively
    with diversity; then ECI ← (ECI − mean ECI) / sd ECI and PCI ← (PCI − mean ECI) / sd ECI.
    """
    n_regions, n_products = mcp.shape
    k_r = diversity(mcp)
    k_p = ubiquity(mcp)
    rows = k_r > 0
    cols = k_p > 0
    undefined = ComplexityIndex(
        eci=np.full(n_regions, np.nan),
        pci=np.full(n_products, np.nan),
        eci_raw=np.full(n_regions, np.nan),
        pci_raw=np.full(n_products, np.nan),
        eigenvalue=np.nan,
    )
    if rows.sum() < 2 or cols.sum() < 2:
        return undefined
    sub = mcp if rows.all() and cols.all() else _submatrix(mcp, rows, cols)
    kr = k_r[rows].astype(np.float64)
    kp = k_p[cols].astype(np.float64)
    # S = Aᵀ A with A = D_r^-½ M D_n^-½: symmetric, similar to M̃, same eigenvalues.
    row_scale = 1.0 / np.sqrt(kr)
    col_scale = 1.0 / np.sqrt(kp)
    if sp.issparse(sub):
        a = sp.csr_array(sub, dtype=np.float64)
        a = sp.diags_array(row_scale) @ a @ sp.diags_array(col_scale)
        s = np.asarray((a.T @ a).toarray())
    else:
        a = np.asarray(sub, dtype=np.float64) * row_scale[:, np.newaxis]
        a *= col_scale[np.newaxis, :]
        s = _gram(a)
    size = s.shape[0]
    with _one_blas_thread():
        values, vectors = scipy.linalg.eigh(s, subset_by_index=[size - 2, size - 1])
        if values.size != 2:  # MRRR may give up on a cluster of equal eigenvalues
            values, vectors = scipy.linalg.eigh(s, driver="evd")
            values, vectors = values[-2:], vectors[:, -2:]
    second, first = float(values[0]), float(values[1])
    if first - second <= DISCONNECTED_GAP:
        return undefined
    kp_vec = vectors[:, 0] * col_scale
    kp_vec /= np.linalg.norm(kp_vec)
    kc_vec = np.asarray(sub @ kp_vec, dtype=np.float64).ravel() / kr
    sign = _correlation_sign(kr, kc_vec)
    if sign == 0:
        return undefined
    kc_vec *= sign
    kp_vec *= sign
    mean, sd = kc_vec.mean(), kc_vec.std()
    if not sd > 0:
        return undefined
    eci_raw = np.full(n_regions, np.nan)
    pci_raw = np.full(n_products, np.nan)
    eci_raw[rows] = kc_vec
    pci_raw[cols] = kp_vec
    return ComplexityIndex(
        eci=(eci_raw - mean) / sd,
        pci=(pci_raw - mean) / sd,
        eci_raw=eci_raw,
        pci_raw=pci_raw,
        eigenvalue=second,
    )


def coi_cog(
    mcp: Matrix, phi: FloatArray, density_values: FloatArray, index: ComplexityIndex
) -> tuple[FloatArray, FloatArray]:
    """Complexity outlook index (per region) and gain (regions × products), as `ecomplexity`:

        COI_r  = Σ_n d_rn (1 − M_rn) PCI⁰_n, then standardised over regions (population sd)
        COG_rn = (1 − M_rn) Σ_n' (1 − M_rn') (φ_n'n / Σ_n'' φ_n'n'') PCI⁰_n' / sd(ECI⁰)

    PCI⁰ and ECI⁰ are `index.pci_raw` and `index.eci_raw` (before standardisation), d the
    density with φ's diagonal 1. Products without a PCI or a density add nothing. All NaN
    when the index is undefined; COI NaN when every region has the same outlook.
    """
    n_regions, n_products = mcp.shape
    if not index.defined:
        return np.full(n_regions, np.nan), np.full((n_regions, n_products), np.nan)
    m = _dense_float(mcp)
    absent = 1.0 - m
    pci = np.nan_to_num(index.pci_raw, nan=0.0)
    near = density_values
    if np.isnan(near).any():
        near = np.nan_to_num(near, nan=0.0)
    outlook = np.einsum("ij,ij,j->i", near, absent, pci)
    spread = outlook.std()
    # every region with the same outlook: COI is undefined (NaN), as in ecomplexity
    coi = (outlook - outlook.mean()) / spread if spread > 0 else np.full(n_regions, np.nan)
    total = phi.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(total > 0, pci / total, 0.0) / np.nanstd(index.eci_raw)
    reach = phi * weight[:, np.newaxis]
    # (1 − M) @ reach as the column sums minus M @ reach, in place.
    cog = _matmul(m, reach)
    np.subtract(reach.sum(axis=0)[np.newaxis, :], cog, out=cog)
    cog *= absent
    cog += 0.0  # −0.0 (held cells with a negative sum) reads badly in a CSV
    return coi, cog


@dataclass(frozen=True)
class Complexity:
    """Every figure of one region × product matrix, in its row and column order.

    Regions (products) whose total value is 0 take no part (`regions`/`products` False):
    their rca, eci (pci), coi and their cells' density and cog are NaN, mcp 0.
    """

    regions: npt.NDArray[np.bool_]
    products: npt.NDArray[np.bool_]
    rca: FloatArray
    mcp: npt.NDArray[np.int8]
    diversity: IntArray
    ubiquity: IntArray
    proximity: FloatArray
    density: FloatArray
    index: ComplexityIndex
    coi: FloatArray
    cog: FloatArray

    @property
    def eci(self) -> FloatArray:
        return self.index.eci

    @property
    def pci(self) -> FloatArray:
        return self.index.pci


def complexity_matrices(
    values: npt.ArrayLike,
    *,
    rca_threshold: float = 1.0,
    density_excludes_self: bool = False,
) -> Complexity:
    """All figures for a dense regions × products matrix of finite values ≥ 0.

    COI and COG always use the density with φ's diagonal 1 (the Atlas definition);
    `density_excludes_self` changes only the returned `density`.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a regions × products matrix, got shape {x.shape}")
    if not np.isfinite(x).all() or (x < 0).any():
        raise ValueError("values must be finite numbers ≥ 0")
    rows = x.sum(axis=1) > 0
    cols = x.sum(axis=0) > 0
    whole = bool(rows.all() and cols.all())
    sub = x if whole else x[np.ix_(rows, cols)]

    with _one_blas_thread():
        r = rca(sub)
        m = presence(r, rca_threshold)
        mf = m.astype(np.float64)  # one float copy, shared by the matrix products below
        phi = proximity(m)
        index = eci_pci(mf)
        near = density(mf, phi)
        coi, cog = coi_cog(mf, phi, near, index)
        if density_excludes_self:
            near = density(mf, phi, exclude_self=True)
    if whole:
        return Complexity(
            regions=rows,
            products=cols,
            rca=r,
            mcp=m,
            diversity=diversity(m),
            ubiquity=ubiquity(m),
            proximity=phi,
            density=near,
            index=index,
            coi=coi,
            cog=cog,
        )

    def cells(a: FloatArray) -> FloatArray:
        out = np.full(x.shape, np.nan)
        out[np.ix_(rows, cols)] = a
        return out

    def per(a: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
        out = np.full(mask.shape, np.nan)
        out[mask] = a
        return out

    full_m = np.zeros(x.shape, dtype=np.int8)
    full_m[np.ix_(rows, cols)] = m
    full_phi = np.zeros((x.shape[1], x.shape[1]))
    full_phi[np.ix_(cols, cols)] = phi
    return Complexity(
        regions=rows,
        products=cols,
        rca=cells(r),
        mcp=full_m,
        diversity=diversity(full_m),
        ubiquity=ubiquity(full_m),
        proximity=full_phi,
        density=cells(near),
        index=ComplexityIndex(
            eci=per(index.eci, rows),
            pci=per(index.pci, cols),
            eci_raw=per(index.eci_raw, rows),
            pci_raw=per(index.pci_raw, cols),
            eigenvalue=index.eigenvalue,
        ),
        coi=per(coi, rows),
        cog=cells(cog),
    )


_BLAS_CONTROLLER: list[Any] = []


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run BLAS/LAPACK on one thread (re-entrant). At these sizes (products in the hundreds)
    thread hand-offs cost more than they gain as soon as other processes share the cores:
    LAPACK's eigensolver took 1 s instead of 6 ms, the whole table 0.62 s instead of
    0.35 s on a busy 2-core machine. Uses threadpoolctl when installed, else a no-op."""
    if not _BLAS_CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - depends on the environment
            _BLAS_CONTROLLER.append(None)
        else:
            _BLAS_CONTROLLER.append(ThreadpoolController())
    controller = _BLAS_CONTROLLER[0]
    if controller is None:  # pragma: no cover
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


# Matrix products split by rows over two threads: coarse-grained, so it holds up when other
# processes share the cores (BLAS's own threads synchronise on every panel and stall then).
_PARALLEL_ROWS = 512
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="complexity"))
    return _POOL[0]


def _matmul(a: Matrix, b: FloatArray) -> FloatArray:
    """a @ b for a dense or sparse a (regions × products); dense halves run side by side."""
    if sp.issparse(a):
        return np.asarray(a @ b, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    out = np.empty((a.shape[0], b.shape[1]))
    half = a.shape[0] // 2
    if a.shape[0] < _PARALLEL_ROWS:
        np.matmul(a, b, out=out)
        return out
    other = _pool().submit(np.matmul, a[half:], b, out=out[half:])
    np.matmul(a[:half], b, out=out[:half])
    other.result()
    return out


def _gram(a: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """aᵀ a, as the sum of the two halves' Gram matrices computed side by side."""
    if a.shape[0] < _PARALLEL_ROWS:
        return a.T @ a
    half = a.shape[0] // 2
    bottom = a[half:]
    other = _pool().submit(lambda: bottom.T @ bottom)
    top = a[:half]
    result = top.T @ top
    result += other.result()
    return result


def _dense_float(mcp: Matrix) -> FloatArray:
    if sp.issparse(mcp):
        return np.asarray(mcp.toarray(), dtype=np.float64)
    return np.asarray(mcp, dtype=np.float64)


def _submatrix(mcp: Matrix, rows: npt.NDArray[np.bool_], cols: npt.NDArray[np.bool_]) -> Matrix:
    if sp.issparse(mcp):
        return sp.csr_array(mcp)[rows][:, cols]
    return np.asarray(mcp)[np.ix_(rows, cols)]


def _correlation_sign(a: FloatArray, b: FloatArray) -> int:
    """Sign of Pearson's r (as `np.sign(np.corrcoef(a, b)[0, 1])`); 0 when r is undefined
    or zero up to rounding (|r| ≤ UNCORRELATED), where `ecomplexity` takes the sign of the
    rounding noise."""
    da = a - a.mean()
    db = b - b.mean()
    if not (np.any(da) and np.any(db)):
        return 0
    r = float(da @ db) / float(np.sqrt((da @ da) * (db @ db)))
    return int(np.sign(r)) if np.isfinite(r) and abs(r) > UNCORRELATED else 0


# --- frames ------------------------------------------------------------------------------


def complexity_table(
    frame: pl.DataFrame,
    *,
    region: str = "region",
    product: str = "product",
    value: str = "value",
    year: str | None = None,
    rca_threshold: float = 1.0,
    density_excludes_self: bool = False,
    row: str | None = None,
) -> pl.DataFrame:
    """RCA, M, diversity, ubiquity, ECI, PCI, density, COI and COG of a long table.

    frame: one row per (year,) region and product with a value ≥ 0 (null counts as 0, as in
    `ecomplexity`); duplicated keys, negative or non-numeric values raise `UserError` naming
    the rows — by the numbers in column `row` when given, else by 1-based position.

    Returns one row per cell of each year's full region × product grid (every region and
    product seen that year), sorted by year, region and product, with columns
    [year,] region, product (names and types as in `frame`), value (Float64, 0 where the
    input had no row), rca, mcp (Int8), diversity, ubiquity (Int64), eci, pci, density, coi,
    cog (Float64). A region or product whose total is 0 that year takes no part: its cells
    have null figures. Figures that are undefined (see the module notes) are null.
    """
    clean = _clean_input(frame, region, product, value, year, row)
    _check_threshold(rca_threshold)
    parts = []
    for key, part in _by_year(clean, year):
        labels_r, labels_p, x = _matrix(part, region, product, value)
        if x is None:
            _raise_duplicates(clean, region, product, year)
        result = complexity_matrices(
            x, rca_threshold=rca_threshold, density_excludes_self=density_excludes_self
        )
        out = _grid_frame(result, x, labels_r, labels_p, region, product, value)
        if year is not None:
            years = pl.repeat(key, out.height, dtype=clean.schema[year], eager=True)
            out.insert_column(0, years.alias(year))
        parts.append(out)
    return pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]


def proximity_table(
    frame: pl.DataFrame,
    *,
    region: str = "region",
    product: str = "product",
    value: str = "value",
    year: str | None = None,
    rca_threshold: float = 1.0,
    row: str | None = None,
) -> pl.DataFrame:
    """Proximity φ of every ordered product pair, long form (as `ecomplexity.proximity`).

    Columns: [year,] product, `{product}_2`, proximity (Float64; 1 on the diagonal; null
    when either product is held nowhere that year, or its total is 0). Sorted by year and
    both products. Input rules as `complexity_table`.
    """
    clean = _clean_input(frame, region, product, value, year, row)
    _check_threshold(rca_threshold)
    second = f"{product}_2"
    parts = []
    for key, part in _by_year(clean, year):
        _, labels_p, x = _matrix(part, region, product, value)
        if x is None:
            _raise_duplicates(clean, region, product, year)
        rows = x.sum(axis=1) > 0
        cols = x.sum(axis=0) > 0
        m = presence(rca(x[rows][:, cols]), rca_threshold)
        phi = np.full((len(labels_p), len(labels_p)), np.nan)
        held = np.zeros(len(labels_p), dtype=bool)
        held[cols] = ubiquity(m) > 0
        phi[np.ix_(cols, cols)] = proximity(m)
        phi[~held, :] = np.nan
        phi[:, ~held] = np.nan
        n = len(labels_p)
        out = pl.DataFrame(
            {
                product: labels_p.gather(np.repeat(np.arange(n), n)),
                second: labels_p.gather(np.tile(np.arange(n), n)),
                "proximity": pl.Series(phi.ravel(), nan_to_null=True),
            }
        )
        if year is not None:
            years = pl.repeat(key, out.height, dtype=clean.schema[year], eager=True)
            out.insert_column(0, years.alias(year))
        parts.append(out)
    return pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]


def _check_threshold(threshold: float) -> None:
    if not (isinstance(threshold, int | float) and np.isfinite(threshold) and threshold > 0):
        raise UserError(
            f"RCA 阈值必须是大于 0 的数，实际为 {threshold}",
            f"the RCA threshold must be a number > 0, got {threshold}",
        )


def _by_year(clean: pl.DataFrame, year: str | None) -> list[tuple[Any, pl.DataFrame]]:
    if year is None:
        return [(None, clean)]
    years = clean.get_column(year)
    if years.n_unique() == 1:  # skip the copy partition_by makes
        return [(years[0], clean)]
    parts = clean.partition_by(year, as_dict=True, maintain_order=True)
    return sorted(((k[0], part) for k, part in parts.items()), key=lambda kv: kv[0])


def _matrix(
    part: pl.DataFrame, region: str, product: str, value: str
) -> tuple[pl.Series, pl.Series, FloatArray | None]:
    """(sorted regions, sorted products, regions × products values or None if a cell
    has two rows); the two label columns are encoded side by side."""
    products = _pool().submit(_codes, part.get_column(product))
    labels_r, codes_r = _codes(part.get_column(region))
    labels_p, codes_p = products.result()
    x = _dense(part.get_column(value), codes_r, codes_p, len(labels_r), len(labels_p))
    return labels_r, labels_p, x


def _codes(column: pl.Series) -> tuple[pl.Series, npt.NDArray[np.int64]]:
    """(sorted distinct labels, position of each row's label among them)."""
    if column.dtype.is_numeric():
        labels, inverse = np.unique(column.to_numpy(), return_inverse=True)
        return pl.Series(column.name, labels, dtype=column.dtype), inverse.astype(np.int64)
    encoded = pc.dictionary_encode(column.to_arrow(compat_level=pl.CompatLevel.newest()))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = pl.Series(column.name, encoded.dictionary).cast(column.dtype)
    order = distinct.arg_sort().to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return distinct.gather(order), rank[encoded.indices.to_numpy(zero_copy_only=False)]


def _dense(
    values: pl.Series,
    codes_r: npt.NDArray[np.int64],
    codes_p: npt.NDArray[np.int64],
    n_regions: int,
    n_products: int,
) -> FloatArray | None:
    """Regions × products matrix, 0 where no row; None when a cell has two rows."""
    cell = codes_r * n_products + codes_p
    if np.bincount(cell, minlength=n_regions * n_products).max(initial=0) > 1:
        return None
    x = np.zeros(n_regions * n_products)
    x[cell] = values.to_numpy()
    return x.reshape(n_regions, n_products)


def _grid_frame(
    result: Complexity,
    x: FloatArray,
    labels_r: pl.Series,
    labels_p: pl.Series,
    region: str,
    product: str,
    value: str,
) -> pl.DataFrame:
    n_r, n_p = x.shape

    def per_region(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.repeat(a, n_p)

    def per_product(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.tile(a, n_r)

    def floats(name: str, a: FloatArray, spread: Any = None) -> pl.Series:
        # NaN → null only where there is NaN: a copy of 1e6 cells costs more than a look.
        series = pl.Series(name, a if spread is None else spread(a), dtype=pl.Float64)
        return series.fill_nan(None) if np.isnan(a).any() else series

    # The key columns as a cross join: polars repeats the labels far faster than a gather.
    keys = (
        labels_r.alias(region)
        .to_frame()
        .lazy()
        .join(labels_p.alias(product).to_frame().lazy(), how="cross", maintain_order="left_right")
        .collect()
    )
    out = keys.hstack(
        [
            pl.Series(value, x.ravel()),
            floats("rca", result.rca.ravel()),
            pl.Series("mcp", result.mcp.ravel(), dtype=pl.Int8),
            pl.Series("diversity", per_region(result.diversity), dtype=pl.Int64),
            pl.Series("ubiquity", per_product(result.ubiquity), dtype=pl.Int64),
            floats("eci", result.eci, per_region),
            floats("pci", result.pci, per_product),
            floats("density", result.density.ravel()),
            floats("coi", result.coi, per_region),
            floats("cog", result.cog.ravel()),
        ]
    )
    if result.regions.all() and result.products.all():
        return out
    taking_part = per_region(result.regions) & per_product(result.products)
    return out.with_columns(
        pl.when(pl.Series(taking_part)).then(pl.col(c)).alias(c) for c in FIGURES
    )


# --- input checks ------------------------------------------------------------------------


def _clean_input(
    frame: pl.DataFrame,
    region: str,
    product: str,
    value: str,
    year: str | None,
    row: str | None,
) -> pl.DataFrame:
    """[year,] region, product, value (Float64, null → 0), __row (the row to cite).

    Raises UserError naming the first bad rows.
    """
    keys = [c for c in (year, region, product) if c is not None]
    wanted = [*keys, value]
    if len(set(wanted)) < len(wanted):
        raise UserError(
            "地区、产品、数值（和年份）必须是不同的列：" + "、".join(wanted),
            "region, product, value (and year) must be different columns: " + ", ".join(wanted),
        )
    clash = [c for c in wanted if c in FIGURES]
    if clash:
        raise UserError(
            "列名与输出的指标列重名，请改名：" + "、".join(clash),
            "column names clash with the output figures, rename them: " + ", ".join(clash),
        )
    missing = [c for c in [*wanted, *([row] if row else [])] if c not in frame.columns]
    if missing:
        raise UserError(
            "找不到列：" + "、".join(missing) + "；现有的列：" + "、".join(frame.columns),
            "columns not found: "
            + ", ".join(missing)
            + "; columns present: "
            + ", ".join(frame.columns),
        )
    if frame.height == 0:
        raise UserError("数据为空：没有任何行", "the data is empty: no rows")
    numbered = frame if row else frame.with_row_index("__row", offset=1)
    data = numbered.select(
        *(_as_key(frame.schema[k], k) for k in keys),
        _as_number(frame.schema[value], value).alias(value),
        pl.col(value).alias("__raw"),
        pl.col(row or "__row").alias("__row"),
    )
    number = pl.col(value)
    checks = [
        *((pl.col(k).is_null(), k, "为空", "is empty") for k in keys),
        (number.is_null() & pl.col("__raw").is_not_null(), value, "不是数字", "is not a number"),
        (number.is_infinite(), value, "不是有限数", "is not a finite number"),
        (number < 0, value, "为负数（数值必须 ≥ 0）", "is negative (values must be ≥ 0)"),
    ]
    # One pass for all checks; the rows are looked up only when a check fails.
    failed = data.select(
        bad.fill_null(False).any().alias(str(i)) for i, (bad, *_) in enumerate(checks)
    ).row(0)
    for hit, (bad, field, why_zh, why_en) in zip(failed, checks, strict=True):
        if hit:
            _reject(data, bad, field, why_zh, why_en, show_value=field == value)
    return data.select(*keys, number.fill_nan(None).fill_null(0.0), "__row")


def _as_key(dtype: pl.DataType, name: str) -> pl.Expr:
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.col(name).cast(pl.String)
    if dtype.is_nested() or dtype == pl.Null:
        raise UserError(
            f"「{name}」列的类型 {dtype} 不能用作地区、产品或年份",
            f"column '{name}' of type {dtype} cannot be a region, product or year",
        )
    return pl.col(name)


def _as_number(dtype: pl.DataType, name: str) -> pl.Expr:
    raw = pl.col(name)
    if dtype.is_numeric() and not isinstance(dtype, pl.Decimal):
        return raw.cast(pl.Float64)
    if isinstance(dtype, pl.Decimal):
        return raw.cast(pl.Float64)
    if dtype == pl.String:
        text = raw.str.strip_chars()
        return pl.when(text != "").then(text.cast(pl.Float64, strict=False))
    if dtype == pl.Null:
        return raw.cast(pl.Float64)
    raise UserError(
        f"「{name}」列的类型是 {dtype}，不是数字",
        f"column '{name}' has type {dtype}, not numbers",
    )


def _reject(
    data: pl.DataFrame,
    bad: pl.Expr,
    field: str,
    why_zh: str,
    why_en: str,
    *,
    show_value: bool = True,
) -> NoReturn:
    """UserError naming the first rows where `bad` holds."""
    hits = data.filter(bad.fill_null(False)).select("__row", "__raw")
    shown = hits.head(_MAX_NAMED).rows()
    more = hits.height - len(shown)
    zh = "、".join(f"第 {r} 行" + (f"（{v}）" if show_value else "") for r, v in shown)
    en = ", ".join(f"row {r}" + (f" ({v!r})" if show_value else "") for r, v in shown)
    raise UserError(
        f"「{field}」列有 {hits.height} 行{why_zh}：{zh}" + (" 等" if more else ""),
        f"column '{field}' {why_en} in {hits.height} row(s): {en}"
        + (f" (+{more} more)" if more else ""),
    )


def _raise_duplicates(
    clean: pl.DataFrame,
    region: str,
    product: str,
    year: str | None,
) -> NoReturn:
    keys = [c for c in (year, region, product) if c is not None]
    groups = (
        clean.group_by(keys, maintain_order=True)
        .agg(pl.col("__row"))
        .filter(pl.col("__row").list.len() > 1)
    )
    listed: Sequence[tuple[Any, ...]] = groups.head(_MAX_NAMED).rows()
    zh = "；".join(
        "「" + " / ".join(map(str, g[:-1])) + "」在第 " + "、".join(map(str, g[-1])) + " 行"
        for g in listed
    )
    en = "; ".join(
        "'" + " / ".join(map(str, g[:-1])) + "' in rows " + ", ".join(map(str, g[-1]))
        for g in listed
    )
    more = groups.height - len(listed)
    names = " / ".join(keys)
    raise UserError(
        f"同一（{names}）出现多次，请合并或删除重复行：{zh}"
        + (f" 等 {groups.height} 组" if more else ""),
        f"duplicated ({names}) rows; merge or remove them: {en}"
        + (f" (+{more} more)" if more else ""),
    )
