"""Which components are reasons, in which order, and the reasons line in both languages."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from chainatlas.targets.reasons import (
    MAX_IN_LINE,
    reason_condition,
    reason_lines,
    reason_threshold,
    with_reasons,
)
from chainatlas.targets.score import component
from chainatlas.targets.weights import COMPONENTS, TargetScales, TargetWeights

SCALES = TargetScales()


def test_thresholds_follow_the_scales() -> None:
    assert reason_threshold("partner_referral", SCALES) == (0.0, True)
    assert reason_threshold("tags", SCALES) == (0.0, True)
    assert reason_threshold("relocation", SCALES) == (0.5, False)
    assert reason_threshold("growth", SCALES) == pytest.approx((1 - 3 / 10, False))
    size, strict = reason_threshold("size", SCALES)
    assert size == pytest.approx(math.log(10_001) / math.log(100_001)) and not strict
    assert reason_threshold("fit", SCALES) == (0.95, False)
    assert reason_threshold("distance", SCALES) == pytest.approx((1 / (1 + 300 / 500), False))
    # growth as a reason for any age when the recent window covers the whole horizon
    wide = TargetScales(recent_years=20)
    assert reason_threshold("growth", wide) == (0.0, True)
    with pytest.raises(ValueError, match="unknown reason"):
        reason_threshold("charm", SCALES)


def test_reason_condition_at_the_threshold() -> None:
    bar, _ = reason_threshold("distance", SCALES)
    frame = pl.DataFrame({component("distance"): [bar, bar - 1e-6, 1.0]})
    assert frame.select(reason_condition("distance", SCALES))[component("distance")].to_list() == [
        True,
        False,
        True,
    ]


def _row(**components: float) -> dict[str, float]:
    return {component(k): components.get(k, 0.0) for k in COMPONENTS}


def test_reasons_are_ordered_by_contribution() -> None:
    weights = TargetWeights()
    frame = pl.DataFrame(
        [
            # partner 0.25 × 0.8 = 0.2, tags 0.15 × 0.3 = 0.045, distance 0.1 × 1 = 0.1
            _row(partner_referral=0.8, tags=0.3, distance=1.0, fit=0.5, size=0.2),
            _row(fit=0.5, size=0.5),  # neither reaches its threshold
        ]
    )
    got = with_reasons(frame, weights)
    assert got["reasons"].to_list() == [["partner_referral", "distance", "tags"], []]
    assert got["primary_reason"].to_list() == ["partner_referral", None]


def facts(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "reasons": [],
        "partner_name": None,
        "partner_relation": None,
        "partner_lead": None,
        "local_partners": 0,
        "origin_name": "广东省广州市",
        "origin_lq": 2.5217,
        "origin_node_firms": 20,
        "tags": None,
        "established": dt.date(2015, 1, 1),
        "registered_capital": 100.0,
        "national_rank": 30,
        "node_fit": 0.96,
        "distance_km": 212.4,
    }
    row.update(over)
    return row


def test_reason_lines_use_only_the_facts() -> None:
    rows = [
        facts(
            reasons=["partner_referral", "tags", "growth"],
            partner_name="梧州丙一",
            partner_relation="supplier",
            partner_lead=True,
            local_partners=3,
            tags="专精特新小巨人;专精特新",
            established=dt.date(2024, 5, 1),
        ),
        facts(reasons=["relocation", "size", "distance"], registered_capital=25_000.0),
        facts(reasons=["fit"], partner_lead=False),
        facts(),
    ]
    schema_row = pl.DataFrame(rows, infer_schema_length=None)
    got = reason_lines(schema_row, SCALES)
    assert got["reason_zh"].to_list() == [
        "本地链主梧州丙一的供应商（共3家本地伙伴）；专精特新小巨人、专精特新；近3年新设（2024年成立）",
        "来自产业转出地广东省广州市（该环节LQ 2.5，同业20家）；注册资本2.5亿元，全国同环节第30位；"
        "距本地约212公里",
        "归链得分0.96",
        "无单项突出理由，按综合得分入选",
    ]
    assert got["reason_en"].to_list() == [
        "supplier of local lead firm 梧州丙一 (3 local partners in all); SRDI 'little giant', "
        "SRDI firm; new within 3 years (established 2024)",
        "from source region 广东省广州市, saturated in the node (LQ 2.5, 20 firms); registered "
        "capital CNY 250.0 m, no. 30 nationally in the node; about 212 km away",
        "node fit 0.96",
        "no single strong reason; chosen on the overall score",
    ]


def test_the_line_names_at_most_three_reasons() -> None:
    row = facts(reasons=["fit", "distance", "size", "growth"], established=dt.date(2025, 1, 1))
    line = reason_lines(pl.DataFrame([row]), SCALES)["reason_zh"][0]
    assert line.count("；") == MAX_IN_LINE - 1 and "新设" not in line
