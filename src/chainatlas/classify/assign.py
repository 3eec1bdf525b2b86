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

TEXT_COLUMNS = ("products", "business_scope")
K = ["_row", "node_idx"]


def _keyword_ids(found: pl.DataFrame, vocab: Vocabulary) -> pl.DataFrame:
    """Map matched text to keyword ids; only ASCII hits in another case need upper-casing."""
    ids = vocab.pattern_ids
    mapped = found.with_columns(
        pl.col("kw").replace_strict(ids, default=None, return_dtype=pl.UInt32).alias("kw_id")
    )
    missing = mapped.filter(pl.col("kw_id").is_null())
    if not missing.height:
        return mapped
    fixed = missing.with_columns(
        pl.col("kw").str.to_uppercase().replace_strict(ids, return_dtype=pl.UInt32).alias("kw_id")
    )
    return pl.concat([mapped.filter(pl.col("kw_id").is_not_null()), fixed])


def _scan(frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights) -> pl.DataFrame:
    """Keywords found in the text columns — one automaton pass per column, the columns in
    parallel: _row, kw_id, field, w."""
    matches = frame.select(
        "_row",
        *[
            pl.col(c)
            .str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True)
            .alias(c)
            for c in TEXT_COLUMNS
        ],
    )
    weight = {"products": weights.product_keyword, "business_scope": weights.scope_keyword}
    parts = []
    for column in TEXT_COLUMNS:
        found = (
            matches.select("_row", pl.col(column).alias("kw"))
            .filter(pl.col("kw").list.len() > 0)
            .explode("kw")
        )
        parts.append(
            _keyword_ids(found, vocab).select(
                "_row", "kw_id", pl.lit(column).alias("field"), pl.lit(weight[column]).alias("w")
            )
        )
    return pl.concat(parts)


def _positions(frame: pl.DataFrame, column: str, vocab: Vocabulary) -> pl.DataFrame:
    """Keyword occurrences with byte spans: _row, kw_id, field, start, end."""
    text = pl.col(column)
    found = frame.select(
        "_row",
        text.str.extract_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True).alias(
            "kw"
        ),
        text.str.find_many(vocab.patterns, overlapping=True, ascii_case_insensitive=True).alias(
            "start"
        ),
    ).filter(pl.col("kw").list.len() > 0)
    return found.explode("kw", "start").select(
        "_row",
        pl.col("kw")
        .str.to_uppercase()
        .replace_strict(vocab.pattern_ids, return_dtype=pl.UInt32)
        .alias("kw_id"),
        pl.lit(column).alias("field"),
        pl.col("start").cast(pl.Int64),
        (pl.col("start") + pl.col("kw").str.len_bytes()).cast(pl.Int64).alias("end"),
    )


def _apply_exclusions(
    frame: pl.DataFrame, positive: pl.DataFrame, vocab: Vocabulary
) -> pl.DataFrame:
    """Drop keyword hits voided by exclude keywords, using occurrence spans.

    Only the few firms where an exclude keyword meets positive evidence for the same node
    are rescanned with positions.
    """
    spans = pl.concat([_positions(frame, c, vocab) for c in TEXT_COLUMNS])
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


def keyword_evidence(
    frame: pl.DataFrame, vocab: Vocabulary, weights: ClassifyWeights
) -> pl.DataFrame:
    """The keywords that count, one row per (_row, node_idx, kw_id) with its weight `w`.

    An exclude keyword that contains a node keyword occurrence (白砂糖批发 ⊃ 白砂糖) cancels
    that occurrence only; one that stands apart (糖果 beside 白砂糖) marks the text as the
    confusable trade and cancels the node's keyword evidence when that evidence is a single
    keyword.
    """
    hits = _scan(frame, vocab, weights).join(vocab.keywords, on="kw_id")
    positive = hits.filter(~pl.col("exclude")).drop("exclude")
    touching = hits.filter(pl.col("exclude")).join(positive.select(K), on=K, how="semi")
    if touching.height:
        rows = touching.select("_row").unique()
        subset = frame.join(rows, on="_row", how="semi")
        untouched = positive.join(rows, on="_row", how="anti")
        touched = positive.join(rows, on="_row", how="semi")
        positive = pl.concat([untouched, _apply_exclusions(subset, touched, vocab)])
    # a keyword found several times or in both fields counts once, with its larger weight,
    # and one found only inside a longer keyword of the same node (糖仓储 in 食糖仓储) not at all
    # (group on one packed integer key: several times faster than on three columns)
    packed = (pl.col("_row").cast(pl.UInt64) * 65536 + pl.col("node_idx")) * 65536 + pl.col("kw_id")
    distinct = (
        positive.group_by(packed.alias("_k"))
        .agg(pl.col("w").max())
        .select(
            (pl.col("_k") // (65536 * 65536)).cast(pl.UInt32).alias("_row"),
            (pl.col("_k") // 65536 % 65536).cast(pl.UInt32).alias("node_idx"),
            (pl.col("_k") % 65536).cast(pl.UInt32).alias("kw_id"),
            "w",
        )
    )
    containers = vocab.nested.select("node_idx", pl.col("container_id").alias("kw_id")).unique()
    shadowed = (
        distinct.join(containers, on=["node_idx", "kw_id"], how="semi")  # few rows
        .select(*K, pl.col("kw_id").alias("container_id"))
        .join(vocab.nested, on=["node_idx", "container_id"])
    )
    if shadowed.height:
        distinct = distinct.join(
            shadowed.select(*K, "kw_id").unique(), on=[*K, "kw_id"], how="anti"
        )
    return distinct


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
    frame = (
        frame.select("uscc", "industry_code", *TEXT_COLUMNS)
        .with_columns(pl.col(*TEXT_COLUMNS).fill_null(""))
        .with_row_index("_row")
    )
    counted = keyword_evidence(frame, vocab, weights)
    # noisy-or as a sum of logs: one integer-keyed aggregation, no product over lists
    kw = (
        counted.group_by((pl.col("_row").cast(pl.UInt64) * 65536 + pl.col("node_idx")).alias("_k"))
        .agg((1 - (1 - pl.col("w")).log().sum().exp()).alias("kw_score"))
        .select(
            (pl.col("_k") // 65536).cast(pl.UInt32).alias("_row"),
            (pl.col("_k") % 65536).cast(pl.UInt32).alias("node_idx"),
            "kw_score",
        )
    )
    codes = frame.select("_row", "industry_code").drop_nulls().join(vocab.codes, on="industry_code")
    agrees = pl.col("industry_code").is_not_null()
    by_keyword = (
        kw.join(codes.select(*K, "industry_code"), on=K, how="left")
        .with_columns(
            pl.when(agrees)
            .then(1 - (1 - pl.col("kw_score")) * (1 - weights.code_agrees))
            .otherwise(pl.col("kw_score"))
            .alias("score"),
            pl.when(agrees)
            .then(pl.lit("keyword+code"))
            .otherwise(pl.lit("keyword"))
            .alias("method"),
        )
        .filter(pl.col("score") >= weights.min_score)
        .drop("kw_score")
    )
    by_code = (
        codes.filter(pl.col("defining") & pl.col("unique_in_chain"))
        .join(by_keyword.select("_row").unique(), on="_row", how="anti")
        .select(
            *K,
            "industry_code",
            pl.lit(weights.code_only).alias("score"),
            pl.lit("code").alias("method"),
        )
        .filter(pl.col("score") >= weights.min_score)
    )
    out = pl.concat([by_keyword, by_code], how="diagonal")
    # the most specific node wins: a child's firm is not also its parent's
    covered = out.join(vocab.parents, on="node_idx").select(
        "_row", pl.col("parent_idx").alias("node_idx")
    )
    if covered.height:
        out = out.join(covered.unique(), on=K, how="anti")
    best = pl.col("score").max().over("_row")
    out = out.filter(~((pl.col("score") <= weights.ancillary_max) & (pl.col("score") < best)))
    out = _first_mention_wins(out, counted, frame, vocab, weights)
    return _with_names(out, counted, frame, vocab)


def _words(vocab: Vocabulary) -> pl.DataFrame:
    return pl.DataFrame(
        {"kw_id": pl.Series(range(len(vocab.patterns)), dtype=pl.UInt32), "word": vocab.patterns}
    )


def _first_mention_wins(
    out: pl.DataFrame,
    counted: pl.DataFrame,
    frame: pl.DataFrame,
    vocab: Vocabulary,
    weights: ClassifyWeights,
) -> pl.DataFrame:
    """Among a firm's lone mentions only, keep the one named first: registry clerks list the
    main business first and licensed side activities after it."""
    only_lone = (pl.col("score").max().over("_row") <= weights.ancillary_max) & (
        pl.len().over("_row") > 1
    )
    lone = out.filter(only_lone)
    if not lone.height:
        return out
    text = pl.concat_str(pl.col("products"), pl.lit("\n"), pl.col("business_scope"))
    placed = (
        lone.join(counted.select(*K, "kw_id"), on=K)
        .join(_words(vocab), on="kw_id")
        .join(frame.select("_row", *TEXT_COLUMNS), on="_row")
        .with_columns(
            text.str.to_uppercase()
            .str.find(pl.col("word"), literal=True)
            .fill_null(1 << 30)
            .alias("_pos")
        )
        .group_by(K)
        .agg(pl.col("_pos").min())
    )
    first = (
        lone.join(placed, on=K)
        .filter(pl.col("_pos") == pl.col("_pos").min().over("_row"))
        .select(out.columns)
    )
    return pl.concat([out.filter(~only_lone), first])


def _with_names(
    out: pl.DataFrame, counted: pl.DataFrame, frame: pl.DataFrame, vocab: Vocabulary
) -> pl.DataFrame:
    """Back from ids to uscc, chain_id, node_id and a readable evidence string."""
    kept = (
        counted.select(*K, "kw_id")
        .join(out.filter(pl.col("method") != "code").select(K), on=K, how="semi")
        # ids follow the sorted keyword list, so sorting ids orders the words
        .sort(*K, "kw_id")
    )
    kw_text = (
        kept.with_columns(pl.Series("word", vocab.patterns).gather(kept["kw_id"]).alias("word"))
        .group_by(K, maintain_order=True)
        .agg(pl.col("word"))  # a list joined afterwards: far faster than a string aggregation
        .select(*K, pl.col("word").list.join(",").alias("_kws"))
    )
    code_part = pl.concat_str(pl.lit("code:"), pl.col("industry_code"))
    evidence = (
        pl.when(pl.col("method") == "code")
        .then(code_part)
        .when(pl.col("method") == "keyword+code")
        .then(pl.concat_str(pl.lit("kw:"), pl.col("_kws"), pl.lit(";"), code_part))
        .otherwise(pl.concat_str(pl.lit("kw:"), pl.col("_kws")))
    )
    out = out.join(kw_text, on=K, how="left").sort(K)
    # ids index straight into the input and the node table: no string joins
    named = pl.DataFrame(
        {
            "uscc": frame["uscc"].gather(out["_row"]),
            "chain_id": vocab.nodes["chain_id"].gather(out["node_idx"]),
            "node_id": vocab.nodes["node_id"].gather(out["node_idx"]),
        }
    ).with_columns(out.select("score", "method", evidence.alias("evidence")))
    return named.cast(ASSIGNMENT_SCHEMA)  # type: ignore[arg-type]
