"""Input-output linkages: Leontief backward, Ghosh forward, key sectors, multipliers.

Formulas (DESIGN §6; Miller & Blair 2009, ch. 2, 6 and 12; pymrio `iomath.py`):

    A = Z x̂⁻¹                 technical coefficients, a_ij = z_ij / x_j
    L = (I − A)⁻¹              Leontief inverse
    B = x̂⁻¹ Z                 allocation coefficients, b_ij = z_ij / x_i
    G = (I − B)⁻¹ = x̂⁻¹ L x̂   Ghosh inverse, g_ij = l_ij x_j / x_i
    BL_j = Σ_i l_ij            backward linkage (= output multiplier of j)
    FL_i = Σ_j g_ij            forward linkage
    BL_j / mean(BL), FL_i / mean(FL)   Rasmussen normalisation

A sector is `key` when both normalised linkages exceed 1 (by more than `ABOVE_AVERAGE_TOLERANCE`,
so that sectors tied at the average up to rounding are not split by rounding noise), `backward` (-oriented) when only
the backward one does, `forward` when only the forward one does, else `weak`.

Satellite multipliers (value added, employment, …): with f the satellite totals per sector,
multiplier_j = Σ_i (f_i / x_i) l_ij — pymrio's M = S L.

L is returned in full, so it is one LU factorisation solved against I
(`numpy.linalg.inv`; a solve per right-hand side would only pay off for a few columns);
G is derived from L by the similarity above instead of a second inversion, which is
exact and O(n²) — that is where the time goes in pymrio's `calc_system(include_ghosh=True)`.

A sector with zero output and no flows at all (an "empty" sector, common in multi-region
tables) gets zero coefficients as in pymrio, identity rows and columns in L and G, and null
normalised linkages and kind; it is left out of the normalising means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from chainatlas.errors import UserError

KEY, BACKWARD, FORWARD, WEAK = "key", "backward", "forward", "weak"
# Value added at or below this share of output counts as none: (I − A) is (near) singular.
VALUE_ADDED_TOLERANCE = 1e-9
# A normalised linkage counts as above average when it exceeds 1 by more than this.
ABOVE_AVERAGE_TOLERANCE = 1e-9
_MAX_NAMED = 5


@dataclass(frozen=True)
class IOResult:
    """Matrices (rows and columns in `sectors` order) and one row per sector in `linkages`."""

    sectors: tuple[str, ...]
    x: np.ndarray
    A: np.ndarray
    L: np.ndarray
    B: np.ndarray
    G: np.ndarray
    linkages: pl.DataFrame
    satellites: tuple[str, ...] = field(default=())


def _named(labels: Sequence[str]) -> tuple[str, str]:
    shown = list(labels[:_MAX_NAMED])
    more = len(labels) - len(shown)
    zh = "、".join(f"「{s}」" for s in shown) + (f" 等 {len(labels)} 个" if more else "")
    en = ", ".join(f"'{s}'" for s in shown) + (f" (+{more} more)" if more else "")
    return zh, en


def _check_shapes(z: np.ndarray, x: np.ndarray, sectors: Sequence[str]) -> None:
    if z.ndim != 2 or z.shape[0] != z.shape[1]:
        raise UserError(
            f"中间流量矩阵 Z 必须是方阵，实际为 {' × '.join(map(str, z.shape))}",
            f"the flow matrix Z must be square, got shape {z.shape}",
        )
    n = z.shape[0]
    if n == 0:
        raise UserError("投入产出表没有部门", "the input-output table has no sectors")
    if x.shape != (n,):
        raise UserError(
            f"总产出 x 有 {x.size} 个值，而 Z 有 {n} 个部门",
            f"output x has {x.size} values but Z has {n} sectors",
        )
    if len(sectors) != n:
        raise UserError(
            f"部门名称有 {len(sectors)} 个，而 Z 有 {n} 个部门",
            f"{len(sectors)} sector labels given but Z has {n} sectors",
        )
    seen: set[str] = set()
    for label in sectors:
        if not str(label).strip():
            raise UserError("部门名称不能为空", "a sector label is empty")
        if label in seen:
            raise UserError(f"部门「{label}」重复出现", f"sector '{label}' appears twice")
        seen.add(label)


def _check_values(z: np.ndarray, x: np.ndarray, sectors: list[str]) -> None:
    bad = np.argwhere(~np.isfinite(z))
    if bad.size:
        i, j = bad[0]
        raise UserError(
            f"Z 中「{sectors[i]}」行「{sectors[j]}」列的值不是有限数：{z[i, j]}",
            f"Z at row '{sectors[i]}', column '{sectors[j]}' is not a finite number: {z[i, j]}",
        )
    bad = np.argwhere(z < 0)
    if bad.size:
        i, j = bad[0]
        raise UserError(
            f"Z 中「{sectors[i]}」行「{sectors[j]}」列为负数（{z[i, j]:g}）：中间流量不能为负",
            f"Z at row '{sectors[i]}', column '{sectors[j]}' is negative ({z[i, j]:g}): "
            "intermediate flows cannot be negative",
        )
    for j in np.flatnonzero(~np.isfinite(x) | (x < 0)):
        raise UserError(
            f"部门「{sectors[j]}」的总产出为 {x[j]:g}：总产出必须是非负的有限数",
            f"sector '{sectors[j]}' has output {x[j]:g}: output must be a finite number ≥ 0",
        )
    if not (x > 0).any():
        raise UserError("没有总产出为正的部门", "no sector has a positive output")
    zero = x == 0
    if zero.any():
        buys = zero & (z.sum(axis=0) > 0)
        sells = zero & (z.sum(axis=1) > 0)
        for j in np.flatnonzero(buys | sells):
            what_zh, what_en = ("有中间投入", "has inputs") if buys[j] else ("有中间销售", "sells")
            raise UserError(
                f"部门「{sectors[j]}」{what_zh}，但总产出为 0",
                f"sector '{sectors[j]}' {what_en} but its output is 0",
            )


def _check_productive(z: np.ndarray, x: np.ndarray, sectors: list[str]) -> None:
    """Hawkins–Simon in its simplest form: every producing sector needs value added > 0.

    Column sums of A below 1 make (I − A) strictly diagonally dominant by columns, hence
    invertible with L ≥ 0; a column summing to ≥ 1 is non-productive.
    """
    inputs = z.sum(axis=0)
    producing = x > 0
    value_added = x - inputs
    bad = np.flatnonzero(producing & (value_added <= VALUE_ADDED_TOLERANCE * x))
    if bad.size == 0:
        return
    zh, en = _named([sectors[j] for j in bad])
    shares = [f"{inputs[j] / x[j]:.6g}" for j in bad[:_MAX_NAMED]]
    raise UserError(
        f"投入产出表不具生产性：{zh}的中间投入不小于总产出（A 的列和 = {'、'.join(shares)} ≥ 1，"
        "增加值 ≤ 0），(I − A) 奇异或无意义；请检查这些部门的 Z 列与总产出",
        f"non-productive table: intermediate inputs of {en} are not below their output "
        f"(column sums of A = {', '.join(shares)} ≥ 1, value added ≤ 0), so (I − A) is singular or "
        "meaningless; check these sectors' Z columns and output",
    )


def _leontief_inverse(a: np.ndarray, sectors: list[str]) -> np.ndarray:
    """(I − A)⁻¹: one LU factorisation with partial pivoting solved against I (LAPACK gesv).

    numpy's, on purpose: scipy ships a second OpenBLAS whose thread pool competes with
    numpy's, which made a mixed run slower on two cores than numpy alone.
    """
    m = -a
    m.flat[:: a.shape[0] + 1] += 1.0
    try:
        inverse = np.linalg.inv(m)
    except np.linalg.LinAlgError:
        inverse = np.full_like(m, np.nan)
    if not np.isfinite(inverse).all():
        # Unreachable once every column sum of A is < 1; kept so a failure still names sectors.
        zh, en = _named([sectors[j] for j in np.argsort(-a.sum(axis=0))])
        raise UserError(
            f"(I − A) 奇异，无法求 Leontief 逆矩阵；A 列和最大的部门：{zh}",
            f"(I − A) is singular, no Leontief inverse; sectors with the largest "
            f"column sums of A: {en}",
        )
    return inverse


def above_average(norm: pl.Expr) -> pl.Expr:
    """norm > 1, beyond rounding."""
    return norm > 1 + ABOVE_AVERAGE_TOLERANCE


def linkage_kind(backward_norm: pl.Expr, forward_norm: pl.Expr) -> pl.Expr:
    """key | backward | forward | weak from the two normalised linkages (null when null)."""
    high_b, high_f = above_average(backward_norm), above_average(forward_norm)
    return (
        pl.when(backward_norm.is_null())
        .then(None)
        .when(high_b & high_f)
        .then(pl.lit(KEY))
        .when(high_b)
        .then(pl.lit(BACKWARD))
        .when(high_f)
        .then(pl.lit(FORWARD))
        .otherwise(pl.lit(WEAK))
    )


def io_linkages(
    z: np.ndarray,
    x: np.ndarray,
    sectors: Sequence[str],
    *,
    satellites: Mapping[str, np.ndarray] | None = None,
) -> IOResult:
    """A, L, B, G and per-sector linkages of the I-O system (Z, x) — see the module docstring.

    z: n × n intermediate flows (row i sells to column j); x: total output per sector;
    sectors: n distinct labels. satellites: optional totals per sector (e.g. value_added,
    employment) giving `<name>_multiplier` columns.

    `linkages` columns: sector, output, backward (BL_j), forward (FL_i), backward_norm,
    forward_norm, key_sector (both norms > 1), kind (key | backward | forward | weak; null
    for an empty sector), output_multiplier (= backward), then `<name>_multiplier`.

    Raises UserError naming the sector for shapes, duplicate labels, negative or non-finite
    values, zero output with flows, and non-productive columns (Σ_i a_ij ≥ 1).
    """
    z = np.asarray(z, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and 1 in x.shape:
        x = x.ravel()
    labels = [str(s) for s in sectors]
    _check_shapes(z, x, labels)
    _check_values(z, x, labels)
    _check_productive(z, x, labels)

    producing = x > 0
    # An empty sector's row and column of Z are zero (checked above), so dividing them by 1
    # instead of 0 gives pymrio's zero coefficients without masks or extra n × n arrays.
    # True divisions, not products with 1/x, which overflows for tiny outputs.
    divisor = np.where(producing, x, 1.0)
    a = z / divisor[np.newaxis, :]
    leontief = _leontief_inverse(a, labels)
    b = z / divisor[:, np.newaxis]
    ghosh = leontief * x[np.newaxis, :]
    ghosh /= divisor[:, np.newaxis]
    empty = np.flatnonzero(~producing)
    ghosh[empty, empty] = 1.0  # (I − B) has identity row and column there

    backward = leontief.sum(axis=0)
    forward = ghosh.sum(axis=1)
    mean_b, mean_f = backward[producing].mean(), forward[producing].mean()
    nan = np.full_like(x, np.nan)
    backward_norm = np.where(producing, backward / mean_b, nan)
    forward_norm = np.where(producing, forward / mean_f, nan)

    columns: dict[str, pl.Series] = {
        "sector": pl.Series(labels, dtype=pl.String),
        "output": pl.Series(x),
        "backward": pl.Series(backward),
        "forward": pl.Series(forward),
        "backward_norm": pl.Series(backward_norm, nan_to_null=True),
        "forward_norm": pl.Series(forward_norm, nan_to_null=True),
    }
    frame = pl.DataFrame(columns).with_columns(
        (above_average(pl.col("backward_norm")) & above_average(pl.col("forward_norm")))
        .fill_null(False)
        .alias("key_sector"),
        linkage_kind(pl.col("backward_norm"), pl.col("forward_norm")).alias("kind"),
        pl.col("backward").alias("output_multiplier"),
    )

    names: list[str] = []
    for name, totals in (satellites or {}).items():
        multiplier = _satellite_multiplier(name, totals, x, leontief, labels)
        frame = frame.with_columns(pl.Series(f"{name}_multiplier", multiplier))
        names.append(name)
    return IOResult(tuple(labels), x, a, leontief, b, ghosh, frame, tuple(names))


def _satellite_multiplier(
    name: str,
    totals: np.ndarray,
    x: np.ndarray,
    leontief: np.ndarray,
    sectors: list[str],
) -> np.ndarray:
    f = np.asarray(totals, dtype=np.float64).ravel()
    if f.shape != x.shape:
        raise UserError(
            f"{name} 有 {f.size} 个值，而表中有 {x.size} 个部门",
            f"{name} has {f.size} values but the table has {x.size} sectors",
        )
    for j in np.flatnonzero(~np.isfinite(f) | ((x == 0) & (f != 0))):
        raise UserError(
            f"部门「{sectors[j]}」的 {name} 为 {f[j]:g}，无效（须为有限数，且总产出为 0 时须为 0）",
            f"sector '{sectors[j]}' has {name} {f[j]:g}: it must be finite, and 0 when the "
            "output is 0",
        )
    coefficients = f / np.where(x > 0, x, 1.0)  # f is 0 where x is
    result: np.ndarray = coefficients @ leontief
    return result
