"""Chain-map SVG: structure, status marking, edges and a readable layout for every chain."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.atlas.graph import layers
from chainatlas.briefing.chain_map import (
    BREAK_COLOUR,
    STATUS_STYLES,
    chain_map_svg,
    text_width,
    wrap_label,
)
from chainatlas.diagnose import Diagnosis

SVG = "{http://www.w3.org/2000/svg}"
ATLAS = load_atlas()


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def node_groups(root: ET.Element) -> dict[str, ET.Element]:
    groups = [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    ids = [g.get("data-node") for g in groups]
    assert len(ids) == len(set(ids))
    return {str(i): g for i, g in zip(ids, groups, strict=True)}


def box(g: ET.Element) -> tuple[float, float, float, float]:
    rects = [r for r in g.findall(f"{SVG}rect") if r.get("class") == "box"]
    assert len(rects) == 1
    r = rects[0]
    return (
        float(r.get("x", 0)),
        float(r.get("y", 0)),
        float(r.get("width", 0)),
        float(r.get("height", 0)),
    )


def texts(g: ET.Element) -> list[str]:
    return [t.text or "" for t in g.findall(f"{SVG}text")]


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_one_box_per_node_with_status_fill(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    root = parse(chain_map_svg(sugarcane, diagnosis))
    groups = node_groups(root)
    assert set(groups) == set(sugarcane.node_ids)
    for n in diagnosis.nodes:
        g = groups[n.id]
        assert g.get("data-status") == n.status
        rect = next(r for r in g.findall(f"{SVG}rect") if r.get("class") == "box")
        assert rect.get("fill") == STATUS_STYLES[n.status].fill
        # the box says its name, firm count and LQ
        joined = "".join(texts(g)[:-1])
        assert joined == n.name_zh
        assert texts(g)[-1].startswith(f"{n.firm_count:,}家")
        if n.status != "missing":
            assert f"LQ {n.lq:.2f}" in texts(g)[-1]
    missing = next(n for n in diagnosis.nodes if n.status == "missing")
    rect = next(r for r in groups[missing.id].findall(f"{SVG}rect") if r.get("class") == "box")
    assert rect.get("stroke-dasharray")


def test_break_nodes_have_red_border_and_badge(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    breaks = {n.id for n in diagnosis.nodes if n.is_break}
    assert breaks == {"raw_sugar_milling", "sugar_trade_logistics"}
    root = parse(chain_map_svg(sugarcane, diagnosis))
    for node_id, g in node_groups(root).items():
        rect = next(r for r in g.findall(f"{SVG}rect") if r.get("class") == "box")
        badge = [b for b in g.iter(f"{SVG}g") if b.get("class") == "badge"]
        if node_id in breaks:
            assert g.get("data-break") == "true" and "break" in g.get("class", "").split()
            assert rect.get("stroke") == BREAK_COLOUR
            assert float(rect.get("stroke-width", 0)) >= 3
            assert len(badge) == 1 and texts(badge[0]) == ["断链"]
        else:
            assert g.get("data-break") == "false" and not badge
            assert rect.get("stroke") != BREAK_COLOUR


def test_edges_supply_solid_with_arrows_recycling_dashed(sugarcane: Chain) -> None:
    root = parse(chain_map_svg(sugarcane))
    paths = [p for p in root.iter(f"{SVG}path") if "edge" in p.get("class", "").split()]
    assert len(paths) == len(sugarcane.edges)
    recycling = [p for p in paths if "recycling" in p.get("class", "")]
    assert [(p.get("data-supplier"), p.get("data-customer")) for p in recycling] == [
        (e.supplier, e.customer) for e in sugarcane.edges if e.recycling
    ]
    for p in paths:
        assert p.get("marker-end", "").startswith("url(#")
        assert bool(p.get("stroke-dasharray")) == ("recycling" in p.get("class", ""))
    # the loop is drawn through a channel outside the bands: above the topmost box
    top = min(box(g)[1] for g in node_groups(root).values())
    ys = [
        float(v)
        for tok in recycling[0]
        .get("d", "")
        .replace("M", " ")
        .replace("L", " ")
        .replace("Q", " ")
        .split()
        for v in tok.split(",")[1:]
    ]
    assert min(ys) < top
    ids = {m.get("id") for m in root.iter(f"{SVG}marker")}
    assert all(p.get("marker-end", "")[5:-1] in ids for p in paths)


def test_layout_left_to_right_by_layer_inside_stage_bands(sugarcane: Chain) -> None:
    root = parse(chain_map_svg(sugarcane))
    boxes = {k: box(g) for k, g in node_groups(root).items()}
    layer = layers(sugarcane)
    for e in sugarcane.edges:
        if not e.recycling:
            assert boxes[e.supplier][0] + boxes[e.supplier][2] < boxes[e.customer][0]
    # nodes of a deeper layer never sit left of a shallower one (sources may move right)
    sources = {
        n
        for n in sugarcane.node_ids
        if not any(e.customer == n and not e.recycling for e in sugarcane.edges)
    }
    for a in sugarcane.node_ids:
        for b in sugarcane.node_ids:
            if a not in sources and b not in sources and layer[a] < layer[b]:
                assert boxes[a][0] < boxes[b][0]
    bands = {g.get("data-stage"): g for g in root.iter(f"{SVG}g") if g.get("class") == "band"}
    assert list(bands) == ["upstream", "midstream", "downstream", "support"]
    band_texts = [texts(g)[0] for g in bands.values()]
    assert band_texts == ["上游", "中游", "下游", "配套服务"]
    for n in sugarcane.nodes:
        r = bands[n.stage].find(f"{SVG}rect")
        assert r is not None
        top, height = float(r.get("y", 0)), float(r.get("height", 0))
        assert top <= boxes[n.id][1] and boxes[n.id][1] + boxes[n.id][3] <= top + height


def test_deterministic_and_cjk_font_stack(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    a = chain_map_svg(sugarcane, diagnosis)
    assert a == chain_map_svg(sugarcane, diagnosis)
    root = parse(a)
    assert root.get("font-family", "").startswith("'Noto Sans CJK SC','Noto Sans SC'")
    assert "WenQuanYi Micro Hei" in root.get("font-family", "")
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    assert [t for t in texts(legend)] == [
        "缺链 Missing",
        "弱链 Weak",
        "一般 Present",
        "强链 Strong",
        "断链 Break",
        "供应关系 Supply",
        "循环利用 Recycling",
    ]


def test_english_labels(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    root = parse(chain_map_svg(sugarcane, diagnosis, lang="en"))
    groups = node_groups(root)
    for n in sugarcane.nodes:
        words = " ".join(texts(groups[n.id])[:-1])
        assert words.replace("…", "").split()[0] == n.name_en.split()[0]
    assert "firms" in texts(groups["cane_planting"])[-1]
    with pytest.raises(ValueError):
        chain_map_svg(sugarcane, lang="fr")


@pytest.mark.parametrize("chain_id", sorted(ATLAS))
def test_every_atlas_chain_lays_out_without_overlap(chain_id: str) -> None:
    chain = ATLAS[chain_id]
    root = parse(chain_map_svg(chain))
    w, h = (float(v) for v in root.get("viewBox", "").split()[2:])
    boxes = {k: box(g) for k, g in node_groups(root).items()}
    assert len(boxes) == len(chain.nodes)
    items = sorted(boxes.items())
    for i, (a, ra) in enumerate(items):
        assert ra[0] >= 0 and ra[0] + ra[2] <= w and ra[1] >= 0 and ra[1] + ra[3] <= h, a
        for b, rb in items[i + 1 :]:
            assert not overlap(ra, rb), (a, b)
    edges = [p for p in root.iter(f"{SVG}path") if "edge" in p.get("class", "").split()]
    assert len(edges) == len(chain.edges)


def test_wrap_label_prefers_parenthesis_and_fits() -> None:
    lines = wrap_label("蔗区农资（肥料、农药、地膜）", 140, 13, bold=True)
    assert lines == ["蔗区农资", "（肥料、农药、地膜）"]
    assert all(text_width(line, 13, bold=True) <= 140 for line in lines)
    assert wrap_label("精制糖", 140, 13) == ["精制糖"]
    long = wrap_label(
        "Farm inputs for cane (fertiliser, agrochemicals, mulch film)", 120, 12, max_lines=2
    )
    assert len(long) == 2 and long[-1].endswith("…")
    assert all(text_width(line, 12) <= 120 for line in long)
