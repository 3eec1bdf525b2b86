"""One chunk of the enterprises table (contract columns) and its ground-truth labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chainatlas.synth import schema
from chainatlas.synth.firmographics import EntityTraits, Firmographics, firmographics
from chainatlas.synth.industry_codes import industry_codes
from chainatlas.synth.phrasebook import PhraseBook
from chainatlas.synth.population import CoreChunk, PopulationModel
from chainatlas.synth.text import Rows, business_scope, fullwidth, names, products, tag_strings
from chainatlas.synth.uscc import fixed_width_strings
from chainatlas.synth.vocabulary import TAGS

TRADITIONAL_RATE = 0.05
FULLWIDTH_RATE = 0.04  # plus half of the traditional rows


@dataclass(frozen=True)
class EnterpriseChunk:
    enterprises: pa.Table
    labels: pa.Table
    firms: Firmographics


def establishment_year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def enterprise_chunk(core: CoreChunk, model: PopulationModel, book: PhraseBook,
                     traits: EntityTraits, rng: np.random.Generator) -> EnterpriseChunk:
    m = core.row.size
    n_nodes = model.catalogue.size
    on_chain = core.entity < n_nodes
    traditional = rng.random(m) < TRADITIONAL_RATE
    rows = Rows(
        entity=core.entity.astype(np.int64), second=core.second.astype(np.int64),
        book=model.demo_region[core.region].astype(np.int64), traditional=traditional,
        old_style=(establishment_year(core.established) < 2016)
        & (rng.random(m) < 0.7), on_chain=on_chain,
    )
    firms = firmographics(core, traits, rng)
    listed = (firms.tag_bits & (1 << TAGS.index("上市"))) > 0
    u = rng.random(m)
    # 0 有限公司, 1 有限责任公司, 2 股份有限公司 (listed firms always; large ones often).
    suffix = np.where(listed | (u < 0.04) | ((core.size > 2.0) & (u < 0.3)), 2,
                      np.where(u > 0.88, 1, 0)).astype(np.int64)
    name = names(book, rows, core.region, suffix, rng)
    scope = business_scope(book, rows, rng)
    product = products(book, rows, rng)
    code = industry_codes(book, rows, rng)
    wide = np.flatnonzero((rng.random(m) < FULLWIDTH_RATE)
                          | (traditional & (rng.random(m) < 0.5)))
    name = fullwidth(name, wide, pad=True)
    scope = fullwidth(scope, wide)
    product = fullwidth(product, wide)
    uscc = fixed_width_strings(core.uscc)
    region_code = pc.take(pa.array(model.regions.codes, type=pa.string()), pa.array(core.region))
    columns = [
        uscc, _string(name.to_arrow()), region_code, _string(code.to_arrow()),
        _dates(core.established, np.zeros(m, dtype=bool)),
        _dates(firms.deregistered, firms.deregistered < 0),
        pa.array(firms.registered_capital, from_pandas=True),
        pa.array(firms.revenue, from_pandas=True),
        pa.array(firms.employees, mask=firms.employees < 0),
        _string(scope.to_arrow()), _string(product.to_arrow()),
        _string(tag_strings(book, firms.tag_bits).to_arrow()),
        pa.array(np.ones(m, dtype=bool)),
    ]
    enterprises = pa.Table.from_arrays(columns, schema=schema.ENTERPRISES)
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
    chain_ids = pa.array([cat.chains[c].id for c in cat.chain_of], type=pa.string())
    node_ids = pa.array([n.id for n in cat.nodes], type=pa.string())
    index = pa.array(node)
    return pa.Table.from_arrays(
        [pc.take(uscc, pa.array(position)), pc.take(chain_ids, index), pc.take(node_ids, index)],
        schema=schema.LABELS,
    )


def _string(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string())


def _dates(days: np.ndarray, null: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), mask=null).view(pa.date32())
