"""Uploaded clips: checked by what Discord declares before any byte is fetched, then fetched carefully.

Only from allow-listed CDN hosts, streamed with a byte cap and one overall timeout. What the bytes
really are is `ingest`'s job (it sniffs magic numbers); here we only refuse early and cheaply.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
import yarl

from bot.settings import BotSettings
from cadenza.errors import BadInput, TooLong

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
MIDI_EXTENSIONS = ("mid", "midi")


@dataclass(frozen=True)
class ClipRef:
    """What Discord tells us about an attachment (from an option, a message or a voice message)."""

    filename: str
    url: str
    size: int
    content_type: str | None = None

    @property
    def extension(self) -> str:
        """The lower-case file name ending, without the dot ("" if none)."""
        name = self.filename.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""

    @property
    def is_midi(self) -> bool:
        """Whether the name says MIDI (ingest checks the bytes again)."""
        return self.extension in MIDI_EXTENSIONS


def looks_like_clip(ref: ClipRef, settings: BotSettings) -> bool:
    """Whether an attachment is one we would try to continue (audio or MIDI by type or name)."""
    ctype = (ref.content_type or "").split(";")[0].strip().lower()
    return ref.extension in settings.clip_extensions or ctype.startswith("audio/") or "midi" in ctype


def check_declared(ref: ClipRef, settings: BotSettings) -> None:
    """Refuse by declared size, type and origin, before downloading anything."""
    if ref.size > settings.attachment_max_bytes:
        limit = settings.attachment_max_bytes / (1024 * 1024)
        raise TooLong(
            f"`{ref.filename}` is {ref.size / (1024 * 1024):.1f} MB; clips can be at most {limit:g} MB."
        )
    if ref.size <= 0:
        raise BadInput(f"`{ref.filename}` is empty. Attach a short audio clip or a MIDI file.")
    if not looks_like_clip(ref, settings):
        kinds = ", ".join(f".{e}" for e in settings.clip_extensions)
        raise BadInput(f"`{ref.filename}` doesn't look like audio or MIDI. I can continue {kinds} files.")
    check_origin(ref.url, settings)


def check_origin(url: str, settings: BotSettings) -> yarl.URL:
    """The parsed URL if it points at an allow-listed CDN host, else BadInput."""
    parsed = yarl.URL(url)
    schemes = ("https", "http") if settings.cdn_allow_http else ("https",)
    host = parsed.host or ""
    hostport = f"{host}:{parsed.port}" if parsed.explicit_port else host
    if parsed.scheme not in schemes or (
        host not in settings.cdn_hosts and hostport not in settings.cdn_hosts
    ):
        log.warning("refused an attachment from %s://%s", parsed.scheme, hostport)
        raise BadInput(
            "I only download attachments from Discord itself. Upload the file to Discord directly."
        )
    return parsed


async def download(ref: ClipRef, settings: BotSettings, session: aiohttp.ClientSession) -> bytes:
    """The attachment's bytes: streamed, capped at the configured size, within the timeout."""
    url = check_origin(ref.url, settings)
    try:
        async with asyncio.timeout(settings.download_timeout_s):
            return await _read_capped(session, url, ref, settings.attachment_max_bytes)
    except TimeoutError as e:
        raise BadInput(
            f"Downloading `{ref.filename}` took too long. Try again, or send a smaller file."
        ) from e
    except aiohttp.ClientError as e:
        raise BadInput(f"I couldn't download `{ref.filename}` from Discord. Try uploading it again.") from e


async def _read_capped(session: aiohttp.ClientSession, url: yarl.URL, ref: ClipRef, cap: int) -> bytes:
    # Redirects could lead off the allow-list, so they are not followed.
    async with session.get(url, allow_redirects=False) as response:
        if response.status != 200:
            raise BadInput(
                f"Discord answered {response.status} for `{ref.filename}`. Try uploading it again."
            )
        if response.content_length is not None and response.content_length > cap:
            raise TooLong(f"`{ref.filename}` is larger than the {cap / (1024 * 1024):g} MB limit for clips.")
        data = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > cap:
                raise TooLong(
                    f"`{ref.filename}` is larger than the {cap / (1024 * 1024):g} MB limit for clips."
                )
        return bytes(data)
