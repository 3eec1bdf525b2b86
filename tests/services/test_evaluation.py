"""`chainatlas evaluate`: the shipped labelled sets are sound and independent, a bad line is
named, and the figures follow from the classifier's output."""

from __future__ import annotations

import json
from importlib import resources

import polars as pl
import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.classify import build_vocabulary, classify
from chainatlas.errors import UserError
from chainatlas.ingest.normalize import normalize_frame
from chainatlas.services.evaluation import (
    SHIPPED_SETS,
    evaluate_frame,
    read_labelled,
)
from chainatlas.settings import ClassifyWeights


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas([])


def shipped(name: str) -> list[dict[str, object]]:
    text = (
        resources.files("chainatlas.classify")
        .joinpath(f"data/labelled_{name}.jsonl")
        .read_text("utf-8")
    )
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_shipped_sets_are_sound_and_independent(atlas: dict[str, Chain]) -> None:
    sets = {name: shipped(name) for name in SHIPPED_SETS}
    # the issue asks for at least 500 hand-written descriptions; the held-out set alone
    # is big enough to report per chain
    assert sum(len(records) for records in sets.values()) >= 500
    assert len(sets["test"]) >= 300
    ids = [r["id"] for records in sets.values() for r in records]
    assert len(ids) == len(set(ids))
    scopes = [r["business_scope"] for records in sets.values() for r in records]
    scopes = [s for s in scopes if s]
    assert len(scopes) == len(set(scopes))  # no text in two sets (or twice in one)
    nodes = {f"{cid}/{n.id}" for cid, chain in atlas.items() for n in chain.nodes}
    parents = {
        f"{cid}/{n.id}": f"{cid}/{n.parent}"
        for cid, chain in atlas.items()
        for n in chain.nodes
        if n.parent
    }
    for name, records in sets.items():
        unlabelled = sum(1 for r in records if not r["labels"])
        assert 0.05 <= unlabelled / len(records) <= 0.3, name  # confusables off every chain
        for r in records:
            labels = set(r["labels"])  # type: ignore[arg-type]
            assert labels <= nodes, (name, r["id"], labels - nodes)
            # a child's firm is not also its parent's (the classifier's rule)
            assert not any(parents.get(label) in labels for label in labels), r["id"]
        chains = {label.split("/")[0] for r in records for label in r["labels"]}  # type: ignore[attr-defined]
        assert chains == set(atlas), name  # every chain is evaluated in every set


def test_a_bad_line_is_named_in_both_languages() -> None:
    text = '{"id": "x1", "business_scope": "甘蔗种植", "labels": []}\n{"id": "x2", "labels": [}\n'
    with pytest.raises(UserError) as err:
        read_labelled(text, "mine.jsonl")
    assert "mine.jsonl 第2行" in err.value.message_zh
    assert "mine.jsonl line 2" in err.value.message_en


def test_the_figures_follow_from_the_classifiers_output(atlas: dict[str, Chain]) -> None:
    texts = shipped("dev")[:40]
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in texts)
    items, _ = read_labelled(lines, "dev")
    weights = ClassifyWeights()
    predicted = classify(
        normalize_frame(items, ["business_scope", "products"]), build_vocabulary(atlas), weights
    ).select(pl.col("uscc").alias("item_id"), "chain_id", "node_id")
    assert predicted.height > 20
    # gold = the predictions: everything right
    perfect = evaluate_frame(items, predicted, atlas, weights)
    overall = next(r for r in perfect["node_level"] if r["chain_id"] == "*")
    assert overall["precision"] == overall["recall"] == overall["f1"] == 1.0
    # drop five predictions from gold and add three it does not make
    extra = pl.DataFrame(
        {
            "item_id": [texts[0]["id"]] * 3,
            "chain_id": ["sugarcane"] * 3,
            "node_id": ["cane_planting", "cane_seedling", "bagasse_pulp_paper"],
        }
    ).join(predicted, on=["item_id", "chain_id", "node_id"], how="anti")
    gold = pl.concat([predicted.slice(5), extra])
    got = evaluate_frame(items, gold, atlas, weights)
    overall = next(r for r in got["node_level"] if r["chain_id"] == "*")
    n = predicted.height
    assert (overall["gold"], overall["predicted"], overall["tp"]) == (
        n - 5 + extra.height,
        n,
        n - 5,
    )
    assert overall["precision"] == pytest.approx((n - 5) / n)
    assert overall["recall"] == pytest.approx((n - 5) / (n - 5 + extra.height))
    assert got["items"] == 40 and got["gold_assignments"] == gold.height
