"""The population model and the core draw of a chunk: who registers where, on which node.

Entities are the atlas nodes (0 … N-1) followed by the off-chain sectors. One flat,
entity-major distribution over (entity, region) cells is sampled *systematically*: each
cell gets its expected count ±1 per chunk, so node totals and the demo city's counts are
exact, and the rows are then shuffled. The core draw of a chunk (entity, region, second
node, size, establishment date, USCC) depends only on (seed, chunk index), so the link
pass can redraw it instead of keeping firms in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.synth.catalogue import NodeCatalogue, node_catalogue
from chainatlas.synth.geography import RegistrationRegions, registration_regions
from chainatlas.synth.profile import ResolvedProfile, city_node_shares, resolve_profile
from chainatlas.synth.sectors import Sector, off_chain_sectors
from chainatlas.synth.specialisation import node_weights, specialisation
from chainatlas.synth.uscc import ascii_matrix, uscc_chars

ON_CHAIN_SHARE = 0.65
SECOND_NODE_RATE = 0.04  # firms registered on two nodes
FIRST_YEAR, LAST_YEAR = 1980, 2026
END_DATE = dt.date(2026, 10, 31)  # fixed, so output does not depend on the day it runs
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class PopulationModel:
    seed: int
    catalogue: NodeCatalogue
    sectors: tuple[Sector, ...]
    regions: RegistrationRegions
    joint_cum: np.ndarray  # (E·R,) cumulative over entity-major (entity, region) cells
    node_given_region: np.ndarray  # (R, N) P(node | region) among chain firms
    node_given_region_cum: np.ndarray  # (R·N,) row r's cumulative shifted to [r, r+1]
    demo_region: np.ndarray  # (R,) bool
    profile: ResolvedProfile | None
    region_digits: np.ndarray  # (R, 6) ASCII

    @property
    def n_entities(self) -> int:
        return self.catalogue.size + len(self.sectors)


def build_model(seed: int, atlas: Mapping[str, Chain], regions: pl.DataFrame,
                profile: Mapping[str, Any] | None) -> PopulationModel:
    rng = np.random.default_rng([seed, 0xA71A5])
    catalogue = node_catalogue(atlas)
    sectors = off_chain_sectors(catalogue.codes)
    geo = registration_regions(regions, rng)
    weights = node_weights(catalogue, rng)
    node_cells = (weights[:, None] * geo.weight[None, :]
                  * specialisation(geo, catalogue, weights, rng).T)  # (N, R)
    region_share = geo.weight.copy()
    demo = np.zeros(geo.size, dtype=bool)
    resolved = None
    if profile is not None:
        city_rows = geo.within(str(profile["city"]))
        if city_rows.size:
            resolved = resolve_profile(profile, catalogue)
            demo[city_rows] = True
            node_cells, region_share = _apply_profile(node_cells, region_share, demo, resolved,
                                                      catalogue, rng)
    node_cells *= ON_CHAIN_SHARE / node_cells.sum()
    sector_share = np.array([s.share for s in sectors])
    sector_cells = ((1.0 - ON_CHAIN_SHARE) * (sector_share / sector_share.sum())[:, None]
                    * region_share[None, :])
    joint = np.concatenate([node_cells, sector_cells]).ravel()
    joint_cum = np.cumsum(joint)
    joint_cum /= joint_cum[-1]
    given = node_cells.T / node_cells.sum(axis=0)[:, None]  # (R, N)
    given_cum = np.cumsum(given, axis=1)
    given_cum /= given_cum[:, -1:]
    given_cum += np.arange(geo.size)[:, None]
    return PopulationModel(
        seed=seed, catalogue=catalogue, sectors=sectors, regions=geo, joint_cum=joint_cum,
        node_given_region=given, node_given_region_cum=given_cum.ravel(), demo_region=demo,
        profile=resolved, region_digits=ascii_matrix(list(geo.codes), 6),
    )


def _apply_profile(node_cells: np.ndarray, region_share: np.ndarray, demo: np.ndarray,
                   profile: ResolvedProfile, catalogue: NodeCatalogue,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Replace the city's cells: its size is the profile's share, its nodes the solved shares."""
    cells = node_cells.copy()
    cells[:, ~demo] *= (1.0 - profile.city_share) / cells[:, ~demo].sum()
    rest = cells[:, ~demo].sum(axis=1)  # the rest of the country, per node
    chain_rest = np.bincount(catalogue.chain_of, weights=rest, minlength=len(catalogue.chains))
    chain_city = chain_rest * profile.chain_boost
    chain_city *= profile.city_share / chain_city.sum()
    county = region_share[demo] / region_share[demo].sum()
    cells[:, demo] = 0.0
    for ci in range(len(catalogue.chains)):
        members = catalogue.chain_nodes(ci)
        status = [profile.status[int(n)] for n in members]
        q = city_node_shares(status, rest[members], chain_city[ci])
        # Spread each node over the city's counties unevenly (counties specialise too).
        spread = county[None, :] * rng.lognormal(0.0, 0.8, (members.size, county.size))
        spread /= spread.sum(axis=1, keepdims=True)
        cells[np.ix_(members, np.flatnonzero(demo))] = (q * chain_city[ci])[:, None] * spread
    shares = region_share.copy()
    shares[~demo] *= (1.0 - profile.city_share) / shares[~demo].sum()
    shares[demo] = profile.city_share * county
    return cells, shares


@dataclass(frozen=True)
class CoreChunk:
    """The part of a chunk both passes need; aligned arrays, one row per firm."""

    row: np.ndarray  # global row number (also the USCC serial)
    entity: np.ndarray  # node index (< N) or N + sector index
    region: np.ndarray
    second: np.ndarray  # second node, -1 if none
    size: np.ndarray  # latent size z (standard normal, older firms a bit larger)
    established: np.ndarray  # days since 1970-01-01
    uscc: np.ndarray  # (m, 18) uint8 ASCII


def _year_table() -> tuple[np.ndarray, np.ndarray]:
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    # Registrations grow over time, with the 2014 商事制度改革 jump.
    weight = np.exp((years - LAST_YEAR) / 9.0) * np.where(years >= 2014, 1.8, 1.0)
    weight[-1] *= (END_DATE.timetuple().tm_yday / 365.0)
    cum = np.cumsum(weight)
    return years, cum / cum[-1]


_YEARS, _YEAR_CUM = _year_table()
_JAN1 = np.array([(dt.date(int(y), 1, 1) - EPOCH).days for y in range(FIRST_YEAR, LAST_YEAR + 2)])
_END_DAYS = (END_DATE - EPOCH).days


def draw_core(model: PopulationModel, chunk: int, start: int, m: int) -> CoreChunk:
    rng = np.random.default_rng([model.seed, chunk, 0])
    n_regions = model.regions.size
    u = (np.arange(m) + rng.random()) / m
    cell = np.minimum(np.searchsorted(model.joint_cum, u, side="right"), model.joint_cum.size - 1)
    order = rng.permutation(m)
    entity = (cell // n_regions).astype(np.int32)[order]
    region = (cell % n_regions).astype(np.int32)[order]
    second = _second_nodes(model, entity, region, rng)
    year_index = np.searchsorted(_YEAR_CUM, rng.random(m), side="right")
    span = np.minimum(_JAN1[year_index + 1], _END_DAYS + 1) - _JAN1[year_index]
    established = (_JAN1[year_index] + (rng.random(m) * span).astype(np.int64)).astype(np.int32)
    age = (_END_DAYS - established) / 365.25
    size = rng.standard_normal(m) + 0.03 * (age - 8.0)
    row = np.arange(start, start + m, dtype=np.int64)
    modern = _YEARS[year_index] >= 2016
    uscc = uscc_chars(model.region_digits[region], row, modern, model.seed)
    return CoreChunk(row=row, entity=entity, region=region, second=second, size=size,
                     established=established, uscc=uscc)


def _second_nodes(model: PopulationModel, entity: np.ndarray, region: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """A second node for a few chain firms: a chain neighbour half the time, else any node
    the region hosts; never a node the region has no firms on (the demo city's missing)."""
    cat = model.catalogue
    n_nodes = cat.size
    second = np.full(entity.size, -1, dtype=np.int32)
    rows = np.flatnonzero((entity < n_nodes) & (rng.random(entity.size) < SECOND_NODE_RATE))
    if rows.size == 0:
        return second
    first = entity[rows]
    reg = region[rows]
    degree = cat.nb_start[first + 1] - cat.nb_start[first]
    pick = cat.nb_start[first] + (rng.random(rows.size) * np.maximum(degree, 1)).astype(np.int64)
    neighbour = np.where(degree > 0, cat.nb_node[np.minimum(pick, cat.nb_node.size - 1)]
                         if cat.nb_node.size else -1, -1)
    j = np.searchsorted(model.node_given_region_cum, reg + rng.random(rows.size), side="right")
    anywhere = np.clip(j - reg.astype(np.int64) * n_nodes, 0, n_nodes - 1)
    use_neighbour = (rng.random(rows.size) < 0.5) & (neighbour >= 0)
    chosen = np.where(use_neighbour, neighbour, anywhere).astype(np.int32)
    allowed = (chosen != first) & (model.node_given_region[reg, chosen] > 0)
    second[rows[allowed]] = chosen[allowed]
    return second
