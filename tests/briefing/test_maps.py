"""The five pack maps as SVG: structure, values drawn, placement, empty cases, determinism."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.atlas import Chain
from chainatlas.briefing import maps
from chainatlas.briefing.chain_map import BREAK_COLOUR, text_width
from chainatlas.diagnose import Diagnosis

SVG = "{http://www.w3.org/2000/svg}"

COUNTIES = pl.DataFrame(
    {
        # 梧州: 万秀区 30, 岑溪市 10, 藤县 5; elsewhere in 广西: 青秀区 20, 柳南区 1;
        # 天河区 (广东) is not in the province and is left out
        "region_code": ["450403", "450481", "450422", "450103", "450204", "440106"],
        "firm_count": [30, 10, 5, 20, 1, 50],
    }
)


def targets_frame(origins: dict[str, int]) -> pl.DataFrame:
    """`n` targets in each county; score falls with the row number."""
    from chainatlas.reference.regions import load_regions

    regions = {r["region_code"]: r for r in load_regions().iter_rows(named=True)}
    rows = []
    for county, n in origins.items():
        r = regions[county]
        for _ in range(n):
            i = len(rows)
            rows.append(
                {
                    "uscc": f"X{i:017d}",
                    "name": f"目标企业{i}",
                    "node_id": ("cane_machinery", "molasses_ethanol")[i % 2],
                    "region_code": county,
                    "province_code": r["province_code"],
                    "city_code": r["city_code"],
                    "score": 1.0 - i / 100,
                    "reason_zh": "专精特新",
                    "reason_en": "SRDI",
                    "registered_capital": 1000.0 + i,
                }
            )
    return pl.DataFrame(rows)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if cls is None or t.get("class") == cls]


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if cls in (e.get("class") or "").split()]


def size(root: ET.Element) -> tuple[float, float]:
    return float(root.get("width", 0)), float(root.get("height", 0))


def ids(svg: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', svg))


# ---------------------------------------------------------------- chain maps


def test_panorama_has_every_node_and_no_status(sugarcane: Chain) -> None:
    svg = maps.panorama_map(sugarcane)
    root = parse(svg)
    assert texts(root, "heading") == ["甘蔗制糖产业链全景图"]
    nodes = by_class(root, "g", "node")
    assert {g.get("data-node") for g in nodes} == set(sugarcane.node_ids)
    assert {g.get("data-status") for g in nodes} == {"none"}
    body = parse(maps.panorama_map(sugarcane, title=False))
    assert texts(body, "heading") == [] and texts(body, "source") == []
    w, h = size(root)
    wb, hb = size(body)
    assert w == wb and h - hb == pytest.approx(maps.HEAD_H + maps.FOOT_H)


def test_status_map_colours_nodes_and_keeps_ids_apart(
    sugarcane: Chain, diagnosis: Diagnosis
) -> None:
    svg = maps.status_map(sugarcane, diagnosis, data_note="合成数据，仅供演示")
    root = parse(svg)
    status = {g.get("data-node"): g.get("data-status") for g in by_class(root, "g", "node")}
    assert status == {n.id: n.status for n in diagnosis.nodes}
    heading = texts(root, "heading")[0]
    assert heading == "广西壮族自治区梧州市·甘蔗制糖产业链本地现状图"
    assert texts(root, "source")[0].startswith("合成数据，仅供演示")
    c = diagnosis.status_counts
    assert f"断链 {c['break']}" in texts(root, "subheading")[0]
    # both chain maps sit inline in one report: their ids must not collide
    assert not ids(svg) & ids(maps.panorama_map(sugarcane))


# ---------------------------------------------------------------- 企业分布图


def test_distribution_dots_and_panel(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    root = parse(maps.distribution_map(COUNTIES, diagnosis.region, sugarcane))
    dots = by_class(root, "circle", "dot")
    assert [d.get("data-code") for d in dots] == ["450403", "450103", "450481", "450422", "450204"]
    local = {d.get("data-code") for d in by_class(root, "circle", "local")}
    assert local == {"450403", "450481", "450422"}
    radius = {d.get("data-code"): float(d.get("r", 0)) for d in dots}
    assert radius["450403"] == pytest.approx(22.0)  # the biggest count gets r_max
    for code, count in (("450103", 20), ("450481", 10), ("450422", 5), ("450204", 1)):
        assert radius[code] == pytest.approx(maps.dot_radius(count, 30), abs=0.05)
        assert radius[code] == pytest.approx(3 + 19 * (count / 30) ** 0.5, abs=0.05)
    # the city is highlighted, and its counties' dots lie within its outline
    wuzhou = next(p for p in root.iter(f"{SVG}path") if p.get("data-code") == "450400")
    assert wuzhou.get("fill") == maps.HOME_LAND
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", wuzhou.get("d", ""))]
    xs, ys = nums[0::2], nums[1::2]
    for d in dots:
        x, y = float(d.get("cx", 0)), float(d.get("cy", 0))
        inside = min(xs) <= x <= max(xs) and min(ys) <= y <= max(ys)
        assert inside == (d.get("data-code") in local)
    labels = texts(root, "dot-label")
    assert "万秀区 30" in labels and "岑溪市 10" in labels
    all_text = texts(root)
    assert "本地：45 家，3 个区县" in all_text
    assert "广西壮族自治区全区：66 家，5 个区县" in all_text
    assert "自治区内其他区县" in all_text


def test_distribution_labels_do_not_overlap(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    many = pl.DataFrame(
        {
            "region_code": ["450403", "450405", "450406", "450421", "450422", "450423", "450481"],
            "firm_count": [40, 38, 36, 20, 10, 5, 30],
        }
    )
    root = parse(maps.distribution_map(many, diagnosis.region, sugarcane))
    rects = []
    for t in root.iter(f"{SVG}text"):
        if t.get("class") != "dot-label":
            continue
        x, y, size_ = float(t.get("x", 0)), float(t.get("y", 0)), float(t.get("font-size", 0))
        w = text_width(t.text or "", size_)
        anchor = t.get("text-anchor", "start")
        x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        rects.append((x0, y - size_ * 0.9, x0 + w, y + size_ * 0.25))
    assert len(rects) >= 5
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_distribution_of_a_province_and_of_a_district(sugarcane: Chain) -> None:
    from chainatlas.diagnose.model import RegionRef

    guangxi = RegionRef(
        code="450000", name="广西壮族自治区", full_name="广西壮族自治区", level="province"
    )
    root = parse(maps.distribution_map(COUNTIES, guangxi, sugarcane))
    assert len(by_class(root, "circle", "local")) == 5  # the whole province is local
    all_text = texts(root)
    assert "本地：66 家，5 个区县" in all_text
    assert not [t for t in all_text if "其他区县" in t or "全区" in t]
    chaoyang = RegionRef(code="110105", name="朝阳区", full_name="北京市朝阳区", level="county")
    beijing = pl.DataFrame({"region_code": ["110105", "110108"], "firm_count": [3, 9]})
    root = parse(maps.distribution_map(beijing, chaoyang, sugarcane))
    outline = [p for p in root.iter(f"{SVG}path") if p.get("data-code") == "110105"]
    assert outline and outline[0].get("fill") == maps.HOME_LAND
    all_text = texts(root)
    assert "北京市全市：12 家，2 个区县" in all_text and "本地（朝阳区）" in all_text
    assert [d.get("data-code") for d in by_class(root, "circle", "local")] == ["110105"]


def test_distribution_without_local_firms(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    elsewhere = COUNTIES.filter(~pl.col("region_code").str.starts_with("4504"))
    root = parse(maps.distribution_map(elsewhere, diagnosis.region, sugarcane))
    assert texts(root, "empty") == ["本地暂无该产业链企业"]
    assert not by_class(root, "circle", "local")


def test_distribution_falls_back_to_the_map_of_china(
    monkeypatch: pytest.MonkeyPatch, sugarcane: Chain, diagnosis: Diagnosis
) -> None:
    def no_file(code: str) -> tuple[()]:
        raise KeyError(code)

    monkeypatch.setattr(maps.geo, "load_province", no_file)
    root = parse(maps.distribution_map(COUNTIES, diagnosis.region, sugarcane))
    assert "南海诸岛" in texts(root)
    assert len([p for p in root.iter(f"{SVG}path") if p.get("data-code")]) == 34


def test_distribution_in_english(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    root = parse(maps.distribution_map(COUNTIES, diagnosis.region, sugarcane, "en"))
    assert texts(root, "heading")[0].startswith("Sugarcane and cane sugar: firms by county")
    assert "Local: 45 firms in 3 counties" in texts(root)
    with pytest.raises(ValueError, match="lang"):
        maps.distribution_map(COUNTIES, diagnosis.region, sugarcane, "fr")
    with pytest.raises(ValueError, match="firm_count"):
        maps.distribution_map(COUNTIES.drop("firm_count"), diagnosis.region, sugarcane)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(20, 780), st.floats(20, 580), st.floats(2, 20), st.integers(1, 9999)),
        min_size=1,
        max_size=25,
    )
)
def test_placed_labels_never_overlap(points: list[tuple[float, float, float, int]]) -> None:
    taken: list[tuple[float, float, float, float]] = []
    bounds = (0.0, 0.0, 800.0, 600.0)
    for x, y, r, n in points:
        before = list(taken)
        spot = maps.place_label(x, y, r, f"测试区 {n}", 12.5, taken, bounds)
        if spot is None:
            assert taken == before
            continue
        new = taken[-1]
        assert bounds[0] <= new[0] and new[2] <= bounds[2]
        assert bounds[1] <= new[1] and new[3] <= bounds[3]
        assert not any(maps._overlaps(new, t) for t in before)


def test_dot_radius() -> None:
    assert maps.dot_radius(0, 10) == 3.0
    assert maps.dot_radius(10, 10) == 22.0
    assert maps.dot_radius(2.5, 10) == pytest.approx(3 + 19 * 0.5)
    assert maps.dot_radius(40, 10) == 22.0  # capped
    assert maps.dot_radius(5, 0) == 3.0


# ---------------------------------------------------------------- 技术路线图


def card_rects(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for g in by_class(root, "g", "tech-card"):
        r = g.find(f"{SVG}rect")
        assert r is not None
        out[str(g.get("data-node"))] = (
            float(r.get("x", 0)),
            float(r.get("y", 0)),
            float(r.get("width", 0)),
            float(r.get("height", 0)),
        )
    return out


def test_technology_map_lists_every_technology(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    root = parse(maps.technology_map(sugarcane, diagnosis))
    cards = by_class(root, "g", "tech-card")
    assert [g.get("data-node") for g in cards] and len(cards) == len(sugarcane.nodes)
    status = {g.get("data-node"): g.get("data-status") for g in cards}
    assert status == {n.id: n.status for n in diagnosis.nodes}
    for g in cards:
        node = sugarcane.node(str(g.get("data-node")))
        shown = [t.text for t in g.iter(f"{SVG}text") if t.get("class") == "tech"]
        assert shown == list(node.technologies)
        empty = [t.text for t in g.iter(f"{SVG}text") if t.get("class") == "no-tech"]
        assert empty == ([] if node.technologies else ["模板未列关键技术"])
    breaks = {n.id for n in diagnosis.nodes if n.is_break}
    for g in cards:
        frame = g.find(f"{SVG}rect")
        assert frame is not None
        assert (frame.get("stroke") == BREAK_COLOUR) == (g.get("data-node") in breaks)
    rects = list(card_rects(root).values())
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            overlap = a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            overlap = overlap and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
            assert not overlap, (a, b)
    w, _ = size(root)
    assert all(x + cw <= w for x, _, cw, _ in rects)


def test_technology_map_follows_the_chain_downstream(sugarcane: Chain) -> None:
    root = parse(maps.technology_map(sugarcane, None, "en"))
    rects = card_rects(root)
    assert texts(root, "heading") == ["Sugarcane and cane sugar: technology map"]
    # within the midstream band, milling comes before refining
    assert rects["raw_sugar_milling"][0] < rects["refined_sugar"][0]
    assert {g.get("data-status") for g in by_class(root, "g", "tech-card")} == {"none"}


# ---------------------------------------------------------------- 招商路线图


def test_target_origins_hand_worked() -> None:
    frame = targets_frame({"440106": 3, "440104": 2, "530102": 2, "320102": 1})
    origins = maps.target_origins(frame)
    assert origins["origin_code"].to_list() == ["440100", "530100", "320100"]
    assert origins["targets"].to_list() == [5, 2, 1]
    assert origins["best_score"].to_list() == pytest.approx([1.0, 0.95, 0.93])
    assert origins["capital"].to_list() == pytest.approx([5010.0, 2011.0, 1007.0])
    assert origins["nodes"].to_list()[0] == ["cane_machinery", "molasses_ethanol"]
    assert maps.target_origins(frame.clear()).height == 0


def test_route_map_draws_one_arrow_per_origin(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    frame = targets_frame({"440106": 5, "530102": 2, "320102": 1})
    root = parse(maps.investment_route_map(frame, diagnosis.region, sugarcane))
    routes = by_class(root, "path", "route")
    assert {r.get("data-origin"): int(r.get("data-targets", 0)) for r in routes} == {
        "440100": 5,
        "530100": 2,
        "320100": 1,
    }
    widths = {r.get("data-origin"): float(r.get("stroke-width", 0)) for r in routes}
    assert widths["440100"] > widths["530100"] > widths["320100"]
    labels = texts(root, "origin-label")
    assert "广州市 5" in labels and "昆明市 2" in labels
    all_text = texts(root)
    assert "广东·广州市" in all_text and "江苏·南京市" in all_text
    assert "共 8 家目标企业，来自 3 个城市、3 个省份" in all_text
    assert texts(root, "home-label") == ["梧州市"]
    assert not texts(root, "empty")


def test_route_map_draws_the_largest_origins_only(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    from chainatlas.reference.regions import load_regions

    counties = (
        load_regions()
        .filter((pl.col("level") == "county") & pl.col("city_code").is_not_null())
        .filter(~pl.col("province_code").is_in(["450000"]))
        .unique("city_code", keep="first")
        .sort("region_code")
        .head(20)["region_code"]
        .to_list()
    )
    frame = targets_frame({c: 1 + (i % 3) for i, c in enumerate(counties)})
    root = parse(maps.investment_route_map(frame, diagnosis.region, sugarcane))
    assert len(by_class(root, "path", "route")) == maps.MAX_ROUTES
    assert len(texts(root, "origin-label")) <= maps.ROUTE_LABELS


def test_route_map_without_targets(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    for targets in (None, targets_frame({"440106": 1}).clear()):
        root = parse(maps.investment_route_map(targets, diagnosis.region, sugarcane))
        assert texts(root, "empty") == ["暂无目标企业"]
        assert not by_class(root, "path", "route")
        assert "南海诸岛" in texts(root)
    en = parse(maps.investment_route_map(None, diagnosis.region, sugarcane, "en"))
    assert texts(en, "empty") == ["No target firms yet"]
    with pytest.raises(ValueError, match="columns"):
        maps.investment_route_map(
            targets_frame({"440106": 1}).drop("score"), diagnosis.region, sugarcane
        )


def test_names() -> None:
    assert maps.short_province("广西壮族自治区") == "广西"
    assert maps.short_province("黑龙江省") == "黑龙江"
    assert maps.short_province("上海市") == "上海"
    regions = maps._regions_by_code()
    assert maps.origin_label("230100", regions) == "黑龙江·哈尔滨市"
    assert maps.origin_label("310100", regions) == "上海市"
    assert maps.origin_label("440000", regions) == "广东省"
    assert maps.origin_label("000000", regions) == "000000"


def test_maps_are_deterministic(sugarcane: Chain, diagnosis: Diagnosis) -> None:
    frame = targets_frame({"440106": 2, "530102": 1})
    for make in (
        lambda: maps.distribution_map(COUNTIES, diagnosis.region, sugarcane),
        lambda: maps.investment_route_map(frame, diagnosis.region, sugarcane),
        lambda: maps.technology_map(sugarcane, diagnosis),
    ):
        assert make() == make()
