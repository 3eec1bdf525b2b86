"""Regional specialisation that clusters on related nodes.

A prefecture (and, less often, a county) is seeded on a node of a chain; the seed spreads to
the node's chain neighbours and their neighbours, so a county strong in a node tends to be
strong in its suppliers and customers too — the structure relatedness measures pick up.
"""

from __future__ import annotations

import numpy as np

from chainatlas.synth.catalogue import NodeCatalogue
from chainatlas.synth.geography import RegistrationRegions

CITY_SEED_RATE = 0.25  # chance a prefecture is seeded on a given chain
COUNTY_SEED_RATE = 0.04
SPREAD = (1.0, 0.6, 0.25)  # weight of the seed node, its neighbours, theirs
BOOST = 4.0  # a unit of specialisation multiplies a cell's firms by 1 + BOOST


def node_weights(catalogue: NodeCatalogue, rng: np.random.Generator) -> np.ndarray:
    """National size of each node: chains differ in size, nodes within a chain too."""
    chain_size = rng.lognormal(0.0, 0.4, len(catalogue.chains))[catalogue.chain_of]
    support = np.array([n.stage == "support" for n in catalogue.nodes])
    return chain_size * rng.lognormal(0.0, 0.5, catalogue.size) * np.where(support, 0.6, 1.0)


def specialisation(
    regions: RegistrationRegions,
    catalogue: NodeCatalogue,
    weights: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """(regions × nodes) multiplier ≥ 1 of each node's firms in each region."""
    n_nodes = catalogue.size
    city_seed = np.zeros((regions.n_cities, n_nodes))
    county_seed = np.zeros((regions.size, n_nodes))
    for ci in range(len(catalogue.chains)):
        members = catalogue.chain_nodes(ci)
        p = weights[members] / weights[members].sum()
        for seeds, rate in ((city_seed, CITY_SEED_RATE), (county_seed, COUNTY_SEED_RATE)):
            hit = np.flatnonzero(rng.random(seeds.shape[0]) < rate)
            node = rng.choice(members, size=hit.size, p=p)
            seeds[hit, node] += rng.lognormal(0.5, 0.5, hit.size)
    seed = city_seed[regions.city_index] + county_seed
    adjacency = np.zeros((n_nodes, n_nodes))
    for n in range(n_nodes):
        adjacency[n, catalogue.nb_node[catalogue.nb_start[n] : catalogue.nb_start[n + 1]]] = 1.0
    spread = (
        SPREAD[0] * seed
        + SPREAD[1] * (seed @ adjacency)
        + SPREAD[2] * (seed @ adjacency @ adjacency)
    )
    return 1.0 + BOOST * np.minimum(spread, 5.0)
