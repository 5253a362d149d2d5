"""The lineage picture of a session: turns as boxes, parent above child, lines between them.

Laid out as a tidy tree (leaves in depth-first order, each parent centred over its children) and
drawn large enough to read on a phone: one column per leaf, one row per generation.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (24, 24, 32)
EDGE = (150, 150, 175)
TEXT = (240, 240, 245)
MUTED = (190, 190, 205)
MOVE_COLOURS = {  # box colour by what the turn did
    "start": (106, 90, 205),
    "continue": (60, 130, 200),
    "branch": (40, 160, 150),
    "remix": (200, 110, 60),
    "harmonize": (170, 80, 170),
    "upload": (90, 150, 70),
}
NODE_W, NODE_H = 270, 108  # a box: three lines of 26/22 px text, room for a 14-letter name
GAP_X, GAP_Y = 30, 56
MARGIN = 30
TITLE_H = 54


@dataclass(frozen=True)
class Node:
    """What the picture says about one turn."""

    number: int
    piece_id: str
    parent_id: str | None
    author: str
    genre: str
    move: str
    likes: int


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the bitmap font still reads
        return ImageFont.load_default()


def layout(nodes: Sequence[Node]) -> dict[str, tuple[float, int]]:
    """(column, depth) per piece id: leaves take columns left to right, parents sit over children."""
    ids = {n.piece_id for n in nodes}
    children: dict[str | None, list[Node]] = {}
    for n in sorted(nodes, key=lambda n: n.number):
        parent = n.parent_id if n.parent_id in ids else None  # an orphan hangs from the top
        children.setdefault(parent, []).append(n)
    place: dict[str, tuple[float, int]] = {}
    next_column = 0.0

    def visit(node: Node, depth: int) -> float:
        nonlocal next_column
        kids = children.get(node.piece_id, [])
        if not kids:
            column = next_column
            next_column += 1
        else:
            spots = [visit(kid, depth + 1) for kid in kids]
            column = (spots[0] + spots[-1]) / 2
        place[node.piece_id] = (column, depth)
        return column

    # Iterative depth would be safer for very deep trees, but sessions hold at most max_turns turns.
    for root in children.get(None, []):
        visit(root, 0)
    return place


def _lines(
    node: Node,
) -> list[tuple[str, ImageFont.ImageFont | ImageFont.FreeTypeFont, tuple[int, int, int]]]:
    big, small = _font(26), _font(22)
    likes = f"{node.likes} like" + ("" if node.likes == 1 else "s")  # the default font has no heart glyph
    return [
        (f"#{node.number}  {node.author}"[:18], big, TEXT),
        (f"{node.move} · {node.genre}"[:22], small, MUTED),
        (likes, small, TEXT),
    ]


def draw_tree(nodes: Sequence[Node], title: str) -> bytes:
    """PNG bytes of the session's lineage."""
    place = layout(nodes)
    columns = max((c for c, _ in place.values()), default=0) + 1
    depth = max((d for _, d in place.values()), default=0) + 1
    width = max(int(MARGIN * 2 + columns * NODE_W + (columns - 1) * GAP_X), 520)
    height = int(MARGIN * 2 + TITLE_H + depth * NODE_H + (depth - 1) * GAP_Y)
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.text((MARGIN, MARGIN), title[:60], font=_font(34), fill=TEXT)
    boxes = {pid: _box(column, row) for pid, (column, row) in place.items()}
    by_id: Mapping[str, Node] = {n.piece_id: n for n in nodes}
    for pid, (x0, y0, x1, _) in boxes.items():
        parent = by_id[pid].parent_id
        if parent in boxes:
            px0, _, px1, py1 = boxes[parent]
            draw.line([((px0 + px1) / 2, py1), ((px0 + px1) / 2, py1 + GAP_Y / 2)], fill=EDGE, width=3)
            draw.line(
                [((px0 + px1) / 2, py1 + GAP_Y / 2), ((x0 + x1) / 2, y0 - GAP_Y / 2)], fill=EDGE, width=3
            )
            draw.line([((x0 + x1) / 2, y0 - GAP_Y / 2), ((x0 + x1) / 2, y0)], fill=EDGE, width=3)
    for pid, (x0, y0, x1, y1) in boxes.items():
        node = by_id[pid]
        colour = MOVE_COLOURS.get(node.move, (110, 110, 130))
        draw.rounded_rectangle([x0, y0, x1, y1], radius=12, fill=colour, outline=TEXT, width=2)
        y = y0 + 8
        for text, font, fill in _lines(node):
            draw.text((x0 + 12, y), text, font=font, fill=fill)
            y += 31
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _box(column: float, row: int) -> tuple[float, float, float, float]:
    x0 = MARGIN + column * (NODE_W + GAP_X)
    y0 = MARGIN + TITLE_H + row * (NODE_H + GAP_Y)
    return x0, y0, x0 + NODE_W, y0 + NODE_H
