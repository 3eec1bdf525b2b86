"""The population model and the core draw of a chunk: who registers where, on which node.

Entities are the atlas nodes (0 … N-1) followed by the off-chain sectors. One flat,
entity-major distribution over (entity, region) cells is sampled *systematically*: each
cell gets its expected count ±1 per chunk, so node totals are exact. The demo city's chain
firms are not sampled but set: whole quotas per node (`city_quota`, solved so that every
node's LQ lands in its status class), spread over the chunks by telescoping rounding. The
rows of a chunk are then shuffled. The core draw of a chunk (entity, region, second
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
from chainatlas.synth.demo_city import SECOND_NODE_RATE, CityPlan, city_counts, plan_city
from chainatlas.synth.geography import RegistrationRegions, registration_regions
from chainatlas.synth.profile import ResolvedProfile, resolve_profile
from chainatlas.synth.sectors import Sector, off_chain_sectors
from chainatlas.synth.specialisation import node_weights, specialisation
from chainatlas.synth.uscc import ascii_matrix, uscc_chars

ON_CHAIN_SHARE = 0.65
# Latent size caps of the demo city's firms on weak and present nodes: no national top-10
# firm there, so the lead-firm rule of DESIGN §6 (rank ≤ 10 → strong) keeps their status.
CITY_SIZE_CAP = {"weak": 0.0, "present": 1.0}
FIRST_YEAR, LAST_YEAR = 1980, 2026
END_DATE = dt.date(2026, 10, 31)  # fixed, so output does not depend on the day it runs
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class PopulationModel:
    seed: int
    n_enterprises: int
    catalogue: NodeCatalogue
    sectors: tuple[Sector, ...]
    regions: RegistrationRegions
    joint_cum: np.ndarray  # (E·R,) cumulative over entity-major (entity, region) cells
    expected_chain_firms: np.ndarray  # (N, R) expected firms per (node, region), city included
    node_given_region: np.ndarray  # (R, N) P(node | region) among chain firms
    node_given_region_cum: np.ndarray  # (R·N,) row r's cumulative shifted to [r, r+1]
    demo_region: np.ndarray  # (R,) bool
    profile: ResolvedProfile | None
    city_quota: np.ndarray  # (N,) whole chain firms of the demo city per node
    city_regions: np.ndarray  # (C,) region indices of the demo city
    city_split_cum: np.ndarray  # (N·C,) node n's county cumulative shifted to [n, n+1]
    achieved_status: dict[int, str]  # status each node gets from the quotas
    city_size_cap: np.ndarray  # (E,) latent size cap of city firms per entity (inf: none)
    region_digits: np.ndarray  # (R, 6) ASCII

    @property
    def n_entities(self) -> int:
        return self.catalogue.size + len(self.sectors)


def build_model(
    seed: int,
    atlas: Mapping[str, Chain],
    regions: pl.DataFrame,
    profile: Mapping[str, Any] | None,
    n_enterprises: int,
) -> PopulationModel:
    rng = np.random.default_rng([seed, 0xA71A5])
    catalogue = node_catalogue(atlas)
    sectors = off_chain_sectors(catalogue.codes)
    geo = registration_regions(regions, rng)
    weights = node_weights(catalogue, rng)
    node_cells = geo.weight[None, :] * specialisation(geo, catalogue, weights, rng).T  # (N, R)
    # Specialisation moves a node's firms between regions; its national size is its weight.
    node_cells *= (weights / node_cells.sum(axis=1))[:, None]
    node_cells *= ON_CHAIN_SHARE / node_cells.sum()
    region_share = geo.weight.copy()
    demo = np.zeros(geo.size, dtype=bool)
    city = CityPlan.empty(catalogue.size)
    resolved = None
    if profile is not None and geo.within(str(profile["city"])).size:
        resolved = resolve_profile(profile, catalogue)
        demo[geo.within(resolved.city)] = True
        node_cells, region_share, city = plan_city(
            node_cells, region_share, demo, resolved, catalogue, n_enterprises, ON_CHAIN_SHARE, rng
        )
    sector_share = np.array([s.share for s in sectors])
    sector_cells = (
        (1.0 - ON_CHAIN_SHARE)
        * (sector_share / sector_share.sum())[:, None]
        * region_share[None, :]
    )
    sampled = node_cells.copy()
    sampled[:, demo] = 0.0  # the city's chain firms come from quotas
    joint = np.concatenate([sampled, sector_cells]).ravel()
    joint_cum = np.cumsum(joint)
    joint_cum /= joint_cum[-1]
    given = node_cells.T / node_cells.sum(axis=0)[:, None]  # (R, N)
    given_cum = np.cumsum(given, axis=1)
    given_cum /= given_cum[:, -1:]
    given_cum += np.arange(geo.size)[:, None]
    expected = sampled * n_enterprises
    expected[:, demo] = city.quota[:, None] * city.split
    return PopulationModel(
        seed=seed,
        n_enterprises=n_enterprises,
        catalogue=catalogue,
        sectors=sectors,
        regions=geo,
        joint_cum=joint_cum,
        expected_chain_firms=expected,
        node_given_region=given,
        node_given_region_cum=given_cum.ravel(),
        demo_region=demo,
        profile=resolved,
        city_quota=city.quota,
        city_regions=np.flatnonzero(demo),
        city_split_cum=(
            np.cumsum(city.split, axis=1)
            / np.maximum(city.split.sum(axis=1, keepdims=True), 1e-300)
            + np.arange(catalogue.size)[:, None]
        ).ravel(),
        achieved_status=city.achieved,
        region_digits=ascii_matrix(list(geo.codes), 6),
        city_size_cap=np.array(
            [
                CITY_SIZE_CAP.get(city.achieved.get(e, ""), np.inf)
                for e in range(catalogue.size + len(sectors))
            ]
        ),
    )


@dataclass(frozen=True)
class CoreChunk:
    """The part of a chunk both passes need; aligned arrays, one row per firm."""

    row: np.ndarray  # global row number (also the USCC serial)
    entity: np.ndarray  # node index (< N) or N + sector index
    region: np.ndarray
    second: np.ndarray  # second node, -1 if none
    size: np.ndarray  # latent size z (standard normal, older firms a bit larger)
    established: np.ndarray  # days since 1970-01-01
    modern: np.ndarray  # bool: established 2016 or later (the 'MA' code form)
    uscc: np.ndarray  # (m, 18) uint8 ASCII; (0, 18) when drawn without codes

    def codes(self, model: PopulationModel, rows: np.ndarray) -> np.ndarray:
        """USCCs of some rows, computed on demand when the chunk was drawn without them."""
        if self.uscc.shape[0] == self.row.size:
            return self.uscc[rows]
        return uscc_chars(
            model.region_digits[self.region[rows]], self.row[rows], self.modern[rows], model.seed
        )


def _year_table() -> tuple[np.ndarray, np.ndarray]:
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    # Registrations grow over time, with the 2014 商事制度改革 jump.
    weight = np.exp((years - LAST_YEAR) / 9.0) * np.where(years >= 2014, 1.8, 1.0)
    weight[-1] *= END_DATE.timetuple().tm_yday / 365.0
    cum = np.cumsum(weight)
    return years, cum / cum[-1]


_YEARS, _YEAR_CUM = _year_table()
_JAN1 = np.array([(dt.date(int(y), 1, 1) - EPOCH).days for y in range(FIRST_YEAR, LAST_YEAR + 2)])
_END_DAYS = (END_DATE - EPOCH).days


def draw_core(
    model: PopulationModel, chunk: int, start: int, m: int, *, with_codes: bool = True
) -> CoreChunk:
    rng = np.random.default_rng([model.seed, chunk, 0])
    n_regions = model.regions.size
    quota = city_counts(model.city_quota, model.n_enterprises, start, m)
    city_node = np.repeat(np.arange(quota.size, dtype=np.int32), quota)
    pick = (
        np.searchsorted(model.city_split_cum, city_node + rng.random(city_node.size), side="right")
        - city_node.astype(np.int64) * model.city_regions.size
    )
    city_region = model.city_regions[np.clip(pick, 0, max(model.city_regions.size - 1, 0))]
    sampled = m - city_node.size
    if sampled < 0:
        raise ValueError("chunk too small for the demo city's quota")
    u = (np.arange(sampled) + rng.random()) / max(sampled, 1)
    cell = np.minimum(np.searchsorted(model.joint_cum, u, side="right"), model.joint_cum.size - 1)
    order = rng.permutation(m)
    entity = np.concatenate([(cell // n_regions).astype(np.int32), city_node])[order]
    region = np.concatenate([(cell % n_regions).astype(np.int32), city_region.astype(np.int32)])[
        order
    ]
    second = _second_nodes(model, entity, region, rng)
    year_index = np.searchsorted(_YEAR_CUM, rng.random(m), side="right")
    span = np.minimum(_JAN1[year_index + 1], _END_DAYS + 1) - _JAN1[year_index]
    established = (_JAN1[year_index] + (rng.random(m) * span).astype(np.int64)).astype(np.int32)
    age = (_END_DAYS - established) / 365.25
    size = rng.standard_normal(m) + 0.03 * (age - 8.0)
    size = np.where(model.demo_region[region], np.minimum(size, model.city_size_cap[entity]), size)
    row = np.arange(start, start + m, dtype=np.int64)
    modern = _YEARS[year_index] >= 2016
    uscc = (
        uscc_chars(model.region_digits[region], row, modern, model.seed)
        if with_codes
        else np.zeros((0, 18), dtype=np.uint8)
    )
    return CoreChunk(
        row=row,
        entity=entity,
        region=region,
        second=second,
        size=size,
        established=established,
        modern=modern,
        uscc=uscc,
    )


def _second_nodes(
    model: PopulationModel, entity: np.ndarray, region: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A second node for a few chain firms (SECOND_NODE_RATE): a chain neighbour half the
    time, else any node the region hosts. Not in the demo city, whose counts are exact."""
    cat = model.catalogue
    n_nodes = cat.size
    second = np.full(entity.size, -1, dtype=np.int32)
    eligible = (entity < n_nodes) & ~model.demo_region[region]  # city quotas stay exact
    rows = np.flatnonzero(eligible & (rng.random(entity.size) < SECOND_NODE_RATE))
    if rows.size == 0:
        return second
    first = entity[rows]
    reg = region[rows]
    degree = cat.nb_start[first + 1] - cat.nb_start[first]
    pick = cat.nb_start[first] + (rng.random(rows.size) * np.maximum(degree, 1)).astype(np.int64)
    neighbour = np.where(
        degree > 0,
        cat.nb_node[np.minimum(pick, cat.nb_node.size - 1)] if cat.nb_node.size else -1,
        -1,
    )
    j = np.searchsorted(model.node_given_region_cum, reg + rng.random(rows.size), side="right")
    anywhere = np.clip(j - reg.astype(np.int64) * n_nodes, 0, n_nodes - 1)
    use_neighbour = (rng.random(rows.size) < 0.5) & (neighbour >= 0)
    chosen = np.where(use_neighbour, neighbour, anywhere).astype(np.int32)
    allowed = (chosen != first) & (model.node_given_region[reg, chosen] > 0)
    second[rows[allowed]] = chosen[allowed]
    return second
