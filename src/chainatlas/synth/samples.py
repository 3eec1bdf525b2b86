"""Bounded, size-weighted samples of firms per group (node × city, × province, × nation).

Poisson sampling with probability proportional to size (πps): a firm of weight w enters its
group's sample with π = min(1, w / τ), the threshold τ of each group set in advance from its
expected firm count and the lognormal size law (`thresholds`) so that about `target` firms
enter. Samples are append-only, so a chunk costs O(its rows) whatever was seen before;
memory is groups × capacity. Picking a customer within a sample with weight w / π =
max(w, τ) makes P(firm) ∝ w over the whole group (Horvitz–Thompson).
"""

from __future__ import annotations

import math

import numpy as np

_PHI = np.vectorize(lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0))))


def expected_inclusion(shift: np.ndarray, spread: float) -> np.ndarray:
    """E[min(1, e^X)] for X ~ N(shift, spread²): the expected π of a firm."""
    v = spread
    return _PHI(shift / v) + np.exp(shift + v * v / 2) * _PHI(-(shift + v * v) / v)


def thresholds(
    expected_count: np.ndarray, log_weight_mean: np.ndarray, log_weight_sd: float, target: int
) -> np.ndarray:
    """log τ per group so that the expected sample size is `target` (−inf: take every firm)."""
    grid = np.linspace(-40.0, 15.0, 4001)  # shift = mean log w − log τ
    share = expected_inclusion(grid, log_weight_sd)  # increasing in shift
    wanted = np.divide(
        target, expected_count, out=np.full(expected_count.shape, np.inf), where=expected_count > 0
    )
    shift = np.interp(np.minimum(wanted, 1.0), share, grid)
    return np.where(wanted >= 1.0, -np.inf, log_weight_mean - shift)


class Samples:
    def __init__(self, log_threshold: np.ndarray, capacity: int) -> None:
        groups = log_threshold.size
        self.log_threshold = log_threshold
        self.capacity = capacity
        self.uscc = np.zeros((groups, capacity, 18), dtype=np.uint8)
        self.region = np.zeros((groups, capacity), dtype=np.int32)
        self.log_weight = np.zeros((groups, capacity), dtype=np.float32)
        self.year = np.zeros((groups, capacity), dtype=np.int16)
        self.count = np.zeros(groups, dtype=np.int64)
        self.overflow = 0  # firms drawn into a full sample (dropped)
        self._cumulative: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.uscc, self.region, self.log_weight, self.year))

    def offer(
        self,
        group: np.ndarray,
        log_weight: np.ndarray,
        u: np.ndarray,
        uscc: np.ndarray,
        region: np.ndarray,
        year: np.ndarray,
    ) -> None:
        tau = self.log_threshold[group]
        enters = np.flatnonzero(np.log(np.maximum(u, 1e-300)) < np.minimum(0.0, log_weight - tau))
        if enters.size == 0:
            return
        enters = enters[np.argsort(group[enters], kind="stable")]
        g = group[enters]
        rank = np.arange(g.size) - np.searchsorted(g, g, side="left")
        slot = self.count[g] + rank
        fits = slot < self.capacity
        self.overflow += int((~fits).sum())
        rows, g, slot = enters[fits], g[fits], slot[fits]
        self.uscc[g, slot] = uscc[rows]
        self.region[g, slot] = region[rows]
        self.log_weight[g, slot] = log_weight[rows]
        self.year[g, slot] = year[rows]
        self.count += np.bincount(g, minlength=self.count.size)

    def freeze(self) -> None:
        """Cumulative pick weights per group, each row shifted to [g, g+1], for `pick`."""
        slots = np.arange(self.capacity)
        filled = slots[None, :] < self.count[:, None]
        log_w = np.where(filled, np.maximum(self.log_weight, self.log_threshold[:, None]), -np.inf)
        top = np.max(log_w, axis=1, keepdims=True)
        weight = np.exp(log_w - np.where(np.isfinite(top), top, 0.0))
        cum = np.cumsum(weight, axis=1)
        cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
        self._cumulative = (cum + np.arange(self.count.size)[:, None]).ravel()

    def pick(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A slot of each group with P ∝ max(w, τ) (groups must be non-empty; after freeze)."""
        if self._cumulative is None:
            raise RuntimeError("freeze() the samples before picking from them")
        hit = np.searchsorted(self._cumulative, group + u, side="right")
        return np.minimum(hit - group * self.capacity, self.count[group] - 1)

    def log_pick(self, group: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """log(w / π) = log max(w, τ): the within-sample weight that makes P(firm) ∝ w."""
        return np.maximum(
            self.log_weight[group, slot].astype(np.float64), self.log_threshold[group]
        )
