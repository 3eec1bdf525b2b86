"""Yearly duty scores of CPPCC members (委员履职量化计分). Pure: frames in, frames out.

Input: one row per scored item (SCORE_ITEM_SCHEMA): a member's duty record (its kind) or
its attendance at a consultation (`attended`, or `absent` when absent without leave —
excused absences score nothing), with the day it happened. Only items of `year` count.

Rules (configurable per year, `ScoringRules`): for each item kind, points per item and a
cap on the points a member earns from that kind in a year; a cap on the total.

    points_k = clip(n_k · p_k, −cap_k, cap_k)        (no clipping when cap_k is None)
    raw      = Σ_k points_k
    score    = min(raw, total_cap)                    (raw when total_cap is None)

A negative `p_k` (a deduction, e.g. for absences) is capped in size the same way. Rank 1 is
the highest score; equal scores share a rank.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from chainatlas.cppcc.vocabulary import DUTY_KIND_NAMES
from chainatlas.errors import UserError

SCORE_ITEM_SCHEMA: dict[str, pl.DataType] = {
    "member_id": pl.Int64(),
    "item": pl.String(),
    "on": pl.Date(),
}
ITEM_NAMES: dict[str, tuple[str, str]] = {
    **DUTY_KIND_NAMES,
    "attended": ("出席协商会议", "consultations attended"),
    "absent": ("无故缺席协商会议", "consultations missed without leave"),
}


@dataclass(frozen=True)
class ItemRule:
    points: float
    cap: float | None = None


@dataclass(frozen=True)
class ScoringRules:
    items: Mapping[str, ItemRule] = field(default_factory=dict)
    total_cap: float | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "items": {k: {"points": r.points, "cap": r.cap} for k, r in self.items.items()},
                "total_cap": self.total_cap,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, value: str) -> ScoringRules:
        data = json.loads(value)
        return check_rules(
            {k: (v["points"], v.get("cap")) for k, v in data["items"].items()},
            data.get("total_cap"),
        )


DEFAULT_RULES = ScoringRules(
    items={
        "visit": ItemRule(2, 20),
        "investment_event": ItemRule(3, 15),
        "research": ItemRule(2, 10),
        "speech": ItemRule(3, 15),
        "proposal": ItemRule(5, 20),
        "matchmaking": ItemRule(3, 15),
        "village_pairing": ItemRule(5, 10),
        "attended": ItemRule(2),
        "absent": ItemRule(-3),
    },
    total_cap=100,
)


def _number(value: object, what_zh: str, what_en: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UserError(
            f"{what_zh}「{value}」不是数字", f"{what_en} {value!r} is not a number"
        ) from None
    if not math.isfinite(number):
        raise UserError(f"{what_zh}「{value}」无效", f"invalid {what_en} {value!r}")
    return number


def _cap(value: object, what_zh: str, what_en: str) -> float | None:
    if value is None or value == "":
        return None
    cap = _number(value, what_zh, what_en)
    if cap < 0:
        raise UserError(f"{what_zh}不能为负", f"{what_en} cannot be negative")
    return cap


def check_rules(
    items: Mapping[str, tuple[object, object]], total_cap: object = None
) -> ScoringRules:
    """Rules as a person enters them: item kind → (points, cap or None); known kinds only."""
    checked: dict[str, ItemRule] = {}
    for item, (points, cap) in items.items():
        if item not in ITEM_NAMES:
            raise UserError(f"未知计分项「{item}」", f"unknown scoring item {item!r}")
        name_zh, name_en = ITEM_NAMES[item]
        checked[item] = ItemRule(
            _number(points, f"「{name_zh}」的分值", f"points of {name_en}"),
            _cap(cap, f"「{name_zh}」的上限", f"cap of {name_en}"),
        )
    return ScoringRules(checked, _cap(total_cap, "总分上限", "total cap"))


def duty_scores(
    items: pl.DataFrame,
    rules: ScoringRules,
    *,
    year: int,
    members: Collection[int] | None = None,
) -> pl.DataFrame:
    """One row per member: `n_<item>` and `points_<item>` for every item kind of the rules,
    `raw` (before the total cap), `score` and `rank`, best first. `members`: rows to show
    even without any item."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    kinds = list(rules.items)
    in_year = items.filter(
        pl.col("on").is_between(pl.lit(start), pl.lit(end), closed="both")
        & pl.col("item").is_in(kinds)
    )
    counts = in_year.group_by("member_id").agg(
        [(pl.col("item") == k).sum().cast(pl.Int64).alias(f"n_{k}") for k in kinds]
    )
    keys = in_year.select("member_id").unique()
    if members is not None:
        extra = pl.DataFrame({"member_id": list(members)}, schema={"member_id": pl.Int64()})
        keys = pl.concat([keys, extra]).unique()
    table = keys.join(counts, on="member_id", how="left").with_columns(
        [pl.col(f"n_{k}").fill_null(0) for k in kinds]
    )
    points = []
    for k, rule in rules.items.items():
        earned = pl.col(f"n_{k}").cast(pl.Float64) * rule.points
        if rule.cap is not None:
            earned = earned.clip(-rule.cap, rule.cap)
        points.append(earned.alias(f"points_{k}"))
    table = table.with_columns(points)
    raw = pl.sum_horizontal([pl.col(f"points_{k}") for k in kinds]) if kinds else pl.lit(0.0)
    table = table.with_columns(raw=raw.cast(pl.Float64))
    score = pl.col("raw")
    if rules.total_cap is not None:
        score = pl.min_horizontal(score, pl.lit(rules.total_cap))
    table = table.with_columns(score=score.cast(pl.Float64).round(6))
    return table.with_columns(
        rank=pl.col("score").rank(method="min", descending=True).cast(pl.Int64)
    ).sort(["rank", "member_id"])
