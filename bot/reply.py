"""The result message of a piece: an embed (the piano roll as its image), MP3, MIDI and buttons."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import discord

from bot.options import PieceSpec
from bot.storage import Piece, PieceKind

COLOUR = discord.Colour.from_rgb(106, 90, 205)
AUDIO_NAME, MIDI_NAME, PICTURE_NAME = "piece.mp3", "piece.mid", "piece.png"
KIND_WORDS = {
    PieceKind.COMPOSE: "composed",
    PieceKind.TAKE: "another take",
    PieceKind.CONTINUE: "continued",
    PieceKind.REMIX: "remixed",
}


def piece_title(spec: PieceSpec, kind: PieceKind, clip_name: str | None = None) -> str:
    """A short title for the embed and the stored piece."""
    genre = spec.genre.capitalize()
    if clip_name:
        return f"{genre} continuation of {clip_name}"[:100]
    if kind is PieceKind.COMPOSE:
        return f"{genre} piece"
    return f"{genre} piece ({KIND_WORDS.get(kind, kind.value)})"


def _fmt_tempo(meta: Mapping[str, Any], spec: PieceSpec) -> str:
    tempo = meta.get("tempo") or spec.tempo
    return f"{float(tempo):.0f} bpm" if tempo else "—"


def _fmt_key(meta: Mapping[str, Any], spec: PieceSpec) -> str:
    key = str(meta.get("key") or spec.key or "—")
    # Honest about a piece that drifted from the key asked for (a short or adventurous piece can).
    return key if spec.key is None or spec.key == key else f"{key} (asked for {spec.key})"


def _fmt_originality(meta: Mapping[str, Any]) -> str:
    value = meta.get("originality")
    if value is None:
        return "—"
    return f"{float(value):.0%}" if float(value) <= 1 else f"{float(value):.0f}"


def piece_embed(
    piece: Piece, spec: PieceSpec, meta: Mapping[str, Any], user: discord.abc.User
) -> discord.Embed:
    """Title, genre, key, tempo, length, seed, originality; the piano roll as the image."""
    remarks = meta.get("remarks") or ()
    embed = discord.Embed(
        title=piece.title or "Cadenza piece", colour=COLOUR, description="\n".join(remarks) or None
    )
    sound = meta.get("sound") or spec.sound or "genre default"
    embed.add_field(name="Genre", value=spec.genre)
    embed.add_field(name="Key", value=_fmt_key(meta, spec))
    embed.add_field(name="Tempo", value=_fmt_tempo(meta, spec))
    embed.add_field(name="Length", value=f"{piece.duration_s:.0f} s")
    embed.add_field(name="Sound", value=str(sound))
    embed.add_field(name="Seed", value=f"`{spec.seed}`")
    embed.add_field(name="Originality", value=_fmt_originality(meta))
    embed.add_field(name="Creativity", value=spec.creativity)
    embed.set_image(url=f"attachment://{PICTURE_NAME}")
    parent = f" · from piece {piece.parent_id}" if piece.parent_id else ""
    embed.set_footer(text=f"piece {piece.id}{parent} · {meta.get('model', piece.model)}")
    embed.set_author(name=f"for {user.display_name}", icon_url=user.display_avatar.url)
    return embed


def piece_files(mp3: bytes, midi: bytes, png: bytes) -> list[discord.File]:
    """The three files (fresh objects each time: discord.File streams are read once)."""
    return [
        discord.File(io.BytesIO(mp3), filename=AUDIO_NAME, description="the piece as audio"),
        discord.File(io.BytesIO(midi), filename=MIDI_NAME, description="the piece as MIDI"),
        discord.File(io.BytesIO(png), filename=PICTURE_NAME, description="piano roll"),
    ]
