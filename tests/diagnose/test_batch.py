import pytest

from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all


@pytest.mark.parametrize(
    "level,code",
    [("city", "450400"), ("county", "450403"), ("province", "440000"), ("city", "440100")],
)
def test_batch_equals_single_region(toy_warehouse, toy_chain, level: str, code: str) -> None:  # type: ignore[no-untyped-def]
    batch = diagnose_all(toy_warehouse, {"toy": toy_chain}, level)
    single = diagnose(toy_warehouse, toy_chain, code)
    rows = {
        r["node_id"]: r
        for r in batch.nodes.filter(batch.nodes["region_code"] == code).iter_rows(named=True)
    }
    for node in single.nodes:
        row = rows[node.id]
        assert row["firm_count"] == node.firm_count
        assert row["status"] == node.status
        assert row["break"] == node.is_break
        assert (row["lq"] or 0) == pytest.approx(node.lq or 0, abs=1e-4)
    chain = batch.chains.filter(batch.chains["region_code"] == code).row(0, named=True)
    assert chain["completeness"] == pytest.approx(single.completeness, abs=1e-4)


def test_batch_covers_every_region_of_the_level(toy_warehouse, toy_chain) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.reference.regions import load_regions

    batch = diagnose_all(toy_warehouse, {"toy": toy_chain}, "county")
    counties = load_regions().filter(load_regions()["level"] == "county").height
    assert batch.chains.height == counties
    assert batch.nodes.height == counties * len(toy_chain.nodes)


@pytest.mark.parametrize(
    "level,code",
    [("city", "450400"), ("county", "450403"), ("province", "440000"), ("county", "110101")],
)
def test_one_region_of_the_batch_is_its_rows_of_the_whole(  # type: ignore[no-untyped-def]
    toy_warehouse, toy_chain, level: str, code: str
) -> None:
    whole = diagnose_all(toy_warehouse, {"toy": toy_chain}, level)
    one = diagnose_all(toy_warehouse, {"toy": toy_chain}, level, region_code=code, network=False)
    assert one.nodes.height == len(toy_chain.nodes)
    # without the network figures, every other column equal
    for mine, every in ((one.nodes, whole.nodes), (one.chains, whole.chains)):
        assert set(mine.columns) < set(every.columns)
        assert mine.equals(every.filter(every["region_code"] == code).select(mine.columns))
