"""The request handlers: piece, session and gallery pages, and the files they play and offer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.storage import Piece, Turn
from render.tree import Node
from web.links import PageKind
from web.media import MUSICXML, text_setting
from web.pages import FROM_WHAT, PageNotFound, Pages, PieceRemoved, facts
from web.tree import draw as draw_tree

PAGES = web.AppKey("pages", Pages)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
MEDIA_CACHE = "private, max-age=3600"  # a piece's files never change; a removal shows within the hour
PAGE_CACHE = "no-store"  # likes, children and removals show at once


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A rendered template (every value escaped by jinja2's autoescape)."""
    html = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(
        text=html, status=status, content_type="text/html", headers={"Cache-Control": PAGE_CACHE}
    )


def filename(title: str, extension: str) -> str:
    """A download's file name: the title in plain letters, digits and dashes."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:60] or "piece"
    return f"{slug}.{extension}"


def _file(path: Path, content_type: str, download: str | None = None) -> web.FileResponse:
    headers = {"Content-Type": content_type, "Cache-Control": MEDIA_CACHE}
    if download is not None:
        headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return web.FileResponse(path, headers=headers)


async def index(request: web.Request) -> web.Response:
    """What the bare address says: pages open from links the bot posts."""
    return page(request, "index.html")


async def piece_page(request: web.Request) -> web.Response:
    """A piece: facts, player with the roll and playhead, downloads, its family."""
    pages = request.app[PAGES]
    token = request.match_info["token"]
    piece = await pages.piece(token)
    base = pages.links.path(PageKind.PIECE, piece.id)
    parent = await _parent(pages, piece)
    children = [c for c in await pages.storage.children(piece.id) if not c.removed]
    turn = await pages.session_of(piece)
    names = await pages.names(piece.guild_id, [piece.user_id])
    return page(
        request,
        "piece.html",
        piece=piece,
        facts=facts(piece),
        maker=names[piece.user_id],
        from_what=FROM_WHAT[piece.kind],
        clip=piece.settings.get("clip") if isinstance(piece.settings.get("clip"), str) else None,
        parent=parent,
        children=[pages.link(c) for c in children[: pages.settings.children_shown]],
        session=None
        if turn is None
        else (turn[0].number, turn[1].title, pages.links.session_url(turn[1].id)),
        playhead=await pages.playhead(piece),
        base=base,
        sheet_png=pages.media.sheets.draws_pages,
    )


async def _parent(pages: Pages, piece: Piece) -> tuple[str, str | None] | None:
    """(title, page) of the parent; the page is None when the parent was removed."""
    if piece.parent_id is None:
        return None
    parent = await pages.storage.get_piece(piece.parent_id)
    if parent.removed:
        return ("a removed piece", None)
    return (parent.title or "Untitled piece", pages.links.piece_url(parent.id))


async def piece_file(request: web.Request) -> web.StreamResponse:
    """One of a piece's files: audio, roll, MIDI, MusicXML, sheet music page."""
    pages = request.app[PAGES]
    piece = await pages.piece(request.match_info["token"])
    name = request.match_info["name"]
    title = piece.title or "piece"
    if name == "piece.mp3":
        return _file(await pages.media.audio(piece), "audio/mpeg")
    if name == "roll.png":
        return _file(await pages.media.roll(piece), "image/png")
    if name == "piece.mid":
        headers = {"Content-Disposition": f'attachment; filename="{filename(title, "mid")}"'}
        return web.Response(body=piece.midi, content_type="audio/midi", headers=headers)
    if name == MUSICXML:
        path = await pages.media.musicxml(piece)
        return _file(path, "application/vnd.recordare.musicxml+xml", filename(title, "musicxml"))
    if name == "score.png" and pages.media.sheets.draws_pages:
        return _file(await pages.media.sheet_png(piece), "image/png")
    raise PageNotFound()


async def session_page(request: web.Request) -> web.Response:
    """A session: its tree drawn in the page, every turn playable, the mix to each turn, likes."""
    pages = request.app[PAGES]
    token = request.match_info["token"]
    session = await pages.session(token)
    turns = (await pages.storage.session_turns(session.id))[: pages.settings.tree_max_turns]
    pieces = {t.piece_id: await pages.storage.get_piece(t.piece_id) for t in turns}
    names = await pages.names(session.guild_id, {t.author_id for t in turns} | {session.starter_id})
    hrefs = {pid: None if p.removed else pages.links.piece_url(pid) for pid, p in pieces.items()}
    nodes = [
        Node(
            number=t.number,
            piece_id=t.piece_id,
            parent_id=t.parent_piece_id,
            author=names[t.author_id],
            genre=text_setting(pieces[t.piece_id].settings, "genre") or session.genre,
            move=_move(t, pieces[t.piece_id]),
            likes=t.votes,
        )
        for t in turns
    ]
    base = pages.links.path(PageKind.SESSION, session.id)
    rows = [
        {
            "number": t.number,
            "author": names[t.author_id],
            "move": _move(t, pieces[t.piece_id]),
            "likes": t.votes,
            "href": hrefs[t.piece_id],
            "audio": None
            if pieces[t.piece_id].removed
            else pages.links.path(PageKind.PIECE, t.piece_id) + "/piece.mp3",
            "mix": None if pieces[t.piece_id].removed else f"{base}/mix/{t.number}.mp3",
        }
        for t in turns
    ]
    return page(
        request, "session.html", session=session, starter=names[session.starter_id],
        tree=draw_tree(nodes, hrefs), turns=rows,
    )  # fmt: skip


def _move(turn: Turn, piece: Piece) -> str:
    move = piece.settings.get("move")
    return move if isinstance(move, str) and move else turn.kind.value


async def mix_file(request: web.Request) -> web.StreamResponse:
    """The mix of the path from turn #1 to a turn, its removed turns left out."""
    pages = request.app[PAGES]
    session = await pages.session(request.match_info["token"])
    number = int(request.match_info["number"])
    turns = await pages.storage.session_turns(session.id)
    path = _path_to(turns, number)
    if not path:
        raise PageNotFound()
    pieces = [(t.number, await pages.storage.get_piece(t.piece_id)) for t in path]
    if pieces[-1][1].removed:
        raise PieceRemoved()
    kept = [(n, p) for n, p in pieces if not p.removed]
    return _file(await pages.media.mix(session, kept), "audio/mpeg")


def _path_to(turns: list[Turn], number: int) -> list[Turn]:
    """Turns from the root to turn `number` (root first); [] when there is no such turn."""
    by_piece = {t.piece_id: t for t in turns}
    last = next((t for t in turns if t.number == number), None)
    path = [] if last is None else [last]
    while path and path[-1].parent_piece_id in by_piece and len(path) <= len(turns):
        path.append(by_piece[path[-1].parent_piece_id])
    return path[::-1]


async def gallery_page(request: web.Request) -> web.Response:
    """A server's recent and most liked pieces, where the server turned its gallery on."""
    pages = request.app[PAGES]
    guild_id = await pages.gallery_guild(request.match_info["token"])
    size = pages.settings.gallery_size
    recent = await pages.storage.guild_recent_pieces(guild_id, size)
    liked = await pages.storage.guild_most_liked(guild_id, size)
    return page(
        request,
        "gallery.html",
        recent=[pages.link(p) for p in recent],
        liked=[pages.link(p, likes) for p, likes in liked],
    )


def add_routes(app: web.Application) -> None:
    """The routes of the pages (tokens and file names are matched strictly)."""
    token = r"{token:[A-Za-z0-9_.-]{1,80}}"
    app.router.add_get("/", index)
    app.router.add_get(f"/p/{token}", piece_page)
    app.router.add_get(f"/p/{token}/{{name:[a-z0-9.]{{1,20}}}}", piece_file)
    app.router.add_get(f"/s/{token}", session_page)
    app.router.add_get(f"/s/{token}/mix/{{number:[0-9]{{1,6}}}}.mp3", mix_file)
    app.router.add_get(f"/g/{token}", gallery_page)
    app.router.add_static("/static/", Path(__file__).parent / "static")
