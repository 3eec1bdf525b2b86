import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.metrics.lead_firm import lead_firm_score

W = {"size": 0.45, "partners": 0.25, "tags": 0.2, "downstream": 0.1}


def test_components_and_weights_add_up() -> None:
    frame = pl.DataFrame(
        {
            "uscc": ["a", "b"],
            "national_rank": [1, 51],
            "node_firms": [100, 100],
            "local_partners": [4, 2],
            "tags": ["上市;高新技术企业", None],
            "stage": ["downstream", "upstream"],
        }
    )
    out = lead_firm_score(frame, **W)
    a = out.row(0, named=True)
    assert a["uscc"] == "a"
    assert a["size_component"] == pytest.approx(1.0)
    assert a["tags_component"] == pytest.approx(1.0)
    assert a["lead_score"] == pytest.approx(0.45 + 0.25 + 0.2 + 0.1)
    b = out.row(1, named=True)
    assert b["size_component"] == pytest.approx(0.5)
    assert b["partners_component"] == pytest.approx(0.5)
    assert b["lead_score"] == pytest.approx(0.45 * 0.5 + 0.25 * 0.5)


@settings(max_examples=50)
@given(st.permutations(list(range(8))))
def test_ranking_is_independent_of_row_order(order: list[int]) -> None:
    base = pl.DataFrame(
        {
            "uscc": [f"f{i}" for i in range(8)],
            "national_rank": [1, 5, 9, 2, 40, 3, 7, 8],
            "node_firms": [50] * 8,
            "local_partners": [0, 3, 1, 2, 5, 0, 1, 2],
            "tags": ["上市", None, "专精特新", None, "高新技术企业", None, None, "专精特新小巨人"],
            "stage": ["midstream"] * 8,
        }
    )
    expected = lead_firm_score(base, **W)["uscc"].to_list()
    shuffled = lead_firm_score(base[order], **W)["uscc"].to_list()
    assert shuffled == expected


def test_local_purchases_component_is_normalised_and_weighted() -> None:
    frame = pl.DataFrame(
        {
            "uscc": ["a", "b", "c"],
            "national_rank": [3, 2, 1],
            "node_firms": [10, 10, 10],
            "local_partners": [0, 0, 0],
            "tags": [None, None, None],
            "stage": ["upstream"] * 3,
            "local_purchases_share": [0.4, 0.1, 0.0],
        }
    )
    out = lead_firm_score(frame, **W, local_purchases=0.5)
    rows = {r["uscc"]: r for r in out.iter_rows(named=True)}
    assert rows["a"]["local_purchases_component"] == pytest.approx(1.0)
    assert rows["b"]["local_purchases_component"] == pytest.approx(0.25)
    assert rows["a"]["lead_score"] == pytest.approx(0.45 * 0.8 + 0.5 * 1.0)
    # c is the largest but drives no local purchases: a (0.86) and b (0.53) pass it (0.45)
    assert out["uscc"].to_list() == ["a", "b", "c"]
    # without the column (or with nobody driving local purchases) the component is 0
    plain = lead_firm_score(frame.drop("local_purchases_share"), **W, local_purchases=0.5)
    assert plain["local_purchases_component"].to_list() == [0.0, 0.0, 0.0]
