"""Assign enterprises to chain nodes.

Evidence per (enterprise, chain, node):
- a node keyword (include or product) found in `products` weighs `product_keyword`,
  found in `business_scope` weighs `scope_keyword`; distinct keywords combine by noisy-or
  (1 − Π(1 − wᵢ)), so more independent evidence raises the score without passing 1;
- the longest keyword names the business: an occurrence inside a longer keyword (of any
  node, or an exclude phrase) is no evidence of its own (冷藏车 in 冷藏车运输, 光刻胶 in
  彩色光刻胶, 冷库 in 冷库维修) — counted per field, not located;
- an exclude keyword standing apart (糖果 beside 白砂糖) voids a node resting on one keyword;
- the firm's industry code among the node's codes adds `code_agrees` to keyword evidence;
- goods named only in trade-only clauses of the scope (文具用品、复印纸零售) are traded, not
  made: an assignment resting on such business-scope keywords alone is dropped, unless a
  keyword names the trade itself (药品批发) or the node lists a wholesale or retail class;
- text outranks codes: a firm with no keyword evidence on any chain is assigned by its code
  alone (`code_only`) to a node that declares the code as defining (a class whose whole
  content is the node, e.g. 0133 糖料种植) and is the only such node of its chain. Broad
  classes (7452 检测服务) never assign on their own.
- the most specific node wins: a firm placed on a child node (MCU design) is not also placed
  on its parent (chip design);
- a lone mention is ancillary: an assignment resting on a single business-scope keyword is
  dropped when another assignment of the same firm is at least as well supported on keywords
  and on the industry code and better on one — scopes list licensed side activities (药品批发,
  低温仓储, 中药材收购) beside the main business, and the main business is what places a firm
  on a chain; when a firm has only lone mentions, the one named first wins.
Assignments below `min_score` are dropped. One firm may sit on several nodes.

How it runs: one Aho-Corasick pass per text column (Polars `str.extract_many`), hits cast to
keyword ids through an Enum, then every rule on integer numpy arrays sorted by one packed key
(row, node, keyword): grouping is a scan over sorted keys, joins are CSR gathers or binary
searches. Only the few firms an exclusion touches are rescanned with positions, only the
scopes of firms whose evidence may be traded goods are split into clauses, and strings are
built only for the assignments kept. Firms are independent, so a large frame is split
into contiguous row ranges classified in parallel threads (Polars, numpy and pyarrow release
the GIL); the output is the same for any split.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from chainatlas.classify.vocabulary import TRADE_VERBS as VOCABULARY_TRADE_VERBS
from chainatlas.classify.vocabulary import Lookup, Vocabulary
from chainatlas.settings import ClassifyWeights

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "chain_id": pl.String(),
    "node_id": pl.String(),
    "score": pl.Float64(),
    "method": pl.String(),
    "evidence": pl.String(),
}

TEXT_COLUMNS = ("products", "business_scope")  # field 0, field 1
K = ["_row", "node_idx"]
METHODS = ("code", "keyword", "keyword+code")  # method ids 0, 1, 2
# each part pays fixed costs (automaton builds, ~70 ms CPU): below this many rows per
# thread, splitting costs more than it saves when the other core is busy
MIN_ROWS_PER_THREAD = 200_000
_NOT_FOUND = 1 << 30
# a clause of the business scope that names one of these and none of WORK_VERBS only trades
# the goods it lists; clauses end at these marks
TRADE_VERBS = list(VOCABULARY_TRADE_VERBS)
WORK_VERBS = [
    "生产",
    "制造",
    "加工",
    "研发",
    "研制",
    "开发",
    "种植",
    "养殖",
    "培育",
    "繁育",
    "育苗",
    "开采",
    "采伐",
    "采集",
    "冶炼",
    "提取",
    "制作",
    "制备",
    "组装",
    "装配",
    "改装",
    "设计",
    "施工",
    "安装",
    "维修",
    "修理",
    "服务",
    "运输",
    "仓储",
    "配送",
    "回收",
    "检测",
    "检验",
    "压榨",
    "精炼",
    "烘干",
    "屠宰",
    "印刷",
    "处理",
    "利用",
    "运营",
    "经营",
    "建设",
    "培训",
    "咨询",
    "推广",
]
CLAUSE_BREAK = "[；;。\\n]"
# catering serves the goods it lists over the counter: the 服务 of 餐饮服务 is no work on them
# (餐饮服务（桂林米粉、卤菜、小吃制售） is a noodle shop, not a noodle maker)
SERVING = "餐饮服务"


def _ranges(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated index ranges [start_i, stop_i): (i of each index, the index)."""
    counts = stop - start
    owner = np.repeat(np.arange(len(start)), counts)
    first = np.cumsum(counts) - counts
    index = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first - start, counts)
    return owner, index


def _present(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which `keys` occur in the sorted `sorted_keys`, and where (the first equal position)."""
    at = np.searchsorted(sorted_keys, keys)
    inside = at < len(sorted_keys)
    found = np.zeros(len(keys), dtype=bool)
    found[inside] = sorted_keys[at[inside]] == keys[inside]
    return found, at


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Start offsets of the runs of equal values in sorted `keys`."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _keyword_ids(words: pl.Series, lookup: Lookup) -> np.ndarray:
    """Matched text → keyword ids; only ASCII hits in another case need upper-casing."""
    ids = words.cast(lookup.pattern_enum, strict=False)
    missing = ids.is_null()
    out = ids.to_physical().fill_null(0).to_numpy().astype(np.int64)
    if missing.any():
        fixed = words.filter(missing).str.to_uppercase().cast(lookup.pattern_enum)
        out[missing.to_numpy()] = fixed.to_physical().to_numpy()
    return out


@dataclass(frozen=True)
class _Packing:
    """One int64 key per keyword hit: row, pair and field bit side by side in bit fields,
    pair = (node, keyword, exclude) numbered in that order, bit = 1 when found in the field of
    the larger weight. Sorting the keys groups hits by firm, then node, then keyword, and puts
    the heavier field last in each keyword's run; fields come back by shifts and masks."""

    pair_bits: int
    heavier: int  # the field whose keywords weigh more (0 products, 1 business_scope)

    @property
    def row_shift(self) -> int:
        return self.pair_bits + 1

    def row(self, keys: np.ndarray) -> np.ndarray:
        return keys >> self.row_shift

    def pair(self, keys: np.ndarray) -> np.ndarray:
        return (keys >> 1) & ((1 << self.pair_bits) - 1)


def _firm_node(row: np.ndarray, node: np.ndarray, lookup: Lookup) -> np.ndarray:
    """One sortable int64 key per (row, node)."""
    return (row << lookup.node_bits) | node


@dataclass
class _Scan:
    """What one automaton pass per text column found.

    packed / exclude: one key per (occurrence, pair of its keyword), see `_Packing`;
    occurrences: per field, the row and keyword id of every occurrence in text order.
    """

    packed: np.ndarray
    exclude: np.ndarray
    occurrences: list[tuple[np.ndarray, np.ndarray]]


def _scan(frame: pl.DataFrame, vocab: Vocabulary, packing: _Packing) -> _Scan:
    """Keyword occurrences in the text columns — one automaton pass per column, the columns
    in parallel — one key per (node, exclude) pair of the keyword."""
    lookup = vocab.lookup
    found = frame.select(
        pl.col(c).str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
        for c in TEXT_COLUMNS
    )
    all_rows = np.arange(frame.height, dtype=np.int64)
    bases, pairs, occurrences = [], [], []
    for field, column in enumerate(TEXT_COLUMNS):
        lists = found.get_column(column)
        kw = _keyword_ids(lists.explode(empty_as_null=False, keep_nulls=False), lookup)
        row = np.repeat(all_rows, lists.list.len().fill_null(0).to_numpy())
        occurrences.append((row, kw))
        base = (row << packing.row_shift) | int(field == packing.heavier)
        inside = _inside_longer(row, kw, lookup)
        single = lookup.kw_single[kw]
        if single.all() and not inside.any():
            bases.append(base)
            pairs.append(lookup.kw_first_pair[kw])
            continue
        one = np.flatnonzero(single)
        field_pairs = [lookup.kw_first_pair[kw[one]]]
        owners = [one]
        # keywords of several nodes (or include here, exclude there): one key per pair
        several = np.flatnonzero(~single)
        hit, at = _ranges(lookup.kw_start[kw[several]], lookup.kw_start[kw[several] + 1])
        field_pairs.append(lookup.kw_pairs[at])
        owners.append(several[hit])
        pair, owner = np.concatenate(field_pairs), np.concatenate(owners)
        # an occurrence inside a longer keyword is no positive evidence; exclusions still act
        keep = ~inside[owner] | lookup.pair_exclude[pair]
        bases.append(base[owner[keep]])
        pairs.append(pair[keep])
    pair = np.concatenate(pairs)
    packed = np.concatenate(bases) | (pair << 1)
    return _Scan(packed, lookup.pair_exclude[pair], occurrences)


def _inside_longer(row: np.ndarray, kw: np.ndarray, lookup: Lookup) -> np.ndarray:
    """Per occurrence (row, keyword id) of one text field: whether every occurrence of that
    keyword in the field lies inside an occurrence of a longer keyword — counted, not located:
    a keyword found n times where its containers account for at least n of its occurrences
    (冷藏车 twice, 冷藏车运输 twice) is void; one standing outside them all still counts."""
    inside = np.zeros(len(kw), dtype=bool)
    container = lookup.is_container_kw[kw]
    if not container.any():
        return inside
    # only rows where some longer keyword occurs at all
    with_container = np.zeros(int(row[-1]) + 1, dtype=bool)
    with_container[row[container]] = True
    involved = np.flatnonzero(with_container[row] & (lookup.has_container[kw] | container))
    keys, first_of, counts = np.unique(
        (row[involved] << 16) | kw[involved], return_inverse=True, return_counts=True
    )
    # each (row, longer keyword) accounts for its count × times occurrences of each shorter one
    longer = np.flatnonzero(lookup.is_container_kw[keys & 0xFFFF])
    longer_kw = keys[longer] & 0xFFFF
    owner, index = _ranges(lookup.contains_start[longer_kw], lookup.contains_start[longer_kw + 1])
    found, at = _present(keys, ((keys[longer] >> 16)[owner] << 16) | lookup.contains_kw[index])
    covered = np.bincount(
        at[found],
        (counts[longer][owner] * lookup.contains_times[index])[found],
        minlength=len(keys),
    )
    void = covered >= counts
    inside[involved] = void[first_of]
    return inside


def _spans(frame: pl.DataFrame, rows: np.ndarray, scan: _Scan, vocab: Vocabulary) -> pl.DataFrame:
    """Byte spans of the keyword occurrences in the given (sorted) rows: _row, kw_id, field,
    start, end. Only positions are searched again: `find_many` reports the occurrences in
    the order `extract_many` did, so the keyword ids come from the first pass."""
    lookup = vocab.lookup
    wanted = np.zeros(frame.height, dtype=bool)
    wanted[rows] = True
    subset = frame[rows]
    parts = []
    for field, (row, kw) in enumerate(scan.occurrences):
        start = (
            subset.get_column(TEXT_COLUMNS[field])
            .str.find_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
            .explode(empty_as_null=False, keep_nulls=False)
            .cast(pl.Int64)
            .to_numpy()
        )
        mine = wanted[row]
        kw_mine = kw[mine]
        if len(start) != len(kw_mine):  # the two passes disagree: a bug, never an input error
            raise RuntimeError("keyword positions do not line up with the keywords found")
        parts.append(
            pl.DataFrame(
                {
                    "_row": row[mine],
                    "kw_id": pl.Series(kw_mine, dtype=pl.UInt32),
                    "field": pl.Series(np.full(len(start), field), dtype=pl.Int8),
                    "start": start,
                    "end": start + lookup.pattern_bytes[kw_mine],
                }
            )
        )
    return pl.concat(parts)


def _apply_exclusions(
    spans: pl.DataFrame, positive: pl.DataFrame, vocab: Vocabulary
) -> pl.DataFrame:
    """Drop keyword hits voided by exclude keywords, using occurrence spans of the firms
    where an exclude keyword meets positive evidence for the same node."""
    spans = spans.join(vocab.keywords, on="kw_id")
    pos = spans.filter(~pl.col("exclude"))
    neg = spans.filter(pl.col("exclude"))
    pairs = pos.join(neg, on=[*K, "field"], suffix="_x")
    inside = (pl.col("start") >= pl.col("start_x")) & (pl.col("end") <= pl.col("end_x"))
    contained = pairs.filter(inside)
    # every occurrence of a keyword sits inside an exclude phrase → the keyword is void
    occurrences = pos.group_by(*K, "field", "kw_id").agg(pl.len().alias("n"))
    voided = (
        contained.select(*K, "field", "kw_id", "start")
        .unique()
        .group_by(*K, "field", "kw_id")
        .agg(pl.len().alias("n_inside"))
        .join(occurrences, on=[*K, "field", "kw_id"])
        .filter(pl.col("n_inside") >= pl.col("n"))
        .select(*K, "field", "kw_id")
    )
    # an exclude phrase containing no node keyword stands apart: the firm may be the
    # confusable trade…
    apart = (
        neg.join(
            contained.select(
                *K, "field", pl.col("start_x").alias("start"), pl.col("kw_id_x").alias("kw_id")
            ).unique(),
            on=[*K, "field", "start", "kw_id"],
            how="anti",
        )
        .select(K)
        .unique()
    )
    positive = positive.join(voided, on=[*K, "field", "kw_id"], how="anti")
    # …unless several distinct keywords name the node: then it is real business beside it
    lone = positive.group_by(K).agg(pl.col("kw_id").n_unique().alias("n")).filter(pl.col("n") <= 1)
    return positive.join(apart.join(lone.select(K), on=K), on=K, how="anti")


def _without_exclusions(
    frame: pl.DataFrame, scan: _Scan, vocab: Vocabulary, packing: _Packing
) -> np.ndarray:
    """The positive hits that count, as sorted packed keys: exclude hits removed, and
    in the firms where an exclude keyword meets positive evidence for the same node, the
    occurrences it voids."""
    lookup = vocab.lookup
    packed, exclude = scan.packed, scan.exclude
    if not exclude.any():
        packed.sort()
        return packed
    positive = packed[~exclude]
    positive.sort()
    negative = packed[exclude]

    def firm_node(keys: np.ndarray, row: np.ndarray) -> np.ndarray:
        return _firm_node(row, lookup.pair_node[packing.pair(keys)], lookup)

    # only firms with an exclude hit can be touched: narrow to them before any key search
    negative_row = packing.row(negative)
    has_negative = np.zeros(frame.height, dtype=bool)
    has_negative[negative_row] = True
    positive_row = packing.row(positive)
    near = np.flatnonzero(has_negative[positive_row])
    # pairs are numbered node first, so the firm-node keys of sorted hits are sorted too
    touching, _ = _present(
        firm_node(positive[near], positive_row[near]), firm_node(negative, negative_row)
    )
    touched_rows = np.unique(negative_row[touching])
    if not len(touched_rows):
        return positive
    touched = np.zeros(frame.height, dtype=bool)
    touched[touched_rows] = True
    at = near[touched[positive_row[near]]]
    mine = positive[at]
    pair = packing.pair(mine)
    kept = _apply_exclusions(
        _spans(frame, touched_rows, scan, vocab),
        pl.DataFrame(
            {
                "_row": positive_row[at],
                "node_idx": pl.Series(lookup.pair_node[pair], dtype=pl.UInt32),
                "kw_id": pl.Series(lookup.pair_kw[pair], dtype=pl.UInt32),
                "field": pl.Series(
                    np.where(mine & 1, packing.heavier, 1 - packing.heavier), dtype=pl.Int8
                ),
                "_at": at,
            }
        ),
        vocab,
    )
    keep = np.ones(len(positive), dtype=bool)
    keep[at] = False
    keep[kept.get_column("_at").to_numpy()] = True
    return positive[keep]


def _noisy_or(n_light: np.ndarray, n_heavy: np.ndarray, light: float, heavy: float) -> np.ndarray:
    """1 − Π(1 − wᵢ) over n_light keywords of the lighter weight and n_heavy of the heavier.

    Computed as 1 − exp(Σ log(1 − wᵢ)) with Polars' log and exp and a Kahan-compensated sum,
    as Polars' group-by sum is: with the lighter terms first it gives bit for bit the scores
    of the Polars aggregation this replaces (a plain sum differs in the last bit, 0.879 →
    0.8789999999999999). There are only two weights, so the score depends on the two counts
    alone and is read from a small table.
    """
    if not len(n_light):
        return np.zeros(0)
    log_light, log_heavy = pl.Series([1 - light, 1 - heavy]).log().to_list()
    # running Kahan state after l lighter terms, for every l, then h heavier ones on top
    total = np.zeros(int(n_light.max()) + 1)
    compensation = np.zeros_like(total)
    for count in range(1, len(total)):
        y = log_light - compensation[count - 1]
        total[count] = total[count - 1] + y
        compensation[count] = (total[count] - total[count - 1]) - y
    table = np.zeros((len(total), int(n_heavy.max()) + 1))
    table[:, 0] = total
    for count in range(1, table.shape[1]):
        y = log_heavy - compensation
        step = total + y
        compensation = (step - total) - y
        total = step
        table[:, count] = total
    scores = (1 - pl.Series(table.ravel()).exp()).to_numpy()
    return scores[n_light * table.shape[1] + n_heavy]


@dataclass
class _Evidence:
    """The keywords that count, sorted by (row, node, keyword), grouped by (row, node)."""

    kw: np.ndarray  # keyword id, per counted keyword
    group_key: np.ndarray  # _firm_node key, per group (sorted, unique)
    group_start: np.ndarray  # offsets into kw, length n_groups + 1
    kw_score: np.ndarray  # noisy-or of the group's keywords
    scope_only: np.ndarray  # per group: every keyword was found in the business scope alone


def _keyword_evidence(
    frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights
) -> _Evidence:
    """The keywords that count, one per (row, node, keyword) with its larger weight, and the
    noisy-or score per (row, node).

    An exclude keyword that contains a node keyword occurrence (白砂糖批发 ⊃ 白砂糖) cancels
    that occurrence only; one that stands apart (糖果 beside 白砂糖) marks the text as the
    confusable trade and cancels the node's keyword evidence when that evidence is a single
    keyword. A keyword found several times or in both fields counts once, with its larger
    weight, and one found only inside a longer keyword (糖仓储 in 食糖仓储, 光刻胶 in 彩色光刻胶)
    not at all.
    """
    lookup = vocab.lookup
    field_weight = np.array([weights.product_keyword, weights.scope_keyword])
    packing = _Packing(lookup.pair_bits, heavier=int(np.argmax(field_weight)))
    packed = _without_exclusions(frame, _scan(frame, vocab, packing), vocab, packing)
    # the last key of a (row, pair) run carries the run's largest weight
    last = np.r_[(packed[1:] >> 1) != (packed[:-1] >> 1), True] if len(packed) else packed > 0
    heavy = (packed[last] & 1).astype(bool)
    if packing.heavier == 0:
        in_products = heavy
    else:  # the first key of a run is in products when any of its occurrences is
        first = np.r_[True, last[:-1]] if len(packed) else last
        in_products = (packed[first] & 1) == 0
    distinct = packed[last] >> 1  # row and pair
    pair = distinct & ((1 << lookup.pair_bits) - 1)
    key = _firm_node(distinct >> lookup.pair_bits, lookup.pair_node[pair], lookup)
    kw = lookup.pair_kw[pair]
    starts = _group_starts(key)
    size = np.diff(np.r_[starts, len(key)])
    n_heavy = np.add.reduceat(heavy.astype(np.int64), starts) if len(starts) else size
    kw_score = _noisy_or(
        size - n_heavy,
        n_heavy,
        field_weight[1 - packing.heavier],
        field_weight[packing.heavier],
    )
    n_products = np.add.reduceat(in_products.astype(np.int64), starts) if len(starts) else size
    return _Evidence(kw, key[starts], np.r_[starts, len(key)], kw_score, n_products == 0)


@dataclass
class _Assigned:
    """Assignments as arrays sorted by (row, node); `group` indexes the evidence groups
    (−1: placed by code alone)."""

    row: np.ndarray
    node: np.ndarray
    score: np.ndarray
    method: np.ndarray
    group: np.ndarray

    def take(self, mask: np.ndarray) -> _Assigned:
        return _Assigned(
            self.row[mask], self.node[mask], self.score[mask], self.method[mask], self.group[mask]
        )


def _assign(
    code_idx: np.ndarray, evidence: _Evidence, lookup: Lookup, weights: ClassifyWeights
) -> _Assigned:
    """Keyword and code-only assignments, sorted by (row, node)."""
    row = evidence.group_key >> lookup.node_bits
    node = evidence.group_key & ((1 << lookup.node_bits) - 1)
    agrees = lookup.code_agrees[node, code_idx[row]]
    score = np.where(
        agrees, 1 - (1 - evidence.kw_score) * (1 - weights.code_agrees), evidence.kw_score
    )
    keep = score >= weights.min_score
    by_keyword = _Assigned(
        row[keep],
        node[keep],
        score[keep],
        np.where(agrees[keep], 2, 1),
        np.flatnonzero(keep),
    )
    if weights.code_only < weights.min_score:
        return by_keyword
    # text outranks codes: only firms without a keyword assignment are placed by code
    has_keyword = np.zeros(len(code_idx), dtype=bool)
    has_keyword[by_keyword.row] = True
    rows = np.flatnonzero(~has_keyword)
    codes = code_idx[rows]
    owner, index = _ranges(lookup.code_only_start[codes], lookup.code_only_start[codes + 1])
    if not len(index):
        return by_keyword
    n = len(index)
    both = _Assigned(
        np.r_[by_keyword.row, rows[owner]],
        np.r_[by_keyword.node, lookup.code_only_node[index]],
        np.r_[by_keyword.score, np.full(n, weights.code_only)],
        np.r_[by_keyword.method, np.zeros(n, dtype=np.int64)],
        np.r_[by_keyword.group, np.full(n, -1)],
    )
    # two sorted runs: a stable sort merges them
    return both.take(np.argsort(_firm_node(both.row, both.node, lookup), kind="stable"))


def _without_traded_goods(
    out: _Assigned, evidence: _Evidence, frame: pl.DataFrame, vocab: Vocabulary
) -> _Assigned:
    """A good the business scope names only in clauses that trade it (文具用品、复印纸零售;
    白砂糖、赤砂糖、糖蜜批发; 药品批发（化学药制剂、中成药）) is sold there, not made: an
    assignment resting on business-scope keywords alone, none of them named outside such
    clauses, is dropped. A trade keyword (药品批发, 食糖批发) is the business itself and keeps
    its assignment, and so does a node whose industry classes include wholesale or retail
    (农资, 医药批发); a clause that also names work (生产、销售) is no trade-only clause."""
    lookup = vocab.lookup
    # nodes that list a wholesale or retail class trade their goods as their business
    text_only = np.flatnonzero((out.group >= 0) & ~lookup.node_trades[out.node])
    which = text_only[evidence.scope_only[out.group[text_only]]]
    if not len(which):
        return out
    group = out.group[which]
    owner, index = _ranges(evidence.group_start[group], evidence.group_start[group + 1])
    words = evidence.kw[index]
    trade = np.bincount(owner, lookup.trade_keyword[words], minlength=len(which)) > 0
    owner_of = np.flatnonzero(~trade)
    pick = ~trade[owner]
    owner, words = np.searchsorted(owner_of, owner[pick]), words[pick]
    which = which[owner_of]
    if not len(which):
        return out
    # only firms whose scope names a trade at all can have a trade-only clause
    rows = np.unique(out.row[which])
    scope = frame.get_column("business_scope").gather(rows).fill_null("")
    trading = scope.str.contains_any(TRADE_VERBS).to_numpy()
    if not trading.any():
        return out
    rows, scope = rows[trading], scope.filter(trading)
    at_trading, text_of = _present(rows, out.row[which])
    pick = at_trading[owner]
    owner, words = owner[pick], words[pick]
    clause = pl.element()
    trade_only = clause.str.contains_any(TRADE_VERBS) & ~clause.str.replace_all(
        SERVING, "", literal=True
    ).str.contains_any(WORK_VERBS)
    kept = (
        scope.str.replace_all(CLAUSE_BREAK, "；")
        .str.split("；")
        .list.eval(clause.filter(~trade_only))
        .list.join("；")
    )
    named = (
        pl.DataFrame(
            {
                "owner": owner,
                "text": kept.gather(text_of[owner]),
                "word": pl.Series(vocab.patterns).gather(words),
            }
        )
        .group_by("owner")
        .agg(pl.col("text").str.contains(pl.col("word"), literal=True).any())
    )
    outside = np.ones(len(which), dtype=bool)
    outside[named["owner"].to_numpy()] = named["text"].to_numpy()
    # keywords with Latin letters match case-insensitively: not checked here, they keep theirs
    outside[np.unique(owner[lookup.pattern_ascii[words]])] = True
    keep = np.ones(len(out.row), dtype=bool)
    keep[which[~outside]] = False
    return out.take(keep)


def _most_specific(out: _Assigned, lookup: Lookup) -> _Assigned:
    """A child's firm is not also its parent's."""
    parent = lookup.parent_of[out.node]
    child = parent >= 0
    if not child.any():
        return out
    found, at = _present(
        _firm_node(out.row, out.node, lookup), _firm_node(out.row[child], parent[child], lookup)
    )
    keep = np.ones(len(out.row), dtype=bool)
    keep[at[found]] = False
    return out.take(keep)


def _per_row(out: _Assigned) -> tuple[np.ndarray, np.ndarray]:
    """Each assignment's firm-wide best score and number of assignments."""
    starts = _group_starts(out.row)
    if not len(starts):
        return out.score, out.row
    counts = np.diff(np.r_[starts, len(out.row)])
    return np.repeat(np.maximum.reduceat(out.score, starts), counts), np.repeat(counts, counts)


def _row_max(values: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Per assignment, the largest of `values` over its firm (rows sorted)."""
    starts = _group_starts(row)
    if not len(starts):
        return values
    return np.repeat(np.maximum.reduceat(values, starts), np.diff(np.r_[starts, len(row)]))


def _lone(
    out: _Assigned, evidence: _Evidence, weights: ClassifyWeights
) -> tuple[np.ndarray, np.ndarray]:
    """Each assignment's keyword score (0 when placed by code alone) and whether it rests on
    a lone mention: keyword evidence no stronger than one business-scope keyword."""
    has_text = out.group >= 0
    kw = np.zeros(len(out.group))
    kw[has_text] = evidence.kw_score[out.group[has_text]]
    return kw, has_text & (kw <= weights.ancillary_max)


def _dominated_lone(out: _Assigned, evidence: _Evidence, weights: ClassifyWeights) -> np.ndarray:
    """Lone mentions (one business-scope keyword) that another assignment of the firm beats on
    keywords while matching it on the industry code, or matches on keywords and beats on the
    code. A code that agrees with both says nothing about which is the main business."""
    kw, lone = _lone(out, evidence, weights)
    agrees = out.method == 2
    if not lone.any():
        return lone
    best = _row_max(kw, out.row)
    best_agreeing = _row_max(np.where(agrees, kw, -1.0), out.row)
    dominated = lone & np.where(agrees, best_agreeing > kw, (best > kw) | (best_agreeing >= kw))
    return dominated
    kept = np.flatnonzero(~dominated & (out.group >= 0))
    owner, index = _ranges(
        evidence.group_start[out.group[kept]], evidence.group_start[out.group[kept] + 1]
    )
    kept_keys = np.unique((out.row[kept][owner] << 16) | evidence.kw[index])
    suspect = np.flatnonzero(dominated)
    first_kw = evidence.kw[evidence.group_start[out.group[suspect]]]
    shared, _ = _present(kept_keys, (out.row[suspect] << 16) | first_kw)
    dominated[suspect[shared]] = False
    return dominated


def _positions(
    out: _Assigned, which: np.ndarray, evidence: _Evidence, frame: pl.DataFrame, vocab: Vocabulary
) -> np.ndarray:
    """Where the text (主营产品, then 经营范围) first names each of the `which` assignments: the
    smallest offset of any of its counted keywords; −1 for one placed by code alone."""
    first = np.full(len(which), -1, dtype=np.int64)
    has_text = out.group[which] >= 0
    entry = np.flatnonzero(has_text)
    group = out.group[which][entry]
    owner, index = _ranges(evidence.group_start[group], evidence.group_start[group + 1])
    rows = out.row[which][entry][owner]
    unique_rows, text_of = np.unique(rows, return_inverse=True)
    text = (
        frame[unique_rows]
        .select(
            pl.concat_str(
                pl.col("products").fill_null(""),
                pl.lit("\n"),
                pl.col("business_scope").fill_null(""),
            )
            .str.to_uppercase()
            .alias("text")
        )
        .to_series()
    )
    position = (
        pl.DataFrame(
            {
                "entry": entry[owner],
                "text": text.gather(text_of),
                "word": pl.Series(vocab.patterns).gather(evidence.kw[index]),
            }
        )
        .group_by("entry")
        .agg(
            pl.col("text")
            .str.find(pl.col("word"), literal=True)
            .fill_null(_NOT_FOUND)
            .min()
            .alias("first")
        )
    )
    first[position["entry"].to_numpy()] = position["first"].to_numpy()
    return first


def _named_first(out: _Assigned, which: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Which of the `which` assignments (sorted, with their text positions) its firm names
    first among them."""
    row = out.row[which]
    return (first >= 0) & (first == _row_min(np.where(first >= 0, first, _NOT_FOUND), row))


def _row_min(values: np.ndarray, row: np.ndarray) -> np.ndarray:
    return -_row_max(-values, row)


def _without_side_activities(
    out: _Assigned,
    evidence: _Evidence,
    frame: pl.DataFrame,
    vocab: Vocabulary,
    weights: ClassifyWeights,
) -> _Assigned:
    """Lone mentions beside a stronger assignment are dropped; among a firm's lone mentions
    only, the one named first is kept: registry clerks list the main business first and
    licensed side activities after it."""
    out = out.take(~_dominated_lone(out, evidence, weights))
    _, lone = _lone(out, evidence, weights)
    _, count = _per_row(out)
    only_lone = (_row_max((~lone).astype(np.int8), out.row) == 0) & (count > 1)
    if not only_lone.any():
        return out
    which = np.flatnonzero(only_lone)
    keep = np.ones(len(out.row), dtype=bool)
    keep[which] = _named_first(out, which, _positions(out, which, evidence, frame, vocab))
    return out.take(keep)


def _named(
    out: _Assigned,
    evidence: _Evidence,
    code_idx: np.ndarray,
    frame: pl.DataFrame,
    vocab: Vocabulary,
) -> pl.DataFrame:
    """Back from ids to uscc, chain_id, node_id and a readable evidence string, built for the
    kept assignments only: "kw:a,b" + the method's code part ("", ";code:1340"), or
    "code:1340"."""
    lookup = vocab.lookup
    by_text = out.group >= 0
    start = np.where(by_text, evidence.group_start[out.group], 0)
    stop = np.where(by_text, evidence.group_start[out.group + 1], 0)
    _, index = _ranges(start, stop)
    # keyword ids follow the sorted keyword list, so the words come out in order; the first
    # word of each list is taken from the "kw:"-prefixed half of the table
    words = evidence.kw[index]
    offsets = np.zeros(len(out.row) + 1, dtype=np.int64)
    np.cumsum(stop - start, out=offsets[1:])
    words[offsets[:-1][stop > start]] += lookup.n_keywords
    listed = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), lookup.evidence_words.take(words)),
        pa.scalar(",", pa.large_string()),
    )
    code_part = lookup.evidence_codes.take(
        out.method * lookup.code_agrees.shape[1] + code_idx[out.row]
    )
    text = pc.binary_join_element_wise(listed, code_part, pa.scalar("", pa.large_string()))
    named = pl.DataFrame(
        {
            "uscc": frame.get_column("uscc").gather(out.row),
            "chain_id": vocab.nodes.get_column("chain_id").gather(out.node),
            "node_id": vocab.nodes.get_column("node_id").gather(out.node),
            "score": pl.Series(out.score, dtype=pl.Float64),
            "method": pl.Series(METHODS).gather(out.method),
            "evidence": pl.Series(pl.from_arrow(text), dtype=pl.String),
        }
    )
    return named.cast(ASSIGNMENT_SCHEMA)  # type: ignore[arg-type]


def _classify_part(
    frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights
) -> pl.DataFrame:
    lookup = vocab.lookup
    evidence = _keyword_evidence(frame, vocab, weights)
    code_idx = (
        frame.get_column("industry_code")
        .cast(lookup.code_categories, strict=False)
        .to_physical()
        .cast(pl.Int64)
        .fill_null(lookup.code_agrees.shape[1] - 1)
        .to_numpy()
    )
    out = _assign(code_idx, evidence, lookup, weights)
    out = _without_traded_goods(out, evidence, frame, vocab)
    out = _most_specific(out, lookup)
    out = _without_side_activities(out, evidence, frame, vocab, weights)
    return _named(out, evidence, code_idx, frame, vocab)


@contextmanager
def _small_pages() -> Iterator[None]:
    """numpy asks the kernel for transparent huge pages (madvise) for arrays of 4 MB and more.
    The classifier allocates hundreds of MB of short-lived arrays per million rows; on a host
    short of free huge pages every such fault stalls in memory compaction — measured here at
    ~0.7 s of kernel time per million rows, a fifth of the work. The hint only affects speed,
    so it is switched off for the call (numpy's runtime switch for NUMPY_MADVISE_HUGEPAGE)."""
    multiarray = importlib.import_module("numpy._core.multiarray")
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


def default_threads(rows: int) -> int:
    """One thread per core (Polars' pool size), at most one per MIN_ROWS_PER_THREAD rows."""
    return max(1, min(pl.thread_pool_size(), os.cpu_count() or 1, rows // MIN_ROWS_PER_THREAD))


def classify(
    frame: pl.DataFrame,
    vocab: Vocabulary,
    weights: ClassifyWeights | None = None,
    *,
    threads: int | None = None,
) -> pl.DataFrame:
    """Assignments for a frame with uscc, industry_code, business_scope, products (normalised).

    Returns ASSIGNMENT_SCHEMA rows, ordered by input row then node; a firm on no chain yields
    no row. `threads` (default: one per core, at most one per 200,000 rows) splits the frame
    into that many contiguous parts classified in parallel; the result does not depend on it.
    """
    weights = weights or ClassifyWeights()
    for column in ("industry_code", "business_scope", "products"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    # missing text stays null: no match, as for "" (filling would copy every text)
    frame = frame.select("uscc", pl.col("industry_code", *TEXT_COLUMNS).cast(pl.String))
    vocab.lookup  # built once, before any thread needs it  # noqa: B018
    parts = threads if threads is not None else default_threads(frame.height)
    with _small_pages():
        if parts <= 1 or frame.height < 2:
            return _classify_part(frame, vocab, weights)
        step = -(-frame.height // parts)
        slices = [frame.slice(offset, step) for offset in range(0, frame.height, step)]
        with ThreadPoolExecutor(len(slices)) as pool:
            results = list(pool.map(lambda part: _classify_part(part, vocab, weights), slices))
        return pl.concat(results)
