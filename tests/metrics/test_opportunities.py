import polars as pl
import pytest

from chainatlas.metrics.opportunities import (
    ScoreWeights,
    candidates,
    node_growth,
    rank_opportunities,
    reasons,
)


@pytest.fixture
def region() -> pl.DataFrame:
    # chain a: a1 → a2 → a3, a1 held and strong; chain b: nothing held
    return pl.DataFrame(
        {
            "chain_id": ["a", "a", "a", "b", "b"],
            "node_id": ["a1", "a2", "a3", "b1", "b2"],
            "firm_count": [40, 3, 0, 1, 0],
            "rca": [2.5, 0.4, 0.0, 0.2, 0.0],
            "mcp": [1, 0, 0, 0, 0],
            "density": [0.6, 0.5, 0.2, 0.1, 0.3],
            "pci": [0.1, 1.2, -0.5, 2.0, 1.0],
            "cog": [0.0, 0.4, 0.1, 0.9, 0.7],
        }
    )


EDGES = pl.DataFrame(
    {"chain_id": ["a", "a", "b"], "supplier": ["a1", "a2", "b1"], "customer": ["a2", "a3", "b2"]}
)
STATUS = pl.DataFrame(
    {"chain_id": ["a"] * 3, "node_id": ["a1", "a2", "a3"], "status": ["strong", "weak", "missing"]}
)
GROWTH = pl.DataFrame(
    {
        "chain_id": ["a", "a", "a", "b", "b"],
        "node_id": ["a1", "a2", "a3", "b1", "b2"],
        "growth": [0.0, 0.1, 0.3, 0.5, None],
    }
)


def test_kinds_follow_the_chain_graph(region: pl.DataFrame) -> None:
    found = candidates(region, EDGES, STATUS, GROWTH).sort("chain_id", "node_id")
    assert found.select("kind", "chain_id", "node_id").rows() == [
        ("extend", "a", "a2"),  # next to strong a1
        ("fill", "a", "a3"),  # its neighbour a2 is only weak
        ("build", "b", None),  # chain b holds no node
    ]
    a2 = found.row(0, named=True)
    assert a2["adjacent_strong"] == ["a1"]
    build = found.row(2, named=True)
    assert build["density"] == pytest.approx(0.2)  # mean of b1, b2
    assert build["pci"] == pytest.approx(1.5)
    assert build["cog"] == pytest.approx(0.8)
    assert build["growth"] == pytest.approx(0.5)  # the null is left out of the mean
    assert build["firm_count"] == 1


def test_score_is_the_weighted_percentile_rank(region: pl.DataFrame) -> None:
    found = candidates(region, EDGES, STATUS, GROWTH)
    ranked = rank_opportunities(found, ScoreWeights(density=1.0, cog=0.0, pci=0.0, growth=0.0))
    # densities a2 0.5, a3 0.2, build-b 0.2 → ranks 3, 1.5, 1.5 of 3
    assert ranked["node_id"].to_list()[0] == "a2"
    assert ranked["density_pct"].to_list() == pytest.approx([1.0, 0.5, 0.5])
    assert ranked["rank"].to_list() == [1, 2, 3]
    mixed = rank_opportunities(found, ScoreWeights(density=0.5, cog=0.5, pci=0.0, growth=0.0))
    by_node = {r["node_id"]: r["score"] for r in mixed.iter_rows(named=True)}
    # cog: a2 0.4, a3 0.1, b 0.8 → pct 2/3, 1/3, 1
    assert by_node["a2"] == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    assert by_node[None] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)


def test_a_missing_component_scores_zero() -> None:
    found = pl.DataFrame(
        {
            "kind": ["fill", "fill"],
            "chain_id": ["a", "a"],
            "node_id": ["x", "y"],
            "firm_count": [0, 0],
            "rca": [0.0, 0.0],
            "density": [0.3, None],
            "pci": [0.0, 0.0],
            "cog": [0.0, 0.0],
            "growth": [None, None],
            "adjacent_strong": [[], []],
        },
        schema_overrides={"adjacent_strong": pl.List(pl.String)},
    )
    ranked = rank_opportunities(found, ScoreWeights(1.0, 0.0, 0.0, 1.0))
    assert ranked["node_id"].to_list() == ["x", "y"]
    assert ranked["growth_pct"].to_list() == [0.0, 0.0]


def test_growth_is_undefined_without_firms_then() -> None:
    g = node_growth(
        pl.DataFrame(
            {
                "chain_id": ["a", "a"],
                "node_id": ["x", "y"],
                "firms_then": [10, 0],
                "firms_now": [15, 4],
            }
        )
    )
    assert g["growth"].to_list() == [pytest.approx(0.5), None]


def test_reasons_name_the_strong_neighbour(region: pl.DataFrame) -> None:
    ranked = rank_opportunities(
        candidates(region, EDGES, STATUS, GROWTH), ScoreWeights(0.5, 0.2, 0.15, 0.15)
    )
    row = ranked.filter(pl.col("node_id") == "a2").row(0, named=True)
    zh = reasons(row, {("a", "a1"): "甘蔗种植"}, "zh")
    assert "相关密度 0.50" in zh and "「甘蔗种植」" in zh and "本地已有 3 家企业" in zh
    en = reasons(row, {("a", "a1"): "cane growing"}, "en")
    assert "density 0.50" in en and "cane growing" in en
    build = ranked.filter(pl.col("kind") == "build").row(0, named=True)
    assert "本地尚无具比较优势的环节" in reasons(build, {}, "zh")
