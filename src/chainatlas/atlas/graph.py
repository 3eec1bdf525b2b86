"""Graph operations on a chain's supply edges: neighbours, stages (layers), paths, cycles."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainatlas.atlas.model import Chain


def find_cycle(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[str]:
    """Return one directed cycle as [a, b, …, a] or [] if the graph is acyclic (iterative DFS)."""
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        succ[a].append(b)
    colour: dict[str, int] = dict.fromkeys(nodes, 0)
    for start in nodes:
        if colour[start]:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        colour[start] = 1
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                nxt = succ[node][i]
                if colour.get(nxt, 0) == 1:
                    return [*path[path.index(nxt) :], nxt]
                if colour.get(nxt, 0) == 0:
                    colour[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = 2
                stack.pop()
                path.pop()
    return []


def suppliers(chain: Chain, node_id: str, *, include_recycling: bool = True) -> list[str]:
    """Direct upstream neighbours: nodes that supply `node_id`."""
    return [
        e.supplier
        for e in chain.edges
        if e.customer == node_id and (include_recycling or not e.recycling)
    ]


def customers(chain: Chain, node_id: str, *, include_recycling: bool = True) -> list[str]:
    """Direct downstream neighbours: nodes that `node_id` supplies."""
    return [
        e.customer
        for e in chain.edges
        if e.supplier == node_id and (include_recycling or not e.recycling)
    ]


def layers(chain: Chain) -> dict[str, int]:
    """Left-to-right layer of each node: longest path from a source over non-recycling edges.

    Recycling edges are left out, so a by-product loop still lays out left to right.
    """
    indeg: dict[str, int] = dict.fromkeys(chain.node_ids, 0)
    succ: dict[str, list[str]] = defaultdict(list)
    for e in chain.edges:
        if not e.recycling:
            succ[e.supplier].append(e.customer)
            indeg[e.customer] += 1
    layer = dict.fromkeys(chain.node_ids, 0)
    queue = deque(n for n, d in indeg.items() if d == 0)
    while queue:
        n = queue.popleft()
        for m in succ[n]:
            layer[m] = max(layer[m], layer[n] + 1)
            indeg[m] -= 1
            if indeg[m] == 0:
                queue.append(m)
    return layer


def paths(chain: Chain, source: str, target: str, *, limit: int = 100) -> list[list[str]]:
    """All simple supply paths from `source` to `target` over non-recycling edges."""
    succ: dict[str, list[str]] = defaultdict(list)
    for e in chain.edges:
        if not e.recycling:
            succ[e.supplier].append(e.customer)
    found: list[list[str]] = []
    stack: list[list[str]] = [[source]]
    while stack and len(found) < limit:
        path = stack.pop()
        if path[-1] == target:
            found.append(path)
            continue
        stack.extend([*path, nxt] for nxt in reversed(succ[path[-1]]) if nxt not in path)
    return found


def upstream_closure(chain: Chain, node_id: str) -> set[str]:
    """Every node from which `node_id` can be reached over non-recycling edges."""
    pred: dict[str, list[str]] = defaultdict(list)
    for e in chain.edges:
        if not e.recycling:
            pred[e.customer].append(e.supplier)
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        for p in pred[todo.pop()]:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen
