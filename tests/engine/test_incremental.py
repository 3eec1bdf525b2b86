"""A monthly registry snapshot (births, deaths, changes, firms gone from the registry)
loaded incrementally leaves every warehouse table equal to a full rebuild of the same data.

Tolerance: integer, text, date and boolean columns exactly; floating sums (capital,
revenue, amounts) within 1e-9 relative — a group recomputed alone adds the same numbers in
another order than the whole-table pass.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from chainatlas.atlas import Chain, load_atlas
from chainatlas.engine.warehouse import Warehouse
from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA
from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA
from chainatlas.services.build import OUTPUT_TABLES
from chainatlas.services.load import LoadResult, load_enterprises, load_links
from chainatlas.synth import generate

FIRMS = 2_000
SNAPSHOT_DATE = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas([])


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory, atlas: dict[str, Chain]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Seeded synthetic firms (some without capital, some of equal capital: rank ties) and
    their links."""
    out = tmp_path_factory.mktemp("synth")
    generate(FIRMS, 7, out, atlas=atlas, chunk_size=1_000)
    row = pl.int_range(pl.len())
    firms = pl.read_parquet(out / "enterprises.parquet").with_columns(
        registered_capital=pl.when(row % 23 == 0)
        .then(None)
        .when(row % 29 == 0)
        .then(500.0)
        .otherwise(pl.col("registered_capital"))
    )
    links = pl.read_parquet(out / "supply_links.parquet")
    return firms.select(list(ENTERPRISES_SCHEMA)), links.select(list(SUPPLY_LINKS_SCHEMA))


def monthly_snapshot(firms: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(last month's registry, this month's snapshot): births (the last 3 % are new),
    deaths, larger capital (ranks move), moves to another county, a new business scope and
    products (classified again, other nodes), new names and tags, and firms missing from
    the snapshot (deregistered on its date)."""
    n = firms.height
    births = int(n * 0.03)
    row = pl.int_range(pl.len())
    counties = firms["region_code"].unique().sort()
    snapshot = firms.with_columns(
        deregistered=pl.when((row % 37 == 0) & pl.col("deregistered").is_null())
        .then(pl.lit(dt.date(2026, 10, 12)))
        .otherwise(pl.col("deregistered")),
        registered_capital=pl.when(row % 31 == 1)
        .then(pl.col("registered_capital").fill_null(1.0) * 40)
        .otherwise(pl.col("registered_capital")),
        region_code=pl.when(row % 41 == 2)
        .then(pl.lit(counties[len(counties) // 2]))
        .otherwise(pl.col("region_code")),
        business_scope=pl.when(row % 43 == 3)
        .then(pl.col("business_scope").shift(7))
        .otherwise(pl.col("business_scope")),
        products=pl.when(row % 43 == 3)
        .then(pl.col("products").shift(7))
        .otherwise(pl.col("products")),
        name=pl.when(row % 47 == 4).then(pl.col("name") + "（更名）").otherwise(pl.col("name")),
        tags=pl.when(row % 53 == 6).then(pl.lit("专精特新")).otherwise(pl.col("tags")),
    ).filter(row % 59 != 5)
    return firms.head(n - births), snapshot


def tables(wh: Warehouse) -> dict[str, pl.DataFrame]:
    return {t: wh.sql(f"SELECT * FROM {t}") for t in OUTPUT_TABLES}


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    exact = [c for c in frame.columns if c not in floats]
    return frame.sort([*exact, *floats], nulls_last=True)


def assert_same_tables(got: dict[str, pl.DataFrame], want: dict[str, pl.DataFrame]) -> None:
    for table in OUTPUT_TABLES:
        assert got[table].height == want[table].height, table
        assert got[table].columns == want[table].columns, table
        assert_frame_equal(
            canonical(got[table]),
            canonical(want[table].select(got[table].columns)),
            check_dtypes=False,
            rel_tol=1e-9,
            abs_tol=1e-9,
        )


def full_rebuild(
    path: Path, firms: pl.DataFrame, links: pl.DataFrame, atlas: dict[str, Chain]
) -> dict[str, pl.DataFrame]:
    with Warehouse(path) as wh:
        load_enterprises(wh, firms, atlas)
        load_links(wh, links)
        return tables(wh)


def final_state(snapshot: pl.DataFrame, before: pl.DataFrame) -> pl.DataFrame:
    """The registry after the snapshot: its rows, and last month's firms missing from it —
    the active ones of the counties it covers deregistered on the snapshot's date."""
    covered = pl.col("region_code").is_in(snapshot["region_code"].implode())
    gone = before.filter(~pl.col("uscc").is_in(snapshot["uscc"].implode())).with_columns(
        deregistered=pl.when(covered)
        .then(pl.col("deregistered").fill_null(SNAPSHOT_DATE))
        .otherwise(pl.col("deregistered"))
    )
    return pl.concat([snapshot, gone])


def test_a_monthly_snapshot_loaded_incrementally_equals_a_full_rebuild(
    tmp_path: Path, registry: tuple[pl.DataFrame, pl.DataFrame], atlas: dict[str, Chain]
) -> None:
    firms, links = registry
    before, snapshot = monthly_snapshot(firms)
    with Warehouse(tmp_path / "inc.duckdb") as wh:
        load_enterprises(wh, before, atlas)
        load_links(wh, links)
        result = load_enterprises(
            wh, snapshot, atlas, deregister_absent=SNAPSHOT_DATE, incremental=True
        )
        got = tables(wh)
    want = full_rebuild(tmp_path / "full.duckdb", final_state(snapshot, before), links, atlas)
    assert_same_tables(got, want)
    assert result.mode == "incremental"
    births = snapshot.filter(~pl.col("uscc").is_in(before["uscc"].implode())).height
    gone = before.filter(
        ~pl.col("uscc").is_in(snapshot["uscc"].implode())
        & pl.col("region_code").is_in(snapshot["region_code"].implode())
    )
    missing = gone["deregistered"].null_count()
    assert result.deregistered_absent == missing > 0
    # classified again: the births and the firms with a new scope, nobody else
    new_scope = snapshot.join(before, on="uscc").filter(
        pl.col("business_scope").ne_missing(pl.col("business_scope_right"))
        | pl.col("products").ne_missing(pl.col("products_right"))
    )
    assert result.reclassified == births + new_scope.height
    assert 0 < result.changed < snapshot.height
    assert result.unchanged == snapshot.height - (result.changed - missing)


def test_the_automatic_choice_is_incremental_for_a_small_change_and_equal(
    tmp_path: Path, registry: tuple[pl.DataFrame, pl.DataFrame], atlas: dict[str, Chain]
) -> None:
    """A handful of births (firms no link mentions) and a linked firm grown richer and
    newly tagged: chosen incremental without being asked, the network tables (which read
    neither capital nor tags) need no rebuild, same result."""
    firms, links = registry
    linked = pl.concat([links["supplier_uscc"], links["customer_uscc"]]).unique()
    unlinked = firms.filter(~pl.col("uscc").is_in(linked.implode()))
    newborn = unlinked.tail(5)
    before = firms.filter(~pl.col("uscc").is_in(newborn["uscc"].implode()))
    richer = firms.filter(pl.col("uscc").is_in(linked.implode())).head(1)
    richer = richer.with_columns(registered_capital=pl.lit(9.9e9), tags=pl.lit("小巨人"))
    change = pl.concat([newborn, richer])
    with Warehouse(tmp_path / "inc.duckdb") as wh:
        load_enterprises(wh, before, atlas)
        load_links(wh, links)
        network_before = wh.sql("SELECT * FROM sourcing_inputs")
        result = load_enterprises(wh, change, atlas)
        got = tables(wh)
    final = pl.concat([before.filter(pl.col("uscc") != richer["uscc"][0]), change])
    assert_same_tables(got, full_rebuild(tmp_path / "full.duckdb", final, links, atlas))
    assert result.mode == "incremental"
    assert (result.changed, result.reclassified) == (6, 5)
    assert_frame_equal(got["sourcing_inputs"], network_before)
    ranked_first = got["assignments"].filter(pl.col("uscc") == richer["uscc"][0])
    assert ranked_first.height  # linked firms are on chains: the richest ranks first there
    assert ranked_first["national_rank"].to_list() == [1] * ranked_first.height


def test_a_snapshot_equal_to_what_is_stored_changes_nothing(
    tmp_path: Path, registry: tuple[pl.DataFrame, pl.DataFrame], atlas: dict[str, Chain]
) -> None:
    firms, links = registry
    with Warehouse(tmp_path / "w.duckdb") as wh:
        load_enterprises(wh, firms, atlas)
        load_links(wh, links)
        before = tables(wh)
        result = load_enterprises(wh, firms, atlas)
        after = tables(wh)
    assert (result.mode, result.changed, result.unchanged) == ("none", 0, firms.height)
    assert result.reclassified == 0
    for table in OUTPUT_TABLES:
        assert_frame_equal(canonical(after[table]), canonical(before[table]))


def test_a_large_change_rebuilds_the_whole_cube(
    tmp_path: Path, registry: tuple[pl.DataFrame, pl.DataFrame], atlas: dict[str, Chain]
) -> None:
    firms, _links = registry
    half = firms.height // 2
    with Warehouse(tmp_path / "w.duckdb") as wh:
        load_enterprises(wh, firms.head(half), atlas)
        result: LoadResult = load_enterprises(wh, firms.slice(half), atlas)
    assert result.mode == "full"
    assert result.changed == result.reclassified == firms.height - half


def test_a_snapshot_deregisters_missing_firms_of_its_own_counties_only(
    toy_warehouse: Warehouse, toy_chain: Chain
) -> None:
    """梧州's snapshot without one of its firms: that firm is deregistered on the
    snapshot's date; 广州's firms, absent from the file too, are left alone."""
    stored = toy_warehouse.sql("SELECT * FROM enterprises").select(list(ENTERPRISES_SCHEMA))
    wuzhou = stored.filter(pl.col("region_code") == "450403").sort("uscc")
    dropped = wuzhou["uscc"][0]
    result = load_enterprises(
        toy_warehouse,
        wuzhou.filter(pl.col("uscc") != dropped),
        {"toy": toy_chain},
        deregister_absent=SNAPSHOT_DATE,
    )
    assert result.deregistered_absent == 1
    after = toy_warehouse.sql("SELECT uscc, region_code, deregistered FROM enterprises")
    assert after.filter(pl.col("uscc") == dropped)["deregistered"].to_list() == [SNAPSHOT_DATE]
    guangzhou = after.filter(pl.col("region_code") == "440106")
    assert guangzhou.height > 0 and guangzhou["deregistered"].null_count() == guangzhou.height


def test_a_warehouse_from_an_older_version_is_rebuilt_not_refreshed(
    toy_warehouse: Warehouse, toy_chain: Chain
) -> None:
    """A cube lacking a table (no cohorts yet) cannot be updated group by group: the load
    rebuilds it, which creates the table."""
    toy_warehouse.raw.execute("DROP TABLE node_cohorts")
    stored = toy_warehouse.sql("SELECT * FROM enterprises").select(list(ENTERPRISES_SCHEMA))
    richer = stored.head(1).with_columns(registered_capital=pl.lit(5.0e6))
    result = load_enterprises(toy_warehouse, richer, {"toy": toy_chain})
    assert result.mode == "full"
    assert toy_warehouse.has_table("node_cohorts") and toy_warehouse.count("node_cohorts") > 0
