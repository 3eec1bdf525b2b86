"""The partner reads of a target list are limited to the gap nodes' firms and the local lead
firms' partners (a big city's firms trade with ten times more firms than that): on a seeded
synthetic warehouse, every list equals the one computed from all of the region's links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises, load_links
from chainatlas.synth import generate
from chainatlas.targets import candidates, pipeline
from chainatlas.targets.pipeline import find_targets

AS_OF = dt.date(2026, 1, 1)
CHAINS = ("sugarcane", "biomedicine", "new_energy_vehicle")


@pytest.fixture(scope="module")
def synth_wh(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Warehouse, dict[str, Chain]]]:
    atlas = {k: v for k, v in load_atlas([]).items() if k in CHAINS}
    root: Path = tmp_path_factory.mktemp("target-reads")
    generate(4_000, 5, root / "raw", atlas=atlas, chunk_size=2_000)
    with Warehouse(root / "w.duckdb") as wh:
        load_enterprises(wh, pl.read_parquet(root / "raw" / "enterprises.parquet"), atlas)
        load_links(wh, pl.read_parquet(root / "raw" / "supply_links.parquet"))
    wh = Warehouse(root / "w.duckdb", read_only=True)
    yield wh, atlas
    wh.close()


def test_lists_equal_those_read_from_every_link(
    synth_wh: tuple[Warehouse, dict[str, Chain]], monkeypatch: pytest.MonkeyPatch
) -> None:
    wh, atlas = synth_wh
    cities = wh.sql(
        "SELECT city_code FROM chain_firms WHERE city_code IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"
    )["city_code"].to_list()
    monkeypatch.setattr(pipeline, "LIMIT_READS_BELOW", 2.0)  # always limited
    lists: dict[tuple[str, str], Any] = {}
    for city in cities:
        for chain_id in CHAINS:
            d = diagnose(wh, atlas[chain_id], city)
            lists[city, chain_id] = (d, find_targets(wh, atlas[chain_id], d, as_of=AS_OF))
    every_link, every_tier2 = candidates.local_links, candidates.tier2_links
    monkeypatch.setattr(
        candidates, "local_links", lambda wh, c, lv, code, *_: every_link(wh, c, lv, code)
    )
    monkeypatch.setattr(candidates, "tier2_links", lambda wh, c, via, *_: every_tier2(wh, c, via))
    partnered = dropped = 0
    for (city, chain_id), (d, limited) in lists.items():
        full = find_targets(wh, atlas[chain_id], d, as_of=AS_OF)
        assert limited.model_dump() == full.model_dump(), (city, chain_id)
        partnered += sum(1 for n in full.nodes for t in n.targets if t.partners)
        gaps = [n.id for n in full.nodes]
        leads = {f.uscc for n in d.nodes for f in n.lead_firms}
        dropped += (
            every_link(wh, chain_id, "city", city).height
            - every_link(wh, chain_id, "city", city, gaps, leads).height
        )
    # the lists compared hold referred firms, and the limit left links out
    print(f"partnered {partnered}, links left out {dropped}")
    assert partnered >= 10 and dropped > 0
