"""Supply links along chain edges, drawn in a second pass over the firms.

Each chain firm-node with out-edges supplies a Poisson number of customers (more for larger
firms; ~0.6 links per chain firm overall). A link follows one of the node's out-edges; the
customer is drawn from the customer node's bounded samples (samples.py): the supplier's
own city (most often), its province, or the nation with distance decay exp(−d / DECAY_KM).
Larger customers are preferred: P(customer) ∝ size^α.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from chainatlas.synth import schema
from chainatlas.synth.arrow import numeric, strings
from chainatlas.synth.enterprises import establishment_year
from chainatlas.synth.firmographics import CAPITAL_SIGMA, EntityTraits
from chainatlas.synth.geography import distance_km
from chainatlas.synth.population import CoreChunk, PopulationModel
from chainatlas.synth.samples import Samples, thresholds
from chainatlas.synth.uscc import fixed_width_strings

LINKS_PER_CHAIN_FIRM = 0.6  # default links drawn per chain firm (before duplicates drop)
MAX_LINKS_PER_FIRM_NODE = 50  # at the default rate; scales with links_per_chain_firm
SUPPLIER_SIZE_SLOPE = 0.5  # links ∝ exp(β z)
CUSTOMER_SIZE_POWER = 0.8  # α in P(customer) ∝ size^α
SCOPE_SHARES = (0.40, 0.25)  # same city, same province; the rest national
DECAY_KM = 400.0
NATIONAL_CANDIDATES = 16
SAMPLE_TARGET = {"city": 8, "province": 32, "nation": 512}  # expected firms per sample
NULL_AMOUNT_RATE = 0.15
FIRST_LINK_YEAR, LAST_LINK_YEAR = 2019, 2026
_CALIBRATION = 1.02  # makes up for duplicates, self-links and empty samples dropped


@dataclass
class CustomerPool:
    """Per customer node: size-weighted samples by city, by province, and national."""

    city: Samples
    province: Samples
    nation: Samples

    @classmethod
    def for_model(cls, model: PopulationModel, traits: EntityTraits) -> CustomerPool:
        geo, n = model.regions, model.catalogue.size
        expected = model.expected_chain_firms  # firms per (node, region)
        mean = CUSTOMER_SIZE_POWER * (traits.log_capital[:n] - 5.0)  # mean log weight per node
        sd = CUSTOMER_SIZE_POWER * CAPITAL_SIGMA

        def samples(index: np.ndarray, groups: int, level: str) -> Samples:
            by_group = np.stack(
                [np.bincount(index, weights=row, minlength=groups) for row in expected]
            )  # (nodes, groups)
            target = SAMPLE_TARGET[level]
            tau = thresholds(by_group.ravel(), np.repeat(mean, groups), sd, target)
            return Samples(tau, 2 * target + 8)

        return cls(
            samples(geo.city_index, geo.n_cities, "city"),
            samples(geo.province_index, geo.n_provinces, "province"),
            samples(np.zeros(geo.size, dtype=np.int64), 1, "nation"),
        )

    @property
    def nbytes(self) -> int:
        return self.city.nbytes + self.province.nbytes + self.nation.nbytes

    def freeze(self) -> None:
        """End of pass 1: local samples get their cumulative pick weights."""
        self.city.freeze()
        self.province.freeze()

    def groups(
        self, model: PopulationModel, node: np.ndarray, region: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        geo = model.regions
        return (
            node * geo.n_cities + geo.city_index[region],
            node * geo.n_provinces + geo.province_index[region],
            node,
        )

    def offer(
        self,
        model: PopulationModel,
        core: CoreChunk,
        log_size: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Offer the chunk's chain firm-nodes as customers (one draw u per firm-node)."""
        position, node = firm_nodes(core, model.catalogue.size)
        log_weight = CUSTOMER_SIZE_POWER * (log_size[position] - 5.0)
        region = core.region[position]
        year = establishment_year(core.established[position]).astype(np.int16)
        uscc = core.codes(model, position)
        for sample, group in zip(
            (self.city, self.province, self.nation), self.groups(model, node, region), strict=True
        ):
            sample.offer(group, log_weight, rng.random(position.size), uscc, region, year)


def firm_nodes(core: CoreChunk, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(row position, node) of every chain firm-node of the chunk (primary, then second)."""
    first = np.flatnonzero(core.entity < n_nodes)
    second = np.flatnonzero(core.second >= 0)
    return (
        np.concatenate([first, second]),
        np.concatenate([core.entity[first], core.second[second]]).astype(np.int64),
    )


def _edge_products(model: PopulationModel) -> pa.Array:
    cat = model.catalogue
    out = []
    for e, flow in enumerate(cat.edge_flow):
        supplier = cat.nodes[int(cat.edge_supplier[e])]
        out.append(flow or (supplier.products[0] if supplier.products else supplier.name_zh))
    return strings(out)


def supply_links(
    core: CoreChunk,
    model: PopulationModel,
    log_size: np.ndarray,
    pool: CustomerPool,
    rng: np.random.Generator,
    links_per_chain_firm: float = LINKS_PER_CHAIN_FIRM,
) -> pa.Table:
    """The chunk's supply links; `links_per_chain_firm` sets the mean number drawn (the
    default keeps the published output byte-identical)."""
    cat = model.catalogue
    position, node = firm_nodes(core, cat.size)
    out_degree = cat.out_start[node + 1] - cat.out_start[node]
    supplying = out_degree > 0
    position, node, out_degree = position[supplying], node[supplying], out_degree[supplying]
    n_chain_firms = int((core.entity < cat.size).sum())
    if position.size == 0 or n_chain_firms == 0:
        return schema.SUPPLY_LINKS_BUILT.empty_table()
    weight = np.exp(SUPPLIER_SIZE_SLOPE * core.size[position])
    rate = _CALIBRATION * links_per_chain_firm * n_chain_firms * weight / weight.sum()
    cap = round(MAX_LINKS_PER_FIRM_NODE * max(1.0, links_per_chain_firm / LINKS_PER_CHAIN_FIRM))
    count = np.minimum(rng.poisson(rate), cap)
    position = np.repeat(position, count)
    node = np.repeat(node, count)
    out_degree = np.repeat(out_degree, count)
    k = position.size
    edge = cat.out_edge[cat.out_start[node] + (rng.random(k) * out_degree).astype(np.int64)]
    customer_node = cat.edge_customer[edge].astype(np.int64)
    region = core.region[position]
    groups = pool.groups(model, customer_node, region)
    u = rng.random(k)
    scope = np.where(u < SCOPE_SHARES[0], 0, np.where(u < sum(SCOPE_SHARES), 1, 2))
    levels = (pool.city, pool.province, pool.nation)
    # An empty local sample falls back to the next wider one.
    for level in (0, 1):
        empty = (scope == level) & (levels[level].count[groups[level]] == 0)
        scope[empty] = level + 1
    group = np.select([scope == 0, scope == 1], [groups[0], groups[1]], groups[2])
    slot = np.full(k, -1, dtype=np.int64)
    for level, sample in enumerate(levels):
        rows = np.flatnonzero(scope == level)
        if rows.size:
            slot[rows] = _choose(sample, group[rows], region[rows], model, rng, national=level == 2)
    chosen = _picked(levels, scope, group, slot)
    c_uscc, _, c_size, c_year = chosen
    suppliers, back = np.unique(position, return_inverse=True)
    s_uscc = core.codes(model, suppliers)[back]
    valid = (slot >= 0) & ~np.all(c_uscc == s_uscc, axis=1)
    amount = np.round(
        np.exp(0.5 * log_size[position] + 0.5 * c_size - 1.0 + 0.8 * rng.standard_normal(k)), 2
    )
    amount_null = rng.random(k) < NULL_AMOUNT_RATE
    year = rng.integers(FIRST_LINK_YEAR, LAST_LINK_YEAR + 1, k)
    s_year = establishment_year(core.established[position])
    year = np.minimum(np.maximum(year, np.maximum(s_year, c_year)), LAST_LINK_YEAR)
    keep = np.flatnonzero(valid)
    keep = keep[_first_of_each_pair(position[keep], c_uscc[keep])]
    return pa.Table.from_arrays(
        [
            fixed_width_strings(s_uscc[keep]),
            fixed_width_strings(c_uscc[keep]),
            numeric(amount[keep], pa.float64(), amount_null[keep]),
            numeric(year[keep], pa.int64()),
            _edge_products(model).take(numeric(edge[keep], pa.int64())),
        ],
        schema=schema.SUPPLY_LINKS_BUILT,
    )


def _first_of_each_pair(supplier: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """Indices of the first link of each (supplier row, customer) pair, in draw order."""
    key = np.empty(supplier.size, dtype=[("s", "<i8"), ("c", "V18")])
    key["s"] = supplier
    key["c"] = np.ascontiguousarray(customer).view("V18").ravel()
    return np.sort(np.unique(key, return_index=True)[1])


def _choose(
    sample: Samples,
    group: np.ndarray,
    region: np.ndarray,
    model: PopulationModel,
    rng: np.random.Generator,
    *,
    national: bool,
) -> np.ndarray:
    """A slot per link. Local samples: exactly ∝ max(w, τ), so P(firm) ∝ size^α. National:
    Gumbel-max over NATIONAL_CANDIDATES drawn uniformly from the sample, scored
    log max(w, τ) − d / DECAY_KM (distance decay)."""
    held = sample.count[group]
    if not national:
        return np.where(held > 0, sample.pick(group, rng.random(group.size)), -1)
    candidates = (rng.random((group.size, NATIONAL_CANDIDATES)) * held[:, None]).astype(np.int64)
    g = group[:, None]
    score = sample.log_pick(g, candidates)
    geo = model.regions
    other = sample.region[g, candidates]
    score -= (
        distance_km(
            geo.lon[region][:, None], geo.lat[region][:, None], geo.lon[other], geo.lat[other]
        )
        / DECAY_KM
    )
    score += rng.gumbel(size=score.shape)
    score[candidates >= held[:, None]] = -np.inf
    slot = candidates[np.arange(group.size), np.argmax(score, axis=1)]
    return np.where(held > 0, slot, -1)


def _picked(
    levels: tuple[Samples, ...], scope: np.ndarray, group: np.ndarray, slot: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k = scope.size
    uscc = np.zeros((k, 18), dtype=np.uint8)
    region = np.zeros(k, dtype=np.int32)
    size = np.zeros(k, dtype=np.float64)
    year = np.zeros(k, dtype=np.int64)
    for level, sample in enumerate(levels):
        rows = np.flatnonzero((scope == level) & (slot >= 0))
        g, s = group[rows], slot[rows]
        uscc[rows] = sample.uscc[g, s]
        region[rows] = sample.region[g, s]
        size[rows] = sample.log_weight[g, s] / CUSTOMER_SIZE_POWER + 5.0
        year[rows] = sample.year[g, s]
    return uscc, region, size, year
