"""The demo city: its chain firms are set, not sampled.

Per chain, the city's share on each node is solved so that the node's location quotient
hits its status target (profile.city_node_shares), rounded to whole firms that keep every
LQ safely inside its class (profile.integer_quotas), against the expected firms elsewhere
(second nodes included). The quotas are spread over the chunks by telescoping rounding, so
the whole run holds exactly the quota. City firms get no second node, so the counts hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainatlas.synth.catalogue import NodeCatalogue
from chainatlas.synth.profile import ResolvedProfile, city_node_shares, integer_quotas

SECOND_NODE_RATE = 0.04  # chain firms registered on two nodes (outside the demo city)


@dataclass(frozen=True)
class CityPlan:
    quota: np.ndarray  # (N,) int
    split: np.ndarray  # (N, C) P(county | node) within the city
    achieved: dict[int, str]

    @classmethod
    def empty(cls, n_nodes: int) -> CityPlan:
        return cls(np.zeros(n_nodes, dtype=np.int64), np.zeros((n_nodes, 0)), {})


def plan_city(
    node_cells: np.ndarray,
    region_share: np.ndarray,
    demo: np.ndarray,
    profile: ResolvedProfile,
    catalogue: NodeCatalogue,
    n_enterprises: int,
    on_chain_share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, CityPlan]:
    """Replace the city's cells: its size is the profile's share, its chain firms whole
    quotas per node; returns node cells, region shares (for firms on no chain), the plan."""
    cells = node_cells.copy()
    cells[:, ~demo] *= on_chain_share * (1.0 - profile.city_share) / cells[:, ~demo].sum()
    primary = cells[:, ~demo].sum(axis=1) * n_enterprises  # expected firms elsewhere, per node
    neighbour, anywhere = expected_second_nodes(catalogue, primary)
    rest = primary + neighbour + anywhere
    chain_of = catalogue.chain_of
    n_chains = len(catalogue.chains)
    chain_primary = np.bincount(chain_of, weights=primary, minlength=n_chains)
    # Distinct firms of a chain: a second node in the same chain adds none.
    chain_share = chain_primary / chain_primary.sum()
    chain_firms = chain_primary + np.bincount(chain_of, weights=anywhere, minlength=n_chains) * (
        1.0 - chain_share
    )
    fixed = ~np.isnan(profile.chain_mix)
    by_size = np.where(fixed, 0.0, chain_primary)
    mix = np.where(fixed, profile.chain_mix, 0.0)
    if by_size.sum() > 0:
        mix = mix + by_size / by_size.sum() * max(0.0, 1.0 - mix.sum())
    chain_city = mix / mix.sum() * profile.city_share * profile.chain_share * n_enterprises
    county = region_share[demo] / region_share[demo].sum()
    quota = np.zeros(catalogue.size, dtype=np.int64)
    achieved: dict[int, str] = {}
    split = np.zeros((catalogue.size, county.size))
    for ci in range(len(catalogue.chains)):
        members = catalogue.chain_nodes(ci)
        status = [profile.status[int(n)] for n in members]
        shares = city_node_shares(status, rest[members], chain_city[ci], chain_firms[ci])
        counts, got = integer_quotas(
            status, shares, rest[members], round(chain_city[ci]), chain_firms[ci]
        )
        quota[members] = counts
        achieved.update({int(n): g for n, g in zip(members, got, strict=True)})
        # Counties of the city specialise too: each node spread unevenly over them.
        spread = county[None, :] * rng.lognormal(0.0, 0.8, (members.size, county.size))
        split[members] = spread / spread.sum(axis=1, keepdims=True)
    cells[:, demo] = (quota[:, None] * split) / n_enterprises
    shares_out = region_share.copy()
    shares_out[~demo] *= (1.0 - profile.city_share) / shares_out[~demo].sum()
    # Firms on no chain: what remains of the city's share once its chain firms are counted.
    shares_out[demo] = (
        county * profile.city_share * (1.0 - profile.chain_share) / (1.0 - on_chain_share)
    )
    return cells, shares_out, CityPlan(quota, split, achieved)


def expected_second_nodes(
    catalogue: NodeCatalogue, primary: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected second nodes per node, as `_second_nodes` draws them: half a uniform chain
    neighbour of the first node, half any node in proportion to the firms (about)."""
    degree = np.diff(catalogue.nb_start)
    source = np.repeat(np.arange(catalogue.size), degree)
    neighbour = np.bincount(
        catalogue.nb_node,
        weights=(primary / np.maximum(degree, 1))[source],
        minlength=catalogue.size,
    )
    half = 0.5 * SECOND_NODE_RATE
    return half * neighbour, half * primary * (1.0 - primary / primary.sum())


def city_counts(quota: np.ndarray, n_enterprises: int, start: int, m: int) -> np.ndarray:
    """The demo city's chain firms per node in rows [start, start+m): quota·t/n rounded at
    both ends, so the chunks add up to the quota exactly."""
    total = n_enterprises
    upto = (2 * quota * (start + m) + total) // (2 * total)
    before = (2 * quota * start + total) // (2 * total)
    return upto - before
