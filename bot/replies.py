"""Every reply with music in it, built here: a piece (embed with the piano roll or the score, MP3, MIDI,
score.png, piece.musicxml, buttons), a session's turn, card, top list and mix.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.options import PICTURES, PieceFacts, PieceSpec
from bot.sessions.views import turn_view
from bot.storage import Piece, PieceKind, RemixSession, Turn
from bot.views import piece_view
from render import ScoreFiles

COLOUR = discord.Colour.from_rgb(106, 90, 205)
AUDIO_NAME, MIDI_NAME, PICTURE_NAME = "piece.mp3", "piece.mid", "piece.png"
SCORE_NAME, MUSICXML_NAME = "score.png", "piece.musicxml"
KIND_WORDS = {
    PieceKind.COMPOSE: "composed",
    PieceKind.TAKE: "another take",
    PieceKind.CONTINUE: "continued",
    PieceKind.REMIX: "remixed",
    PieceKind.REWRITE: "rewritten",
    PieceKind.ACCOMPANY: "accompanied",
}


@dataclass(frozen=True)
class PieceFiles:
    """What a reply attaches: audio, MIDI and piano roll, and the engraved score where there is one."""

    audio: bytes = field(repr=False)
    midi: bytes = field(repr=False)
    roll: bytes = field(repr=False)  # the piano roll PNG
    score: bytes | None = field(default=None, repr=False)  # score.png: the first page of the sheet music
    musicxml: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, audio: bytes, midi: bytes, roll: bytes, sheet: ScoreFiles | None) -> PieceFiles:
        """The files of a rendered piece (the sheet's clean MIDI, a named track per part, when engraved)."""
        if sheet is None:
            return cls(audio, midi, roll)
        return cls(audio, sheet.midi, roll, sheet.png, sheet.musicxml)

    def picture(self, wanted: str) -> str:
        """The attachment the embed shows: the score if wanted and engraved, else the piano roll."""
        return SCORE_NAME if wanted == "score" and self.score is not None else PICTURE_NAME

    def discord_files(self) -> list[discord.File]:
        """Fresh discord.File objects (a File's stream is read once)."""
        files = [
            discord.File(io.BytesIO(self.audio), filename=AUDIO_NAME, description="the piece as audio"),
            discord.File(io.BytesIO(self.midi), filename=MIDI_NAME, description="the piece as MIDI"),
            discord.File(io.BytesIO(self.roll), filename=PICTURE_NAME, description="piano roll"),
        ]
        if self.score is not None:
            files.append(discord.File(io.BytesIO(self.score), filename=SCORE_NAME, description="sheet music"))
        if self.musicxml is not None:
            files.append(
                discord.File(
                    io.BytesIO(self.musicxml), filename=MUSICXML_NAME, description="the score as MusicXML"
                )
            )
        return files


def provenance_footer(piece: Piece, facts: PieceFacts, *extra: str) -> str:
    """The embed footer: the piece, what it came from, the model, the corpus and the seed."""
    seed = facts.seed if facts.seed is not None else piece.seed
    parts = [
        f"piece {piece.id}",
        *([f"from piece {piece.parent_id}"] if piece.parent_id else []),
        *extra,
        facts.model or piece.model or "no model (by rule or upload)",
        *([f"corpus {facts.corpus}"] if facts.corpus else []),
        *([f"seed {seed}"] if seed is not None else []),
    ]
    return " · ".join(parts)[:2048]


def piece_title(spec: PieceSpec, kind: PieceKind, clip_name: str | None = None) -> str:
    """A short title for the embed and the stored piece."""
    genre = spec.genre.capitalize()
    if clip_name and kind is PieceKind.ACCOMPANY:
        return f"{genre} accompaniment of {clip_name}"[:100]
    if clip_name:
        return f"{genre} continuation of {clip_name}"[:100]
    if kind is PieceKind.COMPOSE:
        return f"{genre} piece"
    return f"{genre} piece ({KIND_WORDS.get(kind, kind.value)})"


def _fmt_tempo(facts: PieceFacts, spec: PieceSpec) -> str:
    tempo = facts.tempo or spec.tempo
    return f"{float(tempo):.0f} bpm" if tempo else "—"


def _fmt_key(facts: PieceFacts, spec: PieceSpec) -> str:
    key = str(facts.key or spec.key or "—")
    # Honest about a piece that drifted from the key asked for (a short or adventurous piece can).
    return key if spec.key is None or spec.key == key else f"{key} (asked for {spec.key})"


def _fmt_originality(facts: PieceFacts) -> str:
    value = facts.originality
    if value is None:
        return "—"
    return f"{float(value):.0%}" if float(value) <= 1 else f"{float(value):.0f}"


def piece_embed(
    piece: Piece, spec: PieceSpec, facts: PieceFacts, user: discord.abc.User, picture: str = PICTURE_NAME
) -> discord.Embed:
    """Title, genre, key, tempo, length, seed, originality; `picture` (piano roll or score) as the image."""
    embed = discord.Embed(
        title=piece.title or "Cadenza piece", colour=COLOUR, description="\n".join(facts.remarks) or None
    )
    sound = facts.sound or spec.sound or "genre default"
    embed.add_field(name="Genre", value=spec.genre)
    embed.add_field(name="Key", value=_fmt_key(facts, spec))
    embed.add_field(name="Tempo", value=_fmt_tempo(facts, spec))
    embed.add_field(name="Length", value=f"{piece.duration_s:.0f} s")
    embed.add_field(name="Sound", value=str(sound))
    embed.add_field(name="Seed", value=f"`{spec.seed}`")
    embed.add_field(name="Originality", value=_fmt_originality(facts))
    embed.add_field(name="Creativity", value=spec.creativity)
    embed.set_image(url=f"attachment://{picture}")
    embed.set_footer(text=provenance_footer(piece, facts))
    embed.set_author(name=f"for {user.display_name}", icon_url=user.display_avatar.url)
    return embed


def piece_message(
    piece: Piece,
    spec: PieceSpec,
    facts: PieceFacts,
    user: discord.abc.User,
    files: PieceFiles,
    picture: str = PICTURES[0],
    page_url: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a piece's message: embed, files (MP3, MIDI, pictures, MusicXML), buttons
    (with a link to its web page when `page_url` is given)."""
    return {
        "embed": piece_embed(piece, spec, facts, user, files.picture(picture)),
        "files": files.discord_files(),
        "view": piece_view(piece.id, page_url),
    }


# -- sessions ----------------------------------------------------------------------------------------

RULES = (
    "Take turns with the buttons under any turn:\n"
    "⏩ **Continue** extends it · 🎛️ **Remix** redoes it in another genre, sound or tempo · "
    "🎹 **Harmonize** writes voices under its melody · ✏️ **Rewrite bars** writes some bars anew · "
    "🌿 **Branch** continues from any earlier turn · "
    "👍 likes it (press again to take the like back).\n"
    "`/session add clip` splices in your own clip or MIDI file. `/session top`, `/session tree` and "
    "`/session mix` show the best turns, the family tree, and any path as one track."
)
MOVE_WORDS = {
    "start": "started the session",
    "continue": "continued",
    "branch": "branched from",
    "remix": "remixed",
    "harmonize": "harmonized",
    "upload": "spliced in a clip after",
    "rewrite": "rewrote bars of",
}


def card_embed(session: RemixSession, starter: discord.abc.User, limits: str) -> discord.Embed:
    """The session card: title, who started it, the rules and the limits."""
    embed = discord.Embed(title=f"🎶 {session.title}", colour=COLOUR, description=RULES)
    embed.add_field(name="Started by", value=starter.mention)
    embed.add_field(name="Genre", value=session.genre)
    embed.add_field(name="Sound", value=session.sound or "genre default")
    embed.add_field(name="Limits", value=limits, inline=False)
    embed.set_footer(text=f"session {session.id} · {session.status.value}")
    return embed


def turn_embed(
    session: RemixSession,
    turn: Turn,
    piece: Piece,
    facts: PieceFacts,
    author: discord.abc.User,
    parent_number: int | None = None,
    picture: str = PICTURE_NAME,
) -> discord.Embed:
    """One turn: number, author, what they did, its settings; `picture` as the image."""
    move = str(piece.settings.get("move", turn.kind.value))
    parent = f" #{parent_number}" if parent_number is not None else ""
    title = f"Turn #{turn.number}: {author.display_name} {MOVE_WORDS.get(move, move)}{parent}"
    embed = discord.Embed(title=title[:256], colour=COLOUR, description="\n".join(facts.remarks) or None)
    settings = piece.settings
    embed.add_field(name="Genre", value=str(settings.get("genre", session.genre)))
    embed.add_field(name="Sound", value=str(facts.sound or settings.get("sound") or "genre default"))
    embed.add_field(name="Key", value=str(facts.key or "—"))
    embed.add_field(name="Length", value=f"{piece.duration_s:.1f} s")
    embed.set_image(url=f"attachment://{picture}")
    embed.set_author(name=author.display_name, icon_url=author.display_avatar.url)
    embed.set_footer(text=provenance_footer(piece, facts, f"session {session.id}"))
    return embed


def top_embed(session: RemixSession, turns: Sequence[Turn], names: Mapping[int, str]) -> discord.Embed:
    """The most liked turns, most likes first."""
    embed = discord.Embed(title=f"🏆 Most liked in {session.title}", colour=COLOUR)
    if not turns:
        embed.description = "No turns yet."
    lines = []
    for place, turn in enumerate(turns, start=1):
        likes = f"{turn.votes} like" + ("" if turn.votes == 1 else "s")
        lines.append(
            f"**{place}.** Turn #{turn.number} by {names.get(turn.author_id, '?')} · {turn.kind.value} · {likes}"
        )
    embed.description = "\n".join(lines) or "No turns yet."
    embed.set_footer(text=f"session {session.id} · {session.status.value}")
    return embed


STATUS_WORDS = {
    "locked": "🔒 {who} locked the session: no new turns until it is unlocked. Likes still count.",
    "open": "🔓 {who} unlocked the session: take your turns!",
    "ended": "🏁 {who} ended the session. Everything stays here to read, play, rank and mix.",
}


def turn_message(
    session: RemixSession,
    turn: Turn,
    piece: Piece,
    facts: PieceFacts,
    author: discord.abc.User,
    parent_number: int | None,
    files: PieceFiles,
    picture: str = PICTURES[0],
    page_url: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a turn's message: embed, files and buttons (and its page's link)."""
    return {
        "embed": turn_embed(session, turn, piece, facts, author, parent_number, files.picture(picture)),
        "files": files.discord_files(),
        "view": turn_view(piece.id, page_url),
    }


MIX_AUDIO, MIX_MIDI, MIX_PICTURE = "mix.mp3", "mix.mid", "mix.png"


def mix_message(
    session: RemixSession,
    path: Sequence[Turn],
    length_s: float,
    crossfade_s: float,
    sound: str,
    files: tuple[bytes, bytes, bytes],
) -> dict[str, Any]:
    """`/session mix`'s reply: the path, length and crossfades, with the mix's MP3, MIDI and piano roll."""
    last = path[-1]
    embed = discord.Embed(title=f"🎚️ {session.title}: mix to turn #{last.number}", colour=COLOUR)
    embed.add_field(name="Path", value=" → ".join(f"#{t.number}" for t in path)[:1024], inline=False)
    embed.add_field(name="Length", value=f"{length_s:.1f} s")
    embed.add_field(name="Crossfades", value=f"{len(path) - 1} × {crossfade_s:.2f} s")
    embed.add_field(name="Sound", value=sound)
    embed.set_image(url=f"attachment://{MIX_PICTURE}")
    embed.set_footer(text=f"session {session.id}")
    audio, midi, png = files
    return {
        "embed": embed,
        "files": [
            discord.File(io.BytesIO(audio), MIX_AUDIO, description="the mix as audio"),
            discord.File(io.BytesIO(midi), MIX_MIDI, description="the mix as MIDI"),
            discord.File(io.BytesIO(png), MIX_PICTURE, description="piano roll of the mix"),
        ],
    }
