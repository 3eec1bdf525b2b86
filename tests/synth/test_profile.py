"""The demo profile: data that matches the atlas, and the LQ solving behind it."""

from __future__ import annotations

import numpy as np
import pytest

from chainatlas.atlas import Chain, load_atlas, parse_template
from chainatlas.synth.catalogue import node_catalogue
from chainatlas.synth.profile import (
    DEMO_PROFILE,
    SAFE_LQ,
    auto_statuses,
    city_node_shares,
    integer_quotas,
    lq_status,
    resolve_profile,
)

CHAIN = (
    """\
id: line
name_zh: 示例
name_en: Line
nodes:
"""
    + "".join(
        f"  - {{id: n{i}, name_zh: 环节{i}, name_en: N{i}, stage: midstream, "
        f"industry_codes: ['{3300 + i}'], include: [关键词{i}]}}\n"
        for i in range(8)
    )
    + "edges:\n"
    + "".join(f"  - {{supplier: n{i}, customer: n{i + 1}}}\n" for i in range(7))
)


def _lq(counts: np.ndarray, national: np.ndarray) -> np.ndarray:
    x = counts.sum()
    return (counts / x) / ((national + counts) / (national.sum() + x))


def test_shares_hit_the_target_lq_with_the_city_in_the_denominator() -> None:
    status = ["strong", "present", "present", "weak", "weak", "missing", "missing", "weak"]
    national = np.array([50.0, 80, 120, 150, 90, 60, 100, 70])
    shares = city_node_shares(status, national, city_total=40.0)
    lq = _lq(shares * 40.0, national)
    assert np.allclose(lq[[1, 2]], 1.22) and np.allclose(lq[[3, 4, 7]], 0.55)
    assert lq[0] >= 2.0 and np.allclose(lq[[5, 6]], 0.0) and np.isclose(shares.sum(), 1.0)


def test_integer_quotas_put_every_lq_safely_inside_its_class() -> None:
    status = ["strong", "present", "present", "weak", "weak", "missing", "strong", "weak"]
    national = np.array([500.0, 800, 1200, 1500, 900, 600, 300, 700])
    shares = city_node_shares(status, national, 120.0)
    counts, achieved = integer_quotas(status, shares, national, 120)
    assert achieved == status
    lq = _lq(counts.astype(float), national)
    for s, v in zip(status, lq, strict=True):
        assert lq_status(v) == s
        if s != "missing":
            low, high = SAFE_LQ[s]
            assert low <= v <= high


def test_a_city_too_small_for_a_class_reports_what_it_gets() -> None:
    status = ["strong", "present", "weak"]
    counts, achieved = integer_quotas(
        status, np.array([0.2, 0.01, 0.79]), np.array([100.0, 5.0, 895.0]), 10
    )
    assert achieved[1] != "present" and achieved[1] == lq_status(
        _lq(counts * 1.0, np.array([100.0, 5, 895]))[1]
    )


def test_auto_statuses_show_every_status_and_a_break() -> None:
    chain = parse_template(CHAIN, "line.yaml")
    cat = node_catalogue({"line": chain})
    status = auto_statuses(list(range(cat.size)), cat, set(), set())
    assert set(status.values()) == {"strong", "present", "weak", "missing"}
    ids = {cat.nodes[n].id: s for n, s in status.items()}
    good = {"strong", "present"}
    assert any(
        ids[f"n{i}"] in {"missing", "weak"}
        and ids[f"n{i - 1}"] in good
        and ids[f"n{i + 1}"] in good
        for i in range(1, 7)
    )


def test_a_node_whose_codes_another_chain_left_missing_is_missing_too() -> None:
    chain = parse_template(CHAIN, "line.yaml")
    cat = node_catalogue({"line": chain})
    status = auto_statuses(list(range(cat.size)), cat, set(), {"3304"})
    assert status[cat.index("line", "n4")] == "missing"


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas()


def test_the_profile_names_only_nodes_of_the_shipped_atlas(atlas: dict[str, Chain]) -> None:
    resolved = resolve_profile(DEMO_PROFILE, node_catalogue(atlas))
    stale = [n for n in resolved.notes if "not in the atlas" in n or "not in the profile" in n]
    assert stale == []
    for chain_id, lists in DEMO_PROFILE["statuses"].items():
        if chain_id in atlas:
            named = [n for nodes in lists.values() for n in nodes]
            assert sorted(named) == sorted(atlas[chain_id].node_ids), chain_id


def test_missing_codes_of_the_profile_do_not_strip_present_firms(atlas: dict[str, Chain]) -> None:
    """A missing node's code forbids that code in the whole city; no listed node that must
    have firms there may lose all of its codes to that."""
    cat = node_catalogue(atlas)
    resolved = resolve_profile(DEMO_PROFILE, cat)
    for n, s in resolved.status.items():
        chain = cat.chains[cat.chain_of[n]].id
        codes = set(cat.nodes[n].industry_codes)
        if s != "missing" and chain in DEMO_PROFILE["statuses"] and codes:
            assert codes - resolved.forbidden_codes, (chain, cat.nodes[n].id)
