"""Chain template objects: a chain is nodes plus supply edges (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["upstream", "midstream", "downstream", "support"]
STAGES: tuple[Stage, ...] = ("upstream", "midstream", "downstream", "support")


@dataclass(frozen=True)
class Node:
    id: str
    name_zh: str
    name_en: str
    stage: Stage
    parent: str | None = None
    industry_codes: tuple[str, ...] = ()
    defining_codes: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    weight: float = 1.0
    description_zh: str = ""


@dataclass(frozen=True)
class Edge:
    """A supply edge: `supplier` node delivers to `customer` node."""

    supplier: str
    customer: str
    flow: str = ""
    recycling: bool = False


@dataclass(frozen=True)
class Alignment:
    """Alignment of a local chain to a chain of the level above (city → province)."""

    chain: str
    level: str = "province"
    nodes: dict[str, str] = field(default_factory=dict)
    line: int = 1  # where `aligns_to` stands in its file, for error messages


@dataclass(frozen=True)
class Chain:
    id: str
    name_zh: str
    name_en: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    category: str = ""
    description_zh: str = ""
    description_en: str = ""
    level: str = "national"
    region_code: str | None = None
    aligns_to: Alignment | None = None
    source: str = ""

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes)
