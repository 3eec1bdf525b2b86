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

from chainatlas.synth.phrasebook import (
    BARE,
    EMPTY,
    ENUMERATION,
    SEMICOLON,
    PhraseBook,
    Pools,
    window_index,
)

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
        columns = [
            table.gather(pl.Series(i, dtype=pl.UInt32)).alias(f"s{k}")
            for k, i in enumerate(self.indices)
        ]
        return pl.DataFrame(columns).select(pl.concat_str(pl.all()).alias(name)).to_series()


def window(
    pools: Pools | np.ndarray,
    rows: Rows,
    entity: np.ndarray | None,
    count: np.ndarray,
    inner: np.ndarray | int,
    rng: np.random.Generator,
    offsets: tuple[np.ndarray, np.ndarray] | None = None,
) -> Pick:
    """A list of `count` consecutive (hence distinct) items of a window pool, from a random
    offset (within `offsets` = (low, high) when given), as one slot."""
    if isinstance(pools, Pools):
        assert entity is not None
        start, length = pools.start[rows.book, entity], pools.length[rows.book, entity]
    else:  # one pool per book
        start, length = pools[rows.book, 0], pools[rows.book, 1]
    low, high = offsets if offsets is not None else (np.zeros_like(length), length)
    offset = low + (rng.random(rows.size) * np.maximum(high - low, 1)).astype(np.int64)
    return Pick(window_index(start, length, offset, count, inner), (count > 0) & (length > 0))


def _count(
    rng: np.random.Generator, spec: tuple[tuple[int, ...], tuple[float, ...]], m: int
) -> np.ndarray:
    return rng.choice(np.array(spec[0]), size=m, p=np.array(spec[1]))


def _literal(book: PhraseBook, name: str, valid: np.ndarray) -> Pick:
    return Pick(np.full(valid.size, book.literals[name], dtype=np.int64), valid)


def business_scope(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    """Ten slots: opening, licences (style A), middle formula, the entity's items, a second
    node's item, generic items, an unrelated item, closing, licences (B, old), end formula."""
    m = rows.size
    old = rows.old_style
    style_b = ~old & (rng.random(m) < STYLE_B_RATE)
    style_a = ~old & ~style_b
    inner = np.where(old, 1, 0)  # items joined by ';' (一般项目 lists) or '、' (old run-on text)
    listing = np.where(old, ENUMERATION, SEMICOLON)
    own = book.items.length[rows.book, rows.entity]
    items = [
        window(book.items, rows, rows.entity, _count(rng, ITEM_COUNTS, m), inner, rng),
        window(
            book.items,
            rows,
            np.maximum(rows.second, 0),
            (rows.second >= 0).astype(np.int64),
            inner,
            rng,
        ),
        window(
            book.generic,
            rows,
            None,
            np.maximum(_count(rng, GENERIC_COUNTS, m), (own == 0).astype(np.int64)),
            inner,
            rng,
        ),
        window(
            book.unrelated,
            rows,
            None,
            (rng.random(m) < UNRELATED_RATE).astype(np.int64),
            inner,
            rng,
        ),
    ]
    has_own = book.own_licences[rows.book, rows.entity] > 0
    total = book.licences.length[rows.book, rows.entity]
    # The entity's licences as usual; an unrelated one (餐饮服务 …) now and then.
    licence_count = np.where(
        has_own,
        _count(rng, LICENCE_COUNTS, m),
        (rng.random(m) < UNRELATED_LICENCE_RATE).astype(np.int64),
    )
    own_end = book.own_licences[rows.book, rows.entity]
    licences = window(
        book.licences,
        rows,
        rows.entity,
        licence_count,
        inner,
        rng,
        offsets=(np.where(has_own, 0, own_end), np.where(has_own, own_end, total)),
    )
    licensed = licences.valid

    slots = _Slots(book, rows)
    slots.add(_literal(book, "licensed_opening", style_a & licensed))
    slots.add(_literal(book, "general_opening", (style_a & ~licensed) | style_b))
    slots.add(Pick(licences.index, style_a & licensed))
    slots.add(_literal(book, "long_closing_then_general", style_a & licensed))
    seen = np.zeros(m, dtype=bool)
    for pick in items:
        slots.add(pick, np.where(seen, listing, BARE))
        seen |= pick.valid
    slots.add(_literal(book, "general_closing", style_a | (style_b & ~licensed)))
    slots.add(_literal(book, "then_licensed", style_b & licensed))
    # Old style runs the licences on in the same list.
    slots.add(
        Pick(licences.index, (style_b | old) & licensed), np.where(old & seen, ENUMERATION, BARE)
    )
    slots.add(_literal(book, "short_closing", style_b & licensed))
    slots.add(_literal(book, "old_style_closing", old))
    return slots.join("business_scope")


def products(book: PhraseBook, rows: Rows, rng: np.random.Generator) -> pl.Series:
    m = rows.size
    wants = rng.random(m) < np.where(rows.on_chain, PRODUCTS_RATE_CHAIN, PRODUCTS_RATE_OTHER)
    count = np.where(wants, rng.choice(np.array([1, 2, 3]), size=m, p=[0.5, 0.35, 0.15]), 0)
    pick = window(book.products, rows, rows.entity, count, 1, rng)  # joined by '、'
    slots = _Slots(book, rows)
    slots.add(pick)
    joined = slots.join("products")
    none = np.flatnonzero(~pick.valid)
    return joined.scatter(none, None) if none.size else joined


def names(
    book: PhraseBook, rows: Rows, region: np.ndarray, suffix: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """{prefecture short name}{2-char 字号}{industry word}{suffix}."""
    m = rows.size
    everywhere = np.ones(m, dtype=bool)
    b_start, b_len = book.brand
    first = (rng.random(m) * b_len).astype(np.int64)
    second = (first + 1 + (rng.random(m) * (b_len - 1)).astype(np.int64)) % b_len
    w_start = book.words.start[rows.book, rows.entity]
    w_len = book.words.length[rows.book, rows.entity]
    word = w_start + (rng.random(m) * np.maximum(w_len, 1)).astype(np.int64)
    slots = _Slots(book, rows)
    slots.add(Pick(book.region_prefix + region.astype(np.int64), everywhere))
    slots.add(Pick(b_start + first, everywhere))
    slots.add(Pick(b_start + second, everywhere))
    slots.add(Pick(word, w_len > 0))
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
