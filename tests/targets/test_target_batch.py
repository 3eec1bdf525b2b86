"""Targets of every region at once (`targets.batch`, the build's `targets` table) equal the
target lists `find_targets` gives one region at a time, and the batch lead firms equal the
single-region diagnosis' — on a seeded synthetic warehouse, at every level, on every chain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.diagnose import diagnose
from chainatlas.diagnose.batch import diagnose_all, lead_firms_all
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises, load_links
from chainatlas.synth import generate
from chainatlas.targets import batch as batch_module
from chainatlas.targets.batch import OUTPUT_SCHEMA, targets_all
from chainatlas.targets.pipeline import find_targets

AS_OF = dt.date(2026, 6, 1)
TOP = 4
# the synthetic data's focus city and county, a big province, a city and a county elsewhere
REGIONS = {"province": ["450000"], "city": ["450400", "510100"], "county": ["450403", "440305"]}


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas([])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, atlas: dict[str, Chain]) -> Path:
    raw = tmp_path_factory.mktemp("input")
    generate(6_000, 7, raw, atlas=atlas, chunk_size=3_000)
    path = raw / "warehouse.duckdb"
    with Warehouse(path) as wh:
        load_enterprises(wh, pl.read_parquet(raw / "enterprises.parquet"), atlas)
        load_links(wh, pl.read_parquet(raw / "supply_links.parquet"))
    return path


def rows_of(frame: pl.DataFrame, code: str, chain_id: str, node_id: str) -> list[tuple]:  # type: ignore[type-arg]
    hit = frame.filter(
        (pl.col("region_code") == code)
        & (pl.col("chain_id") == chain_id)
        & (pl.col("node_id") == node_id)
    ).sort("rank")
    return [
        (r["rank"], r["uscc"], r["score"], r["local_partners"], r["partner_name"], r["reason_zh"])
        for r in hit.iter_rows(named=True)
    ]


@pytest.mark.parametrize("level", list(REGIONS))
def test_batch_lead_firms_and_targets_equal_the_single_region_ones(
    warehouse: Path, atlas: dict[str, Chain], level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = REGIONS[level]
    if level == "county":  # one region a chunk: the chunks' seams must not show
        monkeypatch.setattr(batch_module, "CHUNK_REGIONS", 1)
    with Warehouse(warehouse, read_only=True) as wh:
        batch = diagnose_all(wh, atlas, level)
        leads = lead_firms_all(wh, atlas, level, batch.nodes)
        got = targets_all(
            wh, atlas, level, batch.nodes, leads, as_of=AS_OF, top=TOP, region_codes=codes
        )
        assert dict(got.schema) == OUTPUT_SCHEMA
        compared = partnered = 0
        for code in codes:
            for chain in atlas.values():
                # top_partners only names partners in the diagnosis: the lists do not read it
                diagnosis = diagnose(wh, chain, code, top_partners=0)
                of_region = (pl.col("region_code") == code) & (pl.col("chain_id") == chain.id)
                want_leads = [
                    (n.id, f.uscc, f.lead_score) for n in diagnosis.nodes for f in n.lead_firms
                ]
                mine = leads.filter(of_region).select("node_id", "uscc", "lead_score")
                assert sorted((n, u, round(s, 4)) for n, u, s in mine.iter_rows()) == sorted(
                    want_leads
                ), (code, chain.id)
                if not diagnosis.firm_count:  # no firm on the chain: no list in the batch
                    assert got.filter(of_region).height == 0
                    continue
                want = find_targets(wh, chain, diagnosis, top=TOP, as_of=AS_OF)
                listed = {n.id for n in want.nodes if n.targets}
                assert set(got.filter(of_region)["node_id"]) == listed, (code, chain.id)
                for node in want.nodes:
                    expected = [
                        (
                            t.rank,
                            t.uscc,
                            t.score,
                            t.local_partners,
                            t.partners[0].name if t.partners else None,
                            t.reason_zh,
                        )
                        for t in node.targets
                    ]
                    actual = [
                        (r, u, round(s, 4), p, n, z)
                        for r, u, s, p, n, z in rows_of(got, code, chain.id, node.id)
                    ]
                    assert actual == expected, (code, chain.id, node.id)
                    compared += len(expected)
                    partnered += sum(1 for t in node.targets if t.local_partners)
    # the comparison covers lists with partner firms, not only distance and size
    assert compared > 100 and partnered > 0


def test_a_region_without_gaps_or_firms_gets_an_empty_typed_table(
    warehouse: Path, atlas: dict[str, Chain]
) -> None:
    with Warehouse(warehouse, read_only=True) as wh:
        batch = diagnose_all(wh, atlas, "city")
        leads = lead_firms_all(wh, atlas, "city", batch.nodes)
        got = targets_all(wh, atlas, "city", batch.nodes, leads, region_codes=["999999"])
    assert got.height == 0 and dict(got.schema) == OUTPUT_SCHEMA
