"""Industry codes as filed: the entity's own code, with missing (~10%) and wrong (~8%) ones.

A misfiled chain firm may carry any code; a firm on no chain only codes no chain uses; in
the demo city neither ever carries a code of a node that is missing there (book DEMO).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from chainatlas.synth.phrasebook import PhraseBook
from chainatlas.synth.text import Rows

MISSING_CODE_RATE = 0.10
WRONG_CODE_RATE = 0.08


def industry_codes(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    m = rows.size
    start = book.own_codes.start[rows.book, rows.entity]
    length = book.own_codes.length[rows.book, rows.entity]
    own = start + (rng.random(m) * np.maximum(length, 1)).astype(np.int64)
    wrong_pool = np.where(
        rows.on_chain[:, None], book.wrong_codes_chain[rows.book], book.wrong_codes_other[rows.book]
    )
    wrong = wrong_pool[:, 0] + (rng.random(m) * np.maximum(wrong_pool[:, 1], 1)).astype(np.int64)
    u = rng.random(m)
    is_wrong = (u >= MISSING_CODE_RATE) & (u < MISSING_CODE_RATE + WRONG_CODE_RATE)
    index = np.where(is_wrong, wrong, own)
    valid = (u >= MISSING_CODE_RATE) & np.where(is_wrong, wrong_pool[:, 1] > 0, length > 0)
    codes = book.codes.gather(pl.Series(np.where(valid, index, 0), dtype=pl.UInt32))
    nulls = np.flatnonzero(~valid)
    return (codes.scatter(nulls, None) if nulls.size else codes).alias("industry_code")
