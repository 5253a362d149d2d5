"""Attachments: refused by what Discord declares, fetched only from allowed hosts, with a byte cap."""

from __future__ import annotations

import aiohttp
import pytest

from bot.attachments import ClipRef, check_declared, check_origin, download
from bot.settings import BotSettings
from cadenza.errors import BadInput, TooLong
from tests.discord_emulator import Emulator


def settings(**changes: object) -> BotSettings:
    return BotSettings(**changes)  # type: ignore[arg-type]


def test_declared_size_over_limit_is_refused() -> None:
    ref = ClipRef("song.mp3", "https://cdn.discordapp.com/a/song.mp3", 9 * 2**20, "audio/mpeg")
    with pytest.raises(TooLong, match="at most 8 MB"):
        check_declared(ref, settings())


def test_declared_type_that_is_not_audio_or_midi_is_refused() -> None:
    ref = ClipRef("notes.pdf", "https://cdn.discordapp.com/a/notes.pdf", 1000, "application/pdf")
    with pytest.raises(BadInput, match="doesn't look like audio or MIDI"):
        check_declared(ref, settings())


def test_voice_messages_and_midi_are_accepted() -> None:
    check_declared(
        ClipRef("voice-message.ogg", "https://cdn.discordapp.com/v.ogg", 5000, "audio/ogg"), settings()
    )
    check_declared(ClipRef("tune.MID", "https://media.discordapp.net/t.MID", 500, None), settings())


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/a.mp3",
        "http://cdn.discordapp.com/a.mp3",  # plain http is refused unless allowed
        "https://cdn.discordapp.com.evil.example/a.mp3",
        "file:///etc/passwd",
    ],
)
def test_only_allow_listed_https_hosts(url: str) -> None:
    with pytest.raises(BadInput, match="only download attachments from Discord"):
        check_origin(url, settings())


async def test_download_reads_the_file_from_an_allowed_host() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        stored = await emu.upload_attachment("tune.mid", b"MThd" + bytes(100))
        ref = ClipRef(stored.filename, stored.url, len(stored.data))
        allowed = settings(cdn_hosts=(emu.cdn_host,), cdn_allow_http=True)
        assert await download(ref, allowed, http) == stored.data


async def test_download_stops_at_the_byte_cap_even_if_the_size_was_understated() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        stored = await emu.upload_attachment("big.wav", bytes(50_000))
        ref = ClipRef(stored.filename, stored.url, 10)  # a lie about the size
        capped = settings(cdn_hosts=(emu.cdn_host,), cdn_allow_http=True, attachment_max_bytes=20_000)
        with pytest.raises(TooLong, match="larger than"):
            await download(ref, capped, http)
