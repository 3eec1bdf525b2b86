"""Supply-network figures on hand-worked frames (metrics/network.py)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainatlas.metrics.network import (
    local_purchases_share,
    local_sourcing_rate,
    single_points_of_failure,
)


def purchases(rows: list[tuple[int, int, float, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "links": pl.Int64,
            "amount_links": pl.Int64,
            "amount": pl.Float64,
            "local_links": pl.Int64,
            "local_amount": pl.Float64,
        },
        orient="row",
    )


def test_rate_by_amount_when_amounts_cover_enough_links_else_by_count() -> None:
    out = local_sourcing_rate(
        purchases(
            [
                (8, 7, 49.0, 6, 40.0),  # 7/8 carry an amount → 40 / 49
                (4, 2, 10.0, 1, 9.0),  # exactly half: still by amount → 0.9
                (4, 1, 10.0, 1, 9.0),  # a quarter: by count → 1 / 4
                (3, 3, 0.0, 2, 0.0),  # amounts sum to zero: by count → 2 / 3
                (0, 0, 0.0, 0, 0.0),  # no purchases: no rate
            ]
        ),
        min_amount_coverage=0.5,
    )
    assert out["basis"].to_list() == ["amount", "amount", "count", "count", None]
    assert out["local_sourcing_rate"].to_list() == pytest.approx([40 / 49, 0.9, 0.25, 2 / 3, None])
    assert out["amount_coverage"].to_list() == pytest.approx([7 / 8, 0.5, 0.25, 1.0, None])


@given(
    st.integers(1, 50).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(0, n),
            st.integers(0, n),
            st.floats(0, 1),
            st.floats(0.01, 1000),
            st.floats(0, 1),
        )
    )
)
def test_rate_is_a_share(case: tuple[int, int, int, float, float, float]) -> None:
    links, amount_links, local_links, local_frac, amount, coverage = case
    frame = purchases([(links, amount_links, amount, local_links, amount * local_frac)])
    out = local_sourcing_rate(frame, min_amount_coverage=coverage).row(0, named=True)
    assert 0.0 <= out["local_sourcing_rate"] <= 1.0
    assert out["basis"] == ("amount" if amount_links >= coverage * links else "count")


def inputs(rows: list[dict[str, object]]) -> pl.DataFrame:
    base: dict[str, object] = {
        "region_code": "450400",
        "chain_id": "toy",
        "local_links": 0,
        "local_amount": 0.0,
        "top_supplier_by_amount": None,
        "top_supplier_by_amount_name": None,
        "top_supplier_amount": None,
        "top_supplier_by_links": None,
        "top_supplier_by_links_name": None,
        "top_supplier_links": None,
        "top_region_by_amount": None,
        "top_region_amount": None,
        "top_region_by_links": None,
        "top_region_links": None,
    }
    return pl.DataFrame([{**base, **r} for r in rows], infer_schema_length=None)


def test_single_points_of_failure_by_supplier_and_by_region() -> None:
    frame = inputs(
        [
            # b: T500 sells 30 of 35 (0.857) → supplier; 广州 5 of 35 → no region
            dict(
                node_id="b", links=4, amount_links=4, amount=35.0,
                top_supplier_by_amount="S500", top_supplier_by_amount_name="五百",
                top_supplier_amount=30.0, top_supplier_by_links="S500",
                top_supplier_by_links_name="五百", top_supplier_links=3,
                top_region_by_amount="440100", top_region_amount=5.0,
                top_region_by_links="440100", top_region_links=1,
            ),
            # e: exactly half from one supplier is not "more than": only the region counts
            dict(
                node_id="e", links=4, amount_links=4, amount=20.0,
                top_supplier_by_amount="S1", top_supplier_amount=10.0,
                top_supplier_by_links="S1", top_supplier_links=2,
                top_region_by_amount="440100", top_region_amount=20.0,
                top_region_by_links="440100", top_region_links=4,
            ),
            # f: too few purchases to speak of dependence
            dict(
                node_id="f", links=2, amount_links=2, amount=2.0,
                top_supplier_by_amount="S2", top_supplier_amount=2.0,
                top_supplier_by_links="S2", top_supplier_links=2,
            ),
            # g: amounts on 1 of 4 links → by count: S3 has 3 of 4 links, though S4 has the
            # largest amount
            dict(
                node_id="g", links=4, amount_links=1, amount=9.0,
                top_supplier_by_amount="S4", top_supplier_amount=9.0,
                top_supplier_by_links="S3", top_supplier_by_links_name="三",
                top_supplier_links=3,
            ),
        ]
    )  # fmt: skip
    out = single_points_of_failure(frame, spof_share=0.5, min_links=3, min_amount_coverage=0.5)
    got = [
        (r["node_id"], r["kind"], r["code"], r["name"], round(r["share"], 4), r["basis"])
        for r in out.iter_rows(named=True)
    ]
    assert got == [
        ("e", "region", "440100", None, 1.0, "amount"),
        ("b", "supplier", "S500", "五百", round(30 / 35, 4), "amount"),
        ("g", "supplier", "S3", "三", 0.75, "count"),
    ]


def test_no_inputs_no_points_of_failure() -> None:
    out = single_points_of_failure(
        inputs([dict(node_id="x", links=1, amount_links=0, amount=0.0)]).clear(),
        spof_share=0.5,
        min_links=3,
        min_amount_coverage=0.5,
    )
    assert out.height == 0 and {"kind", "code", "share"} <= set(out.columns)


def firms() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "uscc": ["T1", "T2", "T500"],
            "purchase_links_in": [0, 0, 3],
            "sale_links_in": [1, 1, 3],
            "purchases_in": [0.0, None, 10.0],
            "sales_in": [8.0, None, 30.0],
        }
    )


def test_local_purchases_share_by_amount_and_by_count() -> None:
    by_amount = local_purchases_share(
        firms(), local_links=6, local_amount=40.0, basis_used="amount"
    )
    assert by_amount["local_purchases_share"].to_list() == pytest.approx([0.2, 0.0, 1.0])
    by_count = local_purchases_share(firms(), local_links=6, local_amount=40.0, basis_used="count")
    assert by_count["local_purchases_share"].to_list() == pytest.approx([1 / 6, 1 / 6, 1.0])
    # amounts sum to zero locally: fall back to counts
    zero = local_purchases_share(firms(), local_links=6, local_amount=0.0, basis_used="amount")
    assert zero["local_purchases_share"].to_list() == pytest.approx([1 / 6, 1 / 6, 1.0])
    none = local_purchases_share(firms(), local_links=0, local_amount=0.0, basis_used=None)
    assert none["local_purchases_share"].to_list() == [0.0, 0.0, 0.0]
