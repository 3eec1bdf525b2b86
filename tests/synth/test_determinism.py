"""Same seed → same bytes; any atlas works; memory is bounded by the chunk, not by n."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from chainatlas.atlas import Chain, parse_template
from chainatlas.reference.regions import load_regions
from chainatlas.synth import DEMO_PROFILE, generate
from chainatlas.synth.firmographics import entity_traits
from chainatlas.synth.generate import FILES
from chainatlas.synth.links import CustomerPool
from chainatlas.synth.population import build_model

NODE = (
    "  - {{{{id: {id}, name_zh: {zh}, name_en: {id}, stage: {stage}, "
    'industry_codes: ["{{c}}{code}"], include: [{{k}}{word}]}}}}\n'
)
TOY_NODES = (
    ("a", "甲料", "upstream", "11", "甲料生产"),
    ("b", "乙件", "midstream", "12", "乙件制造"),
    ("c", "丙品", "downstream", "13", "丙品组装"),
    ("d", "丁服务", "support", "14", "丁类服务"),
)
TOY = (
    "id: {id}\nname_zh: 示例链{id}\nname_en: Toy {id}\nnodes:\n"
    + "".join(
        NODE.format(id=i, zh=zh, stage=st, code=code, word=w) for i, zh, st, code, w in TOY_NODES
    )
    + "edges:\n  - {{supplier: a, customer: b}}\n  - {{supplier: b, customer: c}}\n"
    "  - {{supplier: d, customer: b}}\n"
)


@pytest.fixture(scope="module")
def toy_atlas() -> dict[str, Chain]:
    return {
        cid: parse_template(TOY.format(id=cid, c=c, k=k), f"{cid}.yaml")
        for cid, c, k in (("toy_one", "33", "铝"), ("toy_two", "39", "铜"))
    }


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in FILES.values()}


def test_same_seed_same_bytes_other_seed_other_data(
    tmp_path: Path, toy_atlas: dict[str, Chain]
) -> None:
    runs = {}
    for label, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(30_000, seed, tmp_path / label, atlas=toy_atlas, chunk_size=12_000)
        runs[label] = _bytes(tmp_path / label)
    assert runs["a"] == runs["b"]
    assert all(runs["a"][f] != runs["c"][f] for f in FILES.values())
    assert not list(tmp_path.glob("*/.*partial"))


def test_a_hand_built_atlas_gets_a_full_population(
    tmp_path: Path, toy_atlas: dict[str, Chain]
) -> None:
    summary = generate(40_000, 1, tmp_path, atlas=toy_atlas, chunk_size=15_000)
    labels = pl.read_parquet(tmp_path / "labels.parquet")
    assert set(labels["chain_id"].unique()) == set(toy_atlas)
    assert set(labels["node_id"].unique()) == {"a", "b", "c", "d"}
    assert summary.n_links > 0.4 * summary.n_chain_firms
    # The demo profile names none of these chains: statuses are derived from the graph.
    for chain_id in toy_atlas:
        assert set(summary.demo_statuses[chain_id].values()) == {
            "strong",
            "present",
            "weak",
            "missing",
        }
    assert all("derived from the chain graph" in n for n in summary.notes)
    meta = pq.ParquetFile(tmp_path / "enterprises.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        15_000,
        15_000,
        10_000,
    ]
    assert summary.as_dict()["files"]["labels"].endswith("labels.parquet")


def test_without_a_profile_and_with_a_custom_region_list(
    tmp_path: Path, toy_atlas: dict[str, Chain]
) -> None:
    regions = load_regions().filter(pl.col("province_code").is_in(["450000", "440000"]))
    summary = generate(5_000, 2, tmp_path, atlas=toy_atlas, regions=regions, profile=None)
    firms = pl.read_parquet(tmp_path / "enterprises.parquet")
    assert summary.demo_city is None and summary.demo_statuses == {}
    assert set(firms["region_code"].str.slice(0, 2).unique()) == {"44", "45"}


def test_customer_samples_do_not_grow_with_n(toy_atlas: dict[str, Chain]) -> None:
    regions = load_regions()
    sizes = set()
    for n in (10_000, 10_000_000):
        model = build_model(3, toy_atlas, regions, DEMO_PROFILE, n)
        sizes.add(CustomerPool.for_model(model, entity_traits(model)).nbytes)
    assert len(sizes) == 1


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        generate(0, 1, Path("unused"))


@pytest.mark.slow
def test_peak_memory_is_bounded_by_the_chunk(tmp_path: Path) -> None:
    """Peak RSS at 8 chunks is within 25% of the peak at 2 chunks of the same size."""
    script = textwrap.dedent("""
        import resource, sys
        from pathlib import Path
        from chainatlas.synth import generate
        generate(int(sys.argv[1]), 1, Path(sys.argv[2]), chunk_size=50_000)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    peak = {}
    for n in (100_000, 400_000):
        done = subprocess.run(
            [sys.executable, "-c", script, str(n), str(tmp_path / str(n))],
            check=True,
            capture_output=True,
            text=True,
        )
        peak[n] = int(done.stdout.split()[-1])
    assert peak[400_000] < 1.25 * peak[100_000]
