"""Classification on Spark: the keyword automaton applied per partition through Arrow.

Each partition's rows reach the Python worker as Arrow record batches (`mapInArrow`); they
are gathered into chunks of up to `CHUNK_ROWS` firms and handed, as polars frames, to the
very classifier the DuckDB path calls (`chainatlas.classify.classify`). Firms are classified
independently, so the assignments do not depend on how Spark partitions or batches them.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterator, Mapping

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame

from chainatlas.atlas.model import Chain
from chainatlas.classify import ASSIGNMENT_SCHEMA, Vocabulary, build_vocabulary, classify
from chainatlas.settings import ClassifyWeights

# the classifier builds its automata once per call (~70 ms): Spark's Arrow batches (10,000
# rows by default) are gathered into chunks this large first
CHUNK_ROWS = 200_000
INPUT_COLUMNS = ("uscc", "industry_code", "business_scope", "products")
# what the workers hand back: the classifier's columns with plain (not large) strings
ARROW_SCHEMA = pa.schema(
    [
        pa.field(name, pa.float64() if dtype == pl.Float64() else pa.string())
        for name, dtype in ASSIGNMENT_SCHEMA.items()
    ]
)
SPARK_SCHEMA = (
    "uscc string, chain_id string, node_id string, score double, method string, evidence string"
)
PartitionFunction = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]

# per Python worker (workers are reused between tasks): the vocabulary of each atlas seen,
# so it is built once per worker rather than once per partition
_VOCABULARIES: dict[str, Vocabulary] = {}


def _vocabulary(key: str, atlas: Mapping[str, Chain]) -> Vocabulary:
    if key not in _VOCABULARIES:
        _VOCABULARIES[key] = build_vocabulary(atlas)
    return _VOCABULARIES[key]


def _chunks(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pl.DataFrame]:
    """The batches regrouped into frames of at most about `rows` rows."""
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        pending.append(batch)
        size += batch.num_rows
        if size >= rows:
            yield pl.from_arrow(pa.Table.from_batches(pending))  # type: ignore[misc]
            pending, size = [], 0
    if size:
        yield pl.from_arrow(pa.Table.from_batches(pending))  # type: ignore[misc]


def classify_partitions(
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights,
    chunk_rows: int = CHUNK_ROWS,
) -> PartitionFunction:
    """The function `mapInArrow` runs on each partition (it is pickled to the workers with
    the atlas and the weights)."""
    atlas = dict(atlas)
    key = hashlib.sha256(pickle.dumps((sorted(atlas), atlas, weights))).hexdigest()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        vocab = _vocabulary(key, atlas)
        for frame in _chunks(batches, chunk_rows):
            # one thread: Spark already runs one task per core
            assigned = classify(frame, vocab, weights, threads=1)
            yield from assigned.to_arrow().cast(ARROW_SCHEMA).to_batches()

    return run


def classify_enterprises(
    enterprises: DataFrame,
    atlas: Mapping[str, Chain],
    weights: ClassifyWeights | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> DataFrame:
    """Assignments (uscc, chain_id, node_id, score, method, evidence) of every firm of
    `enterprises`, computed on the executors."""
    run = classify_partitions(atlas, weights or ClassifyWeights(), chunk_rows)
    return enterprises.select(*INPUT_COLUMNS).mapInArrow(run, SPARK_SCHEMA)  # type: ignore[arg-type]
