"""The supply network in the diagnosis, hand-worked on tests/engine/test_network_tables.py's
warehouse (see its docstring for the firms and links) and on the plain toy warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from tests.engine.test_network_tables import T, build_network_warehouse, links_frame

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_links
from chainatlas.settings import StatusThresholds

LQ_ONLY = StatusThresholds(strong_lead_rank=0)


@pytest.fixture()
def net_wh(tmp_path: Path, toy_chain: Chain):  # type: ignore[no-untyped-def]
    wh = build_network_warehouse(tmp_path / "net.duckdb", toy_chain)
    yield wh
    wh.close()


def test_local_sourcing_rate_of_the_chain_and_per_node(net_wh: Warehouse, toy_chain: Chain) -> None:
    d = diagnose(net_wh, toy_chain, "450400", LQ_ONLY)
    assert d.sourcing is not None
    # L1–L8: 7 of 8 carry an amount → by amount, 40 of 49 from suppliers in 梧州
    assert (d.sourcing.links, d.sourcing.amount_links, d.sourcing.basis) == (8, 7, "amount")
    assert d.sourcing.local_sourcing_rate == pytest.approx(40 / 49, abs=1e-4)
    nodes = {n.id: n for n in d.nodes}
    c, b = nodes["c"].sourcing, nodes["b"].sourcing
    assert c is not None and c.local_sourcing_rate == pytest.approx(30 / 35, abs=1e-4)
    assert b is not None and b.local_sourcing_rate == pytest.approx(10 / 14, abs=1e-4)
    assert nodes["a"].sourcing is not None and nodes["a"].sourcing.basis is None  # buys nothing
    a_in = nodes["a"].input_sourcing
    assert a_in is not None and (a_in.links, a_in.local_sourcing_rate) == (
        3,
        pytest.approx(8 / 12, abs=1e-4),
    )
    county = diagnose(net_wh, toy_chain, "450403", LQ_ONLY)
    assert county.sourcing is not None
    assert county.sourcing.local_sourcing_rate == pytest.approx(30 / 39, abs=1e-4)
    assert d.link_counts is not None and d.link_counts["self_link"] == 1


def test_break_evidenced_intact_moves_from_fill_to_strengthen(
    net_wh: Warehouse, toy_chain: Chain
) -> None:
    d = diagnose(net_wh, toy_chain, "450400", LQ_ONLY)
    nodes = {n.id: n for n in d.nodes}
    # local: a4 b1 c4 d1 of 10; national 24 → b: (1/10)/(7/24) = 0.34, weak, between a and c
    assert {k: n.status for k, n in nodes.items()} == {
        "a": "strong",
        "b": "weak",
        "c": "present",
        "d": "present",
    }
    b = nodes["b"]
    assert b.is_break and b.break_evidence is not None
    assert b.break_evidence.verdict == "intact"  # 30 of 35 of the region's b bought locally
    assert b.break_evidence.local_sourcing_rate == pytest.approx(30 / 35, abs=1e-4)
    assert (b.break_evidence.links, b.break_evidence.threshold) == (4, 0.5)
    assert all(n.break_evidence is None for k, n in nodes.items() if k != "b")
    assert [(a.kind, a.node_ids) for a in d.actions] == [("strengthen", ["b"])]
    assert d.status_counts["break"] == 1  # the rule's count is unchanged


def test_single_points_of_failure(net_wh: Warehouse, toy_chain: Chain) -> None:
    d = diagnose(net_wh, toy_chain, "450400", LQ_ONLY)
    got = [(s.node_id, s.kind, s.code, s.name, s.share) for s in d.single_points_of_failure]
    assert got == [
        ("b", "supplier", T(500), "测试企业500", pytest.approx(30 / 35, abs=1e-4)),
        ("a", "supplier", T(1), "测试企业1", pytest.approx(8 / 12, abs=1e-4)),
    ]  # d buys a single link: below network_min_links


def test_lead_firms_carry_the_network(net_wh: Warehouse, toy_chain: Chain) -> None:
    d = diagnose(net_wh, toy_chain, "450400", LQ_ONLY)
    nodes = {n.id: n for n in d.nodes}
    t500 = nodes["b"].lead_firms[0]
    assert t500.uscc == T(500)
    assert t500.local_partners == 6  # T1 T2 T8 T5 T6 T600
    assert t500.local_purchases_share == pytest.approx(1.0)  # party to all 40 万元 local
    assert t500.components["local_purchases"] == pytest.approx(1.0)
    assert t500.lead_score == pytest.approx(
        sum(t500.components[k] * t500.weights[k] for k in t500.weights), abs=1e-3
    )
    net = t500.network
    assert net is not None
    assert (net.suppliers_inside, net.suppliers_outside) == (3, 1)
    assert (net.customers_inside, net.customers_outside) == (3, 0)
    assert (net.purchases_inside, net.purchases_outside) == (10.0, 4.0)
    assert (net.sales_inside, net.sales_outside) == (30.0, 0.0)
    assert [(p.uscc, p.inside, p.amount) for p in net.top_suppliers] == [
        (T(1), True, 8.0),
        (T(9), False, 4.0),
        (T(8), True, 2.0),
    ]
    assert [p.uscc for p in net.top_customers] == [T(5), T(6), T(600)]  # ties: by code
    assert net.top_suppliers[1].region_code == "440106"
    shares = {f.uscc: f.local_purchases_share for f in nodes["a"].lead_firms}
    assert shares[T(1)] == pytest.approx(0.2)  # L5: 8 of 40
    c_shares = {f.uscc: f.local_purchases_share for f in nodes["c"].lead_firms}
    assert c_shares[T(5)] == pytest.approx(0.25)
    # no top partners asked: the lists stay empty, the counts stay
    quick = diagnose(net_wh, toy_chain, "450400", LQ_ONLY, top_partners=0)
    quick_net = {n.id: n for n in quick.nodes}["b"].lead_firms[0].network
    assert quick_net is not None and quick_net.top_suppliers == []
    assert quick_net.suppliers_inside == 3


def test_a_break_confirmed_by_outside_purchases(toy_warehouse, toy_chain: Chain) -> None:  # type: ignore[no-untyped-def]
    # 梧州's c firms buy all their b from 广州
    load_links(
        toy_warehouse, links_frame([(T(11), T(5), 10.0), (T(12), T(6), 10.0), (T(11), T(7), 10.0)])
    )
    d = diagnose(toy_warehouse, toy_chain, "450400", LQ_ONLY)
    b = {n.id: n for n in d.nodes}["b"]
    assert b.is_break and b.break_evidence is not None
    assert (b.break_evidence.verdict, b.break_evidence.local_sourcing_rate) == ("confirmed", 0.0)
    fill = next(a for a in d.actions if a.kind == "fill")
    assert fill.node_ids == ["b"] and "本地配套率0%" in fill.reason_zh
    assert "0% sourced locally" in fill.reason_en
    kinds = {(s.kind, s.code): s.share for s in d.single_points_of_failure}
    assert kinds == {
        ("region", "440100"): pytest.approx(1.0),
        ("supplier", T(11)): pytest.approx(2 / 3, abs=1e-4),
    }
    region = next(s for s in d.single_points_of_failure if s.kind == "region")
    assert region.name == "广东省广州市"


def test_no_links_no_evidence_and_an_old_warehouse_still_diagnoses(
    toy_warehouse, toy_chain: Chain
) -> None:  # type: ignore[no-untyped-def]
    d = diagnose(toy_warehouse, toy_chain, "450400", LQ_ONLY)
    assert d.sourcing is not None and d.sourcing.links == 0 and d.sourcing.basis is None
    b = {n.id: n for n in d.nodes}["b"]
    assert b.break_evidence is not None and b.break_evidence.verdict == "no_evidence"
    assert [(a.kind, a.node_ids) for a in d.actions] == [("fill", ["b"])]
    # a warehouse loaded before the network tables existed
    for table in ("sourcing_inputs", "sourcing_chain_facts", "sourcing_node_facts"):
        toy_warehouse.raw.execute(f"DROP TABLE {table}")
    old = diagnose(toy_warehouse, toy_chain, "450400", LQ_ONLY)
    assert old.sourcing is None and old.link_counts is None
    assert all(n.sourcing is None for n in old.nodes)
    assert [(a.kind, a.node_ids) for a in old.actions] == [("fill", ["b"])]


def test_json_carries_the_network_fields(net_wh: Warehouse, toy_chain: Chain) -> None:
    d = json.loads(diagnose(net_wh, toy_chain, "450400").to_json())
    assert d["schema"] == "chainatlas.diagnosis/1"
    assert {"sourcing", "single_points_of_failure", "link_counts"} <= set(d)
    node = next(n for n in d["nodes"] if n["id"] == "b")
    assert {"break", "break_evidence", "sourcing", "input_sourcing"} <= set(node)
    lead = node["lead_firms"][0]
    assert {"local_purchases_share", "network"} <= set(lead)
    assert set(lead["weights"]) == {"size", "partners", "local_purchases", "tags", "downstream"}
    for key in ("spof_share", "break_local_share", "min_amount_coverage", "network_min_links"):
        assert key in d["thresholds"]


@pytest.mark.parametrize("level,code", [("city", "450400"), ("county", "450403")])
def test_batch_network_equals_single_region(
    net_wh: Warehouse, toy_chain: Chain, level: str, code: str
) -> None:
    batch = diagnose_all(net_wh, {"toy": toy_chain}, level, LQ_ONLY)
    single = diagnose(net_wh, toy_chain, code, LQ_ONLY)
    rows = {
        r["node_id"]: r
        for r in batch.nodes.filter(pl.col("region_code") == code).iter_rows(named=True)
    }
    for node in single.nodes:
        row = rows[node.id]
        assert row["break_evidence"] == (node.break_evidence and node.break_evidence.verdict)
        want = node.sourcing.local_sourcing_rate if node.sourcing else None
        assert row["local_sourcing_rate"] == (
            pytest.approx(want, abs=1e-4) if want is not None else None
        )
    chain = batch.chains.filter(pl.col("region_code") == code).row(0, named=True)
    assert single.sourcing is not None
    assert chain["local_sourcing_rate"] == pytest.approx(
        single.sourcing.local_sourcing_rate, abs=1e-4
    )
    assert chain["single_points_of_failure"] == len(single.single_points_of_failure)
    spof = batch.spof.filter(pl.col("region_code") == code)
    assert sorted(spof["code"].to_list()) == sorted(s.code for s in single.single_points_of_failure)
