"""Evaluate the classifier on the shipped labelled sets (or a user's)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Column, Table

from chainatlas.atlas.model import Chain
from chainatlas.classify import build_vocabulary, classify
from chainatlas.classify.evaluate import scores
from chainatlas.errors import UserError
from chainatlas.settings import ClassifyWeights

SHIPPED_SETS = ("dev", "dev2", "test")


def read_labelled(
    text: str, source: str, nodes: Collection[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """JSON lines: {"id", "business_scope", "products", "industry_code", "labels": ["chain/node", …]}.
    With `nodes` ("chain/node" of the atlas), a label naming no node of it is refused."""
    items: list[dict[str, Any]] = []
    gold: list[tuple[str, str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            item_id = str(record["id"])
            for label in record.get("labels", []):
                chain_id, node_id = label.split("/", 1)
                gold.append((item_id, chain_id, node_id))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(
                f"{source} 第{number}行无法解析：{exc}",
                f"{source} line {number} cannot be read: {exc}",
            ) from exc
        unknown = [x for x in record.get("labels", []) if nodes is not None and x not in nodes]
        if unknown:
            raise UserError(
                f"{source} 第{number}行「labels」：{unknown[0]} 不是产业链图谱中的环节（产业链/环节）",
                f"{source} line {number}, 'labels': {unknown[0]} is not a chain/node of the atlas",
            )
        items.append(
            {
                "uscc": item_id,
                "business_scope": record.get("business_scope") or None,
                "products": record.get("products") or None,
                "industry_code": record.get("industry_code") or None,
            }
        )
    frame = pl.DataFrame(
        items,
        schema={
            "uscc": pl.String,
            "business_scope": pl.String,
            "products": pl.String,
            "industry_code": pl.String,
        },
    )
    gold_frame = pl.DataFrame(
        gold,
        schema={"item_id": pl.String, "chain_id": pl.String, "node_id": pl.String},
        orient="row",
    )
    return frame, gold_frame


def _shipped(name: str) -> str:
    return (
        resources.files("chainatlas.classify")
        .joinpath(f"data/labelled_{name}.jsonl")
        .read_text("utf-8")
    )


def evaluate_frame(
    items: pl.DataFrame, gold: pl.DataFrame, atlas: Mapping[str, Chain], weights: ClassifyWeights
) -> dict[str, Any]:
    from chainatlas.ingest.normalize import normalize_frame

    items = normalize_frame(items, ["business_scope", "products"])
    predicted = classify(items, build_vocabulary(atlas), weights).rename({"uscc": "item_id"})
    node = scores(predicted, gold, ["chain_id", "node_id"])
    chain = scores(predicted, gold, ["chain_id"])
    return {
        "items": items.height,
        "gold_assignments": gold.height,
        "node_level": node.to_dicts(),
        "chain_level": chain.to_dicts(),
    }


def evaluate_labelled(
    atlas: Mapping[str, Chain], path: Path | None, weights: ClassifyWeights
) -> dict[str, Any]:
    if path is not None:
        if not path.is_file():
            raise UserError(f"找不到标注集 {path}", f"no labelled set at {path}")
        nodes = {f"{cid}/{node.id}" for cid, chain in atlas.items() for node in chain.nodes}
        items, gold = read_labelled(path.read_text("utf-8"), str(path), nodes)
        return {"sets": {path.name: evaluate_frame(items, gold, atlas, weights)}}
    return {
        "sets": {
            name: evaluate_frame(*read_labelled(_shipped(name), name), atlas, weights)
            for name in SHIPPED_SETS
        }
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def render_evaluation(
    report: dict[str, Any], chain_names: Mapping[str, str] | None = None
) -> list[Table]:
    """One table per set (its name in the title, so the rows keep their width for the
    figures), chains by name."""
    names = {"*": "合计 all", **(chain_names or {})}
    tables = []
    for set_name, result in report["sets"].items():
        table = Table(
            "层级 level",
            Column("产业链 chain", no_wrap=True),
            "标注 gold",
            "预测 predicted",
            "命中 tp",
            "精确率 P",
            "召回率 R",
            "F1",
            title=f"归链评估 / classification evaluation · {set_name} ({result['items']})",
        )
        for level in ("node_level", "chain_level"):
            for row in result[level]:
                table.add_row(
                    level.split("_")[0],
                    names.get(row["chain_id"], row["chain_id"]),
                    str(row["gold"]),
                    str(row["predicted"]),
                    str(row["tp"]),
                    _fmt(row["precision"]),
                    _fmt(row["recall"]),
                    _fmt(row["f1"]),
                    style="bold" if row["chain_id"] == "*" else "",
                    end_section=row["chain_id"] == "*",
                )
        tables.append(table)
    return tables
