"""The atlas flattened: every node of every chain gets a global index; edges become arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from chainatlas.atlas.model import Chain, Node


@dataclass(frozen=True)
class NodeCatalogue:
    chains: tuple[Chain, ...]
    nodes: tuple[Node, ...]
    chain_of: np.ndarray  # (N,) chain index of each node
    edge_supplier: np.ndarray  # (E,) global node index
    edge_customer: np.ndarray
    edge_flow: tuple[str, ...]
    # CSR of out-edges: the edges of node n are out_edge[out_start[n]:out_start[n + 1]]
    out_start: np.ndarray
    out_edge: np.ndarray
    nb_start: np.ndarray  # CSR of undirected neighbours (recycling edges included)
    nb_node: np.ndarray

    @property
    def size(self) -> int:
        return len(self.nodes)

    def index(self, chain_id: str, node_id: str) -> int:
        for i, (c, n) in enumerate(zip(self.chain_of, self.nodes, strict=True)):
            if self.chains[c].id == chain_id and n.id == node_id:
                return i
        raise KeyError((chain_id, node_id))

    def chain_nodes(self, chain_index: int) -> np.ndarray:
        return np.flatnonzero(self.chain_of == chain_index)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c for n in self.nodes for c in n.industry_codes)

    @property
    def keywords(self) -> frozenset[str]:
        return frozenset(k for n in self.nodes for k in n.include)


def node_catalogue(atlas: Mapping[str, Chain]) -> NodeCatalogue:
    if not atlas:
        raise ValueError("the atlas has no chain")
    chains = tuple(atlas[k] for k in sorted(atlas))
    nodes: list[Node] = []
    chain_of: list[int] = []
    position: dict[tuple[int, str], int] = {}
    for ci, chain in enumerate(chains):
        for node in chain.nodes:
            position[(ci, node.id)] = len(nodes)
            nodes.append(node)
            chain_of.append(ci)
    sup, cus, flow = [], [], []
    for ci, chain in enumerate(chains):
        for e in chain.edges:
            sup.append(position[(ci, e.supplier)])
            cus.append(position[(ci, e.customer)])
            flow.append(e.flow)
    supplier = np.array(sup, dtype=np.int32)
    customer = np.array(cus, dtype=np.int32)
    order = np.argsort(supplier, kind="stable")
    out_start = np.searchsorted(supplier[order], np.arange(len(nodes) + 1)).astype(np.int64)
    pairs = sorted(
        {(a, b) for a, b in zip(sup, cus, strict=True)}
        | {(b, a) for a, b in zip(sup, cus, strict=True)}
    )
    nb_from = np.array([a for a, _ in pairs], dtype=np.int32)
    nb_to = np.array([b for _, b in pairs], dtype=np.int32)
    nb_start = np.searchsorted(nb_from, np.arange(len(nodes) + 1)).astype(np.int64)
    return NodeCatalogue(
        chains=chains,
        nodes=tuple(nodes),
        chain_of=np.array(chain_of, dtype=np.int32),
        edge_supplier=supplier,
        edge_customer=customer,
        edge_flow=tuple(flow),
        out_start=out_start,
        out_edge=order.astype(np.int32),
        nb_start=nb_start,
        nb_node=nb_to,
    )
