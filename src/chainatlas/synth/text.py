"""Row text by index: 经营范围, 主营产品 and 企业名称 assembled from phrase pools.

Each piece of a row's text is a slot: one index per row into the phrase table, choosing
the phrase, its separator variant and its script (simplified or traditional), or EMPTY.
Slots are gathered (polars string views, no copy of text) and joined by one null-free
concat_str. Consecutive offsets inside a pool keep a row's items distinct. Full-width rows
are converted afterwards, on that subset only.

经营范围 comes in three registry styles: A "许可项目：…（…）一般项目：…（…）", B "一般项目：…；
许可项目：…（…）" (both post-2021), and the older run-on list closed by "。（依法须经批准…）".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from chainatlas.synth.phrasebook import BARE, EMPTY, ENUMERATION, SEMICOLON, PhraseBook, Pools

ITEM_COUNTS = ((1, 2, 3), (0.3, 0.45, 0.25))
GENERIC_COUNTS = ((0, 1, 2, 3), (0.25, 0.35, 0.25, 0.15))
LICENCE_COUNTS = ((0, 1, 2), (0.45, 0.4, 0.15))
UNRELATED_RATE = 0.12  # an unrelated trade item (日用百货销售 …)
UNRELATED_LICENCE_RATE = 0.04
PRODUCTS_RATE_CHAIN, PRODUCTS_RATE_OTHER = 0.78, 0.3  # ≈60% of all firms
STYLE_B_RATE = 1 / 3  # among post-2021 wordings

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


@dataclass(frozen=True)
class Pick:
    """A candidate slot: base index and whether the row has it."""

    index: np.ndarray
    valid: np.ndarray


class _Slots:
    """Ordered slots of a text column; `join` gathers and concatenates them."""

    def __init__(self, book: PhraseBook, rows: Rows) -> None:
        self.book = book
        self.script = rows.traditional.astype(np.int64) * 3
        self.indices: list[np.ndarray] = []

    def add(self, pick: Pick, separator: int | np.ndarray = BARE) -> None:
        block = (self.script + separator) * self.book.size
        self.indices.append(np.where(pick.valid, pick.index + block, EMPTY))

    def join(self, name: str) -> pl.Series:
        table = self.book.table
        columns = [table.gather(pl.Series(i, dtype=pl.UInt32)).alias(f"s{k}")
                   for k, i in enumerate(self.indices)]
        return pl.DataFrame(columns).select(pl.concat_str(pl.all()).alias(name)).to_series()


def window(start: np.ndarray, length: np.ndarray, count: np.ndarray, slots: int,
           rng: np.random.Generator) -> list[Pick]:
    """`count` consecutive (hence distinct) items of a pool from a random offset."""
    span = np.maximum(length, 1)
    offset = (rng.random(start.size) * span).astype(np.int64)
    return [Pick(start + (offset + j) % span, (j < count) & (j < length)) for j in range(slots)]


def _pool(pools: Pools, rows: Rows, entity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pools.start[rows.book, entity], pools.length[rows.book, entity]


def _count(rng: np.random.Generator, spec: tuple[tuple[int, ...], tuple[float, ...]],
           m: int) -> np.ndarray:
    return rng.choice(np.array(spec[0]), size=m, p=np.array(spec[1]))


def _literal(book: PhraseBook, name: str, valid: np.ndarray) -> Pick:
    return Pick(np.full(valid.size, book.literals[name], dtype=np.int64), valid)


def business_scope(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    m = rows.size
    start, length = _pool(book.items, rows, rows.entity)
    items = window(start, length, _count(rng, ITEM_COUNTS, m), 3, rng)
    s_start, s_len = _pool(book.items, rows, np.maximum(rows.second, 0))
    items += window(s_start, np.where(rows.second >= 0, s_len, 0), np.ones(m), 1, rng)
    generic_count = np.maximum(_count(rng, GENERIC_COUNTS, m), (length == 0).astype(np.int64))
    items += window(book.generic[rows.book, 0], book.generic[rows.book, 1], generic_count, 3, rng)
    items += window(book.unrelated[rows.book, 0], book.unrelated[rows.book, 1],
                    rng.random(m) < UNRELATED_RATE, 1, rng)
    l_start, l_len = _pool(book.licences, rows, rows.entity)
    licences = window(l_start, l_len, _count(rng, LICENCE_COUNTS, m), 2, rng)
    licences += window(book.unrelated_licences[rows.book, 0], book.unrelated_licences[rows.book, 1],
                       rng.random(m) < UNRELATED_LICENCE_RATE, 1, rng)
    has_licence = np.any([p.valid for p in licences], axis=0)
    old = rows.old_style
    style_b = ~old & (rng.random(m) < STYLE_B_RATE)
    style_a = ~old & ~style_b
    listing = np.where(old, ENUMERATION, SEMICOLON)  # separator inside the lists

    slots = _Slots(book, rows)
    a_licensed = style_a & has_licence
    slots.add(_literal(book, "licensed_opening", a_licensed))
    _add_list(slots, licences, a_licensed, SEMICOLON)
    slots.add(_literal(book, "licensed_closing_long", a_licensed))
    slots.add(_literal(book, "general_opening", ~old))
    seen = _add_list(slots, items, np.ones(m, dtype=bool), listing)
    slots.add(_literal(book, "general_closing", style_a | (style_b & ~has_licence)))
    b_licensed = style_b & has_licence
    slots.add(_literal(book, "licensed_opening", b_licensed), SEMICOLON)
    # Old style continues the same run-on list with the licences.
    _add_list(slots, licences, b_licensed | (old & has_licence), listing, old & seen)
    slots.add(_literal(book, "licensed_closing_short", b_licensed))
    slots.add(_literal(book, "old_style_closing", old))
    return slots.join("business_scope")


def _add_list(slots: _Slots, picks: list[Pick], active: np.ndarray, separator: np.ndarray | int,
              seen: np.ndarray | None = None) -> np.ndarray:
    """Add items as a list: every item after the first carries the separator."""
    seen = np.zeros(active.size, dtype=bool) if seen is None else seen.copy()
    for pick in picks:
        valid = pick.valid & active
        slots.add(Pick(pick.index, valid), np.where(seen, separator, BARE))
        seen = seen | valid
    return seen


def products(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    m = rows.size
    start, length = _pool(book.products, rows, rows.entity)
    wants = rng.random(m) < np.where(rows.on_chain, PRODUCTS_RATE_CHAIN, PRODUCTS_RATE_OTHER)
    count = np.where(wants, rng.choice(np.array([1, 2, 3]), size=m, p=[0.5, 0.35, 0.15]), 0)
    slots = _Slots(book, rows)
    seen = _add_list(slots, window(start, length, count, 3, rng), np.ones(m, dtype=bool),
                     ENUMERATION)
    joined = slots.join("products")
    none = np.flatnonzero(~seen)
    return joined.scatter(none, None) if none.size else joined


def names(book: PhraseBook, rows: Rows, region: np.ndarray, suffix: np.ndarray,
          rng: np.random.Generator) -> pl.Series:
    """{prefecture short name}{2-char 字号}{industry word}{suffix}."""
    m = rows.size
    everywhere = np.ones(m, dtype=bool)
    b_start, b_len = book.brand
    first = (rng.random(m) * b_len).astype(np.int64)
    second = (first + 1 + (rng.random(m) * (b_len - 1)).astype(np.int64)) % b_len
    w_start, w_len = _pool(book.words, rows, rows.entity)
    slots = _Slots(book, rows)
    slots.add(Pick(book.region_prefix + region.astype(np.int64), everywhere))
    slots.add(Pick(b_start + first, everywhere))
    slots.add(Pick(b_start + second, everywhere))
    slots.add(window(w_start, w_len, everywhere, 1, rng)[0])
    slots.add(Pick(book.suffix + suffix, everywhere))
    return slots.join("name")


def tag_strings(book: PhraseBook, bits: np.ndarray) -> pl.Series:
    return book.tags.gather(pl.Series(bits, dtype=pl.UInt32))


def fullwidth(series: pl.Series, rows: np.ndarray, pad: bool = False) -> pl.Series:
    """ASCII → full-width forms on the given rows (a clerk's IME left in full-width mode)."""
    if rows.size == 0:
        return series
    sub = series.gather(rows).str.replace_many(_HALF, _FULL)
    if pad:
        sub = sub + "\u3000"  # and a trailing ideographic space the registry did not trim
    return series.scatter(rows, sub)
