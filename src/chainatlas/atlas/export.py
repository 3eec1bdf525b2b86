"""The chain JSON contract (`chainatlas.chain/1`, docs/contracts.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chainatlas.atlas.graph import layers
from chainatlas.atlas.model import Chain

CHAIN_SCHEMA_ID = "chainatlas.chain/1"


def chain_to_dict(chain: Chain) -> dict[str, Any]:
    layer = layers(chain)
    out: dict[str, Any] = {
        "schema": CHAIN_SCHEMA_ID,
        "id": chain.id,
        "name_zh": chain.name_zh,
        "name_en": chain.name_en,
        "category": chain.category,
        "level": chain.level,
        "region_code": chain.region_code,
        "aligns_to": asdict(chain.aligns_to) if chain.aligns_to else None,
        "description_zh": chain.description_zh,
        "description_en": chain.description_en,
        "nodes": [
            {
                **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(n).items()},
                "layer": layer[n.id],
            }
            for n in chain.nodes
        ],
        "edges": [asdict(e) for e in chain.edges],
    }
    return out


def chain_summary(chain: Chain) -> dict[str, Any]:
    return {
        "id": chain.id,
        "name_zh": chain.name_zh,
        "name_en": chain.name_en,
        "category": chain.category,
        "nodes": len(chain.nodes),
        "edges": len(chain.edges),
        "recycling_edges": sum(1 for e in chain.edges if e.recycling),
        "source": chain.source,
    }
