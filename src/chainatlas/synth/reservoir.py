"""Bounded, size-weighted samples of firms per group (node × city, × province, × nation).

Weighted sampling without replacement by Efraimidis–Spirakis (A-ES): each offered firm gets
the key u^(1/w) (here log u / w) and a group keeps its K largest keys, so a firm's chance to
be kept grows with its weight w = size^α. Memory is groups × K, whatever the population.
"""

from __future__ import annotations

import numpy as np


class Reservoirs:
    def __init__(self, groups: int, capacity: int) -> None:
        self.capacity = capacity
        self.key = np.full((groups, capacity), -np.inf)  # each row sorted descending
        self.uscc = np.zeros((groups, capacity, 18), dtype=np.uint8)
        self.region = np.zeros((groups, capacity), dtype=np.int32)
        self.log_size = np.zeros((groups, capacity), dtype=np.float32)
        self.year = np.zeros((groups, capacity), dtype=np.int16)
        self.count = np.zeros(groups, dtype=np.int64)
        self.offered = np.zeros(groups, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.key, self.uscc, self.region, self.log_size, self.year))

    def saturated(self, group: np.ndarray) -> np.ndarray:
        """True where the group saw more firms than it keeps (its sample is size-weighted)."""
        return self.offered[group] > self.capacity

    def offer(self, group: np.ndarray, key: np.ndarray, uscc: np.ndarray, region: np.ndarray,
              log_size: np.ndarray, year: np.ndarray) -> None:
        self.offered += np.bincount(group, minlength=self.offered.size)
        enters = key > self.key[group, -1]
        if not enters.any():
            return
        group, key = group[enters], key[enters]
        uscc, region, log_size, year = uscc[enters], region[enters], log_size[enters], year[enters]
        touched = np.unique(group)
        held = self.count[touched]
        old_group = np.repeat(touched, held)
        old_slot = np.arange(old_group.size) - np.repeat(np.cumsum(held) - held, held)
        all_group = np.concatenate([old_group, group])
        all_key = np.concatenate([self.key[old_group, old_slot], key])
        all_uscc = np.concatenate([self.uscc[old_group, old_slot], uscc])
        all_region = np.concatenate([self.region[old_group, old_slot], region])
        all_size = np.concatenate([self.log_size[old_group, old_slot], log_size])
        all_year = np.concatenate([self.year[old_group, old_slot], year])
        order = np.lexsort((-all_key, all_group))
        g = all_group[order]
        rank = np.arange(g.size) - np.searchsorted(g, g, side="left")
        keep = order[rank < self.capacity]
        g, slot = all_group[keep], rank[rank < self.capacity]
        self.key[g, slot] = all_key[keep]
        self.uscc[g, slot] = all_uscc[keep]
        self.region[g, slot] = all_region[keep]
        self.log_size[g, slot] = all_size[keep]
        self.year[g, slot] = all_year[keep]
        self.count[touched] = np.bincount(g, minlength=self.count.size)[touched]
