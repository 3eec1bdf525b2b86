"""以商招商 at the second tier: a supplier's supplier (or a customer's customer) of a local
lead firm is referred too, with fewer points than a direct partner, and named with the firm
in between."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA
from tests.targets.conftest import (
    AS_OF,
    C1,
    G1,
    G2,
    L1,
    L3,
    REGION,
    S1,
    build_target_warehouse,
    code,
    firm_row,
    target_links,
)

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA
from chainatlas.services.load import load_links
from chainatlas.targets import pipeline
from chainatlas.targets.pipeline import find_targets
from chainatlas.targets.score import tier2_points
from chainatlas.targets.weights import TargetScales, TargetWeights

G3 = code("440106", 103)


@pytest.fixture(scope="module")
def tier2_wh(tmp_path_factory: pytest.TempPathFactory, toy_chain: Chain) -> Warehouse:
    path: Path = tmp_path_factory.mktemp("tier2") / "t.duckdb"
    build_target_warehouse(path, toy_chain)
    extra = pl.DataFrame(
        [
            (S1, G1, 30.0, 2024, None),  # S1 sells to G1, which supplies the lead firm L3
            (G2, C1, 10.0, 2024, None),  # C1 buys from G2, which buys from the lead firm L1
            (G3, L3, 5.0, 2024, None),  # G3 supplies L3 directly …
            (G3, G1, 5.0, 2024, None),  # … and G1: it stays a direct partner of L3 only
        ],
        schema=SUPPLY_LINKS_SCHEMA,
        orient="row",
    )
    with Warehouse(path) as wh:
        load_links(wh, pl.concat([target_links(), extra]))
    return Warehouse(path, read_only=True)


def test_second_tier_targets_are_named_with_the_firm_between(
    tier2_wh: Warehouse, toy_chain: Chain
) -> None:
    d = diagnose(tier2_wh, toy_chain, REGION)
    leads = {f.uscc for n in d.nodes for f in n.lead_firms}
    assert {L1, L3} <= leads
    result = find_targets(tier2_wh, toy_chain, d, as_of=AS_OF, node_id="b", top=30)
    by_firm = {t.uscc: t for t in result.nodes[0].targets}
    s1 = by_firm[S1]
    assert [(p.uscc, p.relation, p.via_uscc, p.via_name) for p in s1.partners] == [
        (L3, "supplier_tier2", G1, "广州乙一")
    ]
    points = TargetScales().tier2_factor * TargetScales().lead_partner_points
    assert s1.partners[0].points == pytest.approx(points)
    assert s1.components["partner_referral"] == pytest.approx(points)
    assert s1.local_partners == 0  # second-tier rows add points, not partners
    assert "二级供应商（经广州乙一）" in s1.reason_zh
    assert "second-tier supplier of local lead firm" in s1.reason_en
    c1 = by_firm[C1]
    assert [(p.uscc, p.relation, p.via_uscc) for p in c1.partners] == [(L1, "customer_tier2", G2)]
    g3 = by_firm[G3]
    assert [(p.uscc, p.relation) for p in g3.partners] == [(L3, "supplier")]
    assert g3.local_partners == 1


def test_tier2_off_by_weight(tier2_wh: Warehouse, toy_chain: Chain) -> None:
    d = diagnose(tier2_wh, toy_chain, REGION)
    weights = TargetWeights(scales=TargetScales(tier2_factor=0.0))
    result = find_targets(tier2_wh, toy_chain, d, as_of=AS_OF, node_id="b", top=30, weights=weights)
    s1 = next(t for t in result.nodes[0].targets if t.uscc == S1)
    assert s1.partners == [] and s1.components["partner_referral"] == 0


def test_tier2_points_pure() -> None:
    scales = TargetScales()
    points = pl.DataFrame(
        {
            "uscc": ["Y1", "Y2", "Z"],
            "local_uscc": ["L", "L", "M"],
            "local_name": ["链主", "链主", "小企"],
            "relation": ["supplier", "customer", "supplier"],
            "lead_firm": [True, True, False],
            "links": [1, 1, 1],
            "amount": [1.0, 1.0, 1.0],
            "points": [0.8, 0.8, 0.3],
        }
    )
    tier2 = pl.DataFrame(
        {
            "uscc": ["X", "X", "L", "W", "Y2"],
            "via_uscc": ["Y1", "Y1", "Y1", "Z", "Y1"],
            "relation": ["supplier", "supplier", "supplier", "supplier", "supplier"],
            "links": [2, 2, 1, 1, 1],
            "amount": [3.0, 3.0, 1.0, 1.0, 1.0],
        }
    ).unique()
    out = tier2_points(tier2, points, scales)
    # L itself is dropped; W reaches only a non-lead firm; Y2 trades with L directly
    assert out.select("uscc", "local_uscc", "relation", "via_uscc").rows() == [
        ("X", "L", "supplier_tier2", "Y1")
    ]
    assert out["points"].item() == pytest.approx(0.4)


def test_second_tier_goes_through_firms_on_the_chain_only(tmp_path: Path, toy_chain: Chain) -> None:
    """Referrals follow the chain's own supply network (`firm_links`, as the network figures
    do): a supplier of a canteen that feeds the lead firm is no second-tier supplier."""
    canteen = code("440106", 150)
    off_chain = pl.DataFrame(
        [
            {
                **firm_row(150, "440106", "a", 10, name="广州食堂"),
                "business_scope": "餐饮服务；食堂承包",
            }
        ],
        schema=ENTERPRISE_SCHEMA,
    )
    path = tmp_path / "off.duckdb"
    build_target_warehouse(path, toy_chain, extra=off_chain)
    links = pl.DataFrame(
        [(S1, canteen, 30.0, 2024, None), (canteen, L3, 8.0, 2024, None)],
        schema=SUPPLY_LINKS_SCHEMA,
        orient="row",
    )
    with Warehouse(path) as wh:
        load_links(wh, pl.concat([target_links(), links]))
        assert wh.sql(f"SELECT count(*) FROM assignments WHERE uscc = '{canteen}'").item() == 0
        d = diagnose(wh, toy_chain, REGION)
        assert L3 in {f.uscc for n in d.nodes for f in n.lead_firms}
        result = find_targets(wh, toy_chain, d, as_of=AS_OF, node_id="b", top=30)
    s1 = next(t for t in result.nodes[0].targets if t.uscc == S1)
    assert s1.partners == [] and s1.components["partner_referral"] == 0


@pytest.mark.parametrize("limit", [0.0, 2.0], ids=["all-links", "limited-reads"])
def test_the_firm_between_may_sit_on_a_node_not_asked_for(
    tmp_path: Path, toy_chain: Chain, limit: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "LIMIT_READS_BELOW", limit)
    # Y (node a, not a gap asked for) supplies the lead firm L3; X (node b) supplies Y
    y, x = code("440106", 150), code("320506", 250)
    extra = pl.DataFrame(
        [firm_row(150, "440106", "a", 100, name="广州甲中间"), firm_row(250, "320506", "b", 100)],
        schema=ENTERPRISE_SCHEMA,
    )
    path = tmp_path / "t.duckdb"
    build_target_warehouse(path, toy_chain, extra)
    links = pl.DataFrame(
        [(y, L3, 5.0, 2024, None), (x, y, 5.0, 2024, None)],
        schema=SUPPLY_LINKS_SCHEMA,
        orient="row",
    )
    with Warehouse(path) as wh:
        load_links(wh, pl.concat([target_links(), links]))
        d = diagnose(wh, toy_chain, REGION)
        assert L3 in {f.uscc for n in d.nodes for f in n.lead_firms}
        result = find_targets(wh, toy_chain, d, as_of=AS_OF, node_id="b", top=40)
    found = next(t for t in result.nodes[0].targets if t.uscc == x)
    assert [(p.uscc, p.relation, p.via_uscc) for p in found.partners] == [(L3, "supplier_tier2", y)]
