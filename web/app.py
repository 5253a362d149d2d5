"""The aiohttp application: routes, security headers, the per-address rate limit and error pages."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from aiohttp import web

from bot.storage import Storage
from cadenza.errors import Busy, CadenzaError
from web.diskcache import DiskCache
from web.limits import RateLimiter
from web.links import LinkSigner
from web.media import Media, RenderPoolLike, SheetMaker
from web.pages import PageError, Pages
from web.routes import PAGES, TEMPLATES, add_routes, page
from web.settings import WebSettings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LIMITER = web.AppKey("limiter", RateLimiter)
SETTINGS = web.AppKey("settings", WebSettings)

# Scripts, styles, pictures and audio only from this server; nothing inline, nothing framed, no forms.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a page's signed address never leaks to another site
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",  # pages are private to those given the link
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def templates() -> jinja2.Environment:
    """The page templates, shipped in the package, every value HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    """The visitor's address: the socket's, or the first X-Forwarded-For hop behind our own proxy."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote or "unknown"


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """429 with Retry-After once an address spends its burst (static files cost nothing)."""
    if request.path.startswith("/static/"):
        return await handler(request)
    settings = request.app[SETTINGS]
    wait = request.app[LIMITER].allow(client_address(request, settings.trust_forwarded_for))
    if wait > 0:
        response = page(
            request, "error.html", 429, title="Slow down", message="Too many requests from your address."
        )
        response.headers["Retry-After"] = str(max(1, round(wait)))
        return response
    return await handler(request)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Our page for every refusal and failure; unexpected errors are logged with an incident id."""
    try:
        return await handler(request)
    except PageError as e:
        return page(request, "error.html", e.status, title=e.title, message=e.message)
    except Busy as e:
        response = page(request, "error.html", 503, title="Busy", message=str(e))
        response.headers["Retry-After"] = str(max(1, round(e.retry_after or 5)))
        return response
    except CadenzaError as e:
        return page(request, "error.html", 502, title="Could not make this", message=str(e))
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return page(request, "error.html", e.status, title=e.reason, message="There is nothing here.")
    except Exception:
        incident = secrets.token_hex(4).upper()
        log.exception("web page %s failed (incident %s)", request.path, incident)
        message = f"Something went wrong on our side (incident {incident})."
        return page(request, "error.html", 500, title="Something went wrong", message=message)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def create_web_app(
    storage: Storage,
    settings: WebSettings,
    secret: bytes,
    renderer: RenderPoolLike,
    *,
    data_dir: Path,
    sheets: SheetMaker | None = None,
    mix_crossfade_s: float = 0.5,
) -> web.Application:
    """The web front as an aiohttp application (not started: `start_web` serves it).

    `renderer` is the bot's render pool, `secret` the link signing key (`secret_from_env`), `sheets`
    what writes sheet music (music21's MusicXML when None), `mix_crossfade_s` the `[sessions]` one.
    """
    cache = DiskCache(data_dir / settings.cache_dir, settings.cache_mb * 1024 * 1024, settings.cache_files)
    media = Media(cache, renderer, settings, sheets, mix_crossfade_s)
    app = web.Application(middlewares=[error_pages, rate_limit], client_max_size=1024)
    app[SETTINGS] = settings
    app[PAGES] = Pages(storage, settings, LinkSigner(secret), media)
    app[TEMPLATES] = templates()
    app[LIMITER] = RateLimiter(settings.requests_per_minute, settings.burst, settings.tracked_addresses)
    app.on_response_prepare.append(_security_headers)
    app.on_startup.append(lambda _app: asyncio.to_thread(cache.load))
    add_routes(app)
    return app
