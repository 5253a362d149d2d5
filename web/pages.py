"""What each page shows, read from storage: the records behind a token, and the facts for a template.

A token that does not verify, a record that does not exist, and a server that turned its links off
all answer before any music is read; a removed piece answers 410 Gone and shows nothing of itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bot.storage import Piece, PieceKind, RemixSession, Storage, Turn
from cadenza.errors import CadenzaError, NotFound
from web.limits import LruCache
from web.links import Links, LinkSigner, PageKind
from web.media import Media, sound_of, text_setting
from web.playhead import Playhead, playhead_for
from web.settings import WebSettings

LINKS_KEY = "web_links"  # guild setting: false turns the server's page links off (default on)
GALLERY_KEY = "gallery"  # guild setting: true shows the server's gallery (default off)
SOMEONE = "a member"  # shown for a maker whose name was never seen

FROM_WHAT = {
    PieceKind.COMPOSE: "composed from nothing",
    PieceKind.CONTINUE: "a continuation of",
    PieceKind.REMIX: "a remix of",
    PieceKind.TAKE: "another take of",
    PieceKind.HARMONIZE: "a harmonization of",
    PieceKind.UPLOAD: "uploaded by its maker",
    PieceKind.MIX: "a mix of a session path",
}


class PageError(Exception):
    """An answer other than the page: its status and what the visitor is told.

    Raised as a new instance each time: re-raising one shared instance would chain every request's
    frames onto its traceback and keep them alive (the crawl test caught exactly that).
    """

    status, title, message = 500, "Something went wrong", "Try again later."

    def __init__(self) -> None:
        super().__init__(self.title)


class PageNotFound(PageError):
    status, title = 404, "No such page"
    message = "This link does not open anything here. Check that it was copied whole."


class PieceRemoved(PageError):
    status, title = 410, "This piece was removed"
    message = "The member who made it removed it. Nothing of it is kept here."


class LinksOff(PageError):
    status, title = 403, "Links are off"
    message = "The server this comes from has turned its page links off."


class NoGallery(PageError):
    status, title, message = 404, "No gallery", "This server has not turned its gallery on."


@dataclass(frozen=True)
class PieceLink:
    """A piece as a line in a list: its title, its page, what it is."""

    title: str
    url: str
    kind: str
    likes: int | None = None


class Pages:
    """Loads what a page shows; records are cached briefly (bounded) so a busy page costs little."""

    def __init__(self, storage: Storage, settings: WebSettings, signer: LinkSigner, media: Media) -> None:
        self.storage, self.settings, self.signer, self.media = storage, settings, signer, media
        self.links = Links(settings, signer)
        self._records: LruCache[str, Any] = LruCache(settings.records_cached, settings.records_ttl_s)
        self._playheads: LruCache[str, Playhead] = LruCache(settings.records_cached, float("inf"))

    async def _cached(self, key: str, load: Any) -> Any:
        found = self._records.get(key)
        if found is None:
            try:
                found = await load()
            except NotFound:
                found = NotFound
            self._records.put(key, found)
        if found is NotFound:
            raise PageNotFound()
        return found

    async def _links_on(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return True
        values = await self._guild_values(guild_id)
        return values.get(LINKS_KEY, True) is not False

    async def _guild_values(self, guild_id: int) -> Mapping[str, Any]:
        settings = await self._cached(f"g:{guild_id}", lambda: self.storage.get_guild_settings(guild_id))
        return settings.values

    async def forget(self, piece_id: str) -> None:
        """Drop what is remembered of a piece and its files (its maker removed it)."""
        self._records.discard(f"p:{piece_id}")
        self._playheads.discard(piece_id)
        await asyncio.to_thread(self.media.forget, piece_id)

    def forget_guild(self, guild_id: int) -> None:
        """Drop a server's remembered settings (links or gallery turned on or off)."""
        self._records.discard(f"g:{guild_id}")

    async def piece(self, token: str) -> Piece:
        """The piece a token opens; PageError when it opens nothing, was removed or links are off."""
        piece_id = self.signer.open(PageKind.PIECE, token)
        if piece_id is None:
            raise PageNotFound()
        piece: Piece = await self._cached(f"p:{piece_id}", lambda: self.storage.get_piece(piece_id))
        if not await self._links_on(piece.guild_id):
            raise LinksOff()
        if piece.removed:
            await asyncio.to_thread(self.media.forget, piece.id)
            raise PieceRemoved()
        return piece

    async def session(self, token: str) -> RemixSession:
        """The session a token opens; PageError as for pieces."""
        session_id = self.signer.open(PageKind.SESSION, token)
        if session_id is None:
            raise PageNotFound()
        session: RemixSession = await self._cached(
            f"s:{session_id}", lambda: self.storage.get_session(session_id)
        )
        if not await self._links_on(session.guild_id):
            raise LinksOff()
        return session

    async def gallery_guild(self, token: str) -> int:
        """The server a gallery token opens, while its gallery is on and its links are."""
        ident = self.signer.open(PageKind.GALLERY, token)
        if ident is None or not ident.isdigit():
            raise PageNotFound()
        guild_id = int(ident)
        if not await self._links_on(guild_id):
            raise LinksOff()
        if (await self._guild_values(guild_id)).get(GALLERY_KEY) is not True:
            raise NoGallery()
        return guild_id

    async def names(self, guild_id: int | None, user_ids: Collection[int]) -> dict[int, str]:
        """Display names for these members (SOMEONE where none was seen); never their ids."""
        known = await self.storage.display_names(guild_id, user_ids)
        return {uid: known.get(uid, SOMEONE) for uid in user_ids}

    async def playhead(self, piece: Piece) -> Playhead:
        """The roll geometry of a piece (computed once per piece, off the event loop)."""
        found = self._playheads.get(piece.id)
        if found is None:
            width = self.media.pool.settings.picture_width
            try:
                found = await asyncio.to_thread(playhead_for, piece.midi, piece.settings, width)
            except CadenzaError:  # unreadable MIDI: the page still shows; its audio will say why
                found = Playhead(0.0, 1.0, 0.0, max(piece.duration_s, 1.0))
            self._playheads.put(piece.id, found)
        return found

    def link(self, piece: Piece, likes: int | None = None) -> PieceLink:
        """A list line for a piece."""
        return PieceLink(
            piece.title or "Untitled piece", self.links.piece_url(piece.id), piece.kind.value, likes
        )

    async def session_of(self, piece: Piece) -> tuple[Turn, RemixSession] | None:
        """The turn a piece is and its session, or None when it is no turn."""
        try:
            turn = await self.storage.get_turn(piece.id)
            return turn, await self.storage.get_session(turn.session_id)
        except NotFound:
            return None


def facts(piece: Piece) -> list[tuple[str, str]]:
    """The piece's settings as label and text, only those it has."""
    s = piece.settings
    tempo = s.get("tempo")
    rows = [
        ("Genre", text_setting(s, "genre") or ""),
        ("Key", text_setting(s, "played_key", "key") or ""),
        ("Tempo", f"{float(tempo):.0f} bpm" if isinstance(tempo, int | float) else ""),
        ("Sound", sound_of(s) or "the genre's own"),
        ("Length", f"{piece.duration_s:.0f} s" if piece.duration_s else ""),
        ("Seed", str(piece.seed)),
        ("Made", piece.created_at.strftime("%-d %B %Y, %H:%M UTC")),
    ]
    return [(label, text) for label, text in rows if text]
