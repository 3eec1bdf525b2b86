"""Word indexes the intake scans a report with: region names and chain words.

Both are Aho-Corasick automata (leftmost-longest, so 梧州市 wins over 梧州 and 新能源汽车
over 汽车) built once from reference data: `reference.regions.load_regions` and the atlas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

import ahocorasick_rs
import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.cppcc.intake_lexicon import (
    CHAIN_ALIASES,
    COMMON_WORD_PLACES,
    ETHNIC_GROUPS,
    GENERIC_CHAIN_TERMS,
)
from chainatlas.cppcc.intake_model import RegionLevel, TermLevel

T = TypeVar("T")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


class Lexicon(Generic[T]):
    """Literal words → payloads; `scan` gives non-overlapping leftmost-longest matches."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        payloads: dict[str, list[T]] = {}
        for word, payload in entries:
            if word:
                payloads.setdefault(word, []).append(payload)
        self.words = list(payloads)
        self.payloads = [payloads[w] for w in self.words]
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                self.words, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
            )
            if self.words
            else None
        )

    def scan(self, text: str) -> list[tuple[int, int, str, list[T]]]:
        if self._automaton is None:
            return []
        found = []
        for index, start, end in self._automaton.find_matches_as_indexes(text):
            word = self.words[index]
            # An ASCII word (OLED, MCU) must not sit inside a longer ASCII word.
            if _ASCII_WORD.match(word[0]) and start and _ASCII_WORD.match(text[start - 1]):
                continue
            if _ASCII_WORD.match(word[-1]) and end < len(text) and _ASCII_WORD.match(text[end]):
                continue
            found.append((start, end, word, self.payloads[index]))
        return found


# --- regions ------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: RegionLevel
    parent: str | None
    ancestors: tuple[str, ...]  # parent first, province last


@dataclass(frozen=True)
class PlaceForm:
    """One way a region is written: its full name, or its short name (梧州 for 梧州市)."""

    code: str
    short: bool


_SUFFIXES: dict[str, tuple[str, ...]] = {
    "province": ("特别行政区", "自治区", "省", "市"),
    "city": ("自治州", "地区", "市", "盟"),
    "county": ("自治县", "自治旗", "林区", "特区", "市", "县", "区", "旗"),
}
_ETHNIC_TAIL = re.compile("(?:(?:" + "|".join(ETHNIC_GROUPS) + ")族)+$|维吾尔$")


def short_name(name: str, level: RegionLevel) -> str | None:
    """广西壮族自治区 → 广西, 延边朝鲜族自治州 → 延边, 梧州市 → 梧州; None when too short."""
    for suffix in _SUFFIXES[level]:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if "自治" in suffix:
                stem = _ETHNIC_TAIL.sub("", stem)
            return stem if len(stem) >= 2 and stem != name else None
    return None


@dataclass(frozen=True)
class RegionIndex:
    regions: Mapping[str, Region]
    lexicon: Lexicon[PlaceForm]


def build_region_index(frame: pl.DataFrame) -> RegionIndex:
    """From `load_regions()` columns region_code, name, level, parent_code."""
    parents = dict(frame.select("region_code", "parent_code").iter_rows())
    regions: dict[str, Region] = {}
    entries: list[tuple[str, PlaceForm]] = []
    for code, name, level, parent in frame.select(
        "region_code", "name", "level", "parent_code"
    ).iter_rows():
        chain: list[str] = []
        cursor = parent
        while cursor is not None and cursor not in chain:
            chain.append(cursor)
            cursor = parents.get(cursor)
        regions[code] = Region(code, name, level, parent, tuple(chain))
        entries.append((name, PlaceForm(code, short=False)))
        short = short_name(name, level)
        if short and not (level == "city" and short in COMMON_WORD_PLACES):
            entries.append((short, PlaceForm(code, short=True)))
    return RegionIndex(regions, Lexicon(entries))


@cache
def default_region_index() -> RegionIndex:
    from chainatlas.reference.regions import load_regions

    return build_region_index(load_regions())


# --- chains -------------------------------------------------------------------


@dataclass(frozen=True)
class ChainTerm:
    chain_id: str
    level: TermLevel
    node_id: str | None


_LEVEL_RANK: dict[TermLevel, int] = {"chain": 0, "node": 1, "keyword": 2}
_NAME_PARTS = re.compile(r"[（）()、/与和及]")
_PAREN = re.compile(r"[（(]([^）)]*)[）)]")


def _chain_terms(chain: Chain) -> Iterable[tuple[str, ChainTerm]]:
    def at(level: TermLevel, node: str | None = None) -> ChainTerm:
        return ChainTerm(chain.id, level, node)

    yield chain.name_zh, at("chain")
    for part in _NAME_PARTS.split(chain.name_zh):
        if len(part) >= 2:
            yield part, at("chain")
    for alias in CHAIN_ALIASES.get(chain.id, ()):
        yield alias, at("chain")
    for node in chain.nodes:
        yield node.name_zh, at("node", node.id)
        base = _PAREN.sub("", node.name_zh).strip()
        if len(base) >= 2:
            yield base, at("node", node.id)
        inner = [item for group in _PAREN.findall(node.name_zh) for item in group.split("、")]
        parts = [p for p in _NAME_PARTS.split(base) if p != base]
        for word in (*inner, *parts):
            if len(word) >= 3:
                yield word, at("keyword", node.id)
        for word in (*node.products, *node.include):
            if len(word) >= 2:
                yield word, at("keyword", node.id)


@dataclass(frozen=True)
class ChainIndex:
    lexicon: Lexicon[ChainTerm]
    # each chain's own names and aliases: a keyword holding one (中药材种植 holds 中药材)
    # names the chain as surely as the name itself
    chain_words: Mapping[str, frozenset[str]]


def build_chain_index(atlas: Mapping[str, Chain]) -> ChainIndex:
    """Chain words; a word claimed at several levels keeps only its most specific claim
    (新能源汽车 is the chain's name, not a keyword of the battery chain's users)."""
    best: dict[str, list[ChainTerm]] = {}
    chain_words: dict[str, set[str]] = {}
    for chain in atlas.values():
        for word, term in _chain_terms(chain):
            if term.level == "keyword" and word in GENERIC_CHAIN_TERMS:
                continue
            if term.level == "chain":
                chain_words.setdefault(chain.id, set()).add(word)
            claims = best.setdefault(word, [])
            if claims and _LEVEL_RANK[term.level] > _LEVEL_RANK[claims[0].level]:
                continue
            if claims and _LEVEL_RANK[term.level] < _LEVEL_RANK[claims[0].level]:
                claims.clear()
            if all(c.chain_id != term.chain_id for c in claims):
                claims.append(term)
    return ChainIndex(
        Lexicon((word, term) for word, terms in best.items() for term in terms),
        {chain_id: frozenset(words) for chain_id, words in chain_words.items()},
    )


@cache
def default_chain_index() -> tuple[Mapping[str, Chain], ChainIndex]:
    from chainatlas.atlas import load_atlas

    atlas = load_atlas()
    return atlas, build_chain_index(atlas)
