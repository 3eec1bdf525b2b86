"""Peer regions: regions whose node profile is most like a region's (cosine on RCA).

A *product* is one node of one chain (`chain_id/node_id`), so the profile spans every node
of every chain of the atlas. The small RCA kernel lives here on purpose (no dependency on
the complexity module): RCA is one line of numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import polars as pl

Transform = Literal["log1p", "raw", "symmetric"]
TRANSFORMS: tuple[Transform, ...] = ("log1p", "raw", "symmetric")

SIMILAR_SCHEMA = {
    "rank": pl.Int64,
    "region_code": pl.String,
    "similarity": pl.Float64,
    "shared_strong": pl.Int64,
    "strong": pl.Int64,
    "firm_count": pl.Int64,
}


def rca(values: np.ndarray, national: np.ndarray | None = None) -> np.ndarray:
    """Revealed comparative advantage (Balassa), national denominator (DESIGN §6):

        RCA_rn = (x_rn / x_r) / (X_n / X),  x_r = Σ_n x_rn,  X = Σ_n X_n

    values: regions × products (firm counts). national: X_n per product, default the column
    sums of `values` (pass it when `values` holds only some regions). Undefined cells — a
    region with no firm at all, or a product with no firm nationally — are 0.
    """
    x = np.asarray(values, dtype=np.float64)
    big = x.sum(axis=0) if national is None else np.asarray(national, dtype=np.float64)
    total = big.sum()
    row = x.sum(axis=1, keepdims=True)
    share_local = np.divide(x, row, out=np.zeros_like(x), where=row > 0)
    share_national = np.divide(big, total, out=np.zeros_like(big), where=total > 0)
    return np.divide(
        share_local,
        share_national,
        out=np.zeros_like(share_local),
        where=share_national[np.newaxis, :] > 0,
    )


def rca_transform(matrix: np.ndarray, how: Transform = "log1p") -> np.ndarray:
    """The profile compared by cosine: `log1p` log(1 + RCA) (default), `raw` RCA, or
    `symmetric` (RCA − 1) / (RCA + 1) ∈ [−1, 1) (Dalum, Laursen & Villumsen 1998)."""
    if how == "log1p":
        return np.log1p(matrix)
    if how == "raw":
        return np.asarray(matrix, dtype=np.float64)
    if how == "symmetric":
        return (matrix - 1.0) / (matrix + 1.0)
    raise ValueError(f"unknown transform {how!r}; one of {', '.join(TRANSFORMS)}")


def cosine_similarity(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row of `a` (k × p) with every row of `b` (n × p, default
    `a`): one matrix product of the row-normalised matrices. A zero row gives NaN."""
    other = a if b is None else b

    def normalised(m: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        return np.divide(m, norms, out=np.full_like(m, np.nan, dtype=np.float64), where=norms > 0)

    return np.clip(normalised(a) @ normalised(other).T, -1.0, 1.0)


def profile_matrix(
    profile: pl.DataFrame, products: Sequence[str] | None = None
) -> tuple[list[str], list[str], np.ndarray]:
    """Long (region_code, product, firm_count) → (regions, products, dense regions × products),
    regions and products sorted (so results do not depend on row order). Products outside
    `products` (when given) are dropped; rows of the same cell are summed."""
    regions = profile["region_code"].unique().sort().to_list()
    cols = (
        sorted(set(products))
        if products is not None
        else profile["product"].unique().sort().to_list()
    )
    r_index = pl.DataFrame({"region_code": regions, "_i": range(len(regions))})
    p_index = pl.DataFrame({"product": cols, "_j": range(len(cols))})
    cells = profile.join(r_index, on="region_code").join(p_index, on="product")
    matrix = np.zeros((len(regions), len(cols)), dtype=np.float64)
    # unbuffered add: rows repeating a cell are summed
    np.add.at(
        matrix,
        (cells["_i"].to_numpy(), cells["_j"].to_numpy()),
        cells["firm_count"].cast(pl.Float64).to_numpy(),
    )
    return regions, cols, matrix


def profile_rca(
    profile: pl.DataFrame, national: pl.DataFrame | None = None
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(regions, products, firm counts, RCA) for the regions of `profile` that hold at least
    one firm (x_r > 0; a region without firms has no profile). national: product,
    firm_count (X_n), default the profile's column sums."""
    products = None if national is None else national["product"].to_list()
    regions, cols, x = profile_matrix(profile, products)
    big = None
    if national is not None:
        _, _, big_row = profile_matrix(
            national.with_columns(pl.lit("*").alias("region_code")), cols
        )
        big = big_row[0] if big_row.shape[0] else np.zeros(len(cols))
    keep = x.sum(axis=1) > 0
    kept = [r for r, k in zip(regions, keep, strict=True) if k]
    return kept, cols, x[keep], rca(x[keep], big)


def strong_products(
    profile: pl.DataFrame,
    region: str,
    *,
    national: pl.DataFrame | None = None,
    strong_rca: float = 1.5,
) -> pl.DataFrame:
    """The region's products with RCA ≥ strong_rca: product, firm_count, rca (descending)."""
    regions, cols, x, matrix = profile_rca(profile, national)
    schema = {"product": pl.String, "firm_count": pl.Int64, "rca": pl.Float64}
    if region not in regions:
        return pl.DataFrame(schema=schema)
    me = regions.index(region)
    out = pl.DataFrame(
        {"product": cols, "firm_count": x[me].astype(np.int64), "rca": matrix[me]}, schema=schema
    )
    return out.filter(pl.col("rca") >= strong_rca).sort(
        ["rca", "product"], descending=[True, False]
    )


def similar_regions(
    profile: pl.DataFrame,
    region: str,
    *,
    top: int = 10,
    transform: Transform = "log1p",
    national: pl.DataFrame | None = None,
    strong_rca: float = 1.5,
) -> pl.DataFrame:
    """The `top` regions whose node profile is most like `region`'s.

    profile: region_code, product, firm_count — the regions of ONE level (the caller picks
    the level); national: product, firm_count (X_n; default the profile's column sums).
    similarity = cosine of the transformed RCA vectors (`rca_transform`), all candidates at
    once by one matrix–vector product.
    shared_strong = products where both regions have RCA ≥ strong_rca; strong = the
    candidate's own count of such products; firm_count = the candidate's Σ_n x_rn.
    Regions with no firm (x_r = 0) are no candidates (their profile is undefined); when
    `region` itself has none the result is empty. The region is never its own peer; a
    candidate whose transformed profile is all zero (cosine undefined) is left out.
    Ties rank by region_code. Returns rank, region_code, similarity, shared_strong, strong,
    firm_count.
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}; one of {', '.join(TRANSFORMS)}")
    regions, _, x, matrix = profile_rca(profile, national)
    if region not in regions:
        return pl.DataFrame(schema=SIMILAR_SCHEMA)
    me = regions.index(region)
    shaped = rca_transform(matrix, transform)
    similarity = cosine_similarity(shaped[me : me + 1], shaped)[0]
    strong = (matrix >= strong_rca).astype(np.int64)
    out = pl.DataFrame(
        {
            "region_code": regions,
            "similarity": similarity,
            "shared_strong": strong @ strong[me],
            "strong": strong.sum(axis=1),
            "firm_count": x.sum(axis=1).astype(np.int64),
        }
    )
    out = (
        out.filter((pl.col("region_code") != region) & pl.col("similarity").is_not_nan())
        .sort(["similarity", "region_code"], descending=[True, False])
        .head(top)
    )
    return out.with_row_index("rank", offset=1).select(
        pl.col("rank").cast(pl.Int64), *[c for c in SIMILAR_SCHEMA if c != "rank"]
    )
