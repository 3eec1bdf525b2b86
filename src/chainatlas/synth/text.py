"""Row text by index: 经营范围, 主营产品 and 企业名称 assembled from phrase pools.

Each text slot of a row is an index into the phrase table (or null); slots are gathered
with Arrow `take` and joined with polars `concat_str`. Consecutive offsets inside a pool
keep a row's items distinct. A row written in traditional characters reads the table at
offset `size`; full-width rows are converted afterwards on that subset only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from chainatlas.synth.phrasebook import PhraseBook, Pools

NULL_SCOPE_RATE = 0.01
ITEM_COUNTS = ((1, 2, 3), (0.3, 0.45, 0.25))
GENERIC_COUNTS = ((0, 1, 2, 3), (0.25, 0.35, 0.25, 0.15))
LICENCE_COUNTS = ((0, 1, 2), (0.45, 0.4, 0.15))
UNRELATED_RATE = 0.12  # an unrelated trade item (日用百货销售 …)
UNRELATED_LICENCE_RATE = 0.04
PRODUCTS_RATE_CHAIN, PRODUCTS_RATE_OTHER = 0.78, 0.3  # ≈60% of all firms
OLD_STYLE_RATE_BEFORE_2016 = 0.7

_HALF = [chr(c) for c in range(0x21, 0x7F)] + [" "]
_FULL = [chr(c + 0xFEE0) for c in range(0x21, 0x7F)] + ["\u3000"]


@dataclass(frozen=True)
class Rows:
    """What the text of each row depends on."""

    entity: np.ndarray
    second: np.ndarray  # -1 if none
    book: np.ndarray  # 0 national, 1 demo city
    traditional: np.ndarray  # bool
    old_style: np.ndarray  # bool: pre-2016 wording
    on_chain: np.ndarray  # bool

    @property
    def size(self) -> int:
        return int(self.entity.size)


def _take(table: pa.Array, index: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pc.take(table, pa.array(np.where(valid, index, 0), mask=~valid))


class _Slots:
    """Collects named index slots of a row, then gathers them into a frame."""

    def __init__(self, book: PhraseBook, rows: Rows) -> None:
        self.book, self.rows = book, rows
        self.columns: dict[str, pa.Array] = {}
        self._shift = rows.traditional.astype(np.int64) * book.size

    def add(self, name: str, index: np.ndarray, valid: np.ndarray) -> None:
        self.columns[name] = _take(self.book.table, index + self._shift, valid)

    def window(self, prefix: str, start: np.ndarray, length: np.ndarray, count: np.ndarray,
               slots: int, rng: np.random.Generator) -> list[str]:
        """`count` consecutive (hence distinct) items of a pool from a random offset."""
        span = np.maximum(length, 1)
        offset = (rng.random(start.size) * span).astype(np.int64)
        names = []
        for j in range(slots):
            name = f"{prefix}{j}"
            self.add(name, start + (offset + j) % span, (j < count) & (j < length))
            names.append(name)
        return names

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({k: pl.from_arrow(v) for k, v in self.columns.items()})


def _pool(pools: Pools, book: np.ndarray, entity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pools.start[book, entity], pools.length[book, entity]


def _count(rng: np.random.Generator, spec: tuple[tuple[int, ...], tuple[float, ...]],
           m: int) -> np.ndarray:
    return rng.choice(np.array(spec[0]), size=m, p=np.array(spec[1]))


def business_scope(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    m = rows.size
    slots = _Slots(book, rows)
    start, length = _pool(book.items, rows.book, rows.entity)
    items = slots.window("item", start, length, _count(rng, ITEM_COUNTS, m), 3, rng)
    has_second = rows.second >= 0
    s_start, s_len = _pool(book.items, rows.book, np.maximum(rows.second, 0))
    items += slots.window("second", s_start, np.where(has_second, s_len, 0), np.ones(m), 1, rng)
    g_start, g_len = book.generic[rows.book, 0], book.generic[rows.book, 1]
    generic_count = np.maximum(_count(rng, GENERIC_COUNTS, m), (length == 0).astype(np.int64))
    items += slots.window("generic", g_start, g_len, generic_count, 3, rng)
    u_start, u_len = book.unrelated[rows.book, 0], book.unrelated[rows.book, 1]
    items += slots.window("unrelated", u_start, u_len, rng.random(m) < UNRELATED_RATE, 1, rng)
    l_start, l_len = _pool(book.licences, rows.book, rows.entity)
    licences = slots.window("licence", l_start, l_len, _count(rng, LICENCE_COUNTS, m), 2, rng)
    x_start, x_len = book.unrelated_licences[rows.book, 0], book.unrelated_licences[rows.book, 1]
    licences += slots.window("xlicence", x_start, x_len, rng.random(m) < UNRELATED_LICENCE_RATE,
                             1, rng)
    frame = slots.frame().with_columns(
        _trad=pl.Series(rows.traditional), _old=pl.Series(rows.old_style),
        _style_b=pl.Series(rng.random(m) < 1 / 3), _null=pl.Series(rng.random(m) < NULL_SCOPE_RATE),
    )

    def lit(name: str) -> pl.Expr:
        clean, trad = book.literals[name]
        return pl.when(pl.col("_trad")).then(pl.lit(trad)).otherwise(pl.lit(clean))

    general = pl.concat_str(items, separator=";", ignore_nulls=True)
    general_old = pl.concat_str(items, separator="、", ignore_nulls=True)
    licensed = pl.concat_str(licences, separator=";", ignore_nulls=True)
    licensed_old = pl.concat_str(licences, separator="、", ignore_nulls=True)
    has_licence = licensed != ""
    empty = pl.lit("")
    new_a = pl.concat_str([
        pl.when(has_licence).then(pl.concat_str([lit("licensed_opening"), licensed,
                                                 lit("licensed_closing_long")])).otherwise(empty),
        lit("general_opening"), general, lit("general_closing")])
    new_b = pl.concat_str([
        lit("general_opening"), general,
        pl.when(has_licence).then(pl.concat_str([pl.lit(";"), lit("licensed_opening"), licensed,
                                                 lit("licensed_closing_short")]))
        .otherwise(lit("general_closing"))])
    old = pl.concat_str([
        general_old, pl.when(has_licence).then(pl.concat_str([pl.lit("、"), licensed_old]))
        .otherwise(empty), lit("old_style_closing")])
    scope = (pl.when(pl.col("_null")).then(pl.lit(None, dtype=pl.String))
             .when(pl.col("_old")).then(old)
             .when(pl.col("_style_b")).then(new_b).otherwise(new_a))
    return frame.select(scope.alias("business_scope")).to_series()


def products(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    m = rows.size
    slots = _Slots(book, rows)
    start, length = _pool(book.products, rows.book, rows.entity)
    wants = rng.random(m) < np.where(rows.on_chain, PRODUCTS_RATE_CHAIN, PRODUCTS_RATE_OTHER)
    count = np.where(wants, rng.choice(np.array([1, 2, 3]), size=m, p=[0.5, 0.35, 0.15]), 0)
    names = slots.window("product", start, length, count, 3, rng)
    joined = pl.concat_str(names, separator="、", ignore_nulls=True)
    out = slots.frame().select(pl.when(joined == "").then(None).otherwise(joined).alias("products"))
    return out.to_series()


def names(book: PhraseBook, rows: Rows, region: np.ndarray, suffix: np.ndarray,
          rng: np.random.Generator) -> pl.Series:
    """{prefecture short name}{2-char 字号}{industry word}{suffix}."""
    m = rows.size
    slots = _Slots(book, rows)
    everywhere = np.ones(m, dtype=bool)
    slots.add("prefix", book.region_prefix + region.astype(np.int64), everywhere)
    b_start, b_len = book.brand
    first = (rng.random(m) * b_len).astype(np.int64)
    second = (first + 1 + (rng.random(m) * (b_len - 1)).astype(np.int64)) % b_len
    slots.add("brand1", b_start + first, everywhere)
    slots.add("brand2", b_start + second, everywhere)
    w_start, w_len = _pool(book.words, rows.book, rows.entity)
    slots.window("word", w_start, w_len, np.ones(m), 1, rng)
    slots.add("suffix", book.suffix + suffix, everywhere)
    frame = slots.frame()
    return frame.select(pl.concat_str(list(frame.columns)).alias("name")).to_series()


def tag_strings(book: PhraseBook, bits: np.ndarray) -> pl.Series:
    return pl.Series("tags", pl.from_arrow(pc.take(book.tags, pa.array(bits))))


def fullwidth(series: pl.Series, rows: np.ndarray, pad: bool = False) -> pl.Series:
    """ASCII → full-width forms on the given rows (a clerk's IME left in full-width mode)."""
    if rows.size == 0:
        return series
    sub = series.gather(rows).str.replace_many(_HALF, _FULL)
    if pad:
        sub = sub + "\u3000"  # and a trailing ideographic space the registry did not trim
    return series.scatter(rows, sub)
