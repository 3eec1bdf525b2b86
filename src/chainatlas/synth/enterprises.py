"""One chunk of the enterprises table (contract columns) and its ground-truth labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chainatlas.synth import schema
from chainatlas.synth.arrow import booleans, numeric, strings
from chainatlas.synth.firmographics import EntityTraits, Firmographics, firmographics
from chainatlas.synth.industry_codes import industry_codes
from chainatlas.synth.phrasebook import PhraseBook
from chainatlas.synth.population import CoreChunk, PopulationModel
from chainatlas.synth.text import Rows, business_scope, fullwidth, names, products, tag_strings
from chainatlas.synth.uscc import fixed_width_strings
from chainatlas.synth.vocabulary import TAGS

TRADITIONAL_RATE = 0.05
NULL_SCOPE_RATE = 0.01  # only where products or an industry code remain (ingest needs one)
FULLWIDTH_RATE = 0.04  # plus half of the traditional rows


@dataclass(frozen=True)
class EnterpriseChunk:
    enterprises: pa.Table
    labels: pa.Table
    firms: Firmographics


def establishment_year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def enterprise_chunk(
    core: CoreChunk,
    model: PopulationModel,
    book: PhraseBook,
    traits: EntityTraits,
    rng: np.random.Generator,
) -> EnterpriseChunk:
    m = core.row.size
    n_nodes = model.catalogue.size
    on_chain = core.entity < n_nodes
    traditional = rng.random(m) < TRADITIONAL_RATE
    rows = Rows(
        entity=core.entity.astype(np.int64),
        second=core.second.astype(np.int64),
        book=model.demo_region[core.region].astype(np.int64),
        traditional=traditional,
        old_style=(establishment_year(core.established) < 2016) & (rng.random(m) < 0.7),
        on_chain=on_chain,
    )
    firms = firmographics(core, traits, rng)
    listed = (firms.tag_bits & (1 << TAGS.index("上市"))) > 0
    u = rng.random(m)
    # 0 有限公司, 1 有限责任公司, 2 股份有限公司 (listed firms always; large ones often).
    suffix = np.where(
        listed | (u < 0.04) | ((core.size > 2.0) & (u < 0.3)), 2, np.where(u > 0.88, 1, 0)
    ).astype(np.int64)
    name = names(book, rows, core.region, suffix, rng)
    scope = business_scope(book, rows, rng)
    product = products(book, rows, rng)
    code = industry_codes(book, rows, rng)
    blank = (rng.random(m) < NULL_SCOPE_RATE) & (
        product.is_not_null() | code.is_not_null()
    ).to_numpy()
    if blank.any():
        scope = scope.scatter(np.flatnonzero(blank), None)
    wide = np.flatnonzero((rng.random(m) < FULLWIDTH_RATE) | (traditional & (rng.random(m) < 0.5)))
    name = fullwidth(name, wide, pad=True)
    scope = fullwidth(scope, wide)
    product = fullwidth(product, wide)
    uscc = fixed_width_strings(core.uscc)
    region_code = pc.take(strings(model.regions.codes), numeric(core.region, pa.int32()))
    columns = [
        uscc,
        strings(name),
        region_code,
        strings(code),
        numeric(core.established, pa.date32()),
        numeric(firms.deregistered, pa.date32(), firms.deregistered < 0),
        numeric(firms.registered_capital, pa.float64(), np.isnan(firms.registered_capital)),
        numeric(firms.revenue, pa.float64(), np.isnan(firms.revenue)),
        numeric(firms.employees, pa.int64(), firms.employees < 0),
        strings(scope),
        strings(product),
        strings(tag_strings(book, firms.tag_bits)),
        booleans(np.ones(m, dtype=bool)),
    ]
    enterprises = pa.Table.from_arrays(columns, schema=schema.ENTERPRISES_BUILT)
    return EnterpriseChunk(enterprises, chunk_labels(core, model, uscc), firms)


def chunk_labels(core: CoreChunk, model: PopulationModel, uscc: pa.Array) -> pa.Table:
    """(uscc, chain_id, node_id) for every node a firm was generated on, in row order."""
    n_nodes = model.catalogue.size
    first = np.flatnonzero(core.entity < n_nodes)
    second = np.flatnonzero(core.second >= 0)
    position = np.concatenate([first, second])
    node = np.concatenate([core.entity[first], core.second[second]])
    order = np.argsort(position, kind="stable")
    position, node = position[order], node[order]
    cat = model.catalogue
    chain_ids = strings([cat.chains[c].id for c in cat.chain_of])
    node_ids = strings([n.id for n in cat.nodes])
    index = numeric(node, pa.int64())
    return pa.Table.from_arrays(
        [
            pc.take(uscc, numeric(position, pa.int64())),
            pc.take(chain_ids, index),
            pc.take(node_ids, index),
        ],
        schema=schema.LABELS_BUILT,
    )
