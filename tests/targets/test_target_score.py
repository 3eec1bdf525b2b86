"""The score's components, each checked against values worked by hand from docs/targets.md."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from chainatlas.targets.score import (
    COMPONENT_COLUMNS,
    component,
    distance_component,
    great_circle_km,
    growth_component,
    known_tags,
    partner_points,
    partner_referral,
    prune,
    rank_targets,
    relocation,
    size_component,
    tags_component,
    target_components,
    target_score,
)
from chainatlas.targets.weights import TargetScales, TargetWeights

SCALES = TargetScales()


def one(expr: pl.Expr, **columns: list[object]) -> list[object]:
    return pl.DataFrame(columns).select(expr.alias("x"))["x"].to_list()


def test_size_is_log_capital_against_a_fixed_full_capital() -> None:
    got = one(size_component(pl.col("c"), SCALES), c=[0.0, None, -5.0, 100.0, 100_000.0, 1e9])
    assert got[:3] == [0.0, 0.0, 0.0]
    assert got[3] == pytest.approx(math.log(101) / math.log(100_001))
    assert got[4] == pytest.approx(1.0)
    assert got[5] == 1.0  # capped


def test_growth_is_establishment_recency() -> None:
    as_of = dt.date(2026, 1, 1)
    dates = [as_of, dt.date(2021, 1, 1), dt.date(2010, 1, 1), None, dt.date(2027, 1, 1)]
    got = one(growth_component(pl.col("d"), as_of, SCALES), d=dates)
    five_years = (as_of - dt.date(2021, 1, 1)).days / 365.25
    assert got == pytest.approx([1.0, 1 - five_years / 10, 0.0, 0.0, 1.0])


def test_tags_take_the_best_tag() -> None:
    tags = [
        "上市;高新技术企业",
        "专精特新小巨人;专精特新",
        "小巨人",
        "专精特新",
        "高新技术企业",
        None,
        "其他",
    ]
    assert one(tags_component(pl.col("t")), t=tags) == [1.0, 0.8, 0.8, 0.5, 0.3, 0.0, 0.0]
    assert known_tags("高新技术企业;上市;其他") == ["上市", "高新技术企业"]


def test_distance_halves_at_the_half_distance() -> None:
    got = one(distance_component(pl.col("km"), SCALES), km=[0.0, 500.0, 1500.0, None])
    assert got == pytest.approx([1.0, 0.5, 0.25, 0.0])


def test_great_circle_beijing_shanghai() -> None:
    # 北京 (116.4074, 39.9042) – 上海 (121.4737, 31.2304): ≈ 1068 km on the mean sphere
    km = one(
        great_circle_km(pl.col("a"), pl.col("b"), pl.col("c"), pl.col("d")),
        a=[116.4074],
        b=[39.9042],
        c=[121.4737],
        d=[31.2304],
    )[0]
    assert km == pytest.approx(1067.3, abs=1.0)


def test_partner_points_and_noisy_or() -> None:
    links = pl.DataFrame(
        {
            "uscc": ["T1", "T1", "T1", "T2", "T3"],
            "local_uscc": ["L1", "L1", "L2", "L2", "L9"],
            "relation": ["supplier", "customer", "supplier", "customer", "supplier"],
            "links": [1, 2, 1, 1, 1],
            "amount": [10.0, None, None, None, 5.0],
        }
    )
    local = pl.DataFrame(
        {"uscc": ["L1", "L2"], "name": ["甲", "乙"], "registered_capital": [100.0, 100_000.0]}
    )
    points = partner_points(links, local, {"L1"}, SCALES).sort("uscc", "local_uscc")
    # L9 is not a local firm: no row
    assert points.select("uscc", "local_uscc", "relation", "lead_firm", "links").rows() == [
        ("T1", "L1", "both", True, 3),
        ("T1", "L2", "supplier", False, 1),
        ("T2", "L2", "customer", False, 1),
    ]
    assert points["amount"].to_list() == [10.0, None, None]
    other = 0.3 + 0.4 * 1.0  # L2's capital is the full capital: size 1
    assert points["points"].to_list() == pytest.approx([0.8, other, other])
    per_firm = partner_referral(points).sort("uscc")
    assert per_firm["local_partners"].to_list() == [2, 1]
    assert per_firm[component("partner_referral")].to_list() == pytest.approx(
        [1 - (1 - 0.8) * (1 - other), other]
    )


def test_relocation_needs_a_source_province_and_a_saturated_origin() -> None:
    origins = pl.DataFrame(
        {
            "origin_code": ["440100", "510100", "320500", "330100"],
            "node_id": ["b"] * 4,
            "node_firms": [20, 20, 200, 1],
            "chain_firms": [20, 20, 400, 100],
            "national_node_firms": [50] * 4,
            "national_chain_firms": [100] * 4,
        }
    )
    got = relocation(origins, ["440000", "320000", "330000"], SCALES)
    # LQ: (20/20)/(50/100) = 2; (200/400)/(0.5) = 1; (1/100)/0.5 = 0.02
    assert got["lq"].to_list() == pytest.approx([2.0, 2.0, 1.0, 0.02])
    assert got["source"].to_list() == [True, False, True, True]
    lq_part = (2.0 - 1) / (3.0 - 1)
    density = math.log(21) / math.log(201)
    assert got[component("relocation")].to_list() == pytest.approx(
        [math.sqrt(lq_part * density), 0.0, 0.0, 0.0]
    )


def _components(values: dict[str, list[float]]) -> pl.DataFrame:
    return pl.DataFrame({component(k): v for k, v in values.items()})


def test_score_is_the_weighted_sum() -> None:
    weights = TargetWeights()
    frame = _components(
        {k: [0.5, 1.0] for k in ("fit", "size", "growth", "tags", "partner_referral")}
        | {"relocation": [0.0, 1.0], "distance": [1.0, 1.0]}
    )
    scored = target_score(frame, weights)
    w = weights.component_weights()
    first = 0.5 * (w["fit"] + w["size"] + w["growth"] + w["tags"] + w["partner_referral"])
    assert scored["score"].to_list() == pytest.approx([first + w["distance"], sum(w.values())])
    assert sum(w.values()) == pytest.approx(1.0)  # the defaults read as shares


def test_target_components_from_facts() -> None:
    frame = pl.DataFrame(
        {
            "node_fit": [1.2, None],
            "registered_capital": [100_000.0, 0.0],
            "established": [dt.date(2025, 1, 1), None],
            "tags": ["上市", None],
            "distance_km": [0.0, None],
            component("partner_referral"): [0.5, None],
            component("relocation"): [None, 0.25],
        }
    )
    got = target_components(frame, SCALES, dt.date(2025, 1, 1)).select(COMPONENT_COLUMNS)
    assert got.rows() == [(1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 1.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0)]


def test_rank_breaks_ties_by_code_and_keeps_top() -> None:
    frame = pl.DataFrame(
        {
            "node_id": ["b", "b", "b", "c"],
            "uscc": ["Z", "A", "M", "Q"],
            "score": [0.5, 0.5, 0.9, 0.1],
        }
    )
    ranked = rank_targets(frame, 2)
    assert ranked.select("node_id", "uscc", "rank").rows() == [
        ("b", "M", 1),
        ("b", "A", 2),
        ("c", "Q", 1),
    ]


def test_prune_keeps_every_row_that_can_still_reach_the_top() -> None:
    weights = TargetWeights()
    w = weights.component_weights()
    base = {k: [0.0] * 4 for k in ("fit", "size", "tags", "partner_referral", "relocation")}
    frame = _components(base | {"distance": [1.0, 0.9, 0.9 - w["growth"] / w["distance"], 0.0]})
    frame = frame.with_columns(pl.lit("b").alias("node_id"))
    # bar = second best lower bound = 0.9 × w_distance; row 3 reaches it exactly with growth 1
    kept = prune(frame, weights, 2, unknown=["growth"])
    assert kept.height == 3
    assert prune(frame, weights, 4, unknown=["growth"]).height == 4
    dated = frame.with_columns(pl.lit(0.0).alias(component("growth")))
    assert prune(dated, weights, 1, unknown=[]).height == 1


def test_weights_are_checked() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        TargetWeights(size=-0.1)
    with pytest.raises(ValidationError):
        TargetWeights(source_provinces=["江苏"])
    assert TargetWeights(source_provinces=["510000"]).source_provinces == ["510000"]
