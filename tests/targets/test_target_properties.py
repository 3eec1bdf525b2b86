"""Ranking invariants (Hypothesis): domination, independence from unrelated firms and from
row order, and exact pruning."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.targets.score import (
    component,
    prune,
    rank_targets,
    target_components,
    target_score,
)
from chainatlas.targets.weights import COMPONENTS, TargetWeights

AS_OF = dt.date(2026, 1, 1)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
weights_st = st.builds(
    TargetWeights,
    **{k: st.floats(min_value=0.01, max_value=1.0) for k in COMPONENTS},
)


@settings(max_examples=200, deadline=None)
@given(
    weights=weights_st,
    base=st.lists(unit, min_size=7, max_size=7),
    lift=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=7, max_size=7),
    strict=st.integers(min_value=0, max_value=6),
    others=st.lists(st.lists(unit, min_size=7, max_size=7), max_size=5),
)
def test_a_dominating_firm_ranks_above(
    weights: TargetWeights,
    base: list[float],
    lift: list[float],
    strict: int,
    others: list[list[float]],
) -> None:
    worse = base
    better = [min(1.0, b + d) for b, d in zip(base, lift, strict=True)]
    if worse[strict] > 0.999:  # make room to be strictly better somewhere
        worse = [*worse[:strict], 0.5, *worse[strict + 1 :]]
    better[strict] = max(better[strict], worse[strict] + 1e-3)
    rows = [("A_worse", worse), ("Z_better", better)]  # the tie-break would favour "A"
    rows += [(f"M{i}", values) for i, values in enumerate(others)]
    frame = pl.DataFrame(
        {
            "node_id": ["b"] * len(rows),
            "uscc": [u for u, _ in rows],
            **{component(k): [v[i] for _, v in rows] for i, k in enumerate(COMPONENTS)},
        }
    )
    order = rank_targets(target_score(frame, weights), None)["uscc"].to_list()
    assert order.index("Z_better") < order.index("A_worse")


firm_facts = st.fixed_dictionaries(
    {
        "node_fit": unit,
        "registered_capital": st.one_of(st.none(), st.floats(min_value=0.0, max_value=1e6)),
        "established": st.one_of(
            st.none(), st.dates(min_value=dt.date(1980, 1, 1), max_value=dt.date(2026, 12, 31))
        ),
        "tags": st.sampled_from([None, "上市", "专精特新小巨人;专精特新", "高新技术企业", "其他"]),
        "distance_km": st.one_of(st.none(), st.floats(min_value=0.0, max_value=4000.0)),
        component("partner_referral"): unit,
        component("relocation"): unit,
    }
)
SCHEMA = {
    "node_id": pl.String,
    "uscc": pl.String,
    "node_fit": pl.Float64,
    "registered_capital": pl.Float64,
    "established": pl.Date,
    "tags": pl.String,
    "distance_km": pl.Float64,
    component("partner_referral"): pl.Float64,
    component("relocation"): pl.Float64,
}


def _frame(facts: list[dict[str, object]], prefix: str = "F") -> pl.DataFrame:
    rows = [{"node_id": "b", "uscc": f"{prefix}{i:03d}", **f} for i, f in enumerate(facts)]
    return pl.DataFrame(rows, schema=SCHEMA)


def _ranked(frame: pl.DataFrame, weights: TargetWeights, top: int | None = None) -> list[str]:
    scored = target_score(target_components(frame, weights.scales, AS_OF), weights)
    return rank_targets(scored, top)["uscc"].to_list()


@settings(max_examples=200, deadline=None)
@given(
    weights=weights_st,
    facts=st.lists(firm_facts, min_size=1, max_size=12),
    newcomer=firm_facts,
)
def test_an_unrelated_firm_does_not_reorder_the_rest(
    weights: TargetWeights, facts: list[dict[str, object]], newcomer: dict[str, object]
) -> None:
    """Components are absolute transforms of each firm's own facts, never ranks or shares
    within the pool: a newcomer can take a place, not swap two others."""
    before = _ranked(_frame(facts), weights)
    after = _ranked(pl.concat([_frame(facts), _frame([newcomer], prefix="N")]), weights)
    assert [u for u in after if not u.startswith("N")] == before


@settings(max_examples=150, deadline=None)
@given(weights=weights_st, facts=st.lists(firm_facts, min_size=1, max_size=15), seed=st.integers())
def test_ranking_does_not_depend_on_row_order(
    weights: TargetWeights, facts: list[dict[str, object]], seed: int
) -> None:
    frame = _frame(facts)
    assert _ranked(frame.sample(fraction=1.0, shuffle=True, seed=seed % 2**32), weights) == (
        _ranked(frame, weights)
    )


@settings(max_examples=200, deadline=None)
@given(
    weights=weights_st,
    facts=st.lists(firm_facts, min_size=1, max_size=25),
    top=st.integers(min_value=1, max_value=8),
)
def test_pruning_before_the_dates_are_read_loses_no_target(
    weights: TargetWeights, facts: list[dict[str, object]], top: int
) -> None:
    frame = _frame(facts)
    exact = _ranked(frame, weights, top)
    undated = target_components(frame.drop("established"), weights.scales, AS_OF)
    kept = prune(undated, weights, top, unknown=["growth"])["uscc"]
    assert set(exact) <= set(kept.to_list())
    assert _ranked(frame.filter(pl.col("uscc").is_in(kept.implode())), weights, top) == exact
