"""Compute layer: what a rule tree depends on — segments it names, cycles between segments,
whether it can be evaluated in real time — and combining per-condition results (explain)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from segments.compute.rule_tree import child_path, iter_conditions


def referenced_segments(tree: Any) -> set[int]:
    """Ids of the segments a tree names in segment conditions."""
    return {
        int(node["segment_id"])
        for _, node in iter_conditions(tree)
        if node.get("type") == "segment" and isinstance(node.get("segment_id"), int)
    }


def find_cycle(graph: Mapping[int, Iterable[int]]) -> list[int] | None:
    """A cycle of the dependency graph as a list of ids (first id repeated at the end), or None.

    `graph[a]` holds the ids `a` depends on. Iterative depth-first search: no recursion limit.
    """
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    for root in sorted(graph):
        if state.get(root):
            continue
        stack: list[tuple[int, list[int]]] = [(root, sorted(graph.get(root, ())))]
        path = [root]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            if not pending:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            child = pending.pop(0)
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, sorted(graph.get(child, ()))))
    return None


def dependency_order(graph: Mapping[int, Iterable[int]]) -> list[int]:
    """Ids of `graph` ordered so that every segment comes after those it depends on.

    Assumes no cycle (find_cycle is checked on save); ties ordered by id.
    """
    remaining = {node: set(deps) & set(graph) for node, deps in graph.items()}
    ordered: list[int] = []
    while remaining:
        ready = sorted(node for node, deps in remaining.items() if not deps)
        if not ready:  # defensive: a cycle slipped in; keep going in id order
            ready = [min(remaining)]
        for node in ready:
            ordered.append(node)
            del remaining[node]
        for deps in remaining.values():
            deps.difference_update(ready)
    return ordered


@dataclass(frozen=True, kw_only=True)
class RealtimeVerdict:
    """Whether a tree can be evaluated when an event arrives, and why not / with what caveat."""

    is_realtime_capable: bool
    blockers: tuple[str, ...]
    notes: tuple[str, ...]


def realtime_verdict(
    tree: Any, *, batch_traits: Iterable[str], realtime_segments: Iterable[int]
) -> RealtimeVerdict:
    """Real-time capable unless the tree reads a batch-scored trait (RFM scores, which rank a
    profile against everyone) or a segment that is itself not real-time. Time windows enter in
    real time but exit as time passes, which only the scheduled refresh sees: that is a note."""
    batch = set(batch_traits)
    realtime = set(realtime_segments)
    blockers: list[str] = []
    notes: list[str] = []
    for path, node in iter_conditions(tree):
        kind = node.get("type")
        where = f"condition {path or 'root'}"
        if kind == "computed" and node.get("trait") in batch:
            blockers.append(f"{where}: {node['trait']} is scored by a nightly job")
        elif kind == "segment" and node.get("segment_id") not in realtime:
            blockers.append(f"{where}: segment {node.get('segment_id')} is not real-time")
        elif _has_time_window(node):
            notes.append(f"{where}: leaving the time window is seen at the scheduled refresh")
    return RealtimeVerdict(
        is_realtime_capable=not blockers, blockers=tuple(blockers), notes=tuple(notes)
    )


def _has_time_window(node: dict[str, Any]) -> bool:
    if node.get("type") in ("event", "sequence"):
        return bool(node.get("within_days") or node.get("between"))
    return node.get("op") == "within_days"


def combine_results(tree: Any, leaf_results: Mapping[str, bool], path: str = "") -> dict[str, bool]:
    """The result of every node (groups included) from the results of the leaves, by path."""
    results: dict[str, bool] = {}
    _combine(tree, leaf_results, path, results)
    return results


def _combine(node: Any, leaves: Mapping[str, bool], path: str, out: dict[str, bool]) -> bool:
    if isinstance(node, dict) and ("all" in node or "any" in node):
        key = "all" if "all" in node else "any"
        values = [
            _combine(child, leaves, child_path(path, index), out)
            for index, child in enumerate(node[key])
        ]
        out[path] = all(values) if key == "all" else any(values)
    elif isinstance(node, dict) and "not" in node:
        out[path] = not _combine(node["not"], leaves, child_path(path, 0), out)
    else:
        out[path] = bool(leaves[path])
    return out[path]
