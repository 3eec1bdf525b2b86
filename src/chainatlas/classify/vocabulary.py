"""The matching vocabulary derived from the atlas: keywords, exclusions, industry-code rules.

Everything the classifier joins on is an integer id (keyword, node) so that the per-hit work
on millions of rows stays on integer columns; strings come back only for the output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import pyarrow as pa

from chainatlas.atlas.model import Chain

# a keyword naming one of these (药品批发, 碳酸钙销售, 稻谷收购, 塔吊租赁) is a business dealing
# in goods made elsewhere: trade, hire, or serving them over the counter (堂食, 现制现售)
TRADE_VERBS = [
    "零售",
    "批发",
    "销售",
    "经销",
    "购销",
    "分销",
    "代销",
    "收购",
    "贸易",
    "租赁",
    "出租",
    "堂食",
    "外卖",
    "小餐饮",
    "制售",
]


@dataclass(frozen=True)
class Vocabulary:
    """Frames the classifier joins against.

    patterns: every distinct keyword (ASCII upper-cased); a keyword's id is its index here
    nodes:    node_idx, chain_id, node_id
    keywords: kw_id, node_idx, exclude (bool) — one row per (keyword, node) pair; a keyword
              listed as both include and product of a node counts once
    codes:    industry_code, node_idx, defining (the code alone places a firm on the node),
              unique_in_chain (it is the only node of its chain defined by that code)
    parents:  node_idx (a child), parent_idx
    contained: kw_id, container_id, times — a positive keyword found `times` times (overlapping)
              inside a longer keyword: the longest keyword names the business, so an occurrence
              inside the longer one is no evidence of its own (糖仓储 in 食糖仓储, 冷藏车 in
              冷藏车运输, 光刻胶 in 彩色光刻胶, 驱动芯片 in 显示驱动芯片, 冷库 in the exclude
              phrase 冷库维修)
    """

    patterns: list[str]
    nodes: pl.DataFrame
    keywords: pl.DataFrame
    codes: pl.DataFrame
    parents: pl.DataFrame
    contained: pl.DataFrame

    @property
    def pattern_ids(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.patterns)}

    @cached_property
    def lookup(self) -> Lookup:
        """The same rules as integer arrays, built once per vocabulary."""
        return _lookup(self)


@dataclass(frozen=True)
class Lookup:
    """The vocabulary's frames as dense integer arrays for the per-hit work of the classifier.

    A *pair* is one row of `keywords` — (node, keyword, exclude) — numbered in (node, keyword,
    exclude) order, so that sorting by pair id groups by node and orders each node's keywords.
    keyword → pairs is CSR: the pairs of keyword k are `kw_pairs[kw_start[k]:kw_start[k + 1]]`;
    `kw_first_pair` is the first of them, enough for keywords of one pair (most of them).
    `contains_start` / `contains_kw` / `contains_times` list, by keyword, the shorter positive
    keywords inside it and how many times; `has_container` / `is_container_kw` flag keywords
    found inside a longer one / containing a shorter one.
    `pattern_bytes` is each keyword's length in UTF-8 bytes (an ASCII case-insensitive match
    has the keyword's length). `code_categories` is an Enum over the known industry codes; a code's physical index c
    (unknown codes: `len(codes)`) indexes `code_agrees[node, c]` and the CSR `code_only_start` /
    `code_only_node` of the nodes the code alone places a firm on (defining and unique in its
    chain). `parent_of[node]` is the parent node or −1.
    Evidence pieces: `evidence_words[k]` is keyword k, `evidence_words[n_keywords + k]` is
    "kw:" + keyword k (the first of a list); `evidence_codes[m · (len(codes) + 1) + c]` is what
    method m (0 code, 1 keyword, 2 keyword+code) appends for code c: "code:c", "", ";code:c".
    """

    n_keywords: int
    n_nodes: int
    n_pairs: int
    node_bits: int  # bits that hold a node id / a pair id in the classifier's packed keys
    pair_bits: int
    pattern_enum: pl.Enum
    pattern_bytes: np.ndarray
    pair_node: np.ndarray
    pair_kw: np.ndarray
    pair_exclude: np.ndarray
    kw_start: np.ndarray
    kw_pairs: np.ndarray
    kw_first_pair: np.ndarray
    kw_single: np.ndarray
    has_container: np.ndarray
    is_container_kw: np.ndarray
    contains_start: np.ndarray
    contains_kw: np.ndarray
    contains_times: np.ndarray
    parent_of: np.ndarray
    code_categories: pl.Enum
    evidence_words: pa.Array
    evidence_codes: pa.Array
    code_agrees: np.ndarray
    code_only_start: np.ndarray
    code_only_node: np.ndarray
    trade_keyword: np.ndarray  # per keyword: it names a trade (TRADE_VERBS)
    pattern_ascii: np.ndarray  # per keyword: it has Latin letters (matched case-insensitively)
    node_trades: np.ndarray  # per node: it lists a wholesale or retail class (GB/T 4754 51, 52)


def _csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group `values` by integer `keys` in [0, n): (start offsets of length n + 1, values)."""
    order = np.argsort(keys, kind="stable")
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=start[1:])
    return start, values[order]


def _int64(series: pl.Series) -> np.ndarray:
    return series.to_numpy().astype(np.int64)


def _lookup(vocab: Vocabulary) -> Lookup:
    n_kw, n_nodes = len(vocab.patterns), vocab.nodes.height
    pairs = vocab.keywords.sort("node_idx", "kw_id", "exclude")
    pair_node, pair_kw = _int64(pairs["node_idx"]), _int64(pairs["kw_id"])
    n_pairs = pairs.height
    kw_start, kw_pairs = _csr(pair_kw, np.arange(n_pairs), n_kw)
    kw_first_pair = np.zeros(n_kw, dtype=np.int64)
    has_pairs = np.diff(kw_start) > 0
    kw_first_pair[has_pairs] = kw_pairs[kw_start[:-1][has_pairs]]
    container_kw = _int64(vocab.contained["container_id"])
    contains_start, contains_order = _csr(container_kw, np.arange(len(container_kw)), n_kw)
    parent_of = np.full(n_nodes, -1, dtype=np.int64)
    parent_of[vocab.parents["node_idx"].to_numpy()] = vocab.parents["parent_idx"].to_numpy()
    codes = vocab.codes
    code_list = sorted(set(codes["industry_code"].to_list()))
    code_categories = pl.Enum(code_list)
    code_idx = _int64(codes["industry_code"].cast(code_categories).to_physical())
    node_idx = _int64(codes["node_idx"])
    # one extra column for codes outside the atlas: never agrees, never places
    code_agrees = np.zeros((n_nodes, len(code_list) + 1), dtype=bool)
    code_agrees[node_idx, code_idx] = True
    only = (codes["defining"] & codes["unique_in_chain"]).to_numpy()
    code_texts = [*code_list, ""]
    evidence_codes = pa.array(
        [f"code:{c}" if c else "" for c in code_texts]
        + [""] * len(code_texts)
        + [f";code:{c}" if c else "" for c in code_texts],
        pa.large_string(),
    )
    code_only_start, code_only_node = _csr(code_idx[only], node_idx[only], len(code_list) + 1)
    return Lookup(
        n_keywords=n_kw,
        n_nodes=n_nodes,
        n_pairs=n_pairs,
        node_bits=max(1, (n_nodes - 1).bit_length()),
        pair_bits=max(1, (n_pairs - 1).bit_length()),
        pattern_enum=pl.Enum(vocab.patterns),
        pattern_bytes=np.array([len(p.encode()) for p in vocab.patterns], dtype=np.int64),
        pair_node=pair_node,
        pair_kw=pair_kw,
        pair_exclude=pairs["exclude"].to_numpy(),
        kw_start=kw_start,
        kw_pairs=kw_pairs,
        kw_first_pair=kw_first_pair,
        kw_single=np.diff(kw_start) == 1,
        has_container=np.isin(np.arange(n_kw), _int64(vocab.contained["kw_id"])),
        is_container_kw=np.diff(contains_start) > 0,
        contains_start=contains_start,
        contains_kw=_int64(vocab.contained["kw_id"])[contains_order],
        contains_times=_int64(vocab.contained["times"])[contains_order],
        parent_of=parent_of,
        code_categories=code_categories,
        evidence_words=pa.array(
            vocab.patterns + [f"kw:{p}" for p in vocab.patterns], pa.large_string()
        ),
        evidence_codes=evidence_codes,
        code_agrees=code_agrees,
        code_only_start=code_only_start,
        code_only_node=code_only_node,
        node_trades=np.isin(
            np.arange(n_nodes),
            codes.filter(pl.col("industry_code").str.contains("^5[12]"))["node_idx"].to_numpy(),
        ),
        pattern_ascii=np.array([any("A" <= c <= "Z" for c in p) for p in vocab.patterns]),
        trade_keyword=np.array(
            [any(v in p for v in TRADE_VERBS) for p in vocab.patterns], dtype=np.float64
        ),
    )


def _contained(patterns: list[str], positive: set[int]) -> pl.DataFrame:
    """Positive keywords found inside longer keywords — positive ones, or exclude phrases, which
    name a confusable context (冷库 in 冷库维修, 疫苗 in 兽用疫苗): kw_id, container_id, times."""
    words = [patterns[i] for i in sorted(positive)]
    found = pl.Series(patterns).str.extract_many(words, overlapping=True).to_list()
    ids = {w: i for i, w in enumerate(patterns)}
    rows = [
        (ids[shorter], container, times)
        for container, inside in enumerate(found)
        for shorter, times in Counter(inside).items()
        if ids[shorter] != container
    ]
    return pl.DataFrame(
        rows,
        schema={"kw_id": pl.UInt32, "container_id": pl.UInt32, "times": pl.UInt32},
        orient="row",
    )


def build_vocabulary(atlas: Mapping[str, Chain]) -> Vocabulary:
    node_rows = [(c.id, n.id) for c in atlas.values() for n in c.nodes]
    node_index = {key: i for i, key in enumerate(node_rows)}
    word_rows: list[tuple[str, int, bool]] = []
    code_rows: list[tuple[str, int, bool, str]] = []
    parent_rows: list[tuple[int, int]] = []
    for chain in atlas.values():
        for node in chain.nodes:
            idx = node_index[(chain.id, node.id)]
            for words, exclude in (
                (node.include, False),
                (node.products, False),
                (node.exclude, True),
            ):
                word_rows.extend((w.strip().upper(), idx, exclude) for w in words if w.strip())
            code_rows.extend(
                (c, idx, c in node.defining_codes, chain.id) for c in node.industry_codes
            )
            if node.parent:
                parent_rows.append((idx, node_index[(chain.id, node.parent)]))
    patterns = sorted({w for w, _, _ in word_rows})
    # the classifier packs (row, (node, keyword) pair) into one 64-bit key: bounded ids
    if len(patterns) >= 65536 or len(node_rows) >= 65536:
        raise ValueError("图谱过大 / atlas too large: at most 65,535 nodes and 65,535 keywords")
    ids = {p: i for i, p in enumerate(patterns)}
    keywords = pl.DataFrame(
        [(ids[w], idx, ex) for w, idx, ex in word_rows],
        schema={"kw_id": pl.UInt32, "node_idx": pl.UInt32, "exclude": pl.Boolean},
        orient="row",
    ).unique(maintain_order=True)
    codes = pl.DataFrame(
        code_rows,
        schema={
            "industry_code": pl.String,
            "node_idx": pl.UInt32,
            "defining": pl.Boolean,
            "chain_id": pl.String,
        },
        orient="row",
    ).unique()
    codes = codes.with_columns(
        (pl.col("defining").cast(pl.Int32).sum().over("industry_code", "chain_id") == 1).alias(
            "unique_in_chain"
        )
    ).drop("chain_id")
    return Vocabulary(
        patterns=patterns,
        nodes=pl.DataFrame(
            {
                "node_idx": pl.Series(range(len(node_rows)), dtype=pl.UInt32),
                "chain_id": [c for c, _ in node_rows],
                "node_id": [n for _, n in node_rows],
            }
        ),
        keywords=keywords,
        codes=codes,
        parents=pl.DataFrame(
            parent_rows, schema={"node_idx": pl.UInt32, "parent_idx": pl.UInt32}, orient="row"
        ),
        contained=_contained(patterns, set(keywords.filter(~pl.col("exclude"))["kw_id"].to_list())),
    )
