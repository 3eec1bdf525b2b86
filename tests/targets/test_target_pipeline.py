"""Targets on the hand-made warehouse of conftest.py: the right first target, its components
worked by hand, exclusions, the reason filter, pruning, and a later warehouse layout."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA
from tests.targets.conftest import (
    AS_OF,
    C1,
    D1,
    G1,
    G2,
    L1,
    L3,
    REGION,
    S1,
    X1,
    build_target_warehouse,
    firm_row,
)

from chainatlas.atlas import Chain
from chainatlas.diagnose import Diagnosis, diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions
from chainatlas.targets.model import TargetList
from chainatlas.targets.pipeline import find_targets, score_pool
from chainatlas.targets.weights import TargetWeights


@pytest.fixture(scope="module")
def diagnosis(target_wh: Warehouse, toy_chain: Chain) -> Diagnosis:
    return diagnose(target_wh, toy_chain, REGION)


def run(wh: Warehouse, chain: Chain, d: Diagnosis, **kw: object) -> TargetList:
    return find_targets(wh, chain, d, as_of=AS_OF, **kw)  # type: ignore[arg-type]


def haversine(a: str, b: str) -> float:
    coords = {r: (x, y) for r, x, y in load_regions().select("region_code", "lon", "lat").rows()}
    (lon1, lat1), (lon2, lat2) = coords[a], coords[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_the_right_first_target(
    target_wh: Warehouse, toy_chain: Chain, diagnosis: Diagnosis
) -> None:
    result = run(target_wh, toy_chain, diagnosis, top=5)
    assert [(n.id, n.status, n.is_break) for n in result.nodes] == [("b", "missing", True)]
    node = result.nodes[0]
    # 20 in 广州, S1, X1, C1; the deregistered D1 is no candidate
    assert node.candidates == node.matching == 23 and node.excluded_contacted == 0
    first, second = node.targets[:2]
    assert (first.uscc, second.uscc) == (G1, G2)
    assert all(t.uscc != D1 for t in node.targets)

    fit = target_wh.sql(
        "SELECT score FROM assignments WHERE uscc = ? AND node_id = 'b'", [G1]
    ).item()
    km = haversine("440106", REGION)
    lq = (20 / 20) / (23 / 58)  # 广州: 20 of its 20 on-chain firms are b; nationally 23 of 58
    relocation = math.sqrt((lq - 1) / 2 * math.log(21) / math.log(201))
    expected = {
        "fit": fit,
        "size": math.log(2001) / math.log(100_001),
        "growth": 0.0,  # established 2015: older than the 10-year horizon
        "tags": 0.0,
        "partner_referral": 0.8,  # supplies L3, a lead firm of c
        "relocation": relocation,
        "distance": 1 / (1 + km / 500),
    }
    assert first.components == pytest.approx(expected, abs=1e-4)
    weights = TargetWeights().component_weights()
    assert first.score == pytest.approx(sum(weights[k] * v for k, v in expected.items()), abs=1e-4)
    assert first.distance_km == pytest.approx(km, abs=0.1)
    assert first.origin.code == "440100" and first.origin.source
    assert first.origin.lq == pytest.approx(lq, abs=1e-4) and first.origin.node_firms == 20
    assert [(p.uscc, p.relation, p.lead_firm, p.links, p.amount) for p in first.partners] == [
        (L3, "supplier", True, 1, 50.0)
    ]
    assert first.reasons == ["partner_referral", "distance", "relocation"]
    assert first.primary_reason == "partner_referral"
    assert first.reason_zh.startswith("本地链主梧州丙一的供应商；距本地约")
    assert "来自产业转出地广东省广州市（该环节LQ 2.5，同业20家）" in first.reason_zh
    assert second.partners[0].uscc == L1 and second.partners[0].relation == "customer"
    assert result.weights == TargetWeights().component_weights()
    assert [t.rank for t in node.targets] == [1, 2, 3, 4, 5]
    assert [t.score for t in node.targets] == sorted((t.score for t in node.targets), reverse=True)


def test_the_exclusion_list_removes_contacted_firms(
    target_wh: Warehouse, toy_chain: Chain, diagnosis: Diagnosis
) -> None:
    plain = run(target_wh, toy_chain, diagnosis, top=5).nodes[0]
    assert X1 in [t.uscc for t in plain.targets]
    result = run(target_wh, toy_chain, diagnosis, top=5, excluded={X1, "NOT-A-CANDIDATE"})
    node = result.nodes[0]
    assert X1 not in [t.uscc for t in node.targets]
    assert node.candidates == 22 and node.excluded_contacted == 1
    assert (result.exclusions.listed, result.exclusions.excluded) == (2, 1)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("tags", [X1, S1]),
        ("partner_referral", [G1, G2]),
        ("growth", [C1]),  # read for the whole pool: the dates are not in chain_firms
        ("size", []),  # no candidate reaches 1亿元
    ],
)
def test_reason_filter(
    target_wh: Warehouse,
    toy_chain: Chain,
    diagnosis: Diagnosis,
    reason: str,
    expected: list[str],
) -> None:
    node = run(target_wh, toy_chain, diagnosis, top=5, reason=reason).nodes[0]
    assert [t.uscc for t in node.targets] == expected
    assert node.matching == len(expected) and node.candidates == 23
    assert all(reason in t.reasons for t in node.targets)


@pytest.mark.parametrize("reason", [None, "tags", "growth", "fit", "distance", "relocation"])
@pytest.mark.parametrize("top", [1, 3, 30])
def test_pruning_changes_nothing(
    target_wh: Warehouse,
    toy_chain: Chain,
    diagnosis: Diagnosis,
    reason: str | None,
    top: int,
) -> None:
    kw = {"weights": TargetWeights(), "as_of": AS_OF, "reason": reason}
    pruned, _, counts = score_pool(target_wh, toy_chain, diagnosis, ["b"], top=top, **kw)  # type: ignore[arg-type]
    full, _, full_counts = score_pool(target_wh, toy_chain, diagnosis, ["b"], top=None, **kw)  # type: ignore[arg-type]
    columns = ["uscc", "rank", "score", "established", "name"]
    assert pruned.select(columns).equals(full.filter(pl.col("rank") <= top).select(columns))
    assert counts == full_counts


def test_a_named_node_and_bad_arguments(
    target_wh: Warehouse, toy_chain: Chain, diagnosis: Diagnosis
) -> None:
    strong = run(target_wh, toy_chain, diagnosis, node_id="c")
    assert [(n.id, n.status, n.candidates, n.targets) for n in strong.nodes] == [
        ("c", "strong", 0, [])
    ]
    with pytest.raises(UserError, match="没有环节 zz"):
        run(target_wh, toy_chain, diagnosis, node_id="zz")
    with pytest.raises(UserError, match="--top"):
        run(target_wh, toy_chain, diagnosis, top=0)
    with pytest.raises(UserError, match="unknown reason kind charm"):
        run(target_wh, toy_chain, diagnosis, reason="charm")


def test_an_unrelated_firm_elsewhere_changes_nothing(
    tmp_path: Path, target_wh: Warehouse, toy_chain: Chain, diagnosis: Diagnosis
) -> None:
    extra = firm_row(900, "530102", "a", 50_000)
    extra["business_scope"] = "餐饮服务"  # on no chain
    build_target_warehouse(
        tmp_path / "more.duckdb", toy_chain, pl.DataFrame([extra], schema=ENTERPRISE_SCHEMA)
    )
    with Warehouse(tmp_path / "more.duckdb", read_only=True) as wh:
        more = run(wh, toy_chain, diagnose(wh, toy_chain, REGION), top=30)
    base = run(target_wh, toy_chain, diagnosis, top=30)
    pairs = [[(t.uscc, t.score) for t in n.targets] for n in base.nodes]
    assert [[(t.uscc, t.score) for t in n.targets] for n in more.nodes] == pairs


def test_a_chain_firms_table_with_dates_and_scores_gives_the_same_list(
    tmp_path: Path, toy_chain: Chain
) -> None:
    """A later warehouse may carry `established` and `score` in chain_firms (docs/targets.md);
    then neither `assignments` nor `enterprises` is read, and the list is the same."""
    build_target_warehouse(tmp_path / "w.duckdb", toy_chain)
    with Warehouse(tmp_path / "w.duckdb") as wh:
        d = diagnose(wh, toy_chain, REGION)
        before = run(wh, toy_chain, d, top=5, reason="growth")
        plain = run(wh, toy_chain, d, top=5)
        wh.raw.execute(
            "CREATE TEMP TABLE chain_firms AS SELECT c.*, e.established, a.score "
            "FROM main.chain_firms c JOIN enterprises e USING (uscc) "
            "JOIN assignments a USING (uscc, chain_id, node_id)"
        )
        assert {"established", "score"} <= set(wh.table("chain_firms").columns)
        assert run(wh, toy_chain, d, top=5, reason="growth") == before
        assert run(wh, toy_chain, d, top=5) == plain


def test_briefing_reads_the_targets_in_its_columns(
    target_wh: Warehouse, toy_chain: Chain, diagnosis: Diagnosis
) -> None:
    from chainatlas.briefing.pack import TARGET_INPUT_COLUMNS
    from chainatlas.services.briefing import target_frame

    result = run(target_wh, toy_chain, diagnosis)
    frame = target_frame(result)
    assert tuple(frame.columns) == tuple(TARGET_INPUT_COLUMNS)
    expected = [(n.id, t.uscc) for n in result.nodes for t in n.targets]
    assert list(zip(frame["node_id"], frame["uscc"], strict=True)) == expected
    assert frame.height > 0 and frame["province_code"].null_count() == 0
