"""`generate`: the seeded national population, written in bounded memory.

Pass 1 draws each chunk (core draw + text and attributes), writes it as one row group of
enterprises.parquet and labels.parquet, and offers its chain firms to the bounded customer
samples. Pass 2 redraws each chunk's core (cheap, deterministic: it depends only on
seed and chunk index) and writes its supply links. Peak memory is set by chunk_size and
the samples, not by n_enterprises. Same arguments → byte-identical files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.synth import schema
from chainatlas.synth.enterprises import enterprise_chunk
from chainatlas.synth.firmographics import CAPITAL_SIGMA, EntityTraits, entity_traits
from chainatlas.synth.links import LINKS_PER_CHAIN_FIRM, CustomerPool, supply_links
from chainatlas.synth.phrasebook import build_phrasebook
from chainatlas.synth.population import CoreChunk, PopulationModel, build_model, draw_core
from chainatlas.synth.profile import DEMO_PROFILE
from chainatlas.synth.writer import ChunkWriter

Progress = Callable[[str, int, int], None]  # (phase, done, total)
MIN_CHUNK = 1_000  # a chunk must hold the demo city's whole-firm quotas (≤ 1 per node)
FILES = {
    "enterprises": "enterprises.parquet",
    "supply_links": "supply_links.parquet",
    "labels": "labels.parquet",
}


@dataclass(frozen=True)
class SynthSummary:
    n_enterprises: int
    n_chain_firms: int  # firms on at least one node
    n_labels: int  # (firm, node) pairs
    n_links: int
    seed: int
    chunk_size: int
    n_chunks: int
    files: dict[str, Path]
    file_bytes: dict[str, int]
    seconds: float
    demo_city: str | None
    demo_statuses: dict[str, dict[str, str]] = field(default_factory=dict)  # chain → node → status
    notes: tuple[str, ...] = ()

    @property
    def enterprises_per_second(self) -> float:
        return self.n_enterprises / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (paths as strings)."""
        out = {k: v for k, v in vars(self).items() if k != "files"}
        out["files"] = {k: str(p) for k, p in self.files.items()}
        out["notes"] = list(self.notes)
        out["enterprises_per_second"] = round(self.enterprises_per_second)
        return out


def generate(
    n_enterprises: int,
    seed: int,
    out_dir: Path,
    atlas: Mapping[str, Chain] | None = None,
    regions: pl.DataFrame | None = None,
    chunk_size: int = 250_000,
    progress: Progress | None = None,
    profile: Mapping[str, Any] | None = DEMO_PROFILE,
    links_per_chain_firm: float = LINKS_PER_CHAIN_FIRM,
) -> SynthSummary:
    """Write enterprises, supply_links and labels parquet files under out_dir.

    atlas / regions default to `load_atlas()` / `load_regions()`. Each chunk of
    `chunk_size` rows (at least MIN_CHUNK) is one row group. `profile` is the demo city
    (DEMO_PROFILE; None turns it off). `progress(phase, done, total)` is called after each
    chunk of the phases "enterprises" and "links". The three files appear together, when
    all are written. `links_per_chain_firm` (default 0.6) scales the supply links: each
    chain firm draws that many on average before duplicate pairs drop, so the realised
    number grows less than linearly (the customer samples are bounded). Same arguments →
    byte-identical files.
    """
    if n_enterprises < 1 or chunk_size < 1:
        raise ValueError("n_enterprises and chunk_size must be positive")
    if links_per_chain_firm < 0:
        raise ValueError("links_per_chain_firm must not be negative")
    chunk_size = max(chunk_size, min(n_enterprises, MIN_CHUNK))
    started = time.perf_counter()
    if atlas is None:
        from chainatlas.atlas import load_atlas

        atlas = load_atlas()
    if regions is None:
        from chainatlas.reference.regions import load_regions

        regions = load_regions()
    model = build_model(seed, atlas, regions, profile, n_enterprises)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    chunks = [
        (k, s, min(chunk_size, n_enterprises - s))
        for k, s in enumerate(range(0, n_enterprises, chunk_size))
    ]
    files = {k: out_dir / name for k, name in FILES.items()}
    book = build_phrasebook(model)
    traits = entity_traits(model)
    pool = CustomerPool.for_model(model, traits)
    n_chain = 0
    with (
        ChunkWriter(files["enterprises"], schema.ENTERPRISES) as firms_out,
        ChunkWriter(files["labels"], schema.LABELS) as labels_out,
    ):
        for k, start, m in chunks:
            core = draw_core(model, k, start, m)
            chunk = enterprise_chunk(core, model, book, traits, np.random.default_rng([seed, k, 1]))
            firms_out.write(chunk.enterprises)
            labels_out.write(chunk.labels)
            n_chain += int((core.entity < model.catalogue.size).sum())
            pool.offer(model, core, chunk.firms.log_size, np.random.default_rng([seed, k, 2]))
            if progress:
                progress("enterprises", start + m, n_enterprises)
    pool.freeze()
    with ChunkWriter(files["supply_links"], schema.SUPPLY_LINKS) as links_out:
        for k, start, m in chunks:
            core = draw_core(model, k, start, m, with_codes=False)  # codes only where linked
            links_out.write(
                supply_links(
                    core,
                    model,
                    _log_size(core, traits),
                    pool,
                    np.random.default_rng([seed, k, 3]),
                    links_per_chain_firm,
                )
            )
            if progress:
                progress("links", start + m, n_enterprises)
    for writer in (firms_out, labels_out, links_out):
        writer.commit()
    return SynthSummary(
        n_enterprises=n_enterprises,
        n_chain_firms=n_chain,
        n_labels=labels_out.rows,
        n_links=links_out.rows,
        seed=seed,
        chunk_size=chunk_size,
        n_chunks=len(chunks),
        files=files,
        file_bytes={k: p.stat().st_size for k, p in files.items()},
        seconds=time.perf_counter() - started,
        demo_city=model.profile.city if model.profile else None,
        demo_statuses=_statuses(model),
        notes=model.profile.notes if model.profile else (),
    )


def _log_size(core: CoreChunk, traits: EntityTraits) -> np.ndarray:
    """The log capital pass 1 drew (before rounding): a function of entity and latent size."""
    return np.asarray(traits.log_capital[core.entity] + CAPITAL_SIGMA * core.size)


def _statuses(model: PopulationModel) -> dict[str, dict[str, str]]:
    cat = model.catalogue
    out: dict[str, dict[str, str]] = {}
    for n, status in sorted(model.achieved_status.items()):
        out.setdefault(cat.chains[cat.chain_of[n]].id, {})[cat.nodes[n].id] = status
    return out
