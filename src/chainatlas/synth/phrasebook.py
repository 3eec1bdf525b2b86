"""Pre-built phrase pools, so row text is assembled by index (gathers + concat_str).

All strings live in one table of `size` base strings in six variant blocks: block
v = 3·traditional + separator holds every string in the normalised form (NFKC: simplified,
half-width) or in traditional characters (OpenCC s2t), bare or prefixed with ';' or '、'.
Baking separators into variants lets a row be one null-free concat_str (polars' fast
path); index EMPTY is the empty string, for absent slots. concat_str costs per column, so
list pools are stored as *windows*: k = 1–3 consecutive items (cyclic) already joined,
with ';' or '、' inside — a list of up to three items is one slot. A window pool of L items
holds 6·L strings; window (offset o, k items, inner separator i) is at
start + (3·i + k − 1)·L + o. Identical pools share their strings.

There are two *books* of pools over the same entities: the national book, and the demo
book for the demo city, where every phrase, product, word and code that points at a node
missing there has been removed.

Phrases of firms on no chain (generic, unrelated, sector items, licences, name words) never
contain a chain keyword other than the entity's own, so such firms stay true negatives.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import ahocorasick_rs
import numpy as np
import opencc
import polars as pl

from chainatlas.atlas.model import Node
from chainatlas.synth.firmographics import division
from chainatlas.synth.population import PopulationModel
from chainatlas.synth.vocabulary import (
    BRAND_CHARS,
    COMPANY_SUFFIXES,
    DEFAULT_VERBS,
    GENERAL_CLOSING,
    GENERAL_OPENING,
    GENERIC_ITEMS,
    GENERIC_NAME_WORDS,
    LICENCES_BY_DIVISION,
    LICENSED_CLOSING_LONG,
    LICENSED_CLOSING_SHORT,
    LICENSED_OPENING,
    NAME_WORDS_BY_DIVISION,
    OLD_STYLE_CLOSING,
    TAGS,
    TECHNOLOGY_SUFFIXES,
    UNRELATED_ITEMS,
    UNRELATED_LICENCES,
    VERBS_BY_DIVISION,
)

NATIONAL, DEMO = 0, 1
EMPTY = 0  # index of "" in every block
BARE, SEMICOLON, ENUMERATION = 0, 1, 2  # separator variants
SEPARATORS = ("", ";", "、")
MAX_WINDOW = 3
INNER_SEPARATORS = ("；", "、")  # clerk form; ';' once normalised
# The fixed formulas, merged where they always meet, so each is one slot.
LITERALS = {
    "licensed_opening": LICENSED_OPENING,
    "general_opening": GENERAL_OPENING,
    "long_closing_then_general": LICENSED_CLOSING_LONG + GENERAL_OPENING,
    "general_closing": GENERAL_CLOSING,
    "then_licensed": "；" + LICENSED_OPENING,
    "short_closing": LICENSED_CLOSING_SHORT,
    "old_style_closing": OLD_STYLE_CLOSING,
}


def normalise(text: str) -> str:
    """The contract's normal form: NFKC (half-width), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


class _Screen:
    """Rejects strings containing any of the tokens (compared in normal form), except the
    tokens a caller allows. One Aho-Corasick automaton serves every node."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = sorted({normalise(t) for t in tokens if t})
        self._automaton = ahocorasick_rs.AhoCorasick(self._tokens) if self._tokens else None

    def keep(self, items: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
        if self._automaton is None:
            return list(items)
        ok = {normalise(t) for t in allowed}
        return [
            s
            for s in items
            if not set(self._automaton.find_matches_as_strings(normalise(s), overlapping=True)) - ok
        ]


@dataclass(frozen=True)
class Pools:
    """(book, entity) → contiguous range of the table (plain) or a window pool."""

    start: np.ndarray  # (2, E) int64
    length: np.ndarray  # (2, E) int64: items in the pool


def window_index(
    start: np.ndarray,
    length: np.ndarray,
    offset: np.ndarray,
    count: np.ndarray,
    inner: np.ndarray | int,
) -> np.ndarray:
    """Base index of the window of `count` items from `offset` (count ≥ 1, length ≥ 1)."""
    k = np.clip(count, 1, MAX_WINDOW)
    return start + (3 * np.asarray(inner) + k - 1) * length + offset % np.maximum(length, 1)


@dataclass(frozen=True)
class PhraseBook:
    table: pl.Series  # 6·size strings: block 3·traditional + separator
    size: int
    codes: pl.Series  # industry codes (no variants)
    items: Pools  # windows: 经营范围 items of the entity
    products: Pools  # windows
    licences: Pools  # windows: the entity's licences, then UNRELATED_LICENCES
    own_licences: np.ndarray  # (2, E): how many of those are the entity's own
    words: Pools  # plain: industry words of names
    own_codes: Pools  # plain, into `codes`
    generic: np.ndarray  # (2 books, 2) start, length: windows
    unrelated: np.ndarray  # windows
    wrong_codes_chain: np.ndarray  # (2, 2) into `codes`: any code (misfiled chain firms)
    wrong_codes_other: np.ndarray  # (2, 2): codes of firms on no chain
    region_prefix: int  # start of R prefixes, in region order
    brand: tuple[int, int]
    suffix: int  # start of COMPANY_SUFFIXES
    tags: pl.Series  # 16 strings (bit combinations of TAGS), index 0 null
    literals: dict[str, int]  # fixed formulas of the scope text → base index


class _Builder:
    def __init__(self) -> None:
        self.strings: list[str] = [""]  # EMPTY
        self._windows: dict[tuple[str, ...], tuple[int, int]] = {}

    def add(self, items: Sequence[str]) -> tuple[int, int]:
        start = len(self.strings)
        self.strings.extend(items)
        return start, len(items)

    def windows(self, items: Sequence[str]) -> tuple[int, int]:
        """A window pool (see module doc); the same items give the same pool."""
        key = tuple(items)
        if key not in self._windows:
            start, n = len(self.strings), len(key)
            for inner in INNER_SEPARATORS:
                for k in range(1, MAX_WINDOW + 1):
                    self.strings.extend(
                        inner.join(key[(o + j) % n] for j in range(min(k, n))) for o in range(n)
                    )
            self._windows[key] = (start, n)
        return self._windows[key]


def _verbs(div: int | None) -> tuple[str, ...]:
    for span, verbs in VERBS_BY_DIVISION:
        if div in span:
            return verbs
    return DEFAULT_VERBS


def _name_words(div: int | None) -> tuple[str, ...]:
    for span, words in NAME_WORDS_BY_DIVISION:
        if div in span:
            return words
    return ()


def node_items(node: Node, rng: np.random.Generator) -> list[str]:
    """经营范围 items of a node: its keywords, products with a verb, technologies + 技术研发."""
    verbs = _verbs(division(node.industry_codes))
    items = list(node.include)
    for product in node.products:
        for k in rng.choice(len(verbs), size=min(2, len(verbs)), replace=False):
            items.append(product + verbs[int(k)])
    for tech in node.technologies:
        items.append(tech + TECHNOLOGY_SUFFIXES[int(rng.integers(len(TECHNOLOGY_SUFFIXES)))])
    items = list(dict.fromkeys(items))
    rng.shuffle(items)  # consecutive windows of the pool then mix keywords, products, techs
    return items


def build_phrasebook(model: PopulationModel) -> PhraseBook:
    rng = np.random.default_rng([model.seed, 0xB00C])
    cat = model.catalogue
    keywords = cat.keywords
    screens = [
        _Screen(keywords),
        _Screen(keywords | (model.profile.forbidden_tokens if model.profile else frozenset())),
    ]
    demo_tokens = _Screen(model.profile.forbidden_tokens if model.profile else ())
    no_screen = _Screen(())
    forbidden_codes = model.profile.forbidden_codes if model.profile else frozenset()
    text = _Builder()
    code_list: list[str] = []

    def add_codes(codes: Sequence[str]) -> tuple[int, int]:
        start = len(code_list)
        code_list.extend(codes)
        return start, len(codes)

    n_entities = model.n_entities
    pools = {
        k: (np.zeros((2, n_entities), np.int64), np.zeros((2, n_entities), np.int64))
        for k in ("items", "products", "licences", "words", "codes")
    }
    own_licences = np.zeros((2, n_entities), np.int64)
    unrelated_licences = [screens[b].keep(UNRELATED_LICENCES) for b in (NATIONAL, DEMO)]

    def put_licences(book: int, entity: int, own: list[str]) -> None:
        put("licences", book, entity, text.windows(own + unrelated_licences[book]))
        own_licences[book, entity] = len(own)

    def put(kind: str, book: int, entity: int, span: tuple[int, int]) -> None:
        pools[kind][0][book, entity], pools[kind][1][book, entity] = span

    for e, node in enumerate(cat.nodes):
        div = division(node.industry_codes)
        items = node_items(node, rng)
        licences = screens[NATIONAL].keep(LICENCES_BY_DIVISION.get(div or -1, ()), node.include)
        words = screens[NATIONAL].keep(_name_words(div) + GENERIC_NAME_WORDS[:2], node.include)
        for book in (NATIONAL, DEMO):
            screen = demo_tokens if book == DEMO else no_screen
            put("items", book, e, text.windows(screen.keep(items)))
            put("products", book, e, text.windows(screen.keep(node.products)))
            put_licences(book, e, screen.keep(licences))
            put("words", book, e, text.add(screen.keep(words) or ["实业"]))
            codes = [c for c in node.industry_codes if book == NATIONAL or c not in forbidden_codes]
            put("codes", book, e, add_codes(codes))
    for s, sector in enumerate(model.sectors):
        e = cat.size + s
        for book in (NATIONAL, DEMO):
            screen = screens[book]
            put("items", book, e, text.windows(screen.keep(sector.items)))
            put("products", book, e, text.windows(screen.keep(sector.products)))
            put_licences(book, e, screen.keep(sector.licences))
            put("words", book, e, text.add(screen.keep(sector.words) or ["实业"]))
            put("codes", book, e, add_codes(sector.codes))
    sector_codes = sorted({c for s in model.sectors for c in s.codes})
    chain_codes = sorted(cat.codes)

    def per_book(make: Callable[[int], tuple[int, int]]) -> np.ndarray:
        return np.array([make(book) for book in (NATIONAL, DEMO)], dtype=np.int64)

    generic = per_book(lambda b: text.windows(screens[b].keep(GENERIC_ITEMS)))
    unrelated = per_book(lambda b: text.windows(screens[b].keep(UNRELATED_ITEMS)))
    wrong_chain = per_book(
        lambda b: add_codes(
            [c for c in chain_codes + sector_codes if b == NATIONAL or c not in forbidden_codes]
        )
    )
    wrong_other = per_book(lambda b: add_codes(sector_codes))
    region_prefix, _ = text.add(list(model.regions.name_prefix))
    brand = text.add(list(dict.fromkeys(BRAND_CHARS)))
    suffix, _ = text.add(COMPANY_SUFFIXES)
    literal_at = {name: text.add([value])[0] for name, value in LITERALS.items()}

    clean = [normalise(s) for s in text.strings]
    traditional = _converter().convert("\n".join(clean)).split("\n")
    if len(traditional) != len(clean):
        raise RuntimeError("OpenCC changed the number of lines")
    blocks = [
        [sep + s if s else "" for s in form] for form in (clean, traditional) for sep in SEPARATORS
    ]
    return PhraseBook(
        table=pl.Series("phrase", [s for block in blocks for s in block], dtype=pl.String),
        size=len(clean),
        codes=pl.Series("industry_code", code_list, dtype=pl.String),
        items=Pools(*pools["items"]),
        products=Pools(*pools["products"]),
        licences=Pools(*pools["licences"]),
        own_licences=own_licences,
        words=Pools(*pools["words"]),
        own_codes=Pools(*pools["codes"]),
        generic=generic,
        unrelated=unrelated,
        wrong_codes_chain=wrong_chain,
        wrong_codes_other=wrong_other,
        region_prefix=region_prefix,
        brand=brand,
        suffix=suffix,
        tags=_tag_strings(),
        literals=literal_at,
    )


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")  # loading its dictionaries takes a while: once per process


def _tag_strings() -> pl.Series:
    combos: list[str | None] = [None]
    for bits in range(1, 1 << len(TAGS)):
        combos.append(";".join(t for i, t in enumerate(TAGS) if bits >> i & 1))
    return pl.Series("tags", combos, dtype=pl.String)
