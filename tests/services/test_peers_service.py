"""Peer regions and the side-by-side comparison on a hand-worked warehouse."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA, firm, toy_firms

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.services.load import load_enterprises
from chainatlas.services.peers import (
    COMPARISON_SCHEMA_ID,
    PEERS_SCHEMA_ID,
    compare_regions,
    peer_regions,
)
from chainatlas.settings import Settings

# active firms per region × node after loading (toy_firms plus EXTRA)
CELLS = {
    "450403": {"a": 4, "c": 3, "d": 1},
    "440106": {"a": 2, "b": 6, "c": 5, "d": 1},
    "450481": {"a": 2, "c": 1},
    "450405": {"b": 3},
    "440100": {"b": 1},  # registered at city level: no county
}
EXTRA = [("450481", "甲料生产"), ("450481", "甲料生产"), ("450481", "丙品组装")]
EXTRA += [("450405", "乙件制造")] * 3 + [("440100", "乙件制造")]


@pytest.fixture()
def settings(tmp_path: Path, toy_chain: Chain) -> Settings:
    s = Settings(home=tmp_path)
    extra = pl.DataFrame(
        [firm(200 + i, region, scope) for i, (region, scope) in enumerate(EXTRA)],
        schema=ENTERPRISE_SCHEMA,
    )
    with Warehouse(s.warehouse_path) as wh:
        load_enterprises(wh, pl.concat([toy_firms(), extra]), {"toy": toy_chain})
    return s


def _rca(region: str) -> dict[str, float]:
    national = {n: sum(c.get(n, 0) for c in CELLS.values()) for n in "abcd"}
    big = sum(national.values())
    mine = CELLS[region]
    total = sum(mine.values())
    return {n: (mine.get(n, 0) / total) / (national[n] / big) for n in "abcd"}


def _cosine(a: str, b: str) -> float:
    u = [math.log1p(v) for v in _rca(a).values()]
    v = [math.log1p(x) for x in _rca(b).values()]
    dot = sum(i * j for i, j in zip(u, v, strict=True))
    return dot / math.sqrt(sum(i * i for i in u) * sum(j * j for j in v))


def test_peer_counties_hand_worked(settings: Settings) -> None:
    p = peer_regions(settings, "450403")
    codes = [peer.code for peer in p.peers]
    # same level only: 440100 holds a firm but is a city; 450406 holds none
    assert sorted(codes) == ["440106", "450405", "450481"] and p.candidates == 3
    for peer in p.peers:
        assert peer.similarity == pytest.approx(_cosine("450403", peer.code), abs=1e-6)
    assert codes[0] == "450481" and codes[-1] == "450405"
    assert p.peers[-1].similarity == pytest.approx(0.0)  # no product in common
    # RCA of 450403 (X = 29): a 1.8125, c 1.2083, d 1.8125 → strong (≥ 1.5): a, d
    assert p.strong == 2 and p.strong_products == ["toy/a", "toy/d"]
    best = p.peers[0]
    assert (best.name, best.shared_strong, best.strong, best.firm_count) == ("岑溪市", 1, 1, 3)
    assert p.products == 4 and p.transform == "log1p" and p.strong_rca == 1.5


def test_peer_cities_and_options(settings: Settings) -> None:
    p = peer_regions(settings, "450400")
    assert [peer.code for peer in p.peers] == ["440100"]
    assert p.peers[0].firm_count == sum(CELLS["440106"].values()) + 1
    raw = peer_regions(settings, "450403", transform="raw", top=1)
    assert len(raw.peers) == 1 and raw.transform == "raw"
    frame = peer_regions(settings, "450403").frame()
    assert frame.columns == [
        "rank",
        "region_code",
        "name",
        "full_name",
        "similarity",
        "shared_strong",
        "strong",
        "firm_count",
    ]
    assert json.loads(p.to_json())["schema"] == PEERS_SCHEMA_ID


def test_peer_bad_input(settings: Settings) -> None:
    with pytest.raises(UserError, match="999999"):
        peer_regions(settings, "999999")
    with pytest.raises(UserError, match="450406"):  # a county without firms
        peer_regions(settings, "450406")
    with pytest.raises(UserError, match="transform"):
        peer_regions(settings, "450403", transform="cube")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="top"):
        peer_regions(settings, "450403", top=0)


def test_comparison_reuses_the_diagnosis(settings: Settings, toy_chain: Chain) -> None:
    codes = ["450400", "440100", "450000", "450400"]  # mixed levels, one duplicate
    c = compare_regions(settings, "toy", codes, atlas={"toy": toy_chain})
    assert [r.region.code for r in c.regions] == ["450400", "440100", "450000"]
    assert c.mixed_levels
    with Warehouse(settings.warehouse_path, read_only=True) as wh:
        diagnoses = {
            code: diagnose(wh, toy_chain, code, settings.status, settings.lead_firm)
            for code in ["450400", "440100", "450000"]
        }
    for region in c.regions:
        d = diagnoses[region.region.code]
        assert region.firm_count == d.firm_count
        assert region.completeness == d.completeness
        assert region.status_counts == d.status_counts
        leads = [lf for n in d.nodes for lf in n.lead_firms]
        assert region.lead_firm is not None
        assert region.lead_firm.lead_score == max(lf.lead_score for lf in leads)
    for i, node in enumerate(c.nodes):
        assert node.id == toy_chain.nodes[i].id
        for cell in node.regions:
            dn = diagnoses[cell.region_code].nodes[i]
            assert (cell.firm_count, cell.lq, cell.status, cell.is_break) == (
                dn.firm_count,
                dn.lq,
                dn.status,
                dn.is_break,
            )
    # hand-worked: 梧州 a 4 + 岑溪 a 2 = 6; 广州 b 6 + 1 registered at city level
    wide = c.wide_frame("firm_count")
    assert wide.columns == ["node_id", "name_zh", "stage", "450400", "440100", "450000"]
    assert wide.filter(pl.col("node_id") == "a")["450400"].item() == 6
    assert wide.filter(pl.col("node_id") == "b")["440100"].item() == 7
    regions = c.regions_frame()
    assert regions["firm_count"].to_list() == [14, 15, 14]  # 梧州: 8 + 3 (岑溪) + 3 (长洲)
    assert regions.columns[:5] == ["region_code", "name", "level", "firm_count", "completeness"]
    assert c.nodes_frame().height == 4 * 3
    payload = json.loads(c.to_json())
    assert payload["schema"] == COMPARISON_SCHEMA_ID
    assert "break" in payload["nodes"][0]["regions"][0]


def test_comparison_of_a_region_without_firms(settings: Settings, toy_chain: Chain) -> None:
    c = compare_regions(settings, "toy", ["450406"], atlas={"toy": toy_chain})
    region = c.regions[0]
    assert region.firm_count == 0 and region.lead_firm is None
    assert region.status_counts["missing"] == 4 and not c.mixed_levels


def test_comparison_bad_input(settings: Settings, toy_chain: Chain) -> None:
    atlas = {"toy": toy_chain}
    eleven = [f"4504{i:02d}" for i in range(3, 14)]
    with pytest.raises(UserError, match="10"):
        compare_regions(settings, "toy", eleven, atlas=atlas)
    with pytest.raises(UserError, match="999999"):
        compare_regions(settings, "toy", ["450400", "999999"], atlas=atlas)
    with pytest.raises(UserError, match="nochain"):
        compare_regions(settings, "nochain", ["450400"], atlas=atlas)
    with pytest.raises(UserError, match="at least one"):
        compare_regions(settings, "toy", [], atlas=atlas)
