"""Diagnosis on a hand-worked case (tests/conftest.py::toy_firms)."""

import pytest

from chainatlas.diagnose import SCHEMA_ID, UnknownRegionError, diagnose
from chainatlas.settings import StatusThresholds

LQ_ONLY = StatusThresholds(strong_lead_rank=0)


def test_hand_worked_counts_lq_status_break(toy_warehouse, toy_chain) -> None:  # type: ignore[no-untyped-def]
    d = diagnose(toy_warehouse, toy_chain, "450400", LQ_ONLY)
    nodes = {n.id: n for n in d.nodes}
    # local: a4 c3 d1 (b's only firm is deregistered) → x_r = 8; nation X = 22
    assert d.firm_count == 8 and d.national_firm_count == 22
    assert {k: n.firm_count for k, n in nodes.items()} == {"a": 4, "b": 0, "c": 3, "d": 1}
    assert nodes["a"].lq == pytest.approx((4 / 8) / (6 / 22), abs=1e-4)  # 1.8333
    assert nodes["c"].lq == pytest.approx((3 / 8) / (8 / 22), abs=1e-4)  # 1.0312
    assert nodes["d"].lq == pytest.approx((1 / 8) / (2 / 22), abs=1e-4)  # 1.375
    assert nodes["b"].lq == 0.0
    # capital: local a 1300 of local chain 1700; national a 1500 of 3100
    assert nodes["a"].lq_capital == pytest.approx((1300 / 1700) / (1500 / 3100), abs=1e-4)
    assert nodes["a"].national_share == pytest.approx(4 / 6, abs=1e-6)
    assert {k: n.status for k, n in nodes.items()} == {
        "a": "strong",
        "b": "missing",
        "c": "present",
        "d": "present",
    }
    assert [k for k, n in nodes.items() if n.is_break] == ["b"]
    assert d.completeness == pytest.approx(0.75)
    assert [(a.kind, a.node_ids) for a in d.actions] == [("fill", ["b"])]


def test_county_and_province_roll_up(toy_warehouse, toy_chain) -> None:  # type: ignore[no-untyped-def]
    county = diagnose(toy_warehouse, toy_chain, "450403", LQ_ONLY)
    province = diagnose(toy_warehouse, toy_chain, "450000", LQ_ONLY)
    other = diagnose(toy_warehouse, toy_chain, "450481", LQ_ONLY)
    assert county.firm_count == province.firm_count == 8
    # a region with no firm on the chain (docs/figures.md, defined edge cases)
    assert other.firm_count == 0 and all(n.status == "missing" for n in other.nodes)
    assert other.completeness == 0 and not any(n.is_break for n in other.nodes)
    assert all(n.lq in (0, None) and not n.lead_firms for n in other.nodes)  # None: none nationally
    assert [a.kind for a in other.actions] == ["build"]
    assert other.sourcing is not None and other.sourcing.links == 0
    assert other.sourcing.local_sourcing_rate is None and other.single_points_of_failure == []


def test_lead_firms_carry_components_and_a_top_ten_firm_makes_strong(
    toy_warehouse, toy_chain
) -> None:  # type: ignore[no-untyped-def]
    d = diagnose(toy_warehouse, toy_chain, "450400")
    nodes = {n.id: n for n in d.nodes}
    lead = nodes["a"].lead_firms[0]
    assert lead.uscc == "T00000000000000001" and lead.national_rank == 1
    assert set(lead.components) == {"size", "partners", "local_purchases", "tags", "downstream"}
    assert lead.lead_score == pytest.approx(
        sum(lead.components[k] * lead.weights[k] for k in lead.weights), abs=1e-3
    )
    # with the default rule a national top-10 firm makes a node strong even at LQ ≈ 1.03
    assert nodes["c"].status == "strong"


def test_json_contract(toy_warehouse, toy_chain) -> None:  # type: ignore[no-untyped-def]
    import json

    d = json.loads(diagnose(toy_warehouse, toy_chain, "450400").to_json())
    assert d["schema"] == SCHEMA_ID
    node = d["nodes"][0]
    for field in (
        "id",
        "name_zh",
        "stage",
        "status",
        "firm_count",
        "lq",
        "lq_capital",
        "national_share",
        "lead_firms",
        "break",
    ):
        assert field in node


def test_unknown_region(toy_warehouse, toy_chain) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownRegionError, match="999999"):
        diagnose(toy_warehouse, toy_chain, "999999")
