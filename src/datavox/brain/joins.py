"""Join paths on the relationship graph of the semantic model.

Edges run from a foreign key to the key it names (many rows to one: joining along them never multiplies the
rows of the fact table). The offline parser joins outward from the table that holds the facts, so counts stay
right; walking an edge backwards is possible but costs more, and only used when nothing else connects.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel

FORWARD_COST = 1.0
REVERSE_COST = 4.0


@dataclass(frozen=True)
class Edge:
    from_table: str
    from_column: str
    to_table: str
    to_column: str
    priority: int = 0
    forward: bool = True


class JoinGraph:
    def __init__(self, catalog: Catalog, model: SemanticModel) -> None:
        self.out: dict[str, list[Edge]] = {}
        seen: set[tuple[str, str, str, str]] = set()
        for rel in model.relationships:
            a, b = rel.from_table, rel.to_table
            if a not in catalog.tables or b not in catalog.tables:
                continue
            key = (a, rel.from_column, b, rel.to_column)
            if key in seen:
                continue
            seen.add(key)
            fwd = Edge(a, rel.from_column, b, rel.to_column, rel.priority, True)
            rev = Edge(b, rel.to_column, a, rel.from_column, rel.priority, False)
            self.out.setdefault(a, []).append(fwd)
            self.out.setdefault(b, []).append(rev)
        self._cache: dict[tuple[str, str, bool], tuple[Edge, ...] | None] = {}

    def path(self, src: str, dst: str, *, allow_reverse: bool = False) -> tuple[Edge, ...] | None:
        """The cheapest path of edges from `src` to `dst` (empty when they are the same table)."""
        key = (src, dst, allow_reverse)
        if key not in self._cache:
            self._cache[key] = self._search(src, dst, allow_reverse)
        return self._cache[key]

    def _search(self, src: str, dst: str, allow_reverse: bool) -> tuple[Edge, ...] | None:
        if src == dst:
            return ()
        counter = 0
        queue: list[tuple[float, int, str, tuple[Edge, ...]]] = [(0.0, 0, src, ())]
        best: dict[str, float] = {src: 0.0}
        while queue:
            cost, _, node, path = heapq.heappop(queue)
            if node == dst:
                return path
            if len(path) >= 4:
                continue
            for edge in self.out.get(node, []):
                if not edge.forward and not allow_reverse:
                    continue
                if any(e.to_table == edge.to_table for e in path) or edge.to_table == src:
                    continue
                step = (FORWARD_COST if edge.forward else REVERSE_COST) - 0.1 * edge.priority
                new = cost + step
                if new < best.get(edge.to_table, float("inf")) - 1e-9:
                    best[edge.to_table] = new
                    counter += 1
                    heapq.heappush(queue, (new, counter, edge.to_table, (*path, edge)))
        return None
