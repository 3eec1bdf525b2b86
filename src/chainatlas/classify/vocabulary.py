"""The matching vocabulary derived from the atlas: keywords, exclusions, industry-code rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from chainatlas.atlas.model import Chain


@dataclass(frozen=True)
class Vocabulary:
    """Frames the classifier joins against.

    keywords: keyword (ASCII upper-cased), chain_id, node_id, kind ('include'|'product'|'exclude')
    codes:    industry_code, chain_id, node_id, defining (the template says the code alone
              places a firm on the node), unique_in_chain (code names one node of its chain)
    patterns: every distinct keyword, for the automaton
    """

    keywords: pl.DataFrame
    codes: pl.DataFrame
    patterns: list[str]
    parents: pl.DataFrame  # chain_id, node_id (the child), parent
    nested: pl.DataFrame  # chain_id, node_id, keyword, container: a node keyword inside another


def build_vocabulary(atlas: Mapping[str, Chain]) -> Vocabulary:
    rows: list[tuple[str, str, str, str]] = []
    code_rows: list[tuple[str, str, str, bool]] = []
    for chain in atlas.values():
        for node in chain.nodes:
            for kind, words in (
                ("include", node.include),
                ("product", node.products),
                ("exclude", node.exclude),
            ):
                rows.extend(
                    (w.strip().upper(), chain.id, node.id, kind) for w in words if w.strip()
                )
            code_rows.extend(
                (c, chain.id, node.id, c in node.defining_codes) for c in node.industry_codes
            )
    keywords = pl.DataFrame(
        rows,
        schema={
            "keyword": pl.String,
            "chain_id": pl.String,
            "node_id": pl.String,
            "kind": pl.String,
        },
        orient="row",
    )
    # A keyword listed both as include and product of one node counts once, as include.
    keywords = keywords.sort("kind").unique(
        ["keyword", "chain_id", "node_id"], keep="first", maintain_order=True
    )
    codes = pl.DataFrame(
        code_rows,
        schema={
            "industry_code": pl.String,
            "chain_id": pl.String,
            "node_id": pl.String,
            "defining": pl.Boolean,
        },
        orient="row",
    ).unique()
    codes = codes.with_columns(
        (pl.col("defining").cast(pl.Int32).sum().over("industry_code", "chain_id") == 1).alias(
            "unique_in_chain"
        )
    )
    patterns = sorted(set(keywords["keyword"].to_list()))
    parents = pl.DataFrame(
        [(c.id, n.id, n.parent) for c in atlas.values() for n in c.nodes if n.parent],
        schema={"chain_id": pl.String, "node_id": pl.String, "parent": pl.String},
        orient="row",
    )
    positive = keywords.filter(pl.col("kind") != "exclude").select("chain_id", "node_id", "keyword")
    nested = positive.join(
        positive.rename({"keyword": "container"}), on=["chain_id", "node_id"]
    ).filter(
        (pl.col("keyword") != pl.col("container"))
        & pl.col("container").str.contains(pl.col("keyword"), literal=True)
    )
    return Vocabulary(
        keywords=keywords, codes=codes, patterns=patterns, parents=parents, nested=nested
    )
