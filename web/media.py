"""Audio, pictures and sheet music of pages, made on demand and kept in the disk cache.

Pieces are stored as MIDI and settings only (the MP3 a reply carried lives in Discord, not here), so
a page's audio and piano roll are rendered on first request through the bot's render pool (beside the
event loop, bounded by its queue) and cached on disk under the data folder. One request renders; any
others for the same piece wait on it. The web admits at most `renders_at_once + renders_waiting`
renders at a time, so a crawl of pages cannot starve the bot's replies; beyond that it answers Busy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.storage import Piece, RemixSession
from cadenza.errors import BadInput, Busy, CadenzaError, RenderFailed
from render import RenderedPiece, RenderJob, RenderSettings, get_preset, midi_from_bytes
from render.edits import Part, join_parts, midi_to_bytes
from web.diskcache import DiskCache
from web.settings import WebSettings

log = logging.getLogger(__name__)

AUDIO, ROLL, MUSICXML, SHEET = "piece.mp3", "roll.png", "piece.musicxml", "score.png"


class RenderPoolLike(Protocol):
    """What the web needs of `render.RenderPool` (the bot's own pool is passed in)."""

    settings: RenderSettings

    async def render(self, job: RenderJob) -> RenderedPiece: ...


@dataclass(frozen=True)
class SheetMusic:
    """A piece's written music: MusicXML, and the engraved first page when the maker draws one."""

    musicxml: bytes
    png: bytes | None = None


class SheetMaker(Protocol):
    """Writes a piece's sheet music; `draws_pages` says whether it also engraves a PNG."""

    draws_pages: bool

    def __call__(self, piece: Piece) -> Awaitable[SheetMusic]: ...


class Music21Sheets:
    """MusicXML straight from the MIDI by music21 (no engraving); render/'s engraver replaces it."""

    draws_pages = False

    async def __call__(self, piece: Piece) -> SheetMusic:
        return SheetMusic(await asyncio.to_thread(_musicxml_of, piece.midi))


def _musicxml_of(midi: bytes) -> bytes:
    import music21  # ~1 s to import: only where sheet music is asked for
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        stream = music21.converter.parseData(midi, format="midi")
        return bytes(GeneralObjectExporter(stream).parse())
    except Exception as e:  # music21 raises many kinds on odd scores
        raise RenderFailed("the sheet music of this piece could not be written") from e


def sound_of(settings: Mapping[str, object]) -> str | None:
    """The piece's sound if it names a preset we have; None = the genre's own."""
    name = settings.get("sound")
    if not isinstance(name, str) or not name:
        return None
    try:
        return get_preset(name).name
    except BadInput:
        return None


def text_setting(settings: Mapping[str, object], *names: str) -> str | None:
    """The first of these settings that holds a non-empty string."""
    for name in names:
        value = settings.get(name)
        if isinstance(value, str) and value:
            return value
    return None


class Media:
    """Cached files of pieces and session mixes; `await media.audio(piece)` gives a file to send."""

    def __init__(
        self,
        cache: DiskCache,
        pool: RenderPoolLike,
        settings: WebSettings,
        sheets: SheetMaker | None = None,
        mix_crossfade_s: float = 0.5,
    ) -> None:
        self.cache = cache
        self.pool = pool
        self.sheets: SheetMaker = sheets or Music21Sheets()
        self._settings = settings
        self._crossfade = mix_crossfade_s
        self._slots = asyncio.Semaphore(settings.renders_at_once)
        self._inflight: dict[str, asyncio.Task[None]] = {}

    async def audio(self, piece: Piece) -> Path:
        """The piece's MP3 (rendered with its piano roll on first request)."""
        return await self._ensure(piece.id, AUDIO, "render", lambda: self._render_piece(piece))

    async def roll(self, piece: Piece) -> Path:
        """The piece's piano-roll PNG."""
        return await self._ensure(piece.id, ROLL, "render", lambda: self._render_piece(piece))

    async def musicxml(self, piece: Piece) -> Path:
        """The piece's MusicXML."""
        return await self._ensure(piece.id, MUSICXML, "sheet", lambda: self._write_sheet(piece))

    async def sheet_png(self, piece: Piece) -> Path:
        """The engraved first page; BadInput when the sheet maker draws none."""
        if not self.sheets.draws_pages:
            raise BadInput("this server does not engrave sheet music")
        return await self._ensure(piece.id, SHEET, "sheet", lambda: self._write_sheet(piece))

    async def mix(self, session: RemixSession, path: Sequence[tuple[int, Piece]]) -> Path:
        """The MP3 of a session path (turn number and piece, root first), as `/session mix` plays it."""
        key = f"mix-{path[-1][1].id}"
        return await self._ensure(key, AUDIO, "render", lambda: self._render_mix(session, path))

    def forget(self, piece_id: str) -> None:
        """Drop a piece's files (it was removed)."""
        self.cache.drop(piece_id)
        self.cache.drop(f"mix-{piece_id}")

    async def _ensure(
        self, key: str, name: str, group: str, make: Callable[[], Awaitable[dict[str, bytes]]]
    ) -> Path:
        found = self.cache.find(key, name)
        if found is not None:
            return found
        job = f"{key}/{group}"
        task = self._inflight.get(job)
        if task is None:
            if len(self._inflight) >= self._settings.renders_at_once + self._settings.renders_waiting:
                raise Busy("the pages are rendering as much as they can; try again in a few seconds")
            task = asyncio.create_task(self._make(key, make), name=f"web-render {job}")
            self._inflight[job] = task
            task.add_done_callback(lambda t: self._finished(job, t))
        await asyncio.shield(task)  # a visitor who leaves does not cancel the render for the others
        found = self.cache.find(key, name)
        if found is None:
            raise RenderFailed(f"{name} was not made")
        return found

    def _finished(self, job: str, task: asyncio.Task[None]) -> None:
        self._inflight.pop(job, None)
        error = None if task.cancelled() else task.exception()  # retrieved, so never "never retrieved"
        if error is not None and not isinstance(error, CadenzaError):
            log.error("web render %s failed", job, exc_info=error)

    async def _make(self, key: str, make: Callable[[], Awaitable[dict[str, bytes]]]) -> None:
        async with self._slots:
            try:
                async with asyncio.timeout(self._settings.render_timeout_s):
                    files = await make()
            except TimeoutError as e:
                raise RenderFailed("rendering this page's audio took too long") from e
        await asyncio.to_thread(lambda: [self.cache.write(key, n, data) for n, data in files.items()])

    async def _render_piece(self, piece: Piece) -> dict[str, bytes]:
        midi = await asyncio.to_thread(midi_from_bytes, piece.midi)
        rendered = await self.pool.render(
            RenderJob(
                midi=midi,
                title=piece.title or "Cadenza piece",
                genre=text_setting(piece.settings, "genre"),
                preset=sound_of(piece.settings),
                seed=piece.seed,
                key=text_setting(piece.settings, "played_key", "key"),
            )
        )
        return {AUDIO: rendered.audio, ROLL: rendered.png}

    async def _render_mix(self, session: RemixSession, path: Sequence[tuple[int, Piece]]) -> dict[str, bytes]:
        parts = [Part(number, piece.midi) for number, piece in path]
        joined = await asyncio.to_thread(join_parts, parts, self._crossfade)
        last = path[-1][0]
        rendered = await self.pool.render(
            RenderJob(
                midi=joined.score,
                title=f"{session.title} (mix to turn #{last})",
                genre=session.genre,
                preset=sound_of({"sound": session.sound}),
            )
        )
        return {AUDIO: rendered.audio, "mix.mid": await asyncio.to_thread(midi_to_bytes, joined.score)}

    async def _write_sheet(self, piece: Piece) -> dict[str, bytes]:
        sheet = await self.sheets(piece)
        files = {MUSICXML: sheet.musicxml}
        if sheet.png is not None:
            files[SHEET] = sheet.png
        return files
