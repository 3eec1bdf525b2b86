from pathlib import Path

import pytest

from chainatlas.atlas import AtlasError, load_atlas, parse_template

GOOD = """\
id: toy
name_zh: 玩具链
name_en: Toy chain
nodes:
  - {id: a, name_zh: 甲, name_en: A, stage: upstream, industry_codes: ["1340"]}
  - {id: b, name_zh: 乙, name_en: B, stage: midstream}
  - {id: c, name_zh: 丙, name_en: C, stage: downstream}
edges:
  - {supplier: a, customer: b}
  - {supplier: b, customer: c}
"""


def test_parses_a_good_template() -> None:
    chain = parse_template(GOOD, "toy.yaml")
    assert chain.node_ids == ("a", "b", "c")
    assert [(e.supplier, e.customer) for e in chain.edges] == [("a", "b"), ("b", "c")]


def test_cycle_is_refused_with_the_closing_edge_line() -> None:
    text = GOOD + "  - {supplier: c, customer: a}\n"
    with pytest.raises(AtlasError) as info:
        parse_template(text, "toy.yaml")
    (issue,) = info.value.issues
    assert issue.line == 11 and issue.field.startswith("edges[2]")
    assert "成环" in issue.message_zh and "cycle" in issue.message_en


def test_cycle_closed_by_a_recycling_edge_is_accepted() -> None:
    chain = parse_template(GOOD + "  - {supplier: c, customer: a, recycling: true}\n", "toy.yaml")
    assert chain.edges[-1].recycling


def test_unknown_node_in_edge_names_line_and_field() -> None:
    text = GOOD.replace("{supplier: b, customer: c}", "{supplier: b, customer: zz}")
    with pytest.raises(AtlasError) as info:
        parse_template(text, "toy.yaml")
    (issue,) = info.value.issues
    assert (issue.file, issue.line, issue.field) == ("toy.yaml", 10, "edges[1].customer")
    assert "zz" in issue.message_zh


def test_every_schema_error_is_reported_with_its_line() -> None:
    text = GOOD.replace("stage: midstream", "stage: middle").replace('["1340"]', '["13"]')
    text = text.replace("name_en: Toy chain", "name_en: Toy chain\ncolour: red")
    with pytest.raises(AtlasError) as info:
        parse_template(text, "toy.yaml")
    found = {(i.line, i.field) for i in info.value.issues}
    assert (4, "colour") in found
    assert (6, "nodes[0](a).industry_codes[0]") in found
    assert (7, "nodes[1](b).stage") in found


def test_duplicate_node_id_and_yaml_syntax_error() -> None:
    dup = GOOD.replace("{id: c,", "{id: b,")
    with pytest.raises(AtlasError, match="duplicate node id b"):
        parse_template(dup, "t.yaml")
    with pytest.raises(AtlasError) as info:
        parse_template("id: [unclosed\n", "t.yaml")
    assert info.value.issues[0].field == "(yaml)"


def test_user_directory_adds_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "toy.yaml").write_text(GOOD, "utf-8")
    override = GOOD.replace("id: toy", "id: sugarcane").replace("玩具链", "我的甘蔗链")
    (tmp_path / "mine.yaml").write_text(override, "utf-8")
    atlas = load_atlas([tmp_path])
    assert "toy" in atlas
    assert atlas["sugarcane"].name_zh == "我的甘蔗链"


def test_alignment_to_a_chain_above_is_checked(tmp_path: Path) -> None:
    city = GOOD.replace(
        "id: toy",
        "id: wz_sugar\nlevel: city\nregion_code: '450400'\n"
        "aligns_to: {chain: sugarcane, level: province, nodes: {a: cane_planting, b: nope}}",
    )
    (tmp_path / "wz.yaml").write_text(city, "utf-8")
    with pytest.raises(AtlasError, match="nope") as info:
        load_atlas([tmp_path])
    (issue,) = info.value.issues
    assert (issue.line, issue.field) == (4, "aligns_to.nodes.b")
    (tmp_path / "wz.yaml").write_text(city.replace("b: nope", "b: raw_sugar_milling"), "utf-8")
    chain = load_atlas([tmp_path])["wz_sugar"]
    assert chain.aligns_to is not None and chain.aligns_to.nodes["b"] == "raw_sugar_milling"
