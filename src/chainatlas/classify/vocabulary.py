"""The matching vocabulary derived from the atlas: keywords, exclusions, industry-code rules.

Everything the classifier joins on is an integer id (keyword, node) so that the per-hit work
on millions of rows stays on integer columns; strings come back only for the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from chainatlas.atlas.model import Chain


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
    nested:   node_idx, kw_id, container_id — a node keyword found inside a longer keyword of
              the same node adds no evidence of its own (糖仓储 in 食糖仓储)
    """

    patterns: list[str]
    nodes: pl.DataFrame
    keywords: pl.DataFrame
    codes: pl.DataFrame
    parents: pl.DataFrame
    nested: pl.DataFrame

    @property
    def pattern_ids(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.patterns)}


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
    # the classifier packs (row, node, keyword) into one 64-bit key: 16 bits per id
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
    positive = keywords.filter(~pl.col("exclude")).select("node_idx", "kw_id").unique()
    word_frame = pl.DataFrame(
        {"kw_id": pl.Series(range(len(patterns)), dtype=pl.UInt32), "word": patterns}
    )
    with_words = positive.join(word_frame, on="kw_id")
    nested = (
        with_words.join(
            with_words.rename({"kw_id": "container_id", "word": "container"}), on="node_idx"
        )
        .filter(
            (pl.col("kw_id") != pl.col("container_id"))
            & pl.col("container").str.contains(pl.col("word"), literal=True)
        )
        .select("node_idx", "kw_id", "container_id")
    )
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
        nested=nested,
    )
