"""The shipped atlas: size, depth and consistency of every curated chain."""

import pytest

from chainatlas.atlas import load_atlas
from chainatlas.reference.industry import industry_code_names

ATLAS = load_atlas()
REQUIRED = {
    "sugarcane",
    "calcium_materials",
    "bamboo_pulp_paper",
    "green_home",
    "cold_chain",
    "tcm_ethnic_medicine",
    "rice_grain_oil",
    "construction_machinery",
    "new_energy_vehicle",
    "power_battery",
    "photovoltaic",
    "integrated_circuit",
    "biomedicine",
    "new_display",
}


def test_library_has_the_chains_users_named() -> None:
    assert set(ATLAS) >= REQUIRED
    assert len(ATLAS) >= 14


@pytest.mark.parametrize("chain_id", sorted(ATLAS))
def test_chain_depth(chain_id: str) -> None:
    chain = ATLAS[chain_id]
    assert len(chain.nodes) >= 15
    connected = {e.supplier for e in chain.edges} | {e.customer for e in chain.edges}
    assert set(chain.node_ids) == connected, "every node carries at least one supply edge"
    for node in chain.nodes:
        assert node.include, f"{node.id} has no include keywords"
        assert node.industry_codes, f"{node.id} has no industry code"
        assert all(len(k) >= 2 for k in node.include)


@pytest.mark.parametrize("chain_id", sorted(ATLAS))
def test_every_industry_code_has_a_name(chain_id: str) -> None:
    names = industry_code_names()
    codes = {c for n in ATLAS[chain_id].nodes for c in n.industry_codes}
    assert codes <= set(names), sorted(codes - set(names))


@pytest.mark.parametrize("chain_id", sorted(ATLAS))
def test_keywords_are_specific_enough_to_match_as_substrings(chain_id: str) -> None:
    # keywords match anywhere in the text: a two-letter Latin keyword or a bare number would
    # hit inside unrelated words and figures, and an exclusion that is also the node's own
    # keyword would cancel itself
    for node in ATLAS[chain_id].nodes:
        positive = set(node.include) | set(node.products)
        assert not positive & set(node.exclude), node.id
        for word in positive | set(node.exclude):
            assert not word.strip().isdigit(), (node.id, word)
            assert not (word.isascii() and len(word.replace(" ", "")) < 3), (node.id, word)


def test_nodes_that_trade_list_a_wholesale_or_retail_class() -> None:
    # the classifier keeps goods named in trade-only clauses for nodes whose classes include
    # wholesale or retail (GB/T 4754 divisions 51, 52): those nodes must declare them
    trading = {
        ("biomedicine", "pharma_distribution"),
        ("biomedicine", "retail_pharmacy"),
        ("tcm_ethnic_medicine", "pharma_wholesale_logistics"),
        ("tcm_ethnic_medicine", "tcm_retail_pharmacy"),
        ("sugarcane", "sugar_trade_logistics"),
        ("sugarcane", "cane_agri_inputs"),
        ("rice_grain_oil", "rice_agri_inputs"),
        ("rice_grain_oil", "grain_trading"),
    }
    for chain_id, node_id in trading:
        codes = ATLAS[chain_id].node(node_id).industry_codes
        assert any(c[:2] in ("51", "52") for c in codes), (chain_id, node_id)
