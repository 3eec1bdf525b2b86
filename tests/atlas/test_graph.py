from chainatlas.atlas import load_atlas
from chainatlas.atlas.graph import customers, find_cycle, layers, paths, suppliers, upstream_closure


def test_find_cycle() -> None:
    assert find_cycle(["a", "b", "c"], [("a", "b"), ("b", "c")]) == []
    assert find_cycle(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")]) == ["a", "b", "c", "a"]


def test_sugarcane_neighbours_layers_and_paths() -> None:
    chain = load_atlas()["sugarcane"]
    assert "cane_planting" in suppliers(chain, "raw_sugar_milling")
    assert "filter_mud_fertiliser" in suppliers(chain, "cane_planting")
    assert "filter_mud_fertiliser" not in suppliers(chain, "cane_planting", include_recycling=False)
    assert {"refined_sugar", "yeast_extract"} <= set(customers(chain, "raw_sugar_milling"))
    layer = layers(chain)
    # the recycling loop does not break the left-to-right order
    for e in chain.edges:
        if not e.recycling:
            assert layer[e.supplier] < layer[e.customer]
    found = paths(chain, "cane_seedling", "bagasse_tableware")
    assert [
        "cane_seedling",
        "cane_planting",
        "raw_sugar_milling",
        "bagasse_pulp_paper",
        "bagasse_tableware",
    ] in found
    assert "cane_seedling" in upstream_closure(chain, "yeast_extract")
