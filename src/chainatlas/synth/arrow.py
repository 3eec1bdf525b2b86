"""Arrow arrays from numpy buffers and lists, without `pa.array` (which imports pandas,
~1.5 s, on first use)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

_NUMPY = {
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.float64(): np.float64,
    pa.date32(): np.int32,
}


def numeric(values: np.ndarray, dtype: pa.DataType, null: np.ndarray | None = None) -> pa.Array:
    """A fixed-width array (int, float, date32 as days) with optional null mask."""
    data = np.ascontiguousarray(values, dtype=_NUMPY[dtype])
    nulls = 0 if null is None else int(null.sum())
    validity = (
        pa.py_buffer(np.packbits(~null, bitorder="little")) if null is not None and nulls else None
    )
    return pa.Array.from_buffers(dtype, data.size, [validity, pa.py_buffer(data)], null_count=nulls)


def booleans(values: np.ndarray) -> pa.Array:
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), values.size, [None, pa.py_buffer(bits)], null_count=0)


def strings(values: Sequence[str | None] | pl.Series) -> pa.Array:
    """A `large_string` array (what polars hands out; see chainatlas.synth.schema)."""
    series = values if isinstance(values, pl.Series) else pl.Series(values, dtype=pl.String)
    array = series.to_arrow()
    return array if array.type == pa.large_string() else array.cast(pa.large_string())
