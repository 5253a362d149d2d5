"""A session's family tree as boxes and lines for the page's inline SVG (the template draws them).

The layout is the one `/session tree` draws (render.tree.layout): leaves take columns left
to right, each parent centred over its children, one row per generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from render.tree import Node, layout

BOX_W, BOX_H = 168, 64
GAP_X, GAP_Y = 20, 36
MARGIN = 12


@dataclass(frozen=True)
class Box:
    """One turn drawn: where, what it says, and where its link goes (None for a removed turn)."""

    number: int
    x: float
    y: float
    author: str
    move: str
    genre: str
    likes: int
    href: str | None


@dataclass(frozen=True)
class Tree:
    """The drawing: its size, boxes and the lines between them (SVG path data)."""

    width: float
    height: float
    boxes: tuple[Box, ...]
    edges: tuple[str, ...]
    box_w: int = BOX_W
    box_h: int = BOX_H


def draw(nodes: Sequence[Node], hrefs: Mapping[str, str | None]) -> Tree:
    """The tree of these turns; `hrefs` gives each piece id its page (None: not linked)."""
    place = layout(nodes)
    at = {
        pid: (MARGIN + col * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
        for pid, (col, row) in place.items()
    }
    boxes = tuple(
        Box(n.number, *at[n.piece_id], n.author, n.move, n.genre, n.likes, hrefs.get(n.piece_id))
        for n in sorted(nodes, key=lambda n: n.number)
        if n.piece_id in at
    )
    edges = []
    for n in nodes:
        if n.parent_id in at and n.piece_id in at:
            (px, py), (cx, cy) = at[n.parent_id], at[n.piece_id]
            x1, y1, x2, y2 = px + BOX_W / 2, py + BOX_H, cx + BOX_W / 2, cy
            mid = (y1 + y2) / 2
            edges.append(f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}")
    width = max((b.x for b in boxes), default=0.0) + BOX_W + MARGIN
    height = max((b.y for b in boxes), default=0.0) + BOX_H + MARGIN
    return Tree(width, height, boxes, tuple(edges))
