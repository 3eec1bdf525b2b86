"""Assign enterprises to chain nodes.

Evidence per (enterprise, chain, node):
- a node keyword (include or product) found in `products` weighs `product_keyword`,
  found in `business_scope` weighs `scope_keyword`; distinct keywords combine by noisy-or
  (1 − Π(1 − wᵢ)), so more independent evidence raises the score without passing 1;
- an exclude keyword of the node voids the keyword occurrences it contains (白砂糖批发 ⊃
  白砂糖); one standing apart (糖果 beside 白砂糖) voids a node resting on one keyword;
- the firm's industry code among the node's codes adds `code_agrees` to keyword evidence;
- text outranks codes: a firm with no keyword evidence on any chain is assigned by its code
  alone (`code_only`) to a node that declares the code as defining (a class whose whole
  content is the node, e.g. 0133 糖料种植) and is the only such node of its chain. Broad
  classes (7452 检测服务) never assign on their own.
- the most specific node wins: a firm placed on a child node (MCU design) is not also placed
  on its parent (chip design);
- a lone mention is ancillary: an assignment resting on a single business-scope keyword
  (score ≤ `ancillary_max`) is dropped when the same firm has a stronger assignment —
  scopes list licensed side activities (药品批发, 低温仓储, 粮食收购) beside the main
  business, and the main business is what places a firm on a chain; when a firm has only
  lone mentions, the one named first wins.
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


def _scan(frame: pl.DataFrame, column: str, vocab: Vocabulary, weight: float) -> pl.DataFrame:
    """Keywords found in one text column (one automaton pass): uscc, keyword, field, w."""
    found = frame.select(
        "uscc",
        pl.col(column)
        .str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
        .alias("keyword"),
    ).filter(pl.col("keyword").list.len() > 0)
    return found.explode("keyword").select(
        "uscc",
        pl.col("keyword").str.to_uppercase(),
        pl.lit(column).alias("field"),
        pl.lit(weight).alias("w"),
    )


def _positions(frame: pl.DataFrame, column: str, vocab: Vocabulary) -> pl.DataFrame:
    """Keyword occurrences with byte spans: uscc, keyword, field, start, end."""
    text = pl.col(column)
    found = frame.select(
        "uscc",
        text.str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True).alias(
            "keyword"
        ),
        text.str.find_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True).alias(
            "start"
        ),
    ).filter(pl.col("keyword").list.len() > 0)
    return found.explode("keyword", "start").select(
        "uscc",
        pl.col("keyword").str.to_uppercase(),
        pl.lit(column).alias("field"),
        pl.col("start").cast(pl.Int64),
        (pl.col("start") + pl.col("keyword").str.len_bytes()).cast(pl.Int64).alias("end"),
    )


KEY = ["uscc", "chain_id", "node_id"]


def _apply_exclusions(
    frame: pl.DataFrame, positive: pl.DataFrame, vocab: Vocabulary
) -> pl.DataFrame:
    """Drop keyword hits cancelled by exclude keywords, using occurrence spans.

    Only the few firms whose text holds an exclude keyword are rescanned with positions.
    """
    spans = pl.concat([_positions(frame, c, vocab) for c in ("products", "business_scope")])
    spans = spans.join(vocab.keywords, on="keyword", how="inner")
    pos = spans.filter(pl.col("kind") != "exclude")
    neg = spans.filter(pl.col("kind") == "exclude")
    pairs = pos.join(neg, on=[*KEY, "field"], suffix="_x")
    inside = (pl.col("start") >= pl.col("start_x")) & (pl.col("end") <= pl.col("end_x"))
    contained = pairs.filter(inside)
    # every occurrence of an include keyword sits inside an exclude phrase → that keyword is void
    occurrences = pos.group_by(*KEY, "field", "keyword").agg(pl.len().alias("n"))
    voided = (
        contained.select(*KEY, "field", "keyword", "start")
        .unique()
        .group_by(*KEY, "field", "keyword")
        .agg(pl.len().alias("n_inside"))
        .join(occurrences, on=[*KEY, "field", "keyword"])
        .filter(pl.col("n_inside") >= pl.col("n"))
        .select(*KEY, "field", "keyword")
    )
    # an exclude phrase containing no node keyword stands apart: the firm is the confusable trade
    apart = (
        neg.join(
            contained.select(
                *KEY,
                "field",
                pl.col("start_x").alias("start"),
                pl.col("keyword_x").alias("keyword"),
            ).unique(),
            on=[*KEY, "field", "start", "keyword"],
            how="anti",
        )
        .select(KEY)
        .unique()
    )
    positive = positive.join(voided, on=[*KEY, "field", "keyword"], how="anti")
    # …but a node named by several distinct keywords is real business beside the confusable
    lone = (
        positive.group_by(KEY).agg(pl.col("keyword").n_unique().alias("n")).filter(pl.col("n") <= 1)
    )
    return positive.join(apart.join(lone.select(KEY), on=KEY), on=KEY, how="anti")


def keyword_evidence(
    frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights
) -> pl.DataFrame:
    """Per (uscc, chain_id, node_id): keyword score and the keywords that matched.

    An exclude keyword that contains a node keyword occurrence (白砂糖批发 ⊃ 白砂糖) cancels
    that occurrence only; one that stands apart (糖果 beside 白砂糖) marks the text as the
    confusable trade and cancels the node's keyword evidence when that evidence is a single
    keyword.
    """
    hits = pl.concat(
        [
            _scan(frame, "products", vocab, weights.product_keyword),
            _scan(frame, "business_scope", vocab, weights.scope_keyword),
        ]
    ).join(vocab.keywords, on="keyword", how="inner")
    positive = hits.filter(pl.col("kind") != "exclude")
    flagged = hits.filter(pl.col("kind") == "exclude").select("uscc").unique()
    if flagged.height:
        subset = frame.join(flagged, on="uscc", how="semi")
        positive = _apply_exclusions(subset, positive, vocab)
    # a keyword found several times or in both fields counts once, with its larger weight,
    # and one found only inside a longer keyword of the same node (糖仓储 in 食糖仓储) not at all
    distinct = positive.group_by(*KEY, "keyword").agg(pl.col("w").max())
    shadowed = distinct.join(vocab.nested, on=["chain_id", "node_id", "keyword"]).join(
        distinct.select(*KEY, pl.col("keyword").alias("container")), on=[*KEY, "container"]
    )
    distinct = distinct.join(
        shadowed.select(*KEY, "keyword").unique(), on=[*KEY, "keyword"], how="anti"
    )
    return distinct.group_by(KEY).agg(
        (1 - (1 - pl.col("w")).product()).alias("kw_score"),
        pl.col("keyword").sort().str.join(",").alias("keywords"),
    )


def classify(
    frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights | None = None
) -> pl.DataFrame:
    """Assignments for a frame with uscc, industry_code, business_scope, products (normalised).

    Returns ASSIGNMENT_SCHEMA rows; a firm on no chain yields no row.
    """
    weights = weights or ClassifyWeights()
    for column in ("industry_code", "business_scope", "products"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    frame = frame.with_columns(pl.col("business_scope", "products").fill_null(""))
    kw = keyword_evidence(frame, vocab, weights)
    codes = frame.select("uscc", "industry_code").drop_nulls().join(vocab.codes, on="industry_code")
    with_code = kw.join(
        codes.select("uscc", "chain_id", "node_id", "industry_code"),
        on=["uscc", "chain_id", "node_id"],
        how="left",
    )
    by_keyword = with_code.select(
        "uscc",
        "chain_id",
        "node_id",
        pl.when(pl.col("industry_code").is_not_null())
        .then(1 - (1 - pl.col("kw_score")) * (1 - weights.code_agrees))
        .otherwise(pl.col("kw_score"))
        .alias("score"),
        pl.when(pl.col("industry_code").is_not_null())
        .then(pl.lit("keyword+code"))
        .otherwise(pl.lit("keyword"))
        .alias("method"),
        pl.concat_str(
            pl.lit("kw:"),
            pl.col("keywords"),
            pl.when(pl.col("industry_code").is_not_null())
            .then(pl.concat_str(pl.lit(";code:"), pl.col("industry_code")))
            .otherwise(pl.lit("")),
        ).alias("evidence"),
    ).filter(pl.col("score") >= weights.min_score)
    by_code = (
        codes.filter(pl.col("defining") & pl.col("unique_in_chain"))
        .join(by_keyword.select("uscc").unique(), on="uscc", how="anti")
        .select(
            "uscc",
            "chain_id",
            "node_id",
            pl.lit(weights.code_only).alias("score"),
            pl.lit("code").alias("method"),
            pl.concat_str(pl.lit("code:"), pl.col("industry_code")).alias("evidence"),
        )
        .filter(pl.col("score") >= weights.min_score)
    )
    out = pl.concat([by_keyword, by_code]).cast(ASSIGNMENT_SCHEMA)  # type: ignore[arg-type]
    covered = out.join(vocab.parents, on=["chain_id", "node_id"]).select(
        "uscc", "chain_id", pl.col("parent").alias("node_id")
    )
    out = out.join(covered, on=KEY, how="anti")
    best = pl.col("score").max().over("uscc")
    out = out.filter(~((pl.col("score") <= weights.ancillary_max) & (pl.col("score") < best)))
    return _first_mention_wins(out, frame, weights).sort("uscc", "chain_id", "node_id")


def _first_mention_wins(
    out: pl.DataFrame, frame: pl.DataFrame, weights: ClassifyWeights
) -> pl.DataFrame:
    """Among a firm's lone mentions only, keep the one named first: registry clerks list the
    main business first and licensed side activities after it."""
    only_lone = (pl.col("score").max().over("uscc") <= weights.ancillary_max) & (
        pl.len().over("uscc") > 1
    )
    lone = out.filter(only_lone)
    if not lone.height:
        return out
    placed = lone.join(frame.select("uscc", "business_scope", "products"), on="uscc").with_columns(
        pl.col("evidence").str.extract(r"kw:([^,;]*)").alias("_kw")
    )
    text = pl.concat_str(
        pl.col("products"), pl.lit("\n"), pl.col("business_scope")
    ).str.to_uppercase()
    placed = placed.with_columns(
        text.str.find(pl.col("_kw"), literal=True).fill_null(1 << 30).alias("_pos")
    )
    first = placed.filter(pl.col("_pos") == pl.col("_pos").min().over("uscc")).select(out.columns)
    return pl.concat([out.filter(~only_lone), first])
