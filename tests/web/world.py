"""A small real world for the web tests, the benchmark and the screenshots: pieces, a session, names.

Pieces carry real MIDI written here (known notes), so audio, piano rolls and MusicXML are really made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pretty_midi

from bot.storage import Piece, PieceKind, RemixSession, Storage
from web import GALLERY_KEY

GUILD = 1_180_000_000_000_000_001
OTHER_GUILD = 1_180_000_000_000_000_002
ADA, BO, CY = 1_180_000_000_000_000_101, 1_180_000_000_000_000_102, 1_180_000_000_000_000_103
NAMES = {ADA: "Ada", BO: "Bo the Bard", CY: "Cy"}
# D major, a reel-like line over a drone: (pitch, beats)
TUNE = [(62, 1), (66, 1), (69, 1), (74, 1), (73, 1), (71, 1), (69, 2), (67, 1), (66, 1), (64, 1), (62, 1)]


def tune_midi(tempo: float = 120.0, transpose: int = 0, repeats: int = 1) -> bytes:
    """A short melody with a bass drone as MIDI bytes (4 bars per repeat)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    melody, bass = pretty_midi.Instrument(73, name="melody"), pretty_midi.Instrument(32, name="bass")
    beat, t = 60.0 / tempo, 0.0
    for _ in range(repeats):
        for pitch, beats in TUNE:
            melody.notes.append(pretty_midi.Note(92, pitch + transpose, t, t + beats * beat * 0.95))
            t += beats * beat
    for bar in range(int(t / (4 * beat))):
        bass.notes.append(pretty_midi.Note(70, 38 + transpose, bar * 4 * beat, (bar + 1) * 4 * beat))
    pm.instruments += [melody, bass]
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class World:
    """What `build_world` stored."""

    piece: Piece  # a composed piece with a continuation (its child)
    child: Piece
    session: RemixSession
    turns: tuple[Piece, ...]  # the session's turns in order: #1, #2 (continues #1), #3 (branches from #1)


async def _piece(
    storage: Storage, user: int, title: str, parent: Piece | None = None, **settings: object
) -> Piece:
    kind = settings.pop("kind", PieceKind.CONTINUE if parent else PieceKind.COMPOSE)
    midi = settings.pop("midi", tune_midi())
    return await storage.add_piece(
        user_id=user, channel_id=7, guild_id=GUILD, kind=PieceKind(str(kind)), midi=bytes(midi),  # type: ignore[arg-type]
        settings={"genre": "celtic", "key": "D major", "tempo": 120, "sound": "folk band", **settings},
        seed=1834502211, model="transformer", title=title, duration_s=6.0, parent_id=parent and parent.id,
    )  # fmt: skip


async def build_world(storage: Storage) -> World:
    """Store the world: names, a piece and its child, a session of three turns with likes, a gallery."""
    for user, name in NAMES.items():
        await storage.remember_name(GUILD, user, name)
    piece = await _piece(storage, ADA, "Morning reel")
    child = await _piece(storage, BO, "Morning reel, continued", piece, midi=tune_midi(transpose=2))
    session = await storage.create_session(
        guild_id=GUILD,
        thread_id=99,
        title="Harbour lights",
        genre="celtic",
        sound="folk band",
        starter_id=ADA,
    )
    turns: list[Piece] = []
    for user, parent_index, move, transpose in (
        (ADA, None, "start", 0),
        (BO, 0, "continue", 5),
        (CY, 0, "remix", -3),
    ):
        parent = None if parent_index is None else turns[parent_index]
        turn = await _piece(
            storage, user, f"Harbour lights: {move}", parent, midi=tune_midi(transpose=transpose), move=move,
            session_id=session.id,
        )  # fmt: skip
        await storage.add_turn(
            session.id, turn.id, author_id=user, kind=turn.kind, parent_piece_id=parent and parent.id
        )
        turns.append(turn)
    for voter in (ADA, CY):
        await storage.vote(turns[1].id, voter)
    await storage.vote(turns[2].id, BO)
    await storage.set_guild_settings(GUILD, {GALLERY_KEY: True}, updated_by=ADA)
    return World(piece, child, session, tuple(turns))
