"""`/session mix`: the path from the first turn to a chosen turn, rendered as one track."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.replies import mix_message
from bot.services import Services
from bot.storage import RemixSession, Turn
from render import RenderJob
from render.edits import Part, join_parts, length_s, midi_to_bytes


def path_to(turns: Sequence[Turn], last: Turn) -> list[Turn]:
    """The turns from the root down to `last` (root first), following each turn's parent."""
    by_piece = {t.piece_id: t for t in turns}
    path = [last]
    while path[-1].parent_piece_id is not None and len(path) <= len(turns):
        parent = by_piece.get(path[-1].parent_piece_id)
        if parent is None:
            break
        path.append(parent)
    return path[::-1]


async def render_mix(
    services: Services, session: RemixSession, turns: Sequence[Turn], last: Turn, crossfade_s: float
) -> dict[str, Any]:
    """The mix's message (embed and files: MP3, MIDI, piano roll)."""
    path = path_to(turns, last)
    parts = [Part(t.number, (await services.storage.get_piece(t.piece_id)).midi) for t in path]
    joined = join_parts(parts, crossfade_s)
    rendered = await services.pipeline.render_pool.render(
        RenderJob(
            midi=joined.score,
            title=f"{session.title} (mix to turn #{last.number})",
            genre=session.genre,
            preset=session.sound or None,
        )
    )
    files = (rendered.audio, midi_to_bytes(joined.score), rendered.png)
    return mix_message(session, path, length_s(joined.score), joined.crossfade_s, rendered.preset, files)
