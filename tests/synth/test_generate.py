"""One national population (n = 200k, real atlas and regions) checked against the contract,
the ground truth it claims, and the properties later stages rely on."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import opencc
import polars as pl
import pyarrow.parquet as pq
import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.reference.regions import load_regions
from chainatlas.synth import DEMO_PROFILE, SynthSummary, generate
from chainatlas.synth.catalogue import node_catalogue
from chainatlas.synth.profile import lq_status, resolve_profile

N = 200_000
CONTRACT = Path(__file__).parents[2] / "docs" / "contracts-tables.md"
CONTRACT_TYPES = {
    "str(18)": "string",
    "str": "string",
    "str(6)": "string",
    "str(4) or null": "string",
    "str or null": "string",
    "date or null": "date32[day]",
    "float or null": "double",
    "int or null": "int64",
    "bool": "bool",
}
DEMO_CHAINS = ("sugarcane", "green_home", "tcm_ethnic_medicine")

try:
    from chainatlas.ingest.validators import is_valid_uscc
except ImportError:  # pragma: no cover
    from chainatlas.synth.uscc import is_valid_uscc


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas()


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, atlas: dict[str, Chain]
) -> tuple[SynthSummary, Path]:
    out = tmp_path_factory.mktemp("synth")
    return generate(N, seed=11, out_dir=out, atlas=atlas, chunk_size=80_000), out


@pytest.fixture(scope="module")
def firms(run: tuple[SynthSummary, Path]) -> pl.DataFrame:
    return pl.read_parquet(run[1] / "enterprises.parquet")


@pytest.fixture(scope="module")
def labels(run: tuple[SynthSummary, Path], firms: pl.DataFrame) -> pl.DataFrame:
    lab = pl.read_parquet(run[1] / "labels.parquet")
    return lab.join(firms.select("uscc", "region_code"), on="uscc")


@pytest.fixture(scope="module")
def links(run: tuple[SynthSummary, Path]) -> pl.DataFrame:
    return pl.read_parquet(run[1] / "supply_links.parquet")


def _contract(table: str) -> list[tuple[str, str]]:
    text = CONTRACT.read_text("utf-8").split(f"## {table}")[1].split("\n## ")[0]
    rows = re.findall(r"^\| (\w+) \| ([^|]+?) \|", text, flags=re.M)
    return [(name, CONTRACT_TYPES[kind]) for name, kind in rows if name != "column"]


@pytest.mark.parametrize(
    ("table", "file"),
    [("enterprises", "enterprises.parquet"), ("supply_links", "supply_links.parquet")],
)
def test_schema_equals_the_contract(run: tuple[SynthSummary, Path], table: str, file: str) -> None:
    schema = pq.read_schema(run[1] / file)
    assert [(f.name, str(f.type)) for f in schema] == _contract(table)


def test_labels_schema(run: tuple[SynthSummary, Path]) -> None:
    assert pq.read_schema(run[1] / "labels.parquet").names == ["uscc", "chain_id", "node_id"]


def test_counts_and_chunks(run: tuple[SynthSummary, Path], firms: pl.DataFrame) -> None:
    summary, out = run
    assert firms.height == summary.n_enterprises == N
    meta = pq.ParquetFile(out / "enterprises.parquet").metadata
    assert meta.num_row_groups == summary.n_chunks == 3
    assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) <= 80_000
    assert firms["synthetic"].all()


def test_usccs_valid_unique_and_carry_the_region(firms: pl.DataFrame) -> None:
    usccs = firms["uscc"]
    assert usccs.n_unique() == firms.height
    assert all(is_valid_uscc(c) for c in usccs.sample(20_000, seed=1))
    assert (usccs.str.slice(2, 6) == firms["region_code"]).all()


def test_regions_are_real_counties(firms: pl.DataFrame) -> None:
    known = set(load_regions()["region_code"].to_list())
    assert set(firms["region_code"].unique().to_list()) <= known
    # Heavy-tailed: the busiest 5% of regions hold far more than 5% of the firms.
    per_region = firms.group_by("region_code").len()["len"].sort(descending=True)
    assert per_region.head(len(per_region) // 20).sum() / firms.height > 0.2


def test_attributes_look_like_a_register(firms: pl.DataFrame) -> None:
    rate = {
        name: firms[name].is_not_null().mean()
        for name in ("revenue", "products", "industry_code", "deregistered", "business_scope")
    }
    assert 0.35 < rate["revenue"] < 0.45
    assert 0.52 < rate["products"] < 0.68
    assert 0.86 < rate["industry_code"] < 0.94
    assert 0.06 < rate["deregistered"] < 0.10
    assert rate["business_scope"] > 0.97
    dated = firms.filter(pl.col("deregistered").is_not_null())
    assert (dated["deregistered"] > dated["established"]).all()
    assert firms["established"].min().year >= 1980  # type: ignore[union-attr]
    recent = (firms["established"].dt.year() >= 2015).mean()
    assert recent > 0.5  # skewed recent
    capital = firms["registered_capital"].drop_nulls()
    assert capital.quantile(0.99) > 20 * capital.median()  # heavy tail
    both = firms.drop_nulls(["revenue", "registered_capital"])
    assert np.corrcoef(np.log(both["revenue"]), np.log(both["registered_capital"]))[0, 1] > 0.5


def test_noise_traditional_fullwidth_and_unrelated(firms: pl.DataFrame) -> None:
    scope = firms["business_scope"].drop_nulls()
    assert 0.02 < scope.str.contains("項目").mean() < 0.08  # 项目 → 項目
    assert 0.03 < scope.str.contains("（").mean() < 0.12  # full-width rows
    assert scope.str.contains("日用百货销售|餐饮服务|住房租赁").mean() > 0.03
    assert scope.str.starts_with("一般项目:").mean() > 0.3  # normalised clean rows
    assert firms["name"].str.contains("有限(责任|責任)?公司").mean() > 0.99


def test_tags_rise_with_size(firms: pl.DataFrame) -> None:
    tagged = firms.with_columns(pl.col("tags").fill_null(""))
    big = tagged.filter(pl.col("registered_capital") > pl.col("registered_capital").quantile(0.99))
    for tag, low, high in (
        ("高新技术企业", 0.02, 0.09),
        ("专精特新", 0.004, 0.03),
        ("上市", 0.0001, 0.004),
    ):
        share = tagged["tags"].str.contains(tag).mean()
        assert low < share < high, tag
        assert big["tags"].str.contains(tag).mean() > 2 * share, tag


def test_off_chain_firms_use_no_chain_code(
    firms: pl.DataFrame, labels: pl.DataFrame, atlas: dict[str, Chain]
) -> None:
    chain_codes = node_catalogue(atlas).codes
    off = firms.join(labels.select("uscc").unique(), on="uscc", how="anti")
    assert 0.3 < off.height / firms.height < 0.4
    assert not set(off["industry_code"].drop_nulls().unique().to_list()) & chain_codes
    some_multi = labels.group_by("uscc").len().filter(pl.col("len") == 2).height
    assert 0.01 < some_multi / labels["uscc"].n_unique() < 0.06


def _city_statuses(labels: pl.DataFrame, chain: Chain, city_prefix: str) -> dict[str, str]:
    """DESIGN §6 at city level from the ground truth: LQ over distinct firms."""
    on = labels.filter(pl.col("chain_id") == chain.id).with_columns(
        local=pl.col("region_code").str.starts_with(city_prefix)
    )
    total, local = on["uscc"].n_unique(), on.filter("local")["uscc"].n_unique()
    national = dict(on.group_by("node_id").agg(pl.col("uscc").n_unique()).iter_rows())
    here = dict(on.filter("local").group_by("node_id").agg(pl.col("uscc").n_unique()).iter_rows())
    return {
        n: lq_status((here.get(n, 0) / local) / (national[n] / total) if here.get(n) else 0.0)
        for n in chain.node_ids
    }


def _breaks(chain: Chain, status: dict[str, str]) -> list[str]:
    good = {"strong", "present"}
    return [
        n
        for n in chain.node_ids
        if status[n] in {"missing", "weak"}
        and any(status[e.supplier] in good for e in chain.edges if e.customer == n)
        and any(status[e.customer] in good for e in chain.edges if e.supplier == n)
    ]


def test_demo_city_statuses_are_what_the_summary_claims(
    run: tuple[SynthSummary, Path], labels: pl.DataFrame, atlas: dict[str, Chain]
) -> None:
    summary = run[0]
    assert summary.demo_city == "450400"
    for chain in atlas.values():
        assert _city_statuses(labels, chain, "4504") == summary.demo_statuses[chain.id], chain.id


@pytest.mark.parametrize("chain_id", DEMO_CHAINS)
def test_demo_chains_show_every_status_and_a_break(
    run: tuple[SynthSummary, Path], labels: pl.DataFrame, atlas: dict[str, Chain], chain_id: str
) -> None:
    if chain_id not in atlas:
        pytest.skip(f"{chain_id} is not in the atlas")
    chain = atlas[chain_id]
    status = _city_statuses(labels, chain, "4504")
    planned = {n: s for s, nodes in DEMO_PROFILE["statuses"][chain_id].items() for n in nodes}
    assert status == planned
    assert set(status.values()) == {"strong", "present", "weak", "missing"}
    assert _breaks(chain, status)
    city_firms = labels.filter(pl.col("region_code").str.starts_with("4504"))["uscc"].n_unique()
    assert city_firms > 1_500


def test_sugarcane_breaks_at_filter_mud_and_bagasse_pulp(
    labels: pl.DataFrame, atlas: dict[str, Chain]
) -> None:
    status = _city_statuses(labels, atlas["sugarcane"], "4504")
    assert {"filter_mud_fertiliser", "bagasse_pulp_paper"} <= set(
        _breaks(atlas["sugarcane"], status)
    )


def test_nothing_in_the_demo_city_points_at_its_missing_nodes(
    firms: pl.DataFrame, atlas: dict[str, Chain]
) -> None:
    resolved = resolve_profile(DEMO_PROFILE, node_catalogue(atlas))
    city = firms.filter(pl.col("region_code").str.starts_with("4504"))
    assert city.height > 2_000
    assert not set(city["industry_code"].drop_nulls().to_list()) & resolved.forbidden_codes
    to_simplified = opencc.OpenCC("t2s")
    tokens = sorted({unicodedata.normalize("NFKC", t) for t in resolved.forbidden_tokens})
    pattern = re.compile("|".join(map(re.escape, tokens)))
    for column in ("business_scope", "products", "name"):
        for text in city[column].drop_nulls().to_list():
            clean = to_simplified.convert(unicodedata.normalize("NFKC", text))
            assert not pattern.search(clean), (column, text)


def test_links_follow_chain_edges(
    links: pl.DataFrame, labels: pl.DataFrame, atlas: dict[str, Chain]
) -> None:
    edges = pl.DataFrame(
        [(c.id, e.supplier, e.customer) for c in atlas.values() for e in c.edges],
        schema=["chain_id", "s_node", "c_node"],
        orient="row",
    )
    nodes = labels.select("uscc", "chain_id", "node_id")
    pairs = (
        links.with_row_index("link")
        .join(nodes.rename({"uscc": "supplier_uscc", "node_id": "s_node"}), on="supplier_uscc")
        .join(
            nodes.rename({"uscc": "customer_uscc", "node_id": "c_node", "chain_id": "c_chain"}),
            on="customer_uscc",
        )
        .filter(pl.col("chain_id") == pl.col("c_chain"))
        .join(edges, on=["chain_id", "s_node", "c_node"], how="semi")
    )
    assert pairs["link"].n_unique() == links.height
    assert (links["supplier_uscc"] != links["customer_uscc"]).all()
    assert links.select("supplier_uscc", "customer_uscc").is_unique().all()
    per_chain_firm = links.height / labels["uscc"].n_unique()
    assert 0.5 < per_chain_firm < 0.7


def test_links_decay_with_distance_and_prefer_large_customers(
    links: pl.DataFrame, labels: pl.DataFrame, firms: pl.DataFrame
) -> None:
    regions = load_regions().select("region_code", city=pl.coalesce("city_code", "region_code"))
    located = labels.join(regions, on="region_code")
    city_of = located.select("uscc", "city").unique("uscc")
    linked = links.join(
        city_of.rename({"uscc": "supplier_uscc", "city": "s_city"}), on="supplier_uscc"
    ).join(city_of.rename({"uscc": "customer_uscc", "city": "c_city"}), on="customer_uscc")
    local = (linked["s_city"] == linked["c_city"]).mean()
    # At random, a customer is in the supplier's city with P = its city's share of the node.
    customer_node = labels.select("uscc", "node_id").unique("uscc")
    share = (
        located.group_by("node_id", "city")
        .len()
        .with_columns(p=pl.col("len") / pl.col("len").sum().over("node_id"))
    )
    expected = (
        linked.join(customer_node.rename({"uscc": "customer_uscc"}), on="customer_uscc")
        .join(share.rename({"city": "s_city"}), on=["node_id", "s_city"], how="left")["p"]
        .fill_null(0.0)
        .mean()
    )
    assert local > 0.3 and local > 5 * expected  # type: ignore[operator]
    capital = firms.select("uscc", "registered_capital")
    customers = links.join(capital.rename({"uscc": "customer_uscc"}), on="customer_uscc")
    chain_median = firms.join(labels.select("uscc").unique(), on="uscc")["registered_capital"]
    assert customers["registered_capital"].median() > 2 * chain_median.median()  # type: ignore[operator]


def test_every_row_passes_ingest(run: tuple[SynthSummary, Path]) -> None:
    """The rows are what a register export looks like: ingest accepts all of them (its
    normaliser maps the traditional and full-width noise back to the clean form)."""
    readers = pytest.importorskip("chainatlas.ingest.readers")
    ingest = pytest.importorskip("chainatlas.ingest.enterprises")
    raw = readers.read_table(run[1] / "enterprises.parquet").head(40_000)
    result = ingest.validate_enterprises(raw, load_regions()["region_code"])
    assert result.rejected.height == 0
    assert result.accepted.height == raw.height


@pytest.mark.parametrize("chain_id", DEMO_CHAINS)
def test_no_national_top_ten_firm_sits_on_a_weak_or_present_city_node(
    firms: pl.DataFrame, labels: pl.DataFrame, chain_id: str
) -> None:
    """DESIGN §6 also calls a node strong when a local firm ranks ≤ 10 nationally (by
    registered capital among active firms): the city's weak and present nodes have none."""
    lists = DEMO_PROFILE["statuses"][chain_id]
    ranked = (
        labels.filter(pl.col("chain_id") == chain_id)
        .join(
            firms.filter(pl.col("deregistered").is_null()).select("uscc", "registered_capital"),
            on="uscc",
        )
        .with_columns(
            rank=pl.col("registered_capital").rank("min", descending=True).over("node_id")
        )
    )
    local = ranked.filter(
        pl.col("region_code").str.starts_with("4504")
        & pl.col("node_id").is_in(lists["weak"] + lists["present"])
    )
    assert local.height > 100
    assert local["rank"].min() > 10  # type: ignore[operator]
