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
