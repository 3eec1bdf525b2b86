"""Precision, recall and F1 against a labelled set, worked by hand."""

from __future__ import annotations

import polars as pl
import pytest

from chainatlas.classify.evaluate import scores

KEYS_NODE = ["chain_id", "node_id"]


def frame(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["item_id", "chain_id", "node_id"], orient="row")


PREDICTED = frame([("a", "c1", "n1"), ("a", "c1", "n2"), ("b", "c2", "n3"), ("d", "c3", "n6")])
GOLD = frame([("a", "c1", "n1"), ("b", "c2", "n4"), ("c", "c1", "n5")])


def row(table: pl.DataFrame, chain: str) -> dict[str, object]:
    return table.filter(pl.col("chain_id") == chain).row(0, named=True)


def test_node_level_by_hand() -> None:
    got = scores(PREDICTED, GOLD, KEYS_NODE)
    c1 = row(got, "c1")  # gold a/n1, c/n5; predicted a/n1, a/n2; one hit
    assert (c1["gold"], c1["predicted"], c1["tp"]) == (2, 2, 1)
    assert c1["precision"] == c1["recall"] == c1["f1"] == pytest.approx(0.5)
    c2 = row(got, "c2")  # b predicted on the wrong node of the right chain
    assert (c2["tp"], c2["precision"], c2["recall"], c2["f1"]) == (0, 0.0, 0.0, 0.0)
    c3 = row(got, "c3")  # a chain nobody labelled: no recall to speak of
    assert (c3["gold"], c3["predicted"], c3["precision"], c3["recall"]) == (0, 1, 0.0, None)
    overall = row(got, "*")
    assert (overall["gold"], overall["predicted"], overall["tp"]) == (3, 4, 1)
    assert overall["precision"] == pytest.approx(1 / 4)
    assert overall["recall"] == pytest.approx(1 / 3)
    assert overall["f1"] == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))


def test_chain_level_counts_a_firm_once_per_chain() -> None:
    got = scores(PREDICTED, GOLD, ["chain_id"])
    c1 = row(got, "c1")  # a is on c1 twice in the predictions: one membership
    assert (c1["gold"], c1["predicted"], c1["tp"]) == (2, 1, 1)
    assert c1["precision"] == 1.0 and c1["recall"] == pytest.approx(0.5)
    assert c1["f1"] == pytest.approx(2 / 3)
    c2 = row(got, "c2")
    assert (c2["precision"], c2["recall"], c2["f1"]) == (1.0, 1.0, 1.0)
    overall = row(got, "*")
    assert (overall["gold"], overall["predicted"], overall["tp"]) == (3, 3, 2)
    assert overall["f1"] == pytest.approx(2 / 3)


def test_duplicate_rows_count_once() -> None:
    doubled = pl.concat([PREDICTED, PREDICTED])
    assert scores(doubled, GOLD, KEYS_NODE).equals(scores(PREDICTED, GOLD, KEYS_NODE))
