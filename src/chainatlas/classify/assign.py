"""Assign enterprises to chain nodes.

Evidence per (enterprise, chain, node):
- a node keyword (include or product) found in `products` weighs `product_keyword`,
  found in `business_scope` weighs `scope_keyword`; distinct keywords combine by noisy-or
  (1 − Π(1 − wᵢ)), so more independent evidence raises the score without passing 1;
- an exclude keyword of the node found anywhere drops that node's keyword evidence;
- the firm's industry code among the node's codes adds `code_agrees` to keyword evidence;
- text outranks codes: a firm with no keyword evidence on any chain is assigned by its code
  alone (`code_only`) to a node whose code is unique within the chain.
Assignments below `min_score` are dropped. One firm may sit on several nodes.
"""

from __future__ import annotations

import polars as pl

from chainatlas.classify.vocabulary import Vocabulary
from chainatlas.settings import ClassifyWeights

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "chain_id": pl.String(),
    "node_id": pl.String(),
    "score": pl.Float64(),
    "method": pl.String(),
    "evidence": pl.String(),
}


def _hits(frame: pl.DataFrame, column: str, vocab: Vocabulary, weight: float) -> pl.DataFrame:
    """Every keyword occurrence in one text column: uscc, keyword, start, end (bytes), w."""
    text = pl.col(column).fill_null("")
    found = frame.select(
        "uscc",
        text.str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
        .alias("keyword"),
        text.str.find_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
        .alias("start"),
    ).filter(pl.col("keyword").list.len() > 0)
    return found.explode("keyword", "start").select(
        "uscc",
        pl.col("keyword").str.to_uppercase(),
        pl.col("start").cast(pl.Int64),
        (pl.col("start") + pl.col("keyword").str.len_bytes()).cast(pl.Int64).alias("end"),
        pl.lit(column).alias("field"),
        pl.lit(weight).alias("w"),
    )


def keyword_evidence(frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights) -> pl.DataFrame:
    """Per (uscc, chain_id, node_id): keyword score and the keywords that matched.

    An exclude keyword that contains a node keyword occurrence (白砂糖批发 ⊃ 白砂糖) cancels
    that occurrence only; one that stands apart (糖果 beside 白砂糖) marks the text as the
    confusable trade and cancels the node's keyword evidence.
    """
    hits = pl.concat(
        [_hits(frame, "products", vocab, weights.product_keyword),
         _hits(frame, "business_scope", vocab, weights.scope_keyword)]
    ).join(vocab.keywords, on="keyword", how="inner")
    key = ["uscc", "chain_id", "node_id"]
    positive = hits.filter(pl.col("kind") != "exclude")
    negative = hits.filter(pl.col("kind") == "exclude")
    if negative.height:
        pairs = positive.join(negative, on=[*key, "field"], suffix="_x")
        inside = (pl.col("start") >= pl.col("start_x")) & (pl.col("end") <= pl.col("end_x"))
        cancelled = pairs.filter(inside).select(*key, "field", "start", "keyword").unique()
        containing = pairs.filter(inside).select(*key, "field", "start_x", "keyword_x").unique()
        apart = negative.join(
            containing.rename({"start_x": "start", "keyword_x": "keyword"}),
            on=[*key, "field", "start", "keyword"], how="anti",
        ).select(key).unique()
        positive = positive.join(cancelled, on=[*key, "field", "start", "keyword"], how="anti")
        positive = positive.join(apart, on=key, how="anti")
    # a keyword found several times or in both fields counts once, with its larger weight
    distinct = positive.group_by(*key, "keyword").agg(pl.col("w").max())
    return distinct.group_by(key).agg(
        (1 - (1 - pl.col("w")).product()).alias("kw_score"),
        pl.col("keyword").sort().str.join(",").alias("keywords"),
    )


def classify(frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights | None = None) -> pl.DataFrame:
    """Assignments for a frame with uscc, industry_code, business_scope, products (normalised).

    Returns ASSIGNMENT_SCHEMA rows; a firm on no chain yields no row.
    """
    weights = weights or ClassifyWeights()
    for column in ("industry_code", "business_scope", "products"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    kw = keyword_evidence(frame, vocab, weights)
    codes = frame.select("uscc", "industry_code").drop_nulls().join(vocab.codes, on="industry_code")
    with_code = kw.join(
        codes.select("uscc", "chain_id", "node_id", "industry_code"),
        on=["uscc", "chain_id", "node_id"], how="left",
    )
    by_keyword = with_code.select(
        "uscc", "chain_id", "node_id",
        pl.when(pl.col("industry_code").is_not_null())
        .then(1 - (1 - pl.col("kw_score")) * (1 - weights.code_agrees))
        .otherwise(pl.col("kw_score")).alias("score"),
        pl.when(pl.col("industry_code").is_not_null()).then(pl.lit("keyword+code"))
        .otherwise(pl.lit("keyword")).alias("method"),
        pl.concat_str(
            pl.lit("kw:"), pl.col("keywords"),
            pl.when(pl.col("industry_code").is_not_null())
            .then(pl.concat_str(pl.lit(";code:"), pl.col("industry_code"))).otherwise(pl.lit("")),
        ).alias("evidence"),
    ).filter(pl.col("score") >= weights.min_score)
    by_code = (
        codes.filter(pl.col("unique_in_chain"))
        .join(by_keyword.select("uscc").unique(), on="uscc", how="anti")
        .select(
            "uscc", "chain_id", "node_id",
            pl.lit(weights.code_only).alias("score"),
            pl.lit("code").alias("method"),
            pl.concat_str(pl.lit("code:"), pl.col("industry_code")).alias("evidence"),
        )
        .filter(pl.col("score") >= weights.min_score)
    )
    out = pl.concat([by_keyword, by_code]).cast(ASSIGNMENT_SCHEMA)  # type: ignore[arg-type]
    return out.sort("uscc", "chain_id", "node_id")
